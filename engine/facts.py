"""The one fact shape every source produces: probes, answers, pasted text and settings."""

from __future__ import annotations

import re
from dataclasses import field
from typing import Literal

from engine.values import frozen, record

FactValue = str | int | float | bool
Source = Literal["probe", "answer", "log", "config"]

# Dotted lower-case words: area first (tcp.connect, answer.deployment, auth.reply_code).
FACT_NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")
# Facts named reply.* describe one SMTP reply; those of one reply carry the same group.
REPLY_PREFIX = "reply."


@frozen
class Observation:
    """A named value, where it came from, and the raw line that proves it."""

    name: str
    value: FactValue
    source: Source
    evidence: str | None = None
    # "file:line" for text, or the probe step; shown beside the evidence in reports.
    origin: str | None = None
    # The reply.* observations of one SMTP reply share a group, so a rule tests them together.
    group: str | None = None


@record
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

    def replies(self) -> list[dict[str, FactValue]]:
        """Each SMTP reply seen: its reply.* facts by name (the first value of each, per group)."""
        out = []
        for group in self.reply_groups():
            fields: dict[str, FactValue] = {}
            for item in group:
                fields.setdefault(item.name, item.value)
            out.append(fields)
        return out

    def reply_groups(self) -> list[list[Observation]]:
        """The observations of each reply, in arrival order (for evidence)."""
        groups: dict[str | None, list[Observation]] = {}
        for item in self.items:
            if item.name.startswith(REPLY_PREFIX):
                groups.setdefault(item.group, []).append(item)
        return list(groups.values())

    def as_dict(self) -> dict[str, FactValue]:
        """First value of each name, for templates."""
        out: dict[str, FactValue] = {}
        for item in self.items:
            out.setdefault(item.name, item.value)
        return out
