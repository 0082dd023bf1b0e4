"""Diagnose many accounts at once and group those that fail for the same root cause.

Accounts are probed in an event loop, at most `jobs` at a time, because probes spend their time
waiting on the network; each account is concluded as soon as its own probes are done. Both
probing (TLS, the dialogue) and inference (experta) also cost CPU, so with many accounts the
accounts are shared out among worker processes, one per core, forked before any thread starts:
each probes and concludes its share in its own loop and inherits the knowledge. Accounts whose
facts the rules cannot tell apart share one inference within a worker. Where forking is not
safe (other threads running, not Linux, one core) or not worth it (few accounts), this process
probes them all and one thread concludes them.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import field

from engine.decide.session import NoAsker
from engine.facts import FactValue
from engine.inputs.settings import AccountSettings
from engine.knowledge.model import Knowledge
from engine.probes import ProbeResult
from engine.probes.run import ProbeRun, probe_account, run_loop
from engine.redact import Redactor
from engine.report.build import build_report
from engine.report.model import Report
from engine.run.pipeline import Outcome, conclude
from engine.values import frozen, record

DEFAULT_JOBS = 8
# Below this many accounts, forking workers costs more than the probing and inference they share.
PROCESSES_FROM = 8
MAX_PROCESSES = 4


@record
class AccountOutcome:
    name: str
    settings: AccountSettings
    outcome: Outcome
    report: Report
    encoded: str | None = None  # the report as the batch's encode made it, where it was built

    @property
    def first_error(self) -> str | None:
        return next((c.finding for c in self.outcome.session.inference.findings if c.severity == "error"), None)


@record
class Group:
    """Accounts whose first blocking finding has one cause (same finding, same server or same account)."""

    finding: str | None  # None: no blocking problem
    cause: str  # what they share: "smtp.example.com:587", or the account's own name
    accounts: list[AccountOutcome] = field(default_factory=list)


Diagnosed = tuple[Outcome, Report, str | None]


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
        process hands back all three, so that the parent only has to write them."""
        outcome = conclude(self.kb, settings, run, NoAsker(), self.answers, redact=self.redact)
        report = build_report(self.kb, outcome.session, outcome.target, outcome.probes, outcome.transcript)
        return outcome, report, self.encode(report) if self.encode is not None else None


# The batch a forked worker works on: set in the parent just before the fork, inherited.
_forked: _Batch | None = None


def processes_for(accounts: int, jobs: int) -> int:
    """How many processes share the accounts: one per core when forking is safe and worth it, else 1."""
    cores = os.cpu_count() or 1
    if accounts < PROCESSES_FROM or cores < 2 or sys.platform != "linux" or threading.active_count() != 1:
        return 1
    return min(cores, MAX_PROCESSES, jobs)


def _share(index: int) -> list[Diagnosed]:
    """In a worker: the accounts index, index + processes, ... probed and concluded in this process."""
    assert _forked is not None, "a worker must be forked after diagnose_accounts set the batch"
    batch = _forked
    mine = batch.accounts[index :: batch.processes]
    # Concluding here blocks this worker's loop for one inference at a time; the other
    # processes go on probing meanwhile, and accounts like ones concluded before cost little.
    jobs = batch.jobs // batch.processes + (index < batch.jobs % batch.processes)  # all together: batch.jobs
    return run_loop(_diagnose_all(batch, mine, jobs, None))


async def _diagnose_all(
    batch: _Batch, accounts: list[AccountSettings], jobs: int, inference: Executor | None
) -> list[Diagnosed]:
    """The accounts probed, at most jobs at a time, each concluded here or on the inference executor."""
    ports = [(p.port, p.security) for p in batch.kb.ports]
    gate = asyncio.Semaphore(jobs)
    loop = asyncio.get_running_loop()

    async def probe(settings: AccountSettings) -> ProbeRun:
        async with gate:
            try:
                return await probe_account(settings, batch.redact, ports, batch.kb.dnschecks)
            except Exception as exc:
                run = ProbeRun()
                run.add(ProbeResult("run", "fail", 0.0, f"internal error while probing: {type(exc).__name__}: {exc}"))
                return run

    async def one(settings: AccountSettings) -> Diagnosed:
        run = await probe(settings)
        if inference is None:
            return batch.conclude_and_report(settings, run)
        # Concluded as soon as its own probes are done, while other accounts are on the wire.
        return await loop.run_in_executor(inference, batch.conclude_and_report, settings, run)

    return await asyncio.gather(*(one(settings) for settings in accounts))


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
    so that the work is shared out too (a worker is forked, so it need not pickle).
    """
    jobs = max(1, jobs)
    settings = [s for _, s in accounts]
    processes = processes_for(len(accounts), jobs)
    batch = _Batch(kb, settings, answers, redact or Redactor(), jobs, processes, encode)
    done = _in_processes(batch) if batch.processes > 1 else _in_this_process(batch)
    return [
        AccountOutcome(name, settings, outcome, report, text)
        for (name, settings), (outcome, report, text) in zip(accounts, done, strict=True)
    ]


def _in_processes(batch: _Batch) -> list[Diagnosed]:
    global _forked
    _forked = batch
    try:
        # With fork, the pool starts all its workers at the first task, while this process
        # still has one thread and no event loop.
        with ProcessPoolExecutor(batch.processes, mp_context=multiprocessing.get_context("fork")) as pool:
            shares = list(pool.map(_share, range(batch.processes)))
    finally:
        _forked = None
    # Account i went to worker i % processes, as its (i // processes)-th.
    return [shares[i % batch.processes][i // batch.processes] for i in range(len(batch.accounts))]


def _in_this_process(batch: _Batch) -> list[Diagnosed]:
    # One thread only: the experta engine is shared and not made for threads.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="mailtriage-inference") as inference:
        return run_loop(_diagnose_all(batch, batch.accounts, batch.jobs, inference))


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
