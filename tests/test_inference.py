"""engine.decide.inference with facts given directly: what is concluded, in which order, why, for whom."""

from __future__ import annotations

import pytest

from engine.decide.inference import infer
from engine.facts import FactSet, Observation
from engine.knowledge.load import load_knowledge
from tests.layers import facts_of, routed_finding, rule, write

# --- layers written for these tests --------------------------------------------------------------

LAB_FACTS = """
    facts:
      lab.word:
        type: str
        description: a word
      lab.count:
        type: int
        description: a count
      lab.ratio:
        type: float
        description: a ratio
      lab.flag:
        type: bool
        description: a flag
      lab.trigger:
        type: str
        description: makes the ordering rules fire
"""

OPERATOR_RULES = {
    "op-all": "all:\n  - {fact: lab.word, equals: a}\n  - {fact: lab.count, equals: 2}",
    "op-any": "any:\n  - {fact: lab.word, equals: a}\n  - {fact: lab.count, equals: 2}",
    "op-not": "not: {fact: lab.word, equals: a}",
    "op-not-finding": "all:\n  - {fact: tcp.connect, equals: refused}\n  - not: {finding: dns.host_not_found}",
    "op-absent": "fact: lab.word\nabsent: true",
    "op-present": "fact: lab.word\npresent: true",
    "op-matches": "fact: lab.word\nmatches: '^ab+c$'",
    "op-one-of": "fact: lab.word\none_of: [x, y]",
    "op-gt": "fact: lab.count\ngt: 3",
    "op-ge": "fact: lab.count\nge: 3",
    "op-lt": "fact: lab.count\nlt: 3",
    "op-le": "fact: lab.count\nle: 3",
    "op-ratio-gt": "fact: lab.ratio\ngt: 0.5",
    "op-count-is-one": "fact: lab.count\nequals: 1",
    "op-flag-is-true": "fact: lab.flag\nequals: true",
    "op-ratio-is-thirty": "fact: lab.ratio\nequals: 30",
    "op-ratio-is-half": "fact: lab.ratio\nequals: 0.5",
}

# Named so that their alphabetical order is not the order the report must use.
ORDERING_RULES = {
    "a-info": ("connectivity.ok", "high"),
    "b-warning-step6": ("queue.failed_messages", "high"),
    "c-warning-step4": ("tls.certificate_expiring", "high"),
    "d-error-low-step2": ("smtp.no_greeting", "low"),
    "e-error-medium-step2": ("smtp.service_unavailable", "medium"),
    "f-error-high-step5": ("sender.not_registered", "high"),
    "g-error-high-step4": ("auth.credentials_rejected", "high"),
}


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    root = tmp_path_factory.mktemp("lab")
    write(root, "facts.yaml", LAB_FACTS)
    routed_finding(root, "error")
    for ident, when in OPERATOR_RULES.items():
        rule(root, ident, when, area="operators")
    for ident, (finding, confidence) in ORDERING_RULES.items():
        rule(
            root,
            ident,
            "fact: lab.trigger\npresent: true",
            finding=finding,
            area="ordering",
            extra=f"confidence: {confidence}\n",
        )
    rule(root, "routed", "fact: lab.word\nequals: route", finding="custom.routed", area="routing")
    rule(
        root,
        "routed-to-provider",
        "fact: lab.word\nequals: provider",
        finding="custom.routed",
        area="routing",
        extra="contact: email_provider\n",
    )
    rule(root, "retired", "fact: lab.word\npresent: true", area="routing", extra="status: deprecated\n")
    return load_knowledge([root])


def fired(kb, values: dict, prefix: str = "op-") -> set[str]:
    return {r for r in infer(kb, facts_of(values)).fired if r.startswith(prefix)}


# --- ordering ------------------------------------------------------------------------------------


def test_findings_are_ordered_by_severity_then_confidence_then_decision_tree_step(lab):
    result = infer(lab, facts_of({"lab.trigger": "go"}))
    assert [c.finding for c in result.findings] == [
        "auth.credentials_rejected",  # error, high, step 4
        "sender.not_registered",  # error, high, step 5
        "smtp.service_unavailable",  # error, medium, step 2
        "smtp.no_greeting",  # error, low, step 2
        "tls.certificate_expiring",  # warning, high, step 4
        "queue.failed_messages",  # warning, high, step 6
        "connectivity.ok",  # info
    ]


