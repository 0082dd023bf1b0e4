"""Probe work that runs beside the main line: a task under an event loop, a thread without one.

The probes are coroutines. Many accounts are probed side by side in an asyncio event loop; a
single account is driven without one (drive), on blocking sockets (engine/probes/sockets.py),
so that it need not import asyncio. The few places where a probe starts something beside its
main line (the port sweep while a connect lags, a TLS hello while a port stays silent, the DNS
checks, a resolver call that cannot be interrupted) use this module, which does it either way.
"""

from __future__ import annotations

import contextvars
import socket
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any, Generic, TypeVar

from engine.probes.dial import evented

T = TypeVar("T")

# How often a wait for the first of two threads looks again (only a silent port gets there).
_POLL_SECONDS = 0.02


def drive(coro: Coroutine[Any, Any, T]) -> T:
    """The coroutine run to its end in this thread, without an event loop."""
    try:
        coro.send(None)
    except StopIteration as done:
        result: T = done.value
        return result
    coro.close()
    raise RuntimeError("a probe waited on an event loop in a run without one")


class Side(Generic[T]):
    """Work started beside the main line; wait for it, read its result, or stop caring about it."""

    def __init__(self, coro: Coroutine[Any, Any, T]):
        self._task: Any = None
        self._thread: threading.Thread | None = None
        self._finished = threading.Event()
        self._value: Any = None
        self._error: BaseException | None = None
        if evented():
            import asyncio

            self._task = asyncio.ensure_future(coro)
            # Work nobody waits for any more (the run was cut short, the connection it read
            # aborted) may still end in an error that is not this run's to report; unread,
            # asyncio would print it as a task exception never retrieved.
            self._task.add_done_callback(_read_out)
            return
        context = contextvars.copy_context()  # the run's budget goes with it

        def run() -> None:
            try:
                self._value = context.run(drive, coro)
            except BaseException as exc:  # handed to whoever asks for the result
                self._error = exc
            finally:
                self._finished.set()

        # A daemon: work no longer wanted (cancel) ends at its own deadline, or with the process.
        self._thread = threading.Thread(target=run, name="mailtriage-probe", daemon=True)
        self._thread.start()

    def done(self) -> bool:
        return bool(self._task.done()) if self._task is not None else self._finished.is_set()

    async def wait(self, timeout: float | None = None) -> bool:
        """Whether it finished within timeout (None: however long it takes)."""
        if self._task is not None:
            import asyncio

            await asyncio.wait({self._task}, timeout=timeout)
            return bool(self._task.done())
        return self._finished.wait(timeout)

    def result(self) -> T:
        """Its result, or the exception it ended with; only once done()."""
        if self._task is not None:
            value: T = self._task.result()
            return value
        if self._error is not None:
            raise self._error
        found: T = self._value
        return found

    async def outcome(self) -> T:
        """Its result once it has finished."""
        if self._task is not None:
            value: T = await self._task
            return value
        self._finished.wait()
        return self.result()

    def cancel(self) -> None:
        """No longer wanted: a task is cancelled, a thread is left to end at its own deadline."""
        if self._task is not None:
            self._task.cancel()


def _read_out(task: Any) -> None:
    if not task.cancelled():
        task.exception()


async def first(sides: list[Side[Any]], timeout: float) -> None:
    """Return once any of sides has finished, or timeout has passed."""
    if evented():
        import asyncio

        await asyncio.wait({s._task for s in sides}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        return
    deadline = time.monotonic() + timeout
    while not any(s.done() for s in sides):
        left = deadline - time.monotonic()
        if left <= 0:
            return
        sides[0]._finished.wait(min(left, _POLL_SECONDS))


async def gather(*coros: Coroutine[Any, Any, T]) -> list[T]:
    """Every coroutine's result, run side by side, in order."""
    if evented():
        import asyncio

        return list(await asyncio.gather(*coros))
    sides = [Side(coro) for coro in coros]
    return [await side.outcome() for side in sides]


async def within(coro: Coroutine[Any, Any, T], timeout: float) -> T:
    """coro's result, or TimeoutError once timeout has passed.

    Under an event loop the coroutine is cancelled then. Without one, no socket call may block
    past that moment (engine.probes.sockets.budget), and a coroutine that ran over is reported
    as timed out, with what it recorded until then.
    """
    if evented():
        import asyncio

        async with asyncio.timeout(timeout):  # on this task, as every probe deadline (loopsockets.py)
            return await coro
    from engine.probes.sockets import budget

    cap = time.monotonic() + timeout
    outer = budget.get()
    token = budget.set(cap if outer is None else min(cap, outer))
    try:
        result = await coro
    finally:
        budget.reset(token)
    if time.monotonic() >= cap:
        raise TimeoutError
    return result


async def resolve(host: str, timeout: float) -> list[tuple[Any, ...]]:
    """getaddrinfo for a TCP connection to host, or TimeoutError after timeout.

    The C library's resolver cannot be interrupted, so it runs on another thread either way;
    an address needs no resolver, and no thread.
    """
    try:
        return _getaddrinfo(host, socket.AI_NUMERICHOST)
    except socket.gaierror:
        pass  # a name
    if evented():
        import asyncio

        lookup = asyncio.get_running_loop().run_in_executor(None, _getaddrinfo, host)
        return await asyncio.wait_for(lookup, timeout)
    side = Side(_later(_getaddrinfo, host))
    if not await side.wait(timeout):
        raise TimeoutError
    return side.result()


def _getaddrinfo(host: str, flags: int = 0) -> list[tuple[Any, ...]]:
    return list(socket.getaddrinfo(host, None, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP, flags=flags))


async def _later(call: Callable[[str], T], argument: str) -> T:
    """A blocking call as a coroutine, for a thread to drive."""
    return call(argument)
