"""engine.values: value classes that behave as dataclasses do, without writing code per class."""

from __future__ import annotations

import copy
import dataclasses
import math
import pickle
from dataclasses import FrozenInstanceError, dataclass, field
from typing import Any

import pytest
from pydantic import TypeAdapter

from engine.facts import Observation
from engine.knowledge import schema
from engine.values import frozen, record


@frozen
class Point:
    x: float
    y: float = 0.0
    label: str = field(default="", compare=False)
    tags: tuple[str, ...] = field(default=(), hash=False)
    secret: str = field(default="", repr=False)


# The same shape made by dataclasses, to hold frozen to what dataclasses do.
@dataclass(frozen=True)
class Twin:
    x: float
    y: float = 0.0
    label: str = field(default="", compare=False)
    tags: tuple[str, ...] = field(default=(), hash=False)
    secret: str = field(default="", repr=False)


@frozen(kw_only=True)
class Named:
    name: str
    size: int = 1


@frozen
class Node:
    children: list[Node] = field(default_factory=list)


def test_instances_with_equal_fields_are_equal_and_hash_alike():
    assert Point(1, 2) == Point(1, 2)
    assert hash(Point(1, 2)) == hash(Point(1, 2))
    assert {Point(1, 2), Point(1, 2)} == {Point(1, 2)}


def test_a_field_that_differs_makes_them_unequal():
    assert Point(1, 2) != Point(1, 3)


def test_fields_that_do_not_compare_are_left_out_of_equality_and_hash():
    assert Point(1, label="a") == Point(1, label="b")
    assert hash(Point(1, label="a")) == hash(Point(1, label="b"))


def test_a_field_that_does_not_hash_still_compares():
    assert Point(1, tags=("a",)) != Point(1, tags=("b",))
    assert hash(Point(1, tags=("a",))) == hash(Point(1, tags=("b",)))


def test_equality_and_hash_agree_with_a_frozen_dataclass():
    for args in [(1, 2), (1.5, -2.0, "l", ("t",), "s")]:
        assert hash(Point(*args)) == hash(Twin(*args))


def test_instances_of_different_classes_are_never_equal():
    assert Point(1, 2) != Twin(1, 2)
    assert Point(1, 2).__eq__(Twin(1, 2)) is NotImplemented


def test_a_nan_field_is_equal_to_itself_as_in_a_dataclass():
    nan = math.nan
    assert Point(nan) == Point(nan)
    assert (Point(nan) == Point(float("nan"))) == (Twin(nan) == Twin(float("nan")))


def test_repr_reads_as_a_dataclass_repr_without_hidden_fields():
    point, twin = Point(1, 2, "l", ("t",), "hidden"), Twin(1, 2, "l", ("t",), "hidden")
    assert repr(point) == repr(twin).replace("Twin(", "Point(", 1)
    assert "hidden" not in repr(point)


def test_repr_of_a_value_that_contains_itself_stops():
    node = Node()
    node.children.append(node)
    assert repr(node) == "Node(children=[...])"


def test_assigning_a_field_after_init_raises():
    point = Point(1, 2)
    with pytest.raises(FrozenInstanceError, match="cannot assign to field 'x'"):
        point.x = 5  # type: ignore[misc]
    assert point.x == 1


def test_init_sets_a_frozen_value_s_fields_without_calling_its_refusing_setattr():
    @frozen
    class Pair:
        left: int
        right: list[int] = field(default_factory=list)

    Pair(0)  # writes __init__
    calls: list[str] = []
    refusing = Pair.__setattr__

    def counted(self: Any, name: str, value: object) -> None:
        calls.append(name)
        refusing(self, name, value)

    Pair.__setattr__ = counted  # type: ignore[assignment,method-assign]
    pair = Pair(1)
    assert calls == [] and (pair.left, pair.right) == (1, [])
    with pytest.raises(FrozenInstanceError):
        pair.left = 2  # type: ignore[misc]
    assert calls == ["left"]


def test_adding_an_attribute_raises():
    with pytest.raises(FrozenInstanceError):
        Point(1).extra = 5  # type: ignore[attr-defined]


def test_deleting_a_field_raises():
    with pytest.raises(FrozenInstanceError, match="cannot delete field 'x'"):
        del Point(1).x  # type: ignore[misc]


def test_replace_makes_a_changed_copy_and_leaves_the_original():
    point = Point(1, 2)
    moved = dataclasses.replace(point, y=3)
    assert (point.y, moved.y) == (2, 3)


def test_pickle_and_deepcopy_give_an_equal_instance_that_is_still_frozen():
    for copied in (pickle.loads(pickle.dumps(Point(1, 2, "l"))), copy.deepcopy(Point(1, 2, "l"))):
        assert copied == Point(1, 2) and copied.label == "l"
        with pytest.raises(FrozenInstanceError):
            copied.x = 2  # type: ignore[misc]


def test_keyword_only_classes_refuse_positional_fields():
    assert Named(name="a").size == 1
    with pytest.raises(TypeError):
        Named("a")  # type: ignore[misc]


def test_pydantic_validates_into_an_equal_frozen_instance():
    spec = TypeAdapter(schema.FactSpec).validate_python({"type": "str", "description": "d"})
    assert spec == schema.FactSpec(type="str", description="d")
    with pytest.raises(FrozenInstanceError):
        spec.description = "changed"  # type: ignore[misc]


def test_a_class_that_defines_setattr_is_refused():
    with pytest.raises(TypeError, match="__setattr__"):

        @frozen
        class Mutable:
            x: int

            def __setattr__(self, name: str, value: object) -> None: ...


def test_a_class_keeps_its_own_repr():
    @frozen
    class Shown:
        x: int

        def __repr__(self) -> str:
            return "mine"

    assert repr(Shown(1)) == "mine"


