"""`knowledge lint` times signature patterns on long adversarial lines and names the slow ones."""

from __future__ import annotations

import time

from engine.knowledge import redos
from tests.bounds import ended
from tests.layers import line_of, write

SIGNATURES = """
signatures:
  - id: nested-quantifier
    description: a nested quantifier that explodes on a near miss
    pattern: 'Relay (\\w+\\s?)*denied'
    facts: {tcp.connect: refused}
    examples:
      match: ["Relay access denied"]
      no_match: ["nothing"]
  - id: plain-literal
    description: a literal that cannot backtrack
    pattern: 'Connection refused'
    facts: {tcp.connect: refused}
    examples:
      match: ["Connection refused"]
      no_match: ["nothing"]
  - id: adjacent-quantifiers
    description: two adjacent quantifiers over the same characters
    pattern: '^(\\d+)*x$'
    facts: {tcp.connect: refused}
    examples:
      match: ["123x"]
      no_match: ["nothing"]
"""


def test_lint_names_each_catastrophic_pattern_at_its_line_and_spares_the_rest(cli, tmp_path):
    path = write(tmp_path / "extra", "signatures/slow.yaml", SIGNATURES)
    started = time.monotonic()
    result = cli("knowledge", "lint", "--knowledge", str(tmp_path / "extra"))
    elapsed = time.monotonic() - started
    assert result.code == 2
    lines = result.err.strip().splitlines()
    first = line_of(path, "pattern: 'Relay", 1)
    second = line_of(path, "pattern: '^(", 1)
    assert lines[0].startswith(f"{path}:{first}: signature 'nested-quantifier' backtracks catastrophically")
    assert lines[1].startswith(f"{path}:{second}: signature 'adjacent-quantifiers' backtracks catastrophically")
    assert "plain-literal" not in result.err
    assert lines[-1] == "mailtriage: 2 problems in the knowledge files"
    # Each runaway pattern is stopped after HANG_SECONDS, never waited for (it would take hours).
    ended(elapsed, 2 * redos.HANG_SECONDS)


def test_the_shipped_signatures_are_all_fast_on_adversarial_lines(kb):
    jobs = [(i, s.pattern, 0, s.examples.match) for i, s in kb.signatures.items()]
    assert redos.find_slow(jobs) == []


def test_adversarial_lines_are_ten_kilobytes_and_nearly_match():
    lines = redos.adversarial_lines("Relay access denied", ["Relay access denied"])
    assert all(len(line) == redos.LINE + 1 for line in lines)
    assert any(line.startswith("Relay access deniedRelay") for line in lines)
