"""--check-dns: the egress address as the outside sees it, the sender domain's SPF, DMARC and MX
records, and whether the egress address is on a DNS blocklist. Every failure becomes a fact."""

from __future__ import annotations

import asyncio
import ipaddress
import time
from collections.abc import Callable

from engine.facts import Observation
from engine.inputs.settings import domain_of
from engine.knowledge.schema import DnsblZone, DnsChecksFile, EgressMethod
from engine.probes import ProbeResult, Stopwatch
from engine.probes.dnsquery import Answer, Querier
from engine.probes.spf import check_host, spf_records
from engine.values import frozen

ORIGIN = "dnschecks"
# The egress echo and the DMARC/MX lookups share the first timeout; SPF and the blocklists,
# which need the egress address, the second.
TIMEOUTS_PER_RUN = 2


@frozen
class CheckPlan:
    sender: str | None  # the address whose domain is checked: --from, else the user name
    resolver: tuple[str, int] | None  # ask only this server (tests, split-horizon networks)
    timeout: float


def _fact(name: str, value: str | int | bool, evidence: str | None = None) -> Observation:
    return Observation(name, value, "probe", evidence, ORIGIN)


async def probe_dnschecks(plan: CheckPlan, spec: DnsChecksFile) -> ProbeResult:
    watch = Stopwatch()
    deadline = time.monotonic() + plan.timeout * TIMEOUTS_PER_RUN

    def querier(servers: list[str] | None) -> Querier:
        if plan.resolver is not None:
            return Querier([plan.resolver[0]], plan.resolver[1], plan.timeout, deadline)
        return Querier(servers, 53, plan.timeout, deadline)

    facts: list[Observation] = []
    problems: list[str] = []
    domain = domain_of(plan.sender)
    records = querier(None)
    if domain is not None:
        facts.append(_fact("dns.sender_domain", domain, f"sender {plan.sender} -> domain {domain}"))
    egress_task = asyncio.ensure_future(_egress(spec.egress, querier))
    dmarc_task = asyncio.ensure_future(_dmarc(domain, records, spec)) if domain else None
    mx_task = asyncio.ensure_future(_mx(domain, records)) if domain else None

    egress, egress_facts = await egress_task
    facts.extend(egress_facts)
    if egress is None:
        problems.append("egress address unknown")
    later = []
    if domain is not None:
        later.append(_spf(domain, plan.sender or f"postmaster@{domain}", egress, records, spec))
    if egress is not None:
        later.append(_dnsbl(egress, spec.dnsbl, records))
    for found, trouble in await asyncio.gather(*later):
        facts.extend(found)
        problems.extend(trouble)
    for task in (dmarc_task, mx_task):
        if task is not None:
            found, trouble = await task
            facts.extend(found)
            problems.extend(trouble)
    summary = _summary(domain, egress, facts)
    if problems:
        return ProbeResult("dnschecks", "fail", watch.ms(), f"{summary}; {'; '.join(problems)}", facts)
    return ProbeResult("dnschecks", "ok", watch.ms(), summary, facts)


def _summary(domain: str | None, egress: str | None, facts: list[Observation]) -> str:
    values = {o.name: o.value for o in facts}
    parts = [f"egress {egress}" if egress else "egress unknown"]
    if domain is None:
        parts.append("no sender domain to check (give --from)")
    else:
        parts.append(f"SPF {values.get('dns.spf_result', values.get('dns.spf_lookup', 'not checked'))}")
        parts.append(f"DMARC {values.get('dns.dmarc_policy', values.get('dns.dmarc_lookup', 'not checked'))}")
        parts.append(f"MX {values.get('dns.mx_hosts', values.get('dns.mx_lookup', 'not checked'))}")
    if "dnsbl.listed" in values:
        parts.append(
            f"DNSBL listed on {values['dnsbl.listed_zones']}" if values["dnsbl.listed"] else "DNSBL not listed"
        )
    return f"{domain or 'no sender domain'}: " + ", ".join(parts)


# --- egress ----------------------------------------------------------------------------------


