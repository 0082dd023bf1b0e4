"""No secret leaves the process: not on the terminal, not in any report format, not in the session."""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path

import pytest

from engine.redact import REDACTED, Redactor

USER = "app@example.com"
PASSWORD = "S3cret-Pa55!"
AWKWARD_PASSWORD = 'Pa55 "<&>" w0rd'  # survives neither HTML nor JSON escaping unchanged


def b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def forbidden_forms(password: str, user: str = USER) -> list[str]:
    forms = [password, b64(password), b64(f"\0{user}\0{password}"), b64(f"{user}\0{user}\0{password}")]
    forms += [html.escape(password), json.dumps(password)[1:-1]]
    return sorted(set(forms))


def leaked(text: str, password: str) -> list[str]:
    return [form for form in forbidden_forms(password) if form in text]


def log_with_secrets(password: str) -> str:
    """Lines a shipped signature matches (connection refused) that also carry the credentials."""
    return (
        "\n".join(
            [
                f"java.net.ConnectException: Connection refused (user={USER} password={password})",
                f"ECONNREFUSED after C: AUTH PLAIN {b64(chr(0) + USER + chr(0) + password)}",
                f"Connection refused; last client line was {b64(password)}",
            ]
        )
        + "\n"
    )


def password_options(source: str, password: str, tmp_path: Path) -> tuple[list[str], dict[str, str]]:
    """The flags and environment that give the password by one of the three supported routes."""
    if source == "--password-env":
        return ["--password-env", "SMTP_PASSWORD"], {"SMTP_PASSWORD": password}
    if source == "--password-file":
        path = tmp_path / "password.txt"
        path.write_text(password + "\n", encoding="utf-8")
        return ["--password-file", str(path)], {}
    return [], {"MAILTRIAGE_PASSWORD": password}


SOURCES = ["--password-env", "--password-file", "MAILTRIAGE_PASSWORD"]


@pytest.mark.parametrize("password", [PASSWORD, AWKWARD_PASSWORD], ids=["plain", "awkward"])
@pytest.mark.parametrize("source", SOURCES)
def test_the_password_appears_in_no_output_of_an_in_process_run(cli, tmp_path, closed_port, source, password):
    options, environ = password_options(source, password, tmp_path)
    log = tmp_path / "app.log"
    log.write_text(log_with_secrets(password), encoding="utf-8")
    session = tmp_path / "session.json"

    outputs: dict[str, str] = {}
    for suffix in ("txt", "md", "html", "json"):
        report = tmp_path / f"report.{suffix}"
        result = cli(
            "diagnose",
            "--host",
            "127.0.0.1",
            "--port",
            str(closed_port),
            "--timeout",
            "1",
            "--user",
            USER,
            *options,
            "--log",
            str(log),
            "--session",
            str(session),
            "--non-interactive",
            "--output",
            str(report),
            environ=environ,
        )
        assert result.code == 1, result.err
        outputs[f"stdout ({suffix} run)"] = result.out
        outputs[f"stderr ({suffix} run)"] = result.err
        outputs[f"report.{suffix}"] = report.read_text(encoding="utf-8")
        outputs[f"session after {suffix} run"] = session.read_text(encoding="utf-8")

    for name, text in outputs.items():
        assert leaked(text, password) == [], f"secret in {name}"
    # The secret-carrying lines were matched and shown: redacted, not dropped.
    evidence = json.loads(outputs["report.json"])["findings"][0]["evidence"]
    assert any(REDACTED in e and "Connection refused" in e for e in evidence), evidence
    assert any(f"AUTH PLAIN {REDACTED}" in e for e in evidence), evidence
    # The user name is not a secret and is still reported.
    assert json.loads(outputs["report.json"])["target"]["user"] == USER


