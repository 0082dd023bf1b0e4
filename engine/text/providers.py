"""Recognise the mail service and server software (knowledge/providers.yaml) -> provider.* facts."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import field

from engine.facts import Observation, Source
from engine.knowledge import schema as s
from engine.knowledge.model import Knowledge
from engine.knowledge.prepared import prepared
from engine.text.prefilter import WANTED, Wanted, wanted_from
from engine.values import frozen, record

FLAGS = re.IGNORECASE | re.MULTILINE
MAX_EVIDENCE = 300  # characters of a line kept as evidence
EVIDENCE_PER_PROVIDER = 3  # lines kept per recognised provider: enough to show why
KNOWN_LINES = 4096  # lines whose providers are remembered; a long log would otherwise fill memory


@frozen
class Seen:
    """One thing a server or a log said about itself: a host name or a line of text."""

    kind: str  # "host" or "banner"
    text: str
    source: Source
    origin: str  # config, greeting, ehlo, reply, or file:line for pasted text


@record
class Patterns:
    """The patterns of one knowledge base, each compiled the first time a text could match it."""

    hosts: list[tuple[str, Wanted]]
    banners: list[tuple[str, Wanted]]
    # Most runs see a host name and a few server lines, which the literal sets rule out for
    # nearly every provider: compiling all of them would cost more than the rest of recognition.
    _regexes: dict[str, re.Pattern[str]] = field(default_factory=dict)
    # Accounts on one server hear the same lines: each line is worked out once.
    _known: dict[tuple[str, str], list[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, kb: Knowledge) -> Patterns:
        known = kb.derived.get(WANTED, {})
        hosts = [(p.id, wanted_from(known, x, re.IGNORECASE)) for p in kb.providers.values() for x in p.hosts]
        banners = [(p.id, wanted_from(known, x, re.IGNORECASE)) for p in kb.providers.values() for x in p.banners]
        return cls(hosts, banners)

    @property
    def wanted(self) -> list[Wanted]:
        """The banner patterns for the signatures' own scan of pasted text (one pass over a log)."""
        return [wanted for _, wanted in self.banners]

    def matches(self, seen: Seen) -> list[str]:
        key = (seen.kind, seen.text)
        found = self._known.get(key)
        if found is None:
            if len(self._known) >= KNOWN_LINES:
                self._known.clear()
            found = self._known[key] = self._match(seen)
        return list(found)

    def _match(self, seen: Seen) -> list[str]:
        table = self.hosts if seen.kind == "host" else self.banners
        text = seen.text.strip().rstrip(".") if seen.kind == "host" else seen.text
        lowered = text.lower()
        return list(
            dict.fromkeys(
                ident
                for ident, wanted in table
                if wanted.may_occur(text, lowered) and self._regex(wanted.pattern).search(text)
            )
        )

    def _regex(self, pattern: str) -> re.Pattern[str]:
        found = self._regexes.get(pattern)
        if found is None:
            found = self._regexes[pattern] = re.compile(pattern, FLAGS)
        return found


def patterns_for(kb: Knowledge) -> Patterns:
    return prepared(kb, "providers", Patterns.of)


def recognise(kb: Knowledge, seen: Iterable[Seen]) -> list[Observation]:
    """provider.service and provider.software: per kind the highest-ranked entry that matched.

    Ties go to the entry seen first; the evidence is every input that matched the winner.
    """
    patterns = patterns_for(kb)
    hits: dict[str, list[Seen]] = {}
    for item in seen:
        for ident in patterns.matches(item):
            hits.setdefault(ident, []).append(item)
    out: list[Observation] = []
    for kind, fact in s.PROVIDER_FACT_OF_KIND.items():
        candidates = [i for i in hits if kb.providers[i].kind == kind]
        if not candidates:
            continue
        best = max(candidates, key=lambda i: kb.providers[i].rank)  # max keeps the first of equals
        for item in hits[best][:EVIDENCE_PER_PROVIDER]:
            out.append(Observation(fact, best, item.source, _evidence(item), item.origin))
    return out


def _evidence(item: Seen) -> str:
    text = item.text.strip()[:MAX_EVIDENCE]
    return f"host = {text}" if item.kind == "host" else text


def from_host(host: str | None) -> list[Seen]:
    return [Seen("host", host, "config", "config")] if host else []


def from_transcript(lines: Iterable[str]) -> list[Seen]:
    """Server lines of an SMTP transcript, each labelled by the command it answers."""
    out: list[Seen] = []
    answering = "greeting"
    for line in lines:
        direction, _, text = line.partition(": ")
        if direction == "C":
            verb = text.split(" ", 1)[0].upper()
            answering = "ehlo" if verb in ("EHLO", "HELO") else "reply"
        elif direction == "S":
            out.append(Seen("banner", text, "probe", answering))
    return out


@record
class TextWatch:
    """Collects the lines of pasted text that name a provider; signatures.mine hands them over."""

    kb: Knowledge
    redact: Callable[[str], str] = str
    seen: list[Seen] = field(default_factory=list)
    kept: dict[str, int] = field(default_factory=dict)  # lines kept per provider so far

    def see(self, text: str, origin: str) -> None:
        """A line the scan nominated for a banner pattern; kept if it really names a provider."""
        item = Seen("banner", self.redact(text), "log", origin)
        found = [i for i in patterns_for(self.kb).matches(item) if self.kept.get(i, 0) < EVIDENCE_PER_PROVIDER]
        if found:
            self.seen.append(item)
            for ident in found:
                self.kept[ident] = self.kept.get(ident, 0) + 1

    def observations(self) -> list[Observation]:
        return recognise(self.kb, self.seen)


def steps_for(kb: Knowledge, finding: str, recognised: list[str]) -> list[tuple[s.ProviderSpec, s.FixStep]]:
    """The recognised providers' own fix steps for a finding, service before software."""
    out: list[tuple[s.ProviderSpec, s.FixStep]] = []
    for ident in recognised:
        provider = kb.providers.get(ident)
        if provider is not None:
            out.extend((provider, step) for step in provider.remediation.get(finding, []))
    return out
