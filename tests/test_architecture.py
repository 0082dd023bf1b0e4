"""The packages of engine/ depend on each other in one direction only, as ARCHITECTURE.md draws it.

cli -> run -> report/decide/text/probes/inputs -> knowledge -> the base (facts, redact). Every
import counts: at the top of a module, inside a function, or under TYPE_CHECKING.
"""

from __future__ import annotations

import ast
from pathlib import Path

ENGINE = Path(__file__).resolve().parent.parent / "engine"
PACKAGES = ("knowledge", "inputs", "text", "probes", "decide", "report", "run", "lab", "cli")

# What each layer may import besides itself. "base" is engine/facts.py, engine/redact.py,
# engine/reply_text.py, engine/values.py and engine/__init__.py: the currency of every layer,
# which imports nothing of engine but its value classes.
ALLOWED: dict[str, set[str]] = {
    "base": set(),
    "knowledge": {"base"},
    "inputs": {"base", "knowledge"},
    "text": {"base", "knowledge", "inputs"},
    "probes": {"base", "knowledge", "inputs"},
    "decide": {"base", "knowledge", "text"},
    "report": {"base", "knowledge", "inputs", "text", "probes", "decide"},
    "run": {"base", "knowledge", "inputs", "text", "probes", "decide", "report"},
    "lab": {"base"},
    "cli": {"base", "knowledge", "inputs", "text", "probes", "decide", "report", "run", "lab"},
}


def layer_of(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "engine":
        return None
    if len(parts) > 1 and parts[1] == "__main__":
        return "cli"
    return parts[1] if len(parts) > 1 and parts[1] in PACKAGES else "base"


def module_name(path: Path) -> str:
    parts = path.relative_to(ENGINE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            if node.module == "engine":  # from engine import lab: the submodule is the target
                found |= {f"engine.{alias.name}" for alias in node.names}
    return found


def edges() -> list[tuple[str, str, str]]:
    out = []
    for path in sorted(ENGINE.rglob("*.py")):
        source = module_name(path)
        here = layer_of(source)
        assert here is not None
        for target in imports(path):
            there = layer_of(target)
            if there is not None and there != here:
                out.append((here, there, f"{source} imports {target}"))
    return out


def test_every_layer_imports_only_the_layers_below_it():
    wrong = [why for here, there, why in edges() if there not in ALLOWED[here]]
    assert wrong == []


def test_the_allowed_dependencies_form_no_cycle():
    def reaches(start: str, goal: str, seen: frozenset[str] = frozenset()) -> bool:
        return any(nxt == goal or (nxt not in seen and reaches(nxt, goal, seen | {nxt})) for nxt in ALLOWED[start])

    assert [layer for layer in ALLOWED if reaches(layer, layer)] == []


def test_every_package_is_a_known_layer():
    folders = {p.name for p in ENGINE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert folders == set(PACKAGES)


def test_the_base_modules_import_nothing_of_engine_but_its_value_classes():
    assert not {m for m in imports(ENGINE / "values.py") if m.startswith("engine")}
    for name in ("facts.py", "redact.py", "reply_text.py", "__init__.py"):
        assert not {m for m in imports(ENGINE / name) if m.startswith("engine")} - {"engine.values"}, name
