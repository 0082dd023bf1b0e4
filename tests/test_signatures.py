"""engine.text.signatures: error text x knowledge/signatures -> typed facts with their evidence."""

from __future__ import annotations

import io

import pytest

from engine.decide.session import NoAsker
from engine.facts import Observation
from engine.inputs.textinput import Block, read_blocks
from engine.knowledge.load import load_knowledge
from engine.knowledge.model import KnowledgeInvalid
from engine.run.pipeline import diagnose_text
from engine.text.signatures import COUNTS, MAX_EVIDENCE, Matcher, mine
from tests.layers import write

JAVAMAIL_TIMEOUT = (
    "com.sun.mail.util.MailConnectException: Couldn't connect to host, port: smtp.example.com, 587; timeout -1;"
)


def facts_from(kb, *texts: str, name: str = "err.txt") -> list[Observation]:
    return mine(kb, [Block.of_text("\n".join(texts), name)]).observations


def named(observations: list[Observation], name: str) -> list[Observation]:
    return [o for o in observations if o.name == name]


def test_a_matching_line_gives_a_log_fact_with_the_line_as_evidence_and_file_line_as_origin(kb):
    text = "  java.net.ConnectException: Connection refused (Connection refused)  "
    [obs] = named(facts_from(kb, "starting up", text, name="app.log"), "tcp.connect")
    assert obs == Observation(
        "tcp.connect",
        "refused",
        "log",
        text.strip(),
        "app.log:2",
    )


def test_the_javamail_line_gives_the_port_as_an_int_and_the_host_as_text(kb):
    observations = facts_from(kb, JAVAMAIL_TIMEOUT)
    [port] = named(observations, "config.port")
    [host] = named(observations, "config.host")
    assert port.value == 587 and type(port.value) is int
    assert host.value == "smtp.example.com"
    assert port.origin == "err.txt:1"
    assert port.evidence == JAVAMAIL_TIMEOUT


def test_the_older_javamail_wording_gives_the_port_as_an_int_too(kb):
    [port] = named(
        facts_from(kb, "javax.mail.MessagingException: Could not connect to SMTP host: mail.example.org, port: 465;"),
        "config.port",
    )
    assert port.value == 465 and type(port.value) is int


def test_an_unknown_host_gives_a_false_boolean_and_the_host_name(kb):
    observations = facts_from(kb, "java.net.UnknownHostException: smtp.example.invalid")
    assert {(o.name, o.value) for o in observations if o.name not in COUNTS} == {
        ("dns.resolved", False),
        ("dns.error", "error"),  # Java says the same for SERVFAIL and timeouts
        ("config.host", "smtp.example.invalid"),
    }
    assert type(named(observations, "dns.resolved")[0].value) is bool


def test_one_line_can_match_several_signatures_and_counts_once(kb):
    line = JAVAMAIL_TIMEOUT + " nested exception is: java.net.SocketTimeoutException: connect timed out"
    observations = facts_from(kb, line)
    assert named(observations, "tcp.connect")[0].value == "timeout"
    assert named(observations, "config.port")[0].value == 587
    assert named(observations, "log.matched")[0].value == 1


def test_a_case_insensitive_signature_matches_shouting(kb):
    [obs] = named(facts_from(kb, "ERROR: CONNECTION TIMED OUT"), "tcp.connect")
    assert obs.value == "timeout"


def test_unrelated_text_gives_no_facts_and_counts_no_matched_lines(kb):
    observations = facts_from(kb, "INFO application started", "DEBUG pool size 10", "all is well")
    # What the text was: its lines, none matched, and the file it came from.
    assert [(o.name, o.value) for o in observations] == [
        ("log.lines", 3),
        ("log.matched", 0),
        ("log.source", "err.txt"),
    ]


def test_lines_read_and_matched_are_counted(kb):
    result = mine(
        kb,
        [
            Block.of_text(
                "INFO sending\n"
                "java.net.ConnectException: Connection refused\n"
                "INFO retrying\n"
                "java.net.ConnectException: Connection refused\n",
                "a",
            )
        ],
    )
    assert (result.lines_read, result.lines_matched) == (4, 2)
    assert named(result.observations, "log.lines")[0].value == 4
    assert named(result.observations, "log.matched")[0].value == 2
    assert [o.origin for o in named(result.observations, "tcp.connect")] == ["a:2", "a:4"]


def test_no_text_at_all_counts_zero_lines(kb):
    assert [(o.name, o.value) for o in mine(kb, []).observations] == [("log.lines", 0), ("log.matched", 0)]


def test_evidence_is_cut_to_a_bounded_length(kb):
    line = "java.net.ConnectException: Connection refused " + "x" * 5000
    [obs] = named(facts_from(kb, line), "tcp.connect")
    assert len(obs.evidence) == MAX_EVIDENCE
    assert obs.evidence.startswith("java.net.ConnectException")


def test_the_redactor_runs_before_matching_so_evidence_never_holds_the_secret(kb):
    line = "java.net.ConnectException: Connection refused password=hunter2"
    result = mine(kb, [Block.of_text(line, "a")], redact=lambda text: text.replace("hunter2", "<redacted>"))
    [obs] = named(result.observations, "tcp.connect")
    assert "hunter2" not in obs.evidence
    assert "<redacted>" in obs.evidence


@pytest.mark.parametrize(
    "sig_id",
    [
        "java-unknown-host",
        "python-name-not-known",
        "python-name-resolution-temporary",
        "javamail-could-not-connect",
        "javamail-could-not-connect-smtp-host",
        "connection-refused",
        "connection-timed-out",
        "no-route-to-host",
    ],
)
def test_every_match_example_of_a_shipped_signature_yields_its_facts(kb, sig_id):
    signature = kb.signatures[sig_id]
    for example in signature.examples.match:
        names = {o.name for o in facts_from(kb, example)}
        assert set(signature.facts) <= names, example


