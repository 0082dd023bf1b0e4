"""contrib/ansible/mailtriage.yml, run for real by ansible-core against a real Postfix.

Three inventory hosts with ansible_connection=local stand for three application nodes; each has
its own source address in 127.0.0.0/8 and its own virtual environment, into which the playbook
installs mailtriage's wheel. The Postfix refuses one of those addresses (check_client_access).
The wheel is installed without its dependencies (the test makes no connection outside this
machine); PYTHONPATH lends them from the test's own environment.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.postfixtarget import DOMAIN, Target, postfix_target

REPO = Path(__file__).resolve().parent.parent
PLAYBOOK = REPO / "contrib" / "ansible" / "mailtriage.yml"
BIN = Path(sys.executable).parent
NODES = {"node-a": "127.0.0.41", "node-b": "127.0.0.42", "node-c": "127.0.0.43"}
REFUSED = "127.0.0.42"
USER = f"app@{DOMAIN}"
PASSWORD = "s3cret-app"


@pytest.fixture(scope="module")
def played(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path]:
    """The playbook's run and its controller folder, against a Postfix that refuses node-b."""
    root = tmp_path_factory.mktemp("ansible")
    reports = root / "reports"
    with postfix_target(Target(refused_clients=(f"{REFUSED}/32",))) as pf:
        hosts = [
            f"{node} ansible_connection=local mailtriage_source_address={source} mailtriage_venv={root}/venvs/{node}"
            for node, source in NODES.items()
        ]
        (root / "inventory.ini").write_text(
            "[app_nodes]\n" + "\n".join(hosts) + f"\n\n[app_nodes:vars]\nansible_python_interpreter={sys.executable}\n",
            encoding="utf-8",
        )
        (root / "vars.json").write_text(
            json.dumps(
                {
                    "mailtriage_host": pf.host,
                    "mailtriage_port": pf.port,
                    "mailtriage_security": "starttls",
                    "mailtriage_cafile": str(pf.cafile),
                    "mailtriage_user": USER,
                    "mailtriage_from": USER,
                    "mailtriage_to": f"someone@{DOMAIN}",
                    "mailtriage_answers": {"deployment": "on_premises"},
                    "mailtriage_wheel": str(wheel),
                    "mailtriage_pip_args": "--no-index --no-deps",
                    "mailtriage_environment": {"PYTHONPATH": sysconfig.get_paths()["purelib"]},
                    "mailtriage_reports": str(reports),
                    "mailtriage_controller_command": str(BIN / "mailtriage"),
                }
            ),
            encoding="utf-8",
        )
        env = {key: value for key, value in os.environ.items() if not key.startswith(("ANSIBLE_", "MAILTRIAGE_"))} | {
            "MAILTRIAGE_PASSWORD": PASSWORD,  # the controller's environment, as the playbook documents
            "ANSIBLE_HOME": str(root / "ansible-home"),
            "ANSIBLE_LOCAL_TEMP": str(root / "ansible-tmp"),
            "ANSIBLE_REMOTE_TEMP": str(root / "ansible-remote-tmp"),
            "ANSIBLE_NOCOLOR": "1",
            "LC_ALL": "C.UTF-8",  # ansible-core refuses to start in a locale that is not UTF-8
            "ANSIBLE_FORCE_COLOR": "0",
            "TMPDIR": str(root / "tmp"),
        }
        (root / "tmp").mkdir()
        proc = subprocess.run(
            [
                str(BIN / "ansible-playbook"),
                "-i",
                str(root / "inventory.ini"),
                str(PLAYBOOK),
                "-e",
                f"@{root / 'vars.json'}",
            ],
            capture_output=True,
            text=True,
            env=env,
            cwd=root,
            timeout=600,
        )
    return proc, root


def test_the_playbook_succeeds_on_every_host(played):
    proc, _ = played

    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    for node in NODES:
        assert f"{node}" in proc.stdout and "failed=0" in proc.stdout.split(f"\n{node}", 1)[-1].split("\n", 1)[0]


def test_each_node_reports_from_its_own_source_address(played):
    _, root = played

    for node, source in NODES.items():
        report = json.loads((root / "reports" / "nodes" / f"{node}.json").read_text(encoding="utf-8"))
        facts = {f["name"]: f["value"] for f in report["facts"]}
        assert facts["probe.local_address"] == source
        # The playbook installed the wheel into the node's own environment, and ran that.
        venv = root / "venvs" / node
        assert (venv / "bin" / "mailtriage").is_file()
        assert list(venv.glob("lib/python*/site-packages/engine/__init__.py"))
        assert list(venv.glob("lib/python*/site-packages/mailtriage-*.dist-info"))


def test_the_merged_report_names_exactly_the_refused_node_and_its_address(played):
    proc, root = played

    fleet = json.loads((root / "reports" / "fleet.json").read_text(encoding="utf-8"))
    refused = [c for c in fleet["causes"] if c["finding"] == "ip.not_safelisted"]
    assert [(c["where"], c["nodes"]) for c in refused] == [("some_nodes", ["node-b"])]
    assert refused[0]["addresses"] == [{"node": "node-b", "address": REFUSED, "kind": "local"}]
    assert [sorted(c["nodes"]) for c in fleet["causes"] if c["finding"] is None] == [["node-a", "node-c"]]
    assert (root / "reports" / "fleet.md").is_file() and (root / "reports" / "fleet.html").is_file()
    assert "Node-specific: node-b" in proc.stdout and REFUSED in proc.stdout


def test_the_password_is_in_no_output_no_report_and_no_file_left_behind(played):
    proc, root = played

    assert PASSWORD not in proc.stdout + proc.stderr
    for path in root.rglob("*"):
        if path.is_file() and "venvs" not in path.parts and "ansible-home" not in path.parts:
            assert PASSWORD not in path.read_text(encoding="utf-8", errors="replace"), path
    assert not list((root / "tmp").glob("mailtriage-*")), "the working folders were not removed"
