"""The cyclic collector waits while start-up makes what the process keeps, then sets it aside."""

from __future__ import annotations

import argparse
import gc
import io
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.cli import collector, inputs
from engine.cli import lab as lab_command
from engine.cli.environment import Environment
from engine.cli.main import main


@pytest.fixture(autouse=True)
def collector_as_it_was() -> Iterator[None]:
    was = gc.isenabled()
    yield
    collector.resume()  # a test that paused and failed leaves nothing paused
    gc.unfreeze()
    if was:
        gc.enable()


def quiet() -> Environment:
    return Environment(stdin=io.StringIO(), stdout=io.StringIO(), stderr=io.StringIO(), environ={}, stdin_isatty=False)


def test_the_collector_resumes_once_the_knowledge_is_loaded_with_what_exists_set_aside():
    collector.pause()
    assert not gc.isenabled()
    inputs.knowledge(argparse.Namespace(knowledge=[]))
    assert gc.isenabled()
    assert gc.get_freeze_count() > 10_000  # the modules and the knowledge base


def test_main_leaves_the_collector_running_after_a_command(tmp_path: Path):
    text = tmp_path / "error.txt"
    text.write_text("java.net.UnknownHostException: smtp.example.invalid\n", encoding="utf-8")
    code = main(["analyze-log", str(text), "--format", "json", "--non-interactive"], quiet())
    assert code == 1  # an error was found: the command ran through
    assert gc.isenabled()
    assert gc.get_freeze_count() > 0


def test_main_leaves_the_collector_running_when_the_command_fails_before_loading_knowledge():
    code = main(["explain", "/nonexistent/session.json"], quiet())
    assert code == 2
    assert gc.isenabled()


def test_a_collector_disabled_before_main_stays_disabled():
    gc.disable()
    main(["schema", "report"], quiet())
    assert not gc.isenabled()
    assert gc.get_freeze_count() == 0  # nothing was paused, so nothing is set aside


def test_the_lab_server_collects_as_it_serves_though_it_loads_no_knowledge():
    collector.pause()
    lab_command.run(argparse.Namespace(list=True, scenario=None, port=None), quiet())
    assert gc.isenabled()


def test_the_entry_pauses_the_collector_before_it_imports_the_command_line():
    # Imported, not run: the state it leaves is the one main() starts from.
    probe = "import gc, engine.__main__, sys; print(gc.isenabled(), 'engine.cli.parser' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.split() == ["False", "True"]


def test_the_installed_command_and_python_m_engine_run_through_the_same_entry(run_process):
    result = run_process("--version")
    assert result.code == 0 and "mailtriage" in result.out
    scripts = Path(sys.executable).parent
    installed = subprocess.run(
        [str(scripts / "mailtriage"), "--version"], capture_output=True, text=True, timeout=60, check=False
    )
    assert installed.returncode == 0 and installed.stdout == result.out
    assert "engine.__main__" in (scripts / "mailtriage").read_text(encoding="utf-8")
