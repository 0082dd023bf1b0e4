"""engine.decide.session: one question at a time, answers as facts, 'unknown' as a real answer."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from rich.console import Console

from engine.cli.prompt import TerminalAsker
from engine.decide.session import (
    BACK,
    AnswerError,
    AskContext,
    NoAsker,
    ScriptedAsker,
    check_answers,
    consequences,
    normalize_answer,
    run_session,
)
from engine.facts import FactSet
from engine.knowledge.load import load_knowledge
from engine.knowledge.yamlfile import loads
from tests.layers import facts_of, routed_finding, rule, write

REFUSED = {"tcp.connect": "refused"}


@pytest.fixture(scope="module")
def layered(tmp_path_factory):
    """Two extra questions, the second moot once the first is answered 'no'; a routed finding."""
    root = tmp_path_factory.mktemp("session")
    write(
        root,
        "questions/service.yaml",
        """
        questions:
          - id: service_running
            text: Is the mail service running on the server?
            why: A stopped service refuses every connection.
            kind: yes_no
            priority: 1
            when: {finding: network.connection_refused}
          - id: port_documented
            text: Is the port the one the provider documents?
            why: Only worth asking if the service runs.
            kind: yes_no
            priority: 2
            when:
              all:
                - finding: network.connection_refused
                - not: {fact: answer.service_running, equals: "no"}
          - id: retries
            text: How many times did the application retry?
            why: Many retries can trip a rate limit.
            kind: number
            priority: 90
            when: {finding: network.connection_timeout}
    """,
    )
    routed_finding(root, "warning")
    rule(root, "refused-routed", "fact: tcp.connect\nequals: refused", finding="custom.routed")
    return load_knowledge([root])


# --- one question at a time ----------------------------------------------------------------------


def test_the_scripted_asker_is_asked_one_question_at_a_time_in_priority_order(kb):
    asker = ScriptedAsker({"deployment": "vendor_cloud", "works_elsewhere": "no"})
    result = run_session(kb, facts_of(REFUSED), asker)
    assert asker.asked == ["deployment", "works_elsewhere"]
    assert [(q.question.id, q.answer) for q in result.questions] == [
        ("deployment", "vendor_cloud"),
        ("works_elsewhere", "no"),
    ]


def test_each_answer_becomes_an_answer_fact_with_its_question_as_evidence(kb):
    result = run_session(kb, facts_of(REFUSED), ScriptedAsker({"deployment": "vendor_cloud"}))
    [answer] = [o for o in result.facts.items if o.name == "answer.deployment"]
    assert answer.value == "vendor_cloud"
    assert answer.source == "answer"
    assert answer.evidence == "Where does the application that sends the email run? -> vendor_cloud"


def test_the_final_inference_uses_the_answers(kb):
    answers = {"deployment": "vendor_cloud", "works_elsewhere": "yes", "app_server_client": "fails"}
    result = run_session(kb, facts_of(REFUSED), ScriptedAsker(answers))
    findings = {c.finding: c.contact for c in result.inference.findings}
    assert findings == {"network.connection_refused": "cloud_support", "network.server_specific": "cloud_support"}
    assert result.inference.pending == []


def test_an_answer_that_makes_another_question_moot_means_it_is_not_asked(layered):
    asker = ScriptedAsker({"service_running": "no"})
    result = run_session(layered, facts_of(REFUSED), asker)
    assert "port_documented" not in asker.asked
    assert "port_documented" not in [q.question.id for q in result.questions]
    assert asker.asked[0] == "service_running"


def test_the_other_answer_leaves_the_follow_up_question_worth_asking(layered):
    asker = ScriptedAsker({"service_running": "yes"})
    run_session(layered, facts_of(REFUSED), asker)
    assert asker.asked[:2] == ["service_running", "port_documented"]


def test_nothing_is_asked_when_nothing_is_wrong(kb):
    asker = ScriptedAsker({})
    result = run_session(kb, facts_of({"tcp.connect": "ok"}), asker)
    assert asker.asked == []
    assert result.questions == []


def test_preset_answers_are_never_asked(kb):
    asker = ScriptedAsker({})
    result = run_session(kb, facts_of(REFUSED), asker, preset={"deployment": "on_premises", "works_elsewhere": "no"})
    assert asker.asked == []
    assert {q.question.id: q.answer for q in result.questions} == {"deployment": "on_premises", "works_elsewhere": "no"}
    assert [o.origin for o in result.facts.items if o.name.startswith("answer.")] == ["answers file", "answers file"]


# --- nobody to ask -------------------------------------------------------------------------------


def test_no_asker_leaves_the_questions_unanswered_in_the_result(kb):
    result = run_session(kb, facts_of(REFUSED), NoAsker())
    assert [(q.question.id, q.answer) for q in result.questions] == [("deployment", None), ("works_elsewhere", None)]
    assert [q.id for q in result.inference.pending] == ["deployment", "works_elsewhere"]
    assert "answer.deployment" not in result.facts.names()


def test_a_question_the_script_cannot_answer_is_asked_once_and_left_open(kb):
    asker = ScriptedAsker({"works_elsewhere": "no"})
    result = run_session(kb, facts_of(REFUSED), asker)
    assert asker.asked == ["deployment", "works_elsewhere"]
    assert {q.question.id: q.answer for q in result.questions} == {"deployment": None, "works_elsewhere": "no"}


# --- 'unknown' is an answer ----------------------------------------------------------------------


def test_unknown_is_a_real_answer_distinct_from_never_asked(layered):
    answered = run_session(layered, facts_of(REFUSED), ScriptedAsker({"deployment": "unknown"}))
    unasked = run_session(layered, facts_of(REFUSED), NoAsker())

    assert {q.question.id: q.answer for q in answered.questions}["deployment"] == "unknown"
    assert {q.question.id: q.answer for q in unasked.questions}["deployment"] is None
    assert "deployment" not in [q.id for q in answered.inference.pending]
    assert "deployment" in [q.id for q in unasked.inference.pending]
    assert answered.facts.first("answer.deployment") == "unknown"


def test_an_unknown_answer_routes_to_otherwise_and_is_not_asked_again(layered):
    asker = ScriptedAsker({"deployment": "unknown"})
    result = run_session(layered, facts_of(REFUSED), asker)
    assert asker.asked.count("deployment") == 1
    [routed] = [c for c in result.inference.findings if c.finding == "custom.routed"]
    assert routed.contact == "self"


def test_a_known_answer_routes_to_its_case(layered):
    result = run_session(layered, facts_of(REFUSED), ScriptedAsker({"deployment": "vendor_cloud"}))
    [routed] = [c for c in result.inference.findings if c.finding == "custom.routed"]
    assert routed.contact == "cloud_support"


def test_a_preset_unknown_is_not_asked(kb):
    asker = ScriptedAsker({})
    run_session(kb, facts_of(REFUSED), asker, preset={"deployment": "unknown"})
    assert asker.asked == ["works_elsewhere"]


# --- answers files -------------------------------------------------------------------------------


def test_check_answers_accepts_valid_answers_and_lowers_their_case(kb):
    assert check_answers(kb, {"deployment": "Own_Cloud", "works_elsewhere": "NO"}) == {
        "deployment": "own_cloud",
        "works_elsewhere": "no",
    }


def test_an_older_answer_kept_as_an_alias_means_its_choice(kb):
    # findings.md: "cloud" stays accepted in answers files as a synonym of vendor_cloud.
    assert check_answers(kb, {"deployment": "Cloud"}) == {"deployment": "vendor_cloud"}


def test_check_answers_rejects_an_unknown_question_with_a_did_you_mean(kb):
    with pytest.raises(AnswerError) as caught:
        check_answers(kb, {"deploymnet": "cloud"})
    assert "unknown question 'deploymnet' (did you mean 'deployment'?)" in str(caught.value)


def test_check_answers_rejects_a_value_that_is_not_a_choice(kb):
    with pytest.raises(AnswerError) as caught:
        check_answers(kb, {"deployment": "clowd"})
    message = str(caught.value)
    assert "'clowd' is not an answer to 'deployment'" in message
    assert "(did you mean 'cloud'?)" in message
    assert "on_premises, own_cloud, vendor_cloud, unknown" in message


def test_check_answers_reports_every_problem_at_once(kb):
    with pytest.raises(AnswerError) as caught:
        check_answers(kb, {"deploymnet": "cloud", "works_elsewhere": "maybe"})
    message = str(caught.value)
    assert "deploymnet" in message and "'maybe' is not an answer to 'works_elsewhere'" in message


def test_yaml_booleans_for_yes_no_questions_become_yes_and_no(kb):
    data = loads("works_elsewhere: yes\n", Path("answers.yaml")).data
    assert data == {"works_elsewhere": True}  # YAML 1.1 reads a bare yes as a boolean
    assert check_answers(kb, data) == {"works_elsewhere": "yes"}
    assert check_answers(kb, {"works_elsewhere": False}) == {"works_elsewhere": "no"}


def test_a_boolean_is_not_an_answer_to_a_choice_question(kb):
    with pytest.raises(AnswerError):
        check_answers(kb, {"deployment": True})


def test_a_missing_value_is_rejected(kb):
    with pytest.raises(AnswerError) as caught:
        check_answers(kb, {"deployment": None})
    assert "wants a single value" in str(caught.value)


def test_a_number_question_takes_numbers_and_unknown_but_not_booleans(layered):
    question = layered.questions["retries"]
    assert normalize_answer(question, "12") == 12.0
    assert normalize_answer(question, 3) == 3.0
    assert normalize_answer(question, "Unknown") == "unknown"
    with pytest.raises(AnswerError):
        normalize_answer(question, True)
    with pytest.raises(AnswerError):
        normalize_answer(question, "a dozen")


def test_an_answers_file_with_a_bare_yes_reaches_the_report_as_yes(cli, tmp_path):
    log = tmp_path / "error.txt"
    log.write_text("java.net.ConnectException: Connection refused (Connection refused)\n")
    answers = tmp_path / "answers.yaml"
    answers.write_text("deployment: on_premises\nworks_elsewhere: yes\n")
    result = cli("analyze-log", str(log), "--answers", str(answers), "--non-interactive", "--format", "json")
    report = json.loads(result.out)
    assert {q["id"]: q["answer"] for q in report["questions"]} == {
        "deployment": "on_premises",
        "works_elsewhere": "yes",
        "app_server_client": None,  # open: it could still hand the case to the application's admin
    }
    assert [f["id"] for f in report["findings"]] == ["network.connection_refused", "network.server_specific"]


# --- the terminal asker --------------------------------------------------------------------------


@pytest.fixture
def terminal():
    def make(typed: str) -> tuple[TerminalAsker, io.StringIO]:
        screen = io.StringIO()
        return TerminalAsker(io.StringIO(typed), Console(file=screen, width=200, color_system=None)), screen

    return make


def test_the_terminal_shows_the_question_why_and_numbered_choices(kb, terminal):
    asker, screen = terminal("1\n")
    asker.ask(kb.questions["deployment"])
    shown = screen.getvalue()
    assert "Where does the application that sends the email run?" in shown
    assert "Why: A blocked or refused connection" in shown
    assert "1. On premises" in shown and "2. In our own cloud account" in shown
    assert "3. In a cloud the vendor runs for us" in shown and "4. I don't know" in shown


def test_a_number_picks_the_choice(kb, terminal):
    asker, _ = terminal("3\n")
    assert asker.ask(kb.questions["deployment"]) == "vendor_cloud"


def test_a_number_picks_a_yes_no_answer(kb, terminal):
    asker, _ = terminal("3\n")
    assert asker.ask(kb.questions["works_elsewhere"]) == "unknown"


def test_a_typed_value_is_accepted_too(kb, terminal):
    asker, _ = terminal("On_Premises\n")
    assert asker.ask(kb.questions["deployment"]) == "on_premises"


def test_invalid_input_reprompts_with_the_reason(kb, terminal):
    asker, screen = terminal("7\nsomewhere\n1\n")
    assert asker.ask(kb.questions["deployment"]) == "on_premises"
    shown = screen.getvalue()
    assert "'7' is not an answer to 'deployment'" in shown
    assert "'somewhere' is not an answer to 'deployment'" in shown
    assert shown.count("Answer (? why, skip; Enter skips):") == 3


def test_an_empty_line_skips_the_question(kb, terminal):
    asker, _ = terminal("\n1\n")
    assert asker.ask(kb.questions["deployment"]) is None


def test_the_end_of_input_skips_the_question(kb, terminal):
    asker, _ = terminal("")
    assert asker.ask(kb.questions["deployment"]) is None


def test_three_invalid_answers_give_up_on_the_question(kb, terminal):
    asker, _ = terminal("x\ny\nz\n1\n")
    assert asker.ask(kb.questions["deployment"]) is None


def test_a_terminal_session_asks_each_question_once(kb, terminal):
    asker, screen = terminal("1\n2\n")
    result = run_session(kb, facts_of(REFUSED), asker)
    assert {q.question.id: q.answer for q in result.questions} == {"deployment": "on_premises", "works_elsewhere": "no"}
    assert screen.getvalue().count("Where does the application") == 1


def test_a_skipped_question_stays_unanswered_and_is_not_asked_again(kb, terminal):
    asker, screen = terminal("\n\n")
    result = run_session(kb, FactSet(facts_of(REFUSED).items), asker)
    assert [q.answer for q in result.questions] == [None, None]
    assert screen.getvalue().count("Where does the application") == 1


# --- at a question: why, back, skip, I don't know ---------------------------------------------


def refused_session(kb, asker, saved=None):
    return run_session(kb, facts_of(REFUSED), asker, on_answer=None if saved is None else saved.append)


def test_going_back_asks_the_previous_question_again_and_the_new_answer_counts(kb):
    asker = ScriptedAsker({}, script=["on_premises", BACK, "vendor_cloud", "no"])
    saved: list[dict] = []
    result = refused_session(kb, asker, saved)
    assert asker.asked == ["deployment", "works_elsewhere", "deployment", "works_elsewhere"]
    answers = {q.question.id: q.answer for q in result.questions}
    assert answers["deployment"] == "vendor_cloud"
    refused = next(c for c in result.inference.findings if c.finding == "network.connection_refused")
    assert refused.contact == "cloud_support"
    # Saved after each answer and after the step back, so an interruption loses nothing.
    assert saved == [
        {"deployment": "on_premises"},
        {},
        {"deployment": "vendor_cloud"},
        {"deployment": "vendor_cloud", "works_elsewhere": "no"},
    ]


def test_the_first_question_offers_no_way_back_and_later_ones_do(kb):
    asker = ScriptedAsker({}, script=["on_premises", None])
    refused_session(kb, asker)
    assert [c.can_go_back for c in asker.contexts if c is not None] == [False, True]


def test_why_says_what_each_answer_would_change_worked_out_by_inference(kb):
    facts = facts_of(REFUSED)
    now = run_session(kb, facts, NoAsker()).inference
    effects = {e.answer: e for e in consequences(kb, facts, kb.questions["deployment"], now)}
    assert set(effects) == {"on_premises", "own_cloud", "vendor_cloud", "unknown"}
    assert effects["vendor_cloud"].reroutes == [("network.connection_refused", "network_admin", "cloud_support")]
    assert effects["on_premises"].reroutes == [] and effects["on_premises"].confirms == []


def test_typing_why_at_the_terminal_lists_each_answers_effect_then_asks_again(kb, terminal):
    facts = facts_of(REFUSED)
    now = run_session(kb, facts, NoAsker()).inference
    context = AskContext(lambda: consequences(kb, facts, kb.questions["deployment"], now))
    asker, screen = terminal("why\n3\n")
    assert asker.ask(kb.questions["deployment"], context) == "vendor_cloud"
    shown = screen.getvalue()
    assert "What each answer would do:" in shown
    assert "network.connection_refused goes to the cloud support (not the network admin)" in shown
    assert "On premises (our own data centre or servers): changes nothing in the conclusion" in shown


def test_back_skip_and_i_dont_know_are_understood_at_the_terminal(kb, terminal):
    context = AskContext(lambda: [], can_go_back=True)
    asker, _ = terminal("back\n")
    assert asker.ask(kb.questions["deployment"], context) is BACK
    asker, screen = terminal("back\n1\n")  # no previous answer: 'back' is not offered, nor taken
    assert asker.ask(kb.questions["deployment"], AskContext(lambda: [])) == "on_premises"
    assert ", back" not in screen.getvalue()
    asker, _ = terminal("skip\n")
    assert asker.ask(kb.questions["deployment"], context) is None
    asker, _ = terminal("I don't know\n")
    assert asker.ask(kb.questions["works_elsewhere"], context) == "unknown"
