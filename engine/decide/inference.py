"""Declare facts, run the compiled engine, and collect findings, verdicts and questions."""

from __future__ import annotations

from dataclasses import field
from typing import Any, Literal

from engine.decide.compile import Compiled, Concluded, Given, Need, Obs, Reply, Triple, compiled_for, reads_of, triple
from engine.facts import FactSet, FactValue, Observation
from engine.knowledge import schema as s
from engine.knowledge.model import Knowledge
from engine.knowledge.prepared import prepared
from engine.values import record


@record
class Step:
    """One link of an explanation: a rule and the observations it matched."""

    rule: str
    observations: list[Observation]
    used: list[str]


@record
class Conclusion:
    finding: str
    verdict: str
    rule: str
    confidence: str
    contact: str
    severity: str
    steps: list[Step] = field(default_factory=list)
    # The routing fact that would pick the contact is unknown, so the default was used.
    contact_assumed_by: str | None = None

    @property
    def evidence(self) -> list[Observation]:
        seen: dict[tuple[str, FactValue, str | None], Observation] = {}
        for step in self.steps:
            for obs in step.observations:
                seen.setdefault((obs.name, obs.value, obs.evidence), obs)
        return list(seen.values())


UNKNOWN = "unknown"  # the answer "I don't know"


@record
class Inference:
    findings: list[Conclusion]
    ruled_out: list[Conclusion]
    pending: list[s.QuestionSpec]
    fired: list[str]


def route(contact: s.ContactRule, facts: FactSet) -> tuple[str, str | None]:
    """Who acts, and the routing fact whose value was unknown when the default had to serve."""
    if isinstance(contact, str):
        return contact, None
    value = facts.first(contact.by)
    if value is not None and str(value) in contact.cases:
        return contact.cases[str(value)], None
    # A known value that no case names is routed by `otherwise` as surely as a case would be;
    # only a value nobody gave, or "I don't know", leaves the contact assumed.
    known = value is not None and str(value) != UNKNOWN
    return contact.otherwise, None if known else contact.by


def infer(kb: Knowledge, facts: FactSet, rules: Literal["auto", "every", "subset"] = "auto") -> Inference:
    """What the rules conclude from the facts. rules: "auto" lets the engine hold only the rules
    that could fire with these facts while that saves time; "every" and "subset" force
    one way (the equivalence test compares them)."""
    distinct = facts.distinct()
    replies: list[tuple[dict[str, FactValue], tuple[int, ...]]] = []
    place = {triple(name, value): i for i, (name, value) in enumerate(distinct)}
    for group in facts.reply_groups():
        fields: dict[str, FactValue] = {}
        for obs in group:
            fields.setdefault(obs.name, obs.value)
        replies.append((fields, tuple(sorted({place[triple(o.name, o.value)] for o in group}))))
    given = None if rules == "every" else Given.of(reads_of(kb).relevant(distinct), (fields for fields, _ in replies))
    compiled = compiled_for(kb, given, subset=rules == "subset")
    declared = tuple(compiled.settled(triple(name, value)) for name, value in distinct if name in compiled.referenced)
    # Many accounts on one server reach the same facts (only timings, which no rule reads, and
    # values only tested for presence, such as each profile account's own line, differ): what
    # the engine concludes from them is worked out once per knowledge base.
    memo: dict[object, Fired] = prepared(kb, "inference-memo", lambda kb: {})
    memo_key = (id(compiled), declared, tuple(_triples(compiled, distinct, keys) for _, keys in replies))
    if memo_key not in memo:
        if len(memo) >= MEMO_SIZE:
            memo.clear()
        memo[memo_key] = _run(compiled, distinct, replies)
    fired_in, asked_for = memo[memo_key]
    # Evidence back to this run's own facts; a presence-only fact is this run's first of that name.
    settled_place: dict[Triple, int] = {}
    for t, i in place.items():
        settled_place.setdefault(compiled.settled(t), i)
    fired = [{**fact, "keys": tuple(sorted({settled_place[t] for t in fact["evidence"]}))} for fact in fired_in]

    # In knowledge order, not firing order: experta's agenda order depends on how the network was
    # built, and a finding's lead rule and steps must not depend on which rules were built.
    position: dict[str, int] = prepared(kb, "rule-positions", lambda kb: {r: i for i, r in enumerate(kb.rules)})
    fired.sort(key=lambda fact: position[fact["rule"]])
    by_finding: dict[tuple[str, str], Conclusion] = {}
    for fact in fired:
        rule = kb.rules[fact["rule"]]
        spec = kb.findings[fact["finding"]]
        observations = [obs for key in fact["keys"] for obs in facts.evidence_for(*distinct[key])]
        step = Step(rule.id, observations, list(fact["used"]))
        key = (rule.finding, rule.verdict)
        existing = by_finding.get(key)
        confidence = rule.confidence
        contact, assumed = route(rule.contact or spec.contact, facts)
        if existing is None:
            by_finding[key] = Conclusion(
                finding=rule.finding,
                verdict=rule.verdict,
                rule=rule.id,
                confidence=confidence,
                contact=contact,
                severity=spec.severity,
                steps=[step],
                contact_assumed_by=assumed,
            )
            continue
        existing.steps.append(step)
        if s.CONFIDENCE_ORDER[confidence] < s.CONFIDENCE_ORDER[existing.confidence]:
            existing.confidence = confidence
            existing.rule = rule.id
            existing.contact = contact
            existing.contact_assumed_by = assumed

    found = [c for (_, verdict), c in by_finding.items() if verdict == "found"]
    found_ids = {c.finding for c in found}
    # A finding that one rule concluded is not "ruled out" by another: the problem wins.
    ruled_out = [c for (fid, verdict), c in by_finding.items() if verdict == "ruled_out" and fid not in found_ids]
    found.sort(key=lambda c: order_key(kb, c))
    ruled_out.sort(key=lambda c: (kb.findings[c.finding].step, c.finding))
    # A finding whose contact depends on an answer not given yet makes that question worth
    # asking, whichever finding it is: who acts is part of the conclusion.
    routing = {
        c.contact_assumed_by for c in found if c.contact_assumed_by and facts.first(c.contact_assumed_by) is None
    }
    # (A new list: the memo's must stay as the engine left it.)
    needs = asked_for + [f.removeprefix("answer.") for f in routing if f.removeprefix("answer.") in kb.questions]
    pending = sorted((kb.questions[q] for q in set(needs)), key=lambda q: (q.priority, q.id))
    return Inference(found, ruled_out, pending, sorted({f["rule"] for f in fired}))


