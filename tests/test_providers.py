"""Recognising the mail service and server software from host names, real greetings, EHLO replies
and pasted text (engine/providers.py over knowledge/providers.yaml).

Host names are data only here: nothing is resolved or connected to.
"""

from __future__ import annotations

import re

import pytest

from engine.facts import Observation
from engine.inputs.textinput import Block
from engine.text.providers import Patterns, Seen, TextWatch, from_host, from_transcript, recognise, steps_for
from engine.text.signatures import mine


def facts(observations: list[Observation]) -> dict[str, str]:
    out: dict[str, str] = {}
    for o in observations:
        out.setdefault(o.name, str(o.value))
    return out


def banner(*lines: str) -> list[Seen]:
    return [Seen("banner", line, "probe", "greeting") for line in lines]


# --- host names ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "service"),
    [
        ("smtp.office365.com", "microsoft365"),
        ("contoso-com.mail.protection.outlook.com", "microsoft365"),
        ("smtp.office365.us", "microsoft365_gcc_high"),
        ("smtp-mail.outlook.com", "outlook_com"),
        ("smtp.gmail.com", "gmail"),
        ("smtp-relay.gmail.com", "gmail"),
        ("SMTP.GMAIL.COM.", "gmail"),
        ("email-smtp.eu-west-1.amazonaws.com", "amazon_ses"),
        ("smtp.sendgrid.net", "sendgrid"),
        ("smtp.eu.mailgun.org", "mailgun"),
        ("smtp.zoho.eu", "zoho"),
        ("smtp.mail.yahoo.com", "yahoo"),
        ("smtp.mail.me.com", "icloud"),
        ("smtp-relay.brevo.com", "brevo"),
        ("smtp.postmarkapp.com", "postmark"),
        ("in-v3.mailjet.com", "mailjet"),
    ],
)
def test_a_providers_host_name_names_its_service(kb, host, service):
    assert facts(recognise(kb, from_host(host))) == {"provider.service": service}


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "mail.example.com",
        "smtp.gmail.com.example.net",  # a look-alike that only starts with a provider's name
        "ec2-198-51-100-1.compute-1.amazonaws.com",  # Amazon, but not SES
        "notoffice365.com",
    ],
)
def test_other_host_names_name_no_provider(kb, host):
    assert recognise(kb, from_host(host)) == []


def test_the_host_name_is_the_evidence_and_config_the_source(kb):
    [obs] = recognise(kb, from_host("smtp.office365.com"))
    assert (obs.source, obs.evidence, obs.origin) == ("config", "host = smtp.office365.com", "config")


# --- greetings and EHLO replies, as real servers word them ----------------------------------------


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (
            [
                "220 smtp.gmail.com ESMTP a640c23a62f3a-a7a1234567si1234567a.12 - gsmtp",
                "250-smtp.gmail.com at your service, [203.0.113.5]",
            ],
            {"provider.service": "gmail"},
        ),
        (
            [
                "220 SN4PR0201CA0045.outlook.office365.com Microsoft ESMTP MAIL Service ready at Wed, 1 Jan 2025 "
                "10:00:00 +0000",
                "250-SN4PR0201CA0045.outlook.office365.com Hello [203.0.113.5]",
            ],
            {"provider.service": "microsoft365", "provider.software": "exchange"},
        ),
        (
            ["220 mail.contoso.com Microsoft ESMTP MAIL Service ready at Mon, 6 Jan 2025 09:12:44 +0100"],
            {"provider.service": "exchange_onprem", "provider.software": "exchange"},
        ),
        (
            ["220 email-smtp.amazonaws.com ESMTP SimpleEmailService-d-ABCDEFGHI 0aBcDeFgHiJkLmNoPqRs"],
            {"provider.service": "amazon_ses"},
        ),
        (["220 SG ESMTP service ready at ismtpd0004p1lon1.sendgrid.net"], {"provider.service": "sendgrid"}),
        (["220 mail.example.com ESMTP Postfix (Debian/GNU)"], {"provider.software": "postfix"}),
        (["220 mail.example.com ESMTP Exim 4.96 Mon, 06 Jan 2025 09:12:44 +0000"], {"provider.software": "exim"}),
        (
            ["220 mail.example.com ESMTP Sendmail 8.15.2/8.15.2; Mon, 6 Jan 2025 09:12:44 +0100"],
            {"provider.software": "sendmail"},
        ),
        (["220 localhost ESMTP mailtriage lab", "250-localhost"], {}),
    ],
)
def test_a_real_greeting_names_the_service_and_the_software(kb, lines, expected):
    assert facts(recognise(kb, banner(*lines))) == expected


def test_a_greeting_that_only_mentions_postfix_later_is_not_postfix(kb):
    # Only the greeting's own "ESMTP Postfix" counts, not a word further along a reply.
    assert recognise(kb, banner("550 5.7.1 We do not run ESMTP Postfix here")) == []


# --- which wins --------------------------------------------------------------------------------------


def test_microsoft_365_outranks_the_exchange_greeting_it_shares_with_exchange_on_premises(kb):
    seen = banner("220 mail.contoso.com Microsoft ESMTP MAIL Service ready at Mon, 6 Jan 2025 09:12:44 +0100")
    seen += from_host("smtp.office365.com")
    assert facts(recognise(kb, seen))["provider.service"] == "microsoft365"


