"""`diagnose --javamail-properties / --spring-properties` against real lab servers on 127.0.0.1."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine import lab
from tests.layers import line_of

TIMEOUT = "2"
FILE_PASSWORD = "file-held-Secret-42"  # never accepted by the lab; must never be printed


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def run_json(cli, *argv: str, environ: dict[str, str] | None = None):
    result = cli("diagnose", *argv, "--timeout", TIMEOUT, "--non-interactive", "--format", "json", environ=environ)
    return result, (json.loads(result.out) if result.out.strip() else None)


def finding(report: dict, ident: str) -> dict:
    return next(f for f in report["findings"] if f["id"] == ident)


@pytest.fixture
def lab_on_587() -> Iterator[lab.LabServer]:
    """The healthy STARTTLS lab on 127.0.0.1:587 itself, where the issue's example points."""
    try:
        server = lab.start("healthy", 587)
    except OSError as exc:  # not root, or the port is taken on this machine
        pytest.skip(f"cannot listen on 127.0.0.1:587: {exc}")
    with server:
        yield server


def test_ssl_enabled_on_587_in_a_javamail_file_is_config_invalid_naming_mail_smtp_ssl_enable(cli, tmp_path, lab_on_587):
    """The issue's definition of done, against a real STARTTLS server on 127.0.0.1:587."""
    path = write(
        tmp_path,
        "mail.properties",
        f"""
        # billing application
        mail.smtp.host=127.0.0.1
        mail.smtp.port=587
        mail.smtp.auth=true
        mail.smtp.user={lab.LAB_USER}
        mail.smtp.password={FILE_PASSWORD}
        mail.smtp.ssl.enable=true
        mail.smtp.from={lab.LAB_SENDER}
    """,
    )
    result, report = run_json(cli, "--javamail-properties", str(path), "--cafile", str(lab_on_587.cafile))
    assert result.code == 1
    first = report["findings"][0]
    assert first["id"] == "config.invalid", [f["id"] for f in report["findings"]]
    ssl_line = line_of(path, "ssl.enable")
    assert f"{path}:{ssl_line}: mail.smtp.ssl.enable=true" in first["evidence"]
    assert f"{path}:{line_of(path, 'smtp.port')}: mail.smtp.port=587" in first["evidence"]
    fix = " ".join(first["remediation"])
    assert f"mail.smtp.ssl.enable at {path}:{ssl_line}" in fix
    assert "mail.smtp.ssl.enable=false" in fix and "mail.smtp.starttls.enable=true" in fix
    assert report["target"]["port"] == 587 and report["target"]["security"] == "ssl"
    assert FILE_PASSWORD not in result.out + result.err


def test_ssl_enable_on_a_port_that_greets_in_plain_text_names_the_key_on_any_port(cli, tmp_path):
    with lab.start("healthy") as server:
        path = write(
            tmp_path,
            "mail.properties",
            f"""
            mail.smtp.host=127.0.0.1
            mail.smtp.port={server.port}
            mail.smtp.ssl.enable=true
            mail.smtp.connectiontimeout=5000
            mail.smtp.timeout=5000
        """,
        )
        result, report = run_json(cli, "--javamail-properties", str(path), "--cafile", str(server.cafile))
    assert result.code == 1
    first = report["findings"][0]
    assert (first["id"], first["rule"]) == ("config.invalid", "config-ssl-enable-on-plain-port")
    assert f"{path}:3: mail.smtp.ssl.enable=true" in first["evidence"]
    assert "tls.mode_mismatch" in [f["id"] for f in report["findings"]]


def test_a_spring_yml_with_its_own_password_gets_through_and_the_password_never_shows(cli, tmp_path):
    with lab.start("healthy") as server:
        path = write(
            tmp_path,
            "application.yml",
            f"""
            spring:
              mail:
                host: 127.0.0.1
                port: {server.port}
                username: {lab.LAB_USER}
                password: {lab.LAB_PASSWORD}
                properties:
                  mail:
                    smtp:
                      auth: true
                      from: {lab.LAB_SENDER}
                      connectiontimeout: 5000
                      timeout: 5000
                      starttls:
                        enable: true
                        required: true
        """,
        )
        outputs = []
        for fmt in ("json", "text", "md", "html"):
            result = cli(
                "diagnose",
                "--spring-properties",
                str(path),
                "--cafile",
                str(server.cafile),
                "--to",
                lab.LAB_RECIPIENT,
                "--timeout",
                TIMEOUT,
                "--non-interactive",
                "--format",
                fmt,
            )
            assert result.code == 0, result.err
            outputs.append(result.out + result.err)
    report = json.loads(outputs[0])
    assert report["findings"][0]["id"] == "connectivity.ok"
    assert not [f for f in report["findings"] if f["id"].startswith("config.")]
    assert "C: AUTH PLAIN <redacted>" in report["transcript"]  # it logged in with the file's password
    for text in outputs:
        assert lab.LAB_PASSWORD not in text


