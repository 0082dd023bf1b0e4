"""The rule language's meaning in one place: how a fact test compares, and conditions as text.

The experta compiler (engine.decide.compile) uses value_test for its patterns; holds() evaluates a
condition directly over known values, for fix steps that apply only when a condition holds.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any, TypeVar

from engine.knowledge import schema as s

Values = Callable[[str], Sequence[Any]]  # every value known for a fact name, in arrival order
Reply = Mapping[str, Any]  # one SMTP reply's reply.* facts by name
T = TypeVar("T")


def _typed_equal(expected: Any) -> Callable[[Any], bool]:
    # True == 1 in Python; a rule about a port must not match a boolean, nor the reverse.
    # Numbers compare by value (30 equals 30.0), everything else only within its own type.
    if is_number(expected):
        return lambda value: is_number(value) and value == expected
    return lambda value: type(value) is type(expected) and value == expected


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def value_test(test: s.FactTest) -> Callable[[Any], bool]:
    """Whether one value of the fact passes the test (present and absent are about the name)."""
    op = test.operator
    if op == "equals":
        return _typed_equal(test.equals)
    if op == "one_of":
        options = [_typed_equal(v) for v in test.one_of or []]
        return lambda value: any(option(value) for option in options)
    if op == "matches":
        regex = re.compile(test.matches or "")
        return lambda value: isinstance(value, str) and regex.search(value) is not None
    if op in ("present", "absent"):
        return lambda value: True
    bound = getattr(test, op)
    compare = {
        "gt": lambda v: v > bound,
        "ge": lambda v: v >= bound,
        "lt": lambda v: v < bound,
        "le": lambda v: v <= bound,
    }[op]
    return lambda value: is_number(value) and compare(value)


def holds(cond: Any, values: Values, found: Collection[str] = (), replies: Sequence[Reply] = ()) -> bool:
    """A condition over known facts: a fact test holds when any value of that fact passes it;
    a reply test when one reply passes its inner condition."""
    if isinstance(cond, s.AllOf):
        return all(holds(c, values, found, replies) for c in cond.all)
    if isinstance(cond, s.AnyOf):
        return any(holds(c, values, found, replies) for c in cond.any)
    if isinstance(cond, s.NotOf):
        return not holds(cond.not_, values, found, replies)
    if isinstance(cond, s.FindingTest):
        return cond.finding in found
    if isinstance(cond, s.ReplyTest):
        return any(reply_holds(cond.reply, reply) for reply in replies)
    assert isinstance(cond, s.FactTest)
    known = values(cond.fact)
    if cond.operator == "absent":
        return not known
    test = value_test(cond)
    return any(test(v) for v in known)


def failing(cond: Any, values: Values, found: Collection[str] = (), replies: Sequence[Reply] = ()) -> list[Any]:
    """The parts of a condition that keep it from holding, for an author to read: each failing
    part of an `all`, an `any` whose alternatives all failed, a `not` whose inner part held."""
    if holds(cond, values, found, replies):
        return []
    if isinstance(cond, s.AllOf):
        return [part for c in cond.all for part in failing(c, values, found, replies)]
    return [cond]


def facts_read(cond: Any) -> set[str]:
    """The names of the facts a condition tests, at any depth (other findings are not facts)."""
    return _leaves(cond, lambda leaf: {leaf.fact} if isinstance(leaf, s.FactTest) else set())


def fact_tests(cond: Any) -> set[tuple[str, bool]]:
    """Each fact a condition tests, with whether some test reads its value (not only presence)."""

    def test(leaf: Any) -> set[tuple[str, bool]]:
        return {(leaf.fact, leaf.operator not in ("absent", "present"))} if isinstance(leaf, s.FactTest) else set()

    return _leaves(cond, test)


def findings_read(cond: Any) -> set[str]:
    """The findings a condition builds on, at any depth."""
    return _leaves(cond, lambda leaf: {leaf.finding} if isinstance(leaf, s.FindingTest) else set())


def _leaves(cond: Any, names: Callable[[Any], set[T]]) -> set[T]:
    if isinstance(cond, s.AllOf):
        return set().union(*(_leaves(c, names) for c in cond.all))
    if isinstance(cond, s.AnyOf):
        return set().union(*(_leaves(c, names) for c in cond.any))
    if isinstance(cond, s.NotOf):
        return _leaves(cond.not_, names)
    if isinstance(cond, s.ReplyTest):
        return _leaves(cond.reply, names)
    return names(cond)


def reply_holds(cond: Any, reply: Reply) -> bool:
    """The inner condition of a reply test, over one reply's facts."""
    return holds(cond, lambda name: [reply[name]] if name in reply else [])


def describe(cond: Any) -> str:
    """A condition in one line, for `knowledge explain`: queue.name = postfix and not ..."""
    if isinstance(cond, s.AllOf):
        return " and ".join(_grouped(c) for c in cond.all)
    if isinstance(cond, s.AnyOf):
        return " or ".join(_grouped(c) for c in cond.any)
    if isinstance(cond, s.NotOf):
        return f"not {_grouped(cond.not_)}"
    if isinstance(cond, s.FindingTest):
        return f"finding {cond.finding}"
    if isinstance(cond, s.ReplyTest):
        return f"a reply with {_grouped(cond.reply)}"
    assert isinstance(cond, s.FactTest)
    op = cond.operator
    if op in ("present", "absent"):
        return f"{cond.fact} is {'known' if op == 'present' else 'unknown'}"
    symbol = {"equals": "=", "one_of": "in", "matches": "~", "gt": ">", "ge": ">=", "lt": "<", "le": "<="}[op]
    return f"{cond.fact} {symbol} {getattr(cond, op)!r}"


def _grouped(cond: Any) -> str:
    text = describe(cond)
    return f"({text})" if isinstance(cond, (s.AllOf, s.AnyOf)) else text
