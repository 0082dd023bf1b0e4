"""The lab's scenario table, checked as data against the knowledge and the behaviours it names."""

from __future__ import annotations

import typing

import pytest

from engine.knowledge.model import Knowledge
from engine.lab import hostile
from engine.lab.scenarios import SCENARIOS, Raw, RawBehaviour, Smtp


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_every_scenario_expects_a_finding_the_knowledge_declares(kb: Knowledge, name: str):
    assert SCENARIOS[name].expected in kb.findings


def test_every_raw_behaviour_a_scenario_can_name_is_implemented():
    assert set(hostile.BEHAVIOURS) == set(typing.get_args(RawBehaviour))


def test_a_greeting_that_closes_has_a_line_to_send_and_no_other_raw_server_has_one():
    for name, scenario in SCENARIOS.items():
        assert isinstance(scenario.server, Smtp | Raw), name
        if isinstance(scenario.server, Raw):
            assert bool(scenario.server.reply) == (scenario.server.does == "greet-and-close"), name
