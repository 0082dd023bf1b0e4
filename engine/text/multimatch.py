"""Nominate, in one pass over a block of log, the lines that may match each signature.

Two finders give the same answer. With the hyperscan wheel installed, every signature's
required literals (see prefilter.py) go into one hyperscan database, a multi-pattern automaton
that reads the block once at memory speed. Without it, each literal is looked for with
str.find. Either way a finder only *nominates* lines: the signature's own Python regex then
confirms each one, so a finder may over-report but must never miss a line. Signatures with no
required literal (none ship today) are scanned with their regex over the whole block. Runs
use a SizedFinder, which gives short blocks to the Python finder: for a pasted text, loading
hyperscan would take longer than the scan.
"""

from __future__ import annotations

import functools
import importlib
import re
from collections.abc import Sequence
from dataclasses import field
from types import ModuleType
from typing import Protocol, TypeVar

from engine.inputs.textinput import MAX_LINE
from engine.text.prefilter import Wanted
from engine.values import frozen, record


@functools.cache
def _hyperscan() -> ModuleType | None:
    """The hyperscan module, imported the first time a text is large enough to want it: loading
    its library costs a run that reads a few lines (or none) more than the whole read."""
    try:  # an optional accelerator: a wheel exists for the common platforms only
        return importlib.import_module("hyperscan")
    except ImportError:  # pragma: no cover - depends on the platform
        return None


Buffer = TypeVar("Buffer", str, bytes)


HYPERSCAN = "hyperscan"  # Knowledge.derived key: digest of the literals -> serialized database


@frozen
class Nominated:
    index: int  # the line's place in the block, counted from 0
    text: str  # the line, decoded, without its line ending, cut to MAX_LINE
    wanted: frozenset[int]  # which Wanted (by position) may match it


class Finder(Protocol):
    name: str

    def nominate(self, block: bytes) -> list[Nominated]: ...


def _newline(buffer: Buffer) -> Buffer:
    return b"\n" if isinstance(buffer, bytes) else "\n"


def _group_by_line(buffer: Buffer, hits: dict[int, set[int]]) -> list[tuple[int, int, int, set[int]]]:
    """(index, start, end, wanted) per nominated line; hits maps a position inside a line to wanted."""
    newline = _newline(buffer)
    by_start: dict[int, set[int]] = {}
    for position, wanted in hits.items():
        start = buffer.rfind(newline, 0, position) + 1
        by_start.setdefault(start, set()).update(wanted)
    lines = []
    index = previous = 0
    for start in sorted(by_start):
        index += buffer.count(newline, previous, start)
        previous = start
        end = buffer.find(newline, start)
        lines.append((index, start, len(buffer) if end < 0 else end, by_start[start]))
    return lines


def _line_text(buffer: Buffer, start: int, end: int) -> str:
    if isinstance(buffer, bytes):
        return buffer[start : min(end, start + MAX_LINE)].decode("utf-8", errors="replace").rstrip("\r")
    return buffer[start : min(end, start + MAX_LINE)].rstrip("\r")


def _regex_hits(buffer: str, regex: re.Pattern[str]) -> list[int]:
    """Positions of the first hit on each line where the regex matches, the block in one call."""
    found = []
    position = 0
    while (hit := regex.search(buffer, position)) is not None:
        found.append(hit.start())
        next_line = buffer.find("\n", hit.start())
        if next_line < 0:
            break
        position = next_line + 1
    return found


def _block_regex(wanted: Wanted) -> re.Pattern[str]:
    # MULTILINE because a signature's ^ and $ mean the ends of a line, and this scans a block.
    return re.compile(wanted.pattern, wanted.flags | re.MULTILINE)


def _literal_hits(buffer: str, literals: Sequence[str]) -> list[int]:
    found = []
    for literal in literals:
        position = buffer.find(literal)
        while position >= 0:
            found.append(position)
            next_line = buffer.find("\n", position)
            if next_line < 0:
                break
            position = buffer.find(literal, next_line + 1)
    return found


def _collect(buffer: Buffer, hits: dict[int, set[int]]) -> list[Nominated]:
    return [
        Nominated(index, _line_text(buffer, start, end), frozenset(wanted))
        for index, start, end, wanted in _group_by_line(buffer, hits)
    ]


