"""The JSON report exactly as the CLI contract specifies it (mailtriage.report/1)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from engine import __version__
from engine.facts import FactValue

SCHEMA = "mailtriage.report/1"
ACCOUNTS_SCHEMA = "mailtriage.accounts/1"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Tool(_Model):
    name: str = "mailtriage"
    version: str = __version__


class Target(_Model):
    host: str | None
    port: int | None
    security: str | None
    user: str | None
    from_: str | None = Field(alias="from")
    to: str | None


class FindingOut(_Model):
    id: str
    title: str
    severity: str
    contact: str
    confidence: str
    evidence: list[str]
    remediation: list[str]
    rule: str
    explanation: list[str]


class FactOut(_Model):
    name: str
    value: FactValue
    source: str


class QuestionOut(_Model):
    id: str
    text: str
    answer: FactValue | None


class ProbeOut(_Model):
    name: str
    status: str
    duration_ms: float
    detail: str


class Report(_Model):
    """The whole report; the templates render a view of it."""

    schema_: str = Field(default=SCHEMA, alias="schema")
    tool: Tool = Tool()
    generated_at: str
    target: Target
    findings: list[FindingOut]
    facts: list[FactOut]
    questions: list[QuestionOut]
    probes: list[ProbeOut]
    transcript: list[str]
