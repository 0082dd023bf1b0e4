"""Servers on a bare socket that refuse or misbehave: silent, huge, endless, dripping, garbage, cut off."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Coroutine
from typing import Any

from engine.lab.scenarios import SERVER_NAME, Raw, RawBehaviour


class Peer:
    """One raw connection: bounded writes for the behaviour, and notice of the client's leaving."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.heard = asyncio.Event()  # the client has sent something (a TLS ClientHello, EHLO...)
        self.gone = asyncio.Event()  # the client has closed its side

    async def listen(self) -> None:
        """Read and discard what the client sends, a chunk at a time, until it leaves."""
        try:
            while await self.reader.read(4096):
                self.heard.set()
        finally:
            self.gone.set()

    async def send(self, data: bytes) -> None:
        # drain() waits while the client does not read, so the server never buffers much.
        self.writer.write(data)
        await self.writer.drain()


async def session(spec: Raw, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Serve one client as the scenario says, until the client leaves or the behaviour hangs up."""
    peer = Peer(reader, writer)
    tasks = [asyncio.create_task(peer.listen()), asyncio.create_task(BEHAVIOURS[spec.does](peer, spec))]
    try:
        # Whichever ends first ends the session: the client left, or the behaviour hung up.
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:
        pass  # a last resort of LabServer.close(); ending normally keeps asyncio's stream callback quiet
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        writer.close()


# Each returns when the server should hang up.


async def _greet_and_close(peer: Peer, spec: Raw) -> None:
    await peer.send(spec.reply.encode() + b"\r\n")


async def _silent(peer: Peer, spec: Raw) -> None:
    await peer.gone.wait()


async def _huge_greeting(peer: Peer, spec: Raw) -> None:
    await peer.send(b"220 ")
    chunk = b"x" * 65536
    for _ in range(16):  # 1 MiB, no newline
        await peer.send(chunk)
    await peer.gone.wait()


async def _endless_reply(peer: Peer, spec: Raw) -> None:
    line = 0
    while True:
        line += 1
        await peer.send(f"220-{SERVER_NAME} ESMTP greeting continues, line {line}\r\n".encode())
        await asyncio.sleep(0.005)


async def _drip(peer: Peer, spec: Raw) -> None:
    for byte in f"220 {SERVER_NAME} ESMTP mailtriage lab\r\n".encode():
        await peer.send(bytes([byte]))
        await asyncio.sleep(1.0)
    await peer.gone.wait()


def _junk(seed: int, size: int = 512) -> bytes:
    """Random-looking bytes, the same on every run; the first one is neither a digit nor a TLS record type."""
    data = bytearray(random.Random(seed).randbytes(size))
    data[0] = 0x9C
    return bytes(data)


async def _garbage(peer: Peer, spec: Raw) -> None:
    await peer.send(_junk(3463))
    await peer.gone.wait()


async def _garbage_tls(peer: Peer, spec: Raw) -> None:
    await peer.heard.wait()  # a TLS client speaks first: answer its ClientHello with junk
    await peer.send(_junk(5321))
    await peer.gone.wait()


async def _cut_off(peer: Peer, spec: Raw) -> None:
    await peer.send(b"220-first line\r\n220-sec")


BEHAVIOURS: dict[RawBehaviour, Callable[[Peer, Raw], Coroutine[Any, Any, None]]] = {
    "greet-and-close": _greet_and_close,
    "silent": _silent,
    "huge-greeting": _huge_greeting,
    "endless-reply": _endless_reply,
    "drip": _drip,
    "garbage": _garbage,
    "garbage-tls": _garbage_tls,
    "cut-off": _cut_off,
}
