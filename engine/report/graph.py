"""Draw the knowledge graph (engine/knowledge/graph.py): Mermaid text, or one self-contained
HTML page with the graph as inline SVG that a reviewer opens without any network."""

from __future__ import annotations

import html
import re

from engine.knowledge.graph import SOURCE_LABELS, Graph
from engine.report.labels import CONTACTS_SHORT

# --- Mermaid --------------------------------------------------------------------------------------


def _id(kind: str, name: str) -> str:
    return f"{kind}_{re.sub(r'[^A-Za-z0-9]', '_', name)}"


def _quoted(text: str) -> str:
    return '"' + text.replace('"', "#quot;") + '"'


def mermaid(graph: Graph) -> str:
    # Mermaid draws at most 500 edges unless told more; the whole tree has more.
    lines = ['%%{init: {"maxEdges": 5000}}%%', "flowchart LR"]
    by_source: dict[str, list[str]] = {}
    for fact, source in sorted(graph.facts.items()):
        by_source.setdefault(source, []).append(fact)
    for source, facts in by_source.items():
        lines.append(f"  subgraph {source}[{_quoted(SOURCE_LABELS[source])}]")
        for fact in facts:
            question = fact.removeprefix("answer.") in graph.questions
            lines.append(f"    {_id('fact', fact)}[{_quoted(f'{fact} (question)' if question else fact)}]")
        lines.append("  end")
    for rule in graph.rules:
        lines.append(f"  {_id('rule', rule.id)}([{_quoted(rule.id)}])")
    for finding in graph.contacts:
        lines.append(f"  {_id('finding', finding)}{{{{{_quoted(finding)}}}}}")
    for contact in sorted({who for edges in graph.contacts.values() for _, _, who in edges}):
        lines.append(f"  {_id('contact', contact)}[/{_quoted(CONTACTS_SHORT.get(contact, contact))}/]")
    for rule in graph.rules:
        for fact in sorted(rule.facts):
            lines.append(f"  {_id('fact', fact)} --> {_id('rule', rule.id)}")
        for finding in sorted(rule.builds_on):
            lines.append(f"  {_id('finding', finding)} -. builds on .-> {_id('rule', rule.id)}")
        arrow = "-->" if rule.verdict == "found" else "-. rules out .->"
        lines.append(f"  {_id('rule', rule.id)} {arrow} {_id('finding', rule.finding)}")
    for finding, edges in graph.contacts.items():
        for by, value, who in edges:
            label = f"{by.removeprefix('answer.')} = {value}" if by and value else ("otherwise" if by else "")
            arrow = f"-- {_quoted(label)} -->" if label else "-->"
            lines.append(f"  {_id('finding', finding)} {arrow} {_id('contact', who)}")
    return "\n".join(lines) + "\n"


# --- HTML with inline SVG -----------------------------------------------------------------------

