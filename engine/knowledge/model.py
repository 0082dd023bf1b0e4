"""The merged knowledge base and the places its entries came from."""

from __future__ import annotations

from collections.abc import Iterable, MutableMapping
from dataclasses import field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from engine.knowledge import schema as s
from engine.values import frozen, record

if TYPE_CHECKING:
    # Parsed YAML is kept only while loading, and rule tests and scenarios only for `knowledge
    # test`: a cached base never needs the parser or those shapes.
    from engine.knowledge import files
    from engine.knowledge.yamlfile import Located


@frozen
class Problem:
    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{display(self.path)}:{self.line}: {self.message}"


class KnowledgeInvalid(Exception):
    """Raised with every problem found, so one run shows them all."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(set(problems), key=lambda p: (str(p.path), p.line, p.message))
        super().__init__("\n".join(str(p) for p in self.problems))


@frozen
class Where:
    """A place in a knowledge file; sub() narrows it to a key inside, for exact lines."""

    path: Path
    line: int
    located: Located | None = field(default=None, compare=False, repr=False)
    loc: tuple[str | int, ...] = ()

    def sub(self, *parts: str | int) -> Where:
        if self.located is None:
            return self
        loc = self.loc + parts
        return Where(self.path, self.located.line_of(loc), self.located, loc)

    def __str__(self) -> str:
        return f"{display(self.path)}:{self.line}"


# eq=False: a knowledge base is compared and hashed by identity, so what is derived from it can
# be cached per instance (engine.knowledge.prepared) and dropped when it goes.
@record(eq=False)
class Knowledge:
    """The merged knowledge base: shipped files first, each --knowledge directory layered over."""

    roots: list[Path] = field(default_factory=list)
    facts: dict[str, s.FactSpec] = field(default_factory=dict)
    findings: dict[str, s.FindingSpec] = field(default_factory=dict)
    rules: dict[str, s.RuleSpec] = field(default_factory=dict)
    rule_tests: dict[str, files.RuleTestFile] = field(default_factory=dict)
    questions: dict[str, s.QuestionSpec] = field(default_factory=dict)
    signatures: dict[str, s.SignatureSpec] = field(default_factory=dict)
    scenarios: dict[str, files.Scenario] = field(default_factory=dict)
    ports: list[s.PortSpec] = field(default_factory=list)
    providers: dict[str, s.ProviderSpec] = field(default_factory=dict)
    dnschecks: s.DnsChecksFile | None = None
    status_codes: s.StatusCodesFile | None = None
    # A dict while loading; from the cache, a mapping that unpickles the places when first asked.
    where: MutableMapping[tuple[str, str], Where] = field(default_factory=dict)
    # Rules made from knowledge tables (the status-code backbone) rather than written one per file.
    generated: set[str] = field(default_factory=set)
    # What the cache adds so a warm run need not work it out again (pattern analysis, what the
    # conditions read), each under its own key: filled by the `derive` given to cached_knowledge.
    derived: dict[str, Any] = field(default_factory=dict)

    def fact_spec(self, name: str) -> s.FactSpec | None:
        """Declared facts plus answer.<id> for every question."""
        if name in self.facts:
            return self.facts[name]
        if name.startswith("answer."):
            question = self.questions.get(name.removeprefix("answer."))
            if question is not None:
                return answer_fact_spec(question)
        return None

    def known_fact_names(self) -> list[str]:
        return sorted(self.facts) + [f"answer.{q}" for q in sorted(self.questions)]


def answer_fact_spec(question: s.QuestionSpec) -> s.FactSpec:
    allowed = question.allowed_answers()
    kind: Literal["float", "str"] = "float" if question.kind == "number" else "str"
    return s.FactSpec(type=kind, description=question.text, choices=allowed)


def display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    import difflib  # only when something is misspelt

    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def shipped_root() -> Path:
    """knowledge/ inside the installed wheel, or at the top of a source checkout."""
    packaged = Path(__file__).resolve().parent.parent / "_data" / "knowledge"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent.parent / "knowledge"
