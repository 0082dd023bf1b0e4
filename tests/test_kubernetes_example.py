"""contrib/kubernetes: the example Job is Kubernetes YAML of the documented shape, running what mailtriage accepts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from engine import lab
from engine.cli.parser import build_parser

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "contrib" / "kubernetes"


def documents() -> dict[str, dict[str, Any]]:
    loaded = list(yaml.safe_load_all((EXAMPLE / "mailtriage-job.yaml").read_text(encoding="utf-8")))
    return {doc["kind"]: doc for doc in loaded}


def container() -> dict[str, Any]:
    (only,) = documents()["Job"]["spec"]["template"]["spec"]["containers"]
    return only


def test_the_file_holds_a_secret_and_a_batch_job():
    docs = documents()

    assert set(docs) == {"Secret", "Job"}
    assert (docs["Job"]["apiVersion"], docs["Secret"]["apiVersion"]) == ("batch/v1", "v1")
    assert docs["Job"]["metadata"]["name"] == "mailtriage"


def test_the_job_puts_one_pod_on_each_node_on_the_nodes_own_network():
    spec = documents()["Job"]["spec"]
    pod = spec["template"]["spec"]

    assert spec["completionMode"] == "Indexed" and spec["completions"] == spec["parallelism"]
    assert pod["restartPolicy"] == "Never" and pod["hostNetwork"] is True
    (term,) = pod["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert term["topologyKey"] == "kubernetes.io/hostname"
    assert term["labelSelector"]["matchLabels"].items() <= spec["template"]["metadata"]["labels"].items()


def test_the_password_comes_from_the_secret_and_never_from_the_arguments():
    spec = container()
    secret = documents()["Secret"]

    (env,) = spec["env"]
    assert env["valueFrom"]["secretKeyRef"] == {"name": secret["metadata"]["name"], "key": "password"}
    args = build_parser().parse_args(spec["args"])
    assert args.password_env == env["name"]
    assert secret["stringData"]["password"] not in " ".join(spec["args"])


def test_the_arguments_are_the_json_diagnosis_the_playbook_runs():
    args = build_parser().parse_args(container()["args"])

    assert args.command == "diagnose"
    assert (args.format, args.non_interactive, args.output) == ("json", True, None)
    playbook = (REPO / "contrib" / "ansible" / "mailtriage.yml").read_text(encoding="utf-8")
    assert "'diagnose'" in playbook and "'--format', 'json'" in playbook and "'--non-interactive'" in playbook


def wrapped(args: list[str], **environ: str) -> subprocess.CompletedProcess[str]:
    """The container's command as Kubernetes runs it, with this environment's mailtriage on PATH."""
    command = container()["command"]
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}", **environ)
    return subprocess.run([*command, *args], capture_output=True, text=True, env=env, timeout=120)


def test_a_problem_found_completes_the_pod_and_its_log_is_the_json_report():
    args = container()["args"]
    with lab.start("bad-password") as server:
        local = [{"smtp.example.com": "127.0.0.1", "587": str(server.port)}.get(a, a) for a in args] + [
            "--cafile",
            str(server.cafile),
            "--timeout",
            "5",
        ]
        # The Secret's placeholder password, which the lab refuses: a problem found.
        proc = wrapped(local, SMTP_PASSWORD=documents()["Secret"]["stringData"]["password"])

    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["schema"] == "mailtriage.report/1"
    assert next(f["id"] for f in report["findings"]) == "auth.credentials_rejected"


def test_bad_input_fails_the_pod():
    proc = wrapped(["diagnose", "--port", "not-a-port"])

    assert proc.returncode != 0


def test_the_image_installs_the_wheel_and_runs_mailtriage():
    dockerfile = (EXAMPLE / "Dockerfile").read_text(encoding="utf-8")

    assert "pip install" in dockerfile and "mailtriage-*.whl" in dockerfile
    assert 'ENTRYPOINT ["mailtriage"]' in dockerfile
