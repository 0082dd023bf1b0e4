"""The accounts summary in JSON nests each report as encoded where it was built, as if encoded whole."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from contextlib import ExitStack

import pytest

from engine import lab
from engine.inputs.settings import AccountSettings
from engine.redact import Redactor
from engine.report.accounts import render_accounts
from engine.report.model import ACCOUNTS_SCHEMA, Tool, dump
from engine.report.render import as_json, report_json
from engine.run.batch import AccountOutcome, diagnose_accounts, group

PASSWORDS = {"healthy": lab.LAB_PASSWORD, "bad-password": "Wr0ng-Pa55-for-lab"}


@pytest.fixture(scope="module")
def accounts() -> Iterator[tuple[list[tuple[str, AccountSettings]], Redactor]]:
    """Two accounts on real lab servers, one healthy and one with a wrong password."""
    with ExitStack() as stack:
        servers = {name: stack.enter_context(lab.start(name)) for name in PASSWORDS}
        named = [
            (
                name,
                AccountSettings(
                    host="127.0.0.1",
                    port=server.port,
                    security="starttls",
                    cafile=server.cafile,
                    user=lab.LAB_USER,
                    password=PASSWORDS[name],
                    from_addr=lab.LAB_USER,
                    to_addr="someone@example.com",
                    timeout=2,
                ),
            )
            for name, server in servers.items()
        ]
        redact = Redactor()
        for _, settings in named:
            redact.include(Redactor.for_credentials(settings.user, settings.password))
        yield named, redact


@pytest.fixture(scope="module")
def outcomes(kb, accounts) -> tuple[list[AccountOutcome], Redactor]:
    """The accounts diagnosed, each report encoded where it was built."""
    named, redact = accounts
    return diagnose_accounts(kb, named, redact=redact, encode=lambda report: report_json(report, redact)), redact


def test_each_report_is_encoded_where_it_was_built_exactly_as_report_json_writes_it(outcomes):
    done, redact = outcomes
    assert [item.name for item in done] == list(PASSWORDS)
    for item in done:
        assert item.encoded == report_json(item.report, redact)
        assert item.encoded is not None and not item.encoded.endswith("\n")


def test_the_summary_with_nested_reports_is_the_text_of_the_summary_encoded_whole(kb, outcomes):
    done, redact = outcomes
    groups = group(kb, done)
    nested = render_accounts(kb, done, groups, "json", redact)
    whole = render_accounts(kb, [dataclasses.replace(item, encoded=None) for item in done], groups, "json", redact)
    assert nested == whole
    # And both are what encoding the plain document in one go gives.
    data = json.loads(nested)
    assert data["schema"] == ACCOUNTS_SCHEMA
    plain = {
        "schema": ACCOUNTS_SCHEMA,
        "tool": dump(Tool()),
        "accounts": [
            {"name": a["name"], "verdict": a["verdict"], "report": dump(item.report)}
            for a, item in zip(data["accounts"], done, strict=True)
        ],
        "groups": data["groups"],
    }
    assert nested == as_json(plain, redact)
    assert [a["verdict"] for a in data["accounts"]] == ["ok", "problem"]


def test_an_account_named_like_a_place_holder_keeps_its_name(kb, outcomes):
    done, redact = outcomes
    # Names and causes come from files and servers; only the run's own random marker is spliced.
    lookalike = "mailtriage-report-0000000000000000-1"
    renamed = [dataclasses.replace(done[0], name=lookalike), done[1]]
    data = json.loads(render_accounts(kb, renamed, group(kb, renamed), "json", redact))
    assert data["accounts"][0]["name"] == lookalike
    assert lookalike in data["groups"][0]["accounts"] + data["groups"][1]["accounts"]
    assert data["accounts"][1]["report"] == json.loads(done[1].encoded or "")


def test_sessions_come_back_only_when_the_reports_are_not_encoded(kb, accounts, outcomes):
    # An encoded report is written as it is; only a report rendered through a template needs
    # its session, which is the larger part of what a worker would send back.
    done, _ = outcomes
    assert all(item.session is None for item in done)
    named, redact = accounts
    rendered = diagnose_accounts(kb, named, redact=redact)
    assert all(item.session is not None and item.encoded is None for item in rendered)
    assert (
        [item.first_error for item in rendered]
        == [item.first_error for item in done]
        == [
            None,
            "auth.credentials_rejected",
        ]
    )
