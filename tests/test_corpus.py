"""The labelled corpus of real error texts: its size, its sources, and the accuracy it proves.

Two figures matter. Current accuracy says the knowledge explains the texts it has seen. The
first-seen accuracy, recorded for each text before any knowledge changed because of it, says
whether the knowledge generalises to texts nobody wrote it for.
"""

from __future__ import annotations

import re

from engine.run.verify import check_scenario, corpus_score


def corpus(kb):
    return [sc for sc in kb.scenarios.values() if sc.id.startswith("corpus-")]


def test_the_corpus_holds_at_least_400_real_texts_each_with_its_public_source(kb):
    entries = corpus(kb)
    assert len(entries) >= 400
    assert all(sc.text and sc.source and sc.source.startswith("https://") for sc in entries)
    assert len({(sc.source, sc.text) for sc in entries}) == len(entries), "the same text of a source twice"


def test_analyze_log_reaches_the_expected_first_finding_on_at_least_95_percent_of_the_corpus(kb):
    results = [check_scenario(kb, sc.id) for sc in corpus(kb)]
    score = corpus_score(kb, results)
    misses = [f"{r.name}: {r.detail}" for r in results if not r.passed]
    assert score.passed / score.total >= 0.95, f"{score.line()}\n" + "\n".join(misses)


def test_no_corpus_text_that_holds_a_failure_gets_an_empty_answer(kb):
    empty = [r.name for r in (check_scenario(kb, sc.id) for sc in corpus(kb)) if "got none" in r.detail]
    assert empty == []


def test_every_text_added_since_first_seen_was_measured_carries_its_first_seen_result(kb):
    batches = [sc for sc in corpus(kb) if sc.ecosystem is not None]
    assert len(batches) >= 250
    assert all(sc.first_seen is not None for sc in batches)


def test_knowledge_test_reports_both_the_current_and_the_first_seen_accuracy(cli, kb):
    out = cli("knowledge", "test").out
    line = next(line for line in out.splitlines() if line.startswith("corpus:"))
    now, total, seen, seen_total = map(
        int, re.findall(r"(\d+) of (\d+)", line)[0] + re.findall(r"(\d+) of (\d+)", line)[1]
    )
    entries = corpus(kb)
    assert total == len(entries)
    assert seen_total == sum(sc.first_seen is not None for sc in entries)
    assert seen == sum(sc.first_seen is not None and sc.first_seen.finding == sc.expect.first for sc in entries)
    assert 0 <= now <= total
    # Each batch's own first-seen figure, named by the knowledge it was measured with.
    for commit in {sc.first_seen.knowledge for sc in entries if sc.first_seen is not None}:
        texts = [sc for sc in entries if sc.first_seen is not None and sc.first_seen.knowledge == commit]
        right = sum(sc.first_seen.finding == sc.expect.first for sc in texts)
        assert f"{right} of {len(texts)} with the knowledge of {commit}" in line


def test_every_corpus_entry_left_todo_says_why_in_its_own_words(kb):
    for sc in corpus(kb):
        if sc.todo:
            assert "not written yet" not in sc.todo and len(sc.todo) > 40, sc.id


def test_a_relabelled_entry_names_the_label_it_had_and_the_contract_change_behind_it(kb):
    for sc in corpus(kb):
        if sc.relabelled:
            assert sc.relabelled.was != sc.expect.first and "findings.md" in sc.relabelled.why, sc.id
            assert sc.first_seen is None, f"{sc.id}: a text measured first-seen is never relabelled"
