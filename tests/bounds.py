"""Time bounds for the tests that prove mailtriage never hangs, kept true on a busy machine.

A hang never ends, so any finite wall-clock bound proves that a run ended; but a bound of
"timeout + 1 s" on a whole process also counts its start-up, its imports and a loaded machine's
scheduling, and failed on a busy machine without any change in behaviour. So each such test
checks two things:

- `ended`: the run ended within its timeouts plus WALL_MARGIN, which no load reaches and no hang
  meets;
- `measured`: the precise bound on what mailtriage controls, read from the durations its probes
  measure themselves (from just before a step starts until its deadline handling returns).

Exact figures belong in benchmarks/, never in a pass/fail test.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

WALL_MARGIN = 15.0
# What a probe's own clock may run over the timeouts it was given: its deadline handling and
# the event loop's scheduling, not process start-up.
STEP_SLACK = 1.0


def ended(elapsed: float, timeouts: float) -> None:
    assert elapsed < timeouts + WALL_MARGIN, f"took {elapsed:.2f} s for {timeouts:g} s of timeouts: a hang"


def measured(milliseconds: Iterable[float], timeouts: float) -> None:
    """The probes' own durations, added up, stay within their timeouts plus STEP_SLACK."""
    total = sum(milliseconds) / 1000
    assert total < timeouts + STEP_SLACK, f"the probes measured {total:.2f} s for {timeouts:g} s of timeouts"


def probe_times(report: dict[str, Any]) -> list[float]:
    """Each probe step's own duration in a JSON report, in milliseconds."""
    return [p["duration_ms"] for p in report["probes"] if p["status"] != "skipped"]
