"""The command line as a user meets it: in-process with injected streams, and as a real process."""

from __future__ import annotations

import contextlib
import io
import json
import re
from pathlib import Path

import pytest

import engine.run.pipeline
from engine import __version__
from engine.cli.main import Exit

UNKNOWN_HOST = "java.net.UnknownHostException: smtp.example.invalid\n"
NOTHING_KNOWN = "2024-05-01 12:00:00 INFO application started\n"


def one_clean_line(err: str) -> str:
    """stderr of a bad-input run: exactly one line, no traceback."""
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].strip()
    return lines[0]


def write(path: Path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    return str(path)


# --- version and help -------------------------------------------------------------------------


def test_version_prints_the_program_name_and_version(cli):
    result = cli("--version")

    assert result.code == 0
    assert result.out.strip() == f"mailtriage {__version__}"


def test_version_works_as_a_real_process(run_process):
    result = run_process("--version")

    assert result.code == 0
    assert result.out.strip() == f"mailtriage {__version__}"
    assert result.err == ""


@pytest.mark.parametrize(
    "argv", [["--help"], ["diagnose", "--help"], ["analyze-log", "--help"], ["knowledge", "--help"]]
)
def test_help_exits_zero_and_describes_the_command(cli, argv):
    result = cli(*argv)

    assert result.code == 0
    assert result.out.startswith("usage: mailtriage")
    assert result.err == ""


def _help_of(parser_argv: list[str] | None, command: str) -> str:
    from engine.cli.parser import build_parser

    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        build_parser(parser_argv).parse_args([command, "--help"])
    return out.getvalue()


def test_the_parser_built_for_one_command_gives_it_every_option_and_still_lists_the_others():
    from engine.cli.parser import COMMANDS, build_parser

    for command in COMMANDS:
        assert _help_of([command, "--help"], command) == _help_of(None, command)
    listed = build_parser(["analyze-log", "x"]).format_help()
    assert all(command in listed for command in COMMANDS)


def test_help_works_as_a_real_process(run_process):
    result = run_process("--help")

    assert result.code == 0
    assert result.out.startswith("usage: mailtriage")
    for command in ("diagnose", "analyze-log", "knowledge"):
        assert command in result.out
    assert result.err == ""


@pytest.mark.parametrize("columns", ["50", "120", "", "junk"])
def test_help_is_wrapped_as_argparse_wraps_it_for_the_same_terminal(monkeypatch, columns):
    import argparse

    from engine.cli.parser import build_parser

    monkeypatch.setenv("COLUMNS", columns)
    command = build_parser(["diagnose"])._subparsers._group_actions[0].choices["diagnose"]  # type: ignore[union-attr]
    ours = command.format_help()
    command.formatter_class = argparse.HelpFormatter
    assert ours == command.format_help()
    assert ours.count("\n") > 40


def test_diagnose_help_shows_how_to_give_the_password_without_the_command_line(cli):
    out = cli("diagnose", "--help").out

    for option in (
        "--host",
        "--port",
        "--security",
        "--password-env",
        "--password-file",
        "--answers",
        "--non-interactive",
        "--format",
        "--output",
        "--timeout",
        "--session",
    ):
        assert option in out
    assert "--password " not in out


# --- bad input: exit 2, one line, no traceback -------------------------------------------------


@pytest.mark.parametrize(
    "argv, names",
    [
        (["diagnose", "--host", "127.0.0.1", "--bogus"], "--bogus"),
        (["diagnose", "--host", "127.0.0.1", "--port", "abc"], "--port"),
        (["diagnose", "--host", "127.0.0.1", "--timeout", "-1"], "--timeout"),
        (["diagnose", "--host", "127.0.0.1", "--timeout", "0"], "--timeout"),
        (["diagnose", "--host", "127.0.0.1", "--timeout", "nan"], "--timeout"),
        (["diagnose", "--host", "127.0.0.1", "--security", "bogus"], "--security"),
        (["diagnose", "--host", "127.0.0.1", "--resolver", "no-port-here"], "--resolver"),
        (["diagnose", "--host", "127.0.0.1", "--format", "pdf"], "--format"),
        (["diagnose"], "--host"),
        (["diagnose", "--host", ""], "--host"),
        (["analyze-log"], "FILE"),
        (["frobnicate"], "frobnicate"),
        ([], "COMMAND"),
    ],
)
def test_invalid_usage_exits_2_with_one_line_naming_the_problem(cli, argv, names):
    result = cli(*argv)

    assert result.code == Exit.BAD_INPUT
    line = one_clean_line(result.err)
    assert names in line
    assert result.out == ""


@pytest.mark.parametrize(
    "argv",
    [
        ["diagnose", "--bogus"],
        ["diagnose", "--host", "127.0.0.1", "--timeout", "-1"],
        ["analyze-log"],
    ],
)
def test_invalid_usage_as_a_real_process_exits_2_with_one_line(run_process, argv):
    result = run_process(*argv)

    assert result.code == 2
    one_clean_line(result.err)
    assert result.out == ""


def test_a_resolver_port_out_of_range_is_bad_input_not_a_traceback(run_process):
    result = run_process(
        "diagnose",
        "--host",
        "smtp.lab.test",
        "--port",
        "25",
        "--timeout",
        "1",
        "--resolver",
        "127.0.0.1:99999",
        "--non-interactive",
    )

    assert result.code == 2
    line = one_clean_line(result.err)
    assert "--resolver" in line


def test_a_resolver_given_by_name_is_used_or_refused_never_a_crash(cli, dns_server, closed_port):
    result = cli(
        "diagnose",
        "--host",
        "smtp.lab.test",
        "--port",
        str(closed_port),
        "--timeout",
        "1",
        "--resolver",
        f"localhost:{dns_server.port}",
        "--non-interactive",
    )
    crash = re.search(r"details in (\S+)$", result.err.strip())
    if crash:
        Path(crash.group(1)).unlink(missing_ok=True)

    assert result.code in (Exit.PROBLEM_FOUND, Exit.BAD_INPUT), result.err
    assert "Traceback" not in result.err
    if result.code == Exit.BAD_INPUT:
        assert "--resolver" in one_clean_line(result.err)


def test_a_missing_answers_file_is_named(cli, tmp_path):
    missing = tmp_path / "answers.yaml"
    result = cli("analyze-log", "-", "--answers", str(missing), stdin=UNKNOWN_HOST)

    assert result.code == Exit.BAD_INPUT
    line = one_clean_line(result.err)
    assert str(missing) in line
    assert "No such file" in line


def test_a_missing_log_file_is_named(cli, tmp_path):
    missing = tmp_path / "error.txt"
    result = cli("analyze-log", str(missing))

    assert result.code == Exit.BAD_INPUT
    line = one_clean_line(result.err)
    assert str(missing) in line


def test_a_directory_given_as_a_log_is_named(cli, tmp_path):
    result = cli("analyze-log", str(tmp_path))

    assert result.code == Exit.BAD_INPUT
    line = one_clean_line(result.err)
    assert str(tmp_path) in line
    assert "directory" in line.lower()


def test_a_missing_log_for_diagnose_is_named_before_any_probe(cli, tmp_path, closed_port):
    missing = tmp_path / "app.log"
    result = cli(
        "diagnose",
        "--host",
        "127.0.0.1",
        "--port",
        str(closed_port),
        "--timeout",
        "1",
        "--log",
        str(missing),
        "--non-interactive",
    )

    assert result.code == Exit.BAD_INPUT
    assert str(missing) in one_clean_line(result.err)
    assert result.out == ""


def test_an_answers_file_with_a_yaml_syntax_error_is_named_with_its_line(cli, tmp_path):
    answers = write(tmp_path / "answers.yaml", "works_elsewhere: no\ndeployment: [on_premises\n")
    result = cli("analyze-log", "-", "--answers", answers, stdin=UNKNOWN_HOST)

    assert result.code == Exit.BAD_INPUT
    line = one_clean_line(result.err)
    assert re.search(re.escape(answers) + r":\d+: ", line), line
    assert "YAML" in line


def test_an_answers_file_with_an_unknown_question_suggests_the_closest_one(cli, tmp_path):
    answers = write(tmp_path / "answers.yaml", "deploymnt: cloud\n")
    result = cli("analyze-log", "-", "--answers", answers, stdin=UNKNOWN_HOST)

    assert result.code == Exit.BAD_INPUT
    line = one_clean_line(result.err)
    assert answers in line
    assert "deploymnt" in line
    assert "did you mean 'deployment'" in line


def test_an_answers_file_with_an_invalid_choice_lists_the_accepted_answers(cli, tmp_path):
    answers = write(tmp_path / "answers.yaml", "deployment: clould\n")
    result = cli("analyze-log", "-", "--answers", answers, stdin=UNKNOWN_HOST)

    assert result.code == Exit.BAD_INPUT
    line = one_clean_line(result.err)
    assert "clould" in line
    assert "did you mean 'cloud'" in line
    assert "on_premises" in line


def test_every_problem_in_an_answers_file_is_reported_at_once(cli, tmp_path):
    answers = write(tmp_path / "answers.yaml", "deploymnt: cloud\nworks_elsewhere: perhaps\n")
    result = cli("analyze-log", "-", "--answers", answers, stdin=UNKNOWN_HOST)

    assert result.code == Exit.BAD_INPUT
    line = one_clean_line(result.err)
    assert "deploymnt" in line and "perhaps" in line


def test_an_answers_file_that_is_not_a_mapping_is_bad_input(cli, tmp_path):
    answers = write(tmp_path / "answers.yaml", "- deployment\n- cloud\n")
    result = cli("analyze-log", "-", "--answers", answers, stdin=UNKNOWN_HOST)

    assert result.code == Exit.BAD_INPUT
    assert answers in one_clean_line(result.err)


def test_an_answers_file_in_json_is_accepted(cli, tmp_path):
    answers = write(tmp_path / "answers.json", json.dumps({"deployment": "cloud"}))
    result = cli("analyze-log", "-", "--answers", answers, "--format", "json", stdin=UNKNOWN_HOST)

    assert result.code == Exit.PROBLEM_FOUND
    assert json.loads(result.out)["findings"][0]["contact"] == "cloud_support"


def test_a_missing_password_file_is_bad_input(cli, tmp_path, closed_port):
    missing = tmp_path / "password.txt"
    result = cli(
        "diagnose",
        "--host",
        "127.0.0.1",
        "--port",
        str(closed_port),
        "--timeout",
        "1",
        "--password-file",
        str(missing),
        "--non-interactive",
    )

    assert result.code == Exit.BAD_INPUT
    assert str(missing) in one_clean_line(result.err)


def test_an_unset_password_variable_is_bad_input(cli, closed_port):
    result = cli(
        "diagnose",
        "--host",
        "127.0.0.1",
        "--port",
        str(closed_port),
        "--timeout",
        "1",
        "--password-env",
        "SMTP_PASSWORD",
        "--non-interactive",
        environ={},
    )

    assert result.code == Exit.BAD_INPUT
    assert "SMTP_PASSWORD" in one_clean_line(result.err)


def test_a_session_file_that_is_not_json_is_bad_input(cli, tmp_path, closed_port):
    session = write(tmp_path / "session.json", "{not json")
    result = cli(
        "diagnose",
        "--host",
        "127.0.0.1",
        "--port",
        str(closed_port),
        "--timeout",
        "1",
        "--session",
        session,
        "--non-interactive",
    )

    assert result.code == Exit.BAD_INPUT
    assert session in one_clean_line(result.err)


def test_a_session_file_with_an_answer_that_no_longer_fits_is_named(cli, tmp_path, closed_port):
    session = write(
        tmp_path / "session.json", json.dumps({"schema": "mailtriage.session/1", "answers": {"deployment": "mars"}})
    )
    result = cli(
        "diagnose",
        "--host",
        "127.0.0.1",
        "--port",
        str(closed_port),
        "--timeout",
        "1",
        "--session",
        session,
        "--non-interactive",
    )

    assert result.code == Exit.BAD_INPUT
    line = one_clean_line(result.err)
    assert session in line
    assert "mars" in line


def test_an_output_path_in_a_missing_directory_is_bad_input(cli, tmp_path):
    target = tmp_path / "no-such-dir" / "report.md"
    result = cli("analyze-log", "-", "--output", str(target), stdin=UNKNOWN_HOST)

    assert result.code == Exit.BAD_INPUT
    assert str(target) in one_clean_line(result.err)


# --- exit codes for a diagnosis ----------------------------------------------------------------


def test_an_error_finding_exits_1(cli):
    result = cli("analyze-log", "-", stdin=UNKNOWN_HOST)

    assert result.code == Exit.PROBLEM_FOUND
    assert "dns.host_not_found" in result.out
    assert result.err == ""


def test_text_that_matches_nothing_exits_0(cli):
    result = cli("analyze-log", "-", stdin=NOTHING_KNOWN)

    assert result.code == Exit.OK
    assert "Verdict: the text matched no known error, so nothing is concluded from it." in result.out
    assert result.err == ""


def test_a_log_file_is_read_the_same_as_stdin(cli, tmp_path):
    log = write(tmp_path / "error.txt", "some preamble\n" + UNKNOWN_HOST)
    result = cli("analyze-log", log, "--format", "json")

    assert result.code == Exit.PROBLEM_FOUND
    finding = json.loads(result.out)["findings"][0]
    assert finding["id"] == "dns.host_not_found"
    assert finding["evidence"] == [f"{log}:2: {UNKNOWN_HOST.strip()}"]


def test_a_refused_port_exits_1_as_a_real_process(run_process, closed_port):
    result = run_process(
        "diagnose", "--host", "127.0.0.1", "--port", str(closed_port), "--timeout", "1", "--non-interactive"
    )

    assert result.code == 1
    assert "network.connection_refused" in result.out
    assert "Traceback" not in result.err


def test_a_healthy_server_has_no_error_and_exits_0(cli):
    from engine import lab

    with lab.start("healthy") as server:
        result = cli(
            "diagnose",
            "--host",
            "127.0.0.1",
            "--port",
            str(server.port),
            "--timeout",
            "2",
            "--security",
            "starttls",
            "--cafile",
            str(server.cafile),
            "--non-interactive",
        )

    assert result.code == Exit.OK, result.out + result.err
    assert "Checked and fine:" in result.out


def test_a_port_that_accepts_but_never_greets_is_an_error_and_exits_1(cli, listening_port):
    result = cli(
        "diagnose", "--host", "127.0.0.1", "--port", str(listening_port), "--timeout", "1", "--non-interactive"
    )

    assert result.code == Exit.PROBLEM_FOUND, result.out + result.err
    assert "smtp.no_greeting" in result.out


def test_an_internal_error_exits_3_and_names_the_crash_details_file(cli, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("simulated bug in the pipeline")

    monkeypatch.setattr(engine.run.pipeline, "diagnose_text", broken)

    result = cli("analyze-log", "-", stdin=UNKNOWN_HOST)

    assert result.code == Exit.INTERNAL_ERROR
    assert "Traceback" not in result.err
    line = one_clean_line(result.err)
    assert "internal error" in line
    assert "RuntimeError" in line and "simulated bug in the pipeline" in line
    match = re.search(r"details in (\S+)$", line)
    assert match, line
    details = Path(match.group(1))
    try:
        text = details.read_text(encoding="utf-8")
        assert "Traceback" in text
        assert "RuntimeError: simulated bug in the pipeline" in text
    finally:
        details.unlink(missing_ok=True)


# --- output -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, looks_like",
    [
        ("report.md", "# Email sending diagnosis"),
        ("report.html", "<!DOCTYPE html>"),
        ("report.json", '"schema": "mailtriage.report/1"'),
        ("report.txt", "Verdict:"),
    ],
)
def test_output_writes_the_format_its_suffix_names_and_the_terminal_still_gets_the_summary(
    cli, tmp_path, name, looks_like
):
    target = tmp_path / name
    result = cli("analyze-log", "-", "--output", str(target), stdin=UNKNOWN_HOST)

    assert result.code == Exit.PROBLEM_FOUND
    written = target.read_text(encoding="utf-8")
    assert looks_like in written
    assert "The SMTP host name does not resolve" in written
    assert "Verdict: 1 problem that stops email from being sent." in result.out
    assert str(target) in result.out
    if name.endswith(".json"):
        assert json.loads(written)["findings"][0]["id"] == "dns.host_not_found"
    if name.endswith(".txt"):
        assert not written.lstrip().startswith(("#", "<", "{"))


def test_format_json_on_stdout_parses(cli):
    result = cli("analyze-log", "-", "--format", "json", stdin=UNKNOWN_HOST)

    data = json.loads(result.out)
    assert data["schema"] == "mailtriage.report/1"
    assert data["findings"][0]["id"] == "dns.host_not_found"


def test_format_json_on_stdout_parses_as_a_real_process(run_process, closed_port):
    result = run_process(
        "diagnose",
        "--host",
        "127.0.0.1",
        "--port",
        str(closed_port),
        "--timeout",
        "1",
        "--non-interactive",
        "--format",
        "json",
    )

    assert result.code == 1
    data = json.loads(result.out)
    assert data["findings"][0]["id"] == "network.connection_refused"
    assert data["target"]["port"] == closed_port


# --- answers and sessions -------------------------------------------------------------------------


def test_answers_route_the_finding_to_the_right_contact(cli, tmp_path, closed_port):
    answers = write(tmp_path / "answers.yaml", "deployment: cloud\n")
    result = cli(
        "diagnose",
        "--host",
        "127.0.0.1",
        "--port",
        str(closed_port),
        "--timeout",
        "1",
        "--answers",
        answers,
        "--non-interactive",
        "--format",
        "json",
    )

    finding = json.loads(result.out)["findings"][0]
    assert finding["id"] == "network.connection_refused"
    assert finding["contact"] == "cloud_support"


def test_questions_are_asked_at_a_terminal_and_the_answer_routes_the_finding(cli, tmp_path):
    log = write(tmp_path / "error.txt", UNKNOWN_HOST)
    # Choice 3 of the deployment question is "vendor_cloud".
    result = cli("analyze-log", log, "--format", "json", stdin="3\n", tty=True)

    assert "Where does the application that sends the email run?" in result.err
    assert "Answer (? why, skip; Enter skips)" in result.err
    report = json.loads(result.out)
    assert report["findings"][0]["contact"] == "cloud_support"
    assert {q["id"]: q["answer"] for q in report["questions"]} == {"deployment": "vendor_cloud"}


def test_an_interactive_run_writes_a_ticket_and_a_scripted_one_does_not(tmp_path):
    from engine.cli.main import Environment, main

    log = write(tmp_path / "error.txt", UNKNOWN_HOST)
    for interactive in (True, False):
        where = tmp_path / ("terminal" if interactive else "script")
        where.mkdir()
        err = io.StringIO()
        env = Environment(
            stdin=io.StringIO("1\n"), stdout=io.StringIO(), stderr=err, environ={}, stdin_isatty=interactive
        )
        with contextlib.chdir(where):
            main(["analyze-log", log], env)
        tickets = list(where.glob("mailtriage-*.md"))
        assert len(tickets) == (1 if interactive else 0), err.getvalue()
        if interactive:
            assert tickets[0].name.startswith("mailtriage-pasted-text-")
            assert "`dns.host_not_found`" in tickets[0].read_text(encoding="utf-8")
            assert f"Ticket written to {tickets[0].name}" in err.getvalue()


def test_reading_the_log_from_stdin_never_prompts(cli):
    result = cli("analyze-log", "-", stdin=UNKNOWN_HOST, tty=True)

    assert "Answer (" not in result.err
    assert "  - deployment: Where does the application that sends the email run?" in result.out


def test_session_file_is_written_and_its_answers_are_reused_by_the_next_run(cli, tmp_path, closed_port):
    session = tmp_path / "session.json"
    answers = write(tmp_path / "answers.yaml", "deployment: cloud\nworks_elsewhere: no\n")
    common = (
        "diagnose",
        "--host",
        "127.0.0.1",
        "--port",
        str(closed_port),
        "--timeout",
        "1",
        "--session",
        str(session),
        "--non-interactive",
        "--format",
        "json",
    )

    first = cli(*common, "--answers", answers)

    assert first.code == Exit.PROBLEM_FOUND
    saved = json.loads(session.read_text(encoding="utf-8"))
    assert saved["answers"]["deployment"] == "vendor_cloud"  # "cloud" in the answers file is kept as what it means
    assert saved["answers"]["works_elsewhere"] == "no"
    assert "network.connection_refused" in saved["findings"]
    assert json.loads(first.out)["findings"][0]["contact"] == "cloud_support"

    second = cli(*common)  # no --answers: the session supplies them

    assert second.code == Exit.PROBLEM_FOUND
    report = json.loads(second.out)
    assert report["findings"][0]["id"] == "network.connection_refused"
    assert report["findings"][0]["contact"] == "cloud_support"
    assert {q["id"]: q["answer"] for q in report["questions"]} == {
        "deployment": "vendor_cloud",
        "works_elsewhere": "no",
    }


def test_answers_given_on_a_later_run_override_the_session(cli, tmp_path, closed_port):
    session = tmp_path / "session.json"
    common = (
        "diagnose",
        "--host",
        "127.0.0.1",
        "--port",
        str(closed_port),
        "--timeout",
        "1",
        "--session",
        str(session),
        "--non-interactive",
        "--format",
        "json",
    )
    cli(*common, "--answers", write(tmp_path / "cloud.yaml", "deployment: cloud\n"))

    second = cli(*common, "--answers", write(tmp_path / "onprem.yaml", "deployment: on_premises\n"))

    assert json.loads(second.out)["findings"][0]["contact"] == "network_admin"
    assert json.loads(session.read_text(encoding="utf-8"))["answers"]["deployment"] == "on_premises"
