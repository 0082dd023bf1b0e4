"""engine.redact.scrub: every string of a nested structure redacted, however often it repeats."""

from __future__ import annotations

from engine.redact import REDACTED, Redactor, scrub


def test_every_copy_of_a_repeated_text_is_redacted_in_lists_and_mappings():
    redact = Redactor.for_credentials("app@example.com", "s3cret-pass")
    line = "AUTH PLAIN failed for s3cret-pass"
    data = {"accounts": [{"report": {"evidence": [line, line]}} for _ in range(3)], "same": line}
    scrubbed = scrub(data, redact)
    texts = [t for a in scrubbed["accounts"] for t in a["report"]["evidence"]] + [scrubbed["same"]]
    assert len(texts) == 7
    assert all("s3cret-pass" not in t and REDACTED in t for t in texts)
    assert data["same"] == line  # the input is left as it was


def test_clean_defangs_control_characters_in_every_copy_and_leaves_other_values():
    data = ["bell\x07", "bell\x07", 3, None, True, {"k": "bell\x07"}]
    assert scrub(data, Redactor(), clean=True) == ["bell\\x07", "bell\\x07", 3, None, True, {"k": "bell\\x07"}]
    assert scrub(data, Redactor()) == data


def test_a_memo_shared_by_several_structures_gives_what_each_alone_gives_and_is_consulted():
    redact = Redactor.for_credentials("app@example.com", "s3cret-pass")
    first = {"evidence": ["AUTH PLAIN failed for s3cret-pass", "ok"]}
    second = ["ok", "AUTH PLAIN failed for s3cret-pass", "new text"]
    memo: dict[str, str] = {}
    assert scrub(first, redact, memo=memo) == scrub(first, redact)
    assert scrub(second, redact, memo=memo) == scrub(second, redact)
    assert set(memo) == {"AUTH PLAIN failed for s3cret-pass", "ok", "new text"}
    # A text already in the memo is not scrubbed again: what the memo holds is what comes out.
    assert scrub(["ok"], redact, memo={"ok": "from the memo"}) == ["from the memo"]
