"""Provider-specific remediation in the reports, from a real lab server on 127.0.0.1 that greets
and answers EHLO as Exchange Online does, and from pasted text."""

from __future__ import annotations

import json

import pytest

from engine import lab
from engine.decide.session import NoAsker
from engine.inputs.textinput import Block
from engine.redact import Redactor
from engine.report.build import build_report
from engine.report.render import render
from engine.run.pipeline import diagnose_text, given_facts
from engine.text.providers import from_host, recognise

TIMEOUT = 2.0
M365 = "Microsoft 365 (Exchange Online): "


def diagnose(cli, scenario: str, fmt: str, *extra: str):
    with lab.start(scenario) as server:
        return cli(
            "diagnose",
            "--host",
            lab.HOST,
            "--port",
            str(server.port),
            "--security",
            "starttls",
            "--cafile",
            str(server.cafile),
            "--user",
            lab.LAB_USER,
            "--password-env",
            "LAB_PASSWORD",
            "--from",
            lab.LAB_SENDER,
            "--to",
            lab.LAB_RECIPIENT,
            "--timeout",
            str(TIMEOUT),
            "--non-interactive",
            "--format",
            fmt,
            *extra,
            environ={"LAB_PASSWORD": lab.LAB_PASSWORD},
        )


def test_the_json_report_puts_microsoft_365_steps_first_for_smtp_auth_disabled(cli):
    result = diagnose(cli, "microsoft365-smtp-auth-disabled", "json")
    assert result.code == 1, result.err
    report = json.loads(result.out)
    first = report["findings"][0]
    assert first["id"] == "auth.account_verification_required"
    steps = first["remediation"]
    ours = [s for s in steps if s.startswith(M365)]
    assert ours and steps[: len(ours)] == ours, steps  # labelled, and before the generic steps
    assert any("Set-CASMailbox -Identity app@example.com -SmtpClientAuthenticationDisabled $false" in s for s in ours)
    assert any("Security defaults" in s for s in ours)
    # The finding's own generic steps are still there, after the provider's.
    assert any(s.startswith("Read the reply text for the provider's reason") for s in steps[len(ours) :])


def test_the_json_report_carries_the_recognised_service_and_software_as_probe_facts(cli):
    report = json.loads(diagnose(cli, "microsoft365-smtp-auth-disabled", "json").out)
    provider_facts = {
        (f["name"], f["value"], f["source"]) for f in report["facts"] if f["name"].startswith("provider.")
    }
    assert provider_facts == {("provider.service", "microsoft365", "probe"), ("provider.software", "exchange", "probe")}
    # Recognised from what the server said: the host dialled was only 127.0.0.1.
    assert report["target"]["host"] == "127.0.0.1"


@pytest.mark.parametrize("fmt", ["text", "md", "html"])
def test_every_rendering_names_the_service_and_shows_its_steps(cli, fmt):
    out = diagnose(cli, "microsoft365-smtp-auth-disabled", fmt).out
    assert (
        "Mail service: Microsoft 365 (Exchange Online) (recognised from greeting: 220 "
        "AM0PR02CA0001.outlook.office365.com" in out
    )
    # Exchange Online's advice leads with OAuth, then says how to switch password SMTP back on.
    assert M365 + "Exchange Online leads with OAuth 2.0" in out
    assert "Microsoft 365 admin center" in out
    assert "Set-CASMailbox" in out


def test_a_server_that_names_no_provider_gets_only_the_generic_steps(cli, kb):
    report = json.loads(diagnose(cli, "bad-password", "json").out)
    assert not [f for f in report["facts"] if f["name"].startswith("provider.")]
    labels = tuple(f"{p.name}: " for p in kb.providers.values())
    [finding] = [f for f in report["findings"] if f["id"] == "auth.credentials_rejected"]
    assert finding["remediation"] == [s for s in finding["remediation"] if not s.startswith(labels)]
    assert len(finding["remediation"]) == len(kb.findings["auth.credentials_rejected"].fix)


def test_pasted_gmail_text_adds_the_app_password_conclusion_and_googles_steps(cli, tmp_path):
    log = tmp_path / "app.log"
    log.write_text(
        "javax.mail.AuthenticationFailedException: 535-5.7.8 Username and Password not accepted. For more "
        "information, go to\n"
        "535 5.7.8  https://support.google.com/mail/?p=BadCredentials x1sm1234567wrb.12 - gsmtp\n"
    )
    result = cli("analyze-log", str(log), "--non-interactive", "--format", "json")
    report = json.loads(result.out)
    by_id = {f["id"]: f for f in report["findings"]}
    assert set(by_id) >= {"auth.credentials_rejected", "auth.account_verification_required"}
    assert by_id["auth.account_verification_required"]["rule"] == "provider-gmail-password-needs-app-password"
    assert by_id["auth.credentials_rejected"]["remediation"][0].startswith("Gmail / Google Workspace: ")
    assert "app password" in by_id["auth.credentials_rejected"]["remediation"][0]


def test_the_same_refusal_from_an_unrecognised_server_concludes_only_a_wrong_password(cli, tmp_path):
    log = tmp_path / "app.log"
    log.write_text(
        "javax.mail.AuthenticationFailedException: 535 5.7.8 Error: authentication failed: authentication failure\n"
    )
    report = json.loads(cli("analyze-log", str(log), "--non-interactive", "--format", "json").out)
    assert [f["id"] for f in report["findings"]] == ["auth.credentials_rejected"]


def test_a_host_name_alone_brings_the_providers_steps_into_the_report(kb):
    """The host is data here (never resolved): the settings name SendGrid, the text has the refusal."""
    extra = given_facts({"config.user": "app@example.com", "config.host": "smtp.sendgrid.net"})
    extra += recognise(kb, from_host("smtp.sendgrid.net"))
    text = "javax.mail.AuthenticationFailedException: 535 Authentication failed: Bad username / password\n"
    outcome = diagnose_text(kb, [Block.of_text(text, "app.log")], NoAsker(), extra=extra)
    report = build_report(kb, outcome.session, {"host": "smtp.sendgrid.net", "port": 587}, [])
    data = json.loads(render(kb, report, outcome.session, "json", Redactor()))
    by_id = {f["id"]: f for f in data["findings"]}
    assert by_id["config.invalid"]["rule"] == "provider-sendgrid-user-not-apikey"
    assert by_id["config.invalid"]["remediation"][0].startswith(
        "Twilio SendGrid: Set the SMTP user name to the literal word `apikey` (now: app@example.com)"
    )
    text_report = render(kb, report, outcome.session, "text", Redactor())
    assert "Mail service: Twilio SendGrid (recognised from host = smtp.sendgrid.net)" in text_report


def test_a_log_given_beside_the_probes_can_name_the_provider_the_server_did_not(cli, tmp_path):
    # The lab greets as itself; the application's log shows the same refusal came from Google.
    log = tmp_path / "app.log"
    log.write_text("535-5.7.8 Username and Password not accepted. x1sm1234567wrb.12 - gsmtp\n")
    report = json.loads(diagnose(cli, "bad-password", "json", "--log", str(log)).out)
    provider_facts = [
        (f["name"], f["value"], f["source"]) for f in report["facts"] if f["name"].startswith("provider.")
    ]
    assert provider_facts == [("provider.service", "gmail", "log")]
    assert "auth.account_verification_required" in [f["id"] for f in report["findings"]]
