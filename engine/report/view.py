"""What the templates see: the report plus the wording kept in knowledge and where the probe stood."""

from __future__ import annotations

import json
from typing import Any

from engine.decide.session import SessionResult
from engine.facts import FactSet
from engine.knowledge.model import Knowledge
from engine.report.model import Report, dump
from engine.report.wording import evidence_line, render_step


def view(kb: Knowledge, report: Report, session: SessionResult) -> dict[str, Any]:
    """What the Jinja templates see: the report plus the wording kept in knowledge."""
    data = dump(report)
    for finding, conclusion in zip(data["findings"], session.inference.findings, strict=True):
        spec = kb.findings[finding["id"]]
        finding.update(
            summary=render_step(kb, spec.summary, session.facts),
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
            "message": render_step(kb, kb.rules[c.rule].message or kb.rules[c.rule].description, session.facts),
        }
        for c in session.inference.ruled_out
    ]
    data["unanswered"] = [q for q in data["questions"] if q["answer"] is None]
    data["stage"] = session.facts.first("smtp.stage")
    data["providers"] = _providers_view(kb, session.facts)
    data["unmatched_text"] = _unmatched_text(kb, session)
    data["errors"] = [f for f in data["findings"] if f["severity"] == "error"]
    data["location"] = _location(session.facts)
    data["case_id"] = case_id(data)
    data["owners"] = _owners(data["findings"])
    data["waterfall"] = waterfall(data["probes"])
    return data


# The HTML report's timing waterfall: the probe steps in the order they ran, each bar as long as
# the step took (a sweep of other ports overlaps the connection it stands beside).
CHART_WIDTH = 640
ROW_HEIGHT = 22
LABEL_WIDTH = 90


def waterfall(probes: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Bars for an inline SVG: x and width in pixels on one time scale, one row per step."""
    timed = [p for p in probes if p["status"] != "skipped"]
    total = sum(p["duration_ms"] for p in timed)
    if not timed or total <= 0:
        return None
    scale = (CHART_WIDTH - LABEL_WIDTH - 80) / total
    bars, start = [], 0.0
    for row, probe in enumerate(timed):
        bars.append(
            {
                "name": probe["name"],
                "status": probe["status"],
                "ms": probe["duration_ms"],
                "x": LABEL_WIDTH + round(start * scale, 1),
                "width": max(1.0, round(probe["duration_ms"] * scale, 1)),
                "y": row * ROW_HEIGHT,
            }
        )
        start += probe["duration_ms"]
    return {"width": CHART_WIDTH, "height": len(bars) * ROW_HEIGHT, "bars": bars, "total_ms": round(total, 1)}


def case_id(data: dict[str, Any]) -> str:
    """A short id for the ticket, the same for the same run: time, target and findings."""
    import hashlib  # only a ticket has an id; a run that writes none need not load OpenSSL's hashes

    seed = json.dumps([data["generated_at"], data["target"], [f["id"] for f in data["findings"]]], sort_keys=True)
    return "MT-" + hashlib.sha256(seed.encode()).hexdigest()[:8].upper()


def _owners(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Who must act on what: each contact with the blocking findings theirs to fix, in report order."""
    owners: dict[str, list[dict[str, Any]]] = {}
    for finding in findings:
        if finding["severity"] == "error":
            owners.setdefault(finding["contact"], []).append(finding)
    return [{"contact": contact, "findings": owned} for contact, owned in owners.items()]


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
        "source_address": facts.first("probe.source_address"),
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
    source = session.facts.first("log.source")
    return {"lines": read, "signatures": len(kb.signatures), "families": sorted(families), "source": source}
