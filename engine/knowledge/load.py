"""Read knowledge directories into one Knowledge, layer over layer; problems as path:line: message.

Every kind of file is one row of KINDS: where its files are, the model that validates them, and
how its entries are named. The loader knows nothing of caches (engine.knowledge.cache wraps it).
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from pydantic import TypeAdapter, ValidationError

from engine.facts import FACT_NAME
from engine.knowledge import files
from engine.knowledge import schema as s
from engine.knowledge.model import Knowledge, KnowledgeInvalid, Problem, Where, did_you_mean, shipped_root
from engine.knowledge.statuscodes import backbone_rules
from engine.knowledge.yamlfile import Located, YamlError, load
from engine.values import frozen

M = TypeVar("M")
TAGS = set(s.CONDITION_TAGS.values())
Loc = tuple[str | int, ...]


class Reader:
    """Parses files into models, collecting problems instead of stopping at the first."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        # Kinds of file that failed to parse, or were not read: cross-checks against them would
        # only echo that.
        self.failed: set[str] = set()

    def problem(self, path: Path, line: int, message: str) -> None:
        self.problems.append(Problem(path, line, message))

    def parse(self, path: Path, model: type[M], kind: str) -> tuple[M | None, Located | None]:
        parsed, located = self._parse(path, model)
        if parsed is None:
            self.failed.add(kind)
        return parsed, located

    def _parse(self, path: Path, model: type[M]) -> tuple[M | None, Located | None]:
        try:
            located = load(path)
        except YamlError as exc:
            self.problem(path, exc.line, exc.message)
            return None, None
        except (OSError, UnicodeDecodeError) as exc:
            self.problem(path, 1, f"cannot read: {exc}")
            return None, None
        for loc, line in located.duplicates:
            self.problem(path, line, f"duplicate key '{loc[-1]}' (the later one would win silently)")
        if located.data is None:
            self.problem(path, 1, f"empty file (expected {_shape(model)})")
            return None, located
        try:
            return validator(model).validate_python(located.data), located
        except ValidationError as exc:
            for err in exc.errors():
                self.problem(path, located.line_of(err["loc"]), _explain(err, model))
            return None, located


# --- the kinds of knowledge file ---------------------------------------------------------------

# An entry: its id, where it stands in its file, and the value stored under that id.
Entry = tuple[str, Loc, Any]


@frozen
class Kind:
    """One kind of knowledge file and how its entries join the Knowledge."""

    name: str  # as problems and Knowledge.where name it: "rule", "rule test", ...
    files: Callable[[Path], list[Path]]  # the files of this kind in one layer
    model: type[Any]  # a dataclass of engine.knowledge.schema
    store: str  # the Knowledge attribute that holds the entries
    # The entries of one parsed file; None for a table a later layer replaces whole.
    entries: Callable[[Any, Path], Iterator[Entry]] | None = None
    # Checks particular to this kind (file naming, name rules): (entry, path, line) -> problems.
    check: Callable[[Entry, Path, Located], list[tuple[int, str]]] | None = None
    # False for what only `knowledge test` and lint read (rule tests, scenarios): half the
    # YAML, which a run filling the knowledge cache need not parse, validate or check.
    for_runs: bool = True


def _file(name: str) -> Callable[[Path], list[Path]]:
    return lambda root: [root / name] if (root / name).exists() else []


def _glob(folder: str, recursive: bool = False, tests: bool | None = None) -> Callable[[Path], list[Path]]:
    def files(root: Path) -> list[Path]:
        found = sorted((root / folder).rglob("*.yaml") if recursive else (root / folder).glob("*.yaml"))
        if tests is None:
            return found
        return [p for p in found if p.name.endswith(".test.yaml") == tests]

    return files


def _mapping(attr: str) -> Callable[[Any, Path], Iterator[Entry]]:
    return lambda parsed, _: ((ident, (attr, ident), value) for ident, value in getattr(parsed, attr).items())


def _listed(attr: str) -> Callable[[Any, Path], Iterator[Entry]]:
    return lambda parsed, _: ((item.id, (attr, i), item) for i, item in enumerate(getattr(parsed, attr)))


