"""One reply model: a reply's code, enhanced code, text and stage are tested together, and the
rule tiers let specific knowledge outrank the status-code backbone, and both the last resort."""

from __future__ import annotations

import pytest

from engine.decide.inference import infer
from engine.facts import FactSet, Observation
from engine.knowledge.load import load_knowledge
from engine.knowledge.model import KnowledgeInvalid
from tests.layers import rule


def reply(group: str, **fields: object) -> list[Observation]:
    return [Observation(f"reply.{k}", v, "log", f"line {group}", group, group) for k, v in fields.items()]  # type: ignore[arg-type]


def facts(*replies: list[Observation]) -> FactSet:
    out = FactSet()
    for observations in replies:
        out.extend(observations)
    return out


@pytest.fixture(scope="module")
def kb(tmp_path_factory):
    root = tmp_path_factory.mktemp("replies")
    rule(
        root,
        "sender-refused-at-rcpt",
        """
        reply:
          all:
            - {fact: reply.code, equals: 553}
            - {fact: reply.text, matches: 'Sender zork refused'}
        """,
        finding="sender.not_registered",
    )
    rule(
        root,
        "backbone-5-7-1",
        "reply: {fact: reply.enhanced, equals: 5.7.1}",
        finding="relay.denied",
        extra="tier: backbone\nconfidence: low\n",
    )
    rule(
        root,
        "last-resort-any-failure",
        "reply: {fact: reply.code, ge: 400}",
        finding="failure.unclassified",
        extra="tier: last_resort\nconfidence: low\n",
    )
    return load_knowledge([root])


WATCHED = {"sender.not_registered", "relay.denied", "failure.unclassified"}


def found(kb, fs: FactSet) -> list[str]:
    return [c.finding for c in infer(kb, fs).findings if c.finding in WATCHED]


def test_a_reply_test_holds_when_one_reply_has_every_part(kb):
    fs = facts(reply("a", code=553, enhanced="5.7.1", text="<x@y>: Sender zork refused: not owned by user"))
    assert found(kb, fs) == ["sender.not_registered"]


def test_parts_from_two_different_replies_never_combine(kb):
    fs = facts(reply("a", code=553, text="Mailbox name not allowed"), reply("b", code=250, text="Sender zork refused?"))
    assert "sender.not_registered" not in found(kb, fs)


def test_the_evidence_of_a_reply_rule_is_the_whole_reply(kb):
    fs = facts(reply("a", code=553, enhanced="5.7.1", text="Sender zork refused: not owned", stage="rcpt"))
    [conclusion] = [c for c in infer(kb, fs).findings if c.finding == "sender.not_registered"]
    assert {o.name for o in conclusion.evidence} == {"reply.code", "reply.enhanced", "reply.text", "reply.stage"}


def test_the_backbone_speaks_only_when_no_specific_rule_found_an_error(kb):
    assert found(kb, facts(reply("a", code=554, enhanced="5.7.1", text="Access denied"))) == ["relay.denied"]
    specific = facts(reply("a", code=553, enhanced="5.7.1", text="Sender zork refused"))
    assert found(kb, specific) == ["sender.not_registered"]


def test_the_last_resort_speaks_only_when_nothing_else_found_an_error(kb):
    assert found(kb, facts(reply("a", code=580, text="Something nobody has a row for"))) == ["failure.unclassified"]
    assert "failure.unclassified" not in found(kb, facts(reply("a", code=554, enhanced="5.7.1", text="Access denied")))


def test_given_facts_without_a_group_form_one_reply(kb):
    fs = FactSet()
    fs.extend([Observation("reply.code", 553, "log"), Observation("reply.text", "Sender zork refused", "log")])
    assert found(kb, fs) == ["sender.not_registered"]


def test_a_reply_test_may_only_test_reply_facts(tmp_path):
    when = "reply:\n  all:\n    - {fact: reply.code, equals: 553}\n    - {fact: tcp.connect, equals: ok}"
    rule(tmp_path, "mixed", when)
    with pytest.raises(KnowledgeInvalid, match=r"only reply\.\* facts can be tested; move 'tcp\.connect'"):
        load_knowledge([tmp_path])
