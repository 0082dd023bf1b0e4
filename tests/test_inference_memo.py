"""Inference is worked out once for facts the rules cannot tell apart, and each run keeps its own evidence."""

from __future__ import annotations

from engine.decide.compile import compiled_for, reads_of
from engine.decide.inference import infer
from engine.facts import FactSet, Observation
from engine.knowledge.load import load_knowledge
from engine.knowledge.prepared import prepared

KB = load_knowledge()


def settings_without_host(source: str) -> FactSet:
    """Profile settings that name no host: config-host-missing reads config.source for presence only."""
    facts = FactSet()
    facts.extend(
        [
            Observation("config.source", source, "config", None, source),
            Observation("config.port", 587, "config", None, source),
        ]
    )
    return facts


def test_config_source_is_only_tested_for_presence():
    assert "config.source" in compiled_for(KB).presence_only
    assert "config.port" not in compiled_for(KB).presence_only


def test_runs_that_differ_only_in_a_presence_only_value_share_one_inference():
    memo = prepared(KB, "inference-memo", lambda kb: {})
    first = infer(KB, settings_without_host("profile accounts.toml:3"), "every")
    after_first = len(memo)

    second = infer(KB, settings_without_host("profile accounts.toml:9"), "every")

    assert len(memo) == after_first
    assert [c.finding for c in second.findings] == [c.finding for c in first.findings]
    assert "config.invalid" in [c.finding for c in second.findings]


def test_each_run_cites_its_own_value_as_evidence():
    for source in ("profile accounts.toml:3", "profile accounts.toml:9"):
        result = infer(KB, settings_without_host(source), "every")

        (invalid,) = [c for c in result.findings if c.finding == "config.invalid"]
        cited = {(o.name, o.value) for step in invalid.steps for o in step.observations}
        assert ("config.source", source) in cited


def test_the_conditions_reads_agree_with_what_the_engine_with_every_rule_references():
    reads, every = reads_of(KB), compiled_for(KB)
    # The engine also tests each question's own answer, to ask it once; that decides no subset.
    own_answers = {f"answer.{q}" for q in KB.questions} - reads.names
    # Reply tests read reply.* fields of one reply at a time, which the engine matches as replies.
    reply_fields = {name for name in reads.names if name.startswith("reply.")}
    assert reads.names - reply_fields == every.referenced - own_answers
    assert reads.presence_only == every.presence_only - own_answers


def test_runs_that_differ_only_in_timings_and_presence_only_values_share_one_subset_engine():
    built = prepared(KB, "experta-subsets", lambda kb: [])

    def run(source: str, connect_ms: float) -> list[str]:
        facts = settings_without_host(source)
        facts.extend([Observation("tcp.connect_ms", connect_ms, "probe", None, "tcp")])
        return [c.finding for c in infer(KB, facts, "subset").findings]

    first = run("profile accounts.toml:3", 1.2)
    after_first = len(built)
    assert run("profile accounts.toml:9", 4.4) == first
    assert len(built) == after_first
    # A value a rule does read still gets an engine of its own.
    facts = settings_without_host("profile accounts.toml:3")
    facts.extend([Observation("config.port", 25, "config", None, "x")])
    infer(KB, facts, "subset")
    assert len(built) == after_first + 1
