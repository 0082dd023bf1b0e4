"""The one fact shape every source produces: probes, answers, pasted text and settings."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

FactValue = str | int | float | bool
Source = Literal["probe", "answer", "log", "config"]

# Dotted lower-case words: area first (tcp.connect, answer.deployment, auth.reply_code).
FACT_NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")


@dataclass(frozen=True)
class Observation:
    """A named value, where it came from, and the raw line that proves it."""

    name: str
    value: FactValue
    source: Source
    evidence: str | None = None
    # "file:line" for text, or the probe step; shown beside the evidence in reports.
    origin: str | None = None


@dataclass
class FactSet:
    """Observations in arrival order; identical name/value pairs keep every piece of evidence."""

    items: list[Observation] = field(default_factory=list)

    def add(self, *observations: Observation) -> None:
        self.items.extend(observations)

    def extend(self, observations: list[Observation]) -> None:
        self.items.extend(observations)

    def first(self, name: str) -> FactValue | None:
        for item in self.items:
            if item.name == name:
                return item.value
        return None

    def values(self, name: str) -> list[FactValue]:
        return [item.value for item in self.items if item.name == name]

    def names(self) -> set[str]:
        return {item.name for item in self.items}

    def distinct(self) -> list[tuple[str, FactValue]]:
        """Each name/value pair once, in first-seen order: what the engine is told."""
        seen: dict[tuple[str, FactValue, type], None] = {}
        for item in self.items:
            seen.setdefault((item.name, item.value, type(item.value)), None)
        return [(name, value) for name, value, _ in seen]

    def evidence_for(self, name: str, value: FactValue) -> list[Observation]:
        return [
            item for item in self.items if item.name == name and item.value == value and type(item.value) is type(value)
        ]

    def as_dict(self) -> dict[str, FactValue]:
        """First value of each name, for templates."""
        out: dict[str, FactValue] = {}
        for item in self.items:
            out.setdefault(item.name, item.value)
        return out