async def _egress(
    methods: list[EgressMethod], querier: Callable[[list[str] | None], Querier]
) -> tuple[str | None, list[Observation]]:
    """Every method at once (one timeout for all); the first in knowledge order that answers wins."""
    askers = [querier(m.servers) for m in methods]
    answers: list[Answer] = await asyncio.gather(
        *(a.ask(m.query, m.type) for a, m in zip(askers, methods, strict=True))
    )
    failures = []
    for method, asker, answer in zip(methods, askers, answers, strict=True):
        where = ", ".join(f"{s}:{asker.port}" for s in asker.servers or ["the system resolver"])
        address = next((r for r in (_address(t) for t in answer.records) if r), None)
        if address is not None:
            evidence = f"{method.type} {method.query} asked of {where} answered {address}"
            return address, [
                _fact("egress.address", address, evidence),
                _fact("egress.method", method.name, method.description),
            ]
        failures.append(f"{method.name}: {answer.detail or 'the answer held no address'}")
    detail = "; ".join(failures)
    return None, [_fact("egress.error", detail, f"no egress echo answered: {detail}")]


def _address(text: str) -> str | None:
    try:
        return str(ipaddress.ip_address(text.strip().strip('"')))
    except ValueError:
        return None


# --- SPF ----------------------------------------------------------------------------------------


async def _spf(
    domain: str, sender: str, egress: str | None, q: Querier, spec: DnsChecksFile
) -> tuple[list[Observation], list[str]]:
    answer = await q.ask(domain, "TXT")
    if answer.status in ("timeout", "servfail", "error"):
        return [_fact("dns.spf_lookup", "error", answer.detail)], [f"SPF lookup failed: {answer.detail}"]
    records = spf_records(answer.records, spec.spf)
    if not records:
        others = answer.detail or "other TXT records only"
        evidence = f"TXT {domain}: no record starts with {spec.spf.record_prefix} ({others})"
        return [_fact("dns.spf_lookup", "missing", evidence), _fact("dns.spf_result", "none", evidence)], []
    shown = " | ".join(f'"{r}"' for r in records)
    facts = [_fact("dns.spf_record", records[0], f"TXT {domain}: {shown}")]
    if len(records) > 1:
        evidence = f"TXT {domain} holds {len(records)} SPF records ({shown}); RFC 7208 allows one"
        return [
            *facts,
            _fact("dns.spf_lookup", "invalid", evidence),
            _fact("dns.spf_result", "permerror", evidence),
        ], []
    facts.append(_fact("dns.spf_lookup", "found", f"TXT {domain}: {shown}"))
    if egress is None:
        return facts, []
    outcome = await check_host(egress, domain, sender, q, spec.spf)
    evidence = f'{outcome.detail}; record "{records[0]}"'
    facts.append(_fact("dns.spf_result", outcome.result, evidence))
    facts.append(_fact("dns.spf_lookups", outcome.lookups, f"{outcome.lookups} DNS lookups to evaluate the record"))
    trouble = [f"SPF: {outcome.detail}"] if outcome.result == "temperror" else []
    return facts, trouble


# --- DMARC --------------------------------------------------------------------------------------


def _dmarc_tags(record: str) -> dict[str, str]:
    tags: dict[str, str] = {}
    for part in record.split(";"):
        key, sep, value = part.partition("=")
        if sep:
            tags.setdefault(key.strip().lower(), value.strip())
    return tags


async def _dmarc(domain: str, q: Querier, spec: DnsChecksFile) -> tuple[list[Observation], list[str]]:
    """The domain's own record, else the nearest parent's (the DMARCbis tree walk)."""
    vocab = spec.dmarc
    labels = domain.split(".")
    candidates = [".".join(labels[i:]) for i in range(len(labels) - 1)][: vocab.tree_walk_limit]
    prefix = vocab.record_prefix.lower()
    for where in candidates:
        name = f"{vocab.label}.{where}"
        answer = await q.ask(name, "TXT")
        if answer.status in ("timeout", "servfail", "error"):
            return [_fact("dns.dmarc_lookup", "error", answer.detail)], [f"DMARC lookup failed: {answer.detail}"]
        records = [
            r
            for r in answer.records
            if r.lower().replace(" ", "").startswith(prefix.lower() + ";") or r.lower() == prefix
        ]
        if len(records) != 1:
            continue  # none, or several (which RFC 7489 section 6.6.3 says to ignore)
        record = records[0]
        tags = _dmarc_tags(record)
        # A parent's record governs a subdomain through sp=, falling back to p=.
        policy = tags.get("sp", tags.get("p", "")) if where != domain else tags.get("p", "")
        policy = policy.lower() if policy.lower() in ("none", "quarantine", "reject") else "invalid"
        evidence = f'TXT {name}: "{record}"'
        return [
            _fact("dns.dmarc_lookup", "found", evidence),
            _fact("dns.dmarc_record", record, evidence),
            _fact("dns.dmarc_domain", where, evidence),
            _fact("dns.dmarc_policy", policy, evidence),
        ], []
    asked = ", ".join(f"{vocab.label}.{w}" for w in candidates)
    return [_fact("dns.dmarc_lookup", "missing", f"no DMARC record at {asked}")], []