def test_a_high_confidence_finding_comes_before_a_medium_one_of_the_same_severity(kb):
    result = infer(kb, facts_of({"tcp.connect": "refused", "answer.works_elsewhere": "yes"}))
    assert [(c.finding, c.confidence) for c in result.findings] == [
        ("network.connection_refused", "high"),
        ("network.server_specific", "medium"),
    ]


def test_when_two_rules_conclude_one_finding_the_most_confident_one_speaks_for_it(kb):
    facts = facts_of({"dns.resolved": False})
    facts.extend(facts_of({"dns.error": "timeout"}).items + facts_of({"dns.error": "nxdomain"}).items)
    [conclusion] = infer(kb, facts).findings
    assert conclusion.finding == "dns.host_not_found"
    assert conclusion.confidence == "high"
    assert conclusion.rule == "dns-host-not-found"
    assert sorted(step.rule for step in conclusion.steps) == ["dns-host-not-found", "dns-lookup-failed"]


# --- contact routing -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "contact"),
    [
        ("on_premises", "network_admin"),
        ("own_cloud", "network_admin"),
        ("vendor_cloud", "cloud_support"),
        ("unknown", "network_admin"),
        (None, "network_admin"),
    ],
)
def test_a_refused_connection_is_routed_by_the_deployment_answer(kb, answer, contact):
    values = {"tcp.connect": "refused"}
    if answer is not None:
        values["answer.deployment"] = answer
    [conclusion] = infer(kb, facts_of(values)).findings
    assert conclusion.contact == contact


@pytest.mark.parametrize(
    ("answer", "contact"),
    [("on_premises", "network_admin"), ("vendor_cloud", "cloud_support"), ("unknown", "self"), (None, "self")],
)
def test_an_unknown_or_absent_answer_routes_to_otherwise(lab, answer, contact):
    values = {"lab.word": "route"}
    if answer is not None:
        values["answer.deployment"] = answer
    [conclusion] = [c for c in infer(lab, facts_of(values)).findings if c.finding == "custom.routed"]
    assert conclusion.contact == contact


@pytest.mark.parametrize(
    ("answer", "assumed"),
    [("yes", None), ("unknown", "answer.credentials_web_signin"), (None, "answer.credentials_web_signin")],
)
def test_a_known_answer_no_case_names_routes_by_otherwise_without_an_assumption(kb, answer, assumed):
    values = {"reply.code": 535, "reply.enhanced": "5.7.8", "reply.stage": "auth"}
    if answer is not None:
        values["answer.credentials_web_signin"] = answer
    [conclusion] = [c for c in infer(kb, facts_of(values)).findings if c.finding == "auth.credentials_rejected"]
    assert conclusion.contact == "application_admin"
    assert conclusion.contact_assumed_by == assumed


def test_a_rules_own_contact_overrides_the_findings_routing(lab):
    values = {"lab.word": "provider", "answer.deployment": "vendor_cloud"}
    [conclusion] = [c for c in infer(lab, facts_of(values)).findings if c.finding == "custom.routed"]
    assert conclusion.contact == "email_provider"


def test_a_fixed_contact_ignores_the_deployment_answer(kb):
    values = {"config.security": "ssl", "config.port": 587, "answer.deployment": "vendor_cloud"}
    [conclusion] = infer(kb, facts_of(values)).findings
    assert conclusion.finding == "config.invalid"
    assert conclusion.contact == "application_admin"


# --- ruled out -----------------------------------------------------------------------------------


def test_a_connection_that_succeeds_rules_out_refusal_and_timeout(kb):
    result = infer(kb, facts_of({"tcp.connect": "ok", "dns.resolved": True}))
    assert result.findings == []
    assert [c.finding for c in result.ruled_out] == [
        "dns.host_not_found",
        "network.connection_refused",
        "network.connection_timeout",
    ]
    assert all(c.verdict == "ruled_out" for c in result.ruled_out)


