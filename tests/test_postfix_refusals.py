"""Real Postfix refusals, and what `mailtriage diagnose` concludes from them.

Each case starts a private Postfix (tests/postfixtarget.py) that refuses something, proves the
refusal and the stage it arrives at with plain smtplib, then asks mailtriage. Postfix's default
smtpd_delay_reject = yes applies client, HELO and sender restrictions at RCPT TO: the session
looks healthy up to MAIL FROM (250) and the refusal of the client, its HELO name or its sender
arrives as the reply to RCPT TO.

The tests of what mailtriage concludes state what it should conclude; where it does not yet,
they fail saying what Postfix answered and what mailtriage made of it.
"""

from __future__ import annotations

import base64
import json
import smtplib
import socket
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from engine.knowledge.model import Knowledge
from engine.probes import location
from tests.postfixtarget import DOMAIN, PostfixTarget, Target, postfix_target

USER = f"app@{DOMAIN}"
PASSWORD = "s3cret-app"
OTHER_SENDER = f"other@{DOMAIN}"  # a sender the login does not own
INSIDE = f"someone@{DOMAIN}"  # a recipient in the instance's own domain
OUTSIDE = "someone@elsewhere.test"  # a recipient it would have to relay to
REFUSED_SOURCE = "127.0.0.2"  # a loopback client address the cidr map refuses
GOOD_HELO = "client.example.test"


# --- smtplib, the way mailtriage's probe talks ------------------------------------------------


class Client(smtplib.SMTP):
    """smtplib that keeps the greeting it read."""

    greeting: tuple[int, bytes] = (0, b"")

    def connect(self, host: str = "localhost", port: int = 0, source_address: Any = None) -> tuple[int, bytes]:
        self.greeting = super().connect(host, port, source_address)
        return self.greeting


def converse(
    pf: PostfixTarget,
    *,
    source: str = "127.0.0.1",
    helo: str = GOOD_HELO,
    login: bool = True,
    password: str = PASSWORD,
    sender: str = USER,
    recipient: str = INSIDE,
) -> dict[str, tuple[int, str]]:
    """greeting, EHLO, STARTTLS, EHLO, AUTH PLAIN, MAIL FROM, RCPT TO: each stage's reply up to
    the first refusal; then RSET and QUIT. Nothing is delivered."""
    replies: dict[str, tuple[int, str]] = {}
    try:
        smtp = Client(pf.host, pf.port, local_hostname=helo, source_address=(source, 0), timeout=5)
    except smtplib.SMTPConnectError as refused:
        replies["greeting"] = (refused.smtp_code, refused.smtp_error.decode())
        return replies
    plain = base64.b64encode(f"\0{USER}\0{password}".encode()).decode()
    steps: list[tuple[str, Callable[[], tuple[int, bytes]]]] = [
        ("ehlo", smtp.ehlo),
        ("starttls", lambda: smtp.starttls(context=ssl.create_default_context(cafile=str(pf.cafile)))),
        ("ehlo_tls", smtp.ehlo),
        *([("auth", lambda: smtp.docmd("AUTH", f"PLAIN {plain}"))] if login else []),
        ("mail", lambda: smtp.mail(sender)),
        ("rcpt", lambda: smtp.rcpt(recipient)),
    ]
    with smtp:
        replies["greeting"] = (smtp.greeting[0], smtp.greeting[1].decode())
        for stage, step in steps:
            code, text = step()
            replies[stage] = (code, text.decode())
            if code >= 400:
                break
        smtp.rset()
    return replies


def refused_at(replies: dict[str, tuple[int, str]]) -> tuple[str, int, str] | None:
    """The stage whose reply refused, with that reply; None when every stage passed."""
    return next(((stage, code, text) for stage, (code, text) in replies.items() if code >= 400), None)


def raw_session(port: int, source: str, commands: list[str]) -> list[str]:
    """The greeting and one reply line per command, over a plain socket bound to `source`."""
    with socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(source, 0)) as sock:
        lines = sock.makefile("rb")
        replies = [lines.readline().decode().rstrip("\r\n")]
        for command in commands:
            sock.sendall(command.encode() + b"\r\n")
            reply = lines.readline().decode().rstrip("\r\n")
            while reply[3:4] == "-":  # a multi-line reply: keep its last line
                reply = lines.readline().decode().rstrip("\r\n")
            replies.append(reply)
        return replies


# --- mailtriage -----------------------------------------------------------------------------


