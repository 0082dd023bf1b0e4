"""Diagnose many accounts at once and group those that fail for the same root cause.

Probes of all accounts run in one event loop, at most `jobs` at a time, because they spend
their time waiting on the network. The inference then runs one account after the other: the
experta engine is shared and not made for threads, and it takes milliseconds per account.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from engine.facts import FactValue
from engine.knowledge import Knowledge
from engine.pipeline import Outcome, conclude
from engine.probes import ProbeResult
from engine.probes.run import ProbeRun, probe_account
from engine.redact import Redactor
from engine.session import NoAsker
from engine.settings import AccountSettings

DEFAULT_JOBS = 8


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


async def _probe_all(
    kb: Knowledge, accounts: list[tuple[str, AccountSettings]], redact: Redactor, jobs: int
) -> list[ProbeRun]:
    ports = [(p.port, p.security) for p in kb.ports]
    gate = asyncio.Semaphore(jobs)

    async def one(settings: AccountSettings) -> ProbeRun:
        async with gate:
            try:
                return await probe_account(settings, redact, ports, kb.dnschecks)
            except Exception as exc:  # noqa: BLE001 - one account's bug must not stop the others
                run = ProbeRun()
                run.add(ProbeResult("run", "fail", 0.0, f"internal error while probing: {type(exc).__name__}: {exc}"))
                return run

    return await asyncio.gather(*(one(settings) for _, settings in accounts))


def diagnose_accounts(
    kb: Knowledge,
    accounts: list[tuple[str, AccountSettings]],
    answers: dict[str, FactValue] | None = None,
    redact: Redactor | None = None,
    jobs: int = DEFAULT_JOBS,
) -> list[AccountOutcome]:
    """Every account probed (bounded concurrency) and concluded; questions stay unasked."""
    redact = redact or Redactor()
    runs = asyncio.run(_probe_all(kb, accounts, redact, max(1, jobs)))
    return [
        AccountOutcome(name, settings, conclude(kb, settings, run, NoAsker(), answers, redact=redact))
        for (name, settings), run in zip(accounts, runs)
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
