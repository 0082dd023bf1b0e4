"""Match error text against knowledge/signatures and turn each hit into facts."""

from __future__ import annotations

import bisect
import itertools
import re
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

from engine import schema as s
from engine.facts import FactValue, Observation
from engine.knowledge import GROUP_REF, Knowledge
from engine.prefilter import required_literals

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
    order: dict[str, int]  # signature id -> its place, so hits on a line come out in file order
    literals: dict[str, tuple[list[str], bool] | None]  # see prefilter.required_literals

    @classmethod
    def for_knowledge(cls, kb: Knowledge) -> Matcher:
        compiled = [
            (sig, re.compile(sig.pattern, re.IGNORECASE if sig.ignore_case else 0))
            for sig in kb.signatures.values()
        ]
        order = {sig.id: i for i, (sig, _) in enumerate(compiled)}
        literals = {sig.id: required_literals(sig.pattern, regex.flags) for sig, regex in compiled}
        return cls(compiled, kb, order, literals)

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


_matchers: dict[int, Matcher] = {}


def matcher_for(kb: Knowledge) -> Matcher:
    """One matcher per loaded knowledge base: compiling and analysing the patterns is not free."""
    found = _matchers.get(id(kb))
    if found is None or found.kb is not kb:
        found = _matchers[id(kb)] = Matcher.for_knowledge(kb)
    return found


BATCH_LINES = 20_000  # lines scanned together: large enough that the regex engine does the looping


def _batches(lines: Iterable[Line]) -> Iterator[list[Line]]:
    batch: list[Line] = []
    for line in lines:
        batch.append(line)
        if len(batch) == BATCH_LINES:
            yield batch
            batch = []
    if batch:
        yield batch


def _candidate_lines(text: str, starts: list[int], literals: list[str]) -> set[int]:
    """Indexes of the lines that contain any of the literals (str.find scans at memory speed)."""
    found: set[int] = set()
    for literal in literals:
        pos = text.find(literal)
        while pos >= 0:
            index = bisect.bisect_right(starts, pos) - 1
            found.add(index)
            next_line = starts[index + 1] if index + 1 < len(starts) else len(text)
            pos = text.find(literal, next_line)
    return found


def _scanned_lines(text: str, starts: list[int], regex: re.Pattern[str]) -> set[int]:
    """Without a literal to look for: let the regex engine scan the whole batch."""
    found: set[int] = set()
    pos = 0
    while (candidate := regex.search(text, pos)) is not None:
        index = bisect.bisect_right(starts, candidate.start()) - 1
        found.add(index)
        pos = starts[index + 1] if index + 1 < len(starts) else len(text) + 1
        if pos > len(text):
            break
    return found


def mine(kb: Knowledge, lines: Iterable[Line], redact: Callable[[str], str] | None = None) -> TextFacts:
    """Every fact the signatures find in the lines, plus how much was read and matched.

    Lines are read a batch at a time. For each signature, the literal text it cannot match
    without is looked for with str.find; only the lines that hold it go through the regex, each
    on its own, so a pattern never matches across lines. A pattern with no such literal scans
    the batch in one regex call.
    """
    matcher = matcher_for(kb)
    observations: list[Observation] = []
    kept: dict[str, int] = {}
    read = matched = 0
    for batch in _batches(lines):
        read += len(batch)
        text = "\n".join(line.text for line in batch)
        starts = list(itertools.accumulate((len(line.text) + 1 for line in batch[:-1]), initial=0))
        lowered: str | None = None
        found: dict[int, list[tuple[s.SignatureSpec, re.Match[str]]]] = {}
        for sig, regex in matcher.compiled:
            literals = matcher.literals[sig.id]
            if literals is None:
                candidates = _scanned_lines(text, starts, regex)
            elif literals[1]:
                if lowered is None:
                    lowered = text.lower()
                if len(lowered) == len(text):
                    candidates = _candidate_lines(lowered, starts, literals[0])
                else:  # lower() changed some character's length: offsets no longer line up
                    candidates = _scanned_lines(text, starts, regex)
            else:
                candidates = _candidate_lines(text, starts, literals[0])
            for index in candidates:
                hit = regex.search(batch[index].text)
                if hit is not None:
                    found.setdefault(index, []).append((sig, hit))
        for index in sorted(found):
            matched += 1
            hits = sorted(found[index], key=lambda pair: matcher.order[pair[0].id])
            for sig, hit in hits:
                kept[sig.id] = kept.get(sig.id, 0) + 1
                if kept[sig.id] <= MAX_HITS_PER_SIGNATURE:
                    observations.extend(matcher.observations(batch[index], sig, hit, redact or str))
    observations.append(Observation("log.lines", read, "log"))
    observations.append(Observation("log.matched", matched, "log"))
    return TextFacts(observations, read, matched)