def test_a_finding_that_is_found_is_dropped_from_the_ruled_out_list(kb):
    # The probe connected, but a pasted log says refused: the problem wins over the all-clear.
    result = infer(
        kb,
        facts_of(
            {"tcp.connect": "ok"}, Observation("tcp.connect", "refused", "log", "Connection refused", "err.txt:1")
        ),
    )
    assert [c.finding for c in result.findings] == ["network.connection_refused"]
    assert [c.finding for c in result.ruled_out] == ["network.connection_timeout"]


def test_a_ruled_out_verdict_records_the_rule_that_checked(kb):
    [ruled_out] = infer(kb, facts_of({"dns.resolved": True, "dns.addresses": "192.0.2.10"})).ruled_out
    assert ruled_out.rule == "dns-host-resolves"
    assert [o.name for o in ruled_out.steps[0].observations] == ["dns.resolved"]


# --- explanation ---------------------------------------------------------------------------------


def test_a_step_carries_the_observation_it_matched_with_its_evidence_and_origin(kb):
    line = "java.net.ConnectException: Connection refused (Connection refused)"
    obs = Observation("tcp.connect", "refused", "log", line, "app.log:42")
    [conclusion] = infer(kb, facts_of({}, obs)).findings
    [step] = conclusion.steps
    assert step.rule == "tcp-connection-refused"
    assert step.observations == [obs]
    assert step.used == []
    assert conclusion.evidence == [obs]


def test_every_piece_of_evidence_for_the_same_fact_is_kept(kb):
    probe = Observation("tcp.connect", "refused", "probe", "connect 127.0.0.1:2525: refused", "tcp")
    log = Observation("tcp.connect", "refused", "log", "Connection refused", "err.txt:3")
    [conclusion] = infer(kb, facts_of({}, probe, log)).findings
    assert conclusion.steps[0].observations == [probe, log]
    assert conclusion.evidence == [probe, log]


def test_a_step_of_an_all_condition_carries_each_matched_observation(kb):
    security = Observation("config.security", "ssl", "config", "security=ssl", "flags")
    port = Observation("config.port", 587, "config", "port=587", "flags")
    unrelated = Observation("tcp.connect", "ok", "probe", "connected", "tcp")
    [conclusion] = infer(kb, facts_of({}, security, port, unrelated)).findings
    assert conclusion.rule == "config-ssl-on-submission-port"
    assert sorted(conclusion.steps[0].observations, key=lambda o: o.name) == [port, security]


def test_a_chained_rule_records_the_rule_it_was_built_on(kb):
    answer = Observation("answer.works_elsewhere", "yes", "answer", "Does sending work ... -> yes", "asked")
    result = infer(kb, facts_of({"tcp.connect": "refused"}, answer))
    [chained] = [c for c in result.findings if c.finding == "network.server_specific"]
    [step] = chained.steps
    assert step.rule == "works-from-another-machine"
    assert step.used == ["tcp-connection-refused"]
    assert step.observations == [answer]


def test_a_chained_rule_does_not_fire_without_the_finding_it_builds_on(kb):
    result = infer(kb, facts_of({"tcp.connect": "ok", "answer.works_elsewhere": "yes"}))
    assert "works-from-another-machine" not in result.fired


def test_fired_lists_each_rule_once(kb):
    result = infer(kb, facts_of({"tcp.connect": "refused", "answer.works_elsewhere": "yes"}))
    assert result.fired == ["tcp-connection-refused", "works-from-another-machine"]


# --- questions -----------------------------------------------------------------------------------


def test_pending_questions_come_in_priority_order(kb):
    result = infer(kb, facts_of({"tcp.connect": "refused"}))
    assert [q.id for q in result.pending] == ["deployment", "works_elsewhere"]


def test_an_answered_question_is_no_longer_pending(kb):
    result = infer(kb, facts_of({"tcp.connect": "refused", "answer.deployment": "unknown"}))
    assert [q.id for q in result.pending] == ["works_elsewhere"]