@pytest.mark.parametrize(
    "source, suffix", [("--password-env", "md"), ("--password-file", "html"), ("MAILTRIAGE_PASSWORD", "json")]
)
def test_the_password_appears_nowhere_in_a_real_process(run_process, tmp_path, closed_port, source, suffix):
    options, environ = password_options(source, PASSWORD, tmp_path)
    log = tmp_path / "app.log"
    log.write_text(log_with_secrets(PASSWORD), encoding="utf-8")
    session = tmp_path / "session.json"
    report = tmp_path / f"report.{suffix}"

    result = run_process(
        "diagnose",
        "--host",
        "127.0.0.1",
        "--port",
        str(closed_port),
        "--timeout",
        "1",
        "--user",
        USER,
        *options,
        "--log",
        str(log),
        "--session",
        str(session),
        "--non-interactive",
        "--output",
        str(report),
        env=environ,
    )

    assert result.code == 1, result.err
    assert "Connection refused" in result.out
    assert "Connection refused" in report.read_text(encoding="utf-8")
    assert leaked(result.out, PASSWORD) == []
    assert leaked(result.err, PASSWORD) == []
    assert leaked(report.read_text(encoding="utf-8"), PASSWORD) == []
    assert leaked(session.read_text(encoding="utf-8"), PASSWORD) == []


def test_a_pasted_auth_plain_line_shows_its_payload_as_redacted_in_every_format(cli, tmp_path):
    payload = b64(f"\0{USER}\0{PASSWORD}")
    text = f"C: AUTH PLAIN {payload} -> java.net.ConnectException: Connection refused\n"

    for fmt in ("text", "md", "html", "json"):
        result = cli("analyze-log", "-", "--format", fmt, stdin=text)
        assert result.code == 1
        assert payload not in result.out
        assert PASSWORD not in result.out
        shown = html.escape(REDACTED) if fmt == "html" else REDACTED
        assert f"AUTH PLAIN {shown}" in result.out, result.out


# --- the redactor itself -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line, expected",
    [
        ("C: AUTH PLAIN AGFwcEBleGFtcGxlLmNvbQBTM2NyZXQtUGE1NSE=", f"C: AUTH PLAIN {REDACTED}"),
        ("C: AUTH LOGIN YXBwQGV4YW1wbGUuY29t", f"C: AUTH LOGIN {REDACTED}"),
        ("c: auth plain AGFwcEBleGFtcGxlLmNvbQBTM2NyZXQtUGE1NSE=", f"c: auth plain {REDACTED}"),
        ("C: AUTH XOAUTH2 dXNlcj1hcHBAZXhhbXBsZS5jb20BYXV0aD1CZWFyZXIgeHgBAQ==", f"C: AUTH XOAUTH2 {REDACTED}"),
        ("C: AUTH PLAIN", "C: AUTH PLAIN"),
    ],
)
def test_the_redactor_hides_whatever_follows_an_auth_command(line, expected):
    assert Redactor()(line) == expected


def test_the_redactor_keeps_the_auth_mechanisms_a_server_advertises():
    # An EHLO reply lists mechanisms, not credentials; hiding them destroys evidence
    # (for example that PLAIN is offered only after STARTTLS).
    redact = Redactor()

    assert redact("S: 250-AUTH PLAIN LOGIN XOAUTH2") == "S: 250-AUTH PLAIN LOGIN XOAUTH2"
    assert redact("250 AUTH LOGIN PLAIN") == "250 AUTH LOGIN PLAIN"


def test_the_redactor_for_credentials_hides_the_password_and_every_encoding_auth_carries_it_in():
    redact = Redactor.for_credentials(USER, PASSWORD)
    encodings = [
        PASSWORD,
        b64(PASSWORD),  # AUTH LOGIN's answer to "334 Password:"
        b64(f"\0{USER}\0{PASSWORD}"),  # AUTH PLAIN
        b64(f"{USER}\0{USER}\0{PASSWORD}"),  # AUTH PLAIN with an authorisation identity
        b64(f"user={USER}\x01auth=Bearer {PASSWORD}\x01\x01"),  # XOAUTH2
    ]

    for form in encodings:
        out = redact(f"before {form} after")
        assert out == f"before {REDACTED} after", form


