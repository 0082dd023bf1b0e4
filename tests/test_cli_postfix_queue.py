"""--postfix-queue on the command line: a real Postfix instance whose relay refuses, end to end."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.postfixserver import PostfixInstance, postfix_instance


@pytest.fixture(scope="module")
def stuck_postfix() -> Iterator[PostfixInstance]:
    """A Postfix instance that accepts mail on loopback and defers all of it: its relay refuses."""
    with postfix_instance() as instance:
        instance.inject([["someone@example.com"], ["other@example.org"]])
        entries = instance.wait_deferred(2)
        assert sum(e["queue_name"] == "deferred" for e in entries) == 2, instance.maillog()
        yield instance


def test_diagnose_finds_mail_stuck_in_postfix_while_the_smtp_dialogue_passes(
    cli, stuck_postfix: PostfixInstance
) -> None:
    result = cli(
        "diagnose",
        "--host",
        "127.0.0.1",
        "--port",
        str(stuck_postfix.port),
        "--security",
        "none",
        "--from",
        "app@example.com",
        "--to",
        "someone@example.com",
        "--timeout",
        "5",
        "--postfix-queue",
        stuck_postfix.config_dir,
        "--non-interactive",
        "--format",
        "json",
    )
    report = json.loads(result.out)
    findings = {f["id"]: f for f in report["findings"]}
    assert result.code == 1, result.err
    assert "connectivity.ok" in findings  # the connection is perfect...
    assert findings["queue.failed_messages"]["contact"] == "application_admin"  # ...and mail is stuck
    assert any("postqueue -f" in step for step in findings["queue.failed_messages"]["remediation"])
    refused = findings["network.connection_refused"]["evidence"]
    assert any(f":{stuck_postfix.dead_port}: Connection refused" in line for line in refused)
    probe = next(p for p in report["probes"] if p["name"] == "postfix_queue")
    assert probe["status"] == "fail" and "2 deferred" in probe["detail"]
    assert "queue_async" not in {q["id"] for q in report["questions"]}  # the probe already says mail is queued


def test_analyze_log_reads_the_postfix_queue_beside_the_text(
    cli, stuck_postfix: PostfixInstance, tmp_path: Path
) -> None:
    log = tmp_path / "app.log"
    log.write_text("INFO sending the nightly report\n")
    result = cli(
        "analyze-log", str(log), "--postfix-queue", stuck_postfix.config_dir, "--non-interactive", "--format", "json"
    )
    ids = [f["id"] for f in json.loads(result.out)["findings"]]
    assert "queue.failed_messages" in ids and "network.connection_refused" in ids


def test_a_postfix_queue_directory_without_main_cf_is_bad_input_on_one_line(cli, tmp_path: Path) -> None:
    result = cli("analyze-log", "-", "--postfix-queue", str(tmp_path), "--non-interactive", stdin="")
    assert result.code == 2
    assert result.err.count("\n") == 1
    assert f"--postfix-queue {tmp_path}: no main.cf there" in result.err
