"""The entry's exit (engine/__main__.py run): the process ends without the interpreter's teardown,
yet with main()'s exit code, every exit handler run, every byte of output out, and no thread cut short."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def entry(tmp_path: Path, before: str, *argv: str) -> subprocess.CompletedProcess[str]:
    """`run()` as `python -m engine` calls it, after `before` has set something up."""
    script = "\n".join(
        [
            "import sys",
            f"sys.argv = ['mailtriage', *{list(argv)!r}]",
            before,
            "import engine.__main__",
            "engine.__main__.run()",
        ]
    )
    env = {"MAILTRIAGE_CACHE_DIR": str(tmp_path / "cache"), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    return subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_the_process_ends_with_mains_exit_code(tmp_path):
    assert entry(tmp_path, "", "schema", "report").returncode == 0
    missing = entry(tmp_path, "", "analyze-log", str(tmp_path / "no-such.log"), "--non-interactive")
    assert missing.returncode == 2
    assert "no-such.log" in missing.stderr


def test_exit_handlers_run_before_the_process_ends(tmp_path):
    marker = tmp_path / "handled"
    before = f"import atexit, pathlib\natexit.register(pathlib.Path({str(marker)!r}).write_text, 'done')"
    assert entry(tmp_path, before, "schema", "report").returncode == 0
    assert marker.read_text() == "done"


def test_all_of_an_output_longer_than_a_pipe_holds_reaches_it(tmp_path):
    done = entry(tmp_path, "", "knowledge", "list")
    whole = subprocess.run(
        [sys.executable, "-c", "import sys; from engine.cli.main import main; sys.exit(main())", "knowledge", "list"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == whole.returncode == 0
    assert len(done.stdout) > 65_536  # more than a Linux pipe holds at once
    assert done.stdout == whole.stdout


def test_a_thread_still_at_work_is_waited_for(tmp_path):
    marker = tmp_path / "finished"
    before = (
        "import threading, time, pathlib\n"
        f"threading.Thread(target=lambda: (time.sleep(0.5), pathlib.Path({str(marker)!r}).write_text('yes'))).start()"
    )
    assert entry(tmp_path, before, "schema", "report").returncode == 0
    assert marker.read_text() == "yes"
