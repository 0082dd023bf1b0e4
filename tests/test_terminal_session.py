"""A person at a real terminal (a pty driven by pexpect): why, back, Ctrl-C and resume.

The server is a loopback port where nothing listens, so the diagnosis asks where the
application runs and whether another machine can send; every step is a real process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pexpect
import pytest

REPO = Path(__file__).resolve().parent.parent
DEPLOYMENT = "Where does the application that sends the email run?"
ELSEWHERE = "Does sending work with the same settings from another machine or mail client?"
PROMPT = "Answer ("
WAIT = 30  # seconds pexpect waits for a screen; a refused port answers at once


@pytest.fixture
def session_run(tmp_path, closed_port):
    def spawn(session: Path) -> pexpect.spawn:
        args = ["-m", "engine", "diagnose", "--host", "127.0.0.1", "--port", str(closed_port), "--timeout", "1"]
        args += ["--session", str(session)]
        env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200", "MAILTRIAGE_CACHE_DIR": str(tmp_path / "cache")}
        return pexpect.spawn(sys.executable, args, cwd=str(tmp_path), env=env, encoding="utf-8", timeout=WAIT)

    return spawn


def answer(child: pexpect.spawn, question: str, reply: str) -> None:
    """Wait for the question and its prompt, then type the reply."""
    child.expect_exact(question)
    child.expect_exact(PROMPT)
    child.sendline(reply)


def answers_in(session: Path) -> dict[str, object]:
    return json.loads(session.read_text(encoding="utf-8"))["answers"]


def finish(child: pexpect.spawn, after_verdict: bool = True) -> int:
    """The exit status, once the run ends; after a verdict, Enter leaves the how/fix prompt."""
    if after_verdict:
        child.expect_exact("Type 'how N'")
        child.sendline("")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus is not None, child.signalstatus
    return child.exitstatus


def test_why_explains_each_answer_and_back_changes_the_previous_one(tmp_path, session_run):
    session = tmp_path / "session.json"
    child = session_run(session)
    answer(child, DEPLOYMENT, "why")
    child.expect_exact("What each answer would do:")
    child.expect_exact("goes to the cloud support (not the network admin)")
    child.expect_exact(PROMPT)
    child.sendline("1")
    child.expect_exact(ELSEWHERE)
    child.expect_exact("back")  # offered now that there is an answer to go back to
    child.sendline("back")
    answer(child, DEPLOYMENT, "3")
    answer(child, ELSEWHERE, "2")
    child.expect_exact("Verdict")
    # After the verdict: how the first finding was concluded, and its fix.
    child.expect_exact("Type 'how N'")
    child.sendline("how 1")
    child.expect_exact("Facts, with where each came from:")
    child.expect_exact("Connection refused")
    child.expect_exact("So: network.connection_refused; who acts: the support of the vendor-managed cloud")
    child.expect_exact("Type 'how N'")
    child.sendline("fix 1")
    child.expect_exact("What to do:")
    child.expect_exact("  1. ")
    assert finish(child) == 1  # the refused connection is an error finding
    assert answers_in(session) == {"deployment": "vendor_cloud", "works_elsewhere": "no"}
    # Later, from the session file alone: the same chain and fix.
    explained = subprocess.run(
        [sys.executable, "-m", "engine", "explain", str(session)], capture_output=True, text=True, cwd=tmp_path
    )
    assert explained.returncode == 0, explained.stderr
    assert "1. The SMTP server refuses the connection (network.connection_refused" in explained.stdout
    assert "So: network.connection_refused; who acts: the support of the vendor-managed cloud" in explained.stdout
    assert "What to do:" in explained.stdout


def test_ctrl_c_keeps_the_answers_and_the_same_command_resumes_without_asking_them_again(tmp_path, session_run):
    session = tmp_path / "session.json"
    child = session_run(session)
    answer(child, DEPLOYMENT, "2")
    child.expect_exact(ELSEWHERE)
    child.expect_exact(PROMPT)
    child.sendintr()
    child.expect_exact("interrupted; your answers so far are saved in")
    child.expect_exact("Resume with the same command: mailtriage diagnose")
    assert finish(child, after_verdict=False) == 130
    assert answers_in(session) == {"deployment": "own_cloud"}

    again = session_run(session)
    again.expect_exact(ELSEWHERE)  # where the person stopped; the first question is not asked again
    assert DEPLOYMENT not in again.before
    again.expect_exact(PROMPT)
    again.sendline("no")
    again.expect_exact("Verdict")
    assert finish(again) == 1
    assert answers_in(session) == {"deployment": "own_cloud", "works_elsewhere": "no"}


def test_ctrl_c_without_a_session_file_says_nothing_was_kept(tmp_path, closed_port):
    args = ["-m", "engine", "diagnose", "--host", "127.0.0.1", "--port", str(closed_port), "--timeout", "1"]
    env = {**os.environ, "NO_COLOR": "1", "MAILTRIAGE_CACHE_DIR": str(tmp_path / "cache")}
    child = pexpect.spawn(sys.executable, args, cwd=str(tmp_path), env=env, encoding="utf-8", timeout=WAIT)
    child.expect_exact(DEPLOYMENT)
    child.expect_exact(PROMPT)
    child.sendintr()
    child.expect_exact("nothing was kept (with --session FILE every answer is saved as it is given)")
    assert finish(child, after_verdict=False) == 130


# --- the guided session from nothing ----------------------------------------------------------

SYMPTOM = "What do you see?"
CONSENT = "Test the SMTP server from this machine now"


def javamail_debug(port: int) -> list[str]:
    """What Test Connectivity's JavaMail debugging information shows for a refused connection."""
    return [
        "DEBUG: JavaMail version 1.6.2",
        f'DEBUG SMTP: trying to connect to host "127.0.0.1", port {port}, isSSL false',
        f"com.sun.mail.util.MailConnectException: Couldn't connect to host, port: 127.0.0.1, {port}; timeout -1;",
        "  nested exception is:",
        "\tjava.net.ConnectException: Connection refused (Connection refused)",
    ]


