"""diagnose --profile: many accounts against real lab servers, a summary, a report each, grouped causes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from contextlib import ExitStack
from pathlib import Path

import pytest

from engine import lab
from engine.run.batch import PROCESSES_FROM, processes_for
from tests.test_secrets import leaked

WRONG = "Wr0ng-Pa55-for-lab"


@pytest.fixture(scope="module")
def servers():
    """One lab server per fault, shared by the tests of this file."""
    with ExitStack() as stack:
        yield {
            name: stack.enter_context(lab.start(name)) for name in ("healthy", "wrong-host", "bad-password", "silent")
        }


def account(name: str, server, **extra: str) -> str:
    lines = ["[[accounts]]", f'name = "{name}"', f"port = {server.port}"]
    if getattr(server, "cafile", None):
        lines.append(f'cafile = "{server.cafile}"')
    lines += [f'{key} = "{value}"' for key, value in extra.items()]
    return "\n".join(lines) + "\n"


def profile(tmp_path, *accounts: str) -> str:
    path = tmp_path / "accounts.toml"
    path.write_text(
        '[defaults]\nhost = "127.0.0.1"\nsecurity = "starttls"\nuser = "app@example.com"\n'
        'from = "app@example.com"\nto = "someone@example.com"\npassword_env = "LAB_PASSWORD"\ntimeout = 2\n\n'
        + "\n".join(accounts),
        encoding="utf-8",
    )
    return str(path)


ENVIRON = {"LAB_PASSWORD": lab.LAB_PASSWORD, "WRONG_PASSWORD": WRONG}


def test_accounts_failing_for_one_server_side_cause_are_grouped_and_own_causes_are_not(cli, servers, tmp_path):
    path = profile(
        tmp_path,
        *(account(f"ok-{i}", servers["healthy"]) for i in range(3)),
        *(account(f"cert-{i}", servers["wrong-host"]) for i in range(4)),
        *(account(f"pw-{i}", servers["bad-password"], password_env="WRONG_PASSWORD") for i in range(2)),
    )
    result = cli("diagnose", "--profile", path, "--non-interactive", "--format", "json", environ=ENVIRON)
    assert result.code == 1, result.err
    data = json.loads(result.out)
    assert data["schema"] == "mailtriage.accounts/1"
    verdicts = {a["name"]: a["verdict"] for a in data["accounts"]}
    assert verdicts == {
        **{f"ok-{i}": "ok" for i in range(3)},
        **{f"cert-{i}": "problem" for i in range(4)},
        **{f"pw-{i}": "problem" for i in range(2)},
    }
    groups = [(g["finding"], len(g["accounts"])) for g in data["groups"]]
    assert groups[0] == ("tls.hostname_mismatch", 4)
    assert groups.count(("auth.credentials_rejected", 1)) == 2  # a password is each account's own
    assert groups[-1] == (None, 3)
    first = next(a for a in data["accounts"] if a["name"] == "pw-0")["report"]
    assert first["findings"][0]["id"] == "auth.credentials_rejected"
    assert first["target"]["port"] == servers["bad-password"].port


def test_the_text_summary_has_a_row_per_account_and_says_how_many_share_a_cause(cli, servers, tmp_path):
    path = profile(
        tmp_path, *(account(f"cert-{i}", servers["wrong-host"]) for i in range(3)), account("fine", servers["healthy"])
    )
    result = cli("diagnose", "--profile", path, "--non-interactive", environ=ENVIRON)
    assert result.code == 1, result.err
    summary = result.out.split("=" * 20)[0]
    assert "4 accounts diagnosed; 3 with a blocking problem, from 1 cause." in summary
    rows = [line.split(maxsplit=3) for line in summary.splitlines() if line.startswith(("cert-", "fine"))]
    # The contact column is readable, as everywhere in reports: "network admin", not network_admin.
    assert rows == [[f"cert-{i}", "problem", "tls.hostname_mismatch", "network admin"] for i in range(3)] + [
        ["fine", "ok", "-", "-"]
    ]
    assert "3 accounts: one cause: " in summary and f"at 127.0.0.1:{servers['wrong-host'].port}" in summary
    # Each account's own report follows the summary.
    assert result.out.count("account cert-") == 3 and "account fine" in result.out


def test_a_silent_server_delays_only_its_own_account_and_the_others_still_conclude(cli, servers, tmp_path):
    path = profile(
        tmp_path,
        account("mute", servers["silent"]),
        account("fine", servers["healthy"]),
        account("pw", servers["bad-password"], password_env="WRONG_PASSWORD"),
    )
    result = cli("diagnose", "--profile", path, "--non-interactive", "--format", "json", environ=ENVIRON)
    data = json.loads(result.out)
    firsts = {a["name"]: (a["report"]["findings"] or [{"id": None}])[0]["id"] for a in data["accounts"]}
    assert firsts["mute"] == "smtp.no_greeting"
    assert firsts["pw"] == "auth.credentials_rejected"
    assert data["accounts"][1]["verdict"] == "ok"


def test_report_dir_gets_one_report_per_account_in_the_chosen_format(cli, servers, tmp_path):
    path = profile(
        tmp_path,
        account("billing/eu", servers["healthy"]),
        account("hr", servers["bad-password"], password_env="WRONG_PASSWORD"),
    )
    out = tmp_path / "reports"
    result = cli(
        "diagnose", "--profile", path, "--non-interactive", "--report-dir", str(out), "--format", "md", environ=ENVIRON
    )
    assert result.code == 1, result.err
    assert sorted(p.name for p in out.iterdir()) == ["billing_eu.md", "hr.md"]  # a name is made safe as a file name
    assert "auth.credentials_rejected" in (out / "hr.md").read_text()
    assert "2 reports written to" in result.out
    assert "| hr | problem | auth.credentials_rejected | application admin |" in result.out  # readable contact


def test_no_account_password_appears_in_the_summary_or_any_report(cli, servers, tmp_path):
    path = profile(
        tmp_path,
        account("good", servers["healthy"]),
        account("bad", servers["bad-password"], password_env="WRONG_PASSWORD"),
    )
    out = tmp_path / "reports"
    for fmt in ("text", "md", "html", "json"):
        result = cli(
            "diagnose",
            "--profile",
            path,
            "--non-interactive",
            "--format",
            fmt,
            "--report-dir",
            str(out / fmt),
            environ=ENVIRON,
        )
        texts = [result.out, result.err] + [p.read_text() for p in (out / fmt).iterdir()]
        for text in texts:
            assert not leaked(text, lab.LAB_PASSWORD) and not leaked(text, WRONG)


def test_a_profile_with_one_account_gives_the_ordinary_single_report(cli, servers, tmp_path):
    path = profile(tmp_path, account("only", servers["bad-password"], password_env="WRONG_PASSWORD"))
    result = cli("diagnose", "--profile", path, "--non-interactive", "--format", "json", environ=ENVIRON)
    data = json.loads(result.out)
    assert data["schema"] == "mailtriage.report/1"
    assert data["findings"][0]["id"] == "auth.credentials_rejected"


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--host", "127.0.0.1"], "--profile names the accounts; drop --host"),
        (["--cafile", "x.pem"], "--profile cannot be combined with --cafile"),
        (["--jobs", "0"], "--jobs: expected a whole number from 1 to 256"),
    ],
)
def test_flags_that_clash_with_a_profile_are_bad_input_with_one_line(cli, servers, tmp_path, extra, message):
    path = profile(tmp_path, account("a", servers["healthy"]), account("b", servers["healthy"]))
    result = cli("diagnose", "--profile", path, "--non-interactive", *extra, environ=ENVIRON)
    assert result.code == 2
    assert message in result.err and len(result.err.strip().splitlines()) == 1


def test_an_account_whose_password_variable_is_unset_is_named_with_its_line(cli, servers, tmp_path):
    path = profile(
        tmp_path, account("a", servers["healthy"]), account("b", servers["healthy"], password_env="NOT_SET_ANYWHERE")
    )
    result = cli("diagnose", "--profile", path, "--non-interactive", environ=ENVIRON)
    assert result.code == 2
    assert (
        result.err.strip()
        == f"mailtriage: {path}:15: account 'b': password_env NOT_SET_ANYWHERE is not set in the environment"
    )


def test_report_dir_without_a_profile_is_bad_input(cli, tmp_path):
    result = cli("diagnose", "--host", "127.0.0.1", "--report-dir", str(tmp_path), "--non-interactive")
    assert result.code == 2 and "--report-dir goes with --profile" in result.err


def test_a_password_file_named_by_an_account_is_read_and_an_empty_one_is_bad_input(cli, servers, tmp_path):
    secret = tmp_path / "hr.secret"
    secret.write_text(WRONG + "\n")
    path = profile(
        tmp_path,
        account("a", servers["healthy"]),
        f'[[accounts]]\nname = "hr"\nport = {servers["bad-password"].port}\n'
        f'cafile = "{servers["bad-password"].cafile}"\npassword_env = ""\n',
    )
    text = Path(path).read_text().replace('password_env = ""', f'password_file = "{secret}"')
    Path(path).write_text(text)
    result = cli("diagnose", "--profile", path, "--non-interactive", "--format", "json", environ=ENVIRON)
    hr = next(a for a in json.loads(result.out)["accounts"] if a["name"] == "hr")
    assert hr["report"]["findings"][0]["id"] == "auth.credentials_rejected"
    assert not leaked(result.out, WRONG)
    secret.write_text("")
    result = cli("diagnose", "--profile", path, "--non-interactive", environ=ENVIRON)
    assert result.code == 2 and result.err.strip().endswith(f"cannot read password_file {secret}: the file is empty")


def test_an_account_may_take_its_settings_from_the_javamail_file_the_application_reads(cli, servers, tmp_path):
    healthy = servers["healthy"]
    (tmp_path / "billing.properties").write_text(
        "# the application's own file\n"
        "mail.smtp.host=127.0.0.1\n"
        f"mail.smtp.port={healthy.port}\n"
        "mail.smtp.auth=true\n"
        "mail.smtp.ssl.enable=true\n"
        "mail.smtp.user=app@example.com\n"
        "mail.smtp.password=File-Pa55-word\n"
        "mail.smtp.connectiontimeout=5000\n"
        "mail.smtp.timeout=5000\n",
        encoding="utf-8",
    )
    path = tmp_path / "accounts.toml"
    path.write_text(
        '[defaults]\nto = "someone@example.com"\nfrom = "app@example.com"\ntimeout = 2\n'
        f'cafile = "{healthy.cafile}"\n\n'
        '[[accounts]]\nname = "billing"\nsettings_file = "billing.properties"\n\n'
        f'[[accounts]]\nname = "fine"\nhost = "127.0.0.1"\nport = {healthy.port}\nsecurity = "starttls"\n'
        'user = "app@example.com"\npassword_env = "LAB_PASSWORD"\n',
        encoding="utf-8",
    )
    result = cli("diagnose", "--profile", str(path), "--non-interactive", "--format", "json", environ=ENVIRON)
    data = json.loads(result.out)
    billing = next(a for a in data["accounts"] if a["name"] == "billing")["report"]
    first = billing["findings"][0]
    assert first["id"] == "config.invalid"
    assert any("mail.smtp.ssl.enable" in line for line in first["evidence"] + first["remediation"])
    assert billing["target"]["port"] == healthy.port  # read from the file, relative to the profile
    assert "File-Pa55-word" not in result.out and not leaked(result.out, "File-Pa55-word")


def test_a_wrong_settings_file_named_by_a_profile_is_bad_input_naming_account_file_and_line(cli, servers, tmp_path):
    (tmp_path / "other.txt").write_text("nothing=here\n", encoding="utf-8")
    path = tmp_path / "accounts.toml"
    path.write_text(
        '[[accounts]]\nname = "x"\nsettings_file = "other.txt"\n\n[[accounts]]\nname = "y"\nhost = "h"\n',
        encoding="utf-8",
    )
    result = cli("diagnose", "--profile", str(path), "--non-interactive", environ=ENVIRON)
    assert result.code == 2
    assert result.err.startswith(f"mailtriage: {path}:1: account 'x': {tmp_path / 'other.txt'}:1: no JavaMail settings")


def test_many_accounts_in_a_real_process_conclude_in_forked_workers_the_same_as_in_a_thread(
    cli, run_process, servers, tmp_path
):
    # pytest runs lab servers in threads, so in-process runs use the one-thread path; a real
    # process has one thread and forks inference workers. Both must reach the same conclusions.
    accounts = [account(f"ok-{i}", servers["healthy"]) for i in range(4)]
    accounts += [account(f"cert-{i}", servers["wrong-host"]) for i in range(3)]
    accounts += [account(f"pw-{i}", servers["bad-password"], password_env="WRONG_PASSWORD") for i in range(3)]
    path = profile(tmp_path, *accounts)
    argv = ("diagnose", "--profile", path, "--non-interactive", "--format", "json")

    def firsts(out: str) -> dict[str, list[str]]:
        return {a["name"]: [f["id"] for f in a["report"]["findings"]] for a in json.loads(out)["accounts"]}

    in_process = cli(*argv, environ=ENVIRON)
    as_process = run_process(*argv, env=ENVIRON)
    assert as_process.code == in_process.code == 1, as_process.err
    assert firsts(as_process.out) == firsts(in_process.out)
    assert firsts(as_process.out)["pw-2"][0] == "auth.credentials_rejected"
    # The workers write the reports; they redact as this process would.
    output = as_process.out + as_process.err
    assert not leaked(output, lab.LAB_PASSWORD) and not leaked(output, WRONG)
    # Each report is encoded once, in its worker: its file and its place in the summary agree.
    written = run_process(*argv, "--report-dir", str(tmp_path / "reports"), env=ENVIRON)
    assert written.code == 1, written.err
    summary = json.loads(written.out.split("\n10 reports written to")[0])
    for item in summary["accounts"]:
        text = (tmp_path / "reports" / f"{item['name']}.json").read_text(encoding="utf-8")
        assert json.loads(text) == item["report"] and text.endswith("}\n")


def test_accounts_are_shared_out_to_forked_processes_only_from_a_single_threaded_process(tmp_path):
    script = (
        "from engine.run.batch import PROCESSES_FROM as n, processes_for as p; print(p(n, 8), p(n - 1, 8), p(n, 1))"
    )
    chosen = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    cores = os.cpu_count() or 1
    forking_possible = sys.platform == "linux" and cores > 1
    # One per core, none for a few accounts, and never more than --jobs allows to probe at once.
    assert chosen.stdout.split() == [str(min(cores, 4) if forking_possible else 1), "1", "1"], chosen.stderr
    # With another thread alive, forking could copy a lock held mid-use: this process does the work.
    stop = threading.Event()
    other = threading.Thread(target=stop.wait, daemon=True)
    other.start()
    try:
        assert processes_for(PROCESSES_FROM, 8) == 1
    finally:
        stop.set()


@pytest.mark.parametrize("where", ["in this process", "in forked workers"])
def test_no_more_accounts_than_jobs_are_probed_at_the_same_time(cli, run_process, tmp_path, where):
    import asyncio

    # A server of the test's own that counts sessions between EHLO and its reply, holding each
    # a moment, so unbounded probing would show as overlap. It counts sessions, not sockets: the
    # server learns late that a client closed, and the TCP probe's own connection says nothing.
    state = {"open": 0, "most": 0, "port": 0}
    ready = threading.Event()
    stop_loop: list = []

    async def handle(reader, writer):
        try:
            writer.write(b"220 counter ESMTP\r\n")
            await writer.drain()
            if not await asyncio.wait_for(reader.readline(), 2):
                return
            state["open"] += 1
            state["most"] = max(state["most"], state["open"])
            await asyncio.sleep(0.3)
            state["open"] -= 1
            writer.write(b"421 4.3.2 counter closing\r\n")
            await writer.drain()
        except (TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()

    def serve():
        loop = asyncio.new_event_loop()
        server = loop.run_until_complete(asyncio.start_server(handle, "127.0.0.1", 0))
        state["port"] = server.sockets[0].getsockname()[1]
        stop_loop.append(loop)
        ready.set()
        loop.run_forever()
        server.close()
        loop.run_until_complete(server.wait_closed())
        loop.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    ready.wait(5)
    try:
        accounts = "".join(
            f'[[accounts]]\nname = "a{i}"\nhost = "127.0.0.1"\nport = {state["port"]}\n'
            'security = "none"\ntimeout = 3\n\n'
            for i in range(PROCESSES_FROM)
        )
        path = tmp_path / "accounts.toml"
        path.write_text(accounts, encoding="utf-8")
        # pytest runs the server in a thread, so in-process runs probe in this process; a real
        # process has one thread and shares the accounts out to one worker per core.
        run = cli if where == "in this process" else run_process
        result = run("diagnose", "--profile", str(path), "--non-interactive", "--jobs", "2", "--format", "json")
        firsts = {a["report"]["findings"][0]["id"] for a in json.loads(result.out)["accounts"]}
        assert len(firsts) == 1, firsts  # all accounts, one server, one conclusion
        assert state["most"] == 2  # bounded by --jobs, and really concurrent
    finally:
        stop_loop[0].call_soon_threadsafe(stop_loop[0].stop)
        thread.join(5)


def test_the_html_summary_is_a_page_whose_account_names_are_escaped(cli, servers, tmp_path):
    path = profile(
        tmp_path,
        account("<b>eu</b>", servers["healthy"]),
        account("hr", servers["bad-password"], password_env="WRONG_PASSWORD"),
    )
    out = tmp_path / "reports"
    result = cli(
        "diagnose",
        "--profile",
        path,
        "--non-interactive",
        "--format",
        "html",
        "--report-dir",
        str(out),
        environ=ENVIRON,
    )
    summary = result.out.split("\n2 reports written")[0]
    assert summary.lstrip().startswith("<!DOCTYPE html>") and summary.rstrip().endswith("</html>")
    assert "&lt;b&gt;eu&lt;/b&gt;" in summary and "<b>eu</b>" not in summary
    assert '<td class="problem">problem</td><td>auth.credentials_rejected</td>' in summary
    assert sorted(p.suffix for p in out.iterdir()) == [".html", ".html"]
