"""Match error text against knowledge/signatures and turn each hit into facts."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Iterable

from engine import schema as s
from engine.facts import FactValue, Observation
from engine.knowledge import GROUP_REF, Knowledge

MAX_EVIDENCE = 400  # characters of a matched line kept as evidence
# Lines kept as evidence per signature; later hits are counted, not kept, so memory stays
# bounded however many times a gigabyte log repeats the same error.
MAX_HITS_PER_SIGNATURE = 20


@dataclass(frozen=True)
class Line:
    text: str
    origin: str  # "file:line"


@dataclass
class Matcher:
    compiled: list[tuple[s.SignatureSpec, re.Pattern[str]]]
    kb: Knowledge

    @classmethod
    def for_knowledge(cls, kb: Knowledge) -> Matcher:
        compiled = [
            (sig, re.compile(sig.pattern, re.IGNORECASE if sig.ignore_case else 0))
            for sig in kb.signatures.values()
        ]
        return cls(compiled, kb)

    def hits(self, line: Line) -> list[tuple[s.SignatureSpec, re.Match[str]]]:
        return [(sig, hit) for sig, regex in self.compiled if (hit := regex.search(line.text)) is not None]

    def observations(
        self, line: Line, sig: s.SignatureSpec, hit: re.Match[str], redact: Callable[[str], str]
    ) -> list[Observation]:
        """The facts one hit yields; the line is redacted before it becomes evidence."""
        evidence = redact(line.text.strip()[:MAX_EVIDENCE])
        found = []
        for name, raw in sig.facts.items():
            value = self._value(name, raw, hit)
            if value is None:
                continue
            if isinstance(value, str):
                value = redact(value)
            found.append(Observation(name, value, "log", evidence, line.origin))
        return found

    def match_line(self, line: Line, redact: Callable[[str], str] = str) -> list[Observation]:
        return [obs for sig, hit in self.hits(line) for obs in self.observations(line, sig, hit, redact)]

    def _value(self, name: str, raw: FactValue, hit: re.Match[str]) -> FactValue | None:
        ref = GROUP_REF.match(raw) if isinstance(raw, str) else None
        if ref is None:
            return raw
        text = hit.group(ref.group(1))
        if text is None:
            return None
        spec = self.kb.fact_spec(name)
        kind = spec.type if spec else "str"
        try:
            return {"int": int, "float": float, "str": str}.get(kind, str)(text)
        except ValueError:
            return None


@dataclass
class TextFacts:
    observations: list[Observation]
    lines_read: int
    lines_matched: int


def mine(kb: Knowledge, lines: Iterable[Line], redact: Callable[[str], str] | None = None) -> TextFacts:
    """Every fact the signatures find in the lines, plus how much was read and matched."""
    matcher = Matcher.for_knowledge(kb)
    observations: list[Observation] = []
    kept: dict[str, int] = {}
    read = matched = 0
    for line in lines:
        read += 1
        hits = matcher.hits(line)
        if not hits:
            continue
        matched += 1
        for sig, hit in hits:
            kept[sig.id] = kept.get(sig.id, 0) + 1
            if kept[sig.id] <= MAX_HITS_PER_SIGNATURE:
                observations.extend(matcher.observations(line, sig, hit, redact or str))
    observations.append(Observation("log.lines", read, "log"))
    observations.append(Observation("log.matched", matched, "log"))
    return TextFacts(observations, read, matched)
