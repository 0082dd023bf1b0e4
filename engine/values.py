"""Value classes: dataclasses that compare and print by value, without code written per class.

`dataclass` writes `__init__`, `__repr__` and `__eq__` for every class, and a frozen one also
`__hash__`, `__setattr__` and `__delattr__`, compiling each with exec(). On Python 3.11 that is
about 0.7 ms a frozen class, and a diagnosis defines some seventy classes before it does
anything. `frozen` and `record` ask dataclasses for the fields alone and give every class the
same shared methods, which read what to compare, hash and print from the class's fields. Each
class's `__init__` is written (with one exec()) the first time an instance is made that way: half
of the classes a run defines are only ever unpickled from the knowledge cache, which calls no
`__init__`. They mean what the generated ones mean:

- equal when of the same class and equal in every field that compares;
- printed as dataclasses print them;
- `frozen`: hashed by the fields that hash (those that compare, unless a field says otherwise),
  and every field written once, by `__init__`; assigning or deleting later raises
  FrozenInstanceError. Pickle and pydantic set an instance's `__dict__` directly, as they do
  for frozen dataclasses;
- `record`: fields change freely, and an instance is not hashable (unless eq=False, which
  keeps identity for both);
- `__init__` takes the fields as dataclasses' does (defaults, default factories, init=False,
  keyword-only fields) and calls `__post_init__`. InitVar pseudo-fields are not among its
  parameters: an argument for one is refused as unexpected.
"""

from __future__ import annotations

import dataclasses
import reprlib
from collections.abc import Callable
from dataclasses import FrozenInstanceError
from typing import Any, TypeVar, cast, dataclass_transform, overload

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


_NO_VALUE: Any = object()  # the default of a parameter whose field has a default factory


def _write_init(cls: Any) -> Callable[..., None]:
    """The class's `__init__`, as dataclasses would write it."""
    names: dict[str, Any] = {"_NO_VALUE": _NO_VALUE, "_SET": object.__setattr__}
    # A frozen class's own __setattr__ refuses changes; __init__ sets each field once, past it,
    # as dataclasses do: a call into Python per field was most of the cost of making a value.
    frozen = getattr(cls, "__setattr__", None) is _setattr
    positional: list[str] = []
    keyword: list[str] = []
    body: list[str] = []
    for f in dataclasses.fields(cls):
        default = f"_value_default_{f.name}"
        factory = f"_value_factory_{f.name}"
        names[default], names[factory] = f.default, f.default_factory
        if f.init:
            value = f.name
            if f.default is not dataclasses.MISSING:
                param = f"{f.name}={default}"
            elif f.default_factory is not dataclasses.MISSING:
                param, value = f"{f.name}=_NO_VALUE", f"{factory}() if {f.name} is _NO_VALUE else {f.name}"
            else:
                param = f.name
            (keyword if f.kw_only else positional).append(param)
        elif f.default is not dataclasses.MISSING:
            value = default
        elif f.default_factory is not dataclasses.MISSING:
            value = f"{factory}()"
        else:
            continue  # init=False and no default: left unset, as dataclasses leaves it
        body.append(f"_SET(__value_self__, {f.name!r}, {value})" if frozen else f"__value_self__.{f.name} = {value}")
    if hasattr(cls, "__post_init__"):
        body.append("__value_self__.__post_init__()")
    params = ", ".join(["__value_self__", *positional, *(["*", *keyword] if keyword else [])])
    source = f"def __init__({params}):\n" + "".join(f"    {line}\n" for line in body or ["pass"])
    exec(source, names)
    init: Any = names["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    return cast(Callable[..., None], init)


def _lazy_init(cls: Any) -> Callable[..., None]:
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        init = _write_init(cls)
        cls.__init__ = init  # every later instance calls the written one directly
        init(self, *args, **kwargs)

    __init__.__qualname__ = f"{cls.__qualname__}.__init__"
    return __init__


def _check_fields(cls: Any) -> None:
    """What dataclasses would refuse when writing `__init__`, refused when the class is made."""
    seen_default = False
    for f in dataclasses.fields(cls):
        if not f.init or f.kw_only:
            continue
        if f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING:
            seen_default = True
        elif seen_default:
            raise TypeError(f"non-default argument {f.name!r} follows default argument")


def _make(cls: type[T], *, kw_only: bool, frozen: bool, eq: bool) -> type[T]:
    if frozen:
        for name in ("__setattr__", "__delattr__"):
            if name in cls.__dict__:
                raise TypeError(f"cannot overwrite attribute {name} in class {cls.__qualname__}")
    # dataclasses writes a missing docstring from inspect.signature, which for a class without
    # an __init__ of its own parses the text signature of object's: about 0.15 ms a class. A
    # value class without a docstring keeps none.
    undocumented = not cls.__dict__.get("__doc__")
    if undocumented:
        cls.__doc__ = cls.__qualname__
    made: Any = dataclasses.dataclass(cls, init=False, eq=False, repr=False, kw_only=kw_only)
    if undocumented:
        made.__doc__ = None
    _check_fields(made)
    if "__init__" not in cls.__dict__:  # as dataclasses do, a class's own __init__ stays
        made.__init__ = _lazy_init(made)
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
