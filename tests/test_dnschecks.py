"""--check-dns against a real DNS server on 127.0.0.1: SPF, DMARC, MX, the egress echo, blocklists.

The server's echo names answer with the address the query came from, 127.0.0.1, so that is the
egress address every check here sees; tests/conftest.py holds one sender domain per case.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import Iterator

import pytest

from engine import lab
from engine.probes.dnschecks import CheckPlan, probe_dnschecks, reversed_name
from engine.probes.dnsquery import Querier
from engine.probes.spf import check_host
from tests.bounds import ended, measured
from tests.dnsserver import DnsServer

TIMEOUT = 1.0
LISTING = "1.0.0.127.zen.spamhaus.org"
REASON = "Listed by SBL, see https://check.spamhaus.org/sbl/query/SBL123"


def check(kb, server: DnsServer, sender: str | None, timeout: float = TIMEOUT):
    plan = CheckPlan(sender=sender, resolver=("127.0.0.1", server.port), timeout=timeout)
    result = asyncio.run(probe_dnschecks(plan, kb.dnschecks))
    facts: dict[str, object] = {}
    for o in result.observations:
        facts.setdefault(o.name, o.value)
    return result, facts


def evidence(result, name: str) -> list[str]:
    return [o.evidence or "" for o in result.observations if o.name == name]


def spf(kb, server: DnsServer, domain: str, address: str = "127.0.0.1"):
    async def run():
        deadline = asyncio.get_running_loop().time() + 5
        querier = Querier(["127.0.0.1"], server.port, TIMEOUT, deadline)
        return await check_host(address, domain, f"app@{domain}", querier, kb.dnschecks.spf)

    return asyncio.run(run())


def list_loopback(server: DnsServer) -> None:
    server.zone.addresses[LISTING] = ["127.0.0.2"]
    server.zone.txt[LISTING] = [REASON]


# --- the egress echo ---------------------------------------------------------------------------


def test_the_egress_address_is_what_the_dns_echo_answers(kb, dns_server):
    result, facts = check(kb, dns_server, "app@pass.lab.test")

    assert facts["egress.address"] == "127.0.0.1"
    assert facts["egress.method"] == "opendns"
    assert "myip.opendns.com A" in dns_server.queries
    assert evidence(result, "egress.address") == [
        f"A myip.opendns.com asked of 127.0.0.1:{dns_server.port} answered 127.0.0.1"
    ]


def test_the_google_txt_echo_serves_when_the_opendns_name_does_not_answer(kb, dns_server):
    dns_server.zone.echo.discard("myip.opendns.com")

    _, facts = check(kb, dns_server, "app@pass.lab.test")

    assert facts["egress.address"] == "127.0.0.1"
    assert facts["egress.method"] == "google"


def test_without_an_echo_the_egress_address_is_unknown_and_no_blocklist_is_asked(kb, dns_server):
    dns_server.zone.echo.clear()

    result, facts = check(kb, dns_server, "app@pass.lab.test")

    assert "egress.address" not in facts
    assert "opendns:" in str(facts["egress.error"]) and "google:" in str(facts["egress.error"])
    assert not any("spamhaus" in q for q in dns_server.queries)
    assert facts["dns.spf_lookup"] == "found"  # the record is still read
    assert "dns.spf_result" not in facts  # but nothing to evaluate it against
    assert result.status == "fail"


# --- SPF ----------------------------------------------------------------------------------------


def test_spf_passes_when_an_ip4_mechanism_covers_the_egress_address(kb, dns_server):
    result, facts = check(kb, dns_server, "app@pass.lab.test")

    assert facts["dns.spf_result"] == "pass"
    assert facts["dns.spf_record"] == "v=spf1 ip4:127.0.0.0/8 -all"  # the other TXT record is not SPF
    assert "matched ip4:127.0.0.0/8" in evidence(result, "dns.spf_result")[0]


def test_spf_fails_when_the_record_ends_in_dash_all_without_the_egress_address(kb, dns_server):
    result, facts = check(kb, dns_server, "app@fail.lab.test")

    assert facts["dns.spf_result"] == "fail"
    shown = evidence(result, "dns.spf_result")[0]
    assert "-all" in shown and 'record "v=spf1 ip4:192.0.2.0/24 -all"' in shown


def test_spf_softfails_through_an_include_that_does_not_cover_the_address(kb, dns_server):
    _, facts = check(kb, dns_server, "app@soft.lab.test")

    assert facts["dns.spf_result"] == "softfail"
    assert "_spf.provider.test TXT" in dns_server.queries  # the include was followed


def test_a_domain_without_an_spf_record_is_missing_with_result_none(kb, dns_server):
    result, facts = check(kb, dns_server, "app@nospf.lab.test")

    assert facts["dns.spf_lookup"] == "missing"
    assert facts["dns.spf_result"] == "none"
    assert "dns.spf_record" not in facts
    assert "no record starts with v=spf1" in evidence(result, "dns.spf_lookup")[0]


@pytest.mark.parametrize("domain", ["include.lab.test", "mxauth.lab.test", "redirect.lab.test"])
def test_spf_follows_include_a_mx_and_redirect_to_a_pass(kb, dns_server, domain):
    outcome = spf(kb, dns_server, domain)

    assert outcome.result == "pass", outcome.detail


def test_an_address_the_include_does_not_cover_fails_at_the_outer_dash_all(kb, dns_server):
    outcome = spf(kb, dns_server, "include.lab.test", address="203.0.113.9")

    assert outcome.result == "fail"
    assert outcome.decided_by == "-all (include.lab.test)"


def test_an_ip6_mechanism_matches_an_ipv6_address_only(kb, dns_server):
    assert spf(kb, dns_server, "_spf.provider.test", address="2001:db8::25").result == "pass"
    assert spf(kb, dns_server, "_spf.provider.test", address="127.0.0.1").result == "fail"


def test_an_include_loop_stops_at_ten_lookups_with_permerror(kb, dns_server):
    outcome = spf(kb, dns_server, "loop.lab.test")

    assert outcome.result == "permerror"
    assert outcome.lookups == 11  # the eleventh lookup is the one refused
    assert "10 DNS lookups" in outcome.detail
    assert dns_server.queries.count("loop.lab.test TXT") <= 11


def test_two_spf_records_are_a_permerror(kb, dns_server):
    _, facts = check(kb, dns_server, "app@two.lab.test")

    assert facts["dns.spf_lookup"] == "invalid"
    assert facts["dns.spf_result"] == "permerror"


def test_a_question_mark_all_is_neutral(kb, dns_server):
    dns_server.zone.txt["neutral.lab.test"] = ["v=spf1 ip4:192.0.2.1 ?all"]

    assert spf(kb, dns_server, "neutral.lab.test").result == "neutral"


def test_an_exists_mechanism_expands_the_address_macro(kb, dns_server):
    dns_server.zone.txt["macro.lab.test"] = ["v=spf1 exists:%{i}._spf.macro.lab.test -all"]
    dns_server.zone.addresses["127.0.0.1._spf.macro.lab.test"] = ["127.0.0.2"]

    assert spf(kb, dns_server, "macro.lab.test").result == "pass"
    assert "127.0.0.1._spf.macro.lab.test A" in dns_server.queries


def test_more_than_two_void_lookups_are_a_permerror(kb, dns_server):
    dns_server.zone.txt["voids.lab.test"] = ["v=spf1 a:n1.lab.test a:n2.lab.test a:n3.lab.test -all"]

    outcome = spf(kb, dns_server, "voids.lab.test")

    assert outcome.result == "permerror"
    assert "found nothing" in outcome.detail


def test_an_unknown_mechanism_is_a_permerror(kb, dns_server):
    dns_server.zone.txt["bad.lab.test"] = ["v=spf1 ipv4:192.0.2.1 -all"]

    assert spf(kb, dns_server, "bad.lab.test").result == "permerror"


def test_a_silent_server_gives_temperror_within_the_timeout(kb, dns_server):
    dns_server.zone.txt["slowinclude.lab.test"] = ["v=spf1 include:slow.lab.test -all"]
    started = time.monotonic()

    outcome = spf(kb, dns_server, "slowinclude.lab.test")

    assert outcome.result == "temperror"
    ended(time.monotonic() - started, TIMEOUT)


# --- DMARC and MX -------------------------------------------------------------------------------


def test_a_dmarc_reject_policy_is_read_with_its_record(kb, dns_server):
    result, facts = check(kb, dns_server, "app@fail.lab.test")

    assert facts["dns.dmarc_lookup"] == "found"
    assert facts["dns.dmarc_policy"] == "reject"
    assert facts["dns.dmarc_record"] == "v=DMARC1; p=reject"
    assert evidence(result, "dns.dmarc_policy") == ['TXT _dmarc.fail.lab.test: "v=DMARC1; p=reject"']


def test_a_missing_dmarc_record_is_looked_for_up_the_tree_then_reported_missing(kb, dns_server):
    _, facts = check(kb, dns_server, "app@soft.lab.test")

    assert facts["dns.dmarc_lookup"] == "missing"
    assert "_dmarc.soft.lab.test TXT" in dns_server.queries
    assert "_dmarc.lab.test TXT" in dns_server.queries
    assert "_dmarc.test TXT" not in dns_server.queries  # never the top-level domain alone


def test_a_subdomain_takes_the_parents_sp_policy(kb, dns_server):
    _, facts = check(kb, dns_server, "app@sub.org.lab.test")

    assert facts["dns.dmarc_domain"] == "org.lab.test"
    assert facts["dns.dmarc_policy"] == "reject"  # sp=reject, although p=none


def test_mx_hosts_are_listed_by_preference(kb, dns_server):
    _, facts = check(kb, dns_server, "app@pass.lab.test")

    assert facts["dns.mx_lookup"] == "found"
    assert facts["dns.mx_hosts"] == "10 mx1.pass.lab.test, 20 mx2.pass.lab.test"


def test_a_domain_without_mx_records_is_missing(kb, dns_server):
    _, facts = check(kb, dns_server, "app@fail.lab.test")

    assert facts["dns.mx_lookup"] == "missing"


def test_without_a_sender_address_no_domain_records_are_asked(kb, dns_server):
    result, facts = check(kb, dns_server, None)

    assert "dns.sender_domain" not in facts
    assert not any(q.endswith(("TXT", "MX")) and "myaddr" not in q for q in dns_server.queries)
    assert "no sender domain" in result.detail


# --- DNS blocklists -----------------------------------------------------------------------------


def test_the_egress_address_is_looked_up_reversed_in_every_zone(kb, dns_server):
    _, facts = check(kb, dns_server, "app@pass.lab.test")

    assert reversed_name("192.0.2.55") == "55.2.0.192"
    for zone in kb.dnschecks.dnsbl:
        assert f"1.0.0.127.{zone.zone} A" in dns_server.queries
    assert facts["dnsbl.listed"] is False


def test_a_listed_egress_address_names_the_zone_and_its_reason(kb, dns_server):
    list_loopback(dns_server)

    result, facts = check(kb, dns_server, "app@pass.lab.test")

    assert facts["dnsbl.listed"] is True
    assert facts["dnsbl.listed_zones"] == "zen.spamhaus.org"
    assert facts["dnsbl.reason"] == f"zen.spamhaus.org: {REASON}"
    shown = evidence(result, "dnsbl.listed")[0]
    assert "127.0.0.1 is listed on zen.spamhaus.org" in shown and REASON in shown and "127.0.0.2" in shown


def test_an_answer_outside_the_listed_range_is_the_operator_refusing_not_a_listing(kb, dns_server):
    dns_server.zone.addresses[LISTING] = ["127.255.255.254"]

    _, facts = check(kb, dns_server, "app@pass.lab.test")

    assert facts["dnsbl.listed"] is False
    assert facts["dnsbl.refused_zones"] == "zen.spamhaus.org"


# --- bounds -------------------------------------------------------------------------------------


@pytest.fixture
def silent_resolver() -> Iterator[int]:
    """A UDP port on 127.0.0.1 that receives queries and never answers."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def test_a_silent_resolver_turns_every_check_into_a_failure_fact_within_two_timeouts(kb, silent_resolver):
    plan = CheckPlan(sender="app@pass.lab.test", resolver=("127.0.0.1", silent_resolver), timeout=TIMEOUT)
    started = time.monotonic()

    result = asyncio.run(probe_dnschecks(plan, kb.dnschecks))

    elapsed = time.monotonic() - started
    facts = {o.name: o.value for o in result.observations}
    ended(elapsed, 2 * TIMEOUT)
    measured([result.duration_ms], 2 * TIMEOUT)
    assert result.status == "fail"
    assert facts["dns.spf_lookup"] == "error"
    assert facts["dns.dmarc_lookup"] == "error"
    assert facts["dns.mx_lookup"] == "error"
    assert "egress.error" in facts