@record
class PythonFinder:
    """str.find for literals, one regex call per block for the rest: no compiled dependency."""

    wanted: list[Wanted]
    name: str = "python"

    # Compiled the first time a block is scanned: a finder that only ever meets short texts
    # is built on every run.
    _regexes: dict[int, re.Pattern[str]] = field(default_factory=dict)

    def regex(self, index: int) -> re.Pattern[str]:
        found = self._regexes.get(index)
        if found is None:
            found = self._regexes[index] = _block_regex(self.wanted[index])
        return found

    def nominate(self, block: bytes) -> list[Nominated]:
        text = block.decode("utf-8", errors="replace")
        lowered: str | None = None
        hits: dict[int, set[int]] = {}
        for i, wanted in enumerate(self.wanted):
            if wanted.literals is None:
                positions = _regex_hits(text, self.regex(i))
            elif wanted.ignore_case:
                if lowered is None:
                    lowered = text.lower()
                if len(lowered) == len(text):
                    positions = _literal_hits(lowered, wanted.literals)
                else:  # lower() changed some character's length: offsets no longer line up
                    positions = _regex_hits(text, _block_regex(wanted))
            else:
                positions = _literal_hits(text, wanted.literals)
            for position in positions:
                hits.setdefault(position, set()).add(i)
        return _collect(text, hits)


_SHORT_BOUND = re.compile(r"(?<!\\)\{([01]),\d+\}\??")


def _unbounded(pattern: str) -> str:
    """{0,300} as *, {1,3} as +: the same lines and more, and hyperscan compiles it in
    milliseconds where bounded repeats take it half a second."""
    return _SHORT_BOUND.sub(lambda m: "*" if m.group(1) == "0" else "+", pattern)


def _compiles(expression: bytes, flags: int) -> bool:
    """Whether hyperscan takes this expression (one that fails would fail the whole database)."""
    hs = _hyperscan()
    assert hs is not None
    try:
        hs.Database(mode=hs.HS_MODE_BLOCK).compile(expressions=[expression], ids=[0], elements=1, flags=[flags])
    except hs.error:
        return False
    return True


def _pcre_literal(literal: str) -> bytes:
    """A literal as a hyperscan expression: every character escaped, nothing left to parse."""
    return "".join(c if c.isalnum() else f"\\x{ord(c):02x}" for c in literal).encode("ascii")


