"""Build the report model, render it through Jinja or as JSON, and redact on the way out."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import jinja2
from jinja2.sandbox import SandboxedEnvironment
from pydantic import BaseModel, ConfigDict, Field

from engine import __version__
from engine.decide.inference import Conclusion
from engine.decide.session import SessionResult
from engine.facts import FactSet, FactValue, Observation
from engine.knowledge.model import Knowledge
from engine.probes import ProbeResult
from engine.redact import Redactor
from engine.text.providers import steps_for

if TYPE_CHECKING:  # the batch runner brings the probes; a pasted-log run should not import them
    from engine.run.batch import AccountOutcome, Group

SCHEMA = "mailtriage.report/1"
ACCOUNTS_SCHEMA = "mailtriage.accounts/1"
Format = Literal["text", "md", "html", "json"]
TEMPLATES: dict[str, str] = {"text": "summary.txt.j2", "md": "ticket.md.j2", "html": "report.html.j2"}


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
    """The JSON report exactly as cli-contract.md specifies it."""

    schema_: str = Field(default=SCHEMA, alias="schema")
    tool: Tool = Tool()
    generated_at: str
    target: Target
    findings: list[FindingOut]
    facts: list[FactOut]
    questions: list[QuestionOut]
    probes: list[ProbeOut]
    transcript: list[str]


def reports_root() -> Path:
    packaged = Path(__file__).resolve().parent.parent / "_data" / "reports"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent.parent / "reports"


_steps_env = SandboxedEnvironment(undefined=jinja2.ChainableUndefined)


def render_step(template: str, facts: FactSet) -> str:
    """A knowledge sentence with the facts in play filled in (fact(name, default))."""
    values = facts.as_dict()

    def fact(name: str, default: object = "") -> object:
        return values.get(name, default)

    return " ".join(_steps_env.from_string(template).render(fact=fact).split())


def evidence_line(obs: Observation) -> str:
    text = obs.evidence if obs.evidence is not None else f"{obs.name} = {obs.value}"
    return f"{obs.origin}: {text}" if obs.origin and obs.source == "log" else text


def explain(c: Conclusion, kb: Knowledge) -> list[str]:
    lines = []
    for step in c.steps:
        matched = ", ".join(f"{o.name} = {o.value} ({o.source})" for o in _unique_facts(step.observations))
        built_on = "; built on " + ", ".join(f"rule {r}" for r in step.used) if step.used else ""
        lines.append(
            f"rule {step.rule}: {kb.rules[step.rule].description.strip()} Matched: "
            f"{matched or 'absence of facts'}{built_on}"
        )
    return lines


def _unique_facts(observations: list[Observation]) -> list[Observation]:
    seen: dict[tuple[str, FactValue, str], Observation] = {}
    for o in observations:
        seen.setdefault((o.name, o.value, o.source), o)
    return list(seen.values())


def recognised_providers(facts: FactSet) -> list[str]:
    """Provider ids in play: the mail service first, then the server software."""
    found = (facts.first("provider.service"), facts.first("provider.software"))
    return [v for v in found if isinstance(v, str)]


def provider_steps(kb: Knowledge, finding: str, facts: FactSet) -> list[str]:
    """The recognised provider's own fix steps, labelled with its name, to go before the generic ones."""
    steps = ((p.name, render_step(t, facts)) for p, t in steps_for(kb, finding, recognised_providers(facts)))
    return [f"{name}: {text}" for name, text in steps if text]


def remediation(kb: Knowledge, c: Conclusion, facts: FactSet) -> list[str]:
    """The fix steps of each rule that concluded the finding, then the finding's own, each once."""
    templates = [t for step in c.steps for t in kb.rules[step.rule].fix] + kb.findings[c.finding].fix
    steps = (render_step(t, facts) for t in templates)
    return list(dict.fromkeys(r for r in steps if r))


