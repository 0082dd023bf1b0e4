"""The guide for knowledge authors (knowledge/README.md) stays true: its reference is what the
models accept, and its worked example runs exactly as written."""

from __future__ import annotations

import contextlib
import json
import re
import shlex
from pathlib import Path

from engine.knowledge.reference import current_block, markdown

GUIDE = Path(__file__).resolve().parent.parent / "knowledge" / "README.md"


def block_after(marker: str) -> str:
    text = GUIDE.read_text(encoding="utf-8")
    found = re.search(re.escape(marker) + r"\n```\w*\n(.*?)\n```", text, re.DOTALL)
    assert found, f"no fenced block after {marker} in {GUIDE}"
    return found.group(1)


def test_the_guide_s_reference_is_what_the_models_accept_now():
    assert current_block(GUIDE.read_text(encoding="utf-8")) == markdown(), (
        "knowledge/README.md's reference is stale: run mailtriage knowledge reference --update knowledge/README.md"
    )


def test_the_guide_s_worked_example_runs_as_written(cli, tmp_path):
    (tmp_path / "acme-suspended.txt").write_text(block_after("<!-- worked example: text -->") + "\n")
    commands = [shlex.split(line) for line in block_after("<!-- worked example: commands -->").splitlines()]
    assert all(argv[0] == "mailtriage" for argv in commands) and len(commands) == 5
    with contextlib.chdir(tmp_path):
        results = [cli(*argv[1:]) for argv in commands]
        concluded = cli(*commands[-1][1:], "--format", "json")
    before, new, lint, test, after = results
    assert "sender.not_registered" not in before.out
    assert new.code == 0 and lint.code == 0 and test.code == 0, (new.err, lint.err, test.out)
    assert Path(tmp_path / "my-knowledge" / "signatures" / "draft-sender-not-registered-1.yaml").is_file()
    assert after.code == 1 and "sender.not_registered" in after.out
    first = json.loads(concluded.out)["findings"][0]
    assert (first["id"], first["contact"]) == ("sender.not_registered", "email_provider")
