"""The JSON report exactly as the CLI contract specifies it (mailtriage.report/1).

Plain dataclasses: this program fills every field, so there is nothing to validate on the way
out; dump() gives the contract's JSON shape, where a field spelled with a trailing underscore
(from_, schema_) is the key without it.
"""

from __future__ import annotations

from dataclasses import field
from typing import Any

from engine import __version__
from engine.facts import FactValue
from engine.values import record

SCHEMA = "mailtriage.report/1"
ACCOUNTS_SCHEMA = "mailtriage.accounts/1"


@record(kw_only=True)
class Tool:
    name: str = "mailtriage"
    version: str = __version__


@record(kw_only=True)
class Target:
    host: str | None
    port: int | None
    security: str | None
    user: str | None
    from_: str | None
    to: str | None


@record(kw_only=True)
class FindingOut:
    id: str
    title: str
    severity: str
    contact: str
    confidence: str
    evidence: list[str]
    remediation: list[str]
    rule: str
    explanation: list[str]


@record(kw_only=True)
class FactOut:
    name: str
    value: FactValue
    source: str


@record(kw_only=True)
class QuestionOut:
    id: str
    text: str
    answer: FactValue | None


@record(kw_only=True)
class ProbeOut:
    name: str
    status: str
    duration_ms: float
    detail: str


@record(kw_only=True)
class Report:
    """The whole report; the templates render a view of it."""

    schema_: str = SCHEMA
    tool: Tool = field(default_factory=Tool)
    generated_at: str
    target: Target
    findings: list[FindingOut]
    facts: list[FactOut]
    questions: list[QuestionOut]
    probes: list[ProbeOut]
    transcript: list[str]


def dump(record: Report | Tool) -> dict[str, Any]:
    """The record as the contract's JSON object (plain dicts and lists, contract key names)."""
    plain: dict[str, Any] = _plain(record)
    return plain


def _plain(value: Any) -> Any:
    # dataclasses.asdict would do, but it deep-copies every leaf; a many-account run dumps
    # thousands of records, and these leaves are plain values already.
    fields = getattr(type(value), "__dataclass_fields__", None)
    if fields is not None:
        return {name.removesuffix("_"): _plain(getattr(value, name)) for name in fields}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {key: _plain(v) for key, v in value.items()}
    return value
