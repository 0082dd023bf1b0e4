"""A cache of the validated knowledge base, so each run skips parsing and linting unchanged files.

Keyed by every knowledge file's path, size and modification time, plus the program's version:
any edit, added or removed file makes a new key. Only knowledge that passed lint is stored.
A cache that cannot be read or written is ignored; it only ever saves time. It holds what
runs need: `knowledge lint` and `knowledge test` always read the files.
"""

from __future__ import annotations

import dataclasses
import os
import pickle
import sys
import zlib
from collections.abc import Callable, Iterable, Iterator, MutableMapping
from pathlib import Path

from engine import __version__
from engine.knowledge.model import Knowledge, Where, shipped_root


def cached_knowledge(
    extra_dirs: Iterable[Path] = (), *, base: Path | None = None, derive: Callable[[Knowledge], None] | None = None
) -> Knowledge:
    """The knowledge base from the cache when its files are unchanged, else loaded and stored.

    derive(kb) fills kb.derived before it is stored: what a later layer (the text matcher)
    would otherwise work out again on every run from the same knowledge.
    """
    roots = [base or shipped_root(), *extra_dirs]
    if all(root.is_dir() for root in roots):
        found = load(roots)
        if found is not None:
            if derive is not None and not found.derived:  # stored by a caller that derived nothing
                derive(found)
                store(found)
            return found
    # The loader (and the YAML parser and lint under it) only when the cache cannot serve; it
    # also names a directory that is missing.
    from engine.knowledge.load import load_knowledge

    kb = load_knowledge(roots[1:], base=roots[0], tests=False)  # the cache keeps neither
    if derive is not None:
        derive(kb)
    store(kb)
    return kb


def cache_dir() -> Path:
    configured = os.environ.get("MAILTRIAGE_CACHE_DIR")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "mailtriage"


# Raised whenever what is stored changes shape (the knowledge model, or what a caller derives
# into it), so an older pickle is never read as a newer one.
CACHE_FORMAT = 15


def fingerprint(roots: list[Path]) -> str:
    """The cache's key in full: the program's version and every knowledge file's path, size and
    modification time."""
    parts = [f"{__version__} {sys.version_info[:2]} format {CACHE_FORMAT}"]
    for root in roots:
        parts.append(f"root {root.resolve()}")
        # os.walk and plain strings rather than Path.rglob: every run pays for this, before
        # anything else, on some three hundred files. Symbolic links to folders are not
        # followed, as rglob does not follow them and the loader reads what rglob finds.
        top = len(str(root)) + 1
        found = []
        for folder, _, names in os.walk(root):
            found += [os.path.join(folder, name) for name in names if name.endswith(".yaml")]
        for path in sorted(found):
            stat = os.stat(path)
            parts.append(f"{path[top:]} {stat.st_size} {stat.st_mtime_ns}")
    return "\0".join(parts)


def cache_file(key: str) -> Path:
    # A short name for the key. The file holds the whole key, so keys that share a name only
    # miss; a checksum serves, and a run that reads pasted text need not load OpenSSL's hashes.
    return cache_dir() / f"knowledge-{zlib.crc32(key.encode()):08x}.pickle"


def load(roots: list[Path]) -> Knowledge | None:
    try:
        key = fingerprint(roots)
        with cache_file(key).open("rb") as handle:
            stored_key, kb = pickle.load(handle)
    except Exception:  # a missing, stale or unreadable cache only costs the full load
        return None
    return kb if stored_key == key and isinstance(kb, Knowledge) else None


def store(kb: Knowledge) -> None:
    # What runs need, no more: parsed documents serve lint's line numbers (the places suffice).
    # Scenarios and rule tests were never loaded: they serve `knowledge test`, which reads the files.
    slim = dataclasses.replace(
        kb, where=StoredPlaces({k: dataclasses.replace(w, located=None) for k, w in kb.where.items()})
    )
    import tempfile  # only a run that fills the cache writes it

    try:
        directory = cache_dir()
        directory.mkdir(parents=True, exist_ok=True)
        key = fingerprint(kb.roots)
        target = cache_file(key)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".knowledge-")
        with os.fdopen(fd, "wb") as handle:
            pickle.dump((key, slim), handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, target)
        prune(directory, keep=target)
    except Exception:
        return


Place = tuple[str, str]


class StoredPlaces(MutableMapping[Place, Where]):
    """The places of a cached knowledge base, kept pickled until one is looked up. Few runs
    name a place (an explanation of a rule, the report of a text nothing recognised), and
    unpickling some 1,600 of them, with a path each, would cost every run about 4 ms."""

    def __init__(self, places: dict[Place, Where]) -> None:
        self._places: dict[Place, Where] | bytes = places  # bytes: still pickled

    def _open(self) -> dict[Place, Where]:
        if isinstance(self._places, bytes):
            self._places = places = pickle.loads(self._places)
            return places
        return self._places

    def __getitem__(self, key: Place) -> Where:
        return self._open()[key]

    def __setitem__(self, key: Place, value: Where) -> None:
        self._open()[key] = value

    def __delitem__(self, key: Place) -> None:
        del self._open()[key]

    def __iter__(self) -> Iterator[Place]:
        return iter(self._open())

    def __len__(self) -> int:
        return len(self._open())

    def __getstate__(self) -> bytes:
        if isinstance(self._places, bytes):
            return self._places
        return pickle.dumps(self._places, protocol=pickle.HIGHEST_PROTOCOL)

    def __setstate__(self, state: bytes) -> None:
        self._places = state


# Each knowledge edit makes a new key; the newest few serve the layer sets a person switches
# between, and older ones would only fill the disk.
KEPT = 8


def prune(directory: Path, keep: Path) -> None:
    stored = sorted(directory.glob("knowledge-*.pickle"), key=lambda p: p.stat().st_mtime_ns, reverse=True)
    for old in [p for p in stored if p != keep][KEPT - 1 :]:
        old.unlink(missing_ok=True)
