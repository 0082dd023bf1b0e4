"""What every command shares: the injected surroundings, the exit codes, and bad input."""

from __future__ import annotations

import enum
import gc
import io
import os
import sys
from dataclasses import field
from typing import BinaryIO, TextIO

from engine.inputs.errors import InputError
from engine.values import record


class Exit(enum.IntEnum):
    OK = 0
    PROBLEM_FOUND = 1
    BAD_INPUT = 2
    INTERNAL_ERROR = 3
    INTERRUPTED = 130  # Ctrl-C, as shells report a process ended by SIGINT


class BadInput(InputError):
    """Anything the user can fix: shown as one line, exit 2."""


@record
class Environment:
    """Streams and surroundings, injected so tests run the real CLI in-process."""

    stdin: TextIO = field(default_factory=lambda: sys.stdin)
    stdout: TextIO = field(default_factory=lambda: sys.stdout)
    stderr: TextIO = field(default_factory=lambda: sys.stderr)
    environ: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    stdin_isatty: bool | None = None

    def interactive(self) -> bool:
        if self.stdin_isatty is not None:
            return self.stdin_isatty
        try:
            return self.stdin.isatty()
        except (AttributeError, ValueError):
            return False

    def stdin_bytes(self) -> BinaryIO:
        buffer = getattr(self.stdin, "buffer", None)
        if buffer is not None:
            return buffer
        return io.BytesIO(self.stdin.read().encode("utf-8"))


# Start-up makes some hundred thousand objects that the process keeps to its end: modules,
# classes, the knowledge base. With the cyclic collector running, it walks each of them again and
# again while they are made, and once more in Python's final collection at exit. main() pauses it
# until the knowledge is loaded (or the command ends), then sets everything made so far aside
# (gc.freeze): later collections, the final one among them, walk only what the command itself
# made. The frozen objects stay frozen, as the process ends after main(); a caller that lives on
# (the tests, which run main() in-process) calls gc.unfreeze().
_start_up = {"paused": False}


def pause_collection() -> None:
    """Start-up begins: no cyclic collection until resume_collection (if it ran at all)."""
    if gc.isenabled():
        gc.disable()
        _start_up["paused"] = True


def resume_collection() -> None:
    """Start-up is over: keep what exists out of later collections, and collect again."""
    if _start_up["paused"]:
        gc.freeze()
        gc.enable()
        _start_up["paused"] = False
