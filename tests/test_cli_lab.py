"""`mailtriage lab`: list the scenarios, run one until told to stop, refuse bad names."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys

from engine import lab


def test_lab_list_names_every_scenario_with_the_finding_it_reproduces(cli):
    result = cli("lab", "--list")
    assert result.code == 0
    rows = [line.split() for line in result.out.splitlines()]
    assert {(row[0], row[1]) for row in rows} == {(s.name, s.expected) for s in lab.SCENARIOS.values()}


def test_an_unknown_scenario_is_bad_input_with_a_suggestion(cli):
    result = cli("lab", "bad-pasword")
    assert result.code == 2
    assert (
        result.err.strip()
        == "mailtriage: lab: unknown scenario 'bad-pasword' (did you mean 'bad-password'?); see 'mailtriage lab --list'"
    )


def test_lab_without_a_scenario_says_what_it_needs(cli):
    result = cli("lab")
    assert result.code == 2
    assert "lab needs a SCENARIO or --list" in result.err


def test_a_running_lab_is_diagnosed_and_stops_cleanly_on_sigterm(cli, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILTRIAGE_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "engine", "lab", "relay-denied"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env=env,
    )
    try:
        lines = [proc.stdout.readline() for _ in range(5)]
        text = "".join(lines)
        port = int(re.search(r"listening on 127\.0\.0\.1:(\d+)", text).group(1))
        cafile = re.search(r"--cafile (\S+)", text).group(1)
        result = cli(
            "diagnose",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--security",
            "starttls",
            "--cafile",
            cafile,
            "--from",
            lab.LAB_SENDER,
            "--to",
            "someone@elsewhere.example",
            "--timeout",
            "2",
            "--non-interactive",
            "--format",
            "json",
        )
        assert json.loads(result.out)["findings"][0]["id"] == "relay.denied"
    finally:
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=5)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
