"""Helpers for tests that write their own knowledge layer (a --knowledge DIR) into tmp_path."""

from __future__ import annotations

import textwrap
from pathlib import Path

from engine.facts import FactSet, FactValue, Observation
from engine.run.pipeline import given_facts


def write(root: Path, relative: str, text: str) -> Path:
    """Write one knowledge file under root; text is dedented so tests can indent it."""
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def line_of(path: Path, marker: str, occurrence: int = 1) -> int:
    """1-based line of the n-th line containing marker: keeps expected line numbers honest."""
    seen = 0
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if marker in line:
            seen += 1
            if seen == occurrence:
                return number
    raise AssertionError(f"{marker!r} not found {occurrence} time(s) in {path}")


def rule(
    root: Path,
    ident: str,
    when: str,
    *,
    finding: str = "connectivity.ok",
    area: str = "custom",
    extra: str = "",
    cases: str | None = None,
) -> Path:
    """A rule file plus a minimal test file beside it (one fire, one silent case, no facts)."""
    body = f"id: {ident}\ndescription: a rule written by a test\nfinding: {finding}\n{extra}when:\n"
    body += textwrap.indent(textwrap.dedent(when).strip("\n"), "  ") + "\n"
    path = write(root, f"rules/{area}/{ident}.yaml", body)
    if cases is None:
        cases = """
            cases:
              - {name: fires, expect: fire}
              - {name: stays silent, expect: silent}
        """
    write(root, f"rules/{area}/{ident}.test.yaml", f"rule: {ident}\n" + textwrap.dedent(cases).lstrip("\n"))
    return path


def facts_of(values: dict[str, FactValue], *extra: Observation) -> FactSet:
    """A FactSet from name -> value, as scenarios and rule cases give them, plus observations."""
    facts = FactSet()
    facts.extend(given_facts(values))
    facts.add(*extra)
    return facts


def routed_finding(root: Path, severity: str) -> Path:
    """findings.yaml with one finding, custom.routed, routed by deployment with 'self' as fallback."""
    return write(
        root,
        "findings.yaml",
        f"""
        findings:
          custom.routed:
            title: Routed by deployment, with a distinct fallback
            severity: {severity}
            contact:
              by: answer.deployment
              cases: {{on_premises: network_admin, own_cloud: network_admin, vendor_cloud: cloud_support}}
              otherwise: self
            summary: s
            why: w
            fix: [f]
            step: 3
    """,
    )
