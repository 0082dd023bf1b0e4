"""Does a domain's SPF record authorise an address? RFC 7208's check_host(), kept small.

Every DNS-querying term counts against the lookup limit, so an include loop or a sprawling
record ends in permerror instead of running on. ptr is deprecated (section 5.5) and would need a
reverse lookup in the public tree, so it counts as a lookup and never matches.
"""

from __future__ import annotations

import ipaddress
import re

from engine.knowledge.schema import SpfResult, SpfVocabulary
from engine.probes.dnsquery import Answer, Querier
from engine.values import frozen

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

MECHANISM = re.compile(r"(?i)^(all|include|a|mx|ptr|ip4|ip6|exists)(?=$|[:/])")
MODIFIER = re.compile(r"^([A-Za-z][A-Za-z0-9_.-]*)=(.*)$")
# A domain-spec may end in a CIDR length: /24, //64 or /24//64 (a and mx mechanisms).
CIDR = re.compile(r"^(?P<domain>[^/]*)(?:/(?P<v4>\d{1,2}))?(?://(?P<v6>\d{1,3}))?$")
MACRO = re.compile(r"%\{(?P<letter>[a-zA-Z])(?P<digits>\d*)(?P<reverse>[rR]?)(?P<delims>[.\-+,/_=]*)\}|%%|%_|%-")


@frozen
class SpfOutcome:
    result: SpfResult
    record: str | None  # the record of the domain asked about, as published
    decided_by: str | None  # the term that decided, and where: "-all (example.com)"
    detail: str
    lookups: int


class _PermError(Exception):
    pass


class _TempError(Exception):
    pass


