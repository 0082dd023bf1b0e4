"""Pydantic models of every knowledge file; unknown keys are errors, never ignored."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from typing import Annotated, Any, Literal, get_args

from pydantic import AfterValidator, BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator

FactValue = bool | int | float | str
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
            raise ValueError(f"a fact test needs exactly one of {', '.join(OPERATORS)} (given: {given})")
        return self

    @property
    def operator(self) -> str:
        return next(op for op in OPERATORS if getattr(self, op) is not None)


class FindingTest(Strict):
    """True when another rule has concluded this finding: lets rules build on rules."""

    finding: str


class ReplyTest(Strict):
    """True when one SMTP reply satisfies the inner condition, which tests only reply.* facts.

    A reply's code, enhanced code, text and stage are tested together: two replies of one run
    (a 250 to MAIL FROM, a 553 to RCPT TO) never mix.
    """

    reply: Condition


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
    "ReplyTest": "<reply>",
}
KEY_TAGS = {
    "all": "<all>",
    "any": "<any>",
    "not": "<not>",
    "fact": "<fact>",
    "finding": "<finding>",
    "reply": "<reply>",
}


Condition = Annotated[
    Annotated[AllOf, Tag("<all>")]
    | Annotated[AnyOf, Tag("<any>")]
    | Annotated[NotOf, Tag("<not>")]
    | Annotated[FactTest, Tag("<fact>")]
    | Annotated[FindingTest, Tag("<finding>")]
    | Annotated[ReplyTest, Tag("<reply>")],
    Discriminator(
        _condition_kind,
        custom_error_type="condition",
        custom_error_message="a condition is a mapping with one of: all, any, not, fact, finding, reply",
    ),
]

ReplyTest.model_rebuild()
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


ContactRule = Contact | Routing


class ConditionalStep(Strict):
    """A fix step that applies only when its condition holds over the facts of the run."""

    when: Condition
    text: str


# A fix step: a sentence (Jinja that fills in fact values), or one that applies only `when`.
FixStep = str | ConditionalStep


class FindingSpec(Strict):
    title: str
    severity: Severity
    contact: ContactRule
    summary: str
    why: str
    fix: list[FixStep] = Field(min_length=1)
    false_positives: list[str] = []
    references: list[str] = []
    step: int = Field(ge=1, le=6, description="step of the source decision tree")
    status: Status = "stable"
    # "account": about one account's own settings or standing (its password, its sender), so
    # accounts with it are not grouped as one cause when many accounts are diagnosed together.
    scope: Literal["server", "account"] = "server"
    # False for findings error text alone cannot show (they need the probe, answers or settings):
    # knowledge coverage and its lint warning leave them out.
    text_evidence: bool = True
    # Client ecosystems whose own error texts cannot show this finding, each with the reason
    # (the runtime names an address where the finding needs the host): coverage shows the
    # reason in place of a gap.
    text_silent: dict[str, str] = {}


class FindingsFile(Strict):
    findings: dict[str, FindingSpec]


# --- rules/<area>/<id>.yaml and <id>.test.yaml ------------------------------------------------


# specific: knowledge of a cause (a provider's code, a server's wording). backbone: what a reply
# code alone means (RFC 3463/5248, RFC 5321), concluded only when no specific rule found an
# error. last_resort: a failure nothing explains, concluded only when no other rule found one.
Tier = Literal["specific", "backbone", "last_resort"]
TIER_SALIENCE = {"specific": 0, "backbone": -10, "last_resort": -20}


class RuleSpec(Strict):
    id: str
    description: str
    finding: str
    verdict: Literal["found", "ruled_out"] = "found"
    confidence: Confidence = "high"
    tier: Tier = "specific"
    contact: ContactRule | None = None
    # Shown for "ruled out" verdicts: what was checked and found fine (Jinja over facts).
    message: str | None = None
    # Steps particular to what this rule found (the exact key to change), shown before the
    # finding's general fix steps; Jinja over facts like them.
    fix: list[FixStep] = []
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
    # Older or shorter answers that mean this choice (an answers file may still say them).
    aliases: list[str] = []


class QuestionSpec(Strict):
    id: str
    text: str
    why: str
    kind: Literal["choice", "yes_no", "text", "number"]
    choices: list[Choice] = []
    when: Condition
    priority: int = 50
    # The answer is error text (a queue item's error, a pasted line): mine it with the
    # signatures as a log would be, so the facts it names count like any other.
    mine: bool = False

    @model_validator(mode="after")
    def _choices_match_kind(self) -> QuestionSpec:
        if self.mine and self.kind != "text":
            raise ValueError(f"only 'text' questions can be mined (this one is '{self.kind}')")
        if self.kind == "choice" and len(self.choices) < 2:
            raise ValueError("a 'choice' question needs at least two choices")
        if self.kind != "choice" and self.choices:
            raise ValueError(f"only 'choice' questions take choices (this one is '{self.kind}')")
        return self

    def alias_of(self, answer: str) -> str | None:
        """The choice an alias stands for, if the answer is one."""
        return next((c.value for c in self.choices if answer in c.aliases), None)

    def allowed_answers(self) -> list[str] | None:
        """Answer values a person may give; None for free text. 'unknown' is always allowed."""
        if self.kind == "choice":
            values = [c.value for c in self.choices]
            return values if "unknown" in values else [*values, "unknown"]
        if self.kind == "yes_no":
            return ["yes", "no", "unknown"]
        return None


class QuestionsFile(Strict):
    questions: list[QuestionSpec]


# --- signatures/*.yaml ------------------------------------------------------------------------


# A fact value that is exactly "{group}" takes the text of that named group of the pattern.
GROUP_REF = re.compile(r"^\{([A-Za-z_][A-Za-z0-9_]*)\}$")
# A group named inside a longer value ("nodemailer {code}"): the value stays a string.
GROUP_REF_IN = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


class Examples(Strict):
    match: list[str] = Field(min_length=1)
    no_match: list[str] = Field(min_length=1)


# The client ecosystems signatures are written for; "any" for text every client shows alike (a
# bare SMTP reply, a DSN). knowledge/coverage.md counts findings per ecosystem.
Ecosystem = Literal["java", "python", "node", "dotnet", "php", "go", "ruby", "rust", "cli", "mta", "any"]
ECOSYSTEMS: tuple[str, ...] = get_args(Ecosystem)


class SignatureSpec(Strict):
    id: str
    description: str
    ecosystem: Ecosystem | None = None  # overrides the file's
    pattern: str
    ignore_case: bool = False
    # Values may name a pattern group, "{host}", to carry text from the line into the fact.
    facts: dict[str, FactValue] = Field(min_length=1)
    examples: Examples


class SignaturesFile(Strict):
    ecosystem: Ecosystem = "any"  # of every signature in the file that names none of its own
    signatures: list[SignatureSpec]


# --- status-codes.yaml -----------------------------------------------------------------------

Stage = Literal["greeting", "ehlo", "starttls", "auth", "mail", "rcpt", "data", "end_of_data", "quit", "unknown"]
ENHANCED_KEY = r"^(X|[245])\.\d{1,3}\.\d{1,3}$"
BASIC_KEY = r"^[245]\d\d$"


class StatusRow(Strict):
    """What one status code means, and the finding it supports when nothing more specific is known."""

    meaning: str
    finding: str | None = None
    contact: Contact | None = None
    # Where the stage changes what the code means: stage -> finding (basic codes only).
    stages: dict[Stage, str] = {}
    # Basic codes only: the row's guess does not stand when the enhanced code is a security or
    # policy one (X.7.*), as in 552 5.7.0 "blocked because of its content".
    yields_to_policy: bool = False


class StatusCodesFile(Strict):
    classes: dict[Annotated[str, Field(pattern=r"^[245]$")], str]
    subjects: dict[Annotated[str, Field(pattern=r"^[0-7]$")], str]
    enhanced: dict[Annotated[str, Field(pattern=ENHANCED_KEY)], StatusRow]
    basic: dict[Annotated[str, Field(pattern=BASIC_KEY)], StatusRow]

    @model_validator(mode="after")
    def _stages_only_for_basic_codes(self) -> StatusCodesFile:
        staged = [key for key, row in self.enhanced.items() if row.stages]
        if staged:
            raise ValueError(f"stages are for basic codes; enhanced codes name one finding ({', '.join(staged)})")
        return self


# --- ports.yaml -------------------------------------------------------------------------------


class PortSpec(Strict):
    port: int = Field(ge=1, le=65535)
    security: Literal["starttls", "ssl", "none"]
    name: str


class PortsFile(Strict):
    """Submission ports in order of preference: what auto security and the port sweep use."""

    ports: list[PortSpec] = Field(min_length=1)


# --- dnschecks.yaml ---------------------------------------------------------------------------

SpfResult = Literal["pass", "fail", "softfail", "neutral", "none", "permerror", "temperror"]


def _ip(parse: Callable[[str], object], wanted: str) -> Callable[[str], str]:
    """A validator that keeps the text when `parse` (from ipaddress) accepts it."""

    def check(text: str) -> str:
        try:
            parse(text)
        except ValueError:
            raise ValueError(f"'{text}' is not {wanted}") from None
        return text

    return check


_address = _ip(ipaddress.ip_address, "an IP address (servers are named by address)")
_network = _ip(ipaddress.ip_network, "an IP network like 127.0.0.0/24")


class EgressMethod(Strict):
    """A DNS name whose answer is the address the query came from."""

    name: str
    description: str
    query: str
    type: Literal["A", "AAAA", "TXT"]
    servers: list[Annotated[str, AfterValidator(_address)]] = Field(min_length=1)


class DnsblZone(Strict):
    zone: str
    name: str
    listed: Annotated[str, AfterValidator(_network)] = "127.0.0.0/24"
    refused: Annotated[str, AfterValidator(_network)] | None = None
    delist: str | None = None


class SpfVocabulary(Strict):
    record_prefix: str = "v=spf1"
    lookup_limit: int = Field(default=10, ge=1, le=50)
    void_lookup_limit: int = Field(default=2, ge=0, le=50)
    mx_limit: int = Field(default=10, ge=1, le=50)
    qualifiers: dict[str, SpfResult]


class DmarcVocabulary(Strict):
    label: str = "_dmarc"
    record_prefix: str = "v=DMARC1"
    tree_walk_limit: int = Field(default=8, ge=1, le=20)


class DnsChecksFile(Strict):
    """What --check-dns asks and how it reads the answers."""

    egress: list[EgressMethod] = Field(min_length=1)
    dnsbl: list[DnsblZone] = []
    spf: SpfVocabulary
    dmarc: DmarcVocabulary = DmarcVocabulary()


# --- scenarios/*.yaml -------------------------------------------------------------------------


class Expectation(Strict):
    first: str | None = None
    findings: list[str] = []
    absent: list[str] = []
    contacts: dict[str, Contact] = {}
    asks: list[str] = []


class Relabelled(Strict):
    """A corpus label changed because the finding catalogue changed, never to make a text pass."""

    was: str  # the label as first written
    why: str  # the contract change (findings.md) that moved it


class FirstSeen(Strict):
    """What mailtriage concluded first for a corpus text before any knowledge changed for it."""

    finding: str | None
    knowledge: str  # the commit of the knowledge that was measured


class Scenario(Strict):
    id: str
    description: str
    source: str | None = None
    # Corpus entries: the client ecosystem the text comes from, the first-seen result, relabels.
    ecosystem: str | None = None
    first_seen: FirstSeen | None = None
    relabelled: Relabelled | None = None
    facts: dict[str, FactValue] = {}
    answers: dict[str, FactValue] = {}
    text: str | None = None
    expect: Expectation
    todo: str | None = None


class ScenariosFile(Strict):
    scenarios: list[Scenario]


# --- providers.yaml ---------------------------------------------------------------------------

PROVIDER_ID = r"^[a-z][a-z0-9_]*$"


class ProviderExamples(Strict):
    """Real host names and server lines this entry must recognise, and near misses it must not."""

    hosts: list[str] = []
    banners: list[str] = []
    no_match: list[str] = []


# The fact each kind of provider entry sets when recognised.
PROVIDER_FACT_OF_KIND = {"service": "provider.service", "software": "provider.software"}


class ProviderSpec(Strict):
    """A mail service (Microsoft 365, Gmail, SES) or server software (Postfix, Exim) and how to tell it."""

    id: str = Field(pattern=PROVIDER_ID)
    name: str
    kind: Literal["service", "software"]
    # Several entries can match one server (Exchange software behind Microsoft 365); the higher rank wins.
    rank: int = Field(default=50, ge=0, le=100)
    hosts: list[str] = []  # regexes searched in the configured host name, case-insensitive
    banners: list[str] = []  # regexes searched in the greeting, EHLO and other replies, and pasted text
    # Extra fix steps per finding id, shown first and labelled with the name (Jinja over facts).
    remediation: dict[str, list[FixStep]] = {}
    references: list[str] = []
    examples: ProviderExamples

    @model_validator(mode="after")
    def _recognisable(self) -> ProviderSpec:
        if not self.hosts and not self.banners:
            raise ValueError("a provider needs at least one pattern in hosts or banners")
        return self


class ProvidersFile(Strict):
    providers: list[ProviderSpec] = Field(min_length=1)