@record
class HyperscanFinder:
    """All required literals, and the regexes of signatures without any, in one hyperscan database."""

    wanted: list[Wanted]
    name: str = "hyperscan"
    # Databases compiled before (the knowledge cache keeps them) with the owner of each
    # expression, by digest of the candidate expressions: loading is far cheaper than compiling.
    serialized: dict[object, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        hs = _hyperscan()
        if hs is None:
            raise RuntimeError("the hyperscan finder needs the hyperscan package")
        # (expression, flags, position in wanted) for every literal, and for each signature
        # without a required literal its regex in prefilter mode: a superset of its matches
        # (lookarounds dropped) that the signature's own regex then confirms. Scanning each block
        # with Python's re instead costs seconds on a large log.
        candidates: list[tuple[bytes, int, int]] = []
        for i, wanted in enumerate(self.wanted):
            caseless = hs.HS_FLAG_CASELESS if wanted.ignore_case else 0
            if wanted.literals is None:
                regex_flags = caseless | hs.HS_FLAG_MULTILINE | hs.HS_FLAG_PREFILTER
                candidates.append((_unbounded(wanted.pattern).encode("utf-8"), regex_flags, i))
            else:
                candidates.extend((_pcre_literal(literal), caseless, i) for literal in wanted.literals)
        import hashlib  # only a finder for large blocks needs the digest (and OpenSSL)

        self.digest = hashlib.sha256(repr(candidates).encode()).hexdigest()
        stored = self.serialized.get(self.digest)
        if isinstance(stored, tuple) and len(stored) == 2 and isinstance(stored[0], bytes):
            database, self.owners = stored[0], list(stored[1])
            self.database = hs.loadb(database, hs.HS_MODE_BLOCK)
            self.database.scratch = hs.Scratch(self.database)
        else:
            # A regex hyperscan refuses would fail the whole database: it stays with Python.
            kept = [c for c in candidates if c[1] & hs.HS_FLAG_PREFILTER == 0 or _compiles(c[0], c[1])]
            self.owners = [i for _, _, i in kept]  # hyperscan expression id -> position in wanted
            self.database = hs.Database(mode=hs.HS_MODE_BLOCK)
            if kept:
                self.database.compile(
                    expressions=[e for e, _, _ in kept],
                    ids=list(range(len(kept))),
                    elements=len(kept),
                    flags=[f for _, f, _ in kept],
                )
        scanned = set(self.owners)
        self.rest_owners = [i for i in range(len(self.wanted)) if i not in scanned]
        self.rest = PythonFinder([self.wanted[i] for i in self.rest_owners]) if self.rest_owners else None

    def nominate(self, block: bytes) -> list[Nominated]:
        hits: dict[int, set[int]] = {}
        owners = self.owners

        def on_match(expression: int, start: int, end: int, flags: int, context: object) -> None:
            # end - 1: inside the literal, or on the line where a regex's match ends (a match a
            # line's confirmation could find lies within that line, and ends there too).
            hits.setdefault(end - 1, set()).add(owners[expression])

        if owners:
            self.database.scan(block, match_event_handler=on_match)
        nominated = _collect(block, hits)
        if self.rest is None:
            return nominated
        merged = {n.index: n for n in nominated}
        for extra in self.rest.nominate(block):
            wanted = frozenset(self.rest_owners[i] for i in extra.wanted)
            known = merged.get(extra.index)
            merged[extra.index] = Nominated(extra.index, extra.text, wanted | (known.wanted if known else frozenset()))
        return [merged[index] for index in sorted(merged)]


# Below this many bytes a block goes to the Python finder. Measured: it scans about 0.3 ms per
# KiB, while a hyperscan finder costs about 15 ms before its first scan (the library, then the
# stored database), so pasted text and short logs are done before hyperscan would be ready.
HYPERSCAN_FROM = 48 * 1024


@record
class SizedFinder:
    """The Python finder for short blocks, hyperscan (where installed) for long ones; each built
    when first needed."""

    wanted: list[Wanted]
    serialized: dict[object, object] = field(default_factory=dict)
    name: str = "python, hyperscan for large blocks"
    _python: PythonFinder | None = None
    _hyperscan: HyperscanFinder | None = None

    @property
    def python(self) -> PythonFinder:
        if self._python is None:
            self._python = PythonFinder(self.wanted)
        return self._python

    @property
    def hyperscan(self) -> HyperscanFinder:
        if self._hyperscan is None:
            self._hyperscan = HyperscanFinder(self.wanted, serialized=self.serialized)
        return self._hyperscan

    def nominate(self, block: bytes) -> list[Nominated]:
        if len(block) < HYPERSCAN_FROM or _hyperscan() is None:
            return self.python.nominate(block)
        return self.hyperscan.nominate(block)


def finder_for(
    wanted: list[Wanted], prefer: str | None = None, serialized: dict[object, object] | None = None
) -> Finder:
    """The fastest finder this machine has for each block; prefer='python' or 'hyperscan'
    forces one (tests compare them)."""
    if prefer == "python":
        return PythonFinder(wanted)
    if prefer == "hyperscan":
        return HyperscanFinder(wanted, serialized=serialized or {})
    return SizedFinder(wanted, serialized or {})


def serialize(finder: Finder) -> dict[object, object]:
    """A hyperscan finder's database, to be given back to finder_for by a later run."""
    hs = _hyperscan()
    if isinstance(finder, SizedFinder) and hs is not None:
        finder = finder.hyperscan
    if isinstance(finder, HyperscanFinder) and finder.owners and hs is not None:
        return {finder.digest: (hs.dumpb(finder.database), tuple(finder.owners))}
    return {}


def available() -> list[str]:
    return ["hyperscan", "python"] if _hyperscan() is not None else ["python"]