def test_no_question_is_pending_when_nothing_is_wrong(kb):
    assert infer(kb, facts_of({"tcp.connect": "ok"})).pending == []


# --- strict typing -------------------------------------------------------------------------------


def test_a_boolean_true_never_equals_the_integer_one(lab):
    assert "op-count-is-one" in fired(lab, {"lab.count": 1})
    assert "op-count-is-one" not in fired(lab, {"lab.count": True})


def test_the_integer_one_never_equals_a_boolean_true(lab):
    assert "op-flag-is-true" in fired(lab, {"lab.flag": True})
    assert "op-flag-is-true" not in fired(lab, {"lab.flag": 1})


def test_a_boolean_false_is_not_a_port_below_one(kb):
    assert "config-port-out-of-range" in infer(kb, facts_of({"config.port": 0})).fired
    assert "config-port-out-of-range" not in infer(kb, facts_of({"config.port": False})).fired


def test_a_boolean_is_not_one_of_a_list_of_ports(kb):
    assert infer(kb, facts_of({"config.security": "ssl", "config.port": True})).findings == []


def test_a_float_fact_equals_a_whole_number_written_without_a_decimal_point(lab):
    # facts.yaml says lab.ratio is a float and lint accepts `equals: 30` for it; the value a
    # probe or a signature produces for that fact is the float 30.0.
    assert "op-ratio-is-thirty" in fired(lab, {"lab.ratio": 30.0})


def test_a_float_fact_equals_a_float_literal(lab):
    assert "op-ratio-is-half" in fired(lab, {"lab.ratio": 0.5})
    assert "op-ratio-is-half" not in fired(lab, {"lab.ratio": 0.25})


def test_a_text_value_never_equals_a_number(lab):
    assert "op-count-is-one" not in fired(lab, {"lab.count": "1"})


def test_one_true_and_one_integer_observation_of_the_same_fact_stay_distinct():
    facts = FactSet()
    facts.add(Observation("lab.count", 1, "probe"), Observation("lab.count", True, "probe"))
    assert facts.distinct() == [("lab.count", 1), ("lab.count", True)]
    assert [type(v) for _, v in facts.distinct()] == [int, bool]


# --- operators -----------------------------------------------------------------------------------


def test_all_needs_every_part(lab):
    assert "op-all" in fired(lab, {"lab.word": "a", "lab.count": 2})
    assert "op-all" not in fired(lab, {"lab.word": "a", "lab.count": 3})
    assert "op-all" not in fired(lab, {"lab.count": 2})


def test_any_needs_one_part(lab):
    assert "op-any" in fired(lab, {"lab.word": "a"})
    assert "op-any" in fired(lab, {"lab.count": 2})
    assert "op-any" not in fired(lab, {"lab.word": "b", "lab.count": 3})


def test_any_with_both_parts_true_concludes_once_with_a_step_per_part(lab):
    result = infer(lab, facts_of({"lab.word": "a", "lab.count": 2}))
    [conclusion] = [c for c in result.findings if c.finding == "connectivity.ok"]
    any_steps = [s for s in conclusion.steps if s.rule == "op-any"]
    assert sorted(o.name for s in any_steps for o in s.observations) == ["lab.count", "lab.word"]


def test_not_holds_when_no_observation_matches(lab):
    assert "op-not" in fired(lab, {})
    assert "op-not" in fired(lab, {"lab.word": "b"})
    assert "op-not" not in fired(lab, {"lab.word": "a"})


def test_not_of_a_value_fails_when_any_observation_has_that_value(lab):
    facts = facts_of({"lab.word": "b"}, Observation("lab.word", "a", "log"))
    assert "op-not" not in {r for r in infer(lab, facts).fired}


def test_not_of_a_finding_fails_once_that_finding_is_concluded(lab):
    assert "op-not-finding" in fired(lab, {"tcp.connect": "refused"})
    assert "op-not-finding" not in fired(
        lab, {"tcp.connect": "refused", "dns.resolved": False, "dns.error": "nxdomain"}
    )


