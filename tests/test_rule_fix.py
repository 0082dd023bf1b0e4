"""A rule's own fix steps: linted like a finding's, shown first in the report, filled with facts."""

from __future__ import annotations

from pathlib import Path

from engine.decide.session import NoAsker, run_session
from engine.report.build import build_report
from tests.layers import facts_of, line_of, rule


def test_a_broken_template_in_a_rule_fix_is_reported_at_its_line(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    extra = Path("extra")
    path = rule(
        extra,
        "custom-broken-fix",
        """
        fact: config.port
        equals: 2525
    """,
        extra="fix:\n  - \"Fine: {{ fact('config.port') }}.\"\n  - \"Not closed: {{ fact('config.port') }.\"\n",
    )
    result = cli("knowledge", "lint", "--knowledge", str(extra))
    assert result.code == 2
    assert f"{path}:{line_of(path, 'Not closed')}: rule 'custom-broken-fix' fix step: template error" in result.err


def test_the_rules_fix_steps_come_before_the_findings_and_name_the_key_from_the_facts(kb):
    facts = facts_of(
        {
            "config.source": "mail.properties",
            "config.format": "javamail",
            "config.key_prefix": "mail.smtp",
            "config.host": "smtp.example.com",
            "config.port": 587,
            "config.security": "ssl",
            "config.security_set_by": "mail.smtp.ssl.enable at mail.properties:5",
            "config.port_set_by": "mail.smtp.port at mail.properties:3",
            "config.connect_timeout_ms": 10000,
            "config.read_timeout_ms": 30000,
        }
    )
    session = run_session(kb, facts, NoAsker(), {})
    report = build_report(kb, session, {}, [])
    invalid = next(f for f in report.findings if f.id == "config.invalid")
    assert invalid.remediation[0] == (
        "mail.smtp.ssl.enable at mail.properties:5 switches implicit TLS (SMTPS) on, while port 587 "
        "(mail.smtp.port at mail.properties:3) expects a plain greeting and then STARTTLS."
    )
    general = [step for step in invalid.remediation if step.startswith("Open the email account settings")]
    assert len(general) == 1 and invalid.remediation.index(general[0]) == 2
    assert len(invalid.remediation) == len(set(invalid.remediation))
