"""Catch signature patterns that backtrack catastrophically, before a big log finds them.

Each pattern is timed against adversarial 10 KB lines built from its own examples and
characters. Timing runs in a child process: a pattern that runs away cannot be interrupted
inside Python, but a child can be stopped, and the pattern then named.
"""

from __future__ import annotations

import multiprocessing
import re
import time
from multiprocessing.connection import Connection

from engine.values import frozen

LINE = 10 * 1024
LIMIT_SECONDS = 0.1
# A pattern still running after this long is reported without waiting for it to finish.
HANG_SECONDS = 2.0


@frozen
class Slow:
    ident: str
    seconds: float  # at least this long; HANG_SECONDS when it was stopped
    sample: str  # the start of the line that made it slow


def adversarial_lines(pattern: str, examples: list[str]) -> list[str]:
    """Long lines that nearly match: repeated examples without their end, repeated pattern characters."""
    lines = []
    for example in examples:
        for piece in (example, example[:-1], example[: len(example) // 2]):
            if piece:
                lines.append((piece * (LINE // len(piece) + 1))[:LINE] + "\x00")
    literal_chars = {c for c in re.sub(r"\\.", "", pattern) if c.isalnum() or c in " -_.:@<>/"}
    for char in sorted(literal_chars)[:40]:
        lines.append(char * LINE + "\x00")
    lines.append(("a1 " * (LINE // 3 + 1))[:LINE] + "\x00")
    return lines


def _time_patterns(jobs: list[tuple[str, str, int, list[str]]], conn: Connection) -> None:
    # A Pipe, not a Queue: a Queue sends from a helper thread, which a runaway regex (holding
    # the GIL) would starve, so the parent would never learn which pattern got stuck.
    for ident, pattern, flags, examples in jobs:
        compiled = re.compile(pattern, flags)
        worst, worst_line = 0.0, ""
        for line in adversarial_lines(pattern, examples):
            conn.send(("start", ident, line[:60]))
            started = time.perf_counter()
            compiled.search(line)
            elapsed = time.perf_counter() - started
            if elapsed > worst:
                worst, worst_line = elapsed, line[:60]
        conn.send(("done", ident, (worst, worst_line)))
    conn.send(("finished", "", None))


def find_slow(jobs: list[tuple[str, str, int, list[str]]]) -> list[Slow]:
    """Patterns that take over LIMIT_SECONDS on some adversarial line, or never finish."""
    slow: list[Slow] = []
    remaining = list(jobs)
    context = multiprocessing.get_context()
    while remaining:
        parent, child = context.Pipe(duplex=False)
        worker = context.Process(target=_time_patterns, args=(remaining, child), daemon=True)
        worker.start()
        child.close()
        current, sample, done = "", "", 0
        try:
            while True:
                if not parent.poll(HANG_SECONDS):
                    # Stuck on the current pattern: report it, then time the ones after it.
                    slow.append(Slow(current, HANG_SECONDS, sample))
                    remaining = remaining[done + 1 :]
                    break
                try:
                    kind, ident, data = parent.recv()
                except EOFError:  # the worker died; what it did not time cannot be judged
                    remaining = remaining[done + 1 :]
                    break
                if kind == "start":
                    current, sample = ident, data
                elif kind == "done":
                    done += 1
                    worst, line = data
                    if worst > LIMIT_SECONDS:
                        slow.append(Slow(ident, worst, line))
                else:
                    remaining = []
                    break
        finally:
            worker.kill()
            worker.join()
            parent.close()
    return slow
