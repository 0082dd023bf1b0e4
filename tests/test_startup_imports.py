"""What a command imports: reading one pasted line must not pay for probing, YAML or prompts.

Each check runs the command in a fresh interpreter (as `python -X importtime` would see it),
with the knowledge cache warm, and lists the top-level packages it imported.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
LIST_IMPORTS = """
import contextlib, io, json, sys
from engine.cli.main import main
with contextlib.redirect_stdout(io.StringIO()):
    code = main(sys.argv[1:])
print(json.dumps({"exit": code, "modules": sorted(sys.modules)}))
"""
# Probing (sockets, asyncio, ssl, dnspython, cryptography), parsing and validating knowledge files (YAML,
# pydantic: a warm cache holds plain dataclasses), prompting and the lab.
NEVER_FOR_PASTED_TEXT = {
    "socket",
    "asyncio",
    "ssl",
    "dns",
    "cryptography",
    "yaml",
    "pydantic",
    "rich",
    "questionary",
    "aiosmtpd",
    "trustme",
}


def listed(tmp_path: Path, *args: str, environ: dict[str, str] | None = None) -> tuple[int, set[str]]:
    """The command's exit code and every module it imported, by its full name."""
    env = {"MAILTRIAGE_CACHE_DIR": str(tmp_path / "cache"), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    env.update(environ or {})
    run = [sys.executable, "-c", LIST_IMPORTS, *args]
    subprocess.run(run, cwd=REPO, env=env, capture_output=True, check=False)  # warms the cache
    done = subprocess.run(run, cwd=REPO, env=env, capture_output=True, text=True, check=False)
    assert done.stdout, done.stderr
    found = json.loads(done.stdout.splitlines()[-1])
    return found["exit"], set(found["modules"])


def imported(tmp_path: Path, *args: str) -> set[str]:
    """The top-level packages the command imported."""
    return {name.split(".")[0] for name in listed(tmp_path, *args)[1]}


@pytest.fixture
def one_line(tmp_path: Path) -> str:
    path = tmp_path / "error.txt"
    path.write_text("java.net.UnknownHostException: smtp.example.invalid\n", encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_analyze_log_on_one_line_imports_nothing_for_probing_yaml_or_prompts(tmp_path, one_line, fmt):
    modules = imported(tmp_path, "analyze-log", one_line, "--non-interactive", "--format", fmt)
    assert "engine" in modules and "experta" in modules  # the check saw a real run
    assert modules & NEVER_FOR_PASTED_TEXT == set()


def test_a_short_text_is_read_without_loading_hyperscan_or_openssls_hashes(tmp_path, one_line):
    # Loading the library and its stored database costs more than scanning a pasted text in Python;
    # the cache is found by a checksum, and a JSON report has no ticket id to hash.
    modules = imported(tmp_path, "analyze-log", one_line, "--non-interactive", "--format", "json")
    assert "engine" in modules
    assert modules & {"hyperscan", "hashlib", "_hashlib"} == set()


def test_a_diagnosis_imports_the_probes_the_text_path_leaves_out(tmp_path):
    # The same check sees an import when there is one: diagnose brings in sockets and ssl.
    modules = imported(tmp_path, "diagnose", "--host", "127.0.0.1", "--port", "1", "--non-interactive")
    assert {"socket", "ssl"} <= modules


def test_a_json_report_needs_no_template_engine(tmp_path, one_line):
    # Wording is filled in from sentence plans kept in the cache; only templates need Jinja.
    as_json = imported(tmp_path, "analyze-log", one_line, "--non-interactive", "--format", "json")
    as_text = imported(tmp_path, "analyze-log", one_line, "--non-interactive", "--format", "text")
    assert "jinja2" not in as_json
    assert "jinja2" in as_text


def test_a_diagnosis_imports_no_validation_or_template_code(tmp_path):
    modules = imported(
        tmp_path, "diagnose", "--host", "127.0.0.1", "--port", "1", "--non-interactive", "--format", "json"
    )
    assert {"socket", "ssl"} <= modules
    assert modules & {"pydantic", "jinja2", "yaml", "dns"} == set()


def test_a_healthy_diagnosis_imports_no_reader_or_probe_it_does_not_use(tmp_path):
    # The port sweep runs only when the port fails, DNS checks only with --check-dns, settings
    # files only when one is given, and a session file only with --session.
    from engine import lab

    with lab.start("healthy") as server:
        code, modules = listed(
            tmp_path,
            *("diagnose", "--host", "127.0.0.1", "--port", str(server.port), "--security", "starttls"),
            *("--cafile", str(server.cafile), "--user", lab.LAB_USER, "--from", lab.LAB_SENDER),
            *("--to", lab.LAB_RECIPIENT, "--non-interactive", "--format", "json"),
            environ={"MAILTRIAGE_PASSWORD": lab.LAB_PASSWORD},
        )
    assert code == 0  # the check saw a whole healthy dialogue
    unused = {
        "asyncio",  # one account is probed on blocking sockets, without an event loop
        "engine.probes.ports",
        "engine.probes.dnschecks",
        "engine.inputs.configfiles.model",
        "engine.inputs.configfiles.read",
        "engine.inputs.configfiles.javamail",
        "tempfile",
        "difflib",
        "gzip",
        "hyperscan",  # no text to scan
        "engine.text.multimatch",
        "engine.text.signatures",
        "_strptime",  # certificate dates are read without time.strptime
        "shutil",  # argparse asks it the terminal's width (bz2 and lzma come with it)
    }
    assert modules & unused == set()
