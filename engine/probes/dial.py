"""Every connection a probe opens, from the local address the run was asked to use.

The probes reach a socket only through Connection: reading within a time limit, writing, TLS
on an open connection, closing. What the event loop does with streams stays here.
"""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

# How long a polite close (TLS close_notify, FIN) may take before the connection is cut.
CLOSE_GRACE = 0.5


class Connection:
    """One TCP connection, in the clear or over TLS, as the probes use it."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self._reader = reader
        self._writer = writer

    async def read(self, limit: int, timeout: float) -> bytes:
        """Up to limit bytes as they come, b"" once the peer has closed.

        Raises TimeoutError when nothing comes within timeout, and what the socket or TLS
        raises (ConnectionError, OSError, ssl.SSLError) when the connection breaks.
        """
        return await asyncio.wait_for(self._reader.read(limit), timeout)

    async def write(self, data: bytes) -> None:
        """Raises ConnectionError or OSError when the connection is gone."""
        self._writer.write(data)
        await self._writer.drain()

    async def start_tls(self, context: ssl.SSLContext, server_hostname: str, timeout: float) -> None:
        """The TLS handshake on this connection (after STARTTLS); raises as dial() does."""
        await asyncio.wait_for(self._writer.start_tls(context, server_hostname=server_hostname), max(timeout, 0.01))

    @property
    def ssl_object(self) -> ssl.SSLObject | None:
        """The TLS session, once there is one: its version, cipher and the peer's certificate."""
        found: ssl.SSLObject | None = self._writer.get_extra_info("ssl_object")
        return found

    @property
    def local_address(self) -> Any:
        """The local end (address, port, ...) as the socket reports it, if it does."""
        return self._writer.get_extra_info("sockname")

    @property
    def closing(self) -> bool:
        return self._writer.is_closing()

    def abort(self) -> None:
        """Cut the connection at once; on one already closed, nothing happens."""
        self._writer.transport.abort()

    async def close(self) -> None:
        """Close politely within CLOSE_GRACE, then cut whatever is left."""
        self._writer.close()
        try:
            await asyncio.wait_for(self._writer.wait_closed(), CLOSE_GRACE)
        except (TimeoutError, ConnectionError, OSError, ssl.SSLError):
            pass  # closing is a courtesy; the diagnosis is already made
        # A TLS close that did not finish in time must not leak the socket.
        self.abort()


async def dial(
    address: str,
    port: int,
    timeout: float,
    *,
    source: str | None = None,
    tls: ssl.SSLContext | None = None,
    server_hostname: str | None = None,
) -> Connection:
    """A connection within timeout, bound to source (as swaks --local-interface) when given.

    Raises what open_connection raises: TimeoutError, OSError (EADDRNOTAVAIL for a source the
    machine lacks), ssl.SSLError; callers say what each means at their stage.
    """
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection(
            address,
            port,
            ssl=tls,
            server_hostname=server_hostname if tls else None,
            ssl_handshake_timeout=max(timeout, 0.1) if tls else None,
            local_addr=(source, 0) if source else None,
        ),
        max(timeout, 0.01),
    )
    return Connection(reader, writer)
