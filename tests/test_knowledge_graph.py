"""`mailtriage knowledge graph` draws the tree the rules form, and lint reads it: an unreachable
finding fails, a fact nothing reads and a question that can never matter are warned about."""

from __future__ import annotations

import html5lib

from engine.knowledge.graph import build
from tests.layers import line_of, rule, write


def test_the_mermaid_graph_links_facts_to_rules_to_findings_to_contacts(cli, kb):
    text = cli("knowledge", "graph").out
    assert text.splitlines()[1] == "flowchart LR"
    assert "  fact_tcp_connect --> rule_tcp_connection_refused" in text
    assert "  rule_tcp_connection_refused --> finding_network_connection_refused" in text
    # A contact chosen by an answer is labelled with the answer.
    assert '  finding_network_connection_refused -- "deployment = vendor_cloud" --> contact_cloud_support' in text
    # A rule built on another finding, and a rule that rules a finding out.
    assert "finding_network_connection_refused -. builds on .-> rule_works_from_another_machine" in text
    assert "-. rules out .-> finding_network_connection_timeout" in text
    for ident in [*kb.rules, *kb.findings]:
        assert ident.replace("-", "_").replace(".", "_") in text, ident


def test_the_html_graph_is_one_well_formed_file_that_shows_every_finding(cli, kb, tmp_path):
    out = tmp_path / "tree.html"
    result = cli("knowledge", "graph", "--output", str(out))
    assert result.code == 0 and result.out == f"graph written to {out}\n"
    page = out.read_text(encoding="utf-8")
    html5lib.HTMLParser(strict=True).parse(page)
    graph = build(kb)
    for finding in kb.findings:
        assert f'id="finding_{finding.replace(".", "_")}"' in page, finding
    nodes = page.count('<g class="node')
    contacts = {who for routes in graph.contacts.values() for _, _, who in routes}
    assert nodes == len(graph.facts) + len(graph.rules) + len(kb.findings) + len(contacts)
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")  # nothing to fetch
    assert "<script src" not in page and "<link" not in page


def test_lint_fails_on_a_finding_that_no_rule_concludes(cli, tmp_path):
    layer = tmp_path / "layer"
    path = write(
        layer,
        "findings.yaml",
        """
        findings:
          custom.orphan:
            title: Nothing leads here
            severity: error
            contact: application_admin
            summary: s
            why: w
            fix: [f]
            step: 2
        """,
    )
    result = cli("knowledge", "lint", "--knowledge", str(layer))
    assert result.code == 2
    assert (
        f"{path}:{line_of(path, 'custom.orphan:')}: finding 'custom.orphan' is unreachable: no rule concludes it"
        in result.err
    )
    rule(layer, "custom-orphan-found", "fact: tcp.connect\nequals: refused", finding="custom.orphan")
    assert cli("knowledge", "lint", "--knowledge", str(layer)).code == 0


def test_lint_warns_about_a_fact_nothing_reads_and_a_question_that_can_never_matter(cli, tmp_path):
    layer = tmp_path / "layer"
    facts = write(
        layer,
        "facts.yaml",
        """
        facts:
          custom.unread:
            type: str
            description: recorded, but nothing reads it
          custom.shown:
            type: str
            description: shown in the report only
            report_only: true
        """,
    )
    questions = write(
        layer,
        "questions/idle.yaml",
        """
        questions:
          - id: idle_curiosity
            text: Which operating system does the server run?
            why: Nothing reads it yet.
            kind: yes_no
            when: {finding: network.connection_refused}
        """,
    )
    result = cli("knowledge", "lint", "--knowledge", str(layer))
    assert result.code == 0, result.err
    assert f"{facts}:{line_of(facts, 'custom.unread:')}: warning: fact 'custom.unread' is read by no rule" in result.err
    assert "custom.shown" not in result.err
    assert (
        f"{questions}:{line_of(questions, 'id: idle_curiosity')}: warning: question 'idle_curiosity' can never be "
        "worth asking" in result.err
    )
    shipped = cli("knowledge", "lint")
    assert "warning: fact" not in shipped.err and "warning: question" not in shipped.err
