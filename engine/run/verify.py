"""Run each rule's test cases and every scenario through the real engine: `knowledge test`."""

from __future__ import annotations

from dataclasses import field

from engine.decide.inference import infer
from engine.decide.session import NoAsker, check_answers
from engine.facts import FactSet
from engine.inputs.textinput import Block
from engine.knowledge import files
from engine.knowledge.conditions import describe, failing
from engine.knowledge.model import Knowledge
from engine.run.pipeline import diagnose_text, given_facts
from engine.text.signatures import COUNTS
from engine.values import record


@record
class CaseResult:
    kind: str  # "rule" or "scenario"
    name: str
    where: str
    passed: bool
    todo: str | None
    detail: str  # what went wrong, one line per point; the first says what, the rest why

    @property
    def status(self) -> str:
        if self.todo is not None:
            return "todo-passes" if self.passed else "todo"
        return "pass" if self.passed else "FAIL"

    @property
    def failed(self) -> bool:
        return not self.passed and self.todo is None


def check_rule_cases(kb: Knowledge) -> list[CaseResult]:
    return [
        check_rule_case(kb, rule_id, i)
        for rule_id, tests in sorted(kb.rule_tests.items())
        for i in range(len(tests.cases))
    ]


def check_rule_case(kb: Knowledge, rule_id: str, index: int) -> CaseResult:
    """One case of a rule's test file, run through the real engine; `where` is the case's own line."""
    case = kb.rule_tests[rule_id].cases[index]
    where = str(kb.where[("rule test", rule_id)].sub("cases", index))
    facts = FactSet()
    facts.extend(given_facts(case.facts))
    inference = infer(kb, facts)
    fired = rule_id in inference.fired
    passed = fired == (case.expect == "fire")
    detail = ""
    if not passed:
        given = ", ".join(f"{name} = {value!r}" for name, value in case.facts.items()) or "none"
        what = "did not fire" if case.expect == "fire" else "fired, but must not"
        detail = f"{what}\nfacts given: {given}\nrules fired: {', '.join(inference.fired) or 'none'}"
        if case.expect == "fire":
            found = {c.finding for c in inference.findings}
            missed = failing(kb.rules[rule_id].when, facts.values, found, facts.replies())
            detail += f"\nnot true: {_described(missed)}"
    return CaseResult("rule", f"{rule_id}: {case.name}", where, passed, case.todo, detail)


def nearest_miss(kb: Knowledge, finding: str, facts: FactSet, found: set[str]) -> str:
    """The rule for a finding that came closest to firing, and what in its condition was not true."""
    candidates = []
    for rule in kb.rules.values():
        if rule.finding == finding and rule.verdict == "found":
            missed = failing(rule.when, facts.values, found, facts.replies())
            candidates.append((len(missed), rule.id, missed))
    if not candidates:
        return f"no rule concludes {finding}"
    _, ident, missed = min(candidates)
    return f"nearest rule for {finding}: {ident}, where not true: {_described(missed)}"


def _described(conditions: list[object]) -> str:
    return "; ".join(describe(c) for c in conditions)


def run_scenario(kb: Knowledge, sc: files.Scenario) -> list[str]:
    """What the scenario got wrong; empty when it behaves as expected."""
    blocks = [Block.of_text(sc.text or "", sc.id)]
    outcome = diagnose_text(kb, blocks, NoAsker(), check_answers(kb, dict(sc.answers)), given_facts(sc.facts))
    found = outcome.session.inference.findings
    ids = [c.finding for c in found]
    problems = []
    exp = sc.expect
    missing = [fid for fid in exp.findings if fid not in ids]
    if exp.first is not None and exp.first not in ids:
        missing.insert(0, exp.first)
    if exp.first is not None and (not ids or ids[0] != exp.first):
        problems.append(f"expected first finding {exp.first}, got {ids[0] if ids else 'none'}")
    for fid in exp.findings:
        if fid not in ids:
            problems.append(f"expected finding {fid} (got {', '.join(ids) or 'none'})")
    if missing:
        # For an author: what the engine had to go on, and how near the rule they meant came.
        facts = outcome.session.facts
        shown = sorted({f"{o.name} = {o.value!r}" for o in facts.items if o.name not in COUNTS})
        problems.append(f"facts: {', '.join(shown) or 'none'}")
        problems.append(f"rules fired: {', '.join(outcome.session.inference.fired) or 'none'}")
        problems += [nearest_miss(kb, fid, facts, set(ids)) for fid in dict.fromkeys(missing)]
    for fid in exp.absent:
        if fid in ids:
            problems.append(f"finding {fid} must not appear")
    contacts = {c.finding: c.contact for c in found}
    for fid, contact in exp.contacts.items():
        if contacts.get(fid) != contact:
            problems.append(f"expected {fid} routed to {contact}, got {contacts.get(fid, 'no such finding')}")
    asked = {q.question.id for q in outcome.session.questions}
    for qid in exp.asks:
        if qid not in asked:
            problems.append(f"expected question {qid} to be asked")
    return problems


