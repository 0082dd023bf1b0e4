"""The shapes of whole knowledge files, and of the rule tests and scenarios `knowledge test` runs.

Loading validates files against these (engine.knowledge.load); a run holds only the entries
inside them (schema.py), so a run from the knowledge cache never creates these classes.
"""

from __future__ import annotations

from dataclasses import field
from typing import Annotated, Literal

from engine.knowledge.schema import (
    Check,
    Contact,
    Ecosystem,
    FactSpec,
    FactValue,
    FindingSpec,
    PortSpec,
    ProviderSpec,
    QuestionSpec,
    SignatureSpec,
    Strict,
)
from engine.values import frozen


@frozen(kw_only=True)
class FactsFile(Strict):
    """knowledge/facts.yaml: every fact a probe, a text or an answer may set."""

    facts: dict[str, FactSpec]


@frozen(kw_only=True)
class FindingsFile(Strict):
    """knowledge/findings.yaml: every conclusion mailtriage can reach, by stable id."""

    findings: dict[str, FindingSpec]


@frozen(kw_only=True)
class RuleCase(Strict):
    """One case of a rule's .test.yaml: facts, and whether the rule fires on them."""

    name: str
    facts: dict[str, FactValue] = field(default_factory=dict)
    expect: Literal["fire", "silent"]
    # A known gap: the case documents what should happen; failing it does not fail the run.
    todo: str | None = None


@frozen(kw_only=True)
class RuleTestFile(Strict):
    """A rule's .test.yaml: the cases `knowledge test` runs against it."""

    rule: str
    cases: Annotated[list[RuleCase], Check(min_length=1)]


@frozen(kw_only=True)
class QuestionsFile(Strict):
    """A file of knowledge/questions/."""

    questions: list[QuestionSpec]


@frozen(kw_only=True)
class SignaturesFile(Strict):
    """A file of knowledge/signatures/: one client library's or server's wording."""

    ecosystem: Ecosystem = "any"  # of every signature in the file that names none of its own
    signatures: list[SignatureSpec]


@frozen(kw_only=True)
class PortsFile(Strict):
    """Submission ports in order of preference: what auto security and the port sweep use."""

    ports: Annotated[list[PortSpec], Check(min_length=1)]


@frozen(kw_only=True)
class ProvidersFile(Strict):
    """knowledge/providers.yaml: mail services and server software, and how to tell them."""

    providers: Annotated[list[ProviderSpec], Check(min_length=1)]


@frozen(kw_only=True)
class Expectation(Strict):
    """What a scenario must conclude: the first finding, others, and those absent."""

    first: str | None = None
    findings: list[str] = field(default_factory=list)
    absent: list[str] = field(default_factory=list)
    contacts: dict[str, Contact] = field(default_factory=dict)
    asks: list[str] = field(default_factory=list)


@frozen(kw_only=True)
class Relabelled(Strict):
    """A corpus label changed because the finding catalogue changed, never to make a text pass."""

    was: str  # the label as first written
    why: str  # the contract change (findings.md) that moved it


@frozen(kw_only=True)
class FirstSeen(Strict):
    """What mailtriage concluded first for a corpus text before any knowledge changed for it."""

    finding: str | None
    knowledge: str  # the commit of the knowledge that was measured


@frozen(kw_only=True)
class Scenario(Strict):
    """One scenario: facts, text or answers, and what they must conclude."""

    id: str
    description: str
    source: str | None = None
    # Corpus entries: the client ecosystem the text comes from, the first-seen result, relabels.
    ecosystem: str | None = None
    first_seen: FirstSeen | None = None
    relabelled: Relabelled | None = None
    facts: dict[str, FactValue] = field(default_factory=dict)
    answers: dict[str, FactValue] = field(default_factory=dict)
    text: str | None = None
    expect: Expectation
    todo: str | None = None


@frozen(kw_only=True)
class ScenariosFile(Strict):
    """A file of knowledge/scenarios/."""

    scenarios: list[Scenario]