def _signatures(parsed: Any, _: Path) -> Iterator[Entry]:
    """Each signature, with the file's ecosystem unless it names its own."""
    for i, sig in enumerate(parsed.signatures):
        if sig.ecosystem is None:
            sig = dataclasses.replace(sig, ecosystem=parsed.ecosystem)
        yield sig.id, ("signatures", i), sig


def _whole_file(parsed: Any, _: Path) -> Iterator[Entry]:
    yield parsed.rule if isinstance(parsed, files.RuleTestFile) else parsed.id, (), parsed


def _check_fact(entry: Entry, path: Path, located: Located) -> list[tuple[int, str]]:
    name, loc, _ = entry
    line = located.line_of(loc)
    problems = []
    if not FACT_NAME.match(name):
        problems.append((line, f"fact name '{name}' must be dotted lower case, like 'tcp.connect'"))
    if name.startswith("answer."):
        problems.append((line, f"'{name}': answer.* facts come from questions; declare the question instead"))
    return problems


def _check_rule_file(entry: Entry, path: Path, located: Located) -> list[tuple[int, str]]:
    ident = entry[0]
    if ident == path.stem:
        return []
    return [
        (
            located.line_of(("id",)),
            f"rule id '{ident}' does not match its file name; "
            f"rename the file to '{ident}.yaml' or the id to '{path.stem}'",
        )
    ]


def _check_test_file(entry: Entry, path: Path, located: Located) -> list[tuple[int, str]]:
    ident = entry[0]
    if path.name == f"{ident}.test.yaml":
        return []
    return [(located.line_of(("rule",)), f"test file for rule '{ident}' must be named '{ident}.test.yaml'")]


KINDS: tuple[Kind, ...] = (
    Kind("fact", _file("facts.yaml"), files.FactsFile, "facts", _mapping("facts"), _check_fact),
    Kind("ports", _file("ports.yaml"), files.PortsFile, "ports"),
    Kind("provider", _file("providers.yaml"), files.ProvidersFile, "providers", _listed("providers")),
    Kind("dnschecks", _file("dnschecks.yaml"), s.DnsChecksFile, "dnschecks"),
    Kind("status codes", _file("status-codes.yaml"), s.StatusCodesFile, "status_codes"),
    Kind("finding", _file("findings.yaml"), files.FindingsFile, "findings", _mapping("findings")),
    Kind("rule", _glob("rules", recursive=True, tests=False), s.RuleSpec, "rules", _whole_file, _check_rule_file),
    Kind(
        "rule test",
        _glob("rules", recursive=True, tests=True),
        files.RuleTestFile,
        "rule_tests",
        _whole_file,
        _check_test_file,
        for_runs=False,
    ),
    Kind("question", _glob("questions"), files.QuestionsFile, "questions", _listed("questions")),
    Kind("signature", _glob("signatures"), files.SignaturesFile, "signatures", _signatures),
    Kind("scenario", _glob("scenarios"), files.ScenariosFile, "scenarios", _listed("scenarios"), for_runs=False),
)


def load_knowledge(extra_dirs: Iterable[Path] = (), *, base: Path | None = None, tests: bool = True) -> Knowledge:
    """Read the shipped knowledge and each extra directory over it; raise KnowledgeInvalid.

    tests=False leaves out rule tests and scenarios, and lint's checks of them: what a run needs.
    """
    from engine.knowledge.lint import lint  # lint pulls in jinja2; only loading from files needs it

    reader = Reader()
    kinds = [kind for kind in KINDS if tests or kind.for_runs]
    reader.failed |= {kind.name for kind in KINDS if kind not in kinds}
    kb = Knowledge()
    for root in [base or shipped_root(), *extra_dirs]:
        if not root.is_dir():
            reader.problem(root, 1, "knowledge directory not found (check the --knowledge path)")
            continue
        kb.roots.append(root)
        load_layer(root, reader, kb, kinds)
    add_backbone(kb)
    lint(kb, reader)
    if reader.problems:
        raise KnowledgeInvalid(reader.problems)
    return kb