class _Check:
    def __init__(self, ip: Address, sender: str, querier: Querier, vocab: SpfVocabulary):
        self.ip = ip
        self.sender = sender
        self.querier = querier
        self.vocab = vocab
        self.lookups = 0
        self.voids = 0
        self.top_record: str | None = None

    def charge(self) -> None:
        self.lookups += 1
        if self.lookups > self.vocab.lookup_limit:
            raise _PermError(
                f"the record needs more than {self.vocab.lookup_limit} DNS lookups (RFC 7208 section 4.6.4)"
            )

    async def ask(self, name: str, rdtype: str) -> Answer:
        answer = await self.querier.ask(name, rdtype)
        if answer.status in ("timeout", "servfail", "error"):
            raise _TempError(answer.detail)
        if not answer.found:
            self.voids += 1
            if self.voids > self.vocab.void_lookup_limit:
                raise _PermError(
                    f"more than {self.vocab.void_lookup_limit} lookups found nothing (RFC 7208 section 4.6.4)"
                )
        return answer

    async def record(self, domain: str) -> str | None:
        answer = await self.querier.ask(domain, "TXT")
        if answer.status in ("timeout", "servfail", "error"):
            raise _TempError(answer.detail)
        records = spf_records(answer.records, self.vocab)
        if len(records) > 1:
            raise _PermError(f"{domain} publishes {len(records)} SPF records; there must be exactly one")
        return records[0] if records else None

    async def evaluate(self, domain: str) -> tuple[SpfResult, str | None]:
        record = await self.record(domain)
        if self.top_record is None and record is not None and self.lookups == 0:
            self.top_record = record
        if record is None:
            return "none", None
        redirect = None
        for term in record.split()[1:]:
            mechanism = MECHANISM.match(term.lstrip("+-~?"))
            if mechanism is None:
                modifier = MODIFIER.match(term)
                if modifier is None:
                    raise _PermError(f"unknown term {term!r} in the SPF record of {domain}")
                if modifier.group(1).lower() == "redirect":
                    redirect = modifier.group(2)
                continue  # exp= and unknown modifiers do not change the result
            qualifier = term[0] if term[0] in self.vocab.qualifiers else "+"
            if await self.matches(mechanism.group(1).lower(), term.lstrip("+-~?")[mechanism.end() :], domain):
                return self.vocab.qualifiers[qualifier], f"{term} ({domain})"
        if redirect is not None:
            self.charge()
            result, decided = await self.evaluate(self.expand(redirect, domain))
            if result == "none":
                raise _PermError(f"redirect={redirect} in {domain} leads to no SPF record")
            return result, decided
        return "neutral", None

    async def matches(self, name: str, rest: str, domain: str) -> bool:
        if name == "all":
            return True
        if name in ("ip4", "ip6"):
            return self.in_network(rest.removeprefix(":"), name)
        if name == "include":
            self.charge()
            result, _ = await self.evaluate(self.expand(rest.removeprefix(":"), domain))
            if result == "temperror":
                raise _TempError(f"include{rest} in {domain} could not be evaluated")
            if result in ("permerror", "none"):
                raise _PermError(f"include{rest} in {domain} leads to no usable SPF record")
            return result == "pass"
        if name == "exists":
            self.charge()
            answer = await self.ask(self.expand(rest.removeprefix(":"), domain), "A")
            return answer.found
        if name == "ptr":
            self.charge()
            return False
        spec = CIDR.match(rest.removeprefix(":") if rest.startswith(":") else rest)
        if spec is None or (rest and not rest.startswith((":", "/"))):
            raise _PermError(f"malformed {name}{rest} in the SPF record of {domain}")
        target = self.expand(spec.group("domain"), domain) if spec.group("domain") else domain
        length = spec.group("v4") if self.ip.version == 4 else spec.group("v6")
        self.charge()
        if name == "a":
            return self.any_covers(await self.addresses(target), length)
        hosts = (await self.ask(target, "MX")).records
        if len(hosts) > self.vocab.mx_limit:
            raise _PermError(f"{target} has more than {self.vocab.mx_limit} MX records (RFC 7208 section 4.6.4)")
        for host in hosts:
            exchange = host.split()[-1]
            if self.any_covers(await self.addresses(exchange), length):
                return True
        return False

    async def addresses(self, name: str) -> list[str]:
        return (await self.ask(name, "A" if self.ip.version == 4 else "AAAA")).records

    def any_covers(self, addresses: list[str], length: str | None) -> bool:
        bits = int(length) if length else self.ip.max_prefixlen
        if bits > self.ip.max_prefixlen:
            raise _PermError(f"CIDR length /{bits} is too long for IPv{self.ip.version}")
        return any(self.ip in ipaddress.ip_network(f"{a}/{bits}", strict=False) for a in addresses)

    def in_network(self, text: str, name: str) -> bool:
        try:
            network = ipaddress.ip_network(text, strict=False)
        except ValueError:
            raise _PermError(f"{name}:{text} is not a valid network") from None
        if network.version != int(name[-1]):
            raise _PermError(f"{name}:{text} is not an IPv{name[-1]} network")
        return network.version == self.ip.version and self.ip in network

    def expand(self, spec: str, domain: str) -> str:
        """Macro expansion (section 7) of a domain-spec; the result must be a domain name."""
        local, _, sender_domain = self.sender.rpartition("@")
        if self.ip.version == 4:
            dotted = str(self.ip)
        else:
            dotted = ".".join(self.ip.exploded.replace(":", ""))
        values = {
            "s": self.sender,
            "l": local or "postmaster",
            "o": sender_domain,
            "d": domain,
            "i": dotted,
            "p": "unknown",
            "v": "in-addr" if self.ip.version == 4 else "ip6",
            "h": sender_domain,
        }

        def one(match: re.Match[str]) -> str:
            whole = match.group(0)
            if whole in ("%%", "%_", "%-"):
                return {"%%": "%", "%_": " ", "%-": "%20"}[whole]
            letter = match.group("letter").lower()
            if letter not in values:
                raise _PermError(f"unknown macro {whole} in {spec!r}")
            parts = re.split("[" + re.escape(match.group("delims") or ".") + "]", values[letter])
            if match.group("reverse"):
                parts.reverse()
            if match.group("digits"):
                keep = int(match.group("digits"))
                if keep == 0:
                    raise _PermError(f"macro {whole} keeps zero labels")
                parts = parts[-keep:]
            return ".".join(parts)

        expanded = MACRO.sub(one, spec).rstrip(".")
        if "%" in expanded or not expanded or any(not label for label in expanded.split(".")):
            raise _PermError(f"{spec!r} in the SPF record of {domain} is not a valid domain")
        return expanded


def spf_records(texts: list[str], vocab: SpfVocabulary) -> list[str]:
    """The TXT strings that are SPF records: the version tag alone or followed by a space."""
    prefix = vocab.record_prefix.lower()
    return [t for t in texts if t.lower() == prefix or t.lower().startswith(prefix + " ")]


async def check_host(address: str, domain: str, sender: str, querier: Querier, vocab: SpfVocabulary) -> SpfOutcome:
    """The SPF result for mail from sender (at domain) sent from address."""
    check = _Check(ipaddress.ip_address(address), sender, querier, vocab)
    try:
        result, decided = await check.evaluate(domain)
    except _PermError as exc:
        return SpfOutcome("permerror", check.top_record, None, str(exc), check.lookups)
    except _TempError as exc:
        return SpfOutcome("temperror", check.top_record, None, str(exc), check.lookups)
    if result == "none":
        return SpfOutcome("none", None, None, f"{domain} publishes no SPF record", check.lookups)
    how = f"matched {decided}" if decided else "no term matched (neutral by default)"
    return SpfOutcome(
        result, check.top_record, decided, f"SPF of {domain} gives {result} for {address}: {how}", check.lookups
    )
