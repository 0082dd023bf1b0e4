"""The literal text a regex cannot match without: a cheap str.find before the expensive search.

A pattern like ``Relay access denied|relaying denied`` can only match a line that contains one
of its literals; finding those with str.find (which scans at memory speed) and running the
regex only on the few lines found is what lets a large log be read at nearly grep's pace.
A pattern's literals are kept as a Wanted, which the knowledge cache stores for the finders
(multimatch.py) and the provider patterns (providers.py).
"""

from __future__ import annotations

import importlib
import re
from typing import Any

from engine.values import frozen

# The standard library's own regex parser (re._parser since Python 3.11); it has no type stubs.
sre_parse: Any = importlib.import_module("re._parser")
sre_constants: Any = importlib.import_module("re._constants")

MIN_LITERAL = 3  # shorter literals occur everywhere and would filter nothing
# A small character class or alternation is spelled out ("55[0-3]" -> 550, 551, 552, 553) so
# that a literal can run through it; beyond this many spellings it is not worth it.
MAX_SPELLINGS = 16

_LITERAL = sre_constants.LITERAL
_IN = sre_constants.IN
_RANGE = sre_constants.RANGE
_SUBPATTERN = sre_constants.SUBPATTERN
_BRANCH = sre_constants.BRANCH
_REPEATS = (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT)
_ZERO_WIDTH = (sre_constants.AT,)


def _best(candidates: list[list[str]]) -> list[str] | None:
    """Of several alternative sets of literals, the one whose shortest literal is longest."""
    usable = [c for c in candidates if c and min(len(x) for x in c) >= MIN_LITERAL]
    if not usable:
        return None
    return max(usable, key=lambda c: (min(len(x) for x in c), -len(c)))


def _spellings(op: object, av: object) -> list[str] | None:
    """Every string this one item can match, when there are few; None otherwise."""
    if op == _LITERAL:
        return [chr(av)]  # type: ignore[arg-type]
    if op == _IN:
        chars: list[str] = []
        for kind, value in av:  # type: ignore[attr-defined]
            if kind == _LITERAL:
                chars.append(chr(value))
            elif kind == _RANGE and value[1] - value[0] < MAX_SPELLINGS:
                chars.extend(chr(c) for c in range(value[0], value[1] + 1))
            else:  # a negation or a category like \d (which also matches non-ASCII digits)
                return None
        return chars if len(chars) <= MAX_SPELLINGS else None
    if op == _SUBPATTERN:
        if (av[1] | av[2]) & re.IGNORECASE:  # type: ignore[index]
            return None
        return _spelled_sequence(list(av[-1]))  # type: ignore[index]
    if op == _BRANCH:
        spelled: list[str] = []
        for branch in av[1]:  # type: ignore[index]
            options = _spelled_sequence(list(branch))
            if options is None:
                return None
            spelled.extend(options)
        return spelled if len(spelled) <= MAX_SPELLINGS else None
    return None


def _spelled_sequence(items: list) -> list[str] | None:
    spelled = [""]
    for op, av in items:
        if op in _ZERO_WIDTH:
            continue
        options = _spellings(op, av)
        if options is None or len(spelled) * len(options) > MAX_SPELLINGS:
            return None
        spelled = [head + tail for head in spelled for tail in options]
    return spelled


def _required(items: list) -> list[str] | None:
    """Literals (any of) that every match of this sequence contains, or None."""
    candidates: list[list[str]] = []
    run = [""]  # the spellings of the literal run so far

    def close_run() -> None:
        nonlocal run
        if run != [""]:
            candidates.append(run)
        run = [""]

    for op, av in items:
        if op in _ZERO_WIDTH:
            continue  # anchors take no characters, so the literal run goes on
        options = _spellings(op, av)
        if options is not None:
            if len(run) * len(options) > MAX_SPELLINGS:
                close_run()
            run = [head + tail for head in run for tail in options]
            continue
        close_run()
        if op == _SUBPATTERN:
            if (av[1] | av[2]) & re.IGNORECASE:
                continue  # a scoped (?i:...) group: its literals could appear in any case
            inner = _required(list(av[-1]))
            if inner:
                candidates.append(inner)
        elif op == _BRANCH:
            branches = [_required(list(branch)) for branch in av[1]]
            if all(branches):
                candidates.append([lit for branch in branches for lit in branch])  # type: ignore[union-attr]
        elif op in _REPEATS and av[0] >= 1:
            inner = _required(list(av[2]))
            if inner:
                candidates.append(inner)
    close_run()
    return _best(candidates)


def required_literals(pattern: str, flags: int = 0) -> tuple[list[str], bool] | None:
    """(literals, ignore_case) such that any match contains one of the literals; None if unknown."""
    parsed = sre_parse.parse(pattern, flags)
    ignore_case = bool((parsed.state.flags | flags) & re.IGNORECASE)
    literals = _required(list(parsed))
    if literals is None:
        return None
    if ignore_case:
        literals = [lit.lower() for lit in literals]
    return sorted(set(literals)), ignore_case


@frozen
class Wanted:
    """What one signature needs looked for."""

    pattern: str
    flags: int  # Python re flags
    literals: tuple[str, ...] | None  # any of these occurs in every match; None: unknown
    ignore_case: bool

    @classmethod
    def of(cls, pattern: str, flags: int) -> Wanted:
        found = required_literals(pattern, flags)
        if found is None or any("\n" in lit or not lit.isascii() for lit in found[0]):
            return cls(pattern, flags, None, bool(flags & re.IGNORECASE))
        return cls(pattern, flags, tuple(found[0]), found[1])

    def may_occur(self, text: str, lowered: str) -> bool:
        """False only when the text lacks every literal a match needs (lowered is text.lower())."""
        if self.literals is None:
            return True
        if self.ignore_case:
            # lower() can change a character's length; then the literals prove nothing.
            return len(lowered) != len(text) or any(literal in lowered for literal in self.literals)
        return any(literal in text for literal in self.literals)


WANTED = "wanted"  # Knowledge.derived key: (pattern, flags) -> Wanted


def wanted_from(known: dict[object, object], pattern: str, flags: int) -> Wanted:
    """The Wanted of a pattern, from the literal sets the knowledge cache keeps when it has them."""
    found = known.get((pattern, flags))
    return found if isinstance(found, Wanted) else Wanted.of(pattern, flags)
