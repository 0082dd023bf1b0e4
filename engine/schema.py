"""Pydantic models of every knowledge file; unknown keys are errors, never ignored."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator

FactValue = Union[bool, int, float, str]
Contact = Literal["network_admin", "cloud_support", "email_provider", "application_admin", "self"]
Severity = Literal["error", "warning", "info"]
Confidence = Literal["high", "medium", "low"]
Status = Literal["experimental", "stable", "deprecated"]

CONTACTS: tuple[str, ...] = Contact.__args__  # type: ignore[attr-defined]
SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}
CONFIDENCE_ORDER = {"high": 0, "medium": 1, "low": 2}


class Strict(BaseModel):
    # defer_build: a run from the knowledge cache unpickles models and never validates, so it
    # need not pay for building validators at import.
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, defer_build=True)


# --- conditions -------------------------------------------------------------------------------

OPERATORS = ("equals", "one_of", "matches", "gt", "ge", "lt", "le", "present", "absent")


class FactTest(Strict):
    """One test of one fact: a value comparison, a regex, or presence."""

    fact: str
    equals: FactValue | None = None
    one_of: list[FactValue] | None = None
    matches: str | None = None
    gt: float | None = None
    ge: float | None = None
    lt: float | None = None
    le: float | None = None
    present: Literal[True] | None = None
    absent: Literal[True] | None = None

    @model_validator(mode="after")
    def _one_operator(self) -> FactTest:
        used = [op for op in OPERATORS if getattr(self, op) is not None]
        if len(used) != 1:
            given = ", ".join(used) if used else "none"
            raise ValueError(
                f"a fact test needs exactly one of {', '.join(OPERATORS)} (given: {given})"
            )
        return self

    @property
    def operator(self) -> str:
        return next(op for op in OPERATORS if getattr(self, op) is not None)


class FindingTest(Strict):
    """True when another rule has concluded this finding: lets rules build on rules."""

    finding: str


class AllOf(Strict):
    all: list[Condition] = Field(min_length=1)


class AnyOf(Strict):
    any: list[Condition] = Field(min_length=1)


class NotOf(Strict):
    not_: Condition = Field(alias="not")


def _condition_kind(value: Any) -> str | None:
    if isinstance(value, BaseModel):
        return CONDITION_TAGS.get(type(value).__name__)
    if isinstance(value, dict):
        for key, tag in KEY_TAGS.items():
            if key in value:
                return tag
    return None


# Tags never collide with YAML keys, so an error's location can be mapped back to a line.
CONDITION_TAGS = {
    "AllOf": "<all>",
    "AnyOf": "<any>",
    "NotOf": "<not>",
    "FactTest": "<fact>",
    "FindingTest": "<finding>",
}
KEY_TAGS = {"all": "<all>", "any": "<any>", "not": "<not>", "fact": "<fact>", "finding": "<finding>"}


Condition = Annotated[
    Union[
        Annotated[AllOf, Tag("<all>")],
        Annotated[AnyOf, Tag("<any>")],
        Annotated[NotOf, Tag("<not>")],
        Annotated[FactTest, Tag("<fact>")],
        Annotated[FindingTest, Tag("<finding>")],
    ],
    Discriminator(
        _condition_kind,
        custom_error_type="condition",
        custom_error_message="a condition is a mapping with one of: all, any, not, fact, finding",
    ),
]

AllOf.model_rebuild()
AnyOf.model_rebuild()
NotOf.model_rebuild()


# --- facts.yaml -------------------------------------------------------------------------------


class FactSpec(Strict):
    type: Literal["str", "int", "float", "bool"]
    description: str
    choices: list[str] | None = None
    unit: str | None = None


class FactsFile(Strict):
    facts: dict[str, FactSpec]


# --- findings.yaml ----------------------------------------------------------------------------


class Routing(Strict):
    """Pick the contact from a fact's value: the same finding, a different person to call."""

    by: str
    cases: dict[str, Contact]
    otherwise: Contact


