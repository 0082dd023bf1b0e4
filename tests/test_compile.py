"""engine.decide.compile: the experta engine class made from the knowledge rules and questions."""

from __future__ import annotations

import inspect
import types

from engine.decide.compat import Rule
from engine.decide.compile import compile_knowledge
from engine.knowledge.load import load_knowledge

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