def test_flags_override_the_file_and_the_password_from_the_environment_wins_over_the_files(cli, tmp_path):
    with lab.start("healthy") as server:
        path = write(
            tmp_path,
            "mail.properties",
            f"""
            mail.smtp.host=smtp.unused.invalid
            mail.smtp.port=25
            mail.smtp.auth=true
            mail.smtp.user={lab.LAB_USER}
            mail.smtp.password={FILE_PASSWORD}
            mail.smtp.starttls.enable=true
            mail.smtp.starttls.required=true
            mail.smtp.connectiontimeout=5000
            mail.smtp.timeout=5000
        """,
        )
        result, report = run_json(
            cli,
            "--javamail-properties",
            str(path),
            "--host",
            "127.0.0.1",
            "--port",
            str(server.port),
            "--cafile",
            str(server.cafile),
            "--from",
            lab.LAB_SENDER,
            environ={"MAILTRIAGE_PASSWORD": lab.LAB_PASSWORD},
        )
    assert result.code == 0, [f["id"] for f in report["findings"]]
    assert report["target"] == {
        "host": "127.0.0.1",
        "port": server.port,
        "security": "starttls",
        "user": lab.LAB_USER,
        "from": lab.LAB_SENDER,
        "to": None,
    }
    facts = {(f["name"], f["value"]) for f in report["facts"]}
    assert ("config.port_set_by", "--port on the command line") in facts
    assert ("config.user_set_by", f"mail.smtp.user at {path}:4") in facts
    assert FILE_PASSWORD not in result.out + result.err
    assert lab.LAB_PASSWORD not in result.out + result.err


def test_a_file_without_a_host_is_diagnosed_as_config_invalid_saying_which_key_to_add(cli, tmp_path):
    path = write(
        tmp_path,
        "mail.properties",
        "mail.smtp.port=587\nmail.smtp.starttls.enable=true\nmail.smtp.starttls.required=true\n",
    )
    result, report = run_json(cli, "--javamail-properties", str(path))
    assert result.code == 1
    invalid = finding(report, "config.invalid")
    assert f"Add mail.smtp.host=<your SMTP server> to {path}." in invalid["remediation"]
    assert [p["status"] for p in report["probes"]] == ["skipped", "skipped", "skipped"]


def test_auth_without_a_user_and_a_port_that_is_not_a_number_are_each_named(cli, tmp_path):
    path = write(
        tmp_path,
        "mail.properties",
        "mail.smtp.host=127.0.0.1\nmail.smtp.port=58 7\nmail.smtp.auth=true\nmail.smtp.starttls.enable=yes\n",
    )
    result, report = run_json(cli, "--javamail-properties", str(path))
    assert result.code == 1
    invalid = finding(report, "config.invalid")
    assert f"{path}:2: mail.smtp.port=58 7" in invalid["evidence"]
    assert f"{path}:3: mail.smtp.auth=true" in invalid["evidence"]
    assert f"{path}:4: mail.smtp.starttls.enable=yes" in invalid["evidence"]
    fix = " ".join(invalid["remediation"])
    assert "mail.smtp.port must be a whole number" in fix
    assert "Write mail.smtp.starttls.enable=true or mail.smtp.starttls.enable=false" in fix
    assert "Add mail.smtp.user" in fix
    assert report["probes"][1] == {
        "name": "tcp",
        "status": "skipped",
        "duration_ms": 0.0,
        "detail": "port 0 is not a TCP port",
    }


def test_a_from_address_in_another_domain_is_a_warning_not_an_error(cli, tmp_path):
    path = write(
        tmp_path,
        "application.properties",
        """
        spring.mail.host=127.0.0.1
        spring.mail.port=1
        spring.mail.username=app@example.com
        spring.mail.properties.mail.smtp.from=noreply@other.example
        spring.mail.properties.mail.smtp.starttls.enable=true
        spring.mail.properties.mail.smtp.starttls.required=true
        spring.mail.properties.mail.smtp.connectiontimeout=5000
        spring.mail.properties.mail.smtp.timeout=5000
    """,
    )
    _result, report = run_json(cli, "--spring-properties", str(path))
    risky = finding(report, "config.risky")
    assert (risky["severity"], risky["confidence"]) == ("warning", "medium")
    assert "user app@example.com and From noreply@other.example" in risky["evidence"]
    assert f"sends as noreply@other.example (spring.mail.properties.mail.smtp.from at {path}:4)" in " ".join(
        risky["remediation"]
    )


