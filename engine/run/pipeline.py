"""One path from inputs to a diagnosis, shared by the CLI, scenarios and tests."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import field
from typing import TYPE_CHECKING

from engine.decide.session import Asker, SessionResult, run_session
from engine.facts import FactSet, FactValue, Observation
from engine.inputs.settings import AccountSettings
from engine.inputs.textinput import Block
from engine.knowledge.model import Knowledge
from engine.probes import ProbeResult
from engine.redact import Redactor
from engine.text.providers import Seen, TextWatch, from_host, from_transcript, recognise
from engine.values import frozen, record

if TYPE_CHECKING:  # the probes pull in asyncio and ssl, which reading pasted text never needs
    from engine.probes.run import ProbeRun


@record
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


@frozen
class PostfixQueue:
    """--postfix-queue: read this Postfix instance's queue (None: the default instance)."""

    config_dir: str | None = None
    timeout: float = 10.0


def postfix_queue_probe(kb: Knowledge, queue: PostfixQueue, redact: Redactor | None) -> ProbeResult:
    """The queue probe, its delay reasons read by this knowledge base's signatures."""
    from engine.probes.postfix_queue import probe_postfix_queue  # only when a queue is asked for
    from engine.text.signatures import mine_snippets

    return probe_postfix_queue(queue.config_dir, queue.timeout, lambda snippets: mine_snippets(kb, snippets, redact))


def diagnose_text(
    kb: Knowledge,
    blocks: Iterable[Block],
    asker: Asker,
    answers: dict[str, FactValue] | None = None,
    extra: list[Observation] | None = None,
    redact: Redactor | None = None,
    queue: PostfixQueue | None = None,
    on_answer: Callable[[dict[str, FactValue]], None] | None = None,
) -> Outcome:
    from engine.text.signatures import mine

    facts = FactSet()
    facts.extend(extra or [])
    probes = [postfix_queue_probe(kb, queue, redact)] if queue is not None else []
    for probe in probes:
        facts.extend(probe.observations)
    watch = TextWatch(kb, redact or str)
    facts.extend(mine(kb, blocks, redact, watch=watch).observations)
    facts.extend(watch.observations())
    return Outcome(run_session(kb, facts, asker, answers, redact, on_answer), probes)


def diagnose_account(
    kb: Knowledge,
    settings: AccountSettings,
    asker: Asker,
    answers: dict[str, FactValue] | None = None,
    log_blocks: Iterable[Block] | None = None,
    redact: Redactor | None = None,
    queue: PostfixQueue | None = None,
    on_answer: Callable[[dict[str, FactValue]], None] | None = None,
    on_step: Callable[[ProbeResult], None] | None = None,
) -> Outcome:
    from engine.probes.run import run_probes

    probes = run_probes(settings, redact, [(p.port, p.security) for p in kb.ports], kb.dnschecks, on_step)
    if queue is not None:
        probes.add(postfix_queue_probe(kb, queue, redact))
    log_facts: list[Observation] = []
    seen_in_log: list[Seen] = []
    if log_blocks is not None:
        from engine.text.signatures import mine  # the text matcher, only with a log to read

        watch = TextWatch(kb, redact or str)
        log_facts = mine(kb, log_blocks, redact, watch=watch).observations
        seen_in_log = watch.seen
    return conclude(kb, settings, probes, asker, answers, log_facts, seen_in_log, redact, on_answer)


def conclude(
    kb: Knowledge,
    settings: AccountSettings,
    probes: ProbeRun,
    asker: Asker,
    answers: dict[str, FactValue] | None = None,
    extra: list[Observation] | None = None,
    seen_in_log: list[Seen] | None = None,
    redact: Redactor | None = None,
    on_answer: Callable[[dict[str, FactValue]], None] | None = None,
) -> Outcome:
    """From an account's settings and what its probes found to a finished session."""
    facts = FactSet()
    facts.extend(settings.observations())
    facts.extend(probes.observations)
    facts.extend(extra or [])
    # The server's own words first (greeting, EHLO, replies), then the host name and any log.
    facts.extend(recognise(kb, from_transcript(probes.transcript) + from_host(settings.host) + (seen_in_log or [])))
    session = run_session(kb, facts, asker, answers, redact, on_answer)
    return Outcome(session, probes.results, settings.target(), probes.transcript, probes.delivered)
