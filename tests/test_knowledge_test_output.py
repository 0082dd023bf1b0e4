"""`knowledge test` for authors: a failing case says what the engine had (the facts, the rules
that fired) and what in the meant rule's condition was not true; --verbose lists every case."""

from __future__ import annotations

from tests.layers import rule, write


def failure_of(out: str, name: str) -> list[str]:
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("FAIL") and name in line)
    return [lines[start], *[line for line in lines[start + 1 :] if line.startswith("    ")][:4]]


def test_a_rule_case_that_does_not_fire_names_the_part_of_the_condition_that_was_not_true(cli, tmp_path):
    layer = tmp_path / "layer"
    rule(
        layer,
        "custom-needs-answer",
        """
        all:
          - fact: tcp.connect
            equals: refused
          - fact: answer.deployment
            equals: on_premises
        """,
        finding="network.connection_refused",
        cases="""
            cases:
              - name: forgets the answer
                facts: {tcp.connect: refused}
                expect: fire
              - {name: nothing, expect: silent}
        """,
    )
    result = cli("knowledge", "test", "--knowledge", str(layer))
    assert result.code == 1
    first, *why = failure_of(result.out, "custom-needs-answer: forgets the answer")
    assert first.endswith(": did not fire")
    assert why[:3] == [
        "    facts given: tcp.connect = 'refused'",
        "    rules fired: tcp-connection-refused",
        "    not true: answer.deployment = 'on_premises'",
    ]


def test_a_scenario_that_misses_its_finding_shows_the_facts_and_the_nearest_rule(cli, tmp_path):
    layer = tmp_path / "layer"
    write(
        layer,
        "scenarios/s.yaml",
        """
        scenarios:
          - id: custom-wants-timeout
            description: a refusal labelled as a timeout
            facts: {tcp.connect: refused}
            expect: {first: network.connection_timeout}
        """,
    )
    result = cli("knowledge", "test", "--knowledge", str(layer))
    assert result.code == 1
    first, *why = failure_of(result.out, "custom-wants-timeout")
    assert "expected first finding network.connection_timeout, got network.connection_refused" in first
    assert "    facts: tcp.connect = 'refused'" in why
    assert "    rules fired: tcp-connection-refused" in why
    assert any(line.startswith("    nearest rule for network.connection_timeout: ") for line in why)
    assert any("tcp.connect = 'timeout'" in line for line in why if "nearest rule" in line)


def test_verbose_lists_every_case_with_its_status(cli):
    quiet = cli("knowledge", "test").out
    loud = cli("knowledge", "test", "--verbose").out
    assert "pass rule tcp-connection-refused: refused [" in loud
    assert "pass rule tcp-connection-refused" not in quiet
    assert quiet.splitlines()[-1] == loud.splitlines()[-1]