def test_the_outlook_com_host_outranks_the_microsoft_365_greeting_its_servers_send(kb):
    seen = banner("220 AM6P194CA0012.outlook.office365.com Microsoft ESMTP MAIL Service ready at Wed, 1 Jan 2025")
    seen += from_host("smtp-mail.outlook.com")
    assert facts(recognise(kb, seen))["provider.service"] == "outlook_com"


def test_every_line_that_showed_the_winner_is_evidence_up_to_three(kb):
    lines = [f"250 2.0.0 OK {n} - gsmtp" for n in range(5)]
    found = recognise(kb, banner(*lines))
    assert [o.evidence for o in found] == lines[:3]


@pytest.mark.parametrize("ident", ["microsoft365", "gmail", "amazon_ses", "sendgrid", "postfix", "exchange_onprem"])
def test_each_example_in_the_knowledge_is_recognised_as_its_own_provider(kb, ident):
    provider = kb.providers[ident]
    fact = f"provider.{provider.kind}"
    for host in provider.examples.hosts:
        assert facts(recognise(kb, from_host(host))).get(fact) == ident, host
    for line in provider.examples.banners:
        assert facts(recognise(kb, banner(line))).get(fact) == ident, line


def test_no_example_is_ruled_out_by_the_literals_its_pattern_needs(kb):
    # The literal check only skips work: every pattern that matches an example must pass it.
    patterns = Patterns.of(kb)
    for provider in kb.providers.values():
        for text, table in [(h, patterns.hosts) for h in provider.examples.hosts] + [
            (b, patterns.banners) for b in provider.examples.banners
        ]:
            for _, wanted in table:
                if re.search(wanted.pattern, text, re.IGNORECASE | re.MULTILINE):
                    assert wanted.may_occur(text, text.lower()), (wanted.pattern, text)


def test_a_host_name_of_no_provider_compiles_no_pattern(kb):
    patterns = Patterns.of(kb)
    assert patterns.matches(Seen("host", "mail.example.net", "config", "config")) == []
    assert patterns._regexes == {}
    assert patterns.matches(Seen("host", "smtp.gmail.com", "config", "config")) == ["gmail"]
    assert 0 < len(patterns._regexes) < len(patterns.hosts)


def test_a_line_seen_again_names_the_same_providers_without_being_matched_again(kb):
    patterns = Patterns.of(kb)
    line = Seen("banner", "220 smtp.gmail.com ESMTP x1sm123 - gsmtp", "probe", "greeting")
    first = patterns.matches(line)
    first.append("changed by the caller")
    compiled = dict(patterns._regexes)
    assert patterns.matches(line) == ["gmail"]
    assert patterns._regexes == compiled


# --- the SMTP transcript ----------------------------------------------------------------------------


def test_transcript_lines_are_labelled_by_the_command_they_answer():
    seen = from_transcript(
        [
            "S: 220 smtp.gmail.com ESMTP x1sm123 - gsmtp",
            "C: EHLO client.example",
            "S: 250-smtp.gmail.com at your service, [203.0.113.5]",
            "S: 250 SMTPUTF8",
            "C: AUTH PLAIN <redacted>",
            "S: 535 5.7.8 Username and Password not accepted - gsmtp",
        ]
    )
    assert [(s.origin, s.text[:3]) for s in seen] == [
        ("greeting", "220"),
        ("ehlo", "250"),
        ("ehlo", "250"),
        ("reply", "535"),
    ]
    assert {s.source for s in seen} == {"probe"}


# --- pasted text --------------------------------------------------------------------------------------


def test_pasted_text_names_the_provider_with_file_and_line_as_origin(kb):
    text = (
        'DEBUG SMTP: trying to connect to host "smtp.example.com", port 587\n'
        "javax.mail.AuthenticationFailedException: 535-5.7.8 Username and Password not accepted.\n"
        "535 5.7.8 https://support.google.com/mail/?p=BadCredentials x1sm123 - gsmtp\n"
    )
    watch = TextWatch(kb)
    mined = mine(kb, [Block.of_text(text, "app.log")], watch=watch)
    assert mined.lines_matched >= 1  # the same scan still read the signatures
    [obs] = watch.observations()
    assert (obs.name, obs.value, obs.source, obs.origin) == ("provider.service", "gmail", "log", "app.log:3")


def test_pasted_text_evidence_is_redacted(kb):
    watch = TextWatch(kb, lambda line: line.replace("s3cret", "<redacted>"))
    mine(kb, [Block.of_text("password=s3cret sent to smtp.office365.com\n", "app.log")], watch=watch)
    [obs] = watch.observations()
    assert obs.value == "microsoft365"
    assert "s3cret" not in (obs.evidence or "") and "<redacted>" in (obs.evidence or "")


def test_pasted_text_without_a_provider_yields_no_fact(kb):
    watch = TextWatch(kb)
    mine(kb, [Block.of_text("535 5.7.8 Error: authentication failed\n", "app.log")], watch=watch)
    assert watch.observations() == []


# --- remediation steps ---------------------------------------------------------------------------------


def test_the_services_steps_come_before_the_softwares(kb):
    steps = steps_for(kb, "relay.denied", ["exchange_onprem", "postfix"])
    assert [p.id for p, _ in steps] == ["exchange_onprem", "postfix"]


def test_a_provider_without_steps_for_the_finding_adds_none(kb):
    assert steps_for(kb, "queue.failed_messages", ["gmail", "postfix"]) == []
