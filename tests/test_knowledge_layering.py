"""--knowledge DIR layers a directory over the shipped knowledge: new ids add, same ids override."""

from __future__ import annotations

import json

import pytest

from engine.decide.inference import infer
from engine.knowledge.load import load_knowledge
from tests.layers import facts_of, rule, write

FROB_FACTS = """
    facts:
      custom.frobnicator:
        type: str
        description: state of the in-house mail gateway, as its log reports it
        choices: [ok, jammed]
"""

FROB_FINDING = """
    findings:
      custom.frobnicator_jammed:
        title: The in-house mail gateway is jammed
        severity: error
        contact: application_admin
        summary: The gateway between the application and the SMTP server stopped passing mail.
        why: It jams when its spool fills up.
        fix:
          - "Restart the frobnicator on {{ fact('config.host', 'the gateway host') }}."
        step: 6
"""

FROB_SIGNATURE = """
    signatures:
      - id: frobnicator-jammed
        description: The gateway says it is jammed.
        pattern: 'FROB-42 frobnicator jammed'
        facts:
          custom.frobnicator: jammed
        examples:
          match: ["2024-05-01 FROB-42 frobnicator jammed (spool full)"]
          no_match: ["FROB-41 frobnicator started"]
"""


@pytest.fixture
def frob_layer(tmp_path):
    """A complete user layer: its own fact, finding, signature and rule (with cases)."""
    root = tmp_path / "frob"
    write(root, "facts.yaml", FROB_FACTS)
    write(root, "findings.yaml", FROB_FINDING)
    write(root, "signatures/gateway.yaml", FROB_SIGNATURE)
    rule(
        root,
        "frobnicator-jammed",
        "fact: custom.frobnicator\nequals: jammed",
        finding="custom.frobnicator_jammed",
        area="gateway",
        cases="""
        cases:
          - {name: jammed, facts: {custom.frobnicator: jammed}, expect: fire}
          - {name: running, facts: {custom.frobnicator: ok}, expect: silent}
    """,
    )
    return root


# --- additions -----------------------------------------------------------------------------------


def test_a_rule_added_in_an_extra_directory_fires(tmp_path, kb):
    layer = tmp_path / "layer"
    rule(
        layer,
        "tcp-connection-reset",
        "fact: tcp.connect\nequals: reset",
        finding="network.connection_refused",
        extra="confidence: medium\n",
    )
    facts = {"tcp.connect": "reset"}

    # Shipped knowledge has no rule for a reset, so only the last resort speaks.
    assert [c.finding for c in infer(kb, facts_of(facts)).findings] == ["failure.unclassified"]

    layered = load_knowledge([layer])
    result = infer(layered, facts_of(facts))
    assert "tcp-connection-reset" in result.fired
    [conclusion] = result.findings
    assert conclusion.finding == "network.connection_refused"
    assert conclusion.rule == "tcp-connection-reset"
    assert conclusion.confidence == "medium"


def test_the_shipped_rules_still_run_beside_the_added_ones(frob_layer):
    layered = load_knowledge([frob_layer])
    result = infer(layered, facts_of({"tcp.connect": "refused", "custom.frobnicator": "jammed"}))
    assert {c.finding for c in result.findings} == {"network.connection_refused", "custom.frobnicator_jammed"}


def test_a_new_finding_declared_in_the_extra_layer_is_usable(frob_layer):
    layered = load_knowledge([frob_layer])
    assert "custom.frobnicator_jammed" in layered.findings
    assert "config.invalid" in layered.findings  # the shipped ones remain
    [conclusion] = infer(layered, facts_of({"custom.frobnicator": "jammed"})).findings
    assert conclusion.finding == "custom.frobnicator_jammed"
    assert conclusion.severity == "error"
    assert conclusion.contact == "application_admin"


def test_analyze_log_uses_a_signature_and_rule_from_a_knowledge_directory(cli, frob_layer, tmp_path):
    log = tmp_path / "gateway.log"
    log.write_text("2024-05-01 10:00 starting\n2024-05-01 10:01 FROB-42 frobnicator jammed (spool full)\n")

    result = cli("analyze-log", str(log), "--knowledge", str(frob_layer), "--non-interactive", "--format", "json")

    assert result.code == 1, result.err
    report = json.loads(result.out)
    [finding] = report["findings"]
    assert finding["id"] == "custom.frobnicator_jammed"
    assert finding["rule"] == "frobnicator-jammed"
    assert finding["contact"] == "application_admin"
    assert any(f"{log}:2" in line and "FROB-42" in line for line in finding["evidence"])
    assert finding["remediation"] == ["Restart the frobnicator on the gateway host."]


def test_without_the_knowledge_directory_the_same_log_finds_nothing(cli, tmp_path):
    log = tmp_path / "gateway.log"
    log.write_text("2024-05-01 10:01 FROB-42 frobnicator jammed (spool full)\n")
    result = cli("analyze-log", str(log), "--non-interactive", "--format", "json")
    assert result.code == 0, result.err
    assert json.loads(result.out)["findings"] == []


