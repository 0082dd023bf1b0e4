"""--source-address and a profile's source_address: every probe connection leaves from that address."""

from __future__ import annotations

import json

from engine import lab
from engine.inputs.settings import AccountSettings
from engine.probes.run import run_probes
from tests.test_cli_profile import account, profile
from tests.test_lab_diagnosis import diagnose_args

TIMEOUT = 1.0


def facts_of(report: dict) -> dict[str, object]:
    out: dict[str, object] = {}
    for fact in report["facts"]:
        out.setdefault(fact["name"], fact["value"])
    return out


def test_every_connection_of_the_probe_leaves_from_the_source_address(silent_port):
    port, peers = silent_port

    run = run_probes(AccountSettings(host="127.0.0.1", port=port, timeout=TIMEOUT, source_address="127.0.0.5"))

    # The dialogue waits for a greeting on the TCP probe's connection, then tries a TLS handshake
    # on a second one: the server saw the chosen address on both.
    assert len(peers) >= 2
    assert {address for address, _ in peers} == {"127.0.0.5"}
    facts = {o.name: o.value for o in run.observations}
    assert facts["probe.local_address"] == "127.0.0.5"
    assert facts["probe.source_address"] == "127.0.0.5"


def test_without_a_connection_the_route_is_taken_from_the_source_address(closed_port):
    run = run_probes(AccountSettings(host="127.0.0.1", port=closed_port, timeout=TIMEOUT, source_address="127.0.0.6"))

    facts = {o.name: o.value for o in run.observations}
    assert facts["tcp.connect"] == "refused"
    assert facts["probe.local_address"] == "127.0.0.6"
    assert facts["probe.local_address_method"] == "route"


def diagnose_healthy(cli, server, *extra: str, fmt: str = "json"):
    return cli(*diagnose_args(server, "healthy", *extra, "--format", fmt), environ={"LAB_PASSWORD": lab.LAB_PASSWORD})


def test_the_report_says_which_source_address_was_used(cli):
    with lab.start("healthy") as server:
        report = json.loads(diagnose_healthy(cli, server, "--source-address", "127.0.0.7").out)
        text = diagnose_healthy(cli, server, "--source-address", "127.0.0.7", fmt="text").out

    facts = facts_of(report)
    assert facts["probe.source_address"] == "127.0.0.7"
    assert facts["probe.local_address"] == "127.0.0.7"
    assert [f["id"] for f in report["findings"]] == ["connectivity.ok"]
    assert "local address 127.0.0.7 (the source address asked for; source of the probe's own TCP connection)" in text


def test_an_address_the_machine_does_not_have_is_refused_in_one_line(cli):
    # 192.0.2.0/24 is TEST-NET-1: no machine has it; nothing is sent, the bind alone fails.
    result = cli("diagnose", "--host", "127.0.0.1", "--source-address", "192.0.2.10", "--non-interactive")

    assert result.code == 2
    assert result.err.strip().splitlines() == [
        "mailtriage: --source-address 192.0.2.10: this machine has no such address "
        "(ip -brief address lists the ones it has)"
    ]
    assert result.out == ""


def test_a_source_address_that_is_not_an_address_is_refused_in_one_line(cli):
    result = cli("diagnose", "--host", "127.0.0.1", "--source-address", "eth0", "--non-interactive")

    assert result.code == 2
    assert result.err.strip() == "mailtriage: --source-address eth0: not an IP address"


def test_each_profile_account_connects_from_its_own_source_address_or_the_flags(cli, tmp_path):
    with lab.start("healthy") as server:
        path = profile(
            tmp_path,
            account("node-a", server, source_address="127.0.0.11"),
            account("node-b", server, source_address="127.0.0.12"),
            account("default", server),
        )
        result = cli(
            "diagnose",
            "--profile",
            path,
            "--source-address",
            "127.0.0.13",
            "--format",
            "json",
            environ={"LAB_PASSWORD": lab.LAB_PASSWORD},
        )

    summary = json.loads(result.out)
    used = {a["name"]: facts_of(a["report"])["probe.local_address"] for a in summary["accounts"]}
    assert used == {"node-a": "127.0.0.11", "node-b": "127.0.0.12", "default": "127.0.0.13"}


def test_a_profile_account_with_an_address_the_machine_lacks_is_refused_at_its_place(cli, tmp_path):
    with lab.start("healthy") as server:
        path = profile(tmp_path, account("node-a", server, source_address="192.0.2.10"))
        result = cli("diagnose", "--profile", path, environ={"LAB_PASSWORD": lab.LAB_PASSWORD})

    assert result.code == 2
    (line,) = result.err.strip().splitlines()
    assert line.startswith(f"mailtriage: {path}:")
    assert "account 'node-a': source_address 192.0.2.10: this machine has no such address" in line


def test_a_source_of_the_other_family_than_an_address_host_is_refused_in_one_line(cli):
    result = cli("diagnose", "--host", "127.0.0.1", "--source-address", "::1", "--non-interactive")

    assert result.code == 2
    assert result.err.strip() == (
        "mailtriage: --source-address ::1: an IPv6 address cannot reach the IPv4 host 127.0.0.1; give an IPv4 one"
    )


def test_a_host_name_is_dialled_only_at_addresses_of_the_sources_family(dns_server, accepting_port):
    port, peers = accepting_port
    # The test zone gives localhost an IPv4 address only.
    settings = AccountSettings(
        host="localhost", port=port, timeout=TIMEOUT, source_address="::1", resolver=("127.0.0.1", dns_server.port)
    )

    run = run_probes(settings)

    facts = {o.name: o for o in run.observations}
    assert facts["tcp.connect"].value == "error"
    assert facts["tcp.connect"].evidence == "localhost has no IPv6 address to reach from ::1"
    assert peers == []


def test_a_source_of_a_family_the_host_name_lacks_is_a_settings_problem_with_its_fix(cli, dns_server, closed_port):
    result = cli(
        *("diagnose", "--host", "localhost", "--port", str(closed_port), "--source-address", "::1"),
        *("--resolver", f"127.0.0.1:{dns_server.port}", "--timeout", "2", "--non-interactive", "--format", "json"),
    )

    report = json.loads(result.out)
    assert result.code == 1
    (first,) = [f for f in report["findings"] if f["severity"] == "error"]
    assert first["id"] == "config.invalid"
    assert first["rule"] == "config-source-address-family"
    assert "localhost has no IPv6 address to reach from ::1" in first["evidence"]
