"""What every command shares: the injected surroundings, the exit codes, and bad input."""

from __future__ import annotations

import enum
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
