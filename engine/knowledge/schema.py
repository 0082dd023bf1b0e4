"""The shapes of every knowledge entry, as frozen dataclasses; unknown keys are errors, never ignored.

The files that hold them, and the rule tests and scenarios, are shaped in files.py. At run time
these are plain dataclasses: a run served from the knowledge cache unpickles them and
never imports pydantic. Loading a file validates it with pydantic (engine.knowledge.load), which
reads the constraints below from the annotations: Check, After and Tagged build their part of the
validator only then.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import field, is_dataclass
from typing import Annotated, Any, ClassVar, Literal, get_args

from engine.values import frozen

FactValue = bool | int | float | str
Contact = Literal["network_admin", "cloud_support", "email_provider", "application_admin", "self"]
Severity = Literal["error", "warning", "info"]
Confidence = Literal["high", "medium", "low"]
Status = Literal["experimental", "stable", "deprecated"]

CONTACTS: tuple[str, ...] = get_args(Contact)
SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}
CONFIDENCE_ORDER = {"high": 0, "medium": 1, "low": 2}


def yaml_key(name: str) -> str:
    """The key a field has in YAML: a Python keyword is spelled with a trailing underscore."""
    return name.removesuffix("_")


class Strict:
    """Base of every knowledge dataclass: how pydantic validates it (a ConfigDict, spelled as a dict)."""

    __pydantic_config__: ClassVar[dict[str, object]] = {
        "extra": "forbid",
        "alias_generator": yaml_key,
        "populate_by_name": True,
    }


class Check:
    """Constraints of a value (min_length, ge, le, pattern), as pydantic's core schema names them."""

    def __init__(self, **constraints: object) -> None:
        self.constraints = constraints

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> Any:
        schema = handler(source)
        schema.update(self.constraints)
        return schema


class After:
    """A check run on a value once it has its type; it raises ValueError to reject it."""

    def __init__(self, check: Callable[[Any], Any]) -> None:
        self.check = check

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> Any:
        from pydantic_core import core_schema

        return core_schema.no_info_after_validator_function(self.check, handler(source))


class Tagged:
    """A union whose member is chosen by a function of the value, with one error when none fits."""

    def __init__(self, kind: Callable[[Any], str | None], tags: dict[str, str], error: str, message: str) -> None:
        self.kind, self.tags, self.error, self.message = kind, tags, error, message

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> Any:
        from pydantic import Discriminator, Tag

        members = tuple(Annotated[m, Tag(self.tags[m.__name__])] for m in get_args(source))
        union = members[0]
        for member in members[1:]:
            union = union | member
        chooser = Discriminator(self.kind, custom_error_type=self.error, custom_error_message=self.message)
        return handler.generate_schema(Annotated[union, chooser])


# --- conditions -------------------------------------------------------------------------------

OPERATORS = ("equals", "one_of", "matches", "gt", "ge", "lt", "le", "present", "absent")


@frozen(kw_only=True)
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

    def __post_init__(self) -> None:
        used = [op for op in OPERATORS if getattr(self, op) is not None]
        if len(used) != 1:
            given = ", ".join(used) if used else "none"
            raise ValueError(f"a fact test needs exactly one of {', '.join(OPERATORS)} (given: {given})")

    @property
    def operator(self) -> str:
        return next(op for op in OPERATORS if getattr(self, op) is not None)


@frozen(kw_only=True)
class FindingTest(Strict):
    """True when another rule has concluded this finding: lets rules build on rules."""

    finding: str


@frozen(kw_only=True)
class ReplyTest(Strict):
    """True when one SMTP reply satisfies the inner condition, which tests only reply.* facts.

    A reply's code, enhanced code, text and stage are tested together: two replies of one run
    (a 250 to MAIL FROM, a 553 to RCPT TO) never mix.
    """

    reply: Condition


@frozen(kw_only=True)
class AllOf(Strict):
    """True when every inner condition is true."""

    all: Annotated[list[Condition], Check(min_length=1)]


