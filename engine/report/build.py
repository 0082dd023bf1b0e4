"""From a finished session to the report model: findings with evidence, fix steps and reasons."""

from __future__ import annotations

import datetime as dt
from typing import Any

from engine.decide.session import SessionResult
from engine.knowledge.model import Knowledge
from engine.probes import ProbeResult
from engine.report.model import FactOut, FindingOut, ProbeOut, QuestionOut, Report, Target
from engine.report.wording import evidence_line, explain, provider_steps, remediation, unique_facts


def build_report(
    kb: Knowledge,
    session: SessionResult,
    target: dict[str, Any],
    probes: list[ProbeResult],
    transcript: list[str] | None = None,
    now: dt.datetime | None = None,
) -> Report:
    facts = session.facts
    found = {c.finding for c in session.inference.findings}
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
                remediation=list(
                    dict.fromkeys(provider_steps(kb, c.finding, facts, found) + remediation(kb, c, facts, found))
                ),
                rule=c.rule,
                explanation=explain(c, kb),
            )
        )
    return Report(
        generated_at=(now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds"),
        target=Target(
            **{k: target.get(k) for k in ("host", "port", "security", "user", "to")}, from_=target.get("from")
        ),
        findings=findings,
        facts=[FactOut(name=o.name, value=o.value, source=o.source) for o in unique_facts(facts.items)],
        questions=[QuestionOut(id=a.question.id, text=a.question.text, answer=a.answer) for a in session.questions],
        probes=[ProbeOut(name=p.name, status=p.status, duration_ms=p.duration_ms, detail=p.detail) for p in probes],
        transcript=list(transcript or []),
    )
