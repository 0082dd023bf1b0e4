"""Required literals: what a pattern cannot match without, so a log can be filtered with str.find."""

from __future__ import annotations

import random
import re

import pytest

from engine.text.prefilter import required_literals


@pytest.mark.parametrize(
    "pattern, literals, ignore_case",
    [
        (r"java\.net\.UnknownHostException:\s*(?P<host>\S+)", ["java.net.UnknownHostException:"], False),
        (r"Relay access denied|relaying denied", ["Relay access denied", "relaying denied"], False),
        (r"(?i)connect(?:ion)? timed out|\bETIMEDOUT\b", [" timed out", "etimedout"], True),
        (r"(?P<code>5\d\d) 5\.7\.8 Error: authentication failed", [" 5.7.8 Error: authentication failed"], False),
        (r"Client host rejected", ["client host rejected"], True),
        # Small classes and alternations are spelled out so the literal runs through them.
        (r"\((?P<code>53[45]), b?'", ["(534, ", "(535, "], False),
        (r"55[0-3][ -]5\.1\.(?:10|[0-6])\b", [f"55{d}{s}5.1." for d in "0123" for s in " -"], False),
    ],
)
def test_the_longest_required_literals_are_found(pattern, literals, ignore_case):
    flags = re.IGNORECASE if pattern == "Client host rejected" else 0
    assert required_literals(pattern, flags) == (
        sorted(literals if not ignore_case else [lit.lower() for lit in literals]),
        ignore_case,
    )


@pytest.mark.parametrize(
    "pattern",
    [
        r"\d{3} \w+",  # nothing literal of three characters
        r"(ab|c)d",  # one branch is too short to filter by
        r"(?:x{0,3}abc)?def?",  # optional parts are not required; 'de' is too short
        r"(?i:Relay) access",  # scoped case-insensitivity: the literal may come in any case
    ],
)
def test_patterns_without_a_safe_literal_give_none_or_only_safe_ones(pattern):
    found = required_literals(pattern)
    if found is not None:
        literals, _ignore_case = found
        assert all(len(lit) >= 3 for lit in literals)
        assert "Relay" not in literals


def test_every_line_a_pattern_matches_contains_one_of_its_literals():
    # The property the matcher relies on: filtering never drops a real match.
    patterns = [
        r"(?i)connect(?:ion)? timed out|\bETIMEDOUT\b|Errno 110\]",
        r"No route to host|Network is unreachable|\bEHOSTUNREACH\b",
        r"Couldn't connect to host, port: (?P<h>[\w.-]+), (?P<p>\d{1,5})",
        r"5\d\d[ -]5\.7\.(?:8|139) (?:Error|Authentication)",
        r"\((?P<code>53[45]), b?'",
        r"55[0-3][ -]5\.1\.(?:10|[0-6])\b",
    ]
    rng = random.Random(3)
    words = [
        "Connection",
        "CONNECT",
        "timed",
        "out",
        "ETIMEDOUT",
        "Errno 110]",
        "No route to host",
        "535 5.7.8 Error",
        "535-5.7.139 Authentication",
        "Network is unreachable",
        "(535, b'",
        "(534, '",
        "550 5.1.1",
        "553-5.1.10",
        "Couldn't connect to host, port: a.b, 25",
        "x",
        " ",
    ]
    for pattern in patterns:
        regex = re.compile(pattern)
        found = required_literals(pattern)
        assert found is not None
        literals, ignore_case = found
        for _ in range(3000):
            line = " ".join(rng.choice(words) for _ in range(rng.randint(1, 6)))
            if regex.search(line):
                haystack = line.lower() if ignore_case else line
                assert any(lit in haystack for lit in literals), (pattern, line)


def test_only_the_generic_reply_readers_go_without_a_literal_and_scan_every_line(kb):
    # A signature without a required literal is run as a regex over the whole of every log;
    # one more (a one-character alternative is enough) made a 200 MB log five times slower.
    from engine.text.prefilter import Wanted
    from engine.text.signatures import flags_of

    sigs = kb.signatures.items()
    unfiltered = {ident for ident, sig in sigs if Wanted.of(sig.pattern, flags_of(sig)).literals is None}
    assert unfiltered == {"reply-codes-anywhere", "reply-at-line-start", "reply-code-tuple"}
