"""engine.probes.run.run_loop: asyncio.run that hands the result over without printing it."""

from __future__ import annotations

import asyncio

import pytest

from engine.probes.run import run_loop


class Loud:
    """A result that counts how often it is printed."""

    printed = 0

    def __repr__(self) -> str:
        Loud.printed += 1
        return "Loud()"


def test_the_result_comes_back_without_being_printed():
    async def work() -> Loud:
        await asyncio.sleep(0)
        return Loud()

    Loud.printed = 0
    assert isinstance(run_loop(work()), Loud)
    # asyncio.run(work()) prints it once on Python 3.11, through signal.getsignal at its end.
    assert Loud.printed == 0


def test_an_exception_in_the_coroutine_reaches_the_caller():
    async def fail() -> None:
        raise LookupError("no such account")

    with pytest.raises(LookupError, match="no such account"):
        run_loop(fail())


def test_each_call_runs_in_a_fresh_loop_that_is_closed_after():
    loops: list[asyncio.AbstractEventLoop] = []

    async def note() -> None:
        loops.append(asyncio.get_running_loop())

    run_loop(note())
    run_loop(note())
    assert loops[0] is not loops[1] and all(loop.is_closed() for loop in loops)


def test_a_healthy_account_is_probed_on_its_own_task_not_a_task_per_reply(kb):
    # Each deadline is set on the probe's task; asyncio.wait_for made a task for every read.
    from engine import lab
    from engine.inputs.settings import AccountSettings
    from engine.probes.run import probe_account
    from engine.redact import Redactor

    made: list[object] = []

    async def probe(settings: AccountSettings) -> object:
        loop = asyncio.get_running_loop()

        def counted(loop: asyncio.AbstractEventLoop, coro: object, **kwargs: object) -> asyncio.Task[object]:
            made.append(coro)
            return asyncio.Task(coro, loop=loop, **kwargs)  # type: ignore[arg-type]

        loop.set_task_factory(counted)  # type: ignore[arg-type]
        return await probe_account(settings, Redactor(), [(p.port, p.security) for p in kb.ports])

    with lab.start("healthy") as server:
        settings = AccountSettings(
            host="127.0.0.1",
            port=server.port,
            security="starttls",
            cafile=str(server.cafile),
            user=lab.LAB_USER,
            password=lab.LAB_PASSWORD,
            from_addr=lab.LAB_SENDER,
            to_addr=lab.LAB_RECIPIENT,
            timeout=5.0,
        )
        run = run_loop(probe(settings))
    assert len(run.transcript) > 10  # a whole dialogue, with a reply to every command
    replies = sum(1 for line in run.transcript if line.startswith("S:"))
    assert replies >= 8
    assert len(made) < replies / 2  # the run's own few (the probe, the connect, the loop's shutdown)
