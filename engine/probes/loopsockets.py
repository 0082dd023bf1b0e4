"""Connections under an event loop: non-blocking sockets, for runs that probe accounts side by side.

Each call is made on the socket at once, as engine/probes/sockets.py makes it on a blocking one;
only when it would block does the connection wait for the loop to say the socket is ready, then
it calls again. So what a call raises is what the blocking connection raises. (asyncio streams
put a protocol, a buffer and a TLS layer written in Python between the probes and the socket.)
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Callable
from typing import Any, TypeVar

from engine.probes.beside import resolve
from engine.probes.dial import CLOSE_GRACE, Dialing
from engine.probes.sockets import SEND_TIMEOUT, SocketConnection, handshaking, wrap

T = TypeVar("T")


class LoopSocketConnection(SocketConnection):
    """A Connection (engine/probes/dial.py) on a non-blocking socket; TLS may need the socket
    readable or writable whichever way the data goes, and waits for what it needs."""

    def __init__(self, sock: socket.socket):
        super().__init__(sock)
        sock.setblocking(False)
        self._loop = asyncio.get_running_loop()
        self._watching: tuple[asyncio.Future[None], int, bool] | None = None  # (waiter, fd, for writing)

    async def read(self, limit: int, timeout: float) -> bytes:
        data = await self._when_ready(self._loop.time() + timeout, self._sock.recv, limit)
        return b"" if data is None else data  # cut off while it waited: as a stream that ended

    async def write(self, data: bytes) -> None:
        view = memoryview(data)
        deadline = self._loop.time() + SEND_TIMEOUT
        while view:
            sent = await self._when_ready(deadline, self._sock.send, view)
            if sent is None:
                raise ConnectionResetError("the connection was closed")
            view = view[sent:]

    async def start_tls(self, context: ssl.SSLContext, server_hostname: str, timeout: float) -> None:
        async with asyncio.timeout(max(timeout, 0.01)):
            await self._handshake(context, server_hostname)

    async def _handshake(self, context: ssl.SSLContext, server_hostname: str) -> None:
        """The handshake, within the caller's deadline."""
        wrapped = self._sock = wrap(self._sock, context, server_hostname)
        with handshaking(wrapped):
            await self._when_ready(None, wrapped.do_handshake)
            if self._closed:
                raise ConnectionResetError("the connection was cut during the TLS handshake")

    def abort(self) -> None:
        self._unwatch()  # before the descriptor is closed: its number may soon be another socket's
        self._closed = True
        self._sock.close()

    async def _unwrap(self, sock: ssl.SSLSocket) -> None:
        async with asyncio.timeout(CLOSE_GRACE):
            await self._when_ready(None, sock.unwrap)

    async def _when_ready(self, deadline: float | None, call: Callable[..., T], *args: Any) -> T | None:
        """call(*args) once the socket lets it through, or TimeoutError at deadline (on the loop's
        clock; None: the caller's own); None if the connection was cut meanwhile.

        Most calls go through at once (the reply is there, the kernel takes the command), and
        they set no timer: half the timers an account set were never needed.
        """
        while not self._closed:
            try:
                return call(*args)
            except (BlockingIOError, ssl.SSLWantReadError):
                writing = False
            except ssl.SSLWantWriteError:
                writing = True
            async with asyncio.timeout_at(deadline):  # None: no timer of its own
                await self._ready(writing)
        return None

    async def _ready(self, writing: bool) -> None:
        fd = self._sock.fileno()
        waiter: asyncio.Future[None] = self._loop.create_future()
        if writing:
            self._loop.add_writer(fd, _wake, waiter)
        else:
            self._loop.add_reader(fd, _wake, waiter)
        self._watching = (waiter, fd, writing)
        try:
            await waiter
        finally:
            self._unwatch()

    def _unwatch(self) -> None:
        if self._watching is None:
            return
        waiter, fd, writing = self._watching
        self._watching = None
        if writing:
            self._loop.remove_writer(fd)
        else:
            self._loop.remove_reader(fd)
        _wake(waiter)


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


async def open_loop_socket(how: Dialing) -> LoopSocketConnection:
    """dial() under an event loop: each address of how.address in turn, as create_connection tries them."""
    async with asyncio.timeout(max(how.timeout, 0.01)):
        connection = await _connected(how)
        try:
            if how.tls is not None:
                await connection._handshake(how.tls, how.server_hostname or how.address)
        except BaseException:
            connection.abort()
            raise
    return connection


async def _connected(how: Dialing) -> LoopSocketConnection:
    error: OSError = OSError(f"no address for {how.address}")
    for family, kind, proto, _, address in await resolve(how.address, how.timeout):
        try:
            sock = socket.socket(family, kind, proto)
        except OSError as exc:  # a family this machine lacks: the next address may do
            error = exc
            continue
        connection = LoopSocketConnection(sock)
        try:
            if how.source:
                sock.bind((how.source, 0))
            await asyncio.get_running_loop().sock_connect(sock, (address[0], how.port, *address[2:]))
        except OSError as exc:
            connection.abort()
            error = exc
            continue
        except BaseException:
            connection.abort()
            raise
        # As asyncio does for its streams: a command must not wait for the previous one's ACK.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return connection
    raise error
