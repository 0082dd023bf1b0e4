"""Read pasted text and logs as numbered lines: files or stdin, plain or gzip, any encoding."""

from __future__ import annotations

import gzip
import io
import zlib
from pathlib import Path
from typing import BinaryIO, Iterator

from engine.signatures import Line

MAX_LINE = 64 * 1024  # longer lines are cut: evidence needs the start, memory must stay bounded
GZIP_MAGIC = b"\x1f\x8b"


class TextInputError(Exception):
    """A log that cannot be opened; the message names the file and the reason."""


def _lines_of(stream: BinaryIO, name: str) -> Iterator[Line]:
    buffered = io.BufferedReader(stream) if not isinstance(stream, io.BufferedReader) else stream  # type: ignore[arg-type]
    if buffered.peek(2)[:2] == GZIP_MAGIC:
        buffered = io.BufferedReader(gzip.GzipFile(fileobj=buffered))  # type: ignore[arg-type]
    number = 0
    while True:
        raw = buffered.readline(MAX_LINE)
        if not raw:
            return
        number += 1
        if not raw.endswith(b"\n"):
            # Skip the rest of an over-long line without holding it in memory.
            while True:
                rest = buffered.readline(MAX_LINE)
                if not rest or rest.endswith(b"\n"):
                    break
        yield Line(raw.decode("utf-8", errors="replace").rstrip("\r\n"), f"{name}:{number}")


def read_lines(source: str, stdin: BinaryIO) -> Iterator[Line]:
    """Lines of one source; '-' is standard input."""
    if source == "-":
        yield from _guarded(stdin, "<stdin>", "standard input")
        return
    path = Path(source)
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise TextInputError(f"cannot read {source}: {exc.strerror or exc}") from None
    with handle:
        yield from _guarded(handle, source, source)


def _guarded(stream: BinaryIO, name: str, shown: str) -> Iterator[Line]:
    try:
        yield from _lines_of(stream, name)
    except (OSError, EOFError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
        raise TextInputError(f"cannot read {shown}: {getattr(exc, 'strerror', None) or exc}") from None
