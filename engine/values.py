"""Frozen value classes: dataclasses that compare, hash and print by value and never change.

`dataclass(frozen=True)` writes six methods for every class and compiles each with exec(). On
Python 3.11 that is about 0.7 ms a class, and a diagnosis defines some seventy classes before it
does anything. `frozen` asks dataclasses for `__init__` alone and gives every class the same
shared methods, which read what to compare, hash and print from the class's fields. They mean
what the generated ones mean:

- equal when of the same class and equal in every field that compares;
- hashed by the fields that hash (those that compare, unless a field says otherwise);
- printed as dataclasses print them;
- every field written once, by `__init__`; assigning or deleting later raises FrozenInstanceError.

Pickle and pydantic set an instance's `__dict__` directly, as they do for frozen dataclasses.
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
    names = self._frozen_compare
    # Tuples, as dataclasses compare: an element is equal to itself even when == says not (NaN).
    return tuple(getattr(self, n) for n in names) == tuple(getattr(other, n) for n in names)


def _hash(self: Any) -> int:
    return hash(tuple(getattr(self, n) for n in self._frozen_hash))


@reprlib.recursive_repr()
def _repr(self: Any) -> str:
    shown = ", ".join(f"{n}={getattr(self, n)!r}" for n in self._frozen_repr)
    return f"{self.__class__.__qualname__}({shown})"


def _setattr(self: Any, name: str, value: object) -> None:
    # __init__ writes each field once; anything after that is a change.
    if name in self.__dict__ or name not in self.__dataclass_fields__:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")
    object.__setattr__(self, name, value)


def _delattr(self: Any, name: str) -> None:
    raise FrozenInstanceError(f"cannot delete field {name!r}")


_SHARED = {"__eq__": _eq, "__hash__": _hash, "__repr__": _repr, "__setattr__": _setattr, "__delattr__": _delattr}


def _make(cls: type[T], kw_only: bool) -> type[T]:
    for name in ("__setattr__", "__delattr__"):
        if name in cls.__dict__:
            raise TypeError(f"cannot overwrite attribute {name} in class {cls.__qualname__}")
    made: Any = dataclasses.dataclass(cls, eq=False, repr=False, kw_only=kw_only)
    fields = dataclasses.fields(made)
    made._frozen_compare = tuple(f.name for f in fields if f.compare)
    made._frozen_hash = tuple(f.name for f in fields if (f.compare if f.hash is None else f.hash))
    made._frozen_repr = tuple(f.name for f in fields if f.repr)
    for name, method in _SHARED.items():
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
        return lambda c: _make(c, kw_only)
    return _make(cls, kw_only)
