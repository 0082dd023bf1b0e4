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