def test_the_matcher_lists_every_shipped_signature(kb):
    assert {sig.id for sig in Matcher.for_knowledge(kb).signatures} == set(kb.signatures)


# --- group values that cannot become the fact's type ---------------------------------------------


@pytest.fixture(scope="module")
def loose(tmp_path_factory):
    root = tmp_path_factory.mktemp("loose")
    write(
        root,
        "signatures/loose.yaml",
        """
        signatures:
          - id: loose-port
            description: a careless pattern that also takes words as ports
            pattern: 'listen port (?P<port>\\w+)(?: on (?P<host>\\S+))?'
            facts:
              config.port: "{port}"
              config.host: "{host}"
              tcp.connect: refused
            examples:
              match: ["listen port 25 on mx.example.com"]
              no_match: ["port 25"]
    """,
    )
    return load_knowledge([root])


@pytest.fixture(scope="module")
def worded(tmp_path_factory):
    root = tmp_path_factory.mktemp("worded")
    write(
        root,
        "signatures/worded.yaml",
        """
        signatures:
          - id: worded-class
            description: a class name kept inside a longer value
            pattern: 'code: (?P<code>E[A-Z]{2,10})(?: at (?P<where>\\S+))?'
            facts:
              failure.exception: "mailer {code}"
              config.host: "{where} host"
            examples:
              match: ["code: EAUTH at smtp.example.com"]
              no_match: ["code: 42"]
          - id: worded-twin
            description: a second reader of the same words
            pattern: 'code: EAUTH'
            facts:
              failure.exception: "mailer EAUTH"
            examples:
              match: ["code: EAUTH"]
              no_match: ["code: 42"]
    """,
    )
    return load_knowledge([root])


def test_a_group_named_inside_a_longer_value_is_filled_in(worded):
    observations = facts_from(worded, "code: EAUTH at smtp.example.com")
    assert named(observations, "failure.exception")[0].value == "mailer EAUTH"
    assert named(observations, "config.host")[0].value == "smtp.example.com host"


def test_a_value_naming_a_group_that_did_not_take_part_gives_no_fact(worded):
    assert named(facts_from(worded, "code: ESOCKET"), "config.host") == []


def test_two_signatures_reading_the_same_fact_on_one_line_give_it_once(worded):
    assert len(named(facts_from(worded, "code: EAUTH"), "failure.exception")) == 1


def test_lint_names_a_group_a_longer_value_refers_to_that_the_pattern_lacks(tmp_path):
    write(
        tmp_path,
        "signatures/bad.yaml",
        """
        signatures:
          - id: bad-ref
            description: refers to a group it does not define
            pattern: 'code: E[A-Z]+'
            facts:
              failure.exception: "mailer {code}"
            examples:
              match: ["code: EAUTH"]
              no_match: ["code: 42"]
    """,
    )
    with pytest.raises(KnowledgeInvalid, match="takes group 'code', which the pattern does not define"):
        load_knowledge([tmp_path])


def test_a_group_that_is_not_a_number_gives_no_int_fact_and_no_crash(loose):
    observations = facts_from(loose, "listen port smtp")
    assert named(observations, "config.port") == []
    assert named(observations, "tcp.connect")[0].value == "refused"


def test_an_optional_group_that_did_not_take_part_gives_no_fact(loose):
    observations = facts_from(loose, "listen port 2525")
    assert named(observations, "config.port")[0].value == 2525
    assert named(observations, "config.host") == []


# --- from a file, through the whole path --------------------------------------------------------


def test_facts_mined_from_a_file_carry_its_name_and_line_number(kb, tmp_path):
    log = tmp_path / "mail.log"
    log.write_text("INFO sending\n" + JAVAMAIL_TIMEOUT + "\n  java.net.SocketTimeoutException: connect timed out\n")
    observations = mine(kb, read_blocks(str(log), io.BytesIO())).observations
    assert named(observations, "config.port")[0].origin == f"{log}:2"
    assert named(observations, "tcp.connect")[0].origin == f"{log}:3"


def test_a_log_alone_reaches_the_same_diagnosis_as_a_probe(kb):
    text = JAVAMAIL_TIMEOUT + "\njava.net.SocketTimeoutException: connect timed out"
    outcome = diagnose_text(kb, [Block.of_text(text, "err.txt")], NoAsker())
    [finding] = outcome.session.inference.findings
    assert finding.finding == "network.connection_timeout"
    assert [(o.value, o.origin) for o in finding.evidence] == [("timeout", "err.txt:2")]


def test_a_log_repeating_one_error_keeps_only_the_first_hits_as_evidence_but_counts_all(kb):
    from engine.text.signatures import MAX_HITS_PER_SIGNATURE

    text = "java.net.ConnectException: Connection refused (Connection refused)\n" * 10_000
    result = mine(kb, [Block.of_text(text, "app.log")])
    refused = [o for o in result.observations if o.name == "tcp.connect"]
    assert len(refused) == MAX_HITS_PER_SIGNATURE
    assert refused[0].origin == "app.log:1"
    assert (result.lines_read, result.lines_matched) == (10_000, 10_000)


@pytest.mark.parametrize("name", ["<stdin>", "pasted"])
def test_text_from_stdin_or_a_paste_names_no_file(kb, name):
    assert named(facts_from(kb, "java.net.ConnectException: Connection refused", name=name), "log.source") == []
