"""After the verdict: `how N` and `fix N` read the report's own findings."""

from __future__ import annotations

import io

from engine.cli.chain import after_verdict, explain

FINDING = {
    "id": "auth.credentials_rejected",
    "title": "The server rejects the user name or password",
    "severity": "error",
    "confidence": "high",
    "contact": "application_admin",
    "evidence": ["app.log:12: 535 5.7.8 Authentication failed"],
    "explanation": ["rule auth-535: A 535 reply to AUTH. Matched: auth.reply_code = 535 (log)"],
    "remediation": ["Re-enter the password in the email account.", "Send a test email."],
}


def talk(typed: str) -> str:
    out = io.StringIO()
    after_verdict([FINDING], io.StringIO(typed), out)
    return out.getvalue()


def test_how_shows_the_facts_with_their_source_the_rule_and_who_acts():
    shown = talk("how 1\n\n")
    assert "1. The server rejects the user name or password (auth.credentials_rejected, error" in shown
    assert "    - app.log:12: 535 5.7.8 Authentication failed" in shown
    assert "    - rule auth-535: A 535 reply to AUTH." in shown
    assert "So: auth.credentials_rejected; who acts: the administrator of the sending application" in shown
    assert "and its queues (application_admin)." in shown


def test_fix_numbers_the_steps():
    shown = talk("fix 1\n")
    assert "  1. Re-enter the password in the email account.\n  2. Send a test email." in shown


def test_anything_else_is_explained_and_asked_again_until_enter_or_the_end_of_input():
    shown = talk("how 2\nwhy\n")
    assert shown.count("Not understood") == 2
    assert "with N from 1 to 1" in shown


def test_explain_lists_every_finding_with_its_chain_and_fix():
    lines = explain([FINDING, {**FINDING, "id": "x.y", "title": "Another"}])
    assert lines[0].startswith("1. The server rejects") and any(line.startswith("2. Another") for line in lines)
    assert explain([]) == ["No finding: nothing stops email from being sent."]
