"""Knowledge sentences compiled once, so filling in a fact needs no template engine at run time.

Wording in knowledge is Jinja that only fills in values (lint enforces it): literal text,
`{{ fact('name', default) }}`, and a filter such as `| aside`. When the knowledge cache is
built, Jinja's own parser reads each sentence; one made only of those parts becomes a plan, a
tuple of literal strings and fact references, and a run fills it in with plain string work.
Anything else (a sentence some author wrote with more of Jinja) has no plan and is rendered by
Jinja, the same as before: plans only save time, they never change a sentence.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from engine.knowledge import schema as s
from engine.knowledge.model import Knowledge
from engine.values import frozen

SENTENCES = "sentences"  # Knowledge.derived key: sentence text -> Plan, or None to render with Jinja


def aside(value: object) -> str:
    """' (value)' when the value is known, nothing otherwise: "port 465{{ fact('x') | aside }}"."""
    return f" ({value})" if value not in (None, "") else ""


# The filters wording may use, for Jinja and for plans alike.
FILTERS: dict[str, Callable[[Any], str]] = {"aside": aside}


@frozen
class FactRef:
    """fact(name, default), optionally through one filter."""

    name: str
    default: Any = ""  # a constant, or another FactRef: fact('a', fact('b', 'x'))
    filter: str | None = None


Plan = tuple[str | FactRef, ...]


def fill(plan: Plan, values: Mapping[str, object]) -> str:
    """The sentence with the facts in play, as Jinja would write it (str() of each value)."""
    return "".join(part if isinstance(part, str) else _value(part, values) for part in plan)


def _value(ref: FactRef, values: Mapping[str, object]) -> str:
    value = _lookup(ref, values)
    return FILTERS[ref.filter](value) if ref.filter else str(value)


def _lookup(ref: FactRef, values: Mapping[str, object]) -> object:
    default = _lookup(ref.default, values) if isinstance(ref.default, FactRef) else ref.default
    return values.get(ref.name, default)


def plan_of(text: str) -> Plan | None:
    """The plan of one sentence, or None when it uses more of Jinja than a plan holds."""
    import jinja2
    from jinja2 import nodes

    try:
        tree = jinja2.Environment().parse(text)
    except jinja2.TemplateSyntaxError:
        return None
    parts: list[str | FactRef] = []
    for node in tree.body:
        if not isinstance(node, nodes.Output):
            return None
        for child in node.nodes:
            if isinstance(child, nodes.TemplateData):
                parts.append(child.data)
                continue
            ref = _ref(child, nodes)
            if ref is None:
                return None
            parts.append(ref)
    return tuple(parts)


def _ref(node: Any, nodes: Any, allow_filter: bool = True) -> FactRef | None:
    if allow_filter and isinstance(node, nodes.Filter):
        if node.name not in FILTERS or node.args or node.kwargs or node.dyn_args or node.dyn_kwargs:
            return None
        inner = _ref(node.node, nodes, allow_filter=False)
        return None if inner is None else FactRef(inner.name, inner.default, node.name)
    if not (isinstance(node, nodes.Call) and isinstance(node.node, nodes.Name) and node.node.name == "fact"):
        return None
    if node.kwargs or node.dyn_args or node.dyn_kwargs or not 1 <= len(node.args) <= 2:
        return None
    name = node.args[0]
    if not (isinstance(name, nodes.Const) and isinstance(name.value, str)):
        return None
    if len(node.args) == 1:
        return FactRef(name.value)
    default = node.args[1]
    if isinstance(default, nodes.Const):
        return FactRef(name.value, default.value)
    nested = _ref(default, nodes, allow_filter=False)
    return None if nested is None else FactRef(name.value, nested)


def knowledge_sentences(kb: Knowledge) -> Iterator[str]:
    """Every sentence a report fills in with facts: summaries, messages and fix steps."""

    def steps(items: list[s.FixStep]) -> Iterator[str]:
        for step in items:
            yield step if isinstance(step, str) else step.text

    for finding in kb.findings.values():
        yield finding.summary
        yield from steps(finding.fix)
    for rule in kb.rules.values():
        yield rule.description
        if rule.message:
            yield rule.message
        yield from steps(rule.fix)
    for provider in kb.providers.values():
        for fix in provider.remediation.values():
            yield from steps(fix)


def derive_sentence_plans(kb: Knowledge) -> None:
    """Fill kb.derived with the plan of every sentence that holds an expression."""
    kb.derived[SENTENCES] = {text: plan_of(text) for text in set(knowledge_sentences(kb)) if "{" in text}
