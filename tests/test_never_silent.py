"""Never silent: a failure always gets an error finding, even one no specific rule explains.

Every failing state a probe can record, every failing SMTP reply code in any framing, and every
exception class the signatures know lead to at least one finding of severity error.
"""

from __future__ import annotations

import pytest

from engine.decide.inference import infer
from engine.decide.session import NoAsker
from engine.inputs.textinput import Block
from engine.knowledge.load import load_knowledge
from engine.run.pipeline import diagnose_text
from tests.layers import facts_of

KB = load_knowledge()


def choices(name: str) -> list[str]:
    spec = KB.facts[name]
    assert spec.choices is not None
    return spec.choices


PROBE_FAILURES: list[dict[str, object]] = [
    *({"tcp.connect": v} for v in choices("tcp.connect") if v != "ok"),
    *({"tls.handshake": v} for v in choices("tls.handshake") if v != "ok"),
    *({"tls.verify": v} for v in choices("tls.verify") if v != "ok"),
    *({"dns.resolved": False, "dns.error": v} for v in choices("dns.error")),
    *(
        {"smtp.failure": failure, "smtp.stage": stage}
        for failure in choices("smtp.failure")
        for stage in ("greeting", "ehlo", "starttls", "auth", "mail", "rcpt", "data")
    ),
    *({"smtp.protocol_error": v} for v in choices("smtp.protocol_error")),
    *({"auth.result": v, "config.user": "app@example.com"} for v in choices("auth.result") if v != "ok"),
    {"envelope.mail": "rejected"},
    {"envelope.rcpt": "rejected"},
    {"envelope.data": "rejected"},
]


@pytest.mark.parametrize("state", PROBE_FAILURES, ids=lambda s: ",".join(f"{k}={v}" for k, v in s.items()))
def test_every_failing_probe_state_has_an_error_finding(state):
    findings = infer(KB, facts_of(state)).findings
    assert any(c.severity == "error" for c in findings), [c.finding for c in findings]


def error_findings(text: str) -> list[str]:
    outcome = diagnose_text(KB, [Block.of_text(text, "pasted")], NoAsker())
    return [c.finding for c in outcome.session.inference.findings if c.severity == "error"]


assert KB.status_codes is not None
CODES = sorted(int(code) for code in KB.status_codes.basic if code[0] in "45")
FRAMES = [
    "{code} {enhanced} something went wrong",
    "{code} something went wrong",
    "SMTPException: {code} {enhanced} something went wrong",
    "Error: {code} something went wrong",
    "host mx.example.com[192.0.2.1] said: {code} {enhanced} something went wrong (in reply to RCPT TO command)",
]


@pytest.mark.parametrize("frame", FRAMES)
@pytest.mark.parametrize("code", CODES)
def test_every_failing_reply_code_in_every_framing_has_an_error_finding(code, frame):
    text = frame.format(code=code, enhanced=f"{str(code)[0]}.0.0")
    assert error_findings(text), text


@pytest.mark.parametrize("subject", range(8))
def test_an_enhanced_code_of_every_subject_alone_has_an_error_finding(subject):
    assert error_findings(f"SmtpCommandException: 5.{subject}.99 Refused for reasons of its own")


EXCEPTION_EXAMPLES = [
    (ident, example)
    for ident, sig in KB.signatures.items()
    if "failure.exception" in sig.facts
    for example in sig.examples.match
]


@pytest.mark.parametrize(("ident", "example"), EXCEPTION_EXAMPLES, ids=[i for i, _ in EXCEPTION_EXAMPLES])
def test_every_known_exception_class_has_an_error_finding(ident, example):
    assert error_findings(example), example


def test_a_text_with_no_failure_in_it_concludes_no_error():
    assert error_findings("2026-12-03 10:00:00 INFO mail sent to someone@example.com: 250 2.0.0 Ok: queued") == []