@frozen(kw_only=True)
class AnyOf(Strict):
    """True when at least one inner condition is true."""

    any: Annotated[list[Condition], Check(min_length=1)]


@frozen(kw_only=True)
class NotOf(Strict):
    """True when the inner condition is not (written `not:` in YAML)."""

    not_: Condition


def _condition_kind(value: Any) -> str | None:
    if is_dataclass(value):
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
    AllOf | AnyOf | NotOf | FactTest | FindingTest | ReplyTest,
    Tagged(
        _condition_kind,
        CONDITION_TAGS,
        "condition",
        "a condition is a mapping with one of: all, any, not, fact, finding, reply",
    ),
]


# --- facts.yaml -------------------------------------------------------------------------------


@frozen(kw_only=True)
class FactSpec(Strict):
    """One fact name in knowledge/facts.yaml: its type, meaning and allowed values."""

    type: Literal["str", "int", "float", "bool"]
    description: str
    choices: list[str] | None = None
    unit: str | None = None
    # Recorded for the report, the transcript or the program's own use (where the probe stood,
    # timings), not for rules: lint does not ask for a reader.
    report_only: bool = False


# --- findings.yaml ----------------------------------------------------------------------------


@frozen(kw_only=True)
class Routing(Strict):
    """Pick the contact from a fact's value: the same finding, a different person to call."""

    by: str
    cases: dict[str, Contact]
    otherwise: Contact


ContactRule = Contact | Routing


@frozen(kw_only=True)
class ConditionalStep(Strict):
    """A fix step that applies only when its condition holds over the facts of the run."""

    when: Condition
    text: str


# A fix step: a sentence (Jinja that fills in fact values), or one that applies only `when`.
FixStep = str | ConditionalStep


@frozen(kw_only=True)
class FindingSpec(Strict):
    """One finding in knowledge/findings.yaml: what is wrong, who acts, how to fix it."""

    title: str
    severity: Severity
    contact: ContactRule
    summary: str
    why: str
    fix: Annotated[list[FixStep], Check(min_length=1)]
    false_positives: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    step: Annotated[int, Check(ge=1, le=6)]  # the step of the source decision tree
    status: Status = "stable"
    # "account": about one account's own settings or standing (its password, its sender), so
    # accounts with it are not grouped as one cause when many accounts are diagnosed together.
    scope: Literal["server", "account"] = "server"
    # For a fleet report (`mailtriage merge`): what the server's owner must do with the addresses
    # of the nodes that have this finding ("Add these addresses to the allowed list of ..."); the
    # report then lists each node's egress (or local) address. None: addresses are not the point.
    fleet_addresses: str | None = None
    # False for findings error text alone cannot show (they need the probe, answers or settings):
    # knowledge coverage and its lint warning leave them out.
    text_evidence: bool = True
    # Client ecosystems whose own error texts cannot show this finding, each with the reason
    # (the runtime names an address where the finding needs the host): coverage shows the
    # reason in place of a gap.
    text_silent: dict[str, str] = field(default_factory=dict)


# --- rules/<area>/<id>.yaml -------------------------------------------------------------------


# specific: knowledge of a cause (a provider's code, a server's wording). backbone: what a reply
# code alone means (RFC 3463/5248, RFC 5321), concluded only when no specific rule found an
# error. last_resort: a failure nothing explains, concluded only when no other rule found one.
Tier = Literal["specific", "backbone", "last_resort"]
TIER_SALIENCE = {"specific": 0, "backbone": -10, "last_resort": -20}


@frozen(kw_only=True)
class RuleSpec(Strict):
    """One rule: the condition on facts that concludes (or rules out) a finding."""

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
    fix: list[FixStep] = field(default_factory=list)
    false_positives: list[str] = field(default_factory=list)
    status: Status = "stable"
    when: Condition


# --- questions/*.yaml -------------------------------------------------------------------------


