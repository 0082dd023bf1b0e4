"""Load, layer and validate the knowledge base; every problem is reported as path:line: message."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ValidationError

from engine.facts import FACT_NAME
from engine.knowledge import schema as s
from engine.knowledge.yamlfile import Located, YamlError, load

M = TypeVar("M", bound=BaseModel)
TAGS = set(s.CONDITION_TAGS.values())


@dataclass(frozen=True)
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


@dataclass(frozen=True)
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


@dataclass
class Knowledge:
    """The merged knowledge base: shipped files first, each --knowledge directory layered over."""

    roots: list[Path] = field(default_factory=list)
    facts: dict[str, s.FactSpec] = field(default_factory=dict)
    findings: dict[str, s.FindingSpec] = field(default_factory=dict)
    rules: dict[str, s.RuleSpec] = field(default_factory=dict)
    rule_tests: dict[str, s.RuleTestFile] = field(default_factory=dict)
    questions: dict[str, s.QuestionSpec] = field(default_factory=dict)
    signatures: dict[str, s.SignatureSpec] = field(default_factory=dict)
    scenarios: dict[str, s.Scenario] = field(default_factory=dict)
    ports: list[s.PortSpec] = field(default_factory=list)
    providers: dict[str, s.ProviderSpec] = field(default_factory=dict)
    dnschecks: s.DnsChecksFile | None = None
    where: dict[tuple[str, str], Where] = field(default_factory=dict)

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
    kind = "float" if question.kind == "number" else "str"
    return s.FactSpec(type=kind, description=question.text, choices=allowed)


def display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def shipped_root() -> Path:
    """knowledge/ inside the installed wheel, or at the top of a source checkout."""
    packaged = Path(__file__).resolve().parent.parent / "_data" / "knowledge"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent.parent / "knowledge"


# --- loading ----------------------------------------------------------------------------------


class _Reader:
    """Parses files into models, collecting problems instead of stopping at the first."""

    KINDS: ClassVar[dict[str, str]] = {
        "FactsFile": "fact",
        "FindingsFile": "finding",
        "RuleSpec": "rule",
        "RuleTestFile": "rule test",
        "QuestionsFile": "question",
        "SignaturesFile": "signature",
        "ScenariosFile": "scenario",
        "PortsFile": "ports",
        "ProvidersFile": "provider",
        "DnsChecksFile": "dnschecks",
    }

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        # Kinds of file that failed to parse: cross-checks against them would only echo that.
        self.failed: set[str] = set()

    def problem(self, path: Path, line: int, message: str) -> None:
        self.problems.append(Problem(path, line, message))

    def parse(self, path: Path, model: type[M]) -> tuple[M | None, Located | None]:
        parsed, located = self._parse(path, model)
        if parsed is None:
            self.failed.add(self.KINDS[model.__name__])
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
            return model.model_validate(located.data), located
        except ValidationError as exc:
            for err in exc.errors():
                self.problem(path, located.line_of(err["loc"]), _explain(err, model))
            return None, located


def _shape(model: type[BaseModel]) -> str:
    keys = ", ".join(model.model_fields)
    return f"a mapping with {keys}"


def _explain(err: Any, model: type[BaseModel]) -> str:
    loc = [str(p) for p in err["loc"] if p not in TAGS]
    where = ".".join(loc)
    kind = err["type"]
    if kind == "extra_forbidden":
        allowed = _allowed_keys(model, err["loc"][:-1])
        hint = _did_you_mean(loc[-1], allowed)
        listing = f"; allowed here: {', '.join(allowed)}" if allowed else ""
        return f"unknown key '{loc[-1]}'{hint}{listing}"
    if kind == "missing":
        return f"missing key '{where}'"
    msg = err["msg"]
    msg = msg.removeprefix("Value error, ")
    return f"{where}: {msg}" if where else msg


def _allowed_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """Field names of the model that the location points into, for a did-you-mean."""
    tag_models = {
        "<all>": s.AllOf,
        "<any>": s.AnyOf,
        "<not>": s.NotOf,
        "<fact>": s.FactTest,
        "<finding>": s.FindingTest,
    }
    if loc and loc[-1] in tag_models:
        current: type[BaseModel] = tag_models[loc[-1]]
    else:
        current = model
        for part in loc:
            if isinstance(part, str) and part in current.model_fields:
                annotation = current.model_fields[part].annotation
                inner = _model_in(annotation)
                if inner is not None:
                    current = inner
    return [f.alias or name for name, f in current.model_fields.items()]


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _did_you_mean(word: str, candidates: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def load_knowledge(extra_dirs: Iterable[Path] = (), *, base: Path | None = None, cached: bool = False) -> Knowledge:
    """Read the shipped knowledge and each extra directory over it; raise KnowledgeInvalid.

    cached=True reuses a validated copy of unchanged files (see kbcache); lint never does.
    """
    roots = [base or shipped_root(), *extra_dirs]
    if cached and all(root.is_dir() for root in roots):
        from engine.knowledge import cache as kbcache

        found = kbcache.load(roots)
        if found is not None:
            return found
        kb = load_knowledge(roots[1:], base=roots[0])
        kbcache.store(kb)
        return kb
    reader = _Reader()
    kb = Knowledge()
    for root in roots:
        if not root.is_dir():
            reader.problem(root, 1, "knowledge directory not found (check the --knowledge path)")
            continue
        kb.roots.append(root)
        _load_layer(root, reader, kb)
    lint(kb, reader)
    if reader.problems:
        raise KnowledgeInvalid(reader.problems)
    return kb


def _load_layer(root: Path, reader: _Reader, kb: Knowledge) -> None:
    """One directory; an id it shares with an earlier layer replaces that entry."""
    seen_here: dict[tuple[str, str], Where] = {}

    def claim(kind: str, ident: str, located: Located, loc: tuple[str | int, ...]) -> None:
        key = (kind, ident)
        here = Where(located.path, located.line_of(loc), located, loc)
        if key in seen_here:
            reader.problem(here.path, here.line, f"duplicate {kind} id '{ident}' (first defined at {seen_here[key]})")
        seen_here[key] = here
        kb.where[key] = here

    facts_file = root / "facts.yaml"
    if facts_file.exists():
        parsed, located = reader.parse(facts_file, s.FactsFile)
        if parsed and located:
            for name, spec in parsed.facts.items():
                line = located.line_of(("facts", name))
                if not FACT_NAME.match(name):
                    reader.problem(
                        facts_file, line, f"fact name '{name}' must be dotted lower case, like 'tcp.connect'"
                    )
                if name.startswith("answer."):
                    reader.problem(
                        facts_file, line, f"'{name}': answer.* facts come from questions; declare the question instead"
                    )
                claim("fact", name, located, ("facts", name))
                kb.facts[name] = spec

    ports_file = root / "ports.yaml"
    if ports_file.exists():
        parsed_ports, _ = reader.parse(ports_file, s.PortsFile)
        if parsed_ports:
            kb.ports = list(parsed_ports.ports)  # a later layer's table replaces the whole list

    providers_file = root / "providers.yaml"
    if providers_file.exists():
        parsed_pr, located = reader.parse(providers_file, s.ProvidersFile)
        if parsed_pr and located:
            for i, provider in enumerate(parsed_pr.providers):
                claim("provider", provider.id, located, ("providers", i))
                kb.providers[provider.id] = provider

    dnschecks_file = root / "dnschecks.yaml"
    if dnschecks_file.exists():
        parsed_checks, _ = reader.parse(dnschecks_file, s.DnsChecksFile)
        if parsed_checks:
            kb.dnschecks = parsed_checks  # like ports.yaml: a later layer replaces the whole file

    findings_file = root / "findings.yaml"
    if findings_file.exists():
        parsed, located = reader.parse(findings_file, s.FindingsFile)
        if parsed and located:
            for ident, spec in parsed.findings.items():
                claim("finding", ident, located, ("findings", ident))
                kb.findings[ident] = spec

    for path in sorted((root / "rules").rglob("*.yaml")):
        if path.name.endswith(".test.yaml"):
            parsed_test, located = reader.parse(path, s.RuleTestFile)
            if parsed_test and located:
                expected = path.name.removesuffix(".test.yaml")
                if parsed_test.rule != expected:
                    reader.problem(
                        path,
                        located.line_of(("rule",)),
                        f"test file for rule '{parsed_test.rule}' must be named '{parsed_test.rule}.test.yaml'",
                    )
                claim("rule test", parsed_test.rule, located, ())
                kb.rule_tests[parsed_test.rule] = parsed_test
            continue
        rule, located = reader.parse(path, s.RuleSpec)
        if rule and located:
            if rule.id != path.stem:
                reader.problem(
                    path,
                    located.line_of(("id",)),
                    f"rule id '{rule.id}' does not match its file name; rename the file to '{rule.id}.yaml' or the id "
                    f"to '{path.stem}'",
                )
            claim("rule", rule.id, located, ())
            kb.rules[rule.id] = rule

    for path in sorted((root / "questions").glob("*.yaml")):
        parsed_q, located = reader.parse(path, s.QuestionsFile)
        if parsed_q and located:
            for i, question in enumerate(parsed_q.questions):
                claim("question", question.id, located, ("questions", i))
                kb.questions[question.id] = question

    for path in sorted((root / "signatures").glob("*.yaml")):
        parsed_sig, located = reader.parse(path, s.SignaturesFile)
        if parsed_sig and located:
            for i, signature in enumerate(parsed_sig.signatures):
                claim("signature", signature.id, located, ("signatures", i))
                kb.signatures[signature.id] = signature

    for path in sorted((root / "scenarios").glob("*.yaml")):
        parsed_sc, located = reader.parse(path, s.ScenariosFile)
        if parsed_sc and located:
            for i, scenario in enumerate(parsed_sc.scenarios):
                claim("scenario", scenario.id, located, ("scenarios", i))
                kb.scenarios[scenario.id] = scenario


def check_backtracking(kb: Knowledge) -> list[Problem]:
    """Signature patterns that are slow on a long, nearly matching line (run by `knowledge lint`)."""
    from engine.knowledge import redos

    jobs = [
        (ident, sig.pattern, re.IGNORECASE if sig.ignore_case else 0, sig.examples.match)
        for ident, sig in kb.signatures.items()
    ]
    problems = []
    for slow in redos.find_slow(jobs):
        where = kb.where[("signature", slow.ident)].sub("pattern")
        took = f"over {slow.seconds:g} s" if slow.seconds >= redos.HANG_SECONDS else f"{slow.seconds * 1000:.0f} ms"
        problems.append(
            Problem(
                where.path,
                where.line,
                (
                    f"signature '{slow.ident}' backtracks catastrophically: {took} on a "
                    f"{redos.LINE // 1024} KB line starting {slow.sample[:40]!r} (limit "
                    f"{redos.LIMIT_SECONDS * 1000:.0f} ms); "
                    "avoid nested or adjacent quantifiers over the same characters"
                ),
            )
        )
    return problems


# --- cross-file checks ------------------------------------------------------------------------

GROUP_REF = re.compile(r"^\{([A-Za-z_][A-Za-z0-9_]*)\}$")


def lint(kb: Knowledge, reader: _Reader) -> None:
    """Checks that need the whole knowledge base: names, types, regexes, templates, tests."""
    _Linter(kb, reader).run()


class _Linter:
    def __init__(self, kb: Knowledge, reader: _Reader):
        import jinja2  # lint only; a run from the cache never needs it here

        self.kb = kb
        self.reader = reader
        self.jinja = jinja2.Environment()
        self.template_error = jinja2.TemplateSyntaxError

    def complete(self, kind: str) -> bool:
        """Every file of this kind parsed, so a name missing from them is really missing."""
        return kind not in self.reader.failed

    def at(self, kind: str, ident: str) -> Where:
        return self.kb.where[(kind, ident)]

    def problem(self, where: Where, message: str) -> None:
        self.reader.problem(where.path, where.line, message)

    def run(self) -> None:
        for ident, finding in self.kb.findings.items():
            where = self.at("finding", ident)
            self.check_contact(finding.contact, where.sub("contact"), f"finding '{ident}'")
            self.check_template(finding.summary, where.sub("summary"), f"finding '{ident}' summary")
            for i, text in enumerate(finding.fix):
                self.check_template(text, where.sub("fix", i), f"finding '{ident}' fix step")
        for ident, rule in self.kb.rules.items():
            where = self.at("rule", ident)
            if rule.finding not in self.kb.findings and self.complete("finding"):
                hint = _did_you_mean(rule.finding, self.kb.findings)
                self.problem(
                    where.sub("finding"),
                    f"unknown finding '{rule.finding}'{hint}; findings are declared in findings.yaml",
                )
            self.check_condition(rule.when, where.sub("when"))
            if rule.contact is not None:
                self.check_contact(rule.contact, where.sub("contact"), f"rule '{ident}'")
            if rule.message:
                self.check_template(rule.message, where.sub("message"), f"rule '{ident}' message")
            for i, text in enumerate(rule.fix):
                self.check_template(text, where.sub("fix", i), f"rule '{ident}' fix step")
            self.check_rule_tests(ident, where)
        for ident, tests in self.kb.rule_tests.items():
            where = self.at("rule test", ident)
            if ident not in self.kb.rules and self.complete("rule"):
                self.problem(where, f"test file for unknown rule '{ident}'{_did_you_mean(ident, self.kb.rules)}")
            for i, case in enumerate(tests.cases):
                self.check_fact_values(case.facts, where.sub("cases", i, "facts"), f"case '{case.name}'")
        for ident, question in self.kb.questions.items():
            self.check_condition(question.when, self.at("question", ident).sub("when"))
        for ident, signature in self.kb.signatures.items():
            self.check_signature(ident, signature)
        for ident, scenario in self.kb.scenarios.items():
            self.check_scenario(ident, scenario)
        for ident, provider in self.kb.providers.items():
            self.check_provider(ident, provider)

    # names and values

    def check_fact_name(self, name: str, where: Where) -> s.FactSpec | None:
        spec = self.kb.fact_spec(name)
        if spec is None and (
            not self.complete("fact") or (name.startswith("answer.") and not self.complete("question"))
        ):
            return None  # the declaring file failed to parse; its own error says why
        if spec is None:
            hint = _did_you_mean(name, self.kb.known_fact_names())
            self.problem(where, f"unknown fact '{name}'{hint}; facts are declared in facts.yaml")
        return spec

    def check_value(self, name: str, spec: s.FactSpec, value: Any, where: Where) -> None:
        expected = {"str": str, "int": int, "float": (int, float), "bool": bool}[spec.type]
        if (isinstance(value, bool) and spec.type != "bool") or not isinstance(value, expected):
            self.problem(where, f"fact '{name}' is {spec.type}, but {value!r} is {type(value).__name__}")
            return
        if spec.choices is not None and isinstance(value, str) and value not in spec.choices:
            hint = _did_you_mean(value, spec.choices)
            self.problem(where, f"'{value}' is not a value of '{name}'{hint}; choices: {', '.join(spec.choices)}")

    def check_fact_values(self, facts: dict[str, Any], where: Where, what: str) -> None:
        for name, value in facts.items():
            spec = self.check_fact_name(name, where.sub(name))
            if spec is not None:
                self.check_value(name, spec, value, where.sub(name))
                self.check_provider_value(name, value, where.sub(name))

    def check_condition(self, cond: Any, where: Where) -> None:
        if isinstance(cond, s.AllOf):
            for i, c in enumerate(cond.all):
                self.check_condition(c, where.sub("all", i))
        elif isinstance(cond, s.AnyOf):
            for i, c in enumerate(cond.any):
                self.check_condition(c, where.sub("any", i))
        elif isinstance(cond, s.NotOf):
            self.check_condition(cond.not_, where.sub("not"))
        elif isinstance(cond, s.FindingTest):
            if cond.finding not in self.kb.findings and self.complete("finding"):
                self.problem(
                    where.sub("finding"),
                    f"unknown finding '{cond.finding}'{_did_you_mean(cond.finding, self.kb.findings)}",
                )
        elif isinstance(cond, s.FactTest):
            spec = self.check_fact_name(cond.fact, where.sub("fact"))
            if spec is None:
                return
            op = cond.operator
            where = where.sub(op)
            if op == "equals":
                self.check_value(cond.fact, spec, cond.equals, where)
                self.check_provider_value(cond.fact, cond.equals, where)
            elif op == "one_of":
                for value in cond.one_of or []:
                    self.check_value(cond.fact, spec, value, where)
                    self.check_provider_value(cond.fact, value, where)
            elif op == "matches":
                if spec.type != "str":
                    self.problem(where, f"'matches' needs a text fact; '{cond.fact}' is {spec.type}")
                self.check_regex(cond.matches or "", where)
            elif op in ("gt", "ge", "lt", "le") and spec.type not in ("int", "float"):
                self.problem(where, f"'{op}' needs a number fact; '{cond.fact}' is {spec.type}")

    def check_contact(self, contact: Any, where: Where, what: str) -> None:
        if isinstance(contact, s.Routing):
            spec = self.check_fact_name(contact.by, where.sub("by"))
            if spec is not None and spec.choices is not None:
                for value in contact.cases:
                    if value not in spec.choices:
                        self.problem(
                            where,
                            f"{what}: routing case '{value}' is not a value of "
                            f"'{contact.by}'{_did_you_mean(value, spec.choices)}",
                        )

    def check_regex(self, pattern: str, where: Where) -> re.Pattern[str] | None:
        try:
            return re.compile(pattern)
        except re.error as exc:
            self.problem(where, f"bad regex {pattern!r}: {exc}")
            return None

    def check_template(self, text: str, where: Where, what: str) -> None:
        try:
            self.jinja.parse(text)
        except self.template_error as exc:
            self.problem(where, f"{what}: template error: {exc.message}")

    def check_rule_tests(self, ident: str, where: Where) -> None:
        tests = self.kb.rule_tests.get(ident)
        if tests is None and not self.complete("rule test"):
            return
        if tests is None:
            self.problem(
                where,
                f"rule '{ident}' has no test file; add {ident}.test.yaml beside it with a case that fires and one "
                "that must not",
            )
            return
        expects = {c.expect for c in tests.cases if c.todo is None}
        for needed in ("fire", "silent"):
            if needed not in expects:
                self.problem(self.at("rule test", ident), f"rule '{ident}' needs a case with expect: {needed}")

    def check_signature(self, ident: str, sig: s.SignatureSpec) -> None:
        where = self.at("signature", ident)
        compiled = self.check_regex(sig.pattern, where.sub("pattern"))
        for name, value in sig.facts.items():
            spec = self.check_fact_name(name, where.sub("facts", name))
            ref = GROUP_REF.match(value) if isinstance(value, str) else None
            if ref:
                if compiled is not None and ref.group(1) not in compiled.groupindex:
                    self.problem(
                        where,
                        f"signature '{ident}': fact '{name}' takes group '{ref.group(1)}', which the pattern does not "
                        "define",
                    )
            elif spec is not None:
                self.check_value(name, spec, value, where.sub("facts", name))
        if compiled is None:
            return
        flags = re.IGNORECASE if sig.ignore_case else 0
        compiled = re.compile(sig.pattern, flags)
        for i, example in enumerate(sig.examples.match):
            if not compiled.search(example):
                self.problem(
                    where.sub("examples", "match", i), f"signature '{ident}' does not match its example: {example!r}"
                )
        for i, example in enumerate(sig.examples.no_match):
            if compiled.search(example):
                self.problem(
                    where.sub("examples", "no_match", i),
                    f"signature '{ident}' matches its no_match example: {example!r}",
                )

    def check_scenario(self, ident: str, sc: s.Scenario) -> None:
        where = self.at("scenario", ident)
        self.check_fact_values(sc.facts, where.sub("facts"), f"scenario '{ident}'")
        for qid, answer in sc.answers.items():
            here = where.sub("answers", qid)
            question = self.kb.questions.get(qid)
            if question is None:
                if self.complete("question"):
                    self.problem(
                        here, f"scenario '{ident}': unknown question '{qid}'{_did_you_mean(qid, self.kb.questions)}"
                    )
                continue
            allowed = question.allowed_answers()
            if allowed is not None and str(answer) not in allowed:
                self.problem(
                    here, f"scenario '{ident}': '{answer}' is not an answer to '{qid}'; answers: {', '.join(allowed)}"
                )
        expect = sc.expect
        named = [("first", expect.first or "")]
        named += [(key, fid) for key in ("findings", "absent", "contacts") for fid in getattr(expect, key)]
        for key, fid in named:
            if fid and fid not in self.kb.findings and self.complete("finding"):
                self.problem(
                    where.sub("expect", key),
                    f"scenario '{ident}': unknown finding '{fid}'{_did_you_mean(fid, self.kb.findings)}",
                )
        for qid in expect.asks:
            if qid not in self.kb.questions and self.complete("question"):
                self.problem(
                    where.sub("expect", "asks"),
                    f"scenario '{ident}': unknown question '{qid}'{_did_you_mean(qid, self.kb.questions)}",
                )

    # providers.yaml

    def check_provider_value(self, name: str, value: Any, where: Where) -> None:
        """provider.service / provider.software take provider ids of that kind: catch typos."""
        kind = next((k for k, fact in s.PROVIDER_FACT_OF_KIND.items() if fact == name), None)
        if kind is None or not isinstance(value, str) or not self.complete("provider"):
            return
        ids = [i for i, p in self.kb.providers.items() if p.kind == kind]
        if value not in ids:
            self.problem(
                where,
                f"'{value}' is not a {kind} in providers.yaml{_did_you_mean(value, ids)}; {kind}s: "
                f"{', '.join(sorted(ids))}",
            )

    def check_provider(self, ident: str, provider: s.ProviderSpec) -> None:
        where = self.at("provider", ident)
        compiled: dict[str, list[re.Pattern[str]]] = {"hosts": [], "banners": []}
        for key in ("hosts", "banners"):
            for i, pattern in enumerate(getattr(provider, key)):
                regex = self.check_regex(pattern, where.sub(key, i))
                if regex is not None:
                    compiled[key].append(re.compile(pattern, re.IGNORECASE | re.MULTILINE))
        for fid, steps in provider.remediation.items():
            here = where.sub("remediation", fid)
            if fid not in self.kb.findings and self.complete("finding"):
                self.problem(
                    here,
                    f"provider '{ident}': remediation for unknown finding "
                    f"'{fid}'{_did_you_mean(fid, self.kb.findings)}; findings are declared in findings.yaml",
                )
            for i, text in enumerate(steps):
                self.check_template(text, where.sub("remediation", fid, i), f"provider '{ident}' remediation step")
        ex = provider.examples
        for key in ("hosts", "banners"):
            for i, example in enumerate(getattr(ex, key)):
                if not any(r.search(example) for r in compiled[key]):
                    self.problem(
                        where.sub("examples", key, i), f"provider '{ident}' does not recognise its example: {example!r}"
                    )
        for i, example in enumerate(ex.no_match):
            if any(r.search(example) for r in compiled["hosts"] + compiled["banners"]):
                self.problem(
                    where.sub("examples", "no_match", i),
                    f"provider '{ident}' recognises its no_match example: {example!r}",
                )