# --- the whole command --------------------------------------------------------------------------


def diagnose(server: lab.LabServer, dns: DnsServer, sender: str, *extra: str) -> list[str]:
    """The real CLI against a lab server named 'localhost', resolved by the test DNS server."""
    return [
        "diagnose",
        "--host",
        "localhost",
        "--port",
        str(server.port),
        "--security",
        "starttls",
        "--cafile",
        str(server.cafile),
        "--from",
        sender,
        "--to",
        lab.LAB_RECIPIENT,
        "--resolver",
        f"127.0.0.1:{dns.port}",
        "--timeout",
        "2",
        "--non-interactive",
        "--format",
        "json",
        *extra,
    ]


def test_check_dns_reports_a_failing_spf_with_its_record_and_the_egress_address(cli, dns_server):
    with lab.start("healthy") as server:
        result = cli(*diagnose(server, dns_server, "app@fail.lab.test", "--check-dns"))

    report = json.loads(result.out)
    assert result.code == 1, result.err
    facts = {f["name"]: f["value"] for f in report["facts"]}
    assert facts["egress.address"] == "127.0.0.1"
    assert facts["dns.spf_result"] == "fail"
    finding = next(f for f in report["findings"] if f["id"] == "reputation.sender_untrusted")
    assert any('record "v=spf1 ip4:192.0.2.0/24 -all"' in line for line in finding["evidence"]), finding["evidence"]
    assert any("v=DMARC1; p=reject" in line for line in finding["evidence"])
    assert any("gives fail for 127.0.0.1" in step for step in finding["remediation"])
    assert "dnschecks" in [p["name"] for p in report["probes"]]


