"""One path from inputs to a diagnosis, shared by the CLI, scenarios and tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

from engine.facts import FactSet, FactValue, Observation
from engine.knowledge import Knowledge
from engine.probes import ProbeResult
from engine.probes.run import run_probes
from engine.redact import Redactor
from engine.session import Asker, SessionResult, run_session
from engine.settings import AccountSettings
from engine.signatures import mine
from engine.textinput import Block


@dataclass
class Outcome:
    session: SessionResult
    probes: list[ProbeResult] = field(default_factory=list)
    target: dict[str, object] = field(default_factory=dict)
    transcript: list[str] = field(default_factory=list)
    delivered: bool = False


def source_of(name: str) -> str:
    """Where a fact given directly (scenarios, tests) would have come from."""
    area = name.split(".", 1)[0]
    return {"config": "config", "answer": "answer", "log": "log"}.get(area, "probe")


def given_facts(facts: dict[str, FactValue]) -> list[Observation]:
    return [Observation(n, v, source_of(n), None, "given") for n, v in facts.items()]  # type: ignore[arg-type]


def diagnose_text(
    kb: Knowledge,
    blocks: Iterable[Block],
    asker: Asker,
    answers: dict[str, FactValue] | None = None,
    extra: list[Observation] | None = None,
    redact: Redactor | None = None,
) -> Outcome:
    facts = FactSet()
    facts.extend(extra or [])
    facts.extend(mine(kb, blocks, redact).observations)
    return Outcome(run_session(kb, facts, asker, answers))


def diagnose_account(
    kb: Knowledge,
    settings: AccountSettings,
    asker: Asker,
    answers: dict[str, FactValue] | None = None,
    log_blocks: Iterable[Block] | None = None,
    redact: Redactor | None = None,
) -> Outcome:
    facts = FactSet()
    facts.extend(settings.observations())
    probes = run_probes(settings, redact, [(p.port, p.security) for p in kb.ports], kb.dnschecks)
    facts.extend(probes.observations)
    if log_blocks is not None:
        facts.extend(mine(kb, log_blocks, redact).observations)
    session = run_session(kb, facts, asker, answers)
    return Outcome(session, probes.results, settings.target(), probes.transcript, probes.delivered)
