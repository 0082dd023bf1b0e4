"""What is derived from a loaded knowledge base (compiled engine, matchers), built once per base.

One cache for every derived artifact, keyed weakly by the Knowledge object itself: a base that
is no longer used takes its artifacts with it, and a new base never meets an old one's.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any, TypeVar

from engine.knowledge.model import Knowledge

T = TypeVar("T")

_derived: weakref.WeakKeyDictionary[Knowledge, dict[Any, Any]] = weakref.WeakKeyDictionary()


def prepared(kb: Knowledge, key: Any, build: Callable[[Knowledge], T]) -> T:
    """build(kb) the first time key is asked for on this knowledge base, the same object after."""
    artifacts = _derived.setdefault(kb, {})
    if key not in artifacts:
        artifacts[key] = build(kb)
    found: T = artifacts[key]
    return found


def existing(kb: Knowledge, key: Any) -> Any | None:
    """What prepared() built for key on this base, or None if nothing has asked for it yet."""
    return _derived.get(kb, {}).get(key)
