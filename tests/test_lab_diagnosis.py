"""The real probes against every lab scenario: the expected finding comes first, with the reply."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import pytest

from engine import lab
from tests.bounds import ended, measured, probe_times

TIMEOUT = 2.0
# Scenarios whose fault shows only without credentials (the server wants AUTH first).
NO_CREDENTIALS = {"auth-required"}


def diagnose_args(server: lab.LabServer, name: str, *extra: str) -> list[str]:
    args = [
        "diagnose",
        "--host",
        "127.0.0.1",
        "--port",
        str(server.port),
        "--security",
        server.scenario.security,
        "--cafile",
        str(server.cafile),
        "--from",
        lab.LAB_SENDER,
        "--to",
        lab.LAB_RECIPIENT,
        "--timeout",
        str(TIMEOUT),
        "--non-interactive",
        "--format",
        "json",
    ]
    if name not in NO_CREDENTIALS:
        args += ["--user", lab.LAB_USER, "--password-env", "LAB_PASSWORD"]
    return args + list(extra)


@pytest.mark.parametrize("name", sorted(lab.SCENARIOS))
def test_each_lab_scenario_is_diagnosed_as_the_fault_it_reproduces(cli, kb, name):
    with lab.start(name) as server:
        started = time.monotonic()
        result = cli(*diagnose_args(server, name), environ={"LAB_PASSWORD": lab.LAB_PASSWORD})
        elapsed = time.monotonic() - started
    report = json.loads(result.out)
    expected = server.scenario.expected
    findings = report["findings"]
    assert findings, f"{name}: no finding at all"
    if expected == "connectivity.ok":
        assert result.code == 0
        assert [f["severity"] for f in findings if f["severity"] == "error"] == []
        assert findings[0]["id"] == "connectivity.ok"
    elif kb.findings[expected].severity != "error":
        # A warning: mail still goes out, so the run passes, with the warning first.
        assert result.code == 0
        assert findings[0]["id"] == expected, [f["id"] for f in findings]
        assert "connectivity.ok" in [f["id"] for f in findings]
    else:
        errors = [f for f in findings if f["severity"] == "error"]
        assert result.code == 1
        assert errors and errors[0]["id"] == expected, [f["id"] for f in findings]
        assert errors[0]["evidence"], "a finding without evidence"
    # Never a hang: a silent or hostile server is diagnosed within the timeout, by the probes'
    # own clocks, and the whole command ends.
    ended(elapsed, TIMEOUT)
    measured(probe_times(report), TIMEOUT)


REPLY_EVIDENCE = {
    "bad-password": "535 5.7.8",
    "account-disabled": "5.7.139",
    "sender-not-allowed": "5.7.60",
    "client-ip-refused": "Client host rejected",
    "relay-denied": "Relay access denied",
    "recipient-rejected": "5.1.1",
    "tls-required": "STARTTLS",
    "auth-required": "Authentication required",
    "greeting-421": "421",
}


@pytest.mark.parametrize("name", sorted(REPLY_EVIDENCE))
def test_the_servers_own_reply_is_the_evidence(cli, name):
    with lab.start(name) as server:
        result = cli(*diagnose_args(server, name), environ={"LAB_PASSWORD": lab.LAB_PASSWORD})
    first = json.loads(result.out)["findings"][0]
    assert any(REPLY_EVIDENCE[name] in line for line in first["evidence"]), first["evidence"]


def test_a_dry_run_delivers_nothing_and_stops_after_rcpt(cli):
    with lab.start("healthy") as server:
        result = cli(*diagnose_args(server, "healthy"), environ={"LAB_PASSWORD": lab.LAB_PASSWORD})
        delivered = list(server.messages)
    transcript = json.loads(result.out)["transcript"]
    assert delivered == []
    assert any(line.startswith("C: RCPT TO:") for line in transcript)
    assert not any(line.startswith("C: DATA") for line in transcript)
    assert transcript[-2:] == ["C: QUIT", transcript[-1]] and transcript[-1].startswith("S: 221")


def test_send_test_message_delivers_exactly_one_labelled_message(cli):
    with lab.start("healthy") as server:
        result = cli(
            *diagnose_args(server, "healthy", "--send-test-message"), environ={"LAB_PASSWORD": lab.LAB_PASSWORD}
        )
        delivered = list(server.messages)
    assert result.code == 0
    assert len(delivered) == 1
    assert b"Subject: mailtriage test message" in delivered[0]


def test_auto_security_chooses_starttls_when_offered_and_says_so(cli):
    with lab.start("healthy") as server:
        args = diagnose_args(server, "healthy")
        args[args.index("--security") + 1] = "auto"
        result = cli(*args, environ={"LAB_PASSWORD": lab.LAB_PASSWORD})
    report = json.loads(result.out)
    facts = {(f["name"], f["value"]) for f in report["facts"]}
    assert ("tls.mode", "starttls") in facts
    assert ("tls.verify", "ok") in facts
    assert result.code == 0


def test_auto_security_on_an_implicit_tls_port_numbered_465_is_not_needed_to_find_it(cli):
    # The implicit-TLS lab listens on a random port; auto with STARTTLS expectations finds it by
    # the silent greeting plus a successful TLS handshake, within the same deadline.
    with lab.start("implicit-tls") as server:
        result = cli(*diagnose_args(server, "implicit-tls"), environ={"LAB_PASSWORD": lab.LAB_PASSWORD})
    report = json.loads(result.out)
    assert report["findings"][0]["id"] == "tls.mode_mismatch"


PASSWORD = "Lab-S3cret!"


def test_the_password_and_its_auth_encodings_never_leave_the_process(cli, tmp_path: Path):
    # A lab server that rejects every password still receives it; nothing may echo it back out.
    forms = [
        PASSWORD,
        base64.b64encode(PASSWORD.encode()).decode(),
        base64.b64encode(f"\0{lab.LAB_USER}\0{PASSWORD}".encode()).decode(),
    ]
    session = tmp_path / "session.json"
    outputs = []
    with lab.start("bad-password") as server:
        for fmt in ("text", "md", "html", "json"):
            report = tmp_path / f"report.{fmt}"
            args = diagnose_args(server, "bad-password")
            args[args.index("--format") + 1] = fmt
            result = cli(*args, "--output", str(report), "--session", str(session), environ={"LAB_PASSWORD": PASSWORD})
            assert result.code == 1
            outputs += [result.out, result.err, report.read_text(), session.read_text()]
    for text in outputs:
        for form in forms:
            assert form not in text
    assert any("AUTH PLAIN <redacted>" in text or "AUTH PLAIN &lt;redacted&gt;" in text for text in outputs)


def test_xoauth2_with_an_access_token_authenticates_and_the_token_stays_secret(cli):
    with lab.start("healthy") as server:
        args = diagnose_args(server, "auth-required")  # the variant without a password
        result = cli(*args, "--user", lab.LAB_USER, "--oauth-token-env", "TOKEN", environ={"TOKEN": lab.LAB_TOKEN})
    report = json.loads(result.out)
    facts = {(f["name"], f["value"]) for f in report["facts"]}
    assert ("auth.mechanism", "XOAUTH2") in facts
    assert ("auth.result", "ok") in facts
    assert "C: AUTH XOAUTH2 <redacted>" in report["transcript"]
    payload = base64.b64encode(f"user={lab.LAB_USER}\x01auth=Bearer {lab.LAB_TOKEN}\x01\x01".encode()).decode()
    for text in (result.out, result.err):
        assert lab.LAB_TOKEN not in text and payload not in text


def test_a_wrong_access_token_is_a_refused_oauth_token_not_a_wrong_password(cli):
    with lab.start("healthy") as server:
        args = diagnose_args(server, "auth-required")
        result = cli(*args, "--user", lab.LAB_USER, "--oauth-token-env", "TOKEN", environ={"TOKEN": "expired-token"})
    report = json.loads(result.out)
    assert report["findings"][0]["id"] == "auth.oauth_token_invalid"
    assert result.code == 1


def test_auto_security_never_sends_the_password_over_an_unencrypted_connection(cli):
    with lab.start("no-starttls") as server:
        args = diagnose_args(server, "no-starttls")
        args[args.index("--security") + 1] = "auto"
        result = cli(*args, environ={"LAB_PASSWORD": lab.LAB_PASSWORD})
    report = json.loads(result.out)
    assert not any(line.startswith("C: AUTH") for line in report["transcript"])
    facts = {(f["name"], f["value"]) for f in report["facts"]}
    assert ("tls.auto_choice", "none") in facts
    assert ("auth.result", "withheld_cleartext") in facts
    assert report["findings"][0]["id"] == "tls.starttls_not_offered"


def test_security_none_sends_the_password_in_the_clear_only_because_it_was_asked(cli):
    with lab.start("no-starttls") as server:
        args = diagnose_args(server, "no-starttls")
        args[args.index("--security") + 1] = "none"
        result = cli(*args, environ={"LAB_PASSWORD": lab.LAB_PASSWORD})
    report = json.loads(result.out)
    assert "C: AUTH PLAIN <redacted>" in report["transcript"]
    assert ("auth.result", "ok") in {(f["name"], f["value"]) for f in report["facts"]}


@pytest.mark.parametrize("name", ["huge-greeting", "endless-reply", "garbage"])
def test_a_flooding_server_is_read_only_as_far_as_the_line_bounds_allow(cli, name):
    # The 1 MB greeting and the endless reply would fill memory if read to the end.
    with lab.start(name) as server:
        result = cli(*diagnose_args(server, name), environ={"LAB_PASSWORD": lab.LAB_PASSWORD})
    facts = {f["name"]: f["value"] for f in json.loads(result.out)["facts"]}
    assert facts["smtp.failure"] == "protocol"
    assert facts["smtp.bytes_received"] <= 16 * 1024
