"""A live checklist of the probe steps on the terminal: each step, its status and its time.

Shown on stderr, and only when stderr is a terminal: a report on stdout (JSON included) stays
exactly the report. Lines are printed as steps complete, never redrawn, so a terminal that
cannot move the cursor shows the same thing; colour only when NO_COLOR is unset.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TextIO

from engine.probes import ProbeResult
from engine.redact import Redactor, printable

MARKS = {"ok": "✓", "fail": "✗", "skipped": "-"}
COLOURS = {"ok": "32", "fail": "31", "skipped": "2"}


def checklist(stream: TextIO, colour: bool, redact: Redactor) -> Callable[[ProbeResult], None]:
    """A callback that prints one line per completed probe step."""

    def show(result: ProbeResult) -> None:
        mark = MARKS.get(result.status, "?")
        if colour:
            mark = f"\033[{COLOURS.get(result.status, '0')}m{mark}\033[0m"
        detail = printable(redact(result.detail))
        stream.write(f"  {mark} {result.name:<10} {result.status:<7} {result.duration_ms:8.1f} ms  {detail}\n")
        stream.flush()

    return show


def for_terminal(stderr: TextIO, environ: dict[str, str], redact: Redactor) -> Callable[[ProbeResult], None] | None:
    """The checklist when a person watches stderr; None when it is a file or a pipe."""
    try:
        watched = stderr.isatty()
    except (AttributeError, ValueError):
        watched = False
    if not watched:
        return None
    return checklist(stderr, colour="NO_COLOR" not in environ and environ.get("TERM") != "dumb", redact=redact)
