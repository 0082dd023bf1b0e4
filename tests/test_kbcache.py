"""The knowledge cache saves parsing on unchanged files and never serves a stale copy."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from engine.knowledge import cache as kbcache
from engine.knowledge.cache import cached_knowledge
from engine.knowledge.load import load_knowledge
from engine.knowledge.model import KnowledgeInvalid, shipped_root
from tests.layers import rule, write


def test_a_second_load_comes_from_the_cache_and_equals_the_first(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("MAILTRIAGE_CACHE_DIR", str(tmp_path / "cache"))
    first = cached_knowledge()
    assert list((tmp_path / "cache").glob("knowledge-*.pickle"))
    second = cached_knowledge()
    assert second is not first
    assert second.rules == first.rules
    assert second.findings == first.findings
    assert str(second.where[("rule", "tcp-connection-refused")]) == str(first.where[("rule", "tcp-connection-refused")])


def test_an_edited_knowledge_file_is_read_again(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("MAILTRIAGE_CACHE_DIR", str(tmp_path / "cache"))
    extra = tmp_path / "extra"
    rule(
        extra,
        "tcp-connection-refused",
        "fact: tcp.connect\nequals: refused",
        finding="network.connection_refused",
        extra="confidence: low\n",
    )
    assert cached_knowledge([extra]).rules["tcp-connection-refused"].confidence == "low"
    rule(
        extra,
        "tcp-connection-refused",
        "fact: tcp.connect\nequals: refused",
        finding="network.connection_refused",
        extra="confidence: medium\n",
    )
    assert cached_knowledge([extra]).rules["tcp-connection-refused"].confidence == "medium"


def test_an_unreadable_cache_falls_back_to_reading_the_files(tmp_path: Path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("MAILTRIAGE_CACHE_DIR", str(cache))
    cache.mkdir()
    kbcache.cache_file(kbcache.fingerprint([shipped_root()])).write_bytes(b"not a pickle")
    kb = cached_knowledge()
    assert "tcp-connection-refused" in kb.rules


def test_a_cache_file_stored_for_another_key_under_the_same_name_is_not_served(tmp_path: Path, monkeypatch):
    # File names are a checksum of the key; the file's own copy of the key decides.
    monkeypatch.setenv("MAILTRIAGE_CACHE_DIR", str(tmp_path / "cache"))
    extra = tmp_path / "extra"
    when = "fact: tcp.connect\nequals: refused"
    rule(extra, "tcp-connection-refused", when, finding="network.connection_refused", extra="confidence: low\n")
    assert cached_knowledge([extra]).rules["tcp-connection-refused"].confidence == "low"
    shipped = kbcache.cache_file(kbcache.fingerprint([shipped_root()]))
    assert cached_knowledge().rules["tcp-connection-refused"].confidence != "low"  # writes the shipped file
    shipped.write_bytes(kbcache.cache_file(kbcache.fingerprint([shipped_root(), extra])).read_bytes())
    assert cached_knowledge().rules["tcp-connection-refused"].confidence != "low"


def test_broken_knowledge_is_never_cached_and_still_reported(tmp_path: Path, monkeypatch, cli):
    cache = tmp_path / "cache"
    monkeypatch.setenv("MAILTRIAGE_CACHE_DIR", str(cache))
    extra = tmp_path / "extra"
    write(
        extra,
        "rules/x/bad.yaml",
        "id: bad\ndescription: d\nfinding: no.such\nwhen: {fact: tcp.connect, equals: refused}\n",
    )
    result = cli("analyze-log", "-", "--knowledge", str(extra), stdin="x\n")
    assert result.code == 2
    assert "unknown finding 'no.such'" in result.err
    assert not list(cache.glob("knowledge-*.pickle"))


def test_lint_reports_a_file_broken_after_a_cached_run(tmp_path: Path, monkeypatch, cli):
    monkeypatch.setenv("MAILTRIAGE_CACHE_DIR", str(tmp_path / "cache"))
    extra = tmp_path / "extra"
    shutil.copytree(shipped_root() / "questions", extra / "questions")
    assert cli("analyze-log", "-", "--knowledge", str(extra), stdin="x\n").code == 0
    (extra / "questions" / "network.yaml").write_text("questions: [", encoding="utf-8")
    result = cli("knowledge", "lint", "--knowledge", str(extra))
    assert result.code == 2
    assert "network.yaml" in result.err


def test_a_cached_base_carries_every_signatures_literal_set_so_a_warm_run_derives_none(tmp_path: Path, monkeypatch):
    from engine.text import prefilter
    from engine.text.signatures import Matcher, derive_literal_sets, flags_of

    monkeypatch.setenv("MAILTRIAGE_CACHE_DIR", str(tmp_path / "cache"))
    cached_knowledge(derive=derive_literal_sets)
    warm = cached_knowledge()
    known = warm.derived[prefilter.WANTED]
    assert all((sig.pattern, flags_of(sig)) in known for sig in warm.signatures.values())

    def derive_again(*args: object) -> None:
        raise AssertionError("a warm run worked out a literal set again")

    monkeypatch.setattr(prefilter.Wanted, "of", derive_again)
    matcher = Matcher.for_knowledge(warm)
    assert matcher._regexes == {}  # nothing compiled before a line asks for it


def test_a_cached_base_stored_without_literal_sets_gets_them_when_a_caller_derives(tmp_path: Path, monkeypatch):
    from engine.text import prefilter
    from engine.text.signatures import derive_literal_sets

    monkeypatch.setenv("MAILTRIAGE_CACHE_DIR", str(tmp_path / "cache"))
    assert cached_knowledge().derived == {}  # a caller that derives nothing stores nothing derived
    assert cached_knowledge(derive=derive_literal_sets).derived[prefilter.WANTED]
    assert cached_knowledge().derived[prefilter.WANTED]  # and the cache now keeps them


def test_the_cache_holds_what_runs_need_and_leaves_scenarios_and_rule_tests_to_the_files(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("MAILTRIAGE_CACHE_DIR", str(tmp_path / "cache"))
    first = cached_knowledge()
    assert first.scenarios == {} and first.rule_tests == {}  # not even read when the cache is filled
    cached = cached_knowledge()
    assert cached.scenarios == {} and cached.rule_tests == {}
    full = load_knowledge()  # what `knowledge test` and lint read
    assert full.scenarios and full.rule_tests
    assert cached.rules == first.rules == full.rules and cached.signatures == first.signatures == full.signatures


def test_a_run_is_not_refused_for_a_broken_scenario_or_a_rule_without_tests_which_lint_still_reports(
    tmp_path: Path, monkeypatch
):
    monkeypatch.setenv("MAILTRIAGE_CACHE_DIR", str(tmp_path / "cache"))
    layer = tmp_path / "layer"
    write(layer, "scenarios/broken.yaml", "scenarios:\n  - id: [unclosed\n")
    rule(layer, "local-untested", "fact: tcp.connect\nequals: refused").with_suffix(".test.yaml").unlink()
    kb = cached_knowledge([layer])
    assert "local-untested" in kb.rules
    with pytest.raises(KnowledgeInvalid) as caught:
        load_knowledge([layer])
    problems = [str(p) for p in caught.value.problems]
    assert any("broken.yaml:2" in p for p in problems)
    assert any("rule 'local-untested' has no test file" in p for p in problems)


def test_old_caches_are_pruned_to_the_newest_few(tmp_path: Path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("MAILTRIAGE_CACHE_DIR", str(cache))
    cache.mkdir()
    for i in range(kbcache.KEPT + 5):
        old = cache / f"knowledge-old{i:02d}.pickle"
        old.write_bytes(b"stale")
        os.utime(old, ns=(i * 10**9, i * 10**9))
    cached_knowledge()
    kept = sorted(p.name for p in cache.glob("knowledge-*.pickle"))
    assert len(kept) == kbcache.KEPT
    assert kbcache.cache_file(kbcache.fingerprint([shipped_root()])).name in kept
    assert "knowledge-old00.pickle" not in kept and f"knowledge-old{kbcache.KEPT + 4:02d}.pickle" in kept


def test_the_key_changes_with_any_yaml_file_at_any_depth_and_with_nothing_else(tmp_path: Path):
    root = tmp_path / "layer"
    (root / "rules" / "tls").mkdir(parents=True)
    nested = root / "rules" / "tls" / "expired.yaml"
    nested.write_text("a: 1\n")
    first = kbcache.fingerprint([root])
    assert kbcache.fingerprint([root]) == first
    (root / "notes.txt").write_text("not knowledge")
    assert kbcache.fingerprint([root]) == first
    nested.write_text("a: 22\n")  # another size
    edited = kbcache.fingerprint([root])
    assert edited != first
    stat = nested.stat()
    os.utime(nested, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))  # same size, newer
    touched = kbcache.fingerprint([root])
    assert touched != edited
    (root / "rules" / "tls" / "new.yaml").write_text("")
    added = kbcache.fingerprint([root])
    assert added != touched
    (root / "rules" / "tls" / "new.yaml").rename(root / "rules" / "moved.yaml")
    assert kbcache.fingerprint([root]) not in (added, touched)


def test_a_cached_base_unpickles_its_places_only_when_one_is_looked_up(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("MAILTRIAGE_CACHE_DIR", str(tmp_path / "cache"))
    read = cached_knowledge()
    cached = cached_knowledge()
    assert isinstance(cached.where, kbcache.StoredPlaces)
    assert isinstance(cached.where._places, bytes)  # a run that names no place never opens them
    key = ("rule", "tcp-connection-refused")
    assert str(cached.where[key]) == str(read.where[key])
    assert len(cached.where) == len(read.where) and set(cached.where) == set(read.where)


def test_a_cached_base_carries_what_its_conditions_read_so_a_warm_run_works_none_of_it_out(tmp_path: Path, monkeypatch):
    from engine.cli.inputs import derive
    from engine.decide import compile as c
    from engine.knowledge.conditions import findings_read

    monkeypatch.setenv("MAILTRIAGE_CACHE_DIR", str(tmp_path / "cache"))
    cold = cached_knowledge(derive=derive)
    fresh = c.Reads.of(cold)
    read = {ident: frozenset(findings_read(rule.when)) for ident, rule in cold.rules.items()}
    warm = cached_knowledge(derive=derive)
    assert warm is not cold

    def worked_out(*args: object) -> None:
        raise AssertionError("a warm run read the conditions again")

    monkeypatch.setattr(c.Reads, "of", worked_out)
    monkeypatch.setattr(c, "findings_read", worked_out)
    reads = c.reads_of(warm)
    assert (reads.names, reads.presence_only) == (fresh.names, fresh.presence_only)
    assert reads.findings == read
    assert reads.findings["dns-host-not-found"] == frozenset()
    assert any(reads.findings.values())  # some rule builds on another's finding
