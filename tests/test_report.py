"""Reports built from real diagnoses: JSON that meets the contract, md and text for people, safe HTML."""

from __future__ import annotations

import datetime as dt
import json
import re

import jsonschema
import pytest

from engine.decide.session import NoAsker
from engine.inputs.settings import AccountSettings
from engine.inputs.textinput import Block
from engine.redact import Redactor
from engine.report.build import build_report
from engine.report.render import render
from engine.run.pipeline import diagnose_account, diagnose_text
from tests.schemas import validator as shipped_validator

TIMEOUT = 1.0

UNKNOWN_HOST = "java.net.UnknownHostException: smtp.example.invalid"


def rendered(kb, outcome, fmt: str) -> str:
    report = build_report(kb, outcome.session, outcome.target, outcome.probes, outcome.transcript)
    return render(kb, report, outcome.session, fmt, Redactor())


def from_text(kb, *texts: str):
    return diagnose_text(kb, [Block.of_text("\n".join(texts), "pasted")], NoAsker(), redact=Redactor())


def against(kb, port: int):
    settings = AccountSettings(
        host="127.0.0.1",
        port=port,
        security="starttls",
        user="app@example.com",
        from_addr="app@example.com",
        to_addr="someone@example.com",
        timeout=TIMEOUT,
    )
    return diagnose_account(kb, settings, NoAsker(), {}, (), Redactor())


@pytest.fixture
def validator():
    return shipped_validator("report")  # the schema the package ships, `mailtriage schema report`


def test_the_json_report_of_pasted_text_meets_the_contract(kb, validator):
    data = json.loads(rendered(kb, from_text(kb, UNKNOWN_HOST), "json"))

    validator.validate(data)
    assert dt.datetime.fromisoformat(data["generated_at"]).tzinfo is not None
    assert data["findings"][0]["id"] == "dns.host_not_found"
    assert data["findings"][0]["evidence"] == [f"pasted:1: {UNKNOWN_HOST}"]
    assert data["probes"] == []
    assert data["target"]["host"] is None
    # Java throws UnknownHostException for SERVFAIL and timeouts too, so the cause stays open.
    assert {"name": "dns.error", "value": "error", "source": "log"} in data["facts"]
    assert [q["id"] for q in data["questions"]] == ["deployment"]
    assert data["questions"][0]["answer"] is None


def test_the_json_report_of_a_probed_account_meets_the_contract(kb, validator, closed_port):
    data = json.loads(rendered(kb, against(kb, closed_port), "json"))

    validator.validate(data)
    assert data["target"] == {
        "host": "127.0.0.1",
        "port": closed_port,
        "security": "starttls",
        "user": "app@example.com",
        "from": "app@example.com",
        "to": "someone@example.com",
    }
    assert data["findings"][0]["id"] == "network.connection_refused"
    assert data["findings"][0]["rule"] == "tcp-connection-refused"
    statuses = {p["name"]: p["status"] for p in data["probes"]}
    assert (statuses["dns"], statuses["tcp"]) == ("skipped", "fail")
    assert {"name": "tcp.connect", "value": "refused", "source": "probe"} in data["facts"]
    assert {"name": "config.port", "value": closed_port, "source": "config"} in data["facts"]


def test_the_json_report_holds_every_field_of_the_report_under_its_contract_name(kb, closed_port):
    # dump() walks the records itself; what it gives must be what dataclasses.asdict would.
    import dataclasses

    from engine.report.model import dump

    outcome = against(kb, closed_port)
    report = build_report(kb, outcome.session, outcome.target, outcome.probes, outcome.transcript)
    as_dataclasses = dataclasses.asdict(
        report, dict_factory=lambda pairs: {key.removesuffix("_"): value for key, value in pairs}
    )
    assert json.dumps(dump(report)) == json.dumps(as_dataclasses)
    assert "from" in dump(report)["target"] and dump(report)["findings"]


def test_the_schema_rejects_a_report_that_breaks_the_contract(kb, validator, closed_port):
    # Guard against a schema too loose to catch anything: a wrong enum value must fail it.
    data = json.loads(rendered(kb, against(kb, closed_port), "json"))
    data["findings"][0]["contact"] = "the_intern"

    with pytest.raises(jsonschema.ValidationError):
        validator.validate(data)


def test_findings_in_the_json_report_come_most_important_first(kb):
    data = json.loads(
        rendered(kb, from_text(kb, UNKNOWN_HOST, "java.net.ConnectException: Connection refused"), "json")
    )

    severities = [f["severity"] for f in data["findings"]]
    order = {"error": 0, "warning": 1, "info": 2}
    assert severities == sorted(severities, key=order.get)
    assert {f["id"] for f in data["findings"]} >= {"dns.host_not_found", "network.connection_refused"}


