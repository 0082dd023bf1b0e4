"""engine.probes.loopsockets: a connection cut while it waits on the loop, against real sockets."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

from engine.probes.dial import dial
from engine.probes.loopsockets import LoopSocketConnection

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@contextlib.asynccontextmanager
async def serving(handler: Handler | None = None) -> AsyncIterator[tuple[int, list[asyncio.StreamWriter]]]:
    """A loopback server (silent without handler): its port, and its end of each connection.

    Its connections are cut at the end; a server's close waits for every one from Python 3.12.
    """
    clients: list[asyncio.StreamWriter] = []

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        clients.append(writer)
        if handler is not None:
            await handler(reader, writer)

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1], clients
    finally:
        for writer in clients:
            writer.transport.abort()
        server.close()


def test_a_read_waiting_when_its_connection_is_cut_ends_at_once_with_nothing():
    async def run() -> tuple[bytes, bool]:
        async with serving() as (port, _):
            connection = await dial("127.0.0.1", port, 2.0)
            assert isinstance(connection, LoopSocketConnection)
            reading = asyncio.ensure_future(connection.read(4096, 5.0))
            await asyncio.sleep(0.05)  # the read is waiting on the loop
            connection.abort()
            data = await asyncio.wait_for(reading, 1.0)
            return data, connection.closing

    assert asyncio.run(run()) == (b"", True)


def test_a_cut_connection_leaves_alone_the_next_socket_that_gets_its_descriptor():
    async def run() -> bytes:
        async with serving() as (port, clients):
            first = await dial("127.0.0.1", port, 2.0)
            reading = asyncio.ensure_future(first.read(4096, 5.0))
            await asyncio.sleep(0.05)
            fd = first._sock.fileno()
            first.abort()
            second = await dial("127.0.0.1", port, 2.0)
            assert second._sock.fileno() == fd  # the kernel hands out the lowest free number
            waiting = asyncio.ensure_future(second.read(4096, 2.0))
            await asyncio.sleep(0.05)  # the first read wakes and finishes meanwhile
            assert (await reading) == b""
            clients[-1].write(b"220 second\r\n")
            try:
                return await waiting
            finally:
                second.abort()

    assert asyncio.run(run()) == b"220 second\r\n"


def test_a_read_whose_data_is_there_and_a_write_the_kernel_takes_set_no_timer():
    async def run() -> tuple[bytes, int]:
        async def greet(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writer.write(b"220 ready\r\n")
            await writer.drain()
            await _reader.read()

        async with serving(greet) as (port, _):
            connection = await dial("127.0.0.1", port, 2.0)
            await asyncio.sleep(0.05)  # the greeting has arrived
            loop = asyncio.get_running_loop()
            timers: list[float] = []
            scheduled = loop.call_at
            loop.call_at = lambda when, *args, **kwargs: (timers.append(when), scheduled(when, *args, **kwargs))[1]  # type: ignore[method-assign]
            try:
                greeting = await connection.read(4096, 2.0)
                await connection.write(b"EHLO probe\r\n")
            finally:
                loop.call_at = scheduled  # type: ignore[method-assign]
                connection.abort()
            return greeting, len(timers)

    assert asyncio.run(run()) == (b"220 ready\r\n", 0)
