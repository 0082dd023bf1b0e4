"""`mailtriage knowledge lint` and `knowledge test`: every problem as path:line: message.

The CLI always loads the shipped knowledge and layers each --knowledge DIR over it, so each test
writes a small extra layer holding the broken file and lints it. The tests run from tmp_path, so
the CLI prints the layer's paths relative to it ("extra/rules/...").
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from engine.knowledge.load import load_knowledge
from engine.knowledge.model import KnowledgeInvalid, shipped_root
from tests.layers import line_of, rule, write


def problems(err: str) -> list[str]:
    return [line for line in err.splitlines() if not line.startswith("mailtriage:")]


def assert_problem(err: str, path: Path, line: int, *fragments: str) -> None:
    """One stderr line is 'path:line: message' holding every fragment."""
    prefix = f"{path}:{line}: "
    candidates = [p for p in problems(err) if p.startswith(prefix)]
    assert candidates, f"no problem at {prefix!r} in:\n{err}"
    assert any(all(f in p for f in fragments) for p in candidates), (
        f"no problem at {prefix!r} with {fragments} in:\n{err}"
    )


# --- names ---------------------------------------------------------------------------------------


def test_an_unknown_fact_is_reported_at_its_line_with_a_did_you_mean(extra, lint):
    path = rule(
        extra,
        "my-rule",
        """
        fact: tcp.conect
        equals: refused
    """,
    )
    err = lint().err
    assert_problem(err, path, line_of(path, "tcp.conect"), "unknown fact 'tcp.conect'", "(did you mean 'tcp.connect'?)")


def test_an_unknown_fact_deep_in_a_condition_is_reported_at_its_own_line(extra, lint):
    path = rule(
        extra,
        "my-rule",
        """
        all:
          - fact: tcp.connect
            equals: refused
          - any:
              - fact: config.prot
                equals: 25
    """,
    )
    err = lint().err
    assert_problem(err, path, line_of(path, "config.prot"), "unknown fact 'config.prot'", "'config.port'")


def test_an_unknown_finding_is_reported_at_its_line_with_a_did_you_mean(extra, lint):
    path = rule(extra, "my-rule", "fact: tcp.connect\nequals: refused", finding="network.conection_refused")
    err = lint().err
    assert_problem(
        err,
        path,
        line_of(path, "finding:"),
        "unknown finding 'network.conection_refused'",
        "(did you mean 'network.connection_refused'?)",
    )


def test_an_unknown_finding_in_a_condition_is_reported_at_its_line(extra, lint):
    path = rule(
        extra,
        "my-rule",
        """
        all:
          - fact: tcp.connect
            equals: refused
          - finding: dns.host_not_fond
    """,
    )
    err = lint().err
    assert_problem(
        err, path, line_of(path, "dns.host_not_fond"), "unknown finding 'dns.host_not_fond'", "'dns.host_not_found'"
    )


def test_an_unknown_fact_in_a_rule_case_is_reported_at_its_line(extra, lint):
    rule(
        extra,
        "my-rule",
        "fact: tcp.connect\nequals: refused",
        cases="""
        cases:
          - name: fires
            facts: {tcp.conect: refused}
            expect: fire
          - name: silent
            expect: silent
    """,
    )
    test_file = extra / "rules/custom/my-rule.test.yaml"
    err = lint().err
    assert_problem(err, test_file, line_of(test_file, "tcp.conect"), "unknown fact 'tcp.conect'", "'tcp.connect'")


# --- regexes -------------------------------------------------------------------------------------


def test_a_bad_regex_in_a_rule_is_reported_at_the_matches_line(extra, lint):
    path = rule(
        extra,
        "my-rule",
        """
        all:
          - fact: tcp.connect
            equals: refused
          - fact: config.host
            matches: 'smtp\\.(example'
    """,
    )
    err = lint().err
    assert_problem(err, path, line_of(path, "matches:"), "bad regex", "smtp\\\\.(example")


def test_a_bad_regex_in_a_signature_pattern_is_reported_at_the_pattern_line(extra, lint):
    path = write(
        extra,
        "signatures/s.yaml",
        """
        signatures:
          - id: broken-pattern
            description: a pattern with an unbalanced group
            pattern: 'Connection (refused'
            facts:
              tcp.connect: refused
            examples:
              match: ["Connection (refused"]
              no_match: ["all fine"]
    """,
    )
    err = lint().err
    assert_problem(err, path, line_of(path, "pattern:"), "bad regex", "Connection (refused")


def test_matches_on_a_number_fact_is_reported(extra, lint):
    path = rule(extra, "my-rule", "fact: config.port\nmatches: '^58'")
    err = lint().err
    assert_problem(err, path, line_of(path, "matches:"), "'matches' needs a text fact", "config.port")


# --- ids and files -------------------------------------------------------------------------------


def test_two_rule_files_with_the_same_id_in_different_areas_are_a_duplicate(extra, lint):
    first = rule(extra, "twin-rule", "fact: tcp.connect\nequals: refused", area="alpha")
    second = rule(extra, "twin-rule", "fact: tcp.connect\nequals: timeout", area="beta")
    err = lint().err
    assert_problem(err, second, 1, "duplicate rule id 'twin-rule'", f"first defined at {first}:1")


def test_two_questions_with_the_same_id_are_a_duplicate(extra, lint):
    path = write(
        extra,
        "questions/q.yaml",
        """
        questions:
          - id: os_family
            text: Which operating system does the application server run?
            why: The commands to try differ.
            kind: text
            when: {finding: network.connection_refused}
          - id: os_family
            text: Again?
            why: A copy-paste mistake.
            kind: text
            when: {finding: network.connection_timeout}
    """,
    )
    err = lint().err
    assert_problem(
        err,
        path,
        line_of(path, "- id: os_family", 2),
        "duplicate question id 'os_family'",
        f"first defined at {path}:{line_of(path, '- id: os_family')}",
    )


def test_a_rule_whose_id_does_not_match_its_file_name_is_reported_at_the_id_line(extra, lint):
    path = write(
        extra,
        "rules/custom/myrule.yaml",
        """
        # the file is myrule.yaml, the id says my-rule
        id: my-rule
        description: misnamed
        finding: network.connection_refused
        when: {fact: tcp.connect, equals: refused}
    """,
    )
    write(
        extra,
        "rules/custom/myrule.test.yaml",
        """
        rule: my-rule
        cases:
          - {name: fires, facts: {tcp.connect: refused}, expect: fire}
          - {name: silent, facts: {tcp.connect: ok}, expect: silent}
    """,
    )
    err = lint().err
    assert_problem(err, path, line_of(path, "id: my-rule"), "rule id 'my-rule' does not match its file name", "myrule")


def test_a_rule_test_file_named_after_another_rule_is_reported(extra, lint):
    rule(extra, "my-rule", "fact: tcp.connect\nequals: refused")
    path = write(
        extra,
        "rules/custom/other-rule.test.yaml",
        """
        rule: my-rule
        cases:
          - {name: fires, expect: fire}
          - {name: silent, expect: silent}
    """,
    )
    err = lint().err
    assert_problem(err, path, line_of(path, "rule: my-rule"), "must be named 'my-rule.test.yaml'")


# --- types and values ----------------------------------------------------------------------------


def test_a_text_value_for_an_int_fact_is_a_type_error_at_its_line(extra, lint):
    path = rule(
        extra,
        "my-rule",
        """
        all:
          - fact: tcp.connect
            equals: refused
          - fact: config.port
            equals: "abc"
    """,
    )
    err = lint().err
    assert_problem(err, path, line_of(path, '"abc"'), "fact 'config.port' is int", "'abc' is str")


def test_a_boolean_value_for_an_int_fact_is_a_type_error(extra, lint):
    path = rule(extra, "my-rule", "fact: config.port\nequals: true")
    err = lint().err
    assert_problem(err, path, line_of(path, "equals: true"), "fact 'config.port' is int", "True is bool")


def test_a_number_for_a_bool_fact_is_a_type_error(extra, lint):
    path = rule(extra, "my-rule", "fact: dns.resolved\nequals: 1")
    err = lint().err
    assert_problem(err, path, line_of(path, "equals: 1"), "fact 'dns.resolved' is bool", "1 is int")


def test_an_unknown_confidence_is_reported_at_its_line(extra, lint):
    path = rule(extra, "my-rule", "fact: tcp.connect\nequals: refused", extra="confidence: sure\n")
    err = lint().err
    assert_problem(err, path, line_of(path, "confidence: sure"), "confidence", "'high'", "'medium'", "'low'")


def test_a_value_that_is_not_one_of_the_facts_choices_is_reported_with_a_did_you_mean(extra, lint):
    path = rule(extra, "my-rule", "fact: tcp.connect\nequals: refsued")
    err = lint().err
    assert_problem(
        err,
        path,
        line_of(path, "refsued"),
        "'refsued' is not a value of 'tcp.connect'",
        "(did you mean 'refused'?)",
        "choices: ok, refused",
    )


def test_a_value_outside_the_choices_in_one_of_is_reported(extra, lint):
    path = rule(extra, "my-rule", "fact: config.security\none_of: [starttls, tls]")
    err = lint().err
    assert_problem(err, path, line_of(path, "one_of:"), "'tls' is not a value of 'config.security'")


def test_an_answer_value_outside_the_questions_choices_is_reported(extra, lint):
    path = rule(
        extra,
        "my-rule",
        """
        all:
          - finding: network.connection_refused
          - fact: answer.deployment
            equals: onprem
    """,
    )
    err = lint().err
    assert_problem(err, path, line_of(path, "onprem"), "'onprem' is not a value of 'answer.deployment'")


def test_a_number_operator_on_a_text_fact_is_reported(extra, lint):
    path = rule(extra, "my-rule", "fact: tcp.connect\ngt: 3")
    err = lint().err
    assert_problem(err, path, line_of(path, "gt: 3"), "'gt' needs a number fact", "tcp.connect")


# --- shape ---------------------------------------------------------------------------------------


def test_a_yaml_syntax_error_is_reported_at_its_line(extra, lint):
    path = write(
        extra,
        "rules/custom/my-rule.yaml",
        """
        id: my-rule
        description: a rule with a broken flow sequence
        finding: network.connection_refused
        when:
          fact: tcp.connect
          one_of: [refused, timeout
        confidence: high
    """,
    )
    err = lint().err
    assert_problem(err, path, line_of(path, "confidence: high"), "YAML syntax")


def test_an_unknown_top_level_key_is_reported_with_a_did_you_mean(extra, lint):
    path = write(
        extra,
        "rules/custom/my-rule.yaml",
        """
        id: my-rule
        description: a typo in 'when'
        finding: network.connection_refused
        whne:
          fact: tcp.connect
          equals: refused
    """,
    )
    write(
        extra,
        "rules/custom/my-rule.test.yaml",
        """
        rule: my-rule
        cases:
          - {name: fires, expect: fire}
          - {name: silent, expect: silent}
    """,
    )
    err = lint().err
    assert_problem(err, path, line_of(path, "whne:"), "unknown key 'whne'", "(did you mean 'when'?)")


def test_a_key_spelled_like_a_condition_tag_is_reported_as_an_unknown_key(extra, lint):
    # pydantic names a union member "<any>" in an error's location; a key written so is the user's.
    path = write(
        extra,
        "rules/custom/my-rule.yaml",
        """
        id: my-rule
        description: a key that looks like a tag
        finding: network.connection_refused
        "<any>": 1
        when:
          fact: tcp.connect
          equals: refused
    """,
    )
    err = lint().err
    assert_problem(err, path, line_of(path, '"<any>":'), "unknown key '<any>'")


def test_an_unknown_key_inside_a_condition_is_reported_with_the_operators_as_suggestions(extra, lint):
    path = rule(
        extra,
        "my-rule",
        """
        all:
          - fact: tcp.connect
            equls: refused
    """,
    )
    err = lint().err
    assert_problem(err, path, line_of(path, "equls:"), "unknown key 'equls'", "(did you mean 'equals'?)")


def test_a_duplicate_key_is_reported_at_the_repeat(extra, lint):
    path = write(
        extra,
        "rules/custom/my-rule.yaml",
        """
        id: my-rule
        description: the finding is given twice
        finding: network.connection_refused
        finding: network.connection_timeout
        when: {fact: tcp.connect, equals: refused}
    """,
    )
    write(
        extra,
        "rules/custom/my-rule.test.yaml",
        "rule: my-rule\ncases:\n  - {name: a, expect: fire}\n  - {name: b, expect: silent}\n",
    )
    err = lint().err
    assert_problem(err, path, line_of(path, "network.connection_timeout"), "duplicate key 'finding'")


def test_a_fact_test_with_two_operators_is_reported(extra, lint):
    path = rule(extra, "my-rule", "fact: tcp.connect\nequals: refused\none_of: [timeout]")
    err = lint().err
    assert_problem(err, path, line_of(path, "when:"), "exactly one of", "equals, one_of")


# --- signatures ----------------------------------------------------------------------------------

SIGNATURE = """
    signatures:
      - id: greylisted
        description: The server greylists the first attempt.
        pattern: '451 4\\.7\\.1 .*greylist'
        ignore_case: true
        facts:
          tcp.connect: ok
        examples:
          match:
            - "451 4.7.1 Greylisted, please try again later"
            - "{match}"
          no_match:
            - "451 4.3.0 Temporary local problem"
            - "{no_match}"
"""


def test_a_signature_that_does_not_match_its_example_is_reported_at_the_example(extra, lint):
    path = write(extra, "signatures/s.yaml", SIGNATURE.format(match="450 4.7.1 greylisted", no_match="nothing"))
    err = lint().err
    assert_problem(
        err,
        path,
        line_of(path, "450 4.7.1 greylisted"),
        "signature 'greylisted' does not match its example",
        "450 4.7.1 greylisted",
    )


def test_a_signature_that_matches_its_no_match_example_is_reported_at_the_example(extra, lint):
    path = write(
        extra,
        "signatures/s.yaml",
        SIGNATURE.format(match="451 4.7.1 greylisting", no_match="451 4.7.1 GREYLIST active"),
    )
    err = lint().err
    assert_problem(
        err,
        path,
        line_of(path, "GREYLIST active"),
        "signature 'greylisted' matches its no_match example",
        "GREYLIST active",
    )


def test_a_signature_fact_taking_an_undefined_group_is_reported(extra, lint):
    path = write(
        extra,
        "signatures/s.yaml",
        """
        signatures:
          - id: host-named
            description: names the host
            pattern: 'host (?P<name>\\S+)'
            facts:
              config.host: "{host}"
            examples:
              match: ["host smtp.example.com"]
              no_match: ["port 25"]
    """,
    )
    err = lint().err
    assert any(p.startswith(f"{path}:") and "group 'host'" in p for p in problems(err)), err


# --- rule tests ----------------------------------------------------------------------------------


def test_a_rule_without_a_test_file_is_reported(extra, lint):
    path = write(
        extra,
        "rules/custom/untested.yaml",
        """
        id: untested
        description: nobody wrote its cases
        finding: network.connection_refused
        when: {fact: tcp.connect, equals: refused}
    """,
    )
    err = lint().err
    assert_problem(err, path, 1, "rule 'untested' has no test file", "untested.test.yaml")


def test_a_test_file_without_a_silent_case_is_reported(extra, lint):
    rule(
        extra,
        "my-rule",
        "fact: tcp.connect\nequals: refused",
        cases="""
        cases:
          - {name: refused, facts: {tcp.connect: refused}, expect: fire}
    """,
    )
    test_file = extra / "rules/custom/my-rule.test.yaml"
    err = lint().err
    assert_problem(err, test_file, 1, "rule 'my-rule' needs a case with expect: silent")


def test_a_todo_silent_case_does_not_count_as_the_silent_case(extra, lint):
    rule(
        extra,
        "my-rule",
        "fact: tcp.connect\nequals: refused",
        cases="""
        cases:
          - {name: refused, facts: {tcp.connect: refused}, expect: fire}
          - {name: gap, facts: {tcp.connect: ok}, expect: silent, todo: not written yet}
    """,
    )
    err = lint().err
    assert "rule 'my-rule' needs a case with expect: silent" in err


# --- scenarios, questions, findings --------------------------------------------------------------


def test_an_unknown_question_in_a_scenarios_answers_is_reported_at_the_answer(extra, lint):
    path = write(
        extra,
        "scenarios/s.yaml",
        """
        scenarios:
          - id: refused-typo
            description: an answers key with a typo
            facts: {tcp.connect: refused}
            answers:
              deploymnet: cloud
            expect:
              first: network.connection_refused
    """,
    )
    err = lint().err
    assert_problem(
        err, path, line_of(path, "deploymnet"), "unknown question 'deploymnet'", "(did you mean 'deployment'?)"
    )


def test_an_answer_that_is_not_a_choice_in_a_scenario_is_reported(extra, lint):
    path = write(
        extra,
        "scenarios/s.yaml",
        """
        scenarios:
          - id: refused-bad-answer
            description: an answer the question does not offer
            facts: {tcp.connect: refused}
            answers: {deployment: hybrid}
            expect: {first: network.connection_refused}
    """,
    )
    err = lint().err
    assert any(p.startswith(f"{path}:") and "'hybrid' is not an answer to 'deployment'" in p for p in problems(err)), (
        err
    )


def test_an_unknown_finding_in_a_scenarios_expectation_is_reported(extra, lint):
    path = write(
        extra,
        "scenarios/s.yaml",
        """
        scenarios:
          - id: refused
            description: expects a finding that does not exist
            facts: {tcp.connect: refused}
            expect: {first: network.refused}
    """,
    )
    err = lint().err
    assert any(p.startswith(f"{path}:") and "unknown finding 'network.refused'" in p for p in problems(err)), err


def test_an_unknown_fact_in_a_question_condition_is_reported(extra, lint):
    path = write(
        extra,
        "questions/q.yaml",
        """
        questions:
          - id: proxy
            text: Is there a proxy?
            why: Proxies hold connections.
            kind: yes_no
            when:
              fact: tcp.conect
              equals: ok
    """,
    )
    err = lint().err
    assert_problem(err, path, line_of(path, "tcp.conect"), "unknown fact 'tcp.conect'")


def test_a_fix_step_with_a_jinja_syntax_error_is_reported_at_the_step(extra, lint):
    path = write(
        extra,
        "findings.yaml",
        """
        findings:
          custom.broken_template:
            title: A finding with a broken fix step
            severity: warning
            contact: self
            summary: s
            why: w
            fix:
              - "This step is fine: {{ fact('config.host', 'HOST') }}."
              - "This one is not closed: {{ fact('config.port', 'PORT') }."
            step: 1
    """,
    )
    err = lint().err
    assert_problem(
        err, path, line_of(path, "is not closed"), "finding 'custom.broken_template' fix step: template error"
    )


def test_a_routing_case_that_is_not_a_value_of_its_fact_is_reported(extra, lint):
    path = write(
        extra,
        "findings.yaml",
        """
        findings:
          custom.routed:
            title: Routed by deployment
            severity: error
            contact:
              by: answer.deployment
              cases: {on_prem: network_admin, cloud: cloud_support}
              otherwise: self
            summary: s
            why: w
            fix: [do it]
            step: 2
    """,
    )
    err = lint().err
    assert any(p.startswith(f"{path}:") and "routing case 'on_prem'" in p for p in problems(err)), err


# --- everything at once --------------------------------------------------------------------------


def test_several_broken_files_are_all_reported_in_one_run_with_a_count_at_the_end(extra, lint):
    bad_rule = rule(extra, "my-rule", "fact: tcp.conect\nequals: refused", finding="custom.broken_template")
    bad_signature = write(extra, "signatures/s.yaml", SIGNATURE.format(match="nothing like it", no_match="nothing"))
    bad_findings = write(
        extra,
        "findings.yaml",
        """
        findings:
          custom.broken_template:
            title: t
            severity: info
            contact: self
            summary: s
            why: w
            fix: ["{% if %}"]
            step: 1
    """,
    )
    bad_scenario = write(
        extra,
        "scenarios/s.yaml",
        """
        scenarios:
          - id: wrong
            description: d
            facts: {tcp.connect: refused}
            expect: {first: network.refused}
    """,
    )
    err = lint().err
    found = problems(err)
    assert len(found) == 4, err
    assert {Path(p.split(":", 1)[0]) for p in found} == {bad_rule, bad_signature, bad_findings, bad_scenario}
    assert err.splitlines()[-1] == "mailtriage: 4 problems in the knowledge files"


def test_a_yaml_error_in_one_file_does_not_hide_the_problems_of_the_others(extra, lint):
    broken_yaml = write(extra, "questions/q.yaml", "questions:\n  - id: x\n\ttext: tabbed\n")
    unknown_fact = rule(extra, "my-rule", "fact: tcp.conect\nequals: refused")
    err = lint().err
    assert_problem(err, broken_yaml, 3, "YAML syntax")
    assert_problem(err, unknown_fact, line_of(unknown_fact, "tcp.conect"), "unknown fact 'tcp.conect'")
    assert err.splitlines()[-1] == "mailtriage: 2 problems in the knowledge files"


def test_a_missing_knowledge_directory_is_bad_input(cli, tmp_path):
    result = cli("knowledge", "lint", "--knowledge", str(tmp_path / "nope"))
    assert result.code == 2
    assert "knowledge directory not found" in result.err
    assert "Traceback" not in result.err


# --- a broken shipped base -----------------------------------------------------------------------


@pytest.fixture
def shipped_copy(tmp_path) -> Path:
    copy = tmp_path / "knowledge"
    shutil.copytree(shipped_root(), copy)
    return copy


def test_a_copy_of_the_shipped_knowledge_loads_as_a_base(shipped_copy):
    kb = load_knowledge(base=shipped_copy)
    assert "tcp-connection-refused" in kb.rules
    assert kb.roots == [shipped_copy]


def test_a_typo_in_a_shipped_rule_is_reported_at_its_line(shipped_copy):
    path = shipped_copy / "rules/network/tcp-connection-refused.yaml"
    path.write_text(path.read_text().replace("fact: tcp.connect", "fact: tcp.conect"))
    with pytest.raises(KnowledgeInvalid) as caught:
        load_knowledge(base=shipped_copy)
    [problem] = caught.value.problems
    assert problem.path == path
    assert problem.line == line_of(path, "tcp.conect")
    assert "did you mean 'tcp.connect'?" in problem.message


def test_removing_a_fact_declaration_reports_every_use_of_it(shipped_copy):
    facts = shipped_copy / "facts.yaml"
    text = facts.read_text()
    facts.write_text(re.sub(r"  tcp\.connect:\n(    .*\n)+", "", text))
    with pytest.raises(KnowledgeInvalid) as caught:
        load_knowledge(base=shipped_copy)
    paths = {p.path.name for p in caught.value.problems if "unknown fact 'tcp.connect'" in p.message}
    assert {"tcp-connection-refused.yaml", "tcp-connection-timeout.yaml", "network.yaml"} <= paths


def test_deleting_a_shipped_test_file_is_reported(shipped_copy):
    (shipped_copy / "rules/dns/dns-host-resolves.test.yaml").unlink()
    with pytest.raises(KnowledgeInvalid) as caught:
        load_knowledge(base=shipped_copy)
    assert any("rule 'dns-host-resolves' has no test file" in p.message for p in caught.value.problems)


# --- the shipped knowledge is clean, and `knowledge test` runs its cases -------------------------


def test_lint_passes_on_the_shipped_knowledge(cli):
    result = cli("knowledge", "lint")
    assert result.code == 0, result.err
    assert result.out.startswith("knowledge OK:")
    assert result.err == ""


def test_the_shipped_rule_cases_and_scenarios_all_pass(cli, kb):
    result = cli("knowledge", "test")
    assert result.code == 0, result.out
    last = result.out.splitlines()[-1]
    match = re.fullmatch(r"(\d+) passed, 0 failed(?:, (\d+) todo)?", last)
    assert match, last
    # Known gaps (todo) are counted apart; together they are every case and scenario.
    todo = sum(c.todo is not None for t in kb.rule_tests.values() for c in t.cases)
    todo += sum(sc.todo is not None for sc in kb.scenarios.values())
    assert int(match.group(2) or 0) == todo
    cases = sum(len(t.cases) for t in kb.rule_tests.values()) + len(kb.scenarios)
    assert int(match.group(1)) + todo == cases


def test_a_rule_case_that_fails_makes_knowledge_test_exit_1_naming_the_case(cli, extra):
    rule(
        extra,
        "my-rule",
        "fact: tcp.connect\nequals: refused",
        finding="network.connection_refused",
        cases="""
        cases:
          - {name: refused fires, facts: {tcp.connect: refused}, expect: fire}
          - {name: timeout fires too, facts: {tcp.connect: timeout}, expect: fire}
          - {name: ok stays silent, facts: {tcp.connect: ok}, expect: silent}
    """,
    )
    result = cli("knowledge", "test", "--knowledge", str(extra))
    assert result.code == 1, result.out
    [failure] = [line for line in result.out.splitlines() if line.startswith("FAIL")]
    assert "my-rule: timeout fires too" in failure
    assert "did not fire" in failure
    test_file = extra / "rules/custom/my-rule.test.yaml"
    case_line = next(i for i, line in enumerate(test_file.read_text().splitlines(), 1) if "timeout fires too" in line)
    assert f"{test_file}:{case_line}]" in failure  # the failing case's own line, not the file's first
    assert re.fullmatch(r"\d+ passed, 1 failed(, \d+ todo)?", result.out.splitlines()[-1])


def test_a_case_that_fires_when_it_must_not_is_named_as_such(cli, extra):
    rule(
        extra,
        "my-rule",
        "fact: tcp.connect\none_of: [refused, ok]",
        cases="""
        cases:
          - {name: refused fires, facts: {tcp.connect: refused}, expect: fire}
          - {name: ok is silent, facts: {tcp.connect: ok}, expect: silent}
    """,
    )
    result = cli("knowledge", "test", "--knowledge", str(extra))
    assert result.code == 1
    assert any("my-rule: ok is silent" in line and "fired, but must not" in line for line in result.out.splitlines())


def test_a_todo_case_that_fails_does_not_fail_the_run(cli, extra, kb):
    rule(
        extra,
        "my-rule",
        "fact: tcp.connect\nequals: refused",
        cases="""
        cases:
          - {name: refused fires, facts: {tcp.connect: refused}, expect: fire}
          - {name: ok stays silent, facts: {tcp.connect: ok}, expect: silent}
          - {name: reset should fire, facts: {tcp.connect: reset}, expect: fire, todo: resets are not handled yet}
    """,
    )
    result = cli("knowledge", "test", "--knowledge", str(extra))
    assert result.code == 0, result.out
    [gap] = [line for line in result.out.splitlines() if "reset should fire" in line]
    assert gap.startswith("todo ")
    assert "resets are not handled yet" in gap
    shipped = sum(sc.todo is not None for sc in kb.scenarios.values())
    shipped += sum(c.todo is not None for t in kb.rule_tests.values() for c in t.cases)
    assert re.fullmatch(rf"\d+ passed, 0 failed, {shipped + 1} todo", result.out.splitlines()[-1])


def test_a_failing_scenario_makes_knowledge_test_exit_1_naming_it(cli, extra):
    write(
        extra,
        "scenarios/s.yaml",
        """
        scenarios:
          - id: wrongly-expected
            description: a refusal is not a timeout
            facts: {tcp.connect: refused}
            expect: {first: network.connection_timeout}
    """,
    )
    result = cli("knowledge", "test", "--knowledge", str(extra))
    assert result.code == 1
    [failure] = [line for line in result.out.splitlines() if line.startswith("FAIL")]
    assert "scenario wrongly-expected" in failure
    assert "expected first finding network.connection_timeout, got network.connection_refused" in failure