@dataclass
class Diagnosis:
    code: int
    report: dict[str, Any]
    text: str  # the text rendering, which lists what was ruled out

    @property
    def first_error(self) -> str | None:
        return next((f["id"] for f in self.report["findings"] if f["severity"] == "error"), None)

    @property
    def facts(self) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for fact in self.report["facts"]:
            found.setdefault(fact["name"], fact["value"])
        return found

    @property
    def ruled_out(self) -> list[str]:
        """The titles under "Checked and fine"."""
        lines = self.text.splitlines()
        if "Checked and fine:" not in lines:
            return []
        titles = []
        for line in lines[lines.index("Checked and fine:") + 1 :]:
            if not line.startswith("  - "):
                break
            titles.append(line[4:].split(": ruled out.")[0])
        return titles

    def reply(self, code: str, text: str) -> str | None:
        """A reply the probe recorded as facts, code and text, as the transcript shows it."""
        facts = self.facts
        return f"{facts[code]} {facts.get(text, '')}" if code in facts else None

    def summary(self) -> str:
        findings = [f"{f['severity']} {f['id']}" for f in self.report["findings"]] or ["none"]
        return (
            f"mailtriage exited {self.code}; findings: {', '.join(findings)}; "
            f"dialogue stopped at {self.facts.get('smtp.stage')}; "
            f"greeting: {self.reply('smtp.greeting_code', 'smtp.greeting')!r}; "
            f"MAIL FROM: {self.reply('envelope.mail_code', 'envelope.mail_reply')!r}; "
            f"RCPT TO: {self.reply('envelope.rcpt_code', 'envelope.rcpt_reply')!r}; "
            f"ruled out: {self.ruled_out}"
        )


def diagnose(
    cli,
    pf: PostfixTarget,
    *,
    login: bool = True,
    password: str = PASSWORD,
    sender: str = USER,
    recipient: str = INSIDE,
    source: str | None = None,
) -> Diagnosis:
    """mailtriage diagnose against the instance, as a user would run it, in JSON and in text."""
    argv = ["diagnose", "--host", pf.host, "--port", str(pf.port), "--security", "starttls", "--cafile", str(pf.cafile)]
    if source:
        argv += ["--source-address", source]
    if login:
        argv += ["--user", USER, "--password-env", "SMTP_PASSWORD"]
    argv += ["--from", sender, "--to", recipient, "--timeout", "5", "--non-interactive"]
    environ = {"SMTP_PASSWORD": password}
    as_json = cli(*argv, "--format", "json", environ=environ)
    as_text = cli(*argv, "--format", "text", environ=environ)
    assert as_json.code in (0, 1) and as_text.code == as_json.code, as_json.err + as_text.err
    return Diagnosis(as_json.code, json.loads(as_json.out), as_text.out)


def first_error_problem(diagnosis: Diagnosis, expected: str, postfix_said: str) -> str | None:
    if diagnosis.first_error == expected:
        return None
    return (
        f"Postfix answered {postfix_said}; mailtriage should conclude {expected} as its first error "
        f"finding, but concluded {diagnosis.first_error or 'nothing'}."
    )


def expect_first_error(diagnosis: Diagnosis, expected: str, postfix_said: str) -> None:
    """Fail, saying what Postfix answered and what mailtriage made of it, unless `expected` leads."""
    problem = first_error_problem(diagnosis, expected, postfix_said)
    if problem:
        pytest.fail(f"{problem}\n{diagnosis.summary()}", pytrace=False)


# --- the instances ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def owned_senders() -> Iterator[PostfixTarget]:
    """SASL login app@, which owns only its own address (smtpd_sender_login_maps)."""
    with postfix_target(Target(sender_owners={USER: USER})) as pf:
        yield pf


@pytest.fixture(scope="module")
def submission() -> Iterator[PostfixTarget]:
    """STARTTLS and SASL; mynetworks empty, so only a logged-in client may relay."""
    with postfix_target(Target()) as pf:
        yield pf


def refusing(source: str, delay_reject: bool) -> Iterator[PostfixTarget]:
    """check_client_access REJECTs `source`; every other client address passes."""
    with postfix_target(Target(refused_clients=(f"{source}/32",), delay_reject=delay_reject)) as pf:
        yield pf


@pytest.fixture(scope="module")
def refusing_127_0_0_2_at_connect() -> Iterator[PostfixTarget]:
    yield from refusing(REFUSED_SOURCE, delay_reject=False)


@pytest.fixture(scope="module")
def refusing_127_0_0_2_at_rcpt() -> Iterator[PostfixTarget]:
    yield from refusing(REFUSED_SOURCE, delay_reject=True)