def check_scenarios(kb: Knowledge) -> list[CaseResult]:
    return [check_scenario(kb, ident) for ident in sorted(kb.scenarios)]


def check_scenario(kb: Knowledge, ident: str) -> CaseResult:
    sc = kb.scenarios[ident]
    problems = run_scenario(kb, sc)
    where = str(kb.where[("scenario", ident)])
    return CaseResult("scenario", ident, where, not problems, sc.todo, "\n".join(problems))


def check_all(kb: Knowledge) -> list[CaseResult]:
    return check_rule_cases(kb) + check_scenarios(kb)


CORPUS_PREFIX = "corpus-"


@record
class CorpusScore:
    """How the labelled corpus of real error texts fares now, and how its texts fared when first seen."""

    total: int
    passed: int
    first_seen_total: int  # texts whose first-seen result was recorded before any knowledge change
    first_seen_passed: int
    relabelled: int
    # Per batch, in the order batches were added: (knowledge commit measured, texts, right first).
    batches: list[tuple[str, int, int]] = field(default_factory=list)

    @staticmethod
    def percent(part: int, whole: int) -> str:
        return f"{100 * part / whole:.1f}%" if whole else "n/a"

    def line(self) -> str:
        per_batch = "".join(
            f"{'; ' if i else ' ('}{right} of {texts} with the knowledge of {commit}"
            for i, (commit, texts, right) in enumerate(self.batches)
        ) + (")" if self.batches else "")
        return (
            f"corpus: {self.passed} of {self.total} real texts conclude their label first "
            f"({self.percent(self.passed, self.total)}); first seen: {self.first_seen_passed} of "
            f"{self.first_seen_total} ({self.percent(self.first_seen_passed, self.first_seen_total)}){per_batch}, "
            f"measured before any knowledge changed for them; {self.relabelled} relabelled by a contract change"
        )


def corpus_score(kb: Knowledge, results: list[CaseResult]) -> CorpusScore:
    entries = {ident: sc for ident, sc in kb.scenarios.items() if ident.startswith(CORPUS_PREFIX)}
    passed = {r.name for r in results if r.kind == "scenario" and r.passed and r.name in entries}
    seen = [sc for sc in entries.values() if sc.first_seen is not None]
    return CorpusScore(
        total=len(entries),
        passed=len(passed),
        first_seen_total=len(seen),
        first_seen_passed=sum(sc.first_seen is not None and sc.first_seen.finding == sc.expect.first for sc in seen),
        relabelled=sum(sc.relabelled is not None for sc in entries.values()),
        batches=_batches(seen),
    )


def _batches(seen: list[files.Scenario]) -> list[tuple[str, int, int]]:
    """First-seen results per knowledge commit: each batch says how the knowledge of its day generalised."""
    order: dict[str, list[int]] = {}
    for sc in seen:
        assert sc.first_seen is not None
        tally = order.setdefault(sc.first_seen.knowledge, [0, 0])
        tally[0] += 1
        tally[1] += sc.first_seen.finding == sc.expect.first
    return [(commit, texts, right) for commit, (texts, right) in order.items()]
