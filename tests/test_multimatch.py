"""engine.text.multimatch: the hyperscan finder and the pure-Python one nominate the same lines."""

from __future__ import annotations

import platform
import random
import re

import pytest

from engine.inputs.textinput import MAX_LINE, Block
from engine.text import multimatch
from engine.text.multimatch import (
    HYPERSCAN_FROM,
    HyperscanFinder,
    PythonFinder,
    SizedFinder,
    available,
    finder_for,
    serialize,
)
from engine.text.prefilter import Wanted
from engine.text.signatures import mine

FINDERS = multimatch.available()


def observed(kb, text: str | bytes, prefer: str) -> list[tuple[str, object, str | None, str | None]]:
    data = text.encode("utf-8") if isinstance(text, str) else text
    block = Block(data, "log", 1, data.count(b"\n") + 1)
    return [(o.name, o.value, o.evidence, o.origin) for o in mine(kb, [block], prefer=prefer).observations]


@pytest.mark.skipif(
    platform.system() != "Linux" or platform.machine() != "x86_64", reason="the wheel exists for this platform"
)
def test_hyperscan_is_installed_where_its_wheel_exists_so_the_fast_path_is_really_tested():
    assert "hyperscan" in FINDERS


def test_both_finders_find_the_same_facts_in_every_corpus_text_and_signature_example(kb):
    texts = [sc.text for sc in kb.scenarios.values() if sc.text]
    texts += [example for sig in kb.signatures.values() for example in sig.examples.match + sig.examples.no_match]
    assert len(texts) > 300
    for text in texts:
        results = {prefer: observed(kb, text, prefer) for prefer in FINDERS}
        assert len({repr(r) for r in results.values()}) == 1, text


def test_both_finders_agree_on_a_noisy_log_with_odd_bytes_line_endings_and_long_lines(kb):
    rng = random.Random(11)
    errors = [example.encode() for sig in kb.signatures.values() for example in sig.examples.match]
    noise = [
        b"INFO order 42 processed",
        "Größe überschritten – naïve café".encode(),
        b"\xff\xfe\x80 broken bytes",
        b"DEBUG smtp pool ready\r",
        b"x" * (MAX_LINE + 100) + b" 535 5.7.8 Error: authentication failed",
        b"",
        b"\t at com.example.Mailer.send(Mailer.java:88)",
    ]
    lines = [rng.choice(errors) if rng.random() < 0.2 else rng.choice(noise) for _ in range(3000)]
    data = b"\n".join(lines)
    results = {prefer: observed(kb, data, prefer) for prefer in FINDERS}
    assert len({repr(r) for r in results.values()}) == 1
    [matched] = [v for n, v, _, _ in results["python"] if n == "log.matched"]
    assert matched > 400  # the errors were really found, not just agreed on by finding nothing


def test_a_literal_cut_off_by_the_line_limit_is_not_matched_by_either_finder(kb):
    line = b"y" * MAX_LINE + b"java.net.ConnectException: Connection refused"
    for prefer in FINDERS:
        assert ("log.matched", 0) in [(n, v) for n, v, _, _ in observed(kb, line, prefer)]


@pytest.mark.parametrize("prefer", FINDERS)
def test_a_signature_without_any_required_literal_is_still_found_by_scanning(prefer):
    wanted = [Wanted.of(r"\d{3} \w+!", 0), Wanted.of(r"Relay access denied", 0)]
    assert wanted[0].literals is None
    finder = finder_for(wanted, prefer)
    found = finder.nominate(b"first\n550 relay!\nthird Relay access denied\n")
    assert [(n.index, n.text, sorted(n.wanted)) for n in found] == [
        (1, "550 relay!", [0]),
        (2, "third Relay access denied", [1]),
    ]


@pytest.mark.parametrize("prefer", FINDERS)
def test_case_insensitive_literals_are_found_in_any_case(prefer):
    finder = finder_for([Wanted.of(r"(?i)client host rejected", 0)], prefer)
    found = finder.nominate(b"554 CLIENT HOST REJECTED: nope\nfine\nClient Host Rejected\n")
    assert [n.index for n in found] == [0, 2]


