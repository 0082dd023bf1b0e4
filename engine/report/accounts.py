"""The summary of a many-account run: one row per account, then the causes they share."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from typing import Any, Protocol, TypedDict

from engine.knowledge.model import Knowledge
from engine.redact import Redactor, scrub
from engine.report.formats import Format
from engine.report.model import ACCOUNTS_SCHEMA, Report, Tool, dump
from engine.report.render import encoded, report_json, through_template


class Account(Protocol):
    """One diagnosed account, as the summary needs it."""

    @property
    def name(self) -> str: ...
    @property
    def report(self) -> Report: ...
    @property
    def encoded(self) -> str | None:
        """The report as report_json wrote it, where it was made (a batch worker), if it was."""
        ...


class Group(Protocol):
    """Accounts that share one cause (engine.run.batch.Group)."""

    @property
    def finding(self) -> str | None: ...
    @property
    def cause(self) -> str: ...
    @property
    def accounts(self) -> Sequence[Account]: ...


ACCOUNT_TEMPLATES: dict[str, str] = {"text": "accounts.txt.j2", "md": "accounts.md.j2", "html": "accounts.html.j2"}


class _First(TypedDict):
    id: str
    contact: str


class _Row(TypedDict):
    name: str
    verdict: str
    first: _First | None


# Where a report sits in the accounts document: each line after its first is indented this much.
_REPORT_INDENT = "\n" + " " * 6


def _nest(data: dict[str, Any], reports: list[str]) -> str:
    """The scrubbed document with each account's "report" replaced by its JSON as encoded alone.

    Encoding every report again here was most of a many-account run's serial tail; the text is
    the same, as both use one layout. A marker no server text can guess holds each report's place.
    """
    marker = f"mailtriage-report-{os.urandom(8).hex()}-"
    for index, account in enumerate(data["accounts"]):
        account["report"] = f"{marker}{index}"
    text = encoded(data)
    return re.sub(f'"{marker}(\\d+)"', lambda m: reports[int(m[1])].replace("\n", _REPORT_INDENT), text)


def render_accounts(
    kb: Knowledge,
    items: Sequence[Account],
    groups: Sequence[Group],
    fmt: Format,
    redact: Redactor,
) -> str:
    rows: list[_Row] = []
    for item in items:
        report = item.report
        first = next((f for f in report.findings if f.severity == "error"), None)
        verdict = "problem" if first else ("warning" if any(f.severity == "warning" for f in report.findings) else "ok")
        rows.append(
            {
                "name": item.name,
                "verdict": verdict,
                "first": {"id": first.id, "contact": first.contact} if first else None,
            }
        )
    grouped = [
        {
            "finding": g.finding,
            "title": kb.findings[g.finding].title if g.finding else None,
            "cause": g.cause,
            "scope": kb.findings[g.finding].scope if g.finding else None,
            "accounts": [a.name for a in g.accounts],
        }
        for g in groups
    ]
    if fmt == "json":
        reports = [item.encoded or report_json(item.report, redact) for item in items]
        data = {
            "schema": ACCOUNTS_SCHEMA,
            "tool": dump(Tool()),
            "accounts": [{"name": row["name"], "verdict": row["verdict"], "report": None} for row in rows],
            "groups": grouped,
        }
        return _nest(scrub(data, redact), reports) + "\n"
    failing = [g for g in groups if g.finding]
    width = {
        "name": max([len("Account")] + [len(r["name"]) for r in rows]),
        "finding": max([len("First finding")] + [len(r["first"]["id"]) for r in rows if r["first"] is not None]),
    }
    context = {
        "tool": dump(Tool()),
        "accounts": rows,
        "groups": grouped,
        "width": width,
        "failing": sum(len(g.accounts) for g in failing),
        "causes": len(failing),
    }
    return through_template(ACCOUNT_TEMPLATES[fmt], fmt == "html", context, redact)
