"""Probes: each looks at one layer of the connection and returns facts plus a ProbeResult."""

from __future__ import annotations

import time
from dataclasses import field
from typing import Literal

from engine.facts import Observation
from engine.values import record

ProbeStatus = Literal["ok", "fail", "skipped"]


@record
class ProbeResult:
    name: str
    status: ProbeStatus
    duration_ms: float
    detail: str
    observations: list[Observation] = field(default_factory=list)


class Stopwatch:
    """Milliseconds since creation, on the monotonic clock."""

    def __init__(self) -> None:
        self.start = time.monotonic()

    def ms(self) -> float:
        return round((time.monotonic() - self.start) * 1000, 1)