@frozen(kw_only=True)
class Choice(Strict):
    """One answer a question offers."""

    value: str
    label: str
    # Older or shorter answers that mean this choice (an answers file may still say them).
    aliases: list[str] = field(default_factory=list)


@frozen(kw_only=True)
class QuestionSpec(Strict):
    """One question: what to ask, why, and when it is worth asking."""

    id: str
    text: str
    why: str
    kind: Literal["choice", "yes_no", "text", "number"]
    choices: list[Choice] = field(default_factory=list)
    when: Condition
    priority: int = 50
    # The answer is error text (a queue item's error, a pasted line): mine it with the
    # signatures as a log would be, so the facts it names count like any other.
    mine: bool = False
    # The session itself takes the answer (the guide's host, port and consent to probe), rather
    # than a rule reading it: lint does not ask for a rule.
    session_input: bool = False

    def __post_init__(self) -> None:
        if self.mine and self.kind != "text":
            raise ValueError(f"only 'text' questions can be mined (this one is '{self.kind}')")
        if self.kind == "choice" and len(self.choices) < 2:
            raise ValueError("a 'choice' question needs at least two choices")
        if self.kind != "choice" and self.choices:
            raise ValueError(f"only 'choice' questions take choices (this one is '{self.kind}')")

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


# --- signatures/*.yaml ------------------------------------------------------------------------


# A fact value that is exactly "{group}" takes the text of that named group of the pattern.
GROUP_REF = re.compile(r"^\{([A-Za-z_][A-Za-z0-9_]*)\}$")
# A group named inside a longer value ("nodemailer {code}"): the value stays a string.
GROUP_REF_IN = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


@frozen(kw_only=True)
class Examples(Strict):
    """Texts a signature must match, and near misses it must not."""

    match: Annotated[list[str], Check(min_length=1)]
    no_match: Annotated[list[str], Check(min_length=1)]


# The client ecosystems signatures are written for; "any" for text every client shows alike (a
# bare SMTP reply, a DSN). knowledge/coverage.md counts findings per ecosystem.
Ecosystem = Literal["java", "python", "node", "dotnet", "php", "go", "ruby", "rust", "cli", "mta", "any"]
ECOSYSTEMS: tuple[str, ...] = get_args(Ecosystem)


@frozen(kw_only=True)
class SignatureSpec(Strict):
    """One signature: a pattern in error text and the facts a match sets."""

    id: str
    description: str
    ecosystem: Ecosystem | None = None  # overrides the file's
    pattern: str
    ignore_case: bool = False
    # Values may name a pattern group, "{host}", to carry text from the line into the fact.
    facts: Annotated[dict[str, FactValue], Check(min_length=1)]
    examples: Examples


# --- status-codes.yaml -----------------------------------------------------------------------

Stage = Literal["greeting", "ehlo", "starttls", "auth", "mail", "rcpt", "data", "end_of_data", "quit", "unknown"]
ENHANCED_KEY = r"^(X|[245])\.\d{1,3}\.\d{1,3}$"
BASIC_KEY = r"^[245]\d\d$"


@frozen(kw_only=True)
class StatusRow(Strict):
    """What one status code means, and the finding it supports when nothing more specific is known."""

    meaning: str
    finding: str | None = None
    contact: Contact | None = None
    # Where the stage changes what the code means: stage -> finding (basic codes only).
    stages: dict[Stage, str] = field(default_factory=dict)
    # Basic codes only: the row's guess does not stand when the enhanced code is a security or
    # policy one (X.7.*), as in 552 5.7.0 "blocked because of its content".
    yields_to_policy: bool = False


@frozen(kw_only=True)
class StatusCodesFile(Strict):
    """knowledge/status-codes.yaml: what reply codes and enhanced status codes mean."""

    classes: dict[Annotated[str, Check(pattern=r"^[245]$")], str]
    subjects: dict[Annotated[str, Check(pattern=r"^[0-7]$")], str]
    enhanced: dict[Annotated[str, Check(pattern=ENHANCED_KEY)], StatusRow]
    basic: dict[Annotated[str, Check(pattern=BASIC_KEY)], StatusRow]

    def __post_init__(self) -> None:
        staged = [key for key, row in self.enhanced.items() if row.stages]
        if staged:
            raise ValueError(f"stages are for basic codes; enhanced codes name one finding ({', '.join(staged)})")


