"""Read pasted text and logs as blocks of whole lines: files or stdin, plain or gzip, any encoding.

A block is a few megabytes of bytes that ends at a line break, so a multi-pattern scan can
read it in one call and no line is ever split between two scans. Decoding waits until a line
is known to matter (undecodable bytes are replaced then), which keeps a gigabyte log cheap.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, cast

from engine.inputs.errors import TextInputError
from engine.values import frozen

MAX_LINE = 64 * 1024  # bytes of one line kept for matching and evidence; the rest is dropped


BLOCK = 2 * 1024 * 1024  # bytes read at a time: large enough that the scan, not Python, does the looping
GZIP_MAGIC = b"\x1f\x8b"


@frozen
class Block:
    data: bytes  # whole lines, each ending with b"\n" except perhaps the very last of a source
    name: str  # the file as the user named it, or <stdin>
    first_line: int  # number of the block's first line in its source, from 1
    lines: int  # how many lines it holds (the last may lack its line break)

    @classmethod
    def of_text(cls, text: str, name: str) -> Block:
        data = text.encode("utf-8")
        return cls(data, name, 1, _count_lines(data))

    def origin(self, index: int) -> str:
        return f"{self.name}:{self.first_line + index}"


def _count_lines(data: bytes) -> int:
    return data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)


def _blocks_of(stream: BinaryIO, name: str, size: int) -> Iterator[Block]:
    # Any binary stream with read() serves as the raw layer of a BufferedReader (for peek).
    buffered = stream if isinstance(stream, io.BufferedReader) else io.BufferedReader(cast(io.RawIOBase, stream))
    if buffered.peek(2)[:2] == GZIP_MAGIC:
        import gzip  # only for a compressed log

        buffered = io.BufferedReader(cast(io.RawIOBase, gzip.GzipFile(fileobj=buffered)))
    line = 1
    carry = b""
    skipping = False  # inside the dropped tail of an over-long line
    while chunk := buffered.read(size):
        if skipping:
            end = chunk.find(b"\n")
            if end < 0:
                continue
            chunk, skipping = chunk[end + 1 :], False
        cut = chunk.rfind(b"\n") + 1
        if cut:
            # One copy of the block, not two: the partial line carried over plus the whole lines.
            whole = b"".join((carry, memoryview(chunk)[:cut]))
            carry = chunk[cut:]
            lines = whole.count(b"\n")
            yield Block(whole, name, line, lines)
            line += lines
        else:
            carry += chunk
        if len(carry) > MAX_LINE:
            # A line longer than MAX_LINE keeps its start (evidence needs it); memory stays bounded.
            yield Block(carry[:MAX_LINE] + b"\n", name, line, 1)
            line += 1
            carry, skipping = b"", True
    if carry:
        yield Block(carry, name, line, 1)


def read_blocks(source: str, stdin: BinaryIO, size: int = BLOCK) -> Iterator[Block]:
    """Blocks of one source; '-' is standard input."""
    if source == "-":
        yield from _guarded(stdin, "<stdin>", "standard input", size)
        return
    path = Path(source)
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise TextInputError(f"cannot read {source}: {exc.strerror or exc}") from None
    with handle:
        yield from _guarded(handle, source, source, size)


def _guarded(stream: BinaryIO, name: str, shown: str, size: int) -> Iterator[Block]:
    try:
        yield from _blocks_of(stream, name, size)
    except (OSError, EOFError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
        raise TextInputError(f"cannot read {shown}: {getattr(exc, 'strerror', None) or exc}") from None
