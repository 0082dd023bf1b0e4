"""`python -m engine`, and the `mailtriage` command (pyproject.toml's [project.scripts])."""

import sys

from engine.cli import collector

collector.pause()  # before the imports below, which make most of what start-up keeps

from engine.cli.main import main  # noqa: E402


def run() -> None:
    """The command, then the process's end without the interpreter's teardown.

    Freeing every module and object start-up made costs 2 to 5 ms of a 100 ms diagnosis and
    serves nothing once the exit handlers have run and the output is flushed. Every file the
    commands write is closed by then (they write in `with` blocks). A thread still at work, or
    output that cannot be flushed, gets the interpreter's own exit, which waits for the one and
    reports the other.
    """
    code = main()
    import atexit
    import os
    import threading

    main_thread = threading.main_thread()
    if any(t is not main_thread and not t.daemon and t.is_alive() for t in threading.enumerate()):
        sys.exit(code)
    atexit._run_exitfuncs()  # what sys.exit would run: weakref finalizers (temporary folders) among them
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # a closed pipe, a closed stream
        sys.exit(code)
    os._exit(code)


if __name__ == "__main__":
    run()
