"""Compiled report templates kept beside the knowledge cache, so a warm run renders without
compiling Jinja templates again (a third of a one-line analyze-log's time before).

Jinja keys each entry by the template's name and source checksum and by its own and Python's
version; a cache that cannot be read or written only costs the compile.
"""

from __future__ import annotations

import jinja2
from jinja2.bccache import Bucket

from engine.knowledge.cache import cache_dir


class QuietBytecodeCache(jinja2.FileSystemBytecodeCache):
    def load_bytecode(self, bucket: Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except Exception:  # a truncated or foreign file: compile as if there were none
            bucket.reset()

    def dump_bytecode(self, bucket: Bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError:  # a read-only or full cache directory
            pass


def bytecode_cache() -> jinja2.BytecodeCache | None:
    directory = cache_dir() / "templates"
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return QuietBytecodeCache(str(directory))
