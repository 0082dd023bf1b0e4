"""The fleet report: per-node reports side by side, nodes grouped by the cause they share.

Pure: it reads reports already parsed (engine/inputs/nodereports.py) and the knowledge's
findings; engine/cli/merge.py reads the files and writes what this builds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import asdict, field
from typing import Any

from engine.inputs.nodereports import NodeReport, Unreadable
from engine.knowledge.model import Knowledge
from engine.redact import Redactor
from engine.report.formats import Format
from engine.report.model import Tool, dump
from engine.report.render import as_json, through_template
from engine.values import record

FLEET_SCHEMA = "mailtriage.fleet/1"
# Reports further apart than this may not describe one state of the network: say so.
SPREAD_SECONDS = 3600
FLEET_TEMPLATES: dict[str, str] = {"text": "fleet.txt.j2", "md": "fleet.md.j2", "html": "fleet.html.j2"}


@record
class Node:
    name: str
    origin: str
    account: str | None
    target: str  # "host:port as user": what it tested; nodes are compared per target
    hostname: str | None
    local_address: str | None
    source_address: str | None
    egress_address: str | None
    generated_at: str | None
    version: str | None
    verdict: str  # ok | warning | problem
    first: dict[str, str] | None  # the first error finding: id, title, severity, contact
    findings: list[str]


@record
class Address:
    node: str
    address: str
    kind: str  # egress (as the outside sees it) | local (inside any NAT)


@record
class Cause:
    target: str
    finding: str | None  # None: the nodes with no blocking problem
    title: str | None
    contact: str | None
    where: str  # every_node | some_nodes
    nodes: list[str]
    evidence: str | None  # the first node's first evidence line
    action: str | None  # from knowledge (fleet_addresses): what to do with the addresses
    addresses: list[Address] = field(default_factory=list)


@record
class Notice:
    kind: str  # mixed_targets | mixed_versions | time_spread | duplicate_node | not_probed
    detail: str


@record
class Fleet:
    nodes: list[Node]
    causes: list[Cause]
    notices: list[Notice]
    unreadable: list[Unreadable]

    @property
    def failing(self) -> int:
        return sum(1 for n in self.nodes if n.verdict == "problem")


def _facts(report: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for fact in report.get("facts") or []:
        if isinstance(fact, dict) and isinstance(fact.get("name"), str):
            out.setdefault(fact["name"], fact.get("value"))
    return out


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _part(report: dict[str, Any], key: str) -> dict[str, Any]:
    """A nested object of a report, or an empty one when a hand-edited file lacks it."""
    value = report.get(key)
    return value if isinstance(value, dict) else {}


def _target(report: dict[str, Any]) -> str:
    target = _part(report, "target")
    host, port, user = target.get("host"), target.get("port"), target.get("user")
    where = f"{host}:{port}" if host else "no host (pasted text)"
    return f"{where} as {user}" if user else where


def _node(item: NodeReport) -> Node:
    report = item.report
    facts = _facts(report)
    findings = [f for f in report.get("findings") or [] if isinstance(f, dict) and isinstance(f.get("id"), str)]
    first = next((f for f in findings if f.get("severity") == "error"), None)
    verdict = "problem" if first else ("warning" if any(f.get("severity") == "warning" for f in findings) else "ok")
    tool = _part(report, "tool")
    return Node(
        name=f"{item.name}/{item.account}" if item.account else item.name,
        origin=item.origin,
        account=item.account,
        target=_target(report),
        hostname=_text(facts.get("probe.hostname")),
        local_address=_text(facts.get("probe.local_address")),
        source_address=_text(facts.get("probe.source_address")),
        egress_address=_text(facts.get("egress.address")),
        generated_at=_text(report.get("generated_at")),
        version=_text(tool.get("version")),
        verdict=verdict,
        first=_first(first) if first else None,
        findings=[str(f["id"]) for f in findings],
    )


def _first(finding: dict[str, Any]) -> dict[str, str]:
    evidence = finding.get("evidence")
    line = evidence[0] if isinstance(evidence, list) and evidence else ""  # a hand-edited file may differ
    return {key: str(finding.get(key, "")) for key in ("id", "title", "severity", "contact")} | {"evidence": str(line)}


def _unique_names(nodes: list[Node], notices: list[Notice]) -> None:
    seen: dict[str, int] = {}
    for node in nodes:
        seen[node.name] = seen.get(node.name, 0) + 1
        if seen[node.name] > 1:
            notices.append(Notice("duplicate_node", f"{node.name} is reported twice ({node.origin}); kept as both"))
            node.name = f"{node.name}#{seen[node.name]}"


def _causes(kb: Knowledge, nodes: list[Node]) -> list[Cause]:
    by_target: dict[str, list[Node]] = {}
    for node in nodes:
        by_target.setdefault(node.target, []).append(node)
    causes: list[Cause] = []
    for target, members in by_target.items():
        groups: dict[str | None, list[Node]] = {}
        for node in members:
            groups.setdefault(node.first["id"] if node.first else None, []).append(node)
        ordered = sorted(groups.items(), key=lambda g: (g[0] is None, -len(g[1]), g[0] or ""))
        for finding, group in ordered:
            spec = kb.findings.get(finding) if finding else None
            action = spec.fleet_addresses if spec else None
            first = group[0].first
            causes.append(
                Cause(
                    target=target,
                    finding=finding,
                    title=first["title"] if first else None,
                    contact=first["contact"] if first else None,
                    where="every_node" if len(group) == len(members) else "some_nodes",
                    nodes=[n.name for n in group],
                    evidence=first["evidence"] if first else None,
                    action=action,
                    addresses=[_address(n) for n in group if action and (n.egress_address or n.local_address)],
                )
            )
    return causes


def _address(node: Node) -> Address:
    if node.egress_address:
        return Address(node.name, node.egress_address, "egress")
    return Address(node.name, str(node.local_address), "local")


def _when(text: str | None) -> dt.datetime | None:
    try:
        moment = dt.datetime.fromisoformat(text) if text else None
    except ValueError:
        return None
    return moment if moment is None or moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _span(seconds: float) -> str:
    hours, rest = divmod(int(seconds), 3600)
    return f"{hours} h {rest // 60} min" if hours else f"{rest // 60} min"


def _notices(nodes: list[Node]) -> list[Notice]:
    out: list[Notice] = []
    targets: dict[str, int] = {}
    versions: dict[str, int] = {}
    for node in nodes:
        targets[node.target] = targets.get(node.target, 0) + 1
        versions[node.version or "unknown"] = versions.get(node.version or "unknown", 0) + 1
    if len(targets) > 1:
        listed = ", ".join(f"{t} ({n} node{'s' if n > 1 else ''})" for t, n in targets.items())
        out.append(
            Notice("mixed_targets", f"the reports test {len(targets)} targets: {listed}; each is grouped on its own")
        )
    if len(versions) > 1:
        listed = ", ".join(f"{v} ({n})" for v, n in sorted(versions.items()))
        out.append(Notice("mixed_versions", f"the reports come from different mailtriage versions: {listed}"))
    timed = sorted((moment, node.name) for node in nodes if (moment := _when(node.generated_at)) is not None)
    if len(timed) > 1 and (timed[-1][0] - timed[0][0]).total_seconds() > SPREAD_SECONDS:
        (oldest, old_name), (newest, new_name) = timed[0], timed[-1]
        out.append(
            Notice(
                "time_spread",
                f"the reports span {_span((newest - oldest).total_seconds())} ({old_name} at {oldest.isoformat()}, "
                f"{new_name} at {newest.isoformat()}): the network or the server may have changed between them",
            )
        )
    unprobed = [n.name for n in nodes if n.hostname is None]
    if unprobed:
        out.append(Notice("not_probed", f"made from pasted text, with no probe and no address: {', '.join(unprobed)}"))
    return out


def build_fleet(kb: Knowledge, reports: Sequence[NodeReport], unreadable: Sequence[Unreadable]) -> Fleet:
    nodes = [_node(item) for item in reports]
    notices: list[Notice] = []
    _unique_names(nodes, notices)
    return Fleet(nodes, _causes(kb, nodes), _notices(nodes) + notices, list(unreadable))


def fleet_data(fleet: Fleet, now: dt.datetime | None = None) -> dict[str, Any]:
    """The fleet as mailtriage.fleet/1 (engine/schemas/fleet.json)."""
    return {
        "schema": FLEET_SCHEMA,
        "tool": dump(Tool()),
        "generated_at": (now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds"),
        "summary": {
            "nodes": len(fleet.nodes),
            "failing": fleet.failing,
            "causes": sum(1 for c in fleet.causes if c.finding),
            "unreadable": len(fleet.unreadable),
        },
        "causes": [asdict(c) for c in fleet.causes],
        "nodes": [asdict(n) for n in fleet.nodes],
        "notices": [asdict(n) for n in fleet.notices],
        "unreadable": [asdict(u) for u in fleet.unreadable],
    }


def render_fleet(fleet: Fleet, fmt: Format, redact: Redactor) -> str:
    data = fleet_data(fleet)
    if fmt == "json":
        return as_json(data, redact)
    return through_template(FLEET_TEMPLATES[fmt], fmt == "html", data, redact)
