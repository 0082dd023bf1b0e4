"""`mailtriage lab`: list the scenarios, run one until told to stop, refuse bad names."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

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


# Loaded at start-up through PYTHONPATH: the lab extra's packages cannot be found, exactly as in an
# installation made without `mailtriage[lab]` (the import system raises the same error for them).
WITHOUT_LAB_EXTRA = """
import sys

class Absent:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in ("aiosmtpd", "trustme"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, Absent())
"""


@pytest.fixture
def without_lab_extra(tmp_path: Path) -> dict[str, str]:
    shim = tmp_path / "without-lab-extra"
    shim.mkdir()
    (shim / "sitecustomize.py").write_text(WITHOUT_LAB_EXTRA, encoding="utf-8")
    return {"PYTHONPATH": str(shim)}


@pytest.mark.parametrize("argv", [("lab", "bad-password", "--port", "0"), ("lab", "--list")])
def test_the_lab_without_its_extra_says_how_to_install_it_in_one_line(run_process, without_lab_extra, argv):
    result = run_process(*argv, env=without_lab_extra, timeout=30)
    assert result.code == 2
    assert result.out == ""
    assert result.err == (
        "mailtriage: lab: the lab's servers need aiosmtpd, which is not installed: pip install 'mailtriage[lab]'\n"
    )


def test_diagnosing_needs_nothing_from_the_lab_extra(run_process, without_lab_extra, closed_port):
    # Any import of aiosmtpd or trustme on the way would end these runs with an internal error.
    argv = ["--host", "127.0.0.1", "--port", str(closed_port), "--timeout", "1", "--non-interactive"]
    probed = run_process("diagnose", *argv, "--format", "json", env=without_lab_extra)
    assert probed.code == 1, probed.err
    assert json.loads(probed.out)["findings"][0]["id"] == "network.connection_refused"
    pasted = run_process(
        "analyze-log", "-", "--format", "json", stdin="535 5.7.8 Error: authentication failed\n", env=without_lab_extra
    )
    assert pasted.code == 1, pasted.err
    assert json.loads(pasted.out)["findings"][0]["id"] == "auth.credentials_rejected"
