"""Every rule case and scenario of the shipped knowledge as its own test: a failure names one case."""

from __future__ import annotations

import pytest

from engine.knowledge.load import load_knowledge
from engine.run.verify import CaseResult, check_rule_case, check_scenario

SHIPPED = load_knowledge()
RULE_CASES = [(rule_id, i) for rule_id, tests in sorted(SHIPPED.rule_tests.items()) for i in range(len(tests.cases))]


def _holds_as_labelled(result: CaseResult) -> None:
    if result.todo is None:
        assert result.passed, f"{result.where}: {result.name}: {result.detail}"
    else:  # a documented gap: when it closes, the todo must go so the case guards the fix
        assert not result.passed, f"{result.where}: {result.name} now passes; remove its todo"


@pytest.mark.parametrize(
    ("rule_id", "index"), RULE_CASES, ids=[f"{r}:{SHIPPED.rule_tests[r].cases[i].name}" for r, i in RULE_CASES]
)
def test_the_rule_case_behaves_as_its_test_file_says(rule_id, index):
    _holds_as_labelled(check_rule_case(SHIPPED, rule_id, index))


@pytest.mark.parametrize("ident", sorted(SHIPPED.scenarios))
def test_the_scenario_concludes_what_it_expects(ident):
    _holds_as_labelled(check_scenario(SHIPPED, ident))
