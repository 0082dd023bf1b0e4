"""The one place that makes experta importable on Python 3.10+.

experta 1.9.4 pins frozendict 1.2, which subclasses ``collections.Mapping``; that alias was
removed in Python 3.10. Restoring it before the first experta import is enough, and keeping it
here means no other module needs to know. Import experta names from this module only.
"""

import collections
import collections.abc

if not hasattr(collections, "Mapping"):
    collections.Mapping = collections.abc.Mapping  # type: ignore[attr-defined]

from experta import AND, AS, NOT, OR, Fact, KnowledgeEngine, P, Rule

__all__ = ["AND", "AS", "NOT", "OR", "Fact", "KnowledgeEngine", "P", "Rule"]
