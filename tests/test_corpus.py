"""The labelled corpus of real error texts: its size, its sources, and the accuracy it proves."""

from __future__ import annotations

from engine.run.verify import run_scenario


def corpus(kb):
    return [sc for sc in kb.scenarios.values() if sc.id.startswith("corpus-")]


def test_the_corpus_holds_at_least_80_real_texts_each_with_its_public_source(kb):
    entries = corpus(kb)
    assert len(entries) >= 80
    assert all(sc.text and sc.source and sc.source.startswith("https://") for sc in entries)


def test_analyze_log_reaches_the_expected_first_finding_on_at_least_95_percent_of_the_corpus(kb):
    entries = corpus(kb)
    passed = [sc.id for sc in entries if not run_scenario(kb, sc)]
    assert len(passed) / len(entries) >= 0.95, f"{len(passed)} of {len(entries)}"


def test_every_corpus_entry_left_todo_says_why_in_its_own_words(kb):
    for sc in corpus(kb):
        if sc.todo:
            assert "not written yet" not in sc.todo and len(sc.todo) > 40, sc.id