def test_check_dns_reports_a_blocklisted_egress_address_with_zone_and_reason(cli, dns_server):
    list_loopback(dns_server)
    with lab.start("healthy") as server:
        result = cli(*diagnose(server, dns_server, "app@pass.lab.test", "--check-dns"))

    report = json.loads(result.out)
    finding = report["findings"][0]
    assert finding["id"] == "reputation.sender_untrusted"
    assert finding["rule"] == "reputation-egress-blocklisted"
    assert any("zen.spamhaus.org" in line and REASON in line for line in finding["evidence"])


def test_check_dns_on_a_healthy_authenticated_domain_rules_reputation_out(cli, dns_server):
    with lab.start("healthy") as server:
        result = cli(*diagnose(server, dns_server, "app@pass.lab.test", "--check-dns", "--format", "text"))

    assert result.code == 0, result.out
    assert "The receiving side does not trust the sender: ruled out" in result.out
    assert "egress 127.0.0.1 as the outside sees it" in result.out


def test_the_safelist_fix_names_the_egress_address_to_add(cli, dns_server):
    with lab.start("client-ip-refused") as server:
        checked = json.loads(cli(*diagnose(server, dns_server, "app@pass.lab.test", "--check-dns")).out)
        unchecked = json.loads(cli(*diagnose(server, dns_server, "app@pass.lab.test")).out)

    def first_step(report: dict) -> str:
        return next(f for f in report["findings"] if f["id"] == "ip.not_safelisted")["remediation"][0]

    assert "127.0.0.1" in first_step(checked) and "the address to add" in first_step(checked)
    assert "127.0.0.1" not in first_step(unchecked)


