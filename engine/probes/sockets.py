"""Connections without an event loop: blocking sockets with a time limit on every call.

A single account's probes run one step after another on one connection; each call here blocks
for at most its own timeout, and never past the run's budget (see budget below). Under an event
loop the same calls are made on a non-blocking socket (engine/probes/loopsockets.py), so what a
call raises is the same either way, and the probes cannot tell them apart.
"""

from __future__ import annotations

import contextlib
import contextvars
import socket
import ssl
import time
from collections.abc import Iterator
from typing import Any

from engine.probes.dial import CLOSE_GRACE, Dialing

# The run's overall deadline on time.monotonic(), where one is set (engine.probes.beside.within):
# under an event loop the run is cancelled there, here no call may block past it.
budget: contextvars.ContextVar[float | None] = contextvars.ContextVar("budget", default=None)

# Commands are a few hundred bytes that the kernel takes at once; only a peer that stopped
# reading long ago makes a send wait, and then it waits this long at most.
SEND_TIMEOUT = 10.0


def _allowed(timeout: float) -> float:
    """timeout, cut to what is left of the run's budget; TimeoutError when nothing is left."""
    cap = budget.get()
    if cap is not None:
        timeout = min(timeout, cap - time.monotonic())
    if timeout <= 0:
        raise TimeoutError("timed out")
    return timeout


class SocketConnection:
    """A Connection (engine/probes/dial.py) on a blocking socket."""

    def __init__(self, sock: socket.socket):
        self._sock = sock
        self._closed = False

    async def read(self, limit: int, timeout: float) -> bytes:
        self._sock.settimeout(_allowed(timeout))
        return self._sock.recv(limit)

    async def write(self, data: bytes) -> None:
        self._sock.settimeout(_allowed(SEND_TIMEOUT))
        self._sock.sendall(data)

    async def start_tls(self, context: ssl.SSLContext, server_hostname: str, timeout: float) -> None:
        self._sock = _handshake(self._sock, context, server_hostname, max(timeout, 0.01))

    @property
    def ssl_object(self) -> ssl.SSLSocket | None:
        return self._sock if isinstance(self._sock, ssl.SSLSocket) else None

    @property
    def local_address(self) -> Any:
        try:
            return self._sock.getsockname()
        except OSError:
            return None

    @property
    def closing(self) -> bool:
        return self._closed

    def abort(self) -> None:
        self._closed = True
        try:
            # Wakes a thread still reading this socket (a greeting no longer waited for); a
            # close alone would leave it blocked until its own deadline.
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass  # not connected, or already shut
        self._sock.close()

    async def close(self) -> None:
        if self._closed:
            return
        try:
            if isinstance(self._sock, ssl.SSLSocket):
                await self._unwrap(self._sock)  # close_notify, and the peer's in return
        except (OSError, ValueError):
            pass  # closing is a courtesy; the diagnosis is already made (TimeoutError is an OSError)
        finally:
            self.abort()

    async def _unwrap(self, sock: ssl.SSLSocket) -> None:
        sock.settimeout(CLOSE_GRACE)
        sock.unwrap()


def _handshake(sock: socket.socket, context: ssl.SSLContext, server_hostname: str, timeout: float) -> ssl.SSLSocket:
    sock.settimeout(_allowed(timeout))
    wrapped = wrap(sock, context, server_hostname)
    with handshaking(wrapped):
        wrapped.do_handshake()
    return wrapped


def wrap(sock: socket.socket, context: ssl.SSLContext, server_hostname: str) -> ssl.SSLSocket:
    return context.wrap_socket(sock, server_hostname=server_hostname, do_handshake_on_connect=False)


@contextlib.contextmanager
def handshaking(wrapped: ssl.SSLSocket) -> Iterator[None]:
    """A failed handshake closes the socket; a peer that hung up during it is a reset."""
    try:
        yield
    except ssl.SSLEOFError as exc:
        wrapped.close()
        # As asyncio reports it: the probes read a reset as "went away during the handshake".
        raise ConnectionResetError("the peer closed the connection during the TLS handshake") from exc
    except BaseException:
        wrapped.close()
        raise


def open_socket(how: Dialing) -> SocketConnection:
    """dial() without an event loop."""
    deadline = time.monotonic() + max(how.timeout, 0.01)
    sock = socket.create_connection(
        (how.address, how.port),
        timeout=_allowed(deadline - time.monotonic()),
        source_address=(how.source, 0) if how.source else None,
    )
    try:
        # As asyncio does for its streams: a command must not wait for the previous one's ACK.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if how.tls is not None:
            sock = _handshake(sock, how.tls, how.server_hostname or how.address, deadline - time.monotonic())
    except BaseException:
        sock.close()
        raise
    return SocketConnection(sock)
