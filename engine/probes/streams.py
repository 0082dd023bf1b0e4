"""Connections under an event loop: asyncio streams, for runs that probe accounts side by side."""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

from engine.probes.dial import CLOSE_GRACE, Dialing


class StreamConnection:
    """A Connection (engine/probes/dial.py) on an asyncio stream pair."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self._reader = reader
        self._writer = writer

    async def read(self, limit: int, timeout: float) -> bytes:
        # Deadlines are set on the probe's own task (asyncio.timeout): wait_for would wrap every
        # read in a task of its own, which was much of the event loop's work per reply.
        async with asyncio.timeout(timeout):
            return await self._reader.read(limit)

    async def write(self, data: bytes) -> None:
        self._writer.write(data)
        await self._writer.drain()

    async def start_tls(self, context: ssl.SSLContext, server_hostname: str, timeout: float) -> None:
        async with asyncio.timeout(max(timeout, 0.01)):
            await self._writer.start_tls(context, server_hostname=server_hostname)

    @property
    def ssl_object(self) -> ssl.SSLObject | None:
        found: ssl.SSLObject | None = self._writer.get_extra_info("ssl_object")
        return found

    @property
    def local_address(self) -> Any:
        return self._writer.get_extra_info("sockname")

    @property
    def closing(self) -> bool:
        return self._writer.is_closing()

    def abort(self) -> None:
        self._writer.transport.abort()

    async def close(self) -> None:
        self._writer.close()
        try:
            async with asyncio.timeout(CLOSE_GRACE):
                await self._writer.wait_closed()
        except (TimeoutError, ConnectionError, OSError, ssl.SSLError):
            pass  # closing is a courtesy; the diagnosis is already made
        # A TLS close that did not finish in time must not leak the socket.
        self.abort()


async def open_stream(how: Dialing) -> StreamConnection:
    """dial() under an event loop."""
    async with asyncio.timeout(max(how.timeout, 0.01)):
        reader, writer = await asyncio.open_connection(
            how.address,
            how.port,
            ssl=how.tls,
            server_hostname=how.server_hostname,
            ssl_handshake_timeout=max(how.timeout, 0.1) if how.tls else None,
            local_addr=(how.source, 0) if how.source else None,
        )
    return StreamConnection(reader, writer)
