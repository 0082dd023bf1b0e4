"""Ask well: a person is asked only what can change the conclusion, and typical journeys are short.

Each journey is what a person would answer; ScriptedAsker(only_useful=True) is asked as a person
at a terminal is, and records what was asked.
"""

from __future__ import annotations

import pytest

from engine.decide.session import ScriptedAsker, run_session
from engine.knowledge.load import load_knowledge
from tests.layers import facts_of, write

TYPICAL_MOST = 5

JOURNEYS = {
    "probe refused, vendor cloud": (
        {"config.host": "smtp.example.com", "config.port": 587, "tcp.connect": "refused"},
        {"deployment": "vendor_cloud", "works_elsewhere": "no"},
        "network.connection_refused",
    ),
    "guided, pasted refusal, on premises": (
        {"session.guided": True},
        {
            "symptom": "nothing_sends",
            "error_text": "java.net.ConnectException: Connection refused (Connection refused)",
            "deployment": "on_premises",
            "works_elsewhere": "no",
        },
        "network.connection_refused",
    ),
    "guided, test passes, From without Send As": (
        {"session.guided": True},
        {"symptom": "test_passes", "send_as": "not_granted", "account_new": "in_use", "queue_async": "no"},
        "sender.not_registered",
    ),
    "guided, test passes, new account": (
        {"session.guided": True},
        {"symptom": "test_passes", "send_as": "same_mailbox", "account_new": "new", "queue_async": "no"},
        "auth.account_verification_required",
    ),
    "guided, some recipient domains": (
        {"session.guided": True},
        {"symptom": "some_recipients", "recipients_failing": "some_domains"},
        "reputation.sender_untrusted",
    ),
    "guided, relay refused from some nodes": (
        {"session.guided": True},
        {
            "symptom": "stopped_working",
            "error_text": "554 5.7.1 <someone@example.org>: Relay access denied",
            "when_failing": "some_nodes",
        },
        "relay.denied",
    ),
    "guided, queue processor stopped": (
        {"session.guided": True},
        {"symptom": "stays_queued", "queue_async": "yes", "queue_processor": "stopped", "queue_failed_count": 0},
        "queue.processor_not_running",
    ),
}


@pytest.mark.parametrize("name", sorted(JOURNEYS))
def test_a_typical_journey_asks_five_questions_or_fewer_and_reaches_its_finding(kb, name):
    facts, answers, finding = JOURNEYS[name]
    asker = ScriptedAsker(dict(answers), only_useful=True)
    result = run_session(kb, facts_of(facts), asker)
    assert result.inference.findings and result.inference.findings[0].finding == finding, asker.asked
    assert len(asker.asked) <= TYPICAL_MOST, asker.asked


@pytest.fixture(scope="module")
def idle_questions(tmp_path_factory):
    """A question no rule reads: whatever the answer, nothing changes."""
    root = tmp_path_factory.mktemp("journeys")
    write(
        root,
        "questions/idle.yaml",
        """
        questions:
          - id: idle_curiosity
            text: Which operating system does the server run?
            why: Nothing reads it yet.
            kind: choice
            choices:
              - {value: linux, label: Linux}
              - {value: windows, label: Windows}
            priority: 1
            when: {finding: network.connection_refused}
    """,
    )
    return load_knowledge([root])


def test_a_question_no_answer_of_which_changes_anything_is_not_asked_of_a_person(idle_questions):
    facts = {"tcp.connect": "refused"}
    person = ScriptedAsker({"deployment": "on_premises", "works_elsewhere": "no"}, only_useful=True)
    result = run_session(idle_questions, facts_of(facts), person)
    assert "idle_curiosity" not in person.asked
    assert "idle_curiosity" not in [q.question.id for q in result.questions]  # nor listed as open
    # A script answers whatever is pending, as before.
    script = ScriptedAsker({"deployment": "on_premises", "works_elsewhere": "no"})
    run_session(idle_questions, facts_of(facts), script)
    assert script.asked[0] == "idle_curiosity"


@pytest.mark.parametrize(
    ("deployment", "client", "finding", "contact", "not_found"),
    [
        # It sends from the application server: the application's own settings or runtime differ.
        ("on_premises", "sends", "config.invalid", "application_admin", "network.server_specific"),
        # It fails there too, while another machine sends: that server's network path.
        ("vendor_cloud", "fails", "network.server_specific", "cloud_support", "config.invalid"),
    ],
)
def test_an_smtp_client_on_the_application_server_decides_between_its_settings_and_its_network(
    kb, deployment, client, finding, contact, not_found
):
    facts = {"config.host": "smtp.example.com", "config.port": 587, "tcp.connect": "timeout"}
    answers = {"deployment": deployment, "works_elsewhere": "yes", "app_server_client": client}
    person = ScriptedAsker(answers, only_useful=True)
    result = run_session(kb, facts_of(facts), person)
    found = {c.finding: c.contact for c in result.inference.findings}
    assert "app_server_client" in person.asked
    assert found.get(finding) == contact
    assert not_found not in found


def test_the_application_server_client_is_not_asked_when_nothing_works_anywhere(kb):
    facts = {"config.host": "smtp.example.com", "config.port": 587, "tcp.connect": "timeout"}
    person = ScriptedAsker({"deployment": "on_premises", "works_elsewhere": "no"}, only_useful=True)
    run_session(kb, facts_of(facts), person)
    assert "app_server_client" not in person.asked
