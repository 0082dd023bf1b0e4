"""knowledge coverage: the finding x ecosystem table is generated, current, and honest."""

from __future__ import annotations

from pathlib import Path

from engine.run.coverage import coverage, markdown
from tests.layers import rule, write

COVERAGE_MD = Path(__file__).resolve().parent.parent / "knowledge" / "coverage.md"


def unreachable_finding(layer: Path, text_silent: dict[str, str] | None = None) -> None:
    """A knowledge layer with an error finding that only an answer reaches, never a signature."""
    silent = "".join(f'\n              {eco}: "{why}"' for eco, why in (text_silent or {}).items())
    extra = "\n            text_silent:" + silent if silent else ""
    write(
        layer,
        "findings.yaml",
        f"""
        findings:
          custom.unreachable:
            title: A finding no text reaches
            severity: error
            contact: self
            summary: s
            why: w
            fix: [f]
            step: 1{extra}
        """,
    )
    rule(layer, "custom-unreachable", "fact: answer.works_elsewhere\nequals: unknown", finding="custom.unreachable")


def test_knowledge_coverage_md_is_what_the_command_writes_now(kb):
    assert COVERAGE_MD.read_text(encoding="utf-8") == markdown(kb, coverage(kb)), (
        "knowledge/coverage.md is stale: run mailtriage knowledge coverage --output knowledge/coverage.md"
    )


def test_a_cell_is_covered_only_by_a_signature_of_that_ecosystem_whose_example_concludes_the_finding(kb):
    table = coverage(kb)
    for (_finding, ecosystem), signatures in table.cells.items():
        for ident in signatures:
            assert kb.signatures[ident].ecosystem == ecosystem
    assert "auth.credentials_rejected" in {f for f, _ in table.cells}


def test_the_command_prints_the_table_and_writes_it_where_asked(cli, tmp_path):
    printed = cli("knowledge", "coverage")
    assert printed.code == 0 and printed.out.startswith("# Coverage")
    target = tmp_path / "coverage.md"
    written = cli("knowledge", "coverage", "--output", str(target))
    assert written.code == 0 and target.read_text(encoding="utf-8") == printed.out


def test_lint_warns_about_an_error_finding_no_major_ecosystem_reaches_and_still_passes(cli, tmp_path):
    unreachable_finding(tmp_path)
    result = cli("knowledge", "lint", "--knowledge", str(tmp_path))
    assert result.code == 0
    [warning] = [line for line in result.err.splitlines() if "'custom.unreachable'" in line]
    assert ": warning: no signature of java, python, node, dotnet, php has an example" in warning
    assert warning.startswith(f"{tmp_path / 'findings.yaml'}:2:")


def test_an_ecosystem_a_finding_names_as_text_silent_is_no_gap_and_shows_its_reason(cli, tmp_path):
    unreachable_finding(tmp_path, {"go": "Go never prints it", "java": "Java names the address, not the host"})
    result = cli("knowledge", "lint", "--knowledge", str(tmp_path))
    [warning] = [line for line in result.err.splitlines() if "'custom.unreachable'" in line]
    assert "no signature of python, node, dotnet, php has" in warning
    table = cli("knowledge", "coverage", "--knowledge", str(tmp_path)).out
    assert "- custom.unreachable: java: Java names the address, not the host" in table


def test_lint_refuses_a_text_silent_ecosystem_it_does_not_know(cli, tmp_path):
    unreachable_finding(tmp_path, {"jaav": "typo"})
    result = cli("knowledge", "lint", "--knowledge", str(tmp_path))
    assert result.code == 2
    assert "unknown ecosystem 'jaav' (did you mean 'java'?)" in result.err
