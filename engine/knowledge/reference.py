"""The knowledge files' reference, written from the models that validate them (schema.py, files.py), so
the guide (knowledge/README.md) can never describe a key the loader does not accept."""

from __future__ import annotations

import dataclasses
import re
import typing
from typing import Any

from engine.knowledge import files
from engine.knowledge import schema as s

# Each kind of file: where it lives, and the model of one entry in it.
FILES: list[tuple[str, str, type]] = [
    ("facts.yaml", "one entry of `facts:` (name -> fact)", s.FactSpec),
    ("findings.yaml", "one entry of `findings:` (id -> finding)", s.FindingSpec),
    ("rules/<area>/<id>.yaml", "the whole file: one rule", s.RuleSpec),
    ("rules/<area>/<id>.test.yaml", "the whole file: the rule's cases", files.RuleTestFile),
    ("rules/<area>/<id>.test.yaml", "one of `cases:`", files.RuleCase),
    ("questions/*.yaml", "one of `questions:`", s.QuestionSpec),
    ("questions/*.yaml", "one of a question's `choices:`", s.Choice),
    ("signatures/*.yaml", "the whole file", files.SignaturesFile),
    ("signatures/*.yaml", "one of `signatures:`", s.SignatureSpec),
    ("signatures/*.yaml", "a signature's `examples:`", s.Examples),
    ("providers.yaml", "one of `providers:`", s.ProviderSpec),
    ("scenarios/*.yaml", "one of `scenarios:`", files.Scenario),
    ("scenarios/*.yaml", "a scenario's `expect:`", files.Expectation),
]
BEGIN = "<!-- reference: written by `mailtriage knowledge reference`; do not edit by hand -->"
END = "<!-- end of reference -->"


def markdown() -> str:
    """Every key of every knowledge file, with its type and whether it must be given."""
    out = [BEGIN, ""]
    for place, what, model in FILES:
        out += [f"#### `{place}`: {what}", "", "| key | type | required or default |", "|---|---|---|"]
        hints = typing.get_type_hints(model, include_extras=True)
        for f in dataclasses.fields(model):
            key = "not" if f.name == "not_" else f.name
            out.append(f"| `{key}` | {_type(hints[f.name])} | {_default(f)} |")
        out.append("")
    out.append(END)
    return "\n".join(out) + "\n"


def replace_block(text: str) -> str:
    """The guide with its reference block written anew."""
    start, end = _block(text)
    return text[:start] + markdown().rstrip("\n") + text[end:]


def current_block(text: str) -> str:
    start, end = _block(text)
    return text[start:end] + "\n"


def _block(text: str) -> tuple[int, int]:
    """Where the reference block starts and ends in the guide, its markers included."""
    return text.index(BEGIN), text.index(END) + len(END)


def _default(f: dataclasses.Field[Any]) -> str:
    if f.default is not dataclasses.MISSING:
        return "optional" if f.default is None else f"`{f.default!r}`".replace("|", "\\|")
    if f.default_factory is not dataclasses.MISSING:
        return "empty if left out"
    return "**required**"


def _type(hint: Any) -> str:
    """A type as a person reads it: `str`, `list of str`, `one of: high, medium, low`."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Annotated:
        return _type(args[0])
    if origin is typing.Literal:
        return "one of: " + ", ".join(str(a) for a in args)
    if origin in (list, tuple):
        return f"list of {_type(args[0])}"
    if origin is dict:
        return f"mapping of {_type(args[0])} to {_type(args[1])}"
    if args and (origin is typing.Union or type(hint).__name__ == "UnionType"):
        shown = [_type(a) for a in args if a is not type(None)]
        names = {getattr(a, "__name__", "") for a in args}
        if {"AllOf", "FactTest"} <= names:
            return "condition"
        return " or ".join(dict.fromkeys(shown))
    name = getattr(hint, "__name__", str(hint))
    named = {
        "FactTest": "condition",
        "AllOf": "condition",
        "Routing": "routing (`by`, `cases`, `otherwise`)",
        "ConditionalStep": "`{when: condition, text: str}`",
        "RuleCase": "case",
    }
    return named.get(name, re.sub(r"Spec$", "", name))
