"""One account is probed without an event loop; it must find exactly what an event loop finds."""

from __future__ import annotations

import asyncio
import gc
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine import lab
from engine.inputs.settings import AccountSettings
from engine.probes.beside import Side, drive, within
from engine.probes.dial import dial
from engine.probes.run import ProbeRun, probe_account, run_loop, run_probes
from engine.redact import Redactor

TIMEOUT = 1.0
# Scenarios whose fault shows only without credentials (the server wants AUTH first).
NO_CREDENTIALS = {"auth-required"}
# Facts whose values are durations, or counts that depend on when a drip was cut off.
TIMING = ("_ms", "smtp.bytes_received")


def settings_for(server: lab.LabServer, name: str) -> AccountSettings:
    with_credentials = name not in NO_CREDENTIALS
    return AccountSettings(
        host="127.0.0.1",
        port=server.port,
        security=server.scenario.security,
        cafile=str(server.cafile),
        user=lab.LAB_USER if with_credentials else None,
        password=lab.LAB_PASSWORD if with_credentials else None,
        from_addr=lab.LAB_SENDER,
        to_addr=lab.LAB_RECIPIENT,
        timeout=TIMEOUT,
    )


def seen(run: ProbeRun) -> tuple[list[tuple[str, str]], list[tuple[str, object]]]:
    """What a run found, as far as it does not depend on timing: each step's status and each fact."""
    steps = [(r.name, r.status) for r in run.results]
    facts = [(o.name, o.value) for o in run.observations if not o.name.endswith(TIMING)]
    return steps, facts


@pytest.mark.parametrize("name", sorted(lab.SCENARIOS))
def test_each_lab_scenario_probed_without_an_event_loop_finds_what_an_event_loop_finds(kb, name):
    ports = [(p.port, p.security) for p in kb.ports]
    with lab.start(name) as server:
        settings = settings_for(server, name)
        blocking = run_probes(settings, Redactor(), ports)
        evented = run_loop(probe_account(settings, Redactor(), ports))
    assert seen(blocking) == seen(evented)
    assert blocking.transcript == evented.transcript


def test_a_single_account_is_probed_without_importing_asyncio_when_nothing_needs_it(tmp_path):
    script = (
        "import sys\n"
        "from engine.inputs.settings import AccountSettings\n"
        "from engine.probes.run import run_probes\n"
        f"run = run_probes(AccountSettings(host='127.0.0.1', port={free_port()}, timeout=1.0))\n"
        "print(run.results[1].name, run.results[1].status, 'asyncio' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parent.parent,
    )
    # A refused port, then the sweep of other ports beside it: all without an event loop.
    assert done.stdout.strip() == "tcp fail False", done.stderr


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_within_cuts_a_blocking_read_at_the_budget_and_raises_timeout_error(silent_port):
    # Without an event loop nothing can cancel a read; every socket call is cut to the budget.
    port, _ = silent_port

    async def read_long() -> bytes:
        connection = await dial("127.0.0.1", port, 5.0)
        try:
            return await connection.read(100, 30.0)  # a silent server: its own limit is 30 s
        finally:
            connection.abort()

    started = time.monotonic()
    with pytest.raises(TimeoutError):
        drive(within(read_long(), 0.3))
    assert time.monotonic() - started < 15.0  # far less than the read's own 30 s


def test_within_reports_a_coroutine_that_ran_past_its_budget_even_if_it_ended():
    async def slow() -> str:
        time.sleep(0.2)  # a step that no socket call could cut short
        return "done"

    with pytest.raises(TimeoutError):
        drive(within(slow(), 0.1))
    assert drive(within(slow(), 5.0)) == "done"


def test_driving_a_coroutine_that_waits_on_an_event_loop_is_refused():
    async def waits() -> None:
        await asyncio.sleep(0)

    with pytest.raises(RuntimeError, match="without one"):
        drive(waits())


@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
def test_an_address_is_resolved_as_getaddrinfo_gives_it_without_starting_a_thread_or_task(monkeypatch, host):
    from engine.probes import beside

    wanted = list(socket.getaddrinfo(host, None, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP))

    def started(*args: object) -> None:
        raise AssertionError("an address went to the resolver")

    monkeypatch.setattr(beside, "Side", started)
    monkeypatch.setattr(asyncio.base_events.BaseEventLoop, "run_in_executor", started)
    assert drive(beside.resolve(host, 1.0)) == wanted
    assert run_loop(beside.resolve(host, 1.0)) == wanted


def test_a_name_goes_to_the_resolver_on_a_thread_of_its_own(monkeypatch):
    from engine.probes import beside

    started: list[object] = []

    class Counted(beside.Side):  # type: ignore[type-arg]
        def __init__(self, coro):  # type: ignore[no-untyped-def]
            started.append(coro)
            super().__init__(coro)

    monkeypatch.setattr(beside, "Side", Counted)
    found = drive(beside.resolve("localhost", 5.0))
    assert len(started) == 1
    assert {info[4][0] for info in found} & {"127.0.0.1", "::1"}


def test_under_an_event_loop_an_account_is_probed_on_its_own_task_not_a_task_per_reply(kb):
    # Each deadline is set on the probe's task (asyncio.timeout); asyncio.wait_for made a task for every read.
    made: list[object] = []

    async def probe(settings: AccountSettings) -> ProbeRun:
        loop = asyncio.get_running_loop()

        def counted(loop: asyncio.AbstractEventLoop, coro: object, **kwargs: object) -> asyncio.Task[object]:
            made.append(coro)
            return asyncio.Task(coro, loop=loop, **kwargs)  # type: ignore[arg-type]

        loop.set_task_factory(counted)  # type: ignore[arg-type]
        return await probe_account(settings, Redactor(), [(p.port, p.security) for p in kb.ports])

    with lab.start("healthy") as server:
        run = run_loop(probe(settings_for(server, "healthy")))
    replies = sum(1 for line in run.transcript if line.startswith("S:"))
    assert replies >= 8  # a whole dialogue
    assert len(made) < replies / 2  # the run's own few (the probe, the connect, the loop's shutdown)


def test_side_work_that_fails_after_nobody_waits_for_it_is_not_printed_as_never_retrieved():
    # A run cut short (Ctrl-C, its budget) aborts the connection a side task still reads.
    printed: list[str] = []

    async def run() -> None:
        asyncio.get_running_loop().set_exception_handler(lambda loop, context: printed.append(context["message"]))

        async def fails_later() -> None:
            await asyncio.sleep(0.01)
            raise ConnectionResetError("the connection was cut")

        Side(fails_later())
        await asyncio.sleep(0.05)
        gc.collect()  # asyncio reports an unread exception when the task is freed

    asyncio.run(run())
    assert printed == []
