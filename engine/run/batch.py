"""Diagnose many accounts at once and group those that fail for the same root cause.

Probes of all accounts run in one event loop, at most `jobs` at a time, because they spend
their time waiting on the network. Each account's inference runs as soon as its probes are
done. Inference is CPU work (about 35 ms an account in experta), so with many accounts it goes
to worker processes forked before any thread starts, which inherit the compiled rules; where
forking is not safe (other threads running, not Linux, one core) one worker thread does it.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import sys
import threading
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field

from engine.decide.compile import compiled_for
from engine.decide.session import NoAsker
from engine.facts import FactValue
from engine.inputs.settings import AccountSettings
from engine.knowledge.model import Knowledge
from engine.probes import ProbeResult
from engine.probes.run import ProbeRun, probe_account
from engine.redact import Redactor
from engine.run.pipeline import Outcome, conclude

DEFAULT_JOBS = 8
# Below this many accounts, starting worker processes costs more than the inference they share.
PROCESSES_FROM = 8
MAX_PROCESSES = 4


@dataclass
class AccountOutcome:
    name: str
    settings: AccountSettings
    outcome: Outcome

    @property
    def first_error(self) -> str | None:
        return next((c.finding for c in self.outcome.session.inference.findings if c.severity == "error"), None)


@dataclass
class Group:
    """Accounts whose first blocking finding has one cause (same finding, same server or same account)."""

    finding: str | None  # None: no blocking problem
    cause: str  # what they share: "smtp.example.com:587", or the account's own name
    accounts: list[AccountOutcome] = field(default_factory=list)


# What a forked worker concludes with: set in the parent just before the fork, inherited.
_worker_state: tuple[Knowledge, dict[str, FactValue] | None, Redactor] | None = None


def _conclude_in_worker(settings: AccountSettings, run: ProbeRun) -> Outcome:
    assert _worker_state is not None, "a worker must be forked after _inference_executor set the state"
    kb, answers, redact = _worker_state
    return conclude(kb, settings, run, NoAsker(), answers, redact=redact)


def _inference_executor(
    kb: Knowledge, answers: dict[str, FactValue] | None, redact: Redactor, accounts: int
) -> Executor:
    """Worker processes when forking is safe and worth it; otherwise one thread."""
    global _worker_state
    _worker_state = (kb, answers, redact)
    cores = os.cpu_count() or 1
    if accounts >= PROCESSES_FROM and cores > 1 and sys.platform == "linux" and threading.active_count() == 1:
        compiled_for(kb).engine()  # build the rules once, before the fork, so every worker has them
        executor = ProcessPoolExecutor(min(cores, MAX_PROCESSES), mp_context=multiprocessing.get_context("fork"))
        # With fork, the pool starts all its workers at the first task: do that now, while this
        # process still has one thread and no event loop.
        executor.submit(int).result()
        return executor
    # One thread only: the experta engine is shared and not made for threads.
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="mailtriage-inference")


async def _diagnose_all(
    kb: Knowledge,
    accounts: list[tuple[str, AccountSettings]],
    redact: Redactor,
    jobs: int,
    inference: Executor,
) -> list[Outcome]:
    ports = [(p.port, p.security) for p in kb.ports]
    gate = asyncio.Semaphore(jobs)
    loop = asyncio.get_running_loop()

    async def probe(settings: AccountSettings) -> ProbeRun:
        async with gate:
            try:
                return await probe_account(settings, redact, ports, kb.dnschecks)
            except Exception as exc:
                run = ProbeRun()
                run.add(ProbeResult("run", "fail", 0.0, f"internal error while probing: {type(exc).__name__}: {exc}"))
                return run

    async def one(settings: AccountSettings) -> Outcome:
        run = await probe(settings)
        # Concluded as soon as its own probes are done, while other accounts are on the wire.
        return await loop.run_in_executor(inference, _conclude_in_worker, settings, run)

    return await asyncio.gather(*(one(settings) for _, settings in accounts))


def diagnose_accounts(
    kb: Knowledge,
    accounts: list[tuple[str, AccountSettings]],
    answers: dict[str, FactValue] | None = None,
    redact: Redactor | None = None,
    jobs: int = DEFAULT_JOBS,
) -> list[AccountOutcome]:
    """Every account probed (at most `jobs` at a time) and concluded; questions stay unasked."""
    redact = redact or Redactor()
    with _inference_executor(kb, answers, redact, len(accounts)) as inference:
        outcomes = asyncio.run(_diagnose_all(kb, accounts, redact, max(1, jobs), inference))
    return [
        AccountOutcome(name, settings, outcome) for (name, settings), outcome in zip(accounts, outcomes, strict=True)
    ]


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