def test_without_check_dns_only_the_smtp_host_is_looked_up(cli, dns_server):
    with lab.start("healthy") as server:
        result = cli(*diagnose(server, dns_server, "app@fail.lab.test"))

    report = json.loads(result.out)
    assert sorted(dns_server.queries) == ["localhost A", "localhost AAAA"]
    names = {f["name"] for f in report["facts"]}
    assert not any(n.startswith(("egress.", "dnsbl.")) or n.startswith("dns.spf") for n in names)
    assert "dnschecks" not in [p["name"] for p in report["probes"]]


def test_check_dns_asks_only_the_named_resolver(cli, dns_server):
    with lab.start("healthy") as server:
        cli(*diagnose(server, dns_server, "app@pass.lab.test", "--check-dns"))

    # Every check reached the test server; had any gone elsewhere, its question would be missing.
    asked = set(dns_server.queries)
    assert {
        "myip.opendns.com A",
        "pass.lab.test TXT",
        "_dmarc.pass.lab.test TXT",
        "pass.lab.test MX",
        "1.0.0.127.zen.spamhaus.org A",
    } <= asked


# --- the knowledge file -------------------------------------------------------------------------


def test_a_blocklist_server_named_by_host_name_is_refused_with_its_line(cli, tmp_path):
    from tests.layers import line_of, write

    path = write(
        tmp_path,
        "dnschecks.yaml",
        """
        egress:
          - name: echo
            description: an echo named by host name, which would need a lookup of its own
            query: myip.example.test
            type: A
            servers: [resolver1.example.test]
        spf:
          qualifiers: {"-": fail}
    """,
    )

    result = cli("knowledge", "lint", "--knowledge", str(tmp_path))

    assert result.code == 2
    assert f"dnschecks.yaml:{line_of(path, 'servers:')}:" in result.err
    assert "is not an IP address" in result.err


