"""When the configured port fails, the other submission ports are tried at once, within the timeout."""

from __future__ import annotations

import json
import time
from pathlib import Path

from engine import lab
from tests.bounds import ended, measured, probe_times
from tests.layers import write

TIMEOUT = 1.5


def ports_layer(tmp_path: Path, *entries: tuple[int, str]) -> Path:
    lines = ["ports:"] + [f"  - {{port: {p}, security: {s}, name: test port}}" for p, s in entries]
    root = tmp_path / "ports-layer"
    write(root, "ports.yaml", "\n".join(lines) + "\n")
    return root


def test_a_black_holed_port_with_another_port_answering_concludes_outbound_port_blocked(
    cli, tmp_path, blackhole_port, closed_port
):
    with lab.start("healthy") as server:
        layer = ports_layer(tmp_path, (closed_port, "starttls"), (server.port, "starttls"))
        # Warm the knowledge cache first: the bound is on the network work, not on parsing YAML.
        assert cli("knowledge", "list", "--knowledge", str(layer)).code == 0
        started = time.monotonic()
        result = cli(
            "diagnose",
            "--host",
            "127.0.0.1",
            "--port",
            str(blackhole_port),
            "--timeout",
            str(TIMEOUT),
            "--knowledge",
            str(layer),
            "--non-interactive",
            "--format",
            "json",
        )
        elapsed = time.monotonic() - started
    report = json.loads(result.out)
    first = report["findings"][0]
    assert first["id"] == "network.outbound_port_blocked"
    facts = {f["name"]: f["value"] for f in report["facts"]}
    assert facts["ports.suggested"] == server.port
    assert facts["ports.suggested_security"] == "starttls"
    assert any(f"--port {server.port} --security starttls" in step for step in first["remediation"])
    # The sweep runs beside the hanging connect: one timeout in all, not two.
    ended(elapsed, TIMEOUT)
    measured([max(probe_times(report))], TIMEOUT)


def test_a_refused_port_with_nothing_else_answering_stays_connection_refused(cli, tmp_path, closed_port):
    layer = ports_layer(tmp_path, (closed_port, "starttls"))
    result = cli(
        "diagnose",
        "--host",
        "127.0.0.1",
        "--port",
        str(closed_port + 0),
        "--timeout",
        str(TIMEOUT),
        "--knowledge",
        str(layer),
        "--non-interactive",
        "--format",
        "json",
    )
    ids = [f["id"] for f in json.loads(result.out)["findings"]]
    assert ids[0] == "network.connection_refused"
    assert "network.outbound_port_blocked" not in ids


def test_an_implicit_tls_port_is_reported_with_ssl_security(cli, tmp_path, closed_port):
    with lab.start("healthy-smtps") as server:
        layer = ports_layer(tmp_path, (server.port, "ssl"))
        result = cli(
            "diagnose",
            "--host",
            "127.0.0.1",
            "--port",
            str(closed_port),
            "--timeout",
            str(TIMEOUT),
            "--knowledge",
            str(layer),
            "--non-interactive",
            "--format",
            "json",
        )
    report = json.loads(result.out)
    facts = {f["name"]: f["value"] for f in report["facts"]}
    assert (facts["ports.suggested"], facts["ports.suggested_security"]) == (server.port, "ssl")
    assert [f["id"] for f in report["findings"]][:2] == ["network.connection_refused", "network.outbound_port_blocked"]


def test_auto_security_uses_implicit_tls_on_a_port_the_knowledge_marks_ssl(cli, tmp_path):
    with lab.start("healthy-smtps") as server:
        layer = ports_layer(tmp_path, (server.port, "ssl"))
        result = cli(
            "diagnose",
            "--host",
            "127.0.0.1",
            "--port",
            str(server.port),
            "--security",
            "auto",
            "--cafile",
            str(server.cafile),
            "--timeout",
            str(TIMEOUT),
            "--knowledge",
            str(layer),
            "--non-interactive",
            "--format",
            "json",
        )
    report = json.loads(result.out)
    facts = {(f["name"], f["value"]) for f in report["facts"]}
    assert ("tls.mode", "implicit") in facts
    assert result.code == 0, report["findings"]
