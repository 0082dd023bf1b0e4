"""SMTP replies read with bounds on time, line length and line count, and a redacted transcript.

smtplib reads without a deadline per reply and trusts the server's framing; a diagnostic probe
meets servers that drip, flood or speak another protocol, so it reads its own way.
"""

from __future__ import annotations

import re
import ssl
import time
from dataclasses import field

from engine.probes.dial import Connection
from engine.redact import Redactor
from engine.reply_text import reply_words
from engine.values import record

MAX_LINE = 4096  # RFC 5321 allows 512 octets per reply line; this leaves room for odd servers
MAX_REPLY_LINES = 100
MAX_TRANSCRIPT = 400
SHOWN_LINE = 300  # characters of one line kept in the transcript
_REPLY_LINE = re.compile(rb"^([2-5][0-9][0-9])([ -]|\r?\n)")
_ENHANCED = re.compile(r"^([245]\.\d{1,3}\.\d{1,3})\b")


class WireError(Exception):
    """The dialogue could not go on: timeout, closed, or a protocol violation (kind says which)."""

    def __init__(self, kind: str, detail: str, received: int = 0):
        super().__init__(detail)
        self.kind = kind  # timeout | closed | truncated | line_too_long | endless_reply | garbage
        self.detail = detail
        self.received = received


@record
class Reply:
    code: int
    lines: list[str]

    @property
    def text(self) -> str:
        return " ".join(self.lines)

    @property
    def enhanced(self) -> str | None:
        """The RFC 3463 enhanced status code at the start of the text, if the server sends one."""
        hit = _ENHANCED.match(self.lines[0]) if self.lines else None
        return hit.group(1) if hit else None

    def shown(self) -> str:
        return f"{self.code} {self.text}".strip()

    @property
    def wording(self) -> str:
        """What the server says in words: the text without the codes its lines repeat."""
        return reply_words(self.text, self.code, self.enhanced)

    @property
    def positive(self) -> bool:
        return 200 <= self.code < 400


@record
class Transcript:
    lines: list[str] = field(default_factory=list)
    redact: Redactor = field(default_factory=Redactor)

    def add(self, direction: str, text: str) -> None:
        if len(self.lines) >= MAX_TRANSCRIPT:
            return
        if len(text) > SHOWN_LINE:
            text = text[:SHOWN_LINE] + f"... ({len(text)} characters)"
        self.lines.append(self.redact(f"{direction}: {text}"))
        if len(self.lines) == MAX_TRANSCRIPT:
            self.lines.append("(transcript cut here)")


class Wire:
    """One SMTP connection: commands out, bounded replies in, every line in the transcript."""

    def __init__(self, connection: Connection, transcript: Transcript):
        self.connection = connection
        self.transcript = transcript
        self.buffer = bytearray()
        self.received = 0

    async def _chunk(self, deadline: float) -> None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise WireError("timeout", "no complete reply in time", self.received)
        try:
            chunk = await self.connection.read(4096, remaining)
        except TimeoutError:
            raise WireError("timeout", "no complete reply in time", self.received) from None
        except (ConnectionError, ssl.SSLError, OSError) as exc:
            raise WireError("closed", f"connection lost: {exc}", self.received) from None
        if not chunk:
            if self.buffer:
                raise WireError(
                    "truncated", "the server closed the connection in the middle of a reply line", self.received
                )
            raise WireError("closed", "the server closed the connection", self.received)
        self.received += len(chunk)
        self.buffer += chunk

    async def _line(self, deadline: float) -> bytes:
        while True:
            end = self.buffer.find(b"\n")
            if end >= 0:
                line = bytes(self.buffer[: end + 1])
                del self.buffer[: end + 1]
                if len(line) > MAX_LINE:
                    raise WireError("line_too_long", f"a reply line of {len(line)} bytes", self.received)
                return line
            if len(self.buffer) > MAX_LINE:
                size = len(self.buffer)
                self.buffer.clear()
                raise WireError("line_too_long", f"a reply line of over {size} bytes without an end", self.received)
            # Four bytes are enough to tell SMTP from anything else; no need to wait for more.
            if len(self.buffer) >= 4 and not _REPLY_LINE.match(bytes(self.buffer[:4]) + b"\n"):
                raise WireError("garbage", f"not an SMTP reply: {bytes(self.buffer[:32])!r}", self.received)
            await self._chunk(deadline)

    async def reply(self, deadline: float) -> Reply:
        lines: list[str] = []
        code = 0
        while True:
            try:
                raw = await self._line(deadline)
            except WireError as exc:
                if exc.kind == "closed" and lines:
                    raise WireError(
                        "truncated",
                        "the server closed the connection in the middle of a multi-line reply",
                        self.received,
                    ) from None
                raise
            hit = _REPLY_LINE.match(raw)
            if hit is None:
                raise WireError("garbage", f"not an SMTP reply: {raw[:32]!r}", self.received)
            text = raw[4:].decode("utf-8", errors="replace").rstrip("\r\n")
            self.transcript.add("S", raw.decode("utf-8", errors="replace").rstrip("\r\n"))
            this_code = int(hit.group(1))
            if code and this_code != code:
                raise WireError("garbage", f"reply lines disagree on the code ({code} then {this_code})", self.received)
            code = this_code
            lines.append(text)
            if hit.group(2) != b"-":
                return Reply(code, lines)
            if len(lines) >= MAX_REPLY_LINES:
                raise WireError("endless_reply", f"a reply of over {MAX_REPLY_LINES} lines", self.received)

    async def send(self, line: str, shown: str | None = None) -> None:
        self.transcript.add("C", shown if shown is not None else line)
        try:
            await self.connection.write(line.encode("utf-8") + b"\r\n")
        except (ConnectionError, OSError) as exc:
            raise WireError("closed", f"connection lost while sending: {exc}", self.received) from None

    async def command(self, line: str, deadline: float, shown: str | None = None) -> Reply:
        await self.send(line, shown)
        return await self.reply(deadline)

    def pending_bytes(self) -> int:
        return len(self.buffer)

    async def close(self) -> None:
        await self.connection.close()