ContactRule = Union[Contact, Routing]


class FindingSpec(Strict):
    title: str
    severity: Severity
    contact: ContactRule
    summary: str
    why: str
    fix: list[str] = Field(min_length=1)
    false_positives: list[str] = []
    references: list[str] = []
    step: int = Field(ge=1, le=6, description="step of the source decision tree")
    status: Status = "stable"


class FindingsFile(Strict):
    findings: dict[str, FindingSpec]


# --- rules/<area>/<id>.yaml and <id>.test.yaml ------------------------------------------------


class RuleSpec(Strict):
    id: str
    description: str
    finding: str
    verdict: Literal["found", "ruled_out"] = "found"
    confidence: Confidence = "high"
    contact: ContactRule | None = None
    # Shown for "ruled out" verdicts: what was checked and found fine (Jinja over facts).
    message: str | None = None
    # Steps particular to what this rule found (the exact key to change), shown before the
    # finding's general fix steps; Jinja over facts like them.
    fix: list[str] = []
    false_positives: list[str] = []
    status: Status = "stable"
    when: Condition


class RuleCase(Strict):
    name: str
    facts: dict[str, FactValue] = {}
    expect: Literal["fire", "silent"]
    # A known gap: the case documents what should happen; failing it does not fail the run.
    todo: str | None = None


class RuleTestFile(Strict):
    rule: str
    cases: list[RuleCase] = Field(min_length=1)


# --- questions/*.yaml -------------------------------------------------------------------------


class Choice(Strict):
    value: str
    label: str


class QuestionSpec(Strict):
    id: str
    text: str
    why: str
    kind: Literal["choice", "yes_no", "text", "number"]
    choices: list[Choice] = []
    when: Condition
    priority: int = 50

    @model_validator(mode="after")
    def _choices_match_kind(self) -> QuestionSpec:
        if self.kind == "choice" and len(self.choices) < 2:
            raise ValueError("a 'choice' question needs at least two choices")
        if self.kind != "choice" and self.choices:
            raise ValueError(f"only 'choice' questions take choices (this one is '{self.kind}')")
        return self

    def allowed_answers(self) -> list[str] | None:
        """Answer values a person may give; None for free text. 'unknown' is always allowed."""
        if self.kind == "choice":
            values = [c.value for c in self.choices]
            return values if "unknown" in values else values + ["unknown"]
        if self.kind == "yes_no":
            return ["yes", "no", "unknown"]
        return None


class QuestionsFile(Strict):
    questions: list[QuestionSpec]


# --- signatures/*.yaml ------------------------------------------------------------------------


class Examples(Strict):
    match: list[str] = Field(min_length=1)
    no_match: list[str] = Field(min_length=1)


class SignatureSpec(Strict):
    id: str
    description: str
    pattern: str
    ignore_case: bool = False
    # Values may name a pattern group, "{host}", to carry text from the line into the fact.
    facts: dict[str, FactValue] = Field(min_length=1)
    examples: Examples


class SignaturesFile(Strict):
    signatures: list[SignatureSpec]


# --- ports.yaml -------------------------------------------------------------------------------


class PortSpec(Strict):
    port: int = Field(ge=1, le=65535)
    security: Literal["starttls", "ssl", "none"]
    name: str


class PortsFile(Strict):
    """Submission ports in order of preference: what auto security and the port sweep use."""

    ports: list[PortSpec] = Field(min_length=1)


# --- scenarios/*.yaml -------------------------------------------------------------------------


class Expectation(Strict):
    first: str | None = None
    findings: list[str] = []
    absent: list[str] = []
    contacts: dict[str, Contact] = {}
    asks: list[str] = []


class Scenario(Strict):
    id: str
    description: str
    source: str | None = None
    facts: dict[str, FactValue] = {}
    answers: dict[str, FactValue] = {}
    text: str | None = None
    expect: Expectation
    todo: str | None = None


class ScenariosFile(Strict):
    scenarios: list[Scenario]
