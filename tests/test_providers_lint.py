"""`mailtriage knowledge lint` on providers.yaml: each problem as path:line: message, exit 2.

Each test writes an extra knowledge layer holding a broken providers.yaml (or a rule that names a
provider) and lints the shipped knowledge with it, from tmp_path, as a person extending it would.
"""

from __future__ import annotations

from pathlib import Path

from engine.knowledge.load import load_knowledge
from tests.layers import line_of, rule, write
from tests.test_knowledge_lint import assert_problem

GOOD_ENTRY = """
  - id: acme_mail
    name: Acme Mail
    kind: service
    hosts: ['(^|\\.)acme-mail\\.example$']
    banners: ['\\bAcme ESMTP\\b']
    remediation:
      auth.credentials_rejected:
        - "Acme Mail: reset the SMTP password of {{ fact('config.user', 'the account') }} in the Acme console."
    examples:
      hosts: [smtp.acme-mail.example]
      banners: ["220 mx1.acme-mail.example Acme ESMTP ready"]
      no_match: ["220 mail.example.com ESMTP Postfix"]
"""


def providers(root: Path, body: str) -> Path:
    return write(root, "providers.yaml", "providers:\n" + body.strip("\n") + "\n")


def test_a_well_formed_provider_layer_passes_lint_and_is_added_to_the_shipped_ones(cli, extra):
    providers(extra, GOOD_ENTRY)
    result = cli("knowledge", "lint", "--knowledge", str(extra))
    assert result.code == 0, result.err
    kb = load_knowledge([extra])
    assert kb.providers["acme_mail"].name == "Acme Mail"
    assert "microsoft365" in kb.providers


def test_a_bad_regex_in_a_banner_is_reported_at_its_line(extra, lint):
    path = providers(extra, GOOD_ENTRY.replace("'\\bAcme ESMTP\\b'", "'Acme (ESMTP'"))
    err = lint().err
    assert_problem(err, path, line_of(path, "Acme (ESMTP"), "bad regex", "Acme (ESMTP")


def test_a_bad_regex_in_a_host_pattern_is_reported_at_its_line(extra, lint):
    path = providers(extra, GOOD_ENTRY.replace("'(^|\\.)acme-mail\\.example$'", "'[acme'"))
    assert_problem(lint().err, path, line_of(path, "'[acme'"), "bad regex")


def test_remediation_for_an_unknown_finding_is_reported_with_a_did_you_mean(extra, lint):
    path = providers(extra, GOOD_ENTRY.replace("auth.credentials_rejected:", "auth.credential_rejected:"))
    assert_problem(
        lint().err,
        path,
        line_of(path, "auth.credential_rejected:"),
        "unknown finding 'auth.credential_rejected'",
        "did you mean 'auth.credentials_rejected'",
    )


def test_an_example_the_patterns_do_not_recognise_is_reported_at_its_line(extra, lint):
    path = providers(extra, GOOD_ENTRY.replace("mx1.acme-mail.example Acme ESMTP ready", "mx1.acme-mail.example ready"))
    assert_problem(lint().err, path, line_of(path, "mx1.acme-mail.example ready"), "does not recognise its example")


def test_a_no_match_example_the_patterns_recognise_is_reported(extra, lint):
    path = providers(
        extra, GOOD_ENTRY.replace('no_match: ["220 mail.example.com ESMTP Postfix"]', 'no_match: ["220 x Acme ESMTP"]')
    )
    assert_problem(lint().err, path, line_of(path, "no_match:"), "recognises its no_match example")


def test_a_broken_template_in_a_remediation_step_is_reported(extra, lint):
    path = providers(extra, GOOD_ENTRY.replace("{{ fact('config.user', 'the account') }}", "{{ fact('config.user' }}"))
    assert_problem(lint().err, path, line_of(path, "Acme Mail: reset"), "template error")


def test_an_unknown_key_is_reported_with_a_did_you_mean(extra, lint):
    path = providers(extra, GOOD_ENTRY.replace("    banners: ['", "    banner: ['"))
    assert_problem(lint().err, path, line_of(path, "banner: ['"), "unknown key 'banner'", "did you mean 'banners'")


def test_an_entry_without_any_pattern_is_reported(extra, lint):
    body = "\n".join(line for line in GOOD_ENTRY.splitlines() if not line.startswith(("    hosts:", "    banners:")))
    body = body.replace("      hosts: [smtp.acme-mail.example]\n", "").replace(
        '      banners: ["220 mx1.acme-mail.example Acme ESMTP ready"]\n', ""
    )
    path = providers(extra, body)
    assert_problem(lint().err, path, line_of(path, "- id: acme_mail"), "at least one pattern")


def test_an_id_that_is_not_a_lower_case_word_is_reported(extra, lint):
    path = providers(extra, GOOD_ENTRY.replace("id: acme_mail", "id: Acme-Mail"))
    assert_problem(lint().err, path, line_of(path, "id: Acme-Mail"), "providers.0.id", "should match pattern")


def test_two_entries_with_the_same_id_in_one_file_are_a_duplicate(extra, lint):
    path = providers(extra, GOOD_ENTRY + GOOD_ENTRY)
    assert_problem(lint().err, path, line_of(path, "- id: acme_mail", 2), "duplicate provider id 'acme_mail'")


def test_a_rule_testing_an_unknown_provider_id_is_reported_with_a_did_you_mean(extra, lint):
    path = rule(
        extra,
        "my-rule",
        """
        fact: provider.service
        equals: gmial
    """,
    )
    assert_problem(lint().err, path, line_of(path, "equals: gmial"), "'gmial' is not a service", "did you mean 'gmail'")


def test_a_rule_testing_software_under_provider_service_is_reported(extra, lint):
    path = rule(
        extra,
        "my-rule",
        """
        fact: provider.service
        one_of: [gmail, postfix]
    """,
    )
    assert_problem(lint().err, path, line_of(path, "one_of:"), "'postfix' is not a service")


def test_a_rule_case_with_an_unknown_provider_id_is_reported(extra, lint):
    rule(
        extra,
        "my-rule",
        """
        fact: provider.service
        equals: gmail
    """,
        cases="""
        cases:
          - {name: fires, facts: {provider.service: gmail}, expect: fire}
          - {name: stays silent, facts: {provider.service: sendgird}, expect: silent}
    """,
    )
    path = extra / "rules/custom/my-rule.test.yaml"
    assert_problem(lint().err, path, line_of(path, "sendgird"), "did you mean 'sendgrid'")


def test_the_shipped_providers_pass_lint(cli):
    result = cli("knowledge", "lint")
    assert result.code == 0, result.err
