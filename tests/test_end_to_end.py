"""The acceptance checks, each as a real `python -m engine` process against real local targets."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.bounds import ended, measured, probe_times

TIMEOUT = "1"


def report_of(result) -> dict:
    assert "Traceback" not in result.err, result.err
    return json.loads(result.out)


def first_finding(result) -> dict:
    findings = report_of(result)["findings"]
    assert findings, "no finding at all"
    return findings[0]


def diagnose(run_process, *argv: str):
    return run_process("diagnose", "--timeout", TIMEOUT, "--non-interactive", "--format", "json", *argv)


def test_a_pasted_java_unknown_host_error_concludes_the_host_name_does_not_resolve(run_process):
    result = run_process(
        "analyze-log", "-", "--format", "json", stdin="java.net.UnknownHostException: smtp.example.invalid\n"
    )

    assert result.code == 1
    finding = first_finding(result)
    assert finding["id"] == "dns.host_not_found"
    assert finding["severity"] == "error"
    assert any("smtp.example.invalid" in e for e in finding["evidence"])
    assert any("smtp.example.invalid" in step for step in finding["remediation"])


@pytest.mark.parametrize(
    "deployment, recorded, contact",
    [
        ("on_premises", "on_premises", "network_admin"),
        ("own_cloud", "own_cloud", "network_admin"),
        ("vendor_cloud", "vendor_cloud", "cloud_support"),
        ("cloud", "vendor_cloud", "cloud_support"),  # the older answer, still accepted
    ],
)
def test_a_closed_loopback_port_concludes_connection_refused_routed_by_deployment(
    run_process, tmp_path: Path, closed_port, deployment, recorded, contact
):
    answers = tmp_path / "answers.yaml"
    answers.write_text(f"deployment: {deployment}\n", encoding="utf-8")

    result = diagnose(run_process, "--host", "127.0.0.1", "--port", str(closed_port), "--answers", str(answers))

    assert result.code == 1
    report = report_of(result)
    finding = report["findings"][0]
    assert finding["id"] == "network.connection_refused"
    assert finding["contact"] == contact
    assert finding["confidence"] == "high"
    assert {"id": "deployment", "answer": recorded} in [
        {"id": q["id"], "answer": q["answer"]} for q in report["questions"]
    ]
    assert {"name": "tcp.connect", "value": "refused", "source": "probe"} in report["facts"]


def test_a_port_that_drops_connection_requests_concludes_timeout_within_the_timeout(run_process, blackhole_port):
    started = time.monotonic()
    result = diagnose(run_process, "--host", "127.0.0.1", "--port", str(blackhole_port))
    elapsed = time.monotonic() - started

    assert result.code == 1
    finding = first_finding(result)
    assert finding["id"] == "network.connection_timeout"
    ended(elapsed, 1.0)
    measured(probe_times(json.loads(result.out)), 1.0)


def test_a_name_the_resolver_says_does_not_exist_concludes_the_host_name_does_not_resolve(run_process, dns_server):
    result = diagnose(
        run_process, "--host", "nosuch.lab.test", "--port", "587", "--resolver", f"127.0.0.1:{dns_server.port}"
    )

    assert result.code == 1
    report = report_of(result)
    assert report["findings"][0]["id"] == "dns.host_not_found"
    assert report["findings"][0]["confidence"] == "high"
    assert {p["name"]: p["status"] for p in report["probes"]} == {"dns": "fail", "tcp": "skipped"}
    assert any(q.startswith("nosuch.lab.test") for q in dns_server.queries)


def test_a_name_that_resolves_to_a_closed_port_concludes_connection_refused(run_process, dns_server, closed_port):
    result = diagnose(
        run_process, "--host", "smtp.lab.test", "--port", str(closed_port), "--resolver", f"127.0.0.1:{dns_server.port}"
    )

    assert result.code == 1
    report = report_of(result)
    assert report["findings"][0]["id"] == "network.connection_refused"
    assert "dns.host_not_found" not in [f["id"] for f in report["findings"]]
    statuses = {p["name"]: p["status"] for p in report["probes"]}
    # The sweep of other submission ports runs too; what answers there depends on the machine.
    assert (statuses["dns"], statuses["tcp"]) == ("ok", "fail")
    assert "ports" in statuses
    assert {"name": "tcp.address", "value": "127.0.0.1", "source": "probe"} in report["facts"]


def test_a_silent_resolver_is_reported_within_the_timeout_not_a_hang(run_process, dns_server):
    started = time.monotonic()
    result = diagnose(
        run_process, "--host", "silent.lab.test", "--port", "587", "--resolver", f"127.0.0.1:{dns_server.port}"
    )
    elapsed = time.monotonic() - started

    assert result.code == 1
    finding = first_finding(result)
    assert finding["id"] == "dns.host_not_found"
    assert finding["confidence"] == "medium"  # a lookup failure, not a proven non-existent name
    ended(elapsed, 1.0)
    measured(probe_times(json.loads(result.out)), 1.0)