def test_the_markdown_ticket_has_the_title_the_evidence_and_numbered_fix_steps(kb, closed_port):
    outcome = against(kb, closed_port)
    md = rendered(kb, outcome, "md")
    finding = json.loads(rendered(kb, outcome, "json"))["findings"][0]

    assert "## 1. The SMTP server refuses the connection" in md
    assert "`network.connection_refused`" in md
    for evidence in finding["evidence"]:
        assert evidence in md
    assert f"127.0.0.1:{closed_port}" in md
    for number, step in enumerate(finding["remediation"], 1):
        assert f"{number}. {step}" in md
    assert f"1. Confirm that port {closed_port} is the submission port" in md


def test_the_html_report_escapes_pasted_text(kb):
    outcome = from_text(kb, "java.net.UnknownHostException: smtp.example.invalid <script>alert(1)</script>")
    html = rendered(kb, outcome, "html")

    assert "The SMTP host name does not resolve" in html
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_the_html_report_escapes_text_in_every_place_pasted_text_reaches(kb):
    # The host captured from the text is filled into fix steps as well as evidence.
    outcome = from_text(
        kb,
        "Couldn't connect to host, port: smtp.example.invalid, 25 \"><img src=x onerror=alert(1)>",
        "java.net.ConnectException: Connection refused <b>bold</b>",
    )
    html = rendered(kb, outcome, "html")

    assert "<img" not in html
    assert "<b>bold</b>" not in html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html


def test_the_text_summary_lists_what_was_checked_and_found_fine_when_tcp_connects(kb):
    from engine import lab

    with lab.start("healthy") as server:
        settings = AccountSettings(
            host="127.0.0.1", port=server.port, security="starttls", cafile=str(server.cafile), timeout=TIMEOUT
        )
        outcome = diagnose_account(kb, settings, NoAsker(), {}, (), Redactor())
    text = rendered(kb, outcome, "text")

    assert "Checked and fine:" in text
    fine = text.split("Checked and fine:", 1)[1]
    assert "The SMTP server refuses the connection: ruled out." in fine
    assert "The connection to the SMTP server times out: ruled out." in fine
    assert f"TCP connected to 127.0.0.1 port {server.port}" in fine
    assert "network.connection_refused" not in text.split("Checked and fine:", 1)[0]
    verdict = next(line for line in text.splitlines() if line.startswith("Verdict:"))
    assert verdict.startswith(("Verdict: no problem found", "Verdict: no blocking problem")), verdict


def test_the_text_summary_of_a_refused_port_lists_the_unanswered_questions(kb, closed_port):
    text = rendered(kb, against(kb, closed_port), "text")

    assert "Verdict: 1 problem that stops email from being sent." in text
    assert "1. [ERROR] The SMTP server refuses the connection (network.connection_refused, confidence high)" in text
    assert "Not answered" in text
    assert "  - deployment: Where does the application that sends the email run?" in text
    assert "  - tcp: fail" in text


def test_the_text_summary_does_not_pass_terminal_control_sequences_from_pasted_text(kb):
    # A bounce or log from elsewhere can carry escape sequences that retitle or clear the terminal.
    outcome = from_text(kb, "java.net.ConnectException: Connection refused \x1b]0;pwned\x07\x1b[2J after")
    text = rendered(kb, outcome, "text")

    assert "Connection refused" in text
    assert "after" in text  # the line is still shown, only its control characters are neutralised
    assert "\x1b" not in text
    assert "\x07" not in text


def test_the_summary_says_where_the_dialogue_stopped_with_each_steps_time(kb):
    from engine import lab

    with lab.start("bad-password") as server:
        settings = AccountSettings(
            host="127.0.0.1",
            port=server.port,
            security="starttls",
            cafile=str(server.cafile),
            user="app@example.com",
            password="wrong",
            timeout=TIMEOUT,
        )
        outcome = diagnose_account(
            kb, settings, NoAsker(), {}, (), Redactor.for_credentials("app@example.com", "wrong")
        )
    text = rendered(kb, outcome, "text")
    line = next(lit for lit in text.splitlines() if lit.startswith("SMTP dialogue"))
    assert line.startswith("SMTP dialogue stopped at auth: ")
    assert "tls ok (" in line and "auth fail (" in line
    assert "SMTP dialogue stopped at auth" in rendered(kb, outcome, "md")


def test_text_that_matches_nothing_says_so_lists_what_was_looked_for_and_suggests_diagnose(kb):
    outcome = from_text(kb, "The weather is fine today.", "Nothing to see here.")
    assert outcome.session.inference.findings == []
    for fmt in ("text", "md", "html"):
        text = rendered(kb, outcome, fmt)
        assert "the text matched no known error" in text
        assert "Nothing in the 2 lines of text matched a known error" in text
        assert f"{len(kb.signatures)} error signatures" in text
        assert "network" in text  # the family of the shipped connection signatures
        assert "mailtriage diagnose --host HOST" in text


def test_recognised_text_has_no_not_recognised_section(kb):
    text = rendered(kb, from_text(kb, "java.net.ConnectException: Connection refused"), "text")
    assert "matched a known error" not in text