@pytest.fixture(scope="module")
def strict_helo() -> Iterator[PostfixTarget]:
    """reject_invalid_helo_hostname, reject_non_fqdn_helo_hostname."""
    with postfix_target(Target(strict_helo=True)) as pf:
        yield pf


def shown(reply: tuple[int, str]) -> str:
    return f"{reply[0]} {reply[1]}"


# --- 1. a sender the login does not own -------------------------------------------------------

NOT_OWNED = (553, f"5.7.1 <{OTHER_SENDER}>: Sender address rejected: not owned by user {USER}")


def test_postfix_refuses_a_sender_the_login_does_not_own_at_rcpt(owned_senders: PostfixTarget) -> None:
    replies = converse(owned_senders, sender=OTHER_SENDER)
    assert replies["auth"] == (235, "2.7.0 Authentication successful"), owned_senders.maillog()
    assert replies["mail"] == (250, "2.1.0 Ok")  # MAIL FROM passes: the check waits for RCPT TO
    assert refused_at(replies) == ("rcpt", *NOT_OWNED), owned_senders.maillog()
    assert refused_at(converse(owned_senders)) is None  # its own address goes through


def test_diagnose_calls_a_sender_the_login_does_not_own_not_registered(
    cli, owned_senders: PostfixTarget, kb: Knowledge
) -> None:
    diagnosis = diagnose(cli, owned_senders, sender=OTHER_SENDER)
    problems = [first_error_problem(diagnosis, "sender.not_registered", f"RCPT TO with {shown(NOT_OWNED)!r}")]
    sender_title = kb.findings["sender.not_registered"].title
    if sender_title in diagnosis.ruled_out:
        problems.append(
            f"mailtriage lists {sender_title!r} as ruled out because MAIL FROM got 250, but Postfix "
            "(smtpd_delay_reject = yes) refused that very sender at RCPT TO."
        )
    if any(problems):
        pytest.fail("\n".join([p for p in problems if p] + [diagnosis.summary()]), pytrace=False)


# --- 2. a client address the cidr map refuses ---------------------------------------------------


def client_rejected(address: str) -> tuple[int, str]:
    return 554, f"5.7.1 <unknown[{address}]>: Client host rejected: Access denied"


def test_postfix_without_delay_refuses_the_client_in_its_greeting(refusing_127_0_0_2_at_connect: PostfixTarget) -> None:
    pf = refusing_127_0_0_2_at_connect
    # The greeting itself is the refusal; every later command gets 503 (QUIT still works).
    assert raw_session(pf.port, REFUSED_SOURCE, [f"EHLO {GOOD_HELO}", "QUIT"]) == [
        shown(client_rejected(REFUSED_SOURCE)),
        f"503 5.7.0 Error: access denied for unknown[{REFUSED_SOURCE}]",
        "221 2.0.0 Bye",
    ], pf.maillog()
    assert converse(pf, source=REFUSED_SOURCE) == {"greeting": client_rejected(REFUSED_SOURCE)}
    assert refused_at(converse(pf)) is None, pf.maillog()  # 127.0.0.1 passes the same map


def test_postfix_with_delay_refuses_the_client_at_rcpt(refusing_127_0_0_2_at_rcpt: PostfixTarget) -> None:
    pf = refusing_127_0_0_2_at_rcpt
    replies = converse(pf, source=REFUSED_SOURCE)
    assert replies["greeting"][0] == 220 and replies["auth"][0] == 235 and replies["mail"][0] == 250, replies
    assert refused_at(replies) == ("rcpt", *client_rejected(REFUSED_SOURCE)), pf.maillog()
    assert refused_at(converse(pf)) is None, pf.maillog()


def test_diagnose_calls_a_client_refused_at_connect_not_safelisted(
    cli, refusing_127_0_0_2_at_connect: PostfixTarget
) -> None:
    diagnosis = diagnose(cli, refusing_127_0_0_2_at_connect, source=REFUSED_SOURCE)
    said = f"the greeting with {shown(client_rejected(REFUSED_SOURCE))!r} (smtpd_delay_reject = no)"
    expect_first_error(diagnosis, "ip.not_safelisted", said)


def test_diagnose_calls_a_client_refused_at_rcpt_not_safelisted(cli, refusing_127_0_0_2_at_rcpt: PostfixTarget) -> None:
    diagnosis = diagnose(cli, refusing_127_0_0_2_at_rcpt, source=REFUSED_SOURCE)
    said = f"RCPT TO with {shown(client_rejected(REFUSED_SOURCE))!r} (smtpd_delay_reject = yes)"
    expect_first_error(diagnosis, "ip.not_safelisted", said)


