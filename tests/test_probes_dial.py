"""engine.probes.dial.Connection: what the probes rely on of a connection, against real sockets."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import pytest

from engine.probes.dial import CLOSE_GRACE, Connection, dial
from tests.bounds import ended

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def against(handler: Handler, use: Callable[[Connection], Awaitable[object]]) -> object:
    """use() run on a connection to a loopback server that serves each client with handler."""

    async def run() -> object:
        server = await asyncio.start_server(handler, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            connection = await dial("127.0.0.1", port, 2.0)
            try:
                return await use(connection)
            finally:
                connection.abort()
        finally:
            server.close()

    return asyncio.run(run())


async def greet_and_close(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(b"220 ready\r\n")
    await writer.drain()
    writer.close()


async def stay_silent(reader: asyncio.StreamReader, _writer: asyncio.StreamWriter) -> None:
    await reader.read()  # until the client goes


def test_read_gives_what_came_and_then_empty_bytes_once_the_peer_has_closed():
    async def use(connection: Connection) -> list[bytes]:
        return [await connection.read(4096, 2.0), await connection.read(4096, 2.0)]

    assert against(greet_and_close, use) == [b"220 ready\r\n", b""]


def test_read_from_a_silent_peer_raises_timeout_error_when_its_time_is_up():
    async def use(connection: Connection) -> float:
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            await connection.read(4096, 0.2)
        return time.monotonic() - started

    waited = against(stay_silent, use)
    assert isinstance(waited, float) and 0.15 < waited < 0.2 + 10  # it waited, and it ended


def test_the_local_end_is_a_loopback_address_and_a_connection_is_open_until_closed():
    async def use(connection: Connection) -> tuple[object, bool, bool]:
        local, before = connection.local_address, connection.closing
        await connection.close()
        return local, before, connection.closing

    local, before, after = against(stay_silent, use)  # type: ignore[misc]
    assert local[0] == "127.0.0.1" and local[1] > 0
    assert (before, after) == (False, True)


def test_closing_never_waits_much_longer_than_its_grace_and_abort_after_close_is_harmless():
    async def use(connection: Connection) -> float:
        started = time.monotonic()
        await connection.close()
        connection.abort()
        return time.monotonic() - started

    took = against(stay_silent, use)
    assert isinstance(took, float)
    ended(took, CLOSE_GRACE)
