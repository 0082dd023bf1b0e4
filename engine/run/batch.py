"""Diagnose many accounts at once and group those that fail for the same root cause.

Accounts are probed in an event loop, at most `jobs` at a time, because probes spend their time
waiting on the network; each account is concluded as soon as its own probes are done. Both
probing (TLS, the dialogue) and inference (experta) also cost CPU, so with many accounts the
accounts are shared out among worker processes, one per core: this one, and the others forked
from it before any thread starts. Each inherits the knowledge and, in its own loop, claims the
next account whenever it has room to probe one, so that a worker slowed down takes fewer, then
concludes it. Accounts whose facts the rules cannot tell apart share one inference within a
worker. Where forking is not safe (other threads running, not Linux, one core) or not worth it
(few accounts), this process probes them all and one thread concludes them.
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import field

from engine.decide.session import NoAsker, SessionResult
from engine.facts import FactValue
from engine.inputs.settings import AccountSettings
from engine.knowledge.model import Knowledge
from engine.probes import ProbeResult
from engine.probes.run import ProbeRun, probe_account, run_loop
from engine.redact import Redactor
from engine.report.build import build_report
from engine.report.model import Report
from engine.run.forked import Claims, in_forks
from engine.run.pipeline import conclude
from engine.values import frozen, record

DEFAULT_JOBS = 8
# Below this many accounts, forking workers costs more than the probing and inference they share.
PROCESSES_FROM = 8
MAX_PROCESSES = 4


@record
class AccountOutcome:
    name: str
    settings: AccountSettings
    report: Report
    first_error: str | None  # the first blocking finding: what groups the account with others
    session: SessionResult | None = None  # for reports rendered through templates (no encode)
    encoded: str | None = None  # the report as the batch's encode made it, where it was built


@record
class Group:
    """Accounts whose first blocking finding has one cause (same finding, same server or same account)."""

    finding: str | None  # None: no blocking problem
    cause: str  # what they share: "smtp.example.com:587", or the account's own name
    accounts: list[AccountOutcome] = field(default_factory=list)


@record
class Diagnosed:
    """One account as a worker hands it back: what the parent writes, and nothing more."""

    report: Report
    first_error: str | None
    session: SessionResult | None
    encoded: str | None


Numbered = tuple[int, Diagnosed]  # an account's place in the batch, and its diagnosis


@frozen
class _Batch:
    """What every account of a batch is diagnosed with."""

    kb: Knowledge
    accounts: list[AccountSettings]
    answers: dict[str, FactValue] | None
    redact: Redactor
    jobs: int  # accounts probed at the same time, in all processes together
    processes: int
    encode: Callable[[Report], str] | None  # applied to each report where it is built

    def conclude_and_report(self, settings: AccountSettings, run: ProbeRun) -> Diagnosed:
        """The account concluded, its report built and encoded, where it was probed: a worker
        process hands back what the parent writes, so that it only has to write it."""
        outcome = conclude(self.kb, settings, run, NoAsker(), self.answers, redact=self.redact)
        session = outcome.session
        report = build_report(self.kb, session, outcome.target, outcome.probes, outcome.transcript)
        first_error = next((c.finding for c in session.inference.findings if c.severity == "error"), None)
        if self.encode is None:
            return Diagnosed(report, first_error, session, None)
        # The session is what templates render from; an encoded report needs none of it, and
        # it was half of what a worker pickled for the parent to unpickle.
        return Diagnosed(report, first_error, None, self.encode(report))


def processes_for(accounts: int, jobs: int) -> int:
    """How many processes share the accounts: one per core when forking is safe and worth it, else 1."""
    cores = os.cpu_count() or 1
    if accounts < PROCESSES_FROM or cores < 2 or sys.platform != "linux" or threading.active_count() != 1:
        return 1
    return min(cores, MAX_PROCESSES, jobs)


def _in_order(count: int) -> Callable[[], int | None]:
    numbers = iter(range(count))
    return lambda: next(numbers, None)


def _share(batch: _Batch, claims: Claims, index: int) -> list[Numbered]:
    """In one worker process: accounts claimed one by one from the batch's shared claims, probed and concluded here."""
    # Concluding here blocks this worker's loop for one inference at a time; the other
    # processes go on probing meanwhile, and accounts like ones concluded before cost little.
    jobs = batch.jobs // batch.processes + (index < batch.jobs % batch.processes)  # all together: batch.jobs
    return run_loop(_diagnose_all(batch, claims, jobs, None))


