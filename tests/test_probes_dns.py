"""The DNS probe: the system resolver for 'localhost', and a real DNS server on 127.0.0.1 otherwise."""

from __future__ import annotations

import asyncio
import ipaddress
import time

import dns.rdatatype

from engine.inputs.settings import AccountSettings
from engine.probes.dns import probe_dns
from engine.probes.run import run_probes
from tests.bounds import ended, measured
from tests.dnsserver import DnsServer, Zone

TIMEOUT = 1.0


def facts_of(result) -> dict:
    return {o.name: o.value for o in result.observations}


def lookup(host: str, dns_server=None, timeout: float = TIMEOUT):
    resolver = ("127.0.0.1", dns_server.port) if dns_server is not None else None
    return asyncio.run(probe_dns(host, timeout, resolver))


def test_localhost_resolves_to_loopback_through_the_system_resolver():
    result, addresses = lookup("localhost")

    assert result.status == "ok"
    assert addresses
    assert all(ipaddress.ip_address(a).is_loopback for a in addresses)
    facts = facts_of(result)
    assert facts["dns.resolved"] is True
    assert set(facts["dns.addresses"].split(", ")) == set(addresses)


def test_a_name_the_named_resolver_serves_resolves_to_its_address(dns_server):
    result, addresses = lookup("smtp.lab.test", dns_server)

    assert result.status == "ok"
    assert addresses == ["127.0.0.1"]
    facts = facts_of(result)
    assert facts["dns.resolved"] is True
    assert facts["dns.addresses"] == "127.0.0.1"
    assert isinstance(facts["dns.lookup_ms"], float)
    assert "smtp.lab.test A" in dns_server.queries  # the named server was really asked


def test_an_unknown_name_is_nxdomain(dns_server):
    result, addresses = lookup("nosuch.lab.test", dns_server)

    assert result.status == "fail"
    assert addresses == []
    facts = facts_of(result)
    assert facts["dns.resolved"] is False
    assert facts["dns.error"] == "nxdomain"
    assert "nosuch.lab.test" in result.detail


def test_a_name_without_address_records_is_no_answer(dns_server):
    result, addresses = lookup("noaddr.lab.test", dns_server)

    assert result.status == "fail"
    assert addresses == []
    assert facts_of(result)["dns.error"] == "no_answer"


def test_a_silent_resolver_times_out_within_the_timeout(dns_server):
    started = time.monotonic()
    result, addresses = lookup("silent.lab.test", dns_server)
    elapsed = time.monotonic() - started

    assert result.status == "fail"
    assert addresses == []
    assert facts_of(result)["dns.error"] == "timeout"
    ended(elapsed, TIMEOUT)
    measured([result.duration_ms], TIMEOUT)


def test_a_servfail_answer_is_servfail(dns_server):
    result, addresses = lookup("broken.lab.test", dns_server)

    assert result.status == "fail"
    assert addresses == []
    assert facts_of(result)["dns.error"] == "servfail"


def test_an_ip_literal_host_skips_the_dns_lookup(closed_port, dns_server):
    settings = AccountSettings(
        host="127.0.0.1", port=closed_port, timeout=TIMEOUT, resolver=("127.0.0.1", dns_server.port)
    )

    probes = run_probes(settings).results

    by_name = {p.name: p for p in probes}
    assert by_name["dns"].status == "skipped"
    assert by_name["dns"].observations == []
    assert dns_server.queries == []
    assert by_name["tcp"].status == "fail"  # the TCP probe still ran, against the literal address


def test_a_name_that_does_not_resolve_skips_the_tcp_probe(dns_server):
    settings = AccountSettings(
        host="nosuch.lab.test", port=25, timeout=TIMEOUT, resolver=("127.0.0.1", dns_server.port)
    )

    probes = run_probes(settings).results

    by_name = {p.name: p for p in probes}
    assert by_name["dns"].status == "fail"
    assert by_name["tcp"].status == "skipped"


class _DropsAaaa(DnsServer):
    """A resolver that answers A queries but silently drops AAAA ones, as some middleboxes do."""

    def _answer(self, query, peer="127.0.0.1"):
        if dns.rdatatype.to_text(query.question[0].rdtype) == "AAAA":
            self.queries.append(f"{query.question[0].name.to_text().rstrip('.')} AAAA (dropped)")
            return None
        return super()._answer(query, peer)


def test_a_name_with_an_a_record_resolves_even_when_aaaa_queries_go_unanswered():
    with _DropsAaaa(Zone(addresses={"v4only.lab.test": ["127.0.0.1"]})) as server:
        started = time.monotonic()
        result, addresses = lookup("v4only.lab.test", server)
        elapsed = time.monotonic() - started

    assert addresses == ["127.0.0.1"], result.detail
    assert result.status == "ok"
    assert facts_of(result)["dns.resolved"] is True
    ended(elapsed, TIMEOUT)
    measured([result.duration_ms], TIMEOUT)