def test_diagnose_from_an_address_the_server_accepts_finds_the_path_healthy(
    cli, refusing_127_0_0_2_at_rcpt: PostfixTarget
) -> None:
    diagnosis = diagnose(cli, refusing_127_0_0_2_at_rcpt, source="127.0.0.3")

    assert diagnosis.code == 0, diagnosis.summary()
    assert diagnosis.facts["probe.local_address"] == "127.0.0.3"
    assert "ip.not_safelisted" not in [f["id"] for f in diagnosis.report["findings"]], diagnosis.summary()


# --- 3. relaying for a client that is not logged in -----------------------------------------------

RELAY_DENIED = (454, f"4.7.1 <{OUTSIDE}>: Relay access denied")


def test_postfix_defers_relaying_for_a_client_not_logged_in(submission: PostfixTarget) -> None:
    # defer_unauth_destination, Postfix's default: 454, a temporary refusal, not 554.
    replies = converse(submission, login=False, recipient=OUTSIDE)
    assert replies["mail"] == (250, "2.1.0 Ok")
    assert refused_at(replies) == ("rcpt", *RELAY_DENIED), submission.maillog()
    assert refused_at(converse(submission, recipient=OUTSIDE)) is None  # logged in, it relays


def test_diagnose_calls_relaying_for_a_client_not_logged_in_denied(cli, submission: PostfixTarget) -> None:
    diagnosis = diagnose(cli, submission, login=False, recipient=OUTSIDE)
    said = f"RCPT TO with {shown(RELAY_DENIED)!r}"
    expect_first_error(diagnosis, "relay.denied", said)


# --- 4. a wrong password --------------------------------------------------------------------------

AUTH_FAILED = (535, "5.7.8 Error: authentication failed: authentication failure")
WRONG_PASSWORD = "not-the-right-one"


def test_postfix_refuses_a_wrong_password(submission: PostfixTarget) -> None:
    replies = converse(submission, password=WRONG_PASSWORD)
    assert refused_at(replies) == ("auth", *AUTH_FAILED), submission.maillog()


def test_diagnose_calls_a_wrong_password_rejected_credentials(cli, submission: PostfixTarget) -> None:
    diagnosis = diagnose(cli, submission, password=WRONG_PASSWORD)
    said = f"AUTH PLAIN with {shown(AUTH_FAILED)!r}"
    expect_first_error(diagnosis, "auth.credentials_rejected", said)


# --- 5. a HELO name that is not fully qualified -----------------------------------------------------

HELO_REJECTED = (504, "5.5.2 <localhost>: Helo command rejected: need fully-qualified hostname")


def test_postfix_refuses_ehlo_localhost_at_rcpt(strict_helo: PostfixTarget) -> None:
    replies = converse(strict_helo, helo="localhost")
    assert replies["ehlo"][0] == 250 and replies["mail"] == (250, "2.1.0 Ok"), replies  # EHLO itself passes
    assert refused_at(replies) == ("rcpt", *HELO_REJECTED), strict_helo.maillog()
    assert refused_at(converse(strict_helo)) is None  # a fully qualified name goes through


def test_diagnose_calls_ehlo_localhost_rejected(
    cli, strict_helo: PostfixTarget, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The probe says EHLO with the machine's host name: make it the name applications often send.
    monkeypatch.setattr(location, "host_name", lambda: "localhost")
    diagnosis = diagnose(cli, strict_helo)
    assert "C: EHLO localhost" in diagnosis.report["transcript"], diagnosis.report["transcript"]
    said = f"RCPT TO with {shown(HELO_REJECTED)!r} (smtpd_delay_reject = yes)"
    expect_first_error(diagnosis, "smtp.helo_rejected", said)


# --- one connection per diagnosis -------------------------------------------------------------


def test_a_diagnosis_talks_over_the_tcp_probes_own_connection(cli, submission: PostfixTarget) -> None:
    before = submission.maillog()

    diagnosis = diagnose(cli, submission, source="127.0.0.4")

    assert diagnosis.code == 0, diagnosis.summary()
    # Two runs (JSON and text), one connection each: no probe connection dropped unused.
    added = submission.maillog()[len(before) :]
    assert added.count(": connect from unknown[127.0.0.4]") == 2, added
    assert "lost connection after CONNECT from unknown[127.0.0.4]" not in added, added
