"""The queue questions: asked when they matter, and a failed item's error text read like a log."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.decide.session import NoAsker, ScriptedAsker, run_session
from engine.knowledge.load import load_knowledge
from engine.knowledge.model import Knowledge, KnowledgeInvalid
from engine.redact import Redactor
from tests.layers import facts_of, line_of, write

PROBES_PASS = {
    "config.source": "flags",
    "config.host": "smtp.example.com",
    "config.port": 587,
    "dns.resolved": True,
    "tcp.connect": "ok",
    "smtp.stage": "done",
}
AUTH_535 = "javax.mail.AuthenticationFailedException: 535 5.7.3 Authentication unsuccessful"


def test_when_every_probe_passes_the_queue_questions_follow_one_another(kb: Knowledge) -> None:
    asker = ScriptedAsker(
        {"queue_async": "yes", "queue_processor": "running", "queue_failed_count": 4, "queue_failed_error": AUTH_535}
    )
    result = run_session(kb, facts_of(PROBES_PASS), asker)
    # The failed item's error text is a refused login, which opens the questions about the login:
    # does it work at the provider's web sign-in, and is it a password or OAuth 2.0.
    assert asker.asked == [
        "queue_async",
        "queue_processor",
        "queue_failed_count",
        "queue_failed_error",
        "credentials_web_signin",
        "auth_method",
    ]
    found = [f.finding for f in result.inference.findings]
    assert "queue.failed_messages" in found and "auth.credentials_rejected" in found


def test_synchronous_sending_ends_the_queue_questions(kb: Knowledge) -> None:
    asker = ScriptedAsker({"queue_async": "no"})
    run_session(kb, facts_of(PROBES_PASS), asker)
    assert asker.asked == ["queue_async"]


def test_an_empty_error_queue_asks_for_no_error_text(kb: Knowledge) -> None:
    asker = ScriptedAsker({"queue_async": "yes", "queue_processor": "running", "queue_failed_count": 0})
    result = run_session(kb, facts_of(PROBES_PASS), asker)
    assert "queue_failed_error" not in asker.asked
    assert "queue.failed_messages" in {v.finding for v in result.inference.ruled_out}


def test_no_queue_question_is_asked_while_the_connection_fails(kb: Knowledge) -> None:
    asker = ScriptedAsker({})
    run_session(kb, facts_of({"tcp.connect": "refused"}), asker)
    assert not [q for q in asker.asked if q.startswith("queue_")]


def test_the_pasted_error_of_a_failed_item_becomes_facts_with_the_question_as_origin(kb: Knowledge) -> None:
    result = run_session(
        kb,
        facts_of(PROBES_PASS),
        NoAsker(),
        preset={"queue_async": "yes", "queue_failed_count": 2.0, "queue_failed_error": AUTH_535},
    )
    mined = [o for o in result.facts.items if o.origin == "answer queue_failed_error"]
    assert ("auth.result", "rejected") in {(o.name, o.value) for o in mined}
    assert all(o.evidence == AUTH_535 for o in mined)
    assert "log.lines" not in result.facts.names()  # an answer is not a log


def test_the_mined_answer_is_redacted_before_it_becomes_evidence(kb: Knowledge) -> None:
    text = "javax.mail.AuthenticationFailedException: 535 5.7.3 Authentication unsuccessful for password s3cret-Pa55"
    result = run_session(
        kb,
        facts_of(PROBES_PASS),
        NoAsker(),
        preset={"queue_async": "yes", "queue_failed_error": text},
        redact=Redactor(["s3cret-Pa55"]),
    )
    mined = [o for o in result.facts.items if o.origin == "answer queue_failed_error"]
    assert mined and all("s3cret" not in (o.evidence or "") for o in mined)


def test_only_text_questions_can_be_mined(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "questions/bad.yaml",
        """
        questions:
          - id: bad_mined_choice
            text: Is it broken?
            why: A test.
            kind: yes_no
            mine: true
            when: {finding: connectivity.ok}
    """,
    )
    with pytest.raises(KnowledgeInvalid) as caught:
        load_knowledge([tmp_path])
    [problem] = caught.value.problems
    assert problem.path == path
    assert "only 'text' questions can be mined" in problem.message
    assert problem.line == line_of(path, "id: bad_mined_choice")  # the question that says so
