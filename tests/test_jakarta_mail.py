"""Jakarta Mail's own words about a lab server lead analyze-log where diagnose goes on that server.

An administrator of a Java application (Pega's Test Connectivity among them) often has only the
exception's message and, with mail.debug on, the debug output. For every lab scenario the real
client runs with and without debug against the same server that diagnose probes, and
analyze-log reading what the client printed must conclude what diagnose concludes first.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest

from engine import lab
from tests.jakartamail import RUN_LIMIT, JakartaMail, Outcome, conclusion
from tests.test_lab_diagnosis import NO_CREDENTIALS, diagnose_args

MODES = ("plain", "debug")
SHOWN_LINES = 12  # of the client output in a failure message, at its start and its end
SHOWN_WIDTH = 160


class ScenarioRun:
    """diagnose and both client runs against one lab server."""

    def __init__(self, diagnosed: str | None, outcomes: dict[str, Outcome]) -> None:
        self.diagnosed = diagnosed
        self.outcomes = outcomes


_RUNS: dict[str, ScenarioRun] = {}


def scenario_run(cli, client: JakartaMail, name: str) -> ScenarioRun:
    """Run the scenario once for the module; both modes' tests read the same run."""
    if name not in _RUNS:
        with lab.start(name) as server:
            user = None if name in NO_CREDENTIALS else lab.LAB_USER
            outcomes = {mode: client.run(server, mode == "debug", user=user) for mode in MODES}
            result = cli(*diagnose_args(server, name), environ={"LAB_PASSWORD": lab.LAB_PASSWORD})
        _RUNS[name] = ScenarioRun(conclusion(json.loads(result.out)), outcomes)
    return _RUNS[name]


def analyze(cli, text: str, *options: str):
    result = cli("analyze-log", "-", "--non-interactive", *options, stdin=text)
    assert result.code in (0, 1), f"analyze-log exit {result.code}: {result.err}"
    return result


def excerpt(output: str) -> str:
    lines = [line if len(line) <= SHOWN_WIDTH else line[:SHOWN_WIDTH] + "..." for line in output.splitlines()]
    if len(lines) > 2 * SHOWN_LINES:
        lines = [*lines[:SHOWN_LINES], f"... ({len(lines) - 2 * SHOWN_LINES} lines) ...", *lines[-SHOWN_LINES:]]
    return "\n".join("    | " + line for line in lines) or "    (no output)"


# Ports, message ids and times differ from run to run; what is left is what a person reads.
_VARYING = re.compile(r"\b\d{4,5}\b|<[^>\s]{6,}>|\b\d{1,2}:\d{2}:\d{2}\b|\b\d+ ms\b|@[0-9a-f]{6,}\b")


def shape(output: str) -> str:
    return _VARYING.sub("#", output).strip()


def readings(cli, client: JakartaMail, name: str, mode: str) -> set[str | None]:
    """What diagnose finds on every lab server whose client output reads exactly like this one's:
    text that is the same word for word cannot tell those servers apart, so any of them is right."""
    mine = shape(scenario_run(cli, client, name).outcomes[mode].output)
    same = [
        other
        for other in sorted(lab.SCENARIOS)
        if shape(scenario_run(cli, client, other).outcomes[mode].output) == mine
    ]
    return {scenario_run(cli, client, other).diagnosed for other in same}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", sorted(lab.SCENARIOS))
def test_jakarta_mails_output_leads_analyze_log_to_what_diagnose_finds(cli, jakarta_mail, name, mode):
    run = scenario_run(cli, jakarta_mail, name)
    outcome = run.outcomes[mode]
    report = json.loads(analyze(cli, outcome.output, "--format", "json").out)
    found = conclusion(report)
    errors = [f["id"] for f in report["findings"] if f["severity"] == "error"]
    ended = f"exit {outcome.code}" if outcome.code is not None else f"still running after {RUN_LIMIT:g} s, stopped"
    context = (
        f"lab scenario {name}, Jakarta Mail {mode} output ({ended}):\n"
        f"  diagnose concludes    {run.diagnosed}\n"
        f"  analyze-log concludes {found}\n"
        f"  client output:\n{excerpt(outcome.output)}"
    )
    if outcome.code == 0:
        # The client sent: it printed no failure, so there is nothing for analyze-log to explain.
        assert errors == [], context
        return
    if outcome.code is None:
        # Jakarta Mail reads an endless reply for ever: it never prints an error to paste.
        assert name == "endless-reply", context
        return
    assert found in readings(cli, jakarta_mail, name, mode), context


def test_servers_that_look_alike_to_jakarta_mail_are_few_and_named(cli, jakarta_mail):
    """Where text cannot tell servers apart, the test above accepts either finding; keep that rare."""
    alike = {
        (name, mode)
        for name in sorted(lab.SCENARIOS)
        for mode in MODES
        if scenario_run(cli, jakarta_mail, name).outcomes[mode].code == 1
        and len(readings(cli, jakarta_mail, name, mode)) > 1
    }
    # A read timeout before the greeting reads the same whether the port is silent, drips, floods
    # its greeting or wants implicit TLS; and "Unsupported or unrecognized SSL message" is all
    # JSSE says whether the port answers TLS with junk or with a plain SMTP greeting.
    timeouts = {"silent", "drip", "huge-greeting", "implicit-tls"}
    not_tls = {"garbage-tls", "ssl-to-starttls-port"}
    assert {name for name, _ in alike} <= timeouts | not_tls, sorted(alike)


PASSWORD = "Jakarta-S3cret!"


def test_a_password_in_jakarta_mails_debug_output_stays_out_of_every_report(cli, jakarta_mail, tmp_path: Path):
    forms = [
        PASSWORD,
        base64.b64encode(PASSWORD.encode()).decode(),
        base64.b64encode(f"\0{lab.LAB_USER}\0{PASSWORD}".encode()).decode(),
    ]
    with lab.start("bad-password") as server:
        debug = jakarta_mail.run(server, True, password=PASSWORD)
        with_auth = jakarta_mail.run(server, True, password=PASSWORD, debug_auth=True)
    # Jakarta Mail leaves the AUTH dialogue out of its debug output unless mail.debug.auth is on;
    # with it on, the password is there in base64, as an administrator may paste it.
    assert debug.code == with_auth.code == 1
    assert not any(form in debug.output for form in forms)
    assert forms[1] in with_auth.output
    for label, outcome in (("debug", debug), ("debug-auth", with_auth)):
        for fmt in ("text", "md", "html", "json"):
            report = tmp_path / f"{label}.{fmt}"
            result = analyze(cli, outcome.output, "--format", fmt, "--output", str(report))
            for text in (result.out, result.err, report.read_text()):
                leaked = [form for form in forms if form in text]
                assert not leaked, f"{label} output, {fmt} report shows {leaked}"
