"""Value classes: dataclasses that compare and print by value, without code written per class.

`dataclass` writes `__init__`, `__repr__` and `__eq__` for every class, and a frozen one also
`__hash__`, `__setattr__` and `__delattr__`, compiling each with exec(). On Python 3.11 that is
about 0.7 ms a frozen class, and a diagnosis defines some hundred classes before it does
anything. `frozen` and `record` ask dataclasses for `__init__` alone and give every class the
same shared methods, which read what to compare, hash and print from the class's fields. They
mean what the generated ones mean:

- equal when of the same class and equal in every field that compares;
- printed as dataclasses print them;
- `frozen`: hashed by the fields that hash (those that compare, unless a field says otherwise),
  and every field written once, by `__init__`; assigning or deleting later raises
  FrozenInstanceError. Pickle and pydantic set an instance's `__dict__` directly, as they do
  for frozen dataclasses;
- `record`: fields change freely, and an instance is not hashable (unless eq=False, which
  keeps identity for both).
"""

from __future__ import annotations

import dataclasses
import reprlib
from collections.abc import Callable
from dataclasses import FrozenInstanceError
from typing import Any, TypeVar, dataclass_transform, overload

T = TypeVar("T")


def _eq(self: Any, other: Any) -> bool:
    if other.__class__ is not self.__class__:
        return NotImplemented
    names = self._value_compare
    # Tuples, as dataclasses compare: an element is equal to itself even when == says not (NaN).
    return tuple(getattr(self, n) for n in names) == tuple(getattr(other, n) for n in names)


def _hash(self: Any) -> int:
    return hash(tuple(getattr(self, n) for n in self._value_hash))


@reprlib.recursive_repr()
def _repr(self: Any) -> str:
    shown = ", ".join(f"{n}={getattr(self, n)!r}" for n in self._value_repr)
    return f"{self.__class__.__qualname__}({shown})"


def _setattr(self: Any, name: str, value: object) -> None:
    # __init__ writes each field once; anything after that is a change.
    if name in self.__dict__ or name not in self.__dataclass_fields__:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")
    object.__setattr__(self, name, value)


def _delattr(self: Any, name: str) -> None:
    raise FrozenInstanceError(f"cannot delete field {name!r}")


def _make(cls: type[T], *, kw_only: bool, frozen: bool, eq: bool) -> type[T]:
    if frozen:
        for name in ("__setattr__", "__delattr__"):
            if name in cls.__dict__:
                raise TypeError(f"cannot overwrite attribute {name} in class {cls.__qualname__}")
    made: Any = dataclasses.dataclass(cls, eq=False, repr=False, kw_only=kw_only)
    fields = dataclasses.fields(made)
    made._value_compare = tuple(f.name for f in fields if f.compare)
    made._value_hash = tuple(f.name for f in fields if (f.compare if f.hash is None else f.hash))
    made._value_repr = tuple(f.name for f in fields if f.repr)
    shared: dict[str, Any] = {"__repr__": _repr}
    if eq:
        # A class that compares by value and can change has no hash, as with dataclasses.
        shared |= {"__eq__": _eq, "__hash__": _hash if frozen else None}
    if frozen:
        shared |= {"__setattr__": _setattr, "__delattr__": _delattr}
    for name, method in shared.items():
        if name not in made.__dict__:  # as dataclasses do, a class's own __eq__, __hash__, __repr__ stay
            setattr(made, name, method)
    return made


@overload
def frozen(cls: type[T], /) -> type[T]: ...
@overload
def frozen(*, kw_only: bool = False) -> Callable[[type[T]], type[T]]: ...


@dataclass_transform(frozen_default=True, field_specifiers=(dataclasses.field,))
def frozen(cls: type[T] | None = None, /, *, kw_only: bool = False) -> Any:
    """A frozen dataclass: `@frozen` or `@frozen(kw_only=True)`, as `@dataclass(frozen=True, ...)`."""
    if cls is None:
        return lambda c: _make(c, kw_only=kw_only, frozen=True, eq=True)
    return _make(cls, kw_only=False, frozen=True, eq=True)


@overload
def record(cls: type[T], /) -> type[T]: ...
@overload
def record(*, kw_only: bool = False, eq: bool = True) -> Callable[[type[T]], type[T]]: ...


@dataclass_transform(field_specifiers=(dataclasses.field,))
def record(cls: type[T] | None = None, /, *, kw_only: bool = False, eq: bool = True) -> Any:
    """A dataclass whose fields may change: `@record`, `@record(kw_only=True)`, `@record(eq=False)`."""
    if cls is None:
        return lambda c: _make(c, kw_only=kw_only, frozen=False, eq=eq)
    return _make(cls, kw_only=False, frozen=False, eq=eq)
