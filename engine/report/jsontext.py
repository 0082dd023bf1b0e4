"""A report as JSON text in one walk: the very text json.dumps(indent=2, ensure_ascii=False)
writes for dump(report) once scrub has redacted it.

A batch writes a report for every account, and the three walks this replaces (dump, scrub, and
the json module's indenting encoder, which is pure Python) cost a worker more than concluding the
account did. Anything this walk does not know (a value of another type, a key that is not a
string) raises Unwritable, and the caller takes the three walks instead.
"""

from __future__ import annotations

from collections.abc import Callable
from json.encoder import encode_basestring
from typing import Any

INDENT = "  "


class Unwritable(TypeError):
    """A value this walk does not write the way json.dumps would."""


def json_text(record: Any, redact: Callable[[str], str], memo: dict[str, str]) -> str:
    """record written as JSON, each string through redact; memo keeps each string's JSON form
    (shared by the reports of one batch, whose texts repeat)."""
    out: list[str] = []
    put = out.append

    def string(text: str) -> str:
        written = memo.get(text)
        if written is None:
            written = memo[text] = encode_basestring(redact(text))
        return written

    def value(item: Any, indent: str) -> None:
        kind = type(item)
        if kind is str:
            put(string(item))
        elif item is None:
            put("null")
        elif item is True:
            put("true")
        elif item is False:
            put("false")
        elif kind is int:
            put(int.__repr__(item))
        elif kind is float and item - item == 0:  # finite: json.dumps spells NaN and infinities its own way
            put(float.__repr__(item))
        elif kind is list or kind is tuple:
            sequence(item, indent)
        else:
            keys = _KEYS.get(kind) or _keys_of(kind)
            members(indent, [(key, getattr(item, name)) for name, key in keys])

    def sequence(items: list[Any] | tuple[Any, ...], indent: str) -> None:
        if not items:
            put("[]")
            return
        inner = indent + INDENT
        put("[\n" + inner)
        for index, item in enumerate(items):
            if index:
                put(",\n" + inner)
            value(item, inner)
        put("\n" + indent + "]")

    def members(indent: str, pairs: list[tuple[str, Any]]) -> None:
        if not pairs:
            put("{}")
            return
        inner = indent + INDENT
        put("{\n" + inner)
        for index, (key, item) in enumerate(pairs):
            put((",\n" + inner if index else "") + encode_basestring(key) + ": ")
            value(item, inner)
        put("\n" + indent + "}")

    value(record, "")
    return "".join(out)


# Per record class: (attribute, key in the contract), in field order, as dump() names them.
_KEYS: dict[type, list[tuple[str, str]]] = {}


def _keys_of(kind: type) -> list[tuple[str, str]]:
    fields = getattr(kind, "__dataclass_fields__", None)
    if fields is None:
        raise Unwritable(f"{kind.__name__} is written by json.dumps only")
    keys = _KEYS[kind] = [(name, name.removesuffix("_")) for name in fields]
    return keys
