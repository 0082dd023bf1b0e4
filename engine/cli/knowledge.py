"""`mailtriage knowledge lint|test|list`: for the people who extend the rules."""

from __future__ import annotations

import argparse
import difflib
from typing import Any

from engine.cli import inputs
from engine.cli.environment import BadInput, Environment, Exit
from engine.knowledge import schema as s
from engine.knowledge.conditions import describe
from engine.knowledge.model import Knowledge, display


class UnknownId(Exception):
    """`knowledge explain` was given an id that names no finding or rule."""


def command(args: argparse.Namespace, env: Environment) -> Exit:
    if args.action == "reference":
        return _reference(env, args.update)
    if args.action == "new":
        return _new(args, env)
    # lint and test always read every file; list and explain may use the cache.
    kb = inputs.knowledge(args, cached=args.action in ("list", "explain"))
    if args.action == "coverage":
        return _coverage(kb, env, args.output)
    if args.action == "graph":
        return _graph(kb, env, args.format, args.output)
    try:
        return Exit(run(args.action, kb, env, getattr(args, "ident", None), getattr(args, "verbose", False)))
    except UnknownId as exc:
        raise BadInput(str(exc)) from None


def run(action: str, kb: Knowledge, env: Any, ident: str | None = None, verbose: bool = False) -> int:
    out = env.stdout
    if action == "explain":
        _explain(kb, ident or "", out)
        return 0
    if action == "lint":
        # Loading already validated everything else; timing patterns is lint's own, slower check.
        from engine.knowledge.lint import check_backtracking
        from engine.knowledge.model import KnowledgeInvalid

        slow = check_backtracking(kb)
        if slow:
            raise KnowledgeInvalid(slow)
        for warning in [*_graph_warnings(kb), *_coverage_warnings(kb)]:
            env.stderr.write(f"{warning}\n")
        roots = ", ".join(display(r) for r in kb.roots)
        out.write(
            f"knowledge OK: {len(kb.rules)} rules, {len(kb.findings)} findings, {len(kb.questions)} questions, "
            f"{len(kb.signatures)} signatures, {len(kb.scenarios)} scenarios, {len(kb.providers)} providers ({roots})\n"
        )
        return 0
    if action == "test":
        from engine.run.verify import check_all, corpus_score

        results = check_all(kb)
        for r in results:
            if r.status != "pass" or verbose:
                # A failure says why on lines of its own; a known gap (todo) only what.
                lines = r.detail.splitlines() if r.failed else r.detail.splitlines()[:1]
                detail = ": " + "\n    ".join(lines) if lines else ""
                todo = f" (todo: {r.todo})" if r.todo else ""
                out.write(f"{r.status} {r.kind} {r.name} [{r.where}]{detail}{todo}\n")
        failed = sum(r.failed for r in results)
        passed = sum(r.passed and r.todo is None for r in results)
        gaps = sum(r.todo is not None for r in results)
        score = corpus_score(kb, results)
        if score.total:
            out.write(score.line() + "\n")
        out.write(f"{passed} passed, {failed} failed" + (f", {gaps} todo" if gaps else "") + "\n")
        return 1 if failed else 0
    _list(kb, out)
    return 0


def _list(kb: Knowledge, out: Any) -> None:
    rules_for: dict[str, list[str]] = {}
    for rule in kb.rules.values():
        rules_for.setdefault(rule.finding, []).append(rule.id)
    out.write("Findings (id, severity, contact, rules):\n")
    for ident, spec in kb.findings.items():
        contact = spec.contact if isinstance(spec.contact, str) else f"by {spec.contact.by}"
        rules = ", ".join(rules_for.get(ident, [])) or "no rule yet"
        out.write(f"  {ident:40} {spec.severity:8} {contact:26} {rules}\n")
    out.write("\nRules (id, verdict, finding, confidence):\n")
    for ident, rule in sorted(kb.rules.items()):
        out.write(f"  {ident:40} {rule.verdict:10} {rule.finding:40} {rule.confidence}\n")
    out.write("\nQuestions (id, kind, text):\n")
    for ident, q in sorted(kb.questions.items()):
        out.write(f"  {ident:24} {q.kind:8} {q.text}\n")
    out.write("\nSignatures (id, description):\n")
    for ident, sig in sorted(kb.signatures.items()):
        out.write(f"  {ident:40} {sig.description}\n")
    out.write("\nProviders (id, kind, name, findings with their own steps):\n")
    for ident, provider in sorted(kb.providers.items()):
        steps = ", ".join(provider.remediation) or "none"
        out.write(f"  {ident:24} {provider.kind:8} {provider.name:40} {steps}\n")


