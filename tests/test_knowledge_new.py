"""From an error text mailtriage did not recognise to a rule that concludes it: `knowledge new
signature` drafts the signature, its fact and the rule with their tests into a layer, and lint,
test and analyze-log accept them at once."""

from __future__ import annotations

import re

import pytest

from engine.knowledge.draft import generalise, pick_line

# A provider's refusal no shipped signature knows (its words are made up for this test).
UNKNOWN = (
    "2026-11-30 08:14:03 ERROR [mail-sender-3] Sending failed\n"
    "com.example.mail.SendException: 554 5.7.1 Sender account billing@corp.example is suspended by "
    "Acme Mail policy (case AB12CD34EF) - see https://help.acme-mail.example/suspended\n"
)


def test_the_draft_keeps_the_words_and_widens_what_varies():
    line = pick_line(UNKNOWN)
    assert line.startswith("com.example.mail.SendException: 554 5.7.1")
    pattern = generalise(line)
    assert "com\\.example\\.mail\\.SendException" in pattern and "5\\.7\\.1" in pattern
    assert "billing" not in pattern and "AB12CD34EF" not in pattern and "acme-mail.example" not in pattern
    other = line.replace("billing@corp.example", "orders@shop.example").replace("AB12CD34EF", "ZZ99YY88XX")
    assert re.search(pattern, other)
    assert not re.search(pattern, line.replace("suspended", "active"))


def test_an_unrecognised_text_becomes_a_passing_rule_through_knowledge_new(cli, tmp_path):
    text = tmp_path / "error.txt"
    text.write_text(UNKNOWN, encoding="utf-8")
    layer = tmp_path / "layer"
    before = cli("analyze-log", str(text), "--non-interactive", "--format", "json")
    assert "sender.not_registered" not in before.out

    made = cli(
        "knowledge", "new", "signature", "--from-text", str(text), "--finding", "sender.not_registered",
        "--knowledge", str(layer),
    )  # fmt: skip
    assert made.code == 0, made.err
    written = sorted(p.relative_to(layer).as_posix() for p in layer.rglob("*.yaml"))
    assert written == [
        "facts.yaml",
        "rules/sender/draft-sender-not-registered-1.test.yaml",
        "rules/sender/draft-sender-not-registered-1.yaml",
        "signatures/draft-sender-not-registered-1.yaml",
    ]
    assert f"mailtriage knowledge lint --knowledge {layer}" in made.out
    assert cli("knowledge", "lint", "--knowledge", str(layer)).code == 0
    tested = cli("knowledge", "test", "--knowledge", str(layer))
    assert tested.code == 0, tested.out
    after = cli("analyze-log", str(text), "--knowledge", str(layer), "--non-interactive", "--format", "json")
    assert after.code == 1
    assert "sender.not_registered" in after.out


def test_a_second_draft_for_the_same_finding_gets_its_own_id_and_shares_the_facts_file(cli, tmp_path):
    layer = tmp_path / "layer"
    for i, words in enumerate(("is suspended by Acme Mail policy", "was frozen by Acme Mail review")):
        text = tmp_path / f"error{i}.txt"
        text.write_text(f"com.example.mail.SendException: 554 5.7.1 Sender {words}\n", encoding="utf-8")
        made = cli(
            "knowledge", "new", "signature", "--from-text", str(text), "--finding", "sender.not_registered",
            "--knowledge", str(layer),
        )  # fmt: skip
        assert made.code == 0, made.err
    assert (layer / "signatures" / "draft-sender-not-registered-2.yaml").is_file()
    assert cli("knowledge", "lint", "--knowledge", str(layer)).code == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--finding", "no.such_finding"], "unknown finding 'no.such_finding'"),
        (["--finding", "sender.not_registered", "--from-text", "/nonexistent/error.txt"], "cannot read"),
    ],
)
def test_bad_input_to_knowledge_new_is_one_line_and_exit_2(cli, tmp_path, args, message):
    text = tmp_path / "error.txt"
    text.write_text(UNKNOWN, encoding="utf-8")
    argv = ["knowledge", "new", "signature", "--from-text", str(text), *args, "--knowledge", str(tmp_path / "l")]
    result = cli(*argv)
    assert result.code == 2
    assert len(result.err.strip().splitlines()) == 1 and message in result.err


