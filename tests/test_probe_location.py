"""Where the probe stands: the machine's name, the local address of its own connection, the egress."""

from __future__ import annotations

import json
import socket

import pytest

from engine import lab
from engine.inputs.settings import AccountSettings
from engine.probes import location
from engine.probes.run import run_probes

TIMEOUT = 1.0
CONTRACT_KEYS = {"schema", "tool", "generated_at", "target", "findings", "facts", "questions", "probes", "transcript"}


def facts_of(run) -> dict[str, object]:
    out: dict[str, object] = {}
    for o in run.observations:
        out.setdefault(o.name, o.value)
    return out


def test_the_machine_is_named_by_its_own_host_name(closed_port):
    run = run_probes(AccountSettings(host="127.0.0.1", port=closed_port, timeout=TIMEOUT))

    assert facts_of(run)["probe.hostname"] == socket.gethostname()


def test_the_local_address_is_the_source_of_the_probes_own_tcp_connection(accepting_port):
    port, peers = accepting_port

    run = run_probes(AccountSettings(host="127.0.0.1", port=port, timeout=TIMEOUT))

    facts = facts_of(run)
    assert facts["probe.local_address"] == "127.0.0.1"
    assert facts["probe.local_address_method"] == "tcp_connection"
    # The server saw the very address and port the evidence names.
    shown = next(o.evidence for o in run.observations if o.name == "probe.local_address")
    assert peers and f"{peers[0][0]}:{peers[0][1]}" in str(shown)


def test_a_refused_connection_still_gives_the_address_the_kernel_would_route_from(closed_port):
    run = run_probes(AccountSettings(host="127.0.0.1", port=closed_port, timeout=TIMEOUT))

    facts = facts_of(run)
    assert facts["tcp.connect"] == "refused"
    assert facts["probe.local_address"] == "127.0.0.1"
    assert facts["probe.local_address_method"] == "route"


def test_the_route_source_sends_nothing():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.settimeout(0.3)

        observations = location.route_source("127.0.0.1", port=listener.getsockname()[1])

        assert [o.value for o in observations if o.name == "probe.local_address"] == ["127.0.0.1"]
        with pytest.raises((TimeoutError, socket.timeout)):
            listener.recvfrom(512)


def test_no_dns_question_is_asked_about_the_machines_own_name(dns_server, closed_port):
    run_probes(
        AccountSettings(host="localhost", port=closed_port, timeout=TIMEOUT, resolver=("127.0.0.1", dns_server.port))
    )

    assert sorted(dns_server.queries) == ["localhost A", "localhost AAAA"]


def run_healthy(cli, dns_server, fmt: str, *extra: str):
    with lab.start("healthy") as server:
        return cli(
            "diagnose",
            "--host",
            "localhost",
            "--port",
            str(server.port),
            "--security",
            "starttls",
            "--cafile",
            str(server.cafile),
            "--user",
            lab.LAB_USER,
            "--password-env",
            "P",
            "--from",
            "app@pass.lab.test",
            "--to",
            lab.LAB_RECIPIENT,
            "--timeout",
            "2",
            "--resolver",
            f"127.0.0.1:{dns_server.port}",
            "--non-interactive",
            "--format",
            fmt,
            *extra,
            environ={"P": lab.LAB_PASSWORD},
        )


@pytest.mark.parametrize("fmt", ["text", "md", "html"])
def test_every_report_says_where_the_probe_stood(cli, dns_server, fmt):
    result = run_healthy(cli, dns_server, fmt)

    assert f"Probed from {socket.gethostname()}, local address 127.0.0.1" in result.out
    assert "egress address not checked (add --check-dns)" in result.out


def test_with_check_dns_the_report_adds_the_egress_address(cli, dns_server):
    result = run_healthy(cli, dns_server, "md", "--check-dns")

    assert "egress 127.0.0.1 as the outside sees it (opendns DNS echo)" in result.out


def test_the_json_report_carries_the_location_as_facts_and_keeps_the_contracts_keys(cli, dns_server):
    report = json.loads(run_healthy(cli, dns_server, "json", "--check-dns").out)

    facts = {f["name"]: f for f in report["facts"]}
    assert set(report) == CONTRACT_KEYS
    assert facts["probe.hostname"]["value"] == socket.gethostname()
    assert facts["probe.local_address"]["value"] == "127.0.0.1"
    assert facts["egress.address"] == {"name": "egress.address", "value": "127.0.0.1", "source": "probe"}


def test_pasted_text_alone_claims_no_location(cli, tmp_path):
    log = tmp_path / "error.txt"
    log.write_text("535 5.7.8 Error: authentication failed\n", encoding="utf-8")

    result = cli("analyze-log", str(log), "--non-interactive")

    assert "Probed from" not in result.out


def test_the_host_name_is_asked_of_the_system_once_a_process(monkeypatch):
    from engine.probes import location

    asked: list[str] = []

    def gethostname() -> str:
        asked.append("name")
        return "app-node-1"

    location.host_name.cache_clear()
    monkeypatch.setattr(socket, "gethostname", gethostname)
    try:
        names = [location.machine()[0].value for _ in range(3)]
    finally:
        location.host_name.cache_clear()
    assert names == ["app-node-1"] * 3
    assert asked == ["name"]
