"""Every connection a probe opens, from the local address the run was asked to use.

The probes reach a socket only through a Connection: reading within a time limit, writing, TLS
on an open connection, closing. Under an event loop it is a non-blocking socket the loop waits
on (engine/probes/loopsockets.py); without one, a blocking socket (engine/probes/sockets.py),
which is how a single account is probed: one connection at a time needs no event loop, and
importing asyncio alone cost more than the whole dialogue with a local server. Every deadline
is on time.monotonic().
"""

from __future__ import annotations

import ssl
import sys
from typing import Any, Protocol

from engine.values import frozen

# How long a polite close (TLS close_notify, FIN) may take before the connection is cut.
CLOSE_GRACE = 0.5


class Connection(Protocol):
    """One TCP connection, in the clear or over TLS, as the probes use it."""

    async def read(self, limit: int, timeout: float) -> bytes:
        """Up to limit bytes as they come, b"" once the peer has closed.

        Raises TimeoutError when nothing comes within timeout, and what the socket or TLS
        raises (ConnectionError, OSError, ssl.SSLError) when the connection breaks.
        """
        ...

    async def write(self, data: bytes) -> None:
        """Raises ConnectionError or OSError when the connection is gone."""
        ...

    async def start_tls(self, context: ssl.SSLContext, server_hostname: str, timeout: float) -> None:
        """The TLS handshake on this connection (after STARTTLS); raises as dial() does."""
        ...

    @property
    def ssl_object(self) -> ssl.SSLObject | ssl.SSLSocket | None:
        """The TLS session, once there is one: its version, cipher and the peer's certificate."""
        ...

    @property
    def local_address(self) -> Any:
        """The local end (address, port, ...) as the socket reports it, if it does."""
        ...

    @property
    def closing(self) -> bool: ...

    def abort(self) -> None:
        """Cut the connection at once; on one already closed, nothing happens."""
        ...

    async def close(self) -> None:
        """Close politely within CLOSE_GRACE, then cut whatever is left."""
        ...


@frozen
class Dialing:
    """What dial() was asked for, as each kind of connection gets it."""

    address: str
    port: int
    timeout: float
    source: str | None  # the local address to connect from
    tls: ssl.SSLContext | None  # TLS from the first byte (implicit TLS)
    server_hostname: str | None  # the name the certificate must carry, with tls


def evented() -> bool:
    """Whether an asyncio event loop runs in this thread (a batch), or the probes block (one account)."""
    asyncio = sys.modules.get("asyncio")  # a loop runs only if asyncio was imported
    if asyncio is None:
        return False
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


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

    Raises TimeoutError, OSError (ECONNREFUSED and the like; EADDRNOTAVAIL for a source the
    machine lacks) or ssl.SSLError; callers say what each means at their stage. A peer that
    closes during the TLS handshake raises ConnectionResetError either way.
    """
    how = Dialing(address, port, timeout, source, tls, server_hostname if tls else None)
    if evented():
        from engine.probes.loopsockets import open_loop_socket

        return await open_loop_socket(how)
    from engine.probes.sockets import open_socket

    return open_socket(how)
