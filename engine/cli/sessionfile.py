"""The --session file: answers kept between runs, plus what the last run found (no secrets)."""

from __future__ import annotations

import json
import os
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.inputs.errors import InputError

if TYPE_CHECKING:
    from engine.knowledge.model import Knowledge
    from engine.redact import Redactor
    from engine.run.pipeline import Outcome

SCHEMA = "mailtriage.session/1"


class SessionFileError(InputError):
    """A session file that cannot be read or written; the message names it."""


def load_answers(path: str) -> dict[str, Any]:
    """Answers saved by an earlier run; none when the file does not exist yet."""
    if not Path(path).exists():
        return {}
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SessionFileError(f"cannot read session file {path}: {exc}") from None
    answers = data.get("answers") if isinstance(data, dict) else None
    if not isinstance(answers, dict):
        raise SessionFileError(f"{path}: not a mailtriage session file (no 'answers' mapping)")
    return {k: v for k, v in answers.items() if v is not None}


def interrupted(args: Any) -> str:
    """What Ctrl-C at a question kept, and the command that carries on from there."""
    if not getattr(args, "session", None):
        return "mailtriage: interrupted; nothing was kept (with --session FILE every answer is saved as it is given)"
    argv = list(getattr(args, "argv", None) or sys.argv[1:])
    return (
        f"mailtriage: interrupted; your answers so far are saved in {args.session}.\n"
        f"Resume with the same command: mailtriage {shlex.join(argv)}"
    )


def save(path: str, outcome: Outcome, redact: Redactor, kb: Knowledge | None = None) -> None:
    """The finished session: answers, findings and facts, and (given the knowledge) the report,
    so `mailtriage explain FILE` shows later exactly what this run concluded."""
    data: dict[str, Any] = {
        "schema": SCHEMA,
        "target": outcome.target,
        "answers": {q.question.id: q.answer for q in outcome.session.questions},
        "findings": [c.finding for c in outcome.session.inference.findings],
        "facts": [{"name": o.name, "value": o.value, "source": o.source} for o in outcome.session.facts.items],
    }
    if kb is not None:
        from engine.report.build import build_report
        from engine.report.model import dump

        data["report"] = dump(build_report(kb, outcome.session, outcome.target, outcome.probes, outcome.transcript))
    _write(path, data, redact)


def load_report(path: str) -> dict[str, Any]:
    """The report a finished session saved; SessionFileError when there is none to show."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SessionFileError(f"cannot read session file {path}: {getattr(exc, 'strerror', None) or exc}") from None
    report = data.get("report") if isinstance(data, dict) else None
    if not isinstance(report, dict) or not isinstance(report.get("findings"), list):
        raise SessionFileError(
            f"{path}: no finished diagnosis in this session file (it is saved when a run with --session ends)"
        )
    return report


def save_answers(path: str, target: dict[str, Any], answers: dict[str, Any], redact: Redactor) -> None:
    """A session in progress: the answers so far, saved after each one so an interruption loses none."""
    _write(path, {"schema": SCHEMA, "target": target, "answers": answers, "complete": False}, redact)


def _write(path: str, data: dict[str, Any], redact: Redactor) -> None:
    """Atomically: a reader (or a crash mid-write) sees the old file or the new one, never half."""
    import tempfile  # only a run that keeps a session writes one

    from engine.redact import scrub

    target = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(dir=target.parent.resolve(), prefix=f".{target.name}.")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(json.dumps(scrub(data, redact), indent=2) + "\n")
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise SessionFileError(f"cannot write session file {path}: {exc.strerror or exc}") from None
