"""engine.decide.compile: the experta engine class made from the knowledge rules and questions."""

from __future__ import annotations

import inspect
import types

from engine.decide.compat import Rule
from engine.decide.compile import Given, compile_knowledge, live_rules
from engine.knowledge import schema
from engine.knowledge.load import load_knowledge
from engine.knowledge.model import Knowledge

KB = load_knowledge()


def test_each_action_carries_the_signature_its_definition_has():
    # The signature is given beforehand so that experta need not work it out; it must still be
    # what the function takes, or experta would pass the action other arguments.
    engine_class = compile_knowledge(KB).engine_class
    actions = [rule._wrapped for rule in vars(engine_class).values() if isinstance(rule, Rule)]
    assert len(actions) == len(KB.rules) + len(KB.questions) - sum(r.status == "deprecated" for r in KB.rules.values())
    for action in actions:
        bare = types.FunctionType(action.__code__, action.__globals__, closure=action.__closure__)
        assert inspect.signature(action) == inspect.signature(bare), action.__name__


def rule(ident: str, finding: str, when: object, verdict: str = "found") -> schema.RuleSpec:
    return schema.RuleSpec(id=ident, description=ident, finding=finding, verdict=verdict, when=when)  # type: ignore[arg-type]


def fact(name: str, value: object) -> schema.FactTest:
    return schema.FactTest(fact=name, equals=value)  # type: ignore[arg-type]


def found(finding: str) -> schema.FindingTest:
    return schema.FindingTest(finding=finding)


def test_live_rules_follow_findings_from_rules_that_can_fire_to_those_that_build_on_them():
    kb = Knowledge(
        rules={
            "refused": rule("refused", "tcp.refused", fact("tcp.connect", "refused")),
            "firewall": rule("firewall", "tcp.firewall", schema.AllOf(all=[found("tcp.refused"), fact("x.y", 1)])),
            "blocked": rule("blocked", "tcp.blocked", fact("tcp.connect", "timeout")),
            "after-blocked": rule("after-blocked", "tcp.slow", found("tcp.blocked")),
            "not-blocked": rule("not-blocked", "tcp.fine", schema.NotOf(not_=found("tcp.blocked"))),
            "ruled-out": rule("ruled-out", "tcp.refused", fact("tcp.connect", "refused"), verdict="ruled_out"),
            "needs-ruled-out": rule("needs-ruled-out", "z.z", found("tcp.refused")),
        }
    )
    given = Given.of([("tcp.connect", "refused"), ("x.y", 1)], [])
    live, findable = live_rules(kb, given)
    # "blocked" cannot fire, so nothing concludes tcp.blocked: what needs it is out, and what
    # needs it absent is in; "firewall" needs a finding a live rule concludes.
    assert live == {"refused", "firewall", "not-blocked", "ruled-out", "needs-ruled-out"}
    assert findable == {"tcp.refused", "tcp.firewall", "tcp.fine", "z.z"}


def test_a_rule_left_out_is_taken_in_once_a_rule_that_concludes_its_finding_turns_live():
    # Found in either order: the rule that needs the finding may be looked at first.
    rules = [
        rule("second", "b", found("a")),
        rule("first", "a", fact("tcp.connect", "refused")),
        rule("third", "c", schema.AllOf(all=[found("b"), found("a")])),
    ]
    for ordered in (rules, rules[::-1]):
        kb = Knowledge(rules={r.id: r for r in ordered})
        live, _ = live_rules(kb, Given.of([("tcp.connect", "refused")], []))
        assert live == {"first", "second", "third"}