def test_lint_accepts_a_complete_extra_layer_and_counts_its_additions(cli, frob_layer, kb):
    result = cli("knowledge", "lint", "--knowledge", str(frob_layer))
    assert result.code == 0, result.err
    assert f"{len(kb.rules) + 1} rules, {len(kb.findings) + 1} findings" in result.out
    assert f"{len(kb.signatures) + 1} signatures" in result.out


def test_knowledge_test_runs_the_cases_of_an_extra_layer(cli, frob_layer, kb):
    shipped = cli("knowledge", "test")
    layered = cli("knowledge", "test", "--knowledge", str(frob_layer))
    assert layered.code == 0, layered.out

    def count(out: str) -> int:
        return int(out.splitlines()[-1].split()[0])

    assert count(layered.out) == count(shipped.out) + 2


# --- overrides -----------------------------------------------------------------------------------


def test_a_rule_with_a_shipped_id_overrides_its_confidence(tmp_path, kb):
    layer = tmp_path / "layer"
    rule(
        layer,
        "tcp-connection-refused",
        "fact: tcp.connect\nequals: refused",
        finding="network.connection_refused",
        area="network",
        extra="confidence: low\n",
    )
    facts = {"tcp.connect": "refused"}
    assert infer(kb, facts_of(facts)).findings[0].confidence == "high"

    layered = load_knowledge([layer])
    assert layered.rules["tcp-connection-refused"].confidence == "low"
    [conclusion] = infer(layered, facts_of(facts)).findings
    assert conclusion.rule == "tcp-connection-refused"
    assert conclusion.confidence == "low"


def test_a_rule_with_a_shipped_id_overrides_its_condition(tmp_path):
    layer = tmp_path / "layer"
    rule(
        layer,
        "tcp-connection-refused",
        "fact: tcp.connect\none_of: [refused, reset]",
        finding="network.connection_refused",
        area="elsewhere",
    )
    layered = load_knowledge([layer])

    assert [c.finding for c in infer(layered, facts_of({"tcp.connect": "reset"})).findings] == [
        "network.connection_refused"
    ]
    assert layered.where[("rule", "tcp-connection-refused")].path.is_relative_to(layer)


def test_an_overridden_rule_no_longer_fires_on_its_old_condition(tmp_path):
    layer = tmp_path / "layer"
    rule(
        layer,
        "tcp-connection-refused",
        "fact: tcp.connect\nequals: reset",
        finding="network.connection_refused",
        area="network",
    )
    layered = load_knowledge([layer])
    result = infer(layered, facts_of({"tcp.connect": "refused"}))
    assert "tcp-connection-refused" not in result.fired
    # Nothing explains the refusal any more, so only the last resort speaks.
    assert [c.finding for c in result.findings] == ["failure.unclassified"]


def test_the_override_reaches_the_cli_report(cli, tmp_path):
    layer = tmp_path / "layer"
    rule(
        layer,
        "tcp-connection-refused",
        "fact: tcp.connect\nequals: refused",
        finding="network.connection_refused",
        area="network",
        extra="confidence: low\n",
    )
    log = tmp_path / "error.txt"
    log.write_text("java.net.ConnectException: Connection refused (Connection refused)\n")
    result = cli("analyze-log", str(log), "--knowledge", str(layer), "--non-interactive", "--format", "json")
    [finding] = json.loads(result.out)["findings"]
    assert finding["id"] == "network.connection_refused"
    assert finding["confidence"] == "low"


def test_a_finding_with_a_shipped_id_overrides_its_contact(tmp_path):
    layer = tmp_path / "layer"
    write(
        layer,
        "findings.yaml",
        """
        findings:
          network.connection_refused:
            title: Refused (our own wording)
            severity: warning
            contact: self
            summary: s
            why: w
            fix: [Check the port yourself.]
            step: 2
    """,
    )
    layered = load_knowledge([layer])
    found = infer(layered, facts_of({"tcp.connect": "refused", "answer.deployment": "cloud"})).findings
    conclusion = next(c for c in found if c.finding == "network.connection_refused")
    assert conclusion.contact == "self"
    assert conclusion.severity == "warning"


def test_a_later_knowledge_directory_overrides_an_earlier_one(tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    for root, confidence in ((first, "medium"), (second, "low")):
        rule(
            root,
            "tcp-connection-refused",
            "fact: tcp.connect\nequals: refused",
            finding="network.connection_refused",
            area="network",
            extra=f"confidence: {confidence}\n",
        )
    layered = load_knowledge([first, second])
    assert layered.roots[1:] == [first, second]
    assert infer(layered, facts_of({"tcp.connect": "refused"})).findings[0].confidence == "low"


def test_the_same_id_twice_in_one_layer_is_an_error_not_an_override(tmp_path):
    from engine.knowledge.model import KnowledgeInvalid

    layer = tmp_path / "layer"
    rule(
        layer,
        "tcp-connection-refused",
        "fact: tcp.connect\nequals: refused",
        finding="network.connection_refused",
        area="a",
    )
    rule(
        layer,
        "tcp-connection-refused",
        "fact: tcp.connect\nequals: reset",
        finding="network.connection_refused",
        area="b",
    )
    with pytest.raises(KnowledgeInvalid) as caught:
        load_knowledge([layer])
    assert any("duplicate rule id 'tcp-connection-refused'" in p.message for p in caught.value.problems)