# --- bad input: exit 2, one line FILE:LINE: what is wrong ---------------------------------------


def test_a_malformed_spring_yml_is_exit_2_with_file_and_line(cli, tmp_path):
    path = write(tmp_path, "application.yml", "spring:\n  mail:\n    host: 'smtp.example.com\n")
    result = cli("diagnose", "--spring-properties", str(path), "--non-interactive")
    assert result.code == 2
    assert result.out == ""
    assert result.err.count("\n") == 1 and result.err.startswith(f"{path}:3: YAML syntax")


def test_a_malformed_properties_file_is_exit_2_naming_the_key_and_never_the_secret(cli, tmp_path):
    path = write(tmp_path, "mail.properties", f"mail.smtp.host=h.example\nmail.smtp.password={FILE_PASSWORD}\\uZZZZ\n")
    result = cli("diagnose", "--javamail-properties", str(path), "--non-interactive")
    assert result.code == 2
    assert (
        result.err.strip() == f"{path}:2: value of mail.smtp.password: malformed \\uXXXX escape: "
        "\\u needs four hex digits (write \\\\u for a backslash and u)"
    )
    assert FILE_PASSWORD not in result.err


def test_an_unreadable_settings_file_is_exit_2(cli, tmp_path):
    result = cli("diagnose", "--javamail-properties", str(tmp_path / "absent.properties"))
    assert (result.code, result.err.strip()) == (
        2,
        f"{tmp_path / 'absent.properties'}: cannot read: No such file or directory",
    )


def test_the_wrong_kind_of_file_says_which_flag_fits(cli, tmp_path):
    path = write(tmp_path, "application.properties", "spring.mail.host=smtp.example.com\n")
    result = cli("diagnose", "--javamail-properties", str(path))
    assert result.code == 2 and "give it with --spring-properties" in result.err


def test_host_is_needed_from_a_flag_or_a_file(cli):
    result = cli("diagnose", "--non-interactive")
    assert result.code == 2
    assert "diagnose needs --host" in result.err and "--javamail-properties" in result.err


def test_both_kinds_of_file_at_once_are_refused(cli, tmp_path):
    path = write(tmp_path, "mail.properties", "mail.smtp.host=h.example\n")
    result = cli("diagnose", "--javamail-properties", str(path), "--spring-properties", str(path))
    assert result.code == 2 and "not allowed with argument" in result.err


def test_a_bad_file_as_a_real_process_exits_2_without_a_traceback(run_process, tmp_path):
    path = write(tmp_path, "application.yml", "spring: [\n")
    result = run_process("diagnose", "--spring-properties", str(path), "--non-interactive")
    assert result.code == 2
    assert result.err.startswith(f"{path}:") and "Traceback" not in result.err


def test_a_wrong_password_from_the_file_is_refused_and_appears_in_no_output_report_or_session(cli, tmp_path):
    import base64

    with lab.start("healthy") as server:
        path = write(
            tmp_path,
            "mail.properties",
            f"""
            mail.smtp.host=127.0.0.1
            mail.smtp.port={server.port}
            mail.smtp.auth=true
            mail.smtp.user={lab.LAB_USER}
            mail.smtp.password={FILE_PASSWORD}
            mail.smtp.starttls.enable=true
            mail.smtp.starttls.required=true
        """,
        )
        report_file, session_file = tmp_path / "ticket.md", tmp_path / "session.json"
        result = cli(
            "diagnose",
            "--javamail-properties",
            str(path),
            "--cafile",
            str(server.cafile),
            "--output",
            str(report_file),
            "--session",
            str(session_file),
            "--timeout",
            TIMEOUT,
            "--non-interactive",
        )
    assert result.code == 1
    assert "auth.credentials_rejected" in result.out
    assert '"name": "config.file"' in session_file.read_text(encoding="utf-8")
    assert "AUTH PLAIN <redacted>" in report_file.read_text(encoding="utf-8")
    encoded = base64.b64encode(f"\0{lab.LAB_USER}\0{FILE_PASSWORD}".encode()).decode()
    for text in (
        result.out,
        result.err,
        report_file.read_text(encoding="utf-8"),
        session_file.read_text(encoding="utf-8"),
    ):
        assert FILE_PASSWORD not in text and encoded not in text
