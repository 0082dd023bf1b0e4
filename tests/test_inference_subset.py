"""infer() builds only the rules that could fire with the run's facts; it must conclude
exactly what the engine with every rule concludes: findings, their steps, ruled-out findings,
questions worth asking and the rules that fired, for every scenario, corpus text and rule case."""

from __future__ import annotations

import pytest

from engine.decide.inference import Inference, infer
from engine.decide.session import NoAsker, check_answers
from engine.facts import FactSet
from engine.inputs.textinput import Block
from engine.knowledge.load import load_knowledge
from engine.run.pipeline import diagnose_text, given_facts

KB = load_knowledge()


def summary(result: Inference) -> tuple[object, ...]:
    def conclusions(items: list) -> list[tuple[object, ...]]:
        return [
            (c.finding, c.verdict, c.rule, c.confidence, c.contact, [(st.rule, st.used) for st in c.steps])
            for c in items
        ]

    return (conclusions(result.findings), conclusions(result.ruled_out), [q.id for q in result.pending], result.fired)


def scenario_facts(ident: str) -> FactSet:
    sc = KB.scenarios[ident]
    blocks = [Block.of_text(sc.text, ident)] if sc.text else []
    outcome = diagnose_text(KB, blocks, NoAsker(), check_answers(KB, dict(sc.answers)), given_facts(sc.facts))
    return outcome.session.facts


@pytest.mark.parametrize("ident", sorted(KB.scenarios))
def test_the_rules_that_could_fire_conclude_what_every_rule_concludes_for_each_scenario(ident):
    facts = scenario_facts(ident)
    assert summary(infer(KB, facts, "subset")) == summary(infer(KB, facts, "every"))


def test_the_rules_that_could_fire_conclude_what_every_rule_concludes_for_each_rule_case():
    for rule_id, tests in KB.rule_tests.items():
        for case in tests.cases:
            facts = FactSet()
            facts.extend(given_facts(case.facts))
            assert summary(infer(KB, facts, "subset")) == summary(infer(KB, facts, "every")), (rule_id, case.name)


def test_a_text_with_few_facts_builds_far_fewer_rules_than_the_knowledge_holds():
    from engine.decide.compat import Rule
    from engine.decide.compile import Given, compiled_for

    def rules(compiled) -> int:
        return sum(isinstance(v, Rule) for v in vars(compiled.engine_class).values())

    facts = scenario_facts("wire-greeting-421")
    replies: list[dict[str, object]] = []
    for group in facts.reply_groups():
        replies.append({})
        for o in group:
            replies[-1].setdefault(o.name, o.value)
    subset = compiled_for(KB, Given.of(facts.distinct(), replies), subset=True)
    assert rules(subset) < rules(compiled_for(KB)) * 2 / 3
