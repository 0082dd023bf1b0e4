"""The pages of docs/ written from code and knowledge are what they would be written as now."""

from __future__ import annotations

import pytest

from docs.generate import DOCS, PAGES


@pytest.mark.parametrize("name", sorted(PAGES))
def test_each_generated_page_is_fresh(name):
    assert (DOCS / name).read_text(encoding="utf-8") == PAGES[name](), f"docs/{name} is stale: run make docs"


def test_the_cli_page_names_every_command_and_the_finding_page_every_finding(kb):
    cli_page, findings_page = PAGES["cli.md"](), PAGES["findings.md"]()
    for command in ("diagnose", "guide", "explain", "analyze-log", "lab", "schema", "knowledge new", "knowledge graph"):
        assert f"`mailtriage {command}`" in cli_page, command
    for finding in kb.findings:
        assert f"## `{finding}`" in findings_page, finding