# A concluded fact with its evidence named by value, not by its place in one run's facts, so one
# run's result serves another whose facts are the same; and the questions found worth asking.
Fired = tuple[list[dict[str, Any]], list[str]]
MEMO_SIZE = 256


def _run(
    compiled: Compiled,
    distinct: list[tuple[str, FactValue]],
    replies: list[tuple[dict[str, FactValue], tuple[int, ...]]],
) -> Fired:
    engine = compiled.engine()
    engine.reset()
    for index, (name, value) in enumerate(distinct):
        if name in compiled.referenced:
            engine.declare(Obs(name=name, value=value, key=index))
    for fields, keys in replies:
        engine.declare(Reply(fields=tuple(sorted(fields.items())), keys=keys))
    engine.run()
    fired: list[dict[str, Any]] = []
    needs: list[str] = []
    for fact in engine.facts.values():
        if isinstance(fact, Concluded):
            evidence = _triples(compiled, distinct, fact["keys"])
            fired.append({"rule": fact["rule"], "finding": fact["finding"], "evidence": evidence, "used": fact["used"]})
        elif isinstance(fact, Need):
            needs.append(fact["question"])
    return fired, needs


def _triples(compiled: Compiled, distinct: list[tuple[str, FactValue]], keys: tuple[int, ...]) -> tuple[Triple, ...]:
    return tuple(sorted((compiled.settled(triple(*distinct[k])) for k in keys), key=repr))


def order_key(kb: Knowledge, c: Conclusion) -> tuple[int, int, int, int, str]:
    """Most important first: severity, confidence, the decision tree's order, then the more
    specific conclusion (the one that needed more facts, e.g. "port 25 blocked, 587 works"
    before "port 25 times out")."""
    specificity = max(len({(o.name, o.value) for o in step.observations}) + len(step.used) for step in c.steps)
    return (
        s.SEVERITY_ORDER[c.severity],
        s.CONFIDENCE_ORDER[c.confidence],
        kb.findings[c.finding].step,
        -specificity,
        c.finding,
    )
