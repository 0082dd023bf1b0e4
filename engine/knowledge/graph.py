"""The decision tree the rules form: facts (by where they come from) -> rules -> findings ->
contacts, with the questions whose answers a rule reads or a contact is routed by.

Pure data from the knowledge base; `mailtriage knowledge graph` draws it (engine/report/graph.py)
and lint reads what it shows to be unreachable or unread.
"""

from __future__ import annotations

from dataclasses import field

from engine.knowledge import schema as s
from engine.knowledge.conditions import facts_read, findings_read
from engine.knowledge.lint import sentence_facts
from engine.knowledge.model import Knowledge
from engine.values import frozen, record

# Where a fact comes from, by the first part of its name.
SOURCES = {
    "answer": "answer",
    "session": "answer",
    "log": "text",
    "config": "settings",
    "queue": "queue",
}
SOURCE_LABELS = {
    "probe": "probes",
    "text": "pasted text and logs",
    "settings": "settings files",
    "answer": "answers",
    "queue": "queue",
}


def source_of(fact: str) -> str:
    return SOURCES.get(fact.split(".", 1)[0], "probe")


@frozen
class RuleNode:
    id: str
    finding: str
    verdict: str
    facts: frozenset[str]
    builds_on: frozenset[str]


@record
class Graph:
    facts: dict[str, str] = field(default_factory=dict)  # fact read by a rule -> its source
    rules: list[RuleNode] = field(default_factory=list)
    # finding -> (routing fact or None, answer value or "" for a fixed contact or the default, contact)
    contacts: dict[str, list[tuple[str | None, str, str]]] = field(default_factory=dict)
    questions: dict[str, str] = field(default_factory=dict)  # question id -> its text


def build(kb: Knowledge) -> Graph:
    graph = Graph()
    for rule in kb.rules.values():
        read = frozenset(facts_read(rule.when))
        graph.rules.append(RuleNode(rule.id, rule.finding, rule.verdict, read, frozenset(findings_read(rule.when))))
        for fact in read:
            graph.facts[fact] = source_of(fact)
    for ident, finding in kb.findings.items():
        graph.contacts[ident] = _contacts(finding.contact)
    routing = {by for edges in graph.contacts.values() for by, _, _ in edges if by}
    for ident, question in kb.questions.items():
        if f"answer.{ident}" in graph.facts or f"answer.{ident}" in routing:
            graph.questions[ident] = question.text
    return graph


def _contacts(contact: s.ContactRule) -> list[tuple[str | None, str, str]]:
    if isinstance(contact, str):
        return [(None, "", contact)]
    cases = [(contact.by, value, who) for value, who in contact.cases.items()]
    return [*cases, (contact.by, "", contact.otherwise)]


# --- what lint reads from the graph ---------------------------------------------------------------


def unreachable_findings(kb: Knowledge) -> list[str]:
    """Findings no rule concludes: nothing a probe, a text or an answer shows can lead to them."""
    concluded = {r.finding for r in kb.rules.values() if r.verdict == "found"}
    return [f for f in kb.findings if f not in concluded]


def unread_facts(kb: Knowledge) -> list[str]:
    """Declared facts that no rule, question, conditional step, contact routing or knowledge
    sentence reads, and that are not declared as shown in the report only."""
    read = _read_by_conditions(kb, own_answers=True)
    texts: list[str] = []
    for rule in kb.rules.values():
        texts += [rule.message or "", *(_step_text(st, read) for st in rule.fix)]
    for finding in kb.findings.values():
        texts += [finding.summary, finding.why, *(_step_text(st, read) for st in finding.fix)]
    for provider in kb.providers.values():
        for steps in provider.remediation.values():
            texts += [_step_text(st, read) for st in steps]
    for text in texts:
        read |= sentence_facts(text)
    return [name for name, spec in kb.facts.items() if name not in read and not spec.report_only]


def _read_by_conditions(kb: Knowledge, own_answers: bool) -> set[str]:
    """Facts the rules' and questions' conditions test, and the facts contacts are routed by;
    own_answers False leaves out a question's test of its own answer (which only stops a repeat)."""
    read: set[str] = set()
    for rule in kb.rules.values():
        read |= facts_read(rule.when)
    for ident, question in kb.questions.items():
        read |= {f for f in facts_read(question.when) if own_answers or f != f"answer.{ident}"}
    for finding in kb.findings.values():
        if not isinstance(finding.contact, str):
            read.add(finding.contact.by)
    return read


def _step_text(step: s.FixStep, read: set[str]) -> str:
    if isinstance(step, s.ConditionalStep):
        read |= facts_read(step.when)
        return step.text
    return step


def idle_questions(kb: Knowledge) -> list[str]:
    """Questions whose answer nothing reads: no rule, no contact routing, no other question's
    condition; unless the answer is mined as text or the session itself takes it as input."""
    read = _read_by_conditions(kb, own_answers=False)
    return [
        ident
        for ident, question in kb.questions.items()
        if f"answer.{ident}" not in read and not question.mine and not question.session_input
    ]