async def _diagnose_all(
    batch: _Batch, claim: Callable[[], int | None], jobs: int, inference: Executor | None
) -> list[Numbered]:
    """Accounts claimed and probed, at most jobs at a time, each concluded here or on the inference
    executor; each comes back with its number."""
    ports = [(p.port, p.security) for p in batch.kb.ports]
    gate = asyncio.Semaphore(jobs)
    loop = asyncio.get_running_loop()

    async def probe(settings: AccountSettings) -> ProbeRun:
        try:
            return await probe_account(settings, batch.redact, ports, batch.kb.dnschecks)
        except Exception as exc:
            run = ProbeRun()
            run.add(ProbeResult("run", "fail", 0.0, f"internal error while probing: {type(exc).__name__}: {exc}"))
            return run

    async def one() -> Numbered | None:
        async with gate:  # an account is claimed only when this process has a slot free for it
            number = claim()
            if number is None:
                return None
            settings = batch.accounts[number]
            run = await probe(settings)
        if inference is None:
            return number, batch.conclude_and_report(settings, run)
        # Concluded as soon as its own probes are done, while other accounts are on the wire.
        return number, await loop.run_in_executor(inference, batch.conclude_and_report, settings, run)

    done = await asyncio.gather(*(one() for _ in batch.accounts))
    return [item for item in done if item is not None]


def diagnose_accounts(
    kb: Knowledge,
    accounts: list[tuple[str, AccountSettings]],
    answers: dict[str, FactValue] | None = None,
    redact: Redactor | None = None,
    jobs: int = DEFAULT_JOBS,
    encode: Callable[[Report], str] | None = None,
) -> list[AccountOutcome]:
    """Every account probed (at most `jobs` at a time) and concluded; questions stay unasked.

    encode: turns each report into the text the caller will write, in the worker that built it,
    so that the work is shared out too (a worker is forked, so it need not pickle). With it, no
    session comes back: what is written is the encoded text.
    """
    jobs = max(1, jobs)
    settings = [s for _, s in accounts]
    processes = processes_for(len(accounts), jobs)
    batch = _Batch(kb, settings, answers, redact or Redactor(), jobs, processes, encode)
    done = _in_processes(batch) if batch.processes > 1 else _in_this_process(batch)
    return [
        AccountOutcome(name, settings, d.report, d.first_error, d.session, d.encoded)
        for (name, settings), d in zip(accounts, done, strict=True)
    ]


def _in_processes(batch: _Batch) -> list[Diagnosed]:
    # Forked while this process has one thread and no event loop; the workers inherit the batch,
    # and this process works as the first of them.
    claims = Claims(len(batch.accounts))
    shares = in_forks(lambda index: _share(batch, claims, index), batch.processes, claims)
    return _in_numbered_order([item for share in shares for item in share], len(batch.accounts))


def _in_this_process(batch: _Batch) -> list[Diagnosed]:
    # One thread only: the experta engine is shared and not made for threads.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="mailtriage-inference") as inference:
        done = run_loop(_diagnose_all(batch, _in_order(len(batch.accounts)), batch.jobs, inference))
    return _in_numbered_order(done, len(batch.accounts))


def _in_numbered_order(done: list[Numbered], count: int) -> list[Diagnosed]:
    by_number = dict(done)
    assert sorted(by_number) == list(range(count)) and len(done) == count, "each account is diagnosed once"
    return [by_number[number] for number in range(count)]


def group(kb: Knowledge, outcomes: list[AccountOutcome]) -> list[Group]:
    """Largest groups first; a finding about one account (its password, its sender) never groups."""
    groups: dict[tuple[str | None, str], Group] = {}
    for item in outcomes:
        finding = item.first_error
        if finding is None:
            cause = "no blocking problem"
        elif kb.findings[finding].scope == "account":
            cause = item.name
        else:
            cause = f"{item.settings.host}:{item.settings.port}"
        groups.setdefault((finding, cause), Group(finding, cause)).accounts.append(item)
    return sorted(groups.values(), key=lambda g: (g.finding is None, -len(g.accounts), g.finding or "", g.cause))
