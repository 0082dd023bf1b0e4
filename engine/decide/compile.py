"""Turn knowledge rules and question conditions into experta rules on a KnowledgeEngine class.

experta builds its matching network from the Rule objects on the class when an engine is created,
so the class is made here with type() after every rule exists. Actions only declare facts.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable, Mapping, Set
from dataclasses import field
from typing import Any

from engine.decide.compat import AND, AS, NOT, OR, Fact, KnowledgeEngine, P, Rule
from engine.facts import FactValue
from engine.knowledge import schema as s
from engine.knowledge.conditions import fact_tests, findings_read, holds, reply_holds, value_test
from engine.knowledge.model import Knowledge
from engine.knowledge.prepared import existing, prepared
from engine.values import frozen, record


class Obs(Fact):
    """A distinct name/value pair; key points back at its evidence."""


class Concluded(Fact):
    """A rule fired: which finding, which verdict, which observations and conclusions it used."""


class Need(Fact):
    """A question is worth asking now."""


class Reply(Fact):
    """One SMTP reply: its reply.* facts as (name, value) pairs, and the keys of their evidence."""


@record
class Compiled:
    engine_class: type[KnowledgeEngine]
    # Fact names some rule or question tests. Only these are declared: experta passes every
    # fact through every rule's tests, so a fact no rule reads would only cost time.
    referenced: frozenset[str] = frozenset()
    # Referenced facts that conditions only test for presence (config.source: "settings were
    # given"): their values cannot change what fires, so inference is memoised without them.
    presence_only: frozenset[str] = frozenset()
    _engine: KnowledgeEngine | None = None

    def settled(self, fact: Triple) -> Triple:
        """The fact as far as the rules can tell it apart: a presence-only fact without its value."""
        return (fact[0], "present", True) if fact[0] in self.presence_only else fact

    def engine(self) -> KnowledgeEngine:
        """One engine per knowledge base: experta builds its network per instance, and reset()
        empties the facts while keeping the network, which is most of the cost of a run."""
        if self._engine is None:
            self._engine = self.engine_class()
        return self._engine


class _Builder:
    """Compiles one condition tree; names the facts it binds so the action can cite them."""

    def __init__(self, names: set[str], valued: set[str]) -> None:
        self.count = 0
        self.names = names  # every fact name the conditions test, shared across rules
        self.valued = valued  # those some condition tests the value of

    def bind(self, pattern: Any, negated: bool) -> Any:
        if negated:
            return pattern
        self.count += 1
        return getattr(AS, f"m{self.count}") << pattern

    def build(self, cond: Any, negated: bool = False) -> Any:
        if isinstance(cond, s.AllOf):
            return AND(*(self.build(c, negated) for c in cond.all))
        if isinstance(cond, s.AnyOf):
            return OR(*(self.build(c, negated) for c in cond.any))
        if isinstance(cond, s.NotOf):
            return NOT(self.build(cond.not_, True))
        if isinstance(cond, s.FindingTest):
            return self.bind(Concluded(finding=cond.finding, verdict="found"), negated)
        if isinstance(cond, s.ReplyTest):
            inner = cond.reply
            return self.bind(Reply(fields=P(lambda fields: reply_holds(inner, dict(fields)))), negated)
        assert isinstance(cond, s.FactTest)
        self.names.add(cond.fact)
        if cond.operator not in ("absent", "present"):
            self.valued.add(cond.fact)
        if cond.operator == "absent":
            return NOT(Obs(name=cond.fact))
        if cond.operator == "present":
            return self.bind(Obs(name=cond.fact), negated)
        return self.bind(Obs(name=cond.fact, value=P(value_test(cond))), negated)


# Every action takes the engine and the bound facts. experta asks inspect.signature of an
# action each time it copies its rule, some ten times a rule while it builds the network; a
# signature given beforehand is returned at once (inspect reads __signature__ first).
_ACTION_SIGNATURE = inspect.Signature(
    [
        inspect.Parameter("engine", inspect.Parameter.POSITIONAL_OR_KEYWORD),
        inspect.Parameter("bound", inspect.Parameter.VAR_KEYWORD),
    ]
)


def _action(action: Callable[..., None], name: str) -> Callable[..., None]:
    action.__name__ = name
    action.__signature__ = _ACTION_SIGNATURE  # type: ignore[attr-defined]
    return action


def _conclude(rule: s.RuleSpec, severity: str) -> Callable[..., None]:
    def action(engine: KnowledgeEngine, **bound: Any) -> None:
        keys = {f["key"] for f in bound.values() if isinstance(f, Obs)}
        keys |= {key for f in bound.values() if isinstance(f, Reply) for key in f["keys"]}
        used = sorted(f["rule"] for f in bound.values() if isinstance(f, Concluded))
        engine.declare(
            Concluded(
                finding=rule.finding,
                verdict=rule.verdict,
                rule=rule.id,
                severity=severity,
                tier=rule.tier,
                keys=tuple(sorted(keys)),
                used=tuple(used),
            )
        )

    return _action(action, f"rule_{rule.id}")


def _ask(question: s.QuestionSpec) -> Callable[..., None]:
    def action(engine: KnowledgeEngine, **bound: Any) -> None:
        engine.declare(Need(question=question.id))

    return _action(action, f"ask_{question.id}")


def _waits_for_findings(cond: Any, negated: bool = False) -> bool:
    """A rule that needs another finding to be absent must run after the rules that could find it."""
    if isinstance(cond, (s.AllOf, s.AnyOf)):
        return any(_waits_for_findings(c, negated) for c in (cond.all if isinstance(cond, s.AllOf) else cond.any))
    if isinstance(cond, s.NotOf):
        return _waits_for_findings(cond.not_, not negated)
    return negated and isinstance(cond, s.FindingTest)


def _outranking(tier: str) -> Any:
    """The conclusion that makes a lower tier's rule moot: an error found by a higher tier.

    Lower tiers also run last (salience), so whatever outranks them is known when they fire.
    """
    if tier == "backbone":
        return Concluded(verdict="found", severity="error", tier="specific")
    return Concluded(verdict="found", severity="error")


Triple = tuple[str, str, FactValue]  # a fact as (name, type name, value): True and 1 stay apart


def triple(name: str, value: FactValue) -> Triple:
    return (name, type(value).__name__, value)


@frozen
class Given:
    """The facts one inference starts from, as a key: what an engine of only the rules that
    could fire is built for. Values carry their type, since True == 1 must not share a key."""

    facts: tuple[Triple, ...]  # each fact once
    replies: tuple[tuple[tuple[str, FactValue], ...], ...]  # each reply's reply.* facts

    @classmethod
    def of(cls, pairs: Iterable[tuple[str, FactValue]], replies: Iterable[Mapping[str, FactValue]]) -> Given:
        facts = tuple(sorted({triple(name, value) for name, value in pairs}, key=repr))
        return cls(facts, tuple(tuple(sorted(reply.items())) for reply in replies))

    @functools.cached_property
    def values(self) -> dict[str, list[FactValue]]:
        found: dict[str, list[FactValue]] = {}
        for name, _, value in self.facts:
            found.setdefault(name, []).append(value)
        return found


@frozen
class Reads:
    """What the conditions of the rules and questions can tell apart: the facts they test, and
    those they test only for presence; and for each rule, the findings its condition builds on."""

    names: frozenset[str]
    presence_only: frozenset[str]
    findings: Mapping[str, frozenset[str]] = field(default_factory=dict, compare=False)  # rule id -> findings

    @classmethod
    def of(cls, kb: Knowledge) -> Reads:
        tests: set[tuple[str, bool]] = set()
        for cond in [r.when for r in kb.rules.values()] + [q.when for q in kb.questions.values()]:
            tests |= fact_tests(cond)
        names = {name for name, _ in tests}
        findings = {ident: frozenset(findings_read(rule.when)) for ident, rule in kb.rules.items()}
        return cls(frozenset(names), frozenset(names - {name for name, valued in tests if valued}), findings)

    def relevant(self, pairs: Iterable[tuple[str, FactValue]]) -> list[tuple[str, FactValue]]:
        """The facts as far as a condition can tell: timings and such left out, presence-only
        facts without their values. Runs that differ only otherwise share one subset engine."""
        return [(name, True if name in self.presence_only else value) for name, value in pairs if name in self.names]


READS = "condition-reads"  # Knowledge.derived key: the Reads of its rules and questions


def derive_reads(kb: Knowledge) -> None:
    """Fill kb.derived with what the conditions read, for the knowledge cache to keep."""
    kb.derived[READS] = Reads.of(kb)


def reads_of(kb: Knowledge) -> Reads:
    stored = kb.derived.get(READS)
    return stored if isinstance(stored, Reads) else prepared(kb, READS, Reads.of)


def could_hold(cond: Any, given: Given, findable: Set[str] | None = None) -> bool | None:
    """Whether a condition holds over the given facts: True, False, or None while it depends
    on findings that other rules may yet conclude.

    Rules only ever add conclusions and questions, never facts, so a fact or reply test is
    settled by the given facts alone; a rule whose condition is False can never fire.
    findable: the findings some rule could conclude with these facts (None: any); a test of
    another finding is False, since nothing will conclude it.
    """
    if isinstance(cond, s.AllOf):
        parts = [could_hold(c, given, findable) for c in cond.all]
        return False if False in parts else (None if None in parts else True)
    if isinstance(cond, s.AnyOf):
        parts = [could_hold(c, given, findable) for c in cond.any]
        return True if True in parts else (None if None in parts else False)
    if isinstance(cond, s.NotOf):
        inner = could_hold(cond.not_, given, findable)
        return None if inner is None else not inner
    if isinstance(cond, s.FindingTest):
        return None if findable is None or cond.finding in findable else False
    if isinstance(cond, s.ReplyTest):
        return any(reply_holds(cond.reply, dict(reply)) for reply in given.replies)
    return holds(cond, lambda name: given.values.get(name, []))


def live_rules(kb: Knowledge, given: Given) -> tuple[set[str], set[str]]:
    """The rules that could fire with these facts, and the findings they could conclude.

    Grown from no finding at all: a rule that needs a finding no live rule concludes is
    False, and looked at again only when some rule that concludes that finding turns live.
    In three-valued logic a test that turns from False to unknown can only make a condition
    unknown, never False, so a live rule stays live and the growth ends where every rule
    left out is False for good.
    """
    reads = reads_of(kb).findings
    live: set[str] = set()
    findable: set[str] = set()
    waiting: dict[str, list[str]] = {}  # finding -> rules left out until it is findable
    pending = [ident for ident, rule in kb.rules.items() if rule.status != "deprecated"]
    while pending:
        ident = pending.pop()
        rule = kb.rules[ident]
        if ident in live:
            continue
        if could_hold(rule.when, given, findable) is False:
            for finding in reads[ident] - findable:
                waiting.setdefault(finding, []).append(ident)
            continue
        live.add(ident)
        if rule.verdict == "found" and rule.finding not in findable:
            findable.add(rule.finding)
            pending.extend(waiting.pop(rule.finding, []))
    return live, findable


def compile_knowledge(kb: Knowledge, given: Given | None = None) -> Compiled:
    """The engine class for every rule and question, or (given) only those that could fire
    with those facts: experta builds its network for every rule on the class, and a rule that
    cannot fire only costs building."""
    namespace: dict[str, Any] = {}
    names: set[str] = set()
    valued: set[str] = set()

    live, findable = live_rules(kb, given) if given is not None else (set(kb.rules), None)
    for ident, rule in kb.rules.items():
        if rule.status == "deprecated" or ident not in live:
            continue
        ce = _Builder(names, valued).build(rule.when)
        if rule.tier != "specific":
            ce = AND(ce, NOT(_outranking(rule.tier)))
        severity = kb.findings[rule.finding].severity if rule.finding in kb.findings else "error"
        salience = s.TIER_SALIENCE[rule.tier] - (1 if _waits_for_findings(rule.when) else 0)
        namespace[f"rule__{ident}"] = Rule(ce, salience=salience)(_conclude(rule, severity))
    for ident, question in kb.questions.items():
        if given is not None and could_hold(question.when, given, findable) is False:
            continue
        names.add(f"answer.{ident}")
        ce = AND(_Builder(names, valued).build(question.when), NOT(Obs(name=f"answer.{ident}")))
        namespace[f"ask__{ident}"] = Rule(ce)(_ask(question))
    engine_class = type("MailtriageEngine", (KnowledgeEngine,), namespace)
    return Compiled(engine_class, frozenset(names), frozenset(names - valued))


# Subset engines built per knowledge base before a run of many inferences (a batch, the
# scenario tests) is better served by one engine with every rule, built once and reset.
SUBSETS_BEFORE_FULL = 2


def compiled_for(kb: Knowledge, given: Given | None = None, subset: bool = False) -> Compiled:
    """The compiled engine for these facts: the few rules that could fire for the first
    inferences of a process (a one-off run builds little), every rule once more are asked for
    or once its engine exists.
    subset: the few rules whatever came before (the equivalence test compares the two)."""
    built: list[object] = prepared(kb, "experta-subsets", lambda kb: [])
    full: Compiled | None = existing(kb, "experta")
    # Once the engine with every rule is built (a batch builds it before its workers fork),
    # resetting it costs less than building any subset.
    ready = full is not None and full._engine is not None
    if given is None or ((ready or len(built) >= SUBSETS_BEFORE_FULL) and not subset):
        return prepared(kb, "experta", compile_knowledge)
    key = ("experta", given)
    if key not in built:
        built.append(key)
    return prepared(kb, key, lambda kb: compile_knowledge(kb, given))