def guide(tmp_path: Path, *args: str) -> pexpect.spawn:
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200", "MAILTRIAGE_CACHE_DIR": str(tmp_path / "cache")}
    return pexpect.spawn(
        sys.executable, ["-m", "engine", *args], cwd=str(tmp_path), env=env, encoding="utf-8", timeout=WAIT
    )


def open_with_pasted_text(child: pexpect.spawn, port: int) -> None:
    child.expect_exact(SYMPTOM)
    child.expect_exact(PROMPT)
    child.sendline("1")  # no email is sent at all
    child.expect_exact("Paste the text, then a line with only a full stop")
    child.expect_exact(PROMPT)
    for line in javamail_debug(port):
        child.sendline(line)
    child.sendline(".")


def test_mailtriage_alone_guides_from_a_symptom_and_pasted_debug_output_to_a_routed_verdict(tmp_path, closed_port):
    child = guide(tmp_path)
    open_with_pasted_text(child, closed_port)
    # The host and port come from the pasted text: nothing more to ask about the server.
    child.expect_exact(CONSENT)
    assert "Which SMTP host" not in child.before
    child.expect_exact(PROMPT)
    child.sendline("yes")
    child.expect_exact(f"Testing 127.0.0.1 port {closed_port} from this machine")
    # The checklist, a line per step as it completes, without colour under NO_COLOR.
    child.expect(r"✗ tcp +fail +[0-9.]+ ms  connect to 127\.0\.0\.1:[0-9]+: Connection refused")
    assert "\x1b[" not in child.after
    child.expect_exact(DEPLOYMENT)
    child.expect_exact(PROMPT)
    child.sendline("3")  # a cloud the vendor runs
    answer(child, ELSEWHERE, "no")
    child.expect_exact("Verdict")
    child.expect_exact("The SMTP server refuses the connection (network.connection_refused")
    child.expect_exact("Who should act: the support of the vendor-managed cloud")
    child.expect_exact(f"connect to 127.0.0.1:{closed_port}: Connection refused")  # the probe's own evidence
    child.expect_exact("Ticket written to mailtriage-127.0.0.1-")
    assert finish(child) == 1
    [ticket] = tmp_path.glob("mailtriage-127.0.0.1-*Z.md")
    text = ticket.read_text(encoding="utf-8")
    assert text.startswith("# Email sending diagnosis")
    assert "`network.connection_refused`" in text and "Pega Support" in text


def test_without_consent_the_guide_concludes_from_the_pasted_text_alone(tmp_path, closed_port):
    child = guide(tmp_path, "guide", "--format", "json")
    open_with_pasted_text(child, closed_port)
    answer(child, CONSENT, "no")
    answer(child, DEPLOYMENT, "1")
    answer(child, ELSEWHERE, "skip")
    child.expect_exact("Type 'how N'")
    # The terminal shows stdout and stderr together: the JSON, then where the ticket went.
    screen = child.before.replace("\r\n", "\n")
    child.sendline("")
    child.expect(pexpect.EOF)
    report, _ = json.JSONDecoder().raw_decode(screen[screen.index('{\n  "schema"') :])
    child.close()
    assert child.exitstatus == 1
    assert report["probes"] == []  # nothing was tested from this machine
    refused = next(f for f in report["findings"] if f["id"] == "network.connection_refused")
    assert refused["contact"] == "network_admin"
    assert {q["id"]: q["answer"] for q in report["questions"]}["symptom"] == "nothing_sends"


def test_the_guide_off_a_terminal_or_told_not_to_ask_is_bad_input_with_one_line(cli):
    for result in (cli("guide"), cli("guide", "--non-interactive", tty=True)):
        assert result.code == 2
        assert result.err.count("\n") == 1 and "guide asks questions at a terminal" in result.err


def test_explain_names_a_session_file_without_a_finished_diagnosis_in_one_line(cli, tmp_path):
    unfinished = tmp_path / "unfinished.json"
    unfinished.write_text(json.dumps({"schema": "mailtriage.session/1", "answers": {}}), encoding="utf-8")
    for path in (unfinished, tmp_path / "missing.json"):
        result = cli("explain", str(path))
        assert result.code == 2
        assert result.err.count("\n") == 1 and str(path) in result.err