ROW = 22
COLUMN = {"fact": 20, "rule": 360, "finding": 700, "contact": 1000}
WIDTH = {"fact": 300, "rule": 300, "finding": 260, "contact": 150}
STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
svg text { font: 11px ui-monospace, monospace; dominant-baseline: middle; }
.node rect { stroke: #888; fill: #f6f6f6; }
.finding rect { fill: #fdeeee; stroke: #b33; }
.contact rect { fill: #eef3fd; stroke: #36b; }
.source { font-weight: bold; }
path { fill: none; stroke: #999; stroke-opacity: .35; }
path.out { stroke-dasharray: 4 3; }
path.route { stroke: #36b; }
g.node:hover rect { stroke-width: 2; }
svg.lit path { stroke-opacity: .06; }
svg.lit path.on { stroke: #d60; stroke-opacity: 1; stroke-width: 2; }
"""
# Hovering a node lights its edges: a few lines of script in the page, nothing fetched.
SCRIPT = """
const svg = document.querySelector("svg.graph");
svg.querySelectorAll("g.node").forEach(g => {
  g.addEventListener("mouseenter", () => {
    svg.classList.add("lit");
    svg.querySelectorAll(`path[data-a="${g.id}"], path[data-b="${g.id}"]`).forEach(p => p.classList.add("on"));
  });
  g.addEventListener("mouseleave", () => {
    svg.classList.remove("lit");
    svg.querySelectorAll("path.on").forEach(p => p.classList.remove("on"));
  });
});
"""


def page(graph: Graph, title: str) -> str:
    """One HTML file: the counts first, then the graph, every node named."""
    rows: dict[str, list[tuple[str, str, str]]] = {kind: [] for kind in COLUMN}  # (id, label, extra class)
    for source in SOURCE_LABELS:
        facts = sorted(f for f, src in graph.facts.items() if src == source)
        if facts:
            rows["fact"].append(("", SOURCE_LABELS[source], "source"))
            rows["fact"] += [(_id("fact", f), f, "") for f in facts]
    order = {finding: i for i, finding in enumerate(sorted(graph.contacts))}
    for rule in sorted(graph.rules, key=lambda r: (order.get(r.finding, 0), r.id)):
        rows["rule"].append((_id("rule", rule.id), rule.id, ""))
    rows["finding"] = [(_id("finding", f), f, "finding") for f in sorted(graph.contacts)]
    contacts = sorted({who for edges in graph.contacts.values() for _, _, who in edges})
    rows["contact"] = [(_id("contact", c), CONTACTS_SHORT.get(c, c), "contact") for c in contacts]
    where: dict[str, tuple[str, float]] = {}
    nodes: list[str] = []
    # Each finding beside the rules that conclude it, each contact beside its findings: short edges.
    rule_y = {ident: 40 + i * ROW for i, (ident, _, _) in enumerate(rows["rule"])}
    wanted = {
        _id("finding", f): _mean([rule_y[_id("rule", r.id)] for r in graph.rules if r.finding == f], 40)
        for f in graph.contacts
    }
    finding_y = _spaced(wanted)
    wanted = {
        _id("contact", c): _mean(
            [finding_y[_id("finding", f)] for f, routes in graph.contacts.items() if any(w == c for _, _, w in routes)],
            40,
        )
        for c in contacts
    }
    placed = {**rule_y, **finding_y, **_spaced(wanted)}
    for kind, column in rows.items():
        if kind in ("finding", "contact"):
            column.sort(key=lambda row: placed[row[0]])
        for i, (ident, label, extra) in enumerate(column):
            y = placed.get(ident, 40 + i * ROW)
            if not ident:
                nodes.append(f'<text class="source" x="{COLUMN[kind]}" y="{y}">{html.escape(label)}</text>')
                continue
            where[ident] = (kind, y)
            nodes.append(
                f'<g class="node {extra}" id="{ident}"><title>{html.escape(label)}</title>'
                f'<rect x="{COLUMN[kind]}" y="{y - 9}" width="{WIDTH[kind]}" height="18" rx="4"/>'
                f'<text x="{COLUMN[kind] + 6}" y="{y}">{html.escape(label)}</text></g>'
            )
    edges: list[str] = []

    def edge(a: str, b: str, css: str = "") -> None:
        (ka, ya), (kb, yb) = where[a], where[b]
        x1, x2 = COLUMN[ka] + WIDTH[ka], COLUMN[kb]
        if x2 <= x1:  # a finding a rule builds on: loop back from the finding's left side
            x1, x2 = COLUMN[ka], COLUMN[kb] + WIDTH[kb]
        mid = (x1 + x2) / 2
        edges.append(f'<path class="{css}" data-a="{a}" data-b="{b}" d="M{x1},{ya} C{mid},{ya} {mid},{yb} {x2},{yb}"/>')

    for rule in graph.rules:
        r = _id("rule", rule.id)
        for fact in rule.facts:
            edge(_id("fact", fact), r)
        for finding in rule.builds_on:
            edge(_id("finding", finding), r, "out")
        edge(r, _id("finding", rule.finding), "" if rule.verdict == "found" else "out")
    for finding, routes in graph.contacts.items():
        for by, _, who in routes:
            edge(_id("finding", finding), _id("contact", who), "route" if by else "")
    height = 60 + max(y for _, y in where.values())
    counts = (
        f"{len(graph.facts)} facts read by {len(graph.rules)} rules, concluding {len(graph.contacts)} findings "
        f"for {len(contacts)} contacts; {len(graph.questions)} questions route or feed a rule"
    )
    headers = "".join(
        f'<text class="source" x="{COLUMN[kind]}" y="14">{name}</text>'
        for kind, name in (("fact", "facts"), ("rule", "rules"), ("finding", "findings"), ("contact", "who acts"))
    )
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{STYLE}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><p>{counts}. Hover a node to light its edges; dashed: builds on or "
        "rules out; blue: a contact chosen by an answer.</p>"
        f'<svg class="graph" xmlns="http://www.w3.org/2000/svg" width="1180" height="{height}" '
        f'viewBox="0 0 1180 {height}">{headers}{"".join(edges)}{"".join(nodes)}</svg>'
        f"<script>{SCRIPT}</script></body></html>\n"
    )


def _mean(values: list[float], default: float) -> float:
    return sum(values) / len(values) if values else default


def _spaced(wanted: dict[str, float]) -> dict[str, float]:
    """Each node at its wanted height, pushed down just enough not to overlap the one above."""
    placed: dict[str, float] = {}
    floor: float = 40 - ROW
    for ident, y in sorted(wanted.items(), key=lambda item: item[1]):
        floor = max(y, floor + ROW)
        placed[ident] = floor
    return placed
