"""Knowledge sentences with the facts in play filled in: fix steps, evidence lines, explanations."""

from __future__ import annotations

import functools
from collections.abc import Collection
from typing import TYPE_CHECKING

from engine.decide.inference import Conclusion
from engine.facts import FactSet, FactValue, Observation
from engine.knowledge import schema as s
from engine.knowledge.conditions import holds
from engine.knowledge.model import Knowledge
from engine.report.sentences import FILTERS, SENTENCES, Plan, fill
from engine.text.providers import steps_for

if TYPE_CHECKING:
    from jinja2.sandbox import SandboxedEnvironment


@functools.cache
def _steps_env() -> SandboxedEnvironment:
    # Only for a sentence without a plan (engine.report.sentences): most runs never load Jinja.
    import jinja2
    from jinja2.sandbox import SandboxedEnvironment

    env = SandboxedEnvironment(undefined=jinja2.ChainableUndefined)
    env.filters.update(FILTERS)
    return env


def render_with_jinja(template: str, values: dict[str, FactValue]) -> str:
    def fact(name: str, default: object = "") -> object:
        return values.get(name, default)

    return _steps_env().from_string(template).render(fact=fact)


def render_step(kb: Knowledge, template: str, facts: FactSet) -> str:
    """A knowledge sentence with the facts in play filled in (fact(name, default))."""
    if "{" not in template:
        return " ".join(template.split())
    plans: dict[str, Plan | None] = kb.derived.get(SENTENCES, {})
    plan = plans.get(template)
    values = facts.as_dict()
    text = fill(plan, values) if plan is not None else render_with_jinja(template, values)
    return " ".join(text.split())


def fix_step(kb: Knowledge, step: s.FixStep, facts: FactSet, found: Collection[str]) -> str:
    """A fix step's sentence, or "" when its condition does not hold for this run."""
    if isinstance(step, str):
        return render_step(kb, step, facts)
    return render_step(kb, step.text, facts) if holds(step.when, facts.values, found, facts.replies()) else ""


def evidence_line(obs: Observation) -> str:
    text = obs.evidence if obs.evidence is not None else f"{obs.name} = {obs.value}"
    return f"{obs.origin}: {text}" if obs.origin and obs.source == "log" else text


def explain(c: Conclusion, kb: Knowledge) -> list[str]:
    lines = []
    for step in c.steps:
        matched = ", ".join(f"{o.name} = {o.value} ({o.source})" for o in unique_facts(step.observations))
        built_on = "; built on " + ", ".join(f"rule {r}" for r in step.used) if step.used else ""
        lines.append(
            f"rule {step.rule}: {kb.rules[step.rule].description.strip()} Matched: "
            f"{matched or 'absence of facts'}{built_on}"
        )
    return lines


def unique_facts(observations: list[Observation]) -> list[Observation]:
    seen: dict[tuple[str, FactValue, str], Observation] = {}
    for o in observations:
        seen.setdefault((o.name, o.value, o.source), o)
    return list(seen.values())


def recognised_providers(facts: FactSet) -> list[str]:
    """Provider ids in play: the mail service first, then the server software."""
    found = (facts.first("provider.service"), facts.first("provider.software"))
    return [v for v in found if isinstance(v, str)]


def provider_steps(kb: Knowledge, finding: str, facts: FactSet, found: Collection[str]) -> list[str]:
    """The recognised provider's own fix steps, labelled with its name, to go before the generic ones."""
    own = steps_for(kb, finding, recognised_providers(facts))
    steps = ((p.name, fix_step(kb, t, facts, found)) for p, t in own)
    return [f"{name}: {text}" for name, text in steps if text]


def remediation(kb: Knowledge, c: Conclusion, facts: FactSet, found: Collection[str]) -> list[str]:
    """The fix steps of each rule that concluded the finding, then the finding's own, each once."""
    templates = [t for step in c.steps for t in kb.rules[step.rule].fix] + kb.findings[c.finding].fix
    steps = (fix_step(kb, t, facts, found) for t in templates)
    return list(dict.fromkeys(r for r in steps if r))