def test_check_dns_works_the_same_in_a_real_process(run_process, dns_server):
    with lab.start("healthy") as server:
        result = run_process(*diagnose(server, dns_server, "app@soft.lab.test", "--check-dns"))

    report = json.loads(result.out)
    facts = {f["name"]: f["value"] for f in report["facts"]}
    assert result.code == 1, result.err
    assert facts["egress.address"] == "127.0.0.1"
    assert facts["dns.spf_result"] == "softfail"
    assert facts["dns.dmarc_lookup"] == "missing"
    assert report["findings"][0]["id"] == "reputation.sender_untrusted"


def test_a_silent_resolver_never_hangs_the_whole_command(cli, silent_resolver):
    with lab.start("healthy") as server:
        started = time.monotonic()
        result = cli(
            "diagnose",
            "--host",
            "127.0.0.1",
            "--port",
            str(server.port),
            "--security",
            "starttls",
            "--cafile",
            str(server.cafile),
            "--from",
            "app@pass.lab.test",
            "--to",
            lab.LAB_RECIPIENT,
            "--resolver",
            f"127.0.0.1:{silent_resolver}",
            "--timeout",
            str(TIMEOUT),
            "--non-interactive",
            "--format",
            "json",
            "--check-dns",
        )
        elapsed = time.monotonic() - started

    report = json.loads(result.out)
    assert result.code in (0, 1), result.err
    ended(elapsed, 2 * TIMEOUT)
    checks = next(p for p in report["probes"] if p["name"] == "dnschecks")
    measured([checks["duration_ms"]], 2 * TIMEOUT)
    assert checks["status"] == "fail" and "egress address unknown" in checks["detail"]
    assert "reputation.sender_untrusted" not in [f["id"] for f in report["findings"]]