def test_the_python_finder_reports_itself_by_name():
    assert PythonFinder([]).name == "python"
    assert finder_for([], "python").name == "python"


@pytest.mark.skipif("hyperscan" not in available(), reason="the hyperscan wheel does not exist for this platform")
def test_a_serialized_database_is_loaded_for_the_same_literals_and_finds_the_same_lines():
    wanted = [Wanted.of(r"(?i)client host rejected", 0), Wanted.of(r"Relay access denied", 0)]
    first = finder_for(wanted, "hyperscan")
    stored = serialize(first)
    assert len(stored) == 1 and all(isinstance(v[0], bytes) for v in stored.values())
    again = finder_for(wanted, "hyperscan", serialized=stored)
    block = b"554 CLIENT HOST REJECTED\nfine\n554 Relay access denied\n"
    assert [(n.index, sorted(n.wanted)) for n in again.nominate(block)] == [(0, [0]), (2, [1])]
    assert again.nominate(block) == first.nominate(block)


@pytest.mark.skipif("hyperscan" not in available(), reason="the hyperscan wheel does not exist for this platform")
def test_a_database_serialized_for_other_literals_is_not_used():
    stored = serialize(finder_for([Wanted.of(r"Relay access denied", 0)], "hyperscan"))
    other = finder_for([Wanted.of(r"Client host rejected", 0)], "hyperscan", serialized=stored)
    assert [n.index for n in other.nominate(b"Relay access denied\nClient host rejected\n")] == [1]


@pytest.mark.skipif("hyperscan" not in available(), reason="the hyperscan wheel does not exist for this platform")
def test_a_pattern_without_a_required_literal_is_scanned_by_hyperscan_and_finds_what_python_finds():
    # A reply code anywhere, with a lookbehind hyperscan cannot run exactly: its prefilter
    # nominates a superset, and the lines match Python's.
    wanted = [Wanted.of(r"(?<![\w.])(?P<code>5[0-5]\d)[ -](?P<enhanced>5\.\d{1,3}\.\d{1,3})", 0)]
    assert wanted[0].literals is None
    fast = finder_for(wanted, "hyperscan")
    assert isinstance(fast, HyperscanFinder)
    assert fast.rest is None  # nothing left for Python to scan block by block
    block = b"INFO ok\nrcpt: 550 5.1.1 unknown\nid 7550 5.1.1\n550 5.7.1 relay\n"
    lines = [n.index for n in fast.nominate(block)]
    assert {1, 3} <= set(lines)
    regex = re.compile(wanted[0].pattern)
    confirmed = [n.index for n in fast.nominate(block) if regex.search(n.text)]
    python = [n.index for n in finder_for(wanted, prefer="python").nominate(block)]
    assert confirmed == python == [1, 3]


@pytest.mark.skipif("hyperscan" not in available(), reason="the hyperscan wheel does not exist for this platform")
def test_a_short_block_is_scanned_in_python_and_a_long_one_by_hyperscan_with_the_same_lines():
    wanted = [Wanted.of(r"(?i)client host rejected", 0), Wanted.of(r"Relay access denied", 0)]
    finder = finder_for(wanted)
    assert isinstance(finder, SizedFinder)
    short = b"554 CLIENT HOST REJECTED\nfine\n554 Relay access denied\n"
    assert [(n.index, sorted(n.wanted)) for n in finder.nominate(short)] == [(0, [0]), (2, [1])]
    assert finder._hyperscan is None  # a pasted text never waits for hyperscan's library
    long = short + b"padding line\n" * (HYPERSCAN_FROM // 13) + short
    assert len(long) >= HYPERSCAN_FROM
    found = finder.nominate(long)
    assert finder._hyperscan is not None
    assert found == finder_for(wanted, "python").nominate(long)
    assert [n.index for n in found][-2:] == [long.count(b"\n") - 3, long.count(b"\n") - 1]