def build_report(
    kb: Knowledge,
    session: SessionResult,
    target: dict[str, Any],
    probes: list[ProbeResult],
    transcript: list[str] | None = None,
    now: dt.datetime | None = None,
) -> Report:
    facts = session.facts
    findings = []
    for c in session.inference.findings:
        spec = kb.findings[c.finding]
        findings.append(
            FindingOut(
                id=c.finding,
                title=spec.title,
                severity=c.severity,
                contact=c.contact,
                confidence=c.confidence,
                evidence=list(dict.fromkeys(evidence_line(o) for o in c.evidence)),
                # The recognised provider's own steps first, then the rules' and the finding's, each once.
                remediation=list(dict.fromkeys(provider_steps(kb, c.finding, facts) + remediation(kb, c, facts))),
                rule=c.rule,
                explanation=explain(c, kb),
            )
        )
    return Report(
        generated_at=(now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds"),
        target=Target(
            **{k: target.get(k) for k in ("host", "port", "security", "user", "to")}, **{"from": target.get("from")}
        ),
        findings=findings,
        facts=[FactOut(name=o.name, value=o.value, source=o.source) for o in _unique_facts(facts.items)],
        questions=[QuestionOut(id=a.question.id, text=a.question.text, answer=a.answer) for a in session.questions],
        probes=[ProbeOut(name=p.name, status=p.status, duration_ms=p.duration_ms, detail=p.detail) for p in probes],
        transcript=list(transcript or []),
    )


def view(kb: Knowledge, report: Report, session: SessionResult) -> dict[str, Any]:
    """What the Jinja templates see: the report plus the wording kept in knowledge."""
    data = report.model_dump(by_alias=True)
    for finding, conclusion in zip(data["findings"], session.inference.findings, strict=True):
        spec = kb.findings[finding["id"]]
        finding.update(
            summary=render_step(spec.summary, session.facts),
            why=spec.why.strip(),
            references=spec.references,
            false_positives=spec.false_positives,
            step=spec.step,
            contact_assumed_by=conclusion.contact_assumed_by,
        )
    data["ruled_out"] = [
        {
            "id": c.finding,
            "title": kb.findings[c.finding].title,
            "rule": c.rule,
            "message": render_step(kb.rules[c.rule].message or kb.rules[c.rule].description, session.facts),
        }
        for c in session.inference.ruled_out
    ]
    data["unanswered"] = [q for q in data["questions"] if q["answer"] is None]
    data["stage"] = session.facts.first("smtp.stage")
    data["providers"] = _providers_view(kb, session.facts)
    data["unmatched_text"] = _unmatched_text(kb, session)
    data["errors"] = [f for f in data["findings"] if f["severity"] == "error"]
    data["location"] = _location(session.facts)
    return data


def _providers_view(kb: Knowledge, facts: FactSet) -> list[dict[str, Any]]:
    """What the server was recognised as, and the first line that showed it."""
    out = []
    for fact in ("provider.service", "provider.software"):
        ident = facts.first(fact)
        provider = kb.providers.get(ident) if isinstance(ident, str) else None
        if provider is None:
            continue
        seen = facts.evidence_for(fact, provider.id)
        shown = evidence_line(seen[0]) if seen else provider.id
        # Log lines carry file:line already and the host its "host =" label; probe lines need the stage.
        origin = seen[0].origin if seen and seen[0].source == "probe" else None
        out.append(
            {
                "kind": provider.kind,
                "id": provider.id,
                "name": provider.name,
                "evidence": f"{origin}: {shown}" if origin else shown,
            }
        )
    return out


def _location(facts: FactSet) -> dict[str, Any] | None:
    """Where the probe stood: the machine, its local address, and the egress address if checked."""
    hostname = facts.first("probe.hostname")
    if hostname is None:
        return None  # pasted text only: nothing was probed from here
    return {
        "hostname": hostname,
        "local_address": facts.first("probe.local_address"),
        "local_method": facts.first("probe.local_address_method"),
        "egress_address": facts.first("egress.address"),
        "egress_method": facts.first("egress.method"),
        "egress_error": facts.first("egress.error"),
    }


def _unmatched_text(kb: Knowledge, session: SessionResult) -> dict[str, Any] | None:
    """When pasted text matched no signature: what was read and what was looked for."""
    read, matched = session.facts.first("log.lines"), session.facts.first("log.matched")
    if not read or matched:
        return None
    families: dict[str, list[str]] = {}
    for ident, sig in kb.signatures.items():
        families.setdefault(kb.where[("signature", ident)].path.stem, []).append(sig.description)
    return {"lines": read, "signatures": len(kb.signatures), "families": sorted(families)}


def _environment(html: bool) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(reports_root())),
        autoescape=html,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )


# C0 controls (but tab and newline), DEL and C1 controls: text from servers and pasted logs must
# not be able to move the cursor, retitle or clear the terminal of whoever reads the report.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def scrub(value: Any, redact: Redactor, clean: bool = False) -> Any:
    """Redact (and with clean, defang control characters in) every string of a nested structure."""
    if isinstance(value, str):
        value = redact(value)
        return printable(value) if clean else value
    if isinstance(value, list):
        return [scrub(v, redact, clean) for v in value]
    if isinstance(value, dict):
        return {k: scrub(v, redact, clean) for k, v in value.items()}
    return value


ACCOUNT_TEMPLATES: dict[str, str] = {"text": "accounts.txt.j2", "md": "accounts.md.j2", "html": "accounts.html.j2"}


def render_accounts(
    kb: Knowledge,
    items: list[AccountOutcome],
    groups: list[Group],
    reports: list[Report],
    fmt: Format,
    redact: Redactor,
) -> str:
    """The summary of a many-account run: one row per account, then the causes they share."""
    rows = []
    for item, report in zip(items, reports, strict=True):
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
            "tool": Tool().model_dump(),
            "accounts": [
                {"name": row["name"], "verdict": row["verdict"], "report": r.model_dump(by_alias=True)}
                for row, r in zip(rows, reports, strict=True)
            ],
            "groups": grouped,
        }
        return json.dumps(scrub(data, redact), indent=2, ensure_ascii=False) + "\n"
    failing = [g for g in groups if g.finding]
    width = {
        "name": max([len("Account")] + [len(r["name"]) for r in rows]),
        "finding": max([len("First finding")] + [len(r["first"]["id"]) for r in rows if r["first"]]),
    }
    html = fmt == "html"
    template = _environment(html).get_template(ACCOUNT_TEMPLATES[fmt])
    text = template.render(
        **scrub(
            {
                "tool": Tool().model_dump(),
                "accounts": rows,
                "groups": grouped,
                "width": width,
                "failing": sum(len(g.accounts) for g in failing),
                "causes": len(failing),
            },
            redact,
            clean=True,
        )
    )
    return redact(text, "&lt;redacted&gt;" if html else "<redacted>")


def render(kb: Knowledge, report: Report, session: SessionResult, fmt: Format, redact: Redactor) -> str:
    if fmt == "json":
        data = scrub(report.model_dump(by_alias=True), redact)
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    html = fmt == "html"
    template = _environment(html).get_template(TEMPLATES[fmt])
    text = template.render(**scrub(view(kb, report, session), redact, clean=True))
    # Last line of defence on the finished text; in HTML the marker must be escaped as well.
    return redact(text, "&lt;redacted&gt;" if html else "<redacted>")