def test_every_class_shares_the_same_methods_rather_than_generated_ones():
    # The point of the module: no code written and compiled per class.
    assert schema.FactSpec.__eq__ is schema.RuleSpec.__eq__ is Observation.__eq__
    assert schema.FactSpec.__setattr__ is Observation.__setattr__


@record
class Tally:
    name: str
    count: int = 0
    seen: list[str] = field(default_factory=list, compare=False)


@dataclass
class TallyTwin:
    name: str
    count: int = 0
    seen: list[str] = field(default_factory=list, compare=False)


@record(eq=False)
class Handle:
    name: str


def test_a_record_compares_by_value_and_its_fields_change():
    tally = Tally("a")
    tally.count += 1
    assert tally == Tally("a", 1, ["ignored"])
    assert tally != Tally("a", 2)


def test_a_record_is_not_hashable_as_a_dataclass_that_compares_by_value():
    with pytest.raises(TypeError):
        hash(Tally("a"))
    assert Tally.__hash__ is TallyTwin.__hash__ is None


def test_a_record_prints_as_a_dataclass():
    assert repr(Tally("a", 2, ["x"])) == repr(TallyTwin("a", 2, ["x"])).replace("TallyTwin(", "Tally(", 1)


def test_a_record_without_eq_keeps_identity_for_equality_and_hash():
    one, other = Handle("a"), Handle("a")
    assert one != other and one == one
    assert len({one, other}) == 2


def test_keyword_only_records_refuse_positional_fields():
    @record(kw_only=True)
    class Options:
        verbose: bool = False

    with pytest.raises(TypeError):
        Options(True)  # type: ignore[misc]


def shaped(decorate: Any) -> Any:
    """One class body, made by the decorator under test or by dataclasses."""

    class Shaped:
        name: str
        size: int = 1
        seen: list[str] = field(default_factory=list)
        made: list[str] = field(default_factory=lambda: ["made"], init=False)
        kind: str = field(default="plain", init=False)
        unset: str = field(init=False)
        flag: bool = field(default=False, kw_only=True)
        note: str = field(kw_only=True, default="")

        def __post_init__(self) -> None:
            self.made.append(self.name)

    return decorate(Shaped)


Shaped = shaped(frozen)
ShapedTwin = shaped(dataclass(frozen=True))


def fields_of(instance: object) -> dict[str, object]:
    return {f.name: getattr(instance, f.name, "<unset>") for f in dataclasses.fields(instance)}  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [(("a",), {}), (("a", 2, ["x"]), {}), ((), {"name": "a", "flag": True, "note": "n", "seen": []})],
)
def test_init_takes_the_fields_as_a_dataclass_init_does(args, kwargs):
    assert fields_of(Shaped(*args, **kwargs)) == fields_of(ShapedTwin(*args, **kwargs))


def test_each_instance_gets_its_own_default_from_a_factory():
    one, two = Shaped("a"), Shaped("b")
    assert one.seen is not two.seen and one.made == ["made", "a"] and two.made == ["made", "b"]


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        ((), {}),
        (("a", 2, [], "extra"), {}),
        (("a",), {"unknown": 1}),
        (("a",), {"kind": "set"}),
        (("a",), {"name": "b"}),
    ],
)
def test_init_refuses_the_calls_a_dataclass_init_refuses(args, kwargs):
    with pytest.raises(TypeError) as ours:
        Shaped(*args, **kwargs)
    with pytest.raises(TypeError):
        ShapedTwin(*args, **kwargs)
    assert "Shaped.__init__()" in str(ours.value)


def test_keyword_only_fields_are_not_taken_by_position_and_match_args_agree():
    with pytest.raises(TypeError):
        Shaped("a", 1, [], True)  # type: ignore[misc]
    assert Shaped.__match_args__ == ShapedTwin.__match_args__


def test_init_is_written_when_the_first_instance_is_made_and_then_kept():
    @frozen
    class Late:
        value: int = 0

    waiting = Late.__dict__["__init__"]
    Late(1)
    written = Late.__dict__["__init__"]
    assert written is not waiting and written.__qualname__.endswith("Late.__init__")
    Late(2)
    assert Late.__dict__["__init__"] is written


def test_a_plain_subclass_made_first_gets_its_parents_init():
    @record
    class Parent:
        name: str
        count: int = 0

    class Child(Parent):
        pass

    child = Child("c", 3)
    assert (child.name, child.count) == ("c", 3) and Parent("p").count == 0


def test_a_class_with_its_own_init_keeps_it():
    @frozen
    class Own:
        value: int

        def __init__(self, text: str) -> None:
            object.__setattr__(self, "value", int(text))

    assert Own("7").value == 7


def test_a_field_without_default_after_one_with_a_default_is_refused_when_the_class_is_made():
    with pytest.raises(TypeError, match="non-default argument 'late' follows default argument"):

        @frozen
        class Wrong:
            early: int = 0
            late: int  # type: ignore[misc]


def test_an_argument_for_an_initvar_is_refused_rather_than_dropped():
    @record
    class WithInitVar:
        seed: dataclasses.InitVar[int]

    with pytest.raises(TypeError, match="unexpected keyword argument 'seed'"):
        WithInitVar(seed=1)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="positional argument"):
        WithInitVar(1)  # type: ignore[call-arg]


def test_a_class_without_a_docstring_keeps_none_and_one_with_a_docstring_keeps_it():
    @frozen
    class Bare:
        value: int = 0

    @record
    class Told:
        """Told apart by its docstring."""

        value: int = 0

    assert Bare.__doc__ is None and Told.__doc__ == "Told apart by its docstring."