# --- ports.yaml -------------------------------------------------------------------------------


@frozen(kw_only=True)
class PortSpec(Strict):
    """One submission port and the security it speaks."""

    port: Annotated[int, Check(ge=1, le=65535)]
    security: Literal["starttls", "ssl", "none"]
    name: str


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


@frozen(kw_only=True)
class EgressMethod(Strict):
    """A DNS name whose answer is the address the query came from."""

    name: str
    description: str
    query: str
    type: Literal["A", "AAAA", "TXT"]
    servers: Annotated[list[Annotated[str, After(_address)]], Check(min_length=1)]


@frozen(kw_only=True)
class DnsblZone(Strict):
    """One DNS blocklist zone, and the answers that mean listed."""

    zone: str
    name: str
    listed: Annotated[str, After(_network)] = "127.0.0.0/24"
    refused: Annotated[str, After(_network)] | None = None
    delist: str | None = None


@frozen(kw_only=True)
class SpfVocabulary(Strict):
    """What an SPF record looks like and the limits RFC 7208 sets."""

    record_prefix: str = "v=spf1"
    lookup_limit: Annotated[int, Check(ge=1, le=50)] = 10
    void_lookup_limit: Annotated[int, Check(ge=0, le=50)] = 2
    mx_limit: Annotated[int, Check(ge=1, le=50)] = 10
    qualifiers: dict[str, SpfResult]


@frozen(kw_only=True)
class DmarcVocabulary(Strict):
    """Where a DMARC record lives and how far up the tree to look."""

    label: str = "_dmarc"
    record_prefix: str = "v=DMARC1"
    tree_walk_limit: Annotated[int, Check(ge=1, le=20)] = 8


@frozen(kw_only=True)
class DnsChecksFile(Strict):
    """What --check-dns asks and how it reads the answers."""

    egress: Annotated[list[EgressMethod], Check(min_length=1)]
    dnsbl: list[DnsblZone] = field(default_factory=list)
    spf: SpfVocabulary
    dmarc: DmarcVocabulary = field(default_factory=DmarcVocabulary)


# --- providers.yaml ---------------------------------------------------------------------------

PROVIDER_ID = r"^[a-z][a-z0-9_]*$"


@frozen(kw_only=True)
class ProviderExamples(Strict):
    """Real host names and server lines this entry must recognise, and near misses it must not."""

    hosts: list[str] = field(default_factory=list)
    banners: list[str] = field(default_factory=list)
    no_match: list[str] = field(default_factory=list)


# The fact each kind of provider entry sets when recognised.
PROVIDER_FACT_OF_KIND = {"service": "provider.service", "software": "provider.software"}


@frozen(kw_only=True)
class ProviderSpec(Strict):
    """A mail service (Microsoft 365, Gmail, SES) or server software (Postfix, Exim) and how to tell it."""

    id: Annotated[str, Check(pattern=PROVIDER_ID)]
    name: str
    kind: Literal["service", "software"]
    # Several entries can match one server (Exchange software behind Microsoft 365); the higher rank wins.
    rank: Annotated[int, Check(ge=0, le=100)] = 50
    # Regexes searched in the configured host name (case-insensitive), and in the greeting, EHLO
    # and other replies and pasted text.
    hosts: list[str] = field(default_factory=list)
    banners: list[str] = field(default_factory=list)
    # Extra fix steps per finding id, shown first and labelled with the name (Jinja over facts).
    remediation: dict[str, list[FixStep]] = field(default_factory=dict)
    references: list[str] = field(default_factory=list)
    examples: ProviderExamples

    def __post_init__(self) -> None:
        if not self.hosts and not self.banners:
            raise ValueError("a provider needs at least one pattern in hosts or banners")
