"""The summary of a many-account run: one row per account, then the causes they share."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypedDict

from engine.knowledge.model import Knowledge
from engine.redact import Redactor
from engine.report.formats import Format
from engine.report.model import ACCOUNTS_SCHEMA, Report, Tool, dump
from engine.report.render import as_json, through_template


class Account(Protocol):
    """One diagnosed account, as the summary needs it."""

    @property
    def name(self) -> str: ...
    @property
    def report(self) -> Report: ...


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
        data = {
            "schema": ACCOUNTS_SCHEMA,
            "tool": dump(Tool()),
            "accounts": [
                {"name": row["name"], "verdict": row["verdict"], "report": dump(item.report)}
                for row, item in zip(rows, items, strict=True)
            ],
            "groups": grouped,
        }
        return as_json(data, redact)
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