def test_a_negated_part_contributes_no_observation_to_the_explanation(lab):
    result = infer(lab, facts_of({"tcp.connect": "refused"}))
    [step] = [s for c in result.findings for s in c.steps if s.rule == "op-not-finding"]
    assert [o.name for o in step.observations] == ["tcp.connect"]
    assert step.used == []


def test_absent_holds_only_without_any_observation_of_the_fact(lab):
    assert "op-absent" in fired(lab, {"lab.count": 1})
    assert "op-absent" not in fired(lab, {"lab.word": ""})


def test_present_holds_for_any_value_and_binds_it(lab):
    assert "op-present" in fired(lab, {"lab.word": ""})
    assert "op-present" not in fired(lab, {"lab.count": 1})


def test_matches_searches_text_with_the_regex(lab):
    assert "op-matches" in fired(lab, {"lab.word": "abbbc"})
    assert "op-matches" not in fired(lab, {"lab.word": "xabc"})


def test_one_of_holds_for_each_listed_value_only(lab):
    assert "op-one-of" in fired(lab, {"lab.word": "x"})
    assert "op-one-of" in fired(lab, {"lab.word": "y"})
    assert "op-one-of" not in fired(lab, {"lab.word": "z"})


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        (2, {"op-lt", "op-le"}),
        (3, {"op-ge", "op-le"}),
        (4, {"op-gt", "op-ge"}),
    ],
)
def test_comparisons_respect_their_bounds(lab, count, expected):
    comparisons = {"op-gt", "op-ge", "op-lt", "op-le"}
    assert fired(lab, {"lab.count": count}) & comparisons == expected


def test_comparisons_work_on_float_facts(lab):
    assert "op-ratio-gt" in fired(lab, {"lab.ratio": 0.75})
    assert "op-ratio-gt" not in fired(lab, {"lab.ratio": 0.5})


def test_comparisons_never_hold_for_text(lab):
    comparisons = {"op-gt", "op-ge", "op-lt", "op-le"}
    assert fired(lab, {"lab.count": "3"}) & comparisons == set()


def test_a_deprecated_rule_never_fires(lab):
    assert "retired" not in infer(lab, facts_of({"lab.word": "anything"})).fired


def test_a_second_run_with_the_same_facts_concludes_the_same_and_cites_its_own_evidence(kb):
    # Many accounts on one server reach the same facts; the second inference reuses the
    # first's result, yet each cites the lines of its own run, and a fact no rule reads
    # (a timing) does not keep them apart.
    def run(evidence: str, millis: float):
        facts = FactSet()
        facts.extend(
            [
                Observation("tcp.connect", "refused", "probe", evidence, "tcp"),
                Observation("tcp.connect_ms", millis, "probe", None, "tcp"),
            ]
        )
        return infer(kb, facts)

    first, second = run("connect to 10.0.0.1:587: refused", 1.5), run("connect to 10.0.0.2:587: refused", 2.5)
    assert [c.finding for c in first.findings] == [c.finding for c in second.findings]
    assert first.findings and first.fired == second.fired
    evidence = [{o.evidence for step in r.findings[0].steps for o in step.observations} for r in (first, second)]
    assert evidence == [{"connect to 10.0.0.1:587: refused"}, {"connect to 10.0.0.2:587: refused"}]


def test_a_finding_whose_contact_depends_on_an_unanswered_question_makes_it_worth_asking(kb):
    # smtp.no_greeting routes by where the application runs; no rule's question condition names
    # it, yet who acts depends on the answer.
    facts = FactSet()
    facts.extend([Observation("smtp.failure", "timeout", "probe", "no greeting in 10 s", "smtp")])
    first = infer(kb, facts)
    assert "smtp.no_greeting" in [c.finding for c in first.findings]
    assert "deployment" in [q.id for q in first.pending]
    facts.extend([Observation("answer.deployment", "vendor_cloud", "answer", "asked", "asked")])
    second = infer(kb, facts)
    assert "deployment" not in [q.id for q in second.pending]
    assert next(c for c in second.findings if c.finding == "smtp.no_greeting").contact == "cloud_support"
