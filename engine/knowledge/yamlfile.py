"""YAML that remembers where every value stood, so errors can say file:line."""

from __future__ import annotations

from dataclasses import field
from pathlib import Path
from typing import Any

import yaml

from engine.values import record

# The C loader is several times faster; fall back where PyYAML was built without libyaml.
Loader: type[yaml.SafeLoader] | type[yaml.CSafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

Path_ = tuple[str | int, ...]


class YamlError(Exception):
    """A file that is not valid YAML, with the line where the parser gave up."""

    def __init__(self, path: Path, line: int, message: str):
        super().__init__(f"{path}:{line}: {message}")
        self.path = path
        self.line = line
        self.message = message


@record
class Located:
    """A parsed document plus the 1-based line of every mapping key and sequence item."""

    path: Path
    data: Any
    lines: dict[Path_, int] = field(default_factory=dict)
    duplicates: list[tuple[Path_, int]] = field(default_factory=list)

    def line_of(self, loc: Path_) -> int:
        """Line of the deepest part of loc that exists in the file (1 for the document)."""
        best = 1
        walked: list[str | int] = []
        for part in loc:
            candidate = (*tuple(walked), part)
            if candidate in self.lines:
                walked.append(part)
                best = self.lines[candidate]
            # Parts absent from the file (union tags, model names) are skipped, not fatal.
        return best


def load(path: Path) -> Located:
    """Parse one YAML file; raise YamlError with a line number when it is malformed."""
    text = path.read_text(encoding="utf-8")
    return loads(text, path)


def loads(text: str, path: Path) -> Located:
    loader = Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return Located(path, None)
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        problem = exc.problem or exc.context or "invalid YAML"
        raise YamlError(path, error_line(exc, text), f"YAML syntax: {problem}") from None
    except yaml.YAMLError as exc:
        raise YamlError(path, 1, f"YAML syntax: {exc}") from None
    finally:
        loader.dispose()
    located = Located(path, data)
    _index(node, (), located)
    return located


def error_line(exc: yaml.MarkedYAMLError, text: str) -> int:
    """The 1-based line to blame for a syntax error."""
    mark = exc.problem_mark or exc.context_mark
    if exc.context_mark is not None and mark is not None and mark.index >= len(text.rstrip()):
        # Unclosed quotes and brackets fail at the end of the file; where they opened helps more.
        mark = exc.context_mark
    return mark.line + 1 if mark is not None else 1


def _index(node: yaml.Node, prefix: Path_, out: Located) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: set[Any] = set()
        for key_node, value_node in node.value:
            key = key_node.value
            loc = (*prefix, key)
            line = key_node.start_mark.line + 1
            if key in seen:
                out.duplicates.append((loc, line))
            seen.add(key)
            out.lines[loc] = line
            _index(value_node, loc, out)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            loc = (*prefix, i)
            out.lines[loc] = item.start_mark.line + 1
            _index(item, loc, out)