def test_knowledge_new_needs_the_layer_to_write_into(cli, tmp_path):
    text = tmp_path / "error.txt"
    text.write_text(UNKNOWN, encoding="utf-8")
    result = cli("knowledge", "new", "signature", "--from-text", str(text), "--finding", "sender.not_registered")
    assert result.code == 2 and "--knowledge DIR" in result.err


def test_the_report_of_an_unexplained_failure_names_knowledge_new_with_the_text_s_file(cli, tmp_path):
    text = tmp_path / "error.txt"
    text.write_text("com.example.mail.SendException: 554 5.7.1 Sender account is suspended\n", encoding="utf-8")
    report = cli("analyze-log", str(text), "--non-interactive", "--format", "md").out
    assert f"mailtriage knowledge new signature --from-text {text} --finding ID --knowledge DIR" in report
    unknown = tmp_path / "weather.txt"
    unknown.write_text("The weather is fine today.\n", encoding="utf-8")
    report = cli("analyze-log", str(unknown), "--non-interactive").out
    assert f"mailtriage knowledge new signature --from-text {unknown} --finding ID --knowledge DIR" in report


def test_a_finding_comes_with_the_rule_that_reaches_it_and_a_question_with_its_condition(cli, tmp_path):
    layer = str(tmp_path / "layer")
    finding = cli(
        "knowledge", "new", "finding", "--id", "sender.suspended", "--title", "The sending account is suspended",
        "--contact", "email_provider", "--when", "smtp.failure=closed", "--when", "smtp.stage=auth",
        "--knowledge", layer,
    )  # fmt: skip
    assert finding.code == 0, finding.err
    rule = cli(
        "knowledge", "new", "rule", "--finding", "sender.suspended", "--when", "auth.result=rejected",
        "--knowledge", layer,
    )  # fmt: skip
    question = cli(
        "knowledge", "new", "question", "--id", "account_suspended", "--text", "Did the provider suspend the account?",
        "--finding", "sender.suspended", "--knowledge", layer,
    )  # fmt: skip
    assert rule.code == 0 and question.code == 0, (rule.err, question.err)
    lint = cli("knowledge", "lint", "--knowledge", layer)
    assert lint.code == 0, lint.err
    # The question is drafted, but nothing reads its answer yet: lint says so.
    assert "warning: question 'account_suspended' can never be worth asking" in lint.err
    tested = cli("knowledge", "test", "--knowledge", layer).out
    assert "draft-sender-suspended" not in "\n".join(line for line in tested.splitlines() if line.startswith("FAIL"))
    explained = cli("knowledge", "explain", "sender.suspended", "--knowledge", layer).out
    assert "draft-sender-suspended-1" in explained and "draft-sender-suspended-2" in explained


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["rule", "--finding", "sender.not_registered"], "name the facts the rule needs with --when FACT=VALUE"),
        (["rule", "--finding", "sender.not_registered", "--when", "tcp.conect=refused"], "unknown fact 'tcp.conect'"),
        (["rule", "--finding", "sender.not_registered", "--when", "config.port=abc"], "fact 'config.port' is int"),
        (
            ["finding", "--id", "x.y", "--title", "t", "--contact", "nobody", "--when", "tcp.connect=ok"],
            "unknown contact",
        ),
        (["question", "--id", "deployment", "--text", "t", "--finding", "dns.host_not_found"], "exists already"),
    ],
)
def test_knowledge_new_refuses_what_it_cannot_draft_in_one_line(cli, tmp_path, argv, message):
    result = cli("knowledge", "new", *argv, "--knowledge", str(tmp_path / "layer"))
    assert result.code == 2 and len(result.err.strip().splitlines()) == 1 and message in result.err, result.err


def test_an_error_code_is_kept_as_the_concept_and_an_interleaved_id_is_widened():
    assert generalise("AADSTS700082: The refresh token has expired").startswith("AADSTS700082:")
    assert "SMTP0002" in generalise("Pega SMTP0002: cannot connect")
    assert "DB8PR04CA0003" not in generalise("535 5.7.3 Authentication unsuccessful [DB8PR04CA0003 2024-01-01]")
    assert "AB12CD34EF" not in generalise("suspended (case AB12CD34EF)")
