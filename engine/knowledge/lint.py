"""Checks that need the whole knowledge base: names, types, regexes, templates, tests."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from engine.facts import REPLY_PREFIX
from engine.knowledge import files
from engine.knowledge import schema as s
from engine.knowledge.model import Knowledge, Problem, Where, did_you_mean

if TYPE_CHECKING:
    from engine.knowledge.load import Reader


def fact_calls(tree: Any) -> Iterator[str | None]:
    """The fact named by each fact('...') call of a parsed sentence; None for a call that names none."""
    from jinja2 import nodes

    for call in tree.find_all(nodes.Call):
        if isinstance(call.node, nodes.Name) and call.node.name == "fact":
            first = call.args[0] if call.args else None
            yield first.value if isinstance(first, nodes.Const) and isinstance(first.value, str) else None


def sentence_facts(text: str) -> set[str]:
    """The facts a knowledge sentence fills in (none if it does not parse: lint reports that)."""
    import jinja2

    try:
        tree = jinja2.Environment().parse(text)
    except jinja2.TemplateSyntaxError:
        return set()
    return {name for name in fact_calls(tree) if name is not None}


def lint(kb: Knowledge, reader: Reader) -> None:
    """Checks that need the whole knowledge base: names, types, regexes, templates, tests."""
    _Linter(kb, reader).run()


class _Linter:
    def __init__(self, kb: Knowledge, reader: Reader):
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
            for i, step in enumerate(finding.fix):
                self.check_step(step, where.sub("fix", i), f"finding '{ident}' fix step")
            for eco in finding.text_silent:
                if eco not in s.ECOSYSTEMS:
                    hint = did_you_mean(eco, s.ECOSYSTEMS)
                    self.problem(
                        where.sub("text_silent", eco),
                        f"finding '{ident}': unknown ecosystem '{eco}'{hint}; one of {', '.join(s.ECOSYSTEMS)}",
                    )
        if self.complete("rule"):
            from engine.knowledge.graph import unreachable_findings

            for ident in unreachable_findings(self.kb):
                self.problem(
                    self.at("finding", ident),
                    f"finding '{ident}' is unreachable: no rule concludes it; add a rule in knowledge/rules/ "
                    f"with 'finding: {ident}', or remove the finding",
                )
        for ident, rule in self.kb.rules.items():
            where = self.at("rule", ident)
            if rule.finding not in self.kb.findings and self.complete("finding"):
                hint = did_you_mean(rule.finding, self.kb.findings)
                self.problem(
                    where.sub("finding"),
                    f"unknown finding '{rule.finding}'{hint}; findings are declared in findings.yaml",
                )
            self.check_condition(rule.when, where.sub("when"))
            if rule.contact is not None:
                self.check_contact(rule.contact, where.sub("contact"), f"rule '{ident}'")
            if rule.message:
                self.check_template(rule.message, where.sub("message"), f"rule '{ident}' message")
            for i, step in enumerate(rule.fix):
                self.check_step(step, where.sub("fix", i), f"rule '{ident}' fix step")
            self.check_rule_tests(ident, where)
        for ident, tests in self.kb.rule_tests.items():
            where = self.at("rule test", ident)
            if ident not in self.kb.rules and self.complete("rule"):
                self.problem(where, f"test file for unknown rule '{ident}'{did_you_mean(ident, self.kb.rules)}")
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
            hint = did_you_mean(name, self.kb.known_fact_names())
            self.problem(where, f"unknown fact '{name}'{hint}; facts are declared in facts.yaml")
        return spec

    def check_value(self, name: str, spec: s.FactSpec, value: Any, where: Where) -> None:
        expected: dict[str, tuple[type, ...]] = {"str": (str,), "int": (int,), "float": (int, float), "bool": (bool,)}
        types = expected[spec.type]
        if (isinstance(value, bool) and spec.type != "bool") or not isinstance(value, types):
            self.problem(where, f"fact '{name}' is {spec.type}, but {value!r} is {type(value).__name__}")
            return
        if spec.choices is not None and isinstance(value, str) and value not in spec.choices:
            hint = did_you_mean(value, spec.choices)
            self.problem(where, f"'{value}' is not a value of '{name}'{hint}; choices: {', '.join(spec.choices)}")

    def check_fact_values(self, facts: dict[str, Any], where: Where, what: str) -> None:
        for name, value in facts.items():
            spec = self.check_fact_name(name, where.sub(name))
            if spec is not None:
                self.check_value(name, spec, value, where.sub(name))
                self.check_provider_value(name, value, where.sub(name))

    def check_condition(self, cond: Any, where: Where, in_reply: bool = False) -> None:
        if isinstance(cond, s.AllOf):
            for i, c in enumerate(cond.all):
                self.check_condition(c, where.sub("all", i), in_reply)
        elif isinstance(cond, s.AnyOf):
            for i, c in enumerate(cond.any):
                self.check_condition(c, where.sub("any", i), in_reply)
        elif isinstance(cond, s.NotOf):
            self.check_condition(cond.not_, where.sub("not"), in_reply)
        elif isinstance(cond, s.ReplyTest):
            if in_reply:
                self.problem(where.sub("reply"), "a reply test cannot hold another reply test")
            self.check_condition(cond.reply, where.sub("reply"), in_reply=True)
        elif in_reply and not isinstance(cond, s.FactTest):
            self.problem(where, "inside a reply test only reply.* facts can be tested")
        elif in_reply and isinstance(cond, s.FactTest) and not cond.fact.startswith(REPLY_PREFIX):
            self.problem(
                where.sub("fact"),
                f"inside a reply test only reply.* facts can be tested; move '{cond.fact}' outside the reply test",
            )
        elif isinstance(cond, s.FindingTest):
            if cond.finding not in self.kb.findings and self.complete("finding"):
                self.problem(
                    where.sub("finding"),
                    f"unknown finding '{cond.finding}'{did_you_mean(cond.finding, self.kb.findings)}",
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
                            f"'{contact.by}'{did_you_mean(value, spec.choices)}",
                        )

    def check_regex(self, pattern: str, where: Where, flags: int = 0) -> re.Pattern[str] | None:
        try:
            return re.compile(pattern, flags)
        except re.error as exc:
            self.problem(where, f"bad regex {pattern!r}: {exc}")
            return None

    def check_step(self, step: s.FixStep, where: Where, what: str) -> None:
        if isinstance(step, s.ConditionalStep):
            self.check_condition(step.when, where.sub("when"))
            self.check_template(step.text, where.sub("text"), what)
        else:
            self.check_template(step, where, what)

    def check_template(self, text: str, where: Where, what: str) -> None:
        """Wording fills in values only: no decisions, and every fact it names is declared."""
        from jinja2 import nodes

        try:
            tree = self.jinja.parse(text)
        except self.template_error as exc:
            self.problem(where, f"{what}: template error: {exc.message}")
            return
        statements = any(not isinstance(node, (nodes.Output, nodes.TemplateData)) for node in tree.body)
        if statements or any(True for _ in tree.find_all(nodes.CondExpr)):
            self.problem(
                where,
                f"{what}: a decision ('{{% ... %}}') does not belong in wording; write the step as "
                "'when: <condition>' with 'text: ...', or use \"| aside\" for a value shown only when known",
            )
        for name in fact_calls(tree):
            if name is None:
                self.problem(where, f"{what}: fact() takes a fact name in quotes, like fact('config.host')")
                continue
            self.check_fact_name(name, where)

    def check_rule_tests(self, ident: str, where: Where) -> None:
        if ident in self.kb.generated:
            return  # the table's rows are tested as a table (tests/test_status_codes.py)
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
        compiled = self.check_regex(sig.pattern, where.sub("pattern"), re.IGNORECASE if sig.ignore_case else 0)
        for name, value in sig.facts.items():
            spec = self.check_fact_name(name, where.sub("facts", name))
            refs = s.GROUP_REF_IN.findall(value) if isinstance(value, str) else []
            for group in refs:
                if compiled is not None and group not in compiled.groupindex:
                    self.problem(
                        where,
                        f"signature '{ident}': fact '{name}' takes group '{group}', which the pattern does not define",
                    )
            if not refs and spec is not None:
                self.check_value(name, spec, value, where.sub("facts", name))
        if compiled is None:
            return
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

    def check_scenario(self, ident: str, sc: files.Scenario) -> None:
        where = self.at("scenario", ident)
        self.check_fact_values(sc.facts, where.sub("facts"), f"scenario '{ident}'")
        for qid, answer in sc.answers.items():
            here = where.sub("answers", qid)
            question = self.kb.questions.get(qid)
            if question is None:
                if self.complete("question"):
                    self.problem(
                        here, f"scenario '{ident}': unknown question '{qid}'{did_you_mean(qid, self.kb.questions)}"
                    )
                continue
            allowed = question.allowed_answers()
            if allowed is not None and str(answer) not in allowed and question.alias_of(str(answer)) is None:
                self.problem(
                    here, f"scenario '{ident}': '{answer}' is not an answer to '{qid}'; answers: {', '.join(allowed)}"
                )
        expect = sc.expect
        for key, fid in (
            ("relabelled", sc.relabelled.was if sc.relabelled else ""),
            ("first_seen", sc.first_seen.finding if sc.first_seen else ""),
        ):
            if fid and fid not in self.kb.findings and self.complete("finding"):
                self.problem(
                    where.sub(key), f"scenario '{ident}': unknown finding '{fid}'{did_you_mean(fid, self.kb.findings)}"
                )
        named = [("first", expect.first or "")]
        named += [(key, fid) for key in ("findings", "absent", "contacts") for fid in getattr(expect, key)]
        for key, fid in named:
            if fid and fid not in self.kb.findings and self.complete("finding"):
                self.problem(
                    where.sub("expect", key),
                    f"scenario '{ident}': unknown finding '{fid}'{did_you_mean(fid, self.kb.findings)}",
                )
        for qid in expect.asks:
            if qid not in self.kb.questions and self.complete("question"):
                self.problem(
                    where.sub("expect", "asks"),
                    f"scenario '{ident}': unknown question '{qid}'{did_you_mean(qid, self.kb.questions)}",
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
                f"'{value}' is not a {kind} in providers.yaml{did_you_mean(value, ids)}; {kind}s: "
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
                    f"'{fid}'{did_you_mean(fid, self.kb.findings)}; findings are declared in findings.yaml",
                )
            for i, step in enumerate(steps):
                self.check_step(step, where.sub("remediation", fid, i), f"provider '{ident}' remediation step")
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