def _explain(kb: Knowledge, ident: str, out: Any) -> None:
    """Same sections for every finding: what, why, fix, when it misleads, references, rules."""
    rule = kb.rules.get(ident)
    if rule is not None:
        out.write(f"rule {rule.id} ({kb.where[('rule', rule.id)]})\n")
        out.write(f"  {' '.join(rule.description.split())}\n")
        out.write(f"  concludes: {rule.finding} ({rule.verdict}, confidence {rule.confidence})\n")
        for item in rule.false_positives:
            out.write(f"  can mislead: {item}\n")
        for step in rule.fix:
            out.write(f"  fix first: {_step(step)}\n")
        ident = rule.finding
        out.write("\n")
    spec = kb.findings.get(ident)
    if spec is None:
        close = difflib.get_close_matches(ident, [*kb.findings, *kb.rules], n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise UnknownId(f"knowledge explain: no finding or rule '{ident}'{hint}")
    contact = (
        spec.contact
        if isinstance(spec.contact, str)
        else (
            ", ".join(f"{k} -> {v}" for k, v in spec.contact.cases.items())
            + f", otherwise {spec.contact.otherwise} (by {spec.contact.by})"
        )
    )
    out.write(f"{ident}: {spec.title}\n")
    out.write(f"  severity {spec.severity}; decision tree step {spec.step}; who acts: {contact}\n\n")
    out.write(f"What it means\n  {' '.join(spec.summary.split())}\n\n")
    out.write(f"Why it matters\n  {' '.join(spec.why.split())}\n\n")
    out.write("What to do (templates; facts fill them in a report)\n")
    for i, step in enumerate(spec.fix, 1):
        out.write(f"  {i}. {_step(step)}\n")
    if spec.false_positives:
        out.write("\nWhen it can mislead\n")
        for item in spec.false_positives:
            out.write(f"  - {item}\n")
    if spec.references:
        out.write("\nReferences\n")
        for item in spec.references:
            out.write(f"  - {item}\n")
    own = [(p.name, p.remediation[ident]) for p in kb.providers.values() if ident in p.remediation]
    if own:
        out.write("\nProvider-specific steps (shown first when the server is recognised as that provider)\n")
        for name, steps in own:
            for step in steps:
                out.write(f"  - {name}: {_step(step)}\n")
    rules = sorted(r.id for r in kb.rules.values() if r.finding == ident)
    out.write(f"\nRules that reach it: {', '.join(rules) or 'none yet'}\n")


def _step(step: s.FixStep) -> str:
    """A fix step as an author wrote it; a conditional one says when it applies."""
    if isinstance(step, str):
        return step
    return f"[when {describe(step.when)}] {step.text}"


def _coverage(kb: Knowledge, env: Environment, output: str | None) -> Exit:
    from engine.run.coverage import coverage, markdown

    return _write(markdown(kb, coverage(kb)), env, output, "coverage")


def _graph(kb: Knowledge, env: Environment, fmt: str | None, output: str | None) -> Exit:
    from engine.knowledge.graph import build
    from engine.report.graph import mermaid, page

    chosen = fmt or ("html" if output and output.endswith((".html", ".htm")) else "mermaid")
    graph = build(kb)
    text = page(graph, "mailtriage knowledge: the decision tree") if chosen == "html" else mermaid(graph)
    return _write(text, env, output, "graph")


def _reference(env: Environment, update: str | None) -> Exit:
    from pathlib import Path

    from engine.knowledge.reference import BEGIN, markdown, replace_block

    if update is None:
        env.stdout.write(markdown())
        return Exit.OK
    try:
        guide = Path(update).read_text(encoding="utf-8")
    except OSError as exc:
        raise BadInput(f"cannot read {update}: {exc.strerror or exc}") from None
    if BEGIN not in guide:
        raise BadInput(f"{update}: no reference block to update; add the line {BEGIN} and the end marker")
    return _write(replace_block(guide), env, update, "reference")


def _new(args: argparse.Namespace, env: Environment) -> Exit:
    """Draft knowledge into the last --knowledge DIR: never over a file that is there."""
    from pathlib import Path

    if not args.knowledge:
        raise BadInput("knowledge new writes into a layer of your own: add --knowledge DIR")
    layer = Path(args.knowledge[-1])
    try:
        layer.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BadInput(f"cannot make {layer}: {exc.strerror or exc}") from None
    kb = inputs.knowledge(args, cached=False)
    try:
        files, entries, line = _drafted(args, kb)
    except ValueError as exc:
        raise BadInput(f"knowledge new {args.kind}: {exc}") from None
    try:
        for relative, content in files.items():
            path = layer / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("x", encoding="utf-8") as handle:
                handle.write(content)
        for relative, (top, entry) in entries.items():
            path = layer / relative
            existing = path.read_text(encoding="utf-8") if path.exists() else f"{top}:\n"
            path.write_text(existing.rstrip("\n") + "\n" + entry, encoding="utf-8")
    except FileExistsError as exc:
        raise BadInput(f"{exc.filename} is there already; give another --id or remove it") from None
    except OSError as exc:
        raise BadInput(f"cannot write into {layer}: {exc.strerror or exc}") from None
    out = env.stdout
    if line:
        out.write(f"drafted from: {line}\n")
    for relative in [*files, *entries]:
        out.write(f"  {layer / relative}\n")
    out.write(
        "next: write the sentences marked 'Drafted', then check it:\n"
        f"  mailtriage knowledge lint --knowledge {layer}\n"
        f"  mailtriage knowledge test --knowledge {layer}\n"
    )
    if args.kind == "signature":
        out.write(f"  mailtriage analyze-log {args.from_text} --knowledge {layer}\n")
    if args.kind == "question":
        out.write(f"  (a rule must read answer.{args.id} for the question to be worth asking)\n")
    return Exit.OK


def _drafted(args: argparse.Namespace, kb: Knowledge) -> tuple[dict[str, str], dict[str, tuple[str, str]], str]:
    """New files, entries to add to shared files (path -> (top-level key, entry)), the text line."""
    from pathlib import Path

    from engine.knowledge import draft
    from engine.knowledge.model import did_you_mean
    from engine.redact import Redactor

    def need(value: str | None, option: str) -> str:
        if not value:
            raise ValueError(f"needs {option}")
        return value

    def known_finding(ident: str) -> str:
        if ident not in kb.findings:
            raise ValueError(
                f"unknown finding '{ident}'{did_you_mean(ident, kb.findings)}; see mailtriage knowledge list"
            )
        return ident

    if args.kind == "signature":
        finding = known_finding(need(args.finding, "--finding ID"))
        source = need(args.from_text, "--from-text FILE")
        try:
            text = Path(source).read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise ValueError(f"cannot read {source}: {exc.strerror or exc}") from None
        made = draft.draft_signature(kb, text, finding, Redactor())
        return made.files, {"facts.yaml": ("facts", made.fact_entry)}, made.line
    if args.kind == "rule":
        finding = known_finding(need(args.finding, "--finding ID"))
        return draft.draft_rule(kb, finding, draft.parse_when(kb, args.when)), {}, ""
    if args.kind == "finding":
        ident = need(args.id, "--id ID (area.what, like sender.suspended)")
        if ident in kb.findings:
            raise ValueError(f"finding '{ident}' exists already")
        contact = need(args.contact, "--contact CONTACT")
        if contact not in s.CONTACTS:
            raise ValueError(f"unknown contact '{contact}'; one of {', '.join(s.CONTACTS)}")
        title = need(args.title, "--title TEXT")
        # A finding no rule concludes would fail lint: the rule comes with it.
        files = draft.draft_rule(kb, ident, draft.parse_when(kb, args.when))
        return files, {"findings.yaml": ("findings", draft.finding_entry(ident, title, contact, args.severity))}, ""
    ident = need(args.id, "--id ID")
    if ident in kb.questions:
        raise ValueError(f"question '{ident}' exists already")
    entry = draft.question_entry(
        ident, need(args.text, "--text TEXT"), known_finding(need(args.finding, "--finding ID"))
    )
    return {f"questions/{ident}.yaml": "questions:\n" + entry}, {}, ""


def _write(text: str, env: Environment, output: str | None, what: str) -> Exit:
    """To stdout, or to the file and a line saying so."""
    from pathlib import Path

    if output is None:
        env.stdout.write(text)
        return Exit.OK
    try:
        Path(output).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise BadInput(f"cannot write {output}: {exc.strerror or exc}") from None
    env.stdout.write(f"{what} written to {output}\n")
    return Exit.OK


def _graph_warnings(kb: Knowledge) -> list[str]:
    """A fact nothing reads and a question no answer of which can matter: warnings, not failures."""
    from engine.knowledge.graph import idle_questions, unread_facts

    facts = [
        f"{kb.where[('fact', name)]}: warning: fact '{name}' is read by no rule, question, fix step or sentence; "
        "use it, remove it, or mark it 'report_only: true' if the report shows it"
        for name in unread_facts(kb)
    ]
    questions = [
        f"{kb.where[('question', ident)]}: warning: question '{ident}' can never be worth asking: no rule, "
        f"contact routing or other question reads answer.{ident}"
        for ident in idle_questions(kb)
    ]
    return facts + questions


def _coverage_warnings(kb: Knowledge) -> list[str]:
    """Error findings a major ecosystem's own words never reach: a warning each, not a failure."""
    from engine.run.coverage import coverage

    missing: dict[str, list[str]] = {}
    for finding, ecosystem in coverage(kb).gaps(kb):
        missing.setdefault(finding, []).append(ecosystem)
    return [
        f"{kb.where[('finding', fid)]}: warning: no signature of {', '.join(ecos)} has an example that reaches "
        f"error finding '{fid}' (see knowledge/coverage.md)"
        for fid, ecos in missing.items()
    ]
