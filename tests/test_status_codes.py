"""The status-code backbone (knowledge/status-codes.yaml), tested as a table: every row that
names a finding concludes it from a reply that carries nothing but its code (from the backbone
itself, or from a specific rule that knows the same code and outranks it)."""

from __future__ import annotations

import pytest

from engine.decide.inference import infer
from engine.facts import FactSet, Observation
from engine.knowledge.load import load_knowledge
from engine.knowledge.statuscodes import enhanced_codes, meaning

KB = load_knowledge()
TABLE = KB.status_codes
assert TABLE is not None
PLAIN_TEXT = "refused"  # no wording any specific rule knows


def reply(**fields: object) -> FactSet:
    facts = FactSet()
    facts.extend([Observation(f"reply.{k}", v, "log", None, "test", "one") for k, v in fields.items()])  # type: ignore[arg-type]
    return facts


def first(facts: FactSet) -> tuple[str, str] | None:
    found = infer(KB, facts).findings
    return (found[0].finding, found[0].confidence) if found else None


def first_id(facts: FactSet) -> str | None:
    found = first(facts)
    return found[0] if found else None


ENHANCED = [(key, code) for key, row in TABLE.enhanced.items() if row.finding for code in enhanced_codes(key, TABLE)]


@pytest.mark.parametrize(("key", "code"), ENHANCED, ids=[f"{k}:{c}" for k, c in ENHANCED])
def test_an_enhanced_code_alone_concludes_its_rows_finding(key, code):
    basic = 450 if code.startswith("4") else 550
    assert first_id(reply(code=basic, enhanced=code, text=PLAIN_TEXT, stage="unknown")) == TABLE.enhanced[key].finding


STAGED = [(key, stage, finding) for key, row in TABLE.basic.items() for stage, finding in row.stages.items()]


@pytest.mark.parametrize(("key", "stage", "finding"), STAGED, ids=[f"{k}@{s}" for k, s, _ in STAGED])
def test_a_basic_code_at_a_stage_that_changes_its_meaning_concludes_that_stages_finding(key, stage, finding):
    assert first_id(reply(code=int(key), text=PLAIN_TEXT, stage=stage)) == finding


PLAIN = [(key, row.finding) for key, row in TABLE.basic.items() if row.finding]


@pytest.mark.parametrize(("key", "finding"), PLAIN, ids=[k for k, _ in PLAIN])
def test_a_basic_code_with_a_finding_concludes_it_at_an_unknown_stage(key, finding):
    assert first_id(reply(code=int(key), text=PLAIN_TEXT, stage="unknown")) == finding


def test_the_enhanced_code_outranks_the_basic_code_it_travels_with():
    # 550 at RCPT alone means an unknown recipient; with 5.7.23 it is an SPF refusal.
    assert first(reply(code=550, enhanced="5.7.23", text=PLAIN_TEXT, stage="rcpt")) == (
        "reputation.sender_untrusted",
        "low",
    )


def test_a_class_specific_row_outranks_its_x_row():
    assert enhanced_codes("X.2.2", TABLE) == []
    assert first(reply(code=452, enhanced="4.2.2", text=PLAIN_TEXT, stage="rcpt")) == ("smtp.temporary_failure", "low")
    assert first(reply(code=552, enhanced="5.2.2", text=PLAIN_TEXT, stage="rcpt")) == ("recipient.rejected", "low")


def test_a_failing_reply_no_row_explains_is_a_last_resort_finding_not_silence():
    assert first(reply(code=554, enhanced="5.7.1", text=PLAIN_TEXT, stage="end_of_data")) == (
        "failure.unclassified",
        "medium",
    )


def test_a_reply_means_its_enhanced_row_then_its_basic_row_then_its_class():
    text = meaning(TABLE, 550, "5.1.1")
    assert text is not None
    assert text.index("5.1.1:") < text.index("550:") < text.index("5xx:")
    assert "does not exist" in text and "permanent" in text


def test_an_unlisted_enhanced_code_means_its_subject():
    assert meaning(TABLE, None, "5.7.99") == f"5.7.99: {TABLE.subjects['7']}; 5xx: {TABLE.classes['5']}"


def test_every_generated_rule_points_at_its_row_in_the_table():
    generated = [KB.where[("rule", ident)] for ident in KB.generated]
    assert generated and all(w.path.name == "status-codes.yaml" and w.line > 1 for w in generated)


def test_a_row_speaks_at_low_confidence_when_no_specific_rule_knows_the_code():
    assert first(reply(code=550, enhanced="5.1.1", text=PLAIN_TEXT, stage="rcpt")) == ("recipient.rejected", "low")
    assert "status-X.1.1" in infer(KB, reply(code=550, enhanced="5.1.1", text=PLAIN_TEXT, stage="rcpt")).fired


def test_a_row_that_yields_to_policy_gives_way_to_a_security_enhanced_code():
    # 552 alone guesses "too large"; 552 5.7.0 says a policy blocked the message.
    assert first_id(reply(code=552, text=PLAIN_TEXT, stage="unknown")) == "message.too_large"
    assert first_id(reply(code=552, enhanced="5.7.0", text=PLAIN_TEXT, stage="unknown")) != "message.too_large"


def test_a_row_that_does_not_yield_keeps_its_guess_beside_a_security_enhanced_code():
    assert first_id(reply(code=530, enhanced="5.7.0", text=PLAIN_TEXT, stage="mail")) == "auth.required"