def test_the_redactor_leaves_no_fragment_of_a_longer_encoding_behind():
    redact = Redactor.for_credentials(USER, PASSWORD)
    plain = b64(f"\0{USER}\0{PASSWORD}")

    out = redact(f"x {plain} y")

    assert out == f"x {REDACTED} y"
    assert all(len(piece) < 4 for piece in out.replace(REDACTED, " ").split() if piece not in ("x", "y"))


def test_the_redactor_without_a_password_changes_nothing_but_auth_payloads():
    redact = Redactor.for_credentials(USER, None)

    assert redact.secrets == []
    assert redact(f"user = {USER}") == f"user = {USER}"


PASSWORD_B64 = "UzNjcmV0LVBhNTUh"  # base64 of the password "S3cret-Pa55!"


@pytest.mark.parametrize(
    "exchange",
    [
        # PHPMailer SMTPDebug
        "CLIENT -> SERVER: AUTH LOGIN\nSERVER -> CLIENT: 334 VXNlcm5hbWU6\nCLIENT -> SERVER: YXBw\n"
        f"SERVER -> CLIENT: 334 UGFzc3dvcmQ6\nCLIENT -> SERVER: {PASSWORD_B64}\nSERVER -> CLIENT: 535 5.7.8 failed",
        # smtplib set_debuglevel(1)
        "send: 'AUTH LOGIN\\r\\n'\nreply: b'334 VXNlcm5hbWU6\\r\\n'\nsend: 'YXBw\\r\\n'\n"
        f"reply: b'334 UGFzc3dvcmQ6\\r\\n'\nsend: '{PASSWORD_B64}\\r\\n'\nreply: b'535 5.7.8 failed\\r\\n'",
        # swaks
        " -> AUTH LOGIN\n<-  334 VXNlcm5hbWU6\n -> YXBw\n"
        f"<-  334 UGFzc3dvcmQ6\n -> {PASSWORD_B64}\n<** 535 5.7.8 failed",
        # JavaMail with mail.debug.auth=true
        f"AUTH LOGIN\n334 VXNlcm5hbWU6\nYXBw\n334 UGFzc3dvcmQ6\n{PASSWORD_B64}\n535 5.7.8 failed",
    ],
    ids=["phpmailer", "smtplib", "swaks", "javamail"],
)
def test_a_pasted_sasl_exchange_loses_its_credentials_and_keeps_every_other_line(exchange):
    shown = Redactor()(exchange)
    assert PASSWORD_B64 not in shown and "YXBw" not in shown
    assert shown.count("\n") == exchange.count("\n")  # no line is swallowed
    assert "334 UGFzc3dvcmQ6" in shown and "535 5.7.8 failed" in shown


def test_pasted_debug_output_with_a_password_stays_out_of_the_session_file_and_report(cli, tmp_path, closed_port):
    # What a guided session stores as the answer to "paste what you have".
    pasted = (
        f'DEBUG SMTP: trying to connect to host "127.0.0.1", port {closed_port}, isSSL false\n'
        f"AUTH LOGIN\n334 VXNlcm5hbWU6\nYXBw\n334 UGFzc3dvcmQ6\n{PASSWORD_B64}\n535 5.7.8 Authentication failed\n"
    )
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps({"queue_failed_error": pasted}), encoding="utf-8")
    session = tmp_path / "session.json"
    result = cli(
        "diagnose", "--host", "127.0.0.1", "--port", str(closed_port), "--timeout", "1",
        "--answers", str(answers), "--session", str(session), "--non-interactive", "--format", "json",
    )  # fmt: skip
    assert result.code in (0, 1), result.err
    assert PASSWORD_B64 not in result.out + result.err
    assert PASSWORD_B64 not in session.read_text(encoding="utf-8")
    assert "535 5.7.8 Authentication failed" in session.read_text(encoding="utf-8")