def load_layer(root: Path, reader: Reader, kb: Knowledge, kinds: Iterable[Kind] = KINDS) -> None:
    """One directory; an id it shares with an earlier layer replaces that entry."""
    seen_here: dict[tuple[str, str], Where] = {}
    for kind in kinds:
        for path in kind.files(root):
            parsed, located = reader.parse(path, kind.model, kind.name)
            if parsed is None or located is None:
                continue
            if kind.entries is None:
                whole = list(parsed.ports) if isinstance(parsed, files.PortsFile) else parsed
                setattr(kb, kind.store, whole)  # a later layer's table replaces the whole file
                kb.where[(kind.name, "")] = Where(located.path, 1, located, ())
                continue
            store = getattr(kb, kind.store)
            for entry in kind.entries(parsed, path):
                ident, loc, value = entry
                for line, message in kind.check(entry, path, located) if kind.check else []:
                    reader.problem(path, line, message)
                key = (kind.name, ident)
                here = Where(located.path, located.line_of(loc), located, loc)
                if key in seen_here:
                    first = seen_here[key]
                    reader.problem(
                        here.path, here.line, f"duplicate {kind.name} id '{ident}' (first defined at {first})"
                    )
                seen_here[key] = kb.where[key] = here
                store[ident] = value


def add_backbone(kb: Knowledge) -> None:
    """Rules from the status-code table; a rule file with the same id wins over a generated one."""
    if kb.status_codes is None:
        return
    for rule, where in backbone_rules(kb.status_codes, kb.where[("status codes", "")]):
        if rule.id not in kb.rules:
            kb.rules[rule.id] = rule
            kb.where[("rule", rule.id)] = where
            kb.generated.add(rule.id)


_validators: dict[type[Any], TypeAdapter[Any]] = {}


def validator(model: type[M]) -> TypeAdapter[M]:
    """pydantic's validator of a schema dataclass, built the first time a file of its kind is read."""
    if model not in _validators:
        _validators[model] = TypeAdapter(model)
    return _validators[model]


# --- explaining validation errors ------------------------------------------------------------


def _keys(model: type[Any]) -> list[str]:
    """The YAML keys of a schema dataclass, in declaration order."""
    return [s.yaml_key(f.name) for f in dataclasses.fields(model)]


def _shape(model: type[Any]) -> str:
    return f"a mapping with {', '.join(_keys(model))}"


def _explain(err: Any, model: type[Any]) -> str:
    loc = [str(p) for p in err["loc"] if p not in TAGS]
    where = ".".join(loc)
    kind = err["type"]
    if kind in ("extra_forbidden", "unexpected_keyword_argument"):
        # The key as written, even one spelled like a union's tag ("<any>"), which loc drops.
        key = str(err["loc"][-1])
        allowed = _allowed_keys(model, err["loc"][:-1])
        hint = did_you_mean(key, allowed)
        listing = f"; allowed here: {', '.join(allowed)}" if allowed else ""
        return f"unknown key '{key}'{hint}{listing}"
    if kind in ("missing", "missing_keyword_argument"):
        return f"missing key '{where}'"
    msg = err["msg"]
    msg = msg.removeprefix("Value error, ")
    return f"{where}: {msg}" if where else msg


def _allowed_keys(model: type[Any], loc: tuple[Any, ...]) -> list[str]:
    """Keys of the dataclass that the location points into, for a did-you-mean."""
    tag_models: dict[str, type[Any]] = {
        "<all>": s.AllOf,
        "<any>": s.AnyOf,
        "<not>": s.NotOf,
        "<fact>": s.FactTest,
        "<finding>": s.FindingTest,
        "<reply>": s.ReplyTest,
    }
    current: type[Any]
    if loc and loc[-1] in tag_models:
        current = tag_models[loc[-1]]
    else:
        current = model
        for part in loc:
            hints = typing.get_type_hints(current)
            names = {s.yaml_key(name): name for name in hints}
            if isinstance(part, str) and part in names:
                inner = _model_in(hints[names[part]])
                if inner is not None:
                    current = inner
    return _keys(current)


def _model_in(annotation: Any) -> type[Any] | None:
    if isinstance(annotation, type) and dataclasses.is_dataclass(annotation):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None