def test_a_pasted_multi_line_answer_and_backticks_in_server_text_cannot_break_the_ticket(cli, tmp_path):
    pasted = (
        "javax.mail.AuthenticationFailedException: 535 5.7.8 ```bad``` credentials\n"
        "\tat Transport.send(Transport.java:1)"
    )
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps({"queue_failed_error": pasted}), encoding="utf-8")
    log = tmp_path / "error.txt"
    log.write_text("javax.mail.AuthenticationFailedException: 535 5.7.8 ```bad``` credentials\n", encoding="utf-8")
    md = cli("analyze-log", str(log), "--answers", str(answers), "--non-interactive", "--format", "md").out
    # The pasted answer is a code block of its own, fenced longer than any backtick run inside.
    assert "\n````\njavax.mail.AuthenticationFailedException: 535 5.7.8 ```bad``` credentials\n" in md
    assert "**javax.mail" not in md
    # The evidence block too: its fence outlasts the server's backticks.
    evidence = md.split("**Evidence**", 1)[1]
    assert evidence.lstrip().startswith("````\n")
    html = cli("analyze-log", str(log), "--answers", str(answers), "--non-interactive", "--format", "html").out
    assert "<pre>javax.mail.AuthenticationFailedException" in html


def test_the_ticket_names_its_case_and_who_must_act_on_which_finding(cli, tmp_path):
    log = tmp_path / "error.txt"
    log.write_text("java.net.UnknownHostException: smtp.example.invalid\n", encoding="utf-8")
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps({"deployment": "vendor_cloud"}), encoding="utf-8")
    md = cli("analyze-log", str(log), "--answers", str(answers), "--non-interactive", "--format", "md").out
    case = re.search(r"Case (MT-[0-9A-F]{8}), generated by mailtriage", md)
    assert case is not None
    assert "## Who must act" in md
    assert (
        "- **the support of the vendor-managed cloud that hosts the application (Pega Cloud: Pega Support)**: "
        f"send them this ticket (case {case.group(1)}) and ask them to fix finding 1, "
        '"The SMTP host name does not resolve" (`dns.host_not_found`)'
    ) in md


def test_the_html_report_parses_without_error_and_draws_the_timings_and_each_decision_path(cli, closed_port):
    import html5lib

    page = cli("diagnose", "--host", "127.0.0.1", "--port", str(closed_port), "--timeout", "1", "--format", "html")
    assert page.code == 1
    html5lib.HTMLParser(strict=True).parse(page.out)  # raises on the first parse error
    report = json.loads(
        cli("diagnose", "--host", "127.0.0.1", "--port", str(closed_port), "--timeout", "1", "--format", "json").out
    )
    timed = [p for p in report["probes"] if p["status"] != "skipped"]
    waterfall = page.out.split('<svg class="waterfall"', 1)[1].split("</svg>", 1)[0]
    assert waterfall.count("<rect ") == len(timed) > 0
    assert page.out.count('<svg class="path"') == len(report["findings"])
    assert ">network.connection_refused</text>" in page.out


def test_the_ticket_ends_with_the_environment_it_was_made_in(cli, tmp_path, closed_port):
    probed = cli("diagnose", "--host", "127.0.0.1", "--port", str(closed_port), "--timeout", "1", "--format", "md").out
    environment = probed.split("## Environment", 1)[1]
    assert "| mailtriage | " in environment and "| Probed from | `" in environment
    assert "| Local address | `127.0.0.1` |" in environment
    assert "| Egress address | not checked (add --check-dns) |" in environment
    log = tmp_path / "error.txt"
    log.write_text("java.net.UnknownHostException: smtp.example.invalid\n", encoding="utf-8")
    pasted = cli("analyze-log", str(log), "--non-interactive", "--format", "md").out
    assert "| Probed from | nowhere: pasted text and answers only |" in pasted.split("## Environment", 1)[1]


def one_text_per_finding(kb) -> list[tuple[str, str]]:
    """The first corpus text labelled with each finding: every finding a text can show, once."""
    chosen: dict[str, tuple[str, str]] = {}
    for scenario in kb.scenarios.values():
        label = scenario.expect.first
        alone = not scenario.facts and not scenario.answers  # the text alone shows it
        if scenario.text and alone and label and not scenario.todo and label not in chosen:
            chosen[label] = (scenario.id, scenario.text)
    return sorted(chosen.values())


def test_every_report_format_carries_the_findings_the_json_has(kb):
    import html

    texts = one_text_per_finding(kb)
    assert len(texts) >= 25
    for name, text in texts:
        outcome = from_text(kb, text)
        found = json.loads(rendered(kb, outcome, "json"))["findings"]
        assert found, name
        md = rendered(kb, outcome, "md")
        page = html.unescape(rendered(kb, outcome, "html"))
        plain = rendered(kb, outcome, "text")
        for finding in found:
            for fmt, shown in (("text", plain), ("md", md), ("html", page)):
                assert finding["id"] in shown and finding["title"] in shown, (name, fmt, finding["id"])
        # As many numbered findings in the ticket as in the JSON, no more.
        assert len(re.findall(r"^## \d+\. ", md, re.MULTILINE)) == len(found), name
