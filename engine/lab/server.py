"""A LabServer runs one scenario on 127.0.0.1 from a background thread and hangs up on every client when closed."""

from __future__ import annotations

import asyncio
import shutil
import socket
import ssl
import tempfile
import threading
import weakref
from pathlib import Path
from types import TracebackType

from engine.lab import hostile, smtp
from engine.lab.certs import LabCA
from engine.lab.scenarios import HOST, SCENARIOS, Scenario, Smtp

START_TIMEOUT = 5.0  # seconds start() waits for the listener
STOP_TIMEOUT = 1.5  # seconds close() waits for the loop thread; close() must return within 2 s


class _Listener(socket.socket):
    """A listening socket that remembers what it accepted, so close() can hang up on every client.

    This sees connections that no protocol has seen yet, such as those still in a TLS handshake.
    """

    accepted: weakref.WeakSet[socket.socket]

    @classmethod
    def open(cls, port: int) -> _Listener:
        listener = cls(socket.AF_INET, socket.SOCK_STREAM)
        listener.accepted = weakref.WeakSet()
        try:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind((HOST, port))
            listener.listen(64)
        except OSError:
            listener.close()
            raise
        return listener

    def accept(self) -> tuple[socket.socket, object]:
        connection, address = super().accept()  # asyncio's accept loop calls this
        self.accepted.add(connection)
        return connection, address

    def hang_up(self) -> None:
        """End every accepted connection in both directions; their owners then close them."""
        for connection in list(self.accepted):
            if connection.fileno() != -1:
                try:
                    connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass  # already gone

    def close_accepted(self) -> None:
        for connection in list(self.accepted):
            connection.close()


class LabServer:
    """One lab scenario on 127.0.0.1, served from a background thread with its own event loop."""

    def __init__(self, scenario: Scenario, port: int = 0, workdir: Path | None = None) -> None:
        self.host = HOST
        self.scenario = scenario
        self.messages: list[bytes] = []
        self._tempdir = None if workdir else Path(tempfile.mkdtemp(prefix="mailtriage-lab-"))
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self._closed = False
        try:
            # Bound here, not in the thread, so the port is known and a busy port fails in start().
            self._listener = _Listener.open(port)
            self.port: int = self._listener.getsockname()[1]
            directory = Path(workdir) if workdir else self._tempdir
            assert directory is not None
            directory.mkdir(parents=True, exist_ok=True)
            ca = LabCA()
            self.cafile = directory / f"mailtriage-lab-{self.port}-ca.pem"
            ca.write(self.cafile)
            self._tls = self._tls_for(ca)
        except BaseException:
            self._cleanup_files()
            if hasattr(self, "_listener"):
                self._listener.close()
            raise
        self._thread = threading.Thread(target=self._run, name=f"mailtriage-lab-{scenario.name}", daemon=True)

    def __enter__(self) -> LabServer:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<LabServer {self.scenario.name} on {self.host}:{self.port}>"

    def _tls_for(self, ca: LabCA) -> ssl.SSLContext | None:
        spec = self.scenario.server
        if isinstance(spec, Smtp) and spec.tls != "none":
            return ca.server_context(spec.certificate)
        return None

    def _start(self) -> None:
        """Start the loop thread and return once the listener is serving."""
        smtp.quiet_aiosmtpd()
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT) or self._failure is not None:
            self.close()
            raise RuntimeError(f"lab scenario {self.scenario.name!r} did not start") from self._failure

    def close(self) -> None:
        """Hang up on every client, stop the loop thread and remove generated files; idempotent."""
        if self._closed:
            return
        self._closed = True
        loop, stopping = self._loop, self._stopping
        if loop is not None and stopping is not None and self._thread.is_alive():
            try:
                loop.call_soon_threadsafe(stopping.set)
            except RuntimeError:
                pass  # the loop already ended
            self._thread.join(STOP_TIMEOUT)
        if not self._thread.is_alive():
            self._listener.close()  # normally closed by the loop already; harmless twice
        self._cleanup_files()

    def _cleanup_files(self) -> None:
        if self._tempdir is not None:
            shutil.rmtree(self._tempdir, ignore_errors=True)

    # The following run in the loop thread.

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._serve())
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _serve(self) -> None:
        self._stopping = asyncio.Event()
        try:
            server = await self._listen()
        except BaseException as error:  # reported to start() in the caller's thread
            self._failure = error
            self._ready.set()
            return
        self._ready.set()
        await self._stopping.wait()
        await self._hang_up(server)

    async def _listen(self) -> asyncio.AbstractServer:
        loop = asyncio.get_running_loop()
        spec = self.scenario.server
        if isinstance(spec, Smtp):
            return await loop.create_server(
                lambda: smtp.session(spec, self._tls, self.messages, loop),
                sock=self._listener,
                ssl=self._tls if spec.tls == "implicit" else None,
            )
        return await asyncio.start_server(
            lambda reader, writer: hostile.session(spec, reader, writer),
            sock=self._listener,
            limit=4096,
        )

    async def _hang_up(self, server: asyncio.AbstractServer) -> None:
        """Stop listening, end every connection, and let every task finish before the loop ends."""
        # Stop accepting, then give connections accepted a moment ago one turn to get their
        # transport: asyncio sets one up in a task of its own, which fails (and leaks the socket)
        # if the server is already closed or the socket already shut down by then.
        asyncio.get_running_loop().remove_reader(self._listener.fileno())
        await asyncio.sleep(0)
        server.close()
        self._listener.hang_up()
        # Every session now ends by itself: raw sessions see the client leave, aiosmtpd sees EOF,
        # a TLS handshake fails. Whatever is still running at the deadline is cancelled.
        current = asyncio.current_task()
        tasks = [task for task in asyncio.all_tasks() if task is not current]
        if tasks:
            await asyncio.wait(tasks, timeout=STOP_TIMEOUT / 2)
        stragglers = [task for task in asyncio.all_tasks() if task is not current]
        for task in stragglers:
            task.cancel()
        await asyncio.gather(*stragglers, return_exceptions=True)
        await asyncio.sleep(0)  # transports closed by their sessions release their sockets now
        self._listener.close_accepted()  # anything left has no owner any more
        await server.wait_closed()


def start(name: str | Scenario, port: int = 0, workdir: Path | None = None) -> LabServer:
    """Start a scenario (by name, or one of the caller's own) on 127.0.0.1 (port 0 = any free
    port); return once it accepts connections."""
    if isinstance(name, str) and name not in SCENARIOS:
        raise KeyError(f"unknown lab scenario {name!r}; known scenarios: {', '.join(SCENARIOS)}")
    server = LabServer(SCENARIOS[name] if isinstance(name, str) else name, port, workdir)
    server._start()
    return server