# --- MX -----------------------------------------------------------------------------------------


async def _mx(domain: str, q: Querier) -> tuple[list[Observation], list[str]]:
    answer = await q.ask(domain, "MX")
    if answer.missing or (answer.status == "ok" and not answer.records):
        return [_fact("dns.mx_lookup", "missing", f"MX {domain}: {answer.detail or 'no records'}")], []
    if not answer.found:
        return [_fact("dns.mx_lookup", "error", answer.detail)], [f"MX lookup failed: {answer.detail}"]
    hosts = sorted(answer.records, key=lambda r: (int(r.split()[0]), r))
    shown = ", ".join(hosts)
    return [
        _fact("dns.mx_lookup", "found", f"MX {domain}: {shown}"),
        _fact("dns.mx_hosts", shown, f"MX {domain}: {shown}"),
    ], []


# --- DNS blocklists -----------------------------------------------------------------------------


def reversed_name(address: str) -> str:
    """192.0.2.55 -> 55.2.0.192; IPv6 as reversed nibbles, as blocklists expect."""
    pointer = ipaddress.ip_address(address).reverse_pointer
    return pointer.removesuffix(".in-addr.arpa").removesuffix(".ip6.arpa")


async def _dnsbl(address: str, zones: list[DnsblZone], q: Querier) -> tuple[list[Observation], list[str]]:
    results = await asyncio.gather(*(_one_zone(address, zone, q) for zone in zones))
    facts: list[Observation] = []
    listed, refused, failed = [], [], []
    for zone, (verdict, observations) in zip(zones, results, strict=True):
        if verdict == "listed":
            listed.append(zone.zone)
            facts.extend(observations)
        elif verdict == "refused":
            refused.append(zone.zone)
        elif verdict == "error":
            failed.append(zone.zone)
    checked = " ".join(z.zone for z in zones)
    facts.append(_fact("dnsbl.checked_zones", checked, f"{address} looked up in {checked}"))
    if listed:
        facts.append(_fact("dnsbl.listed_zones", " ".join(listed)))
    else:
        clean = [z.zone for z in zones if z.zone not in refused + failed]
        facts.append(
            _fact("dnsbl.listed", False, f"{address} is not listed on {' '.join(clean) or 'any zone that answered'}")
        )
    if refused:
        facts.append(
            _fact("dnsbl.refused_zones", " ".join(refused), f"these blocklists refused the query: {' '.join(refused)}")
        )
    return facts, ([f"blocklist lookup failed for {' '.join(failed)}"] if failed else [])


async def _one_zone(address: str, zone: DnsblZone, q: Querier) -> tuple[str, list[Observation]]:
    name = f"{reversed_name(address)}.{zone.zone}"
    answer = await q.ask(name, "A")
    if answer.missing:
        return "clean", []
    if not answer.found:
        return "error", []
    codes = [ipaddress.ip_address(r) for r in answer.records if _address(r)]
    if zone.refused and any(c in ipaddress.ip_network(zone.refused) for c in codes):
        return "refused", []
    hits = [str(c) for c in codes if c in ipaddress.ip_network(zone.listed)]
    if not hits:
        return "clean", []
    reason = await q.ask(name, "TXT")
    why = " ".join(reason.records) if reason.found else "no reason given (no TXT record)"
    evidence = f"{address} is listed on {zone.zone} ({zone.name}): {name} A {', '.join(hits)}; reason: {why}"
    if zone.delist:
        evidence += f"; delisting: {zone.delist}"
    return "listed", [_fact("dnsbl.listed", True, evidence), _fact("dnsbl.reason", f"{zone.zone}: {why}", evidence)]
