"""Per-node reports for `mailtriage merge`: files, folders and stdin, each read whole or refused in one line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from engine.values import frozen

REPORT_SCHEMA = "mailtriage.report/1"
ACCOUNTS_SCHEMA = "mailtriage.accounts/1"
# A node report is a few kilobytes; a file far larger than this is not one (a log, a core dump).
MAX_BYTES = 64 * 1024 * 1024


@frozen
class NodeReport:
    """One diagnosis as one node wrote it: where it was read, the node's name, the report itself."""

    origin: str  # file name, or "stdin" with the document's line
    name: str  # the file's stem (Ansible and the Kubernetes loop name files by node), else the host name
    account: str | None  # the account's name, from a many-account summary
    report: dict[str, Any]


@frozen
class Unreadable:
    origin: str
    problem: str


def _documents(text: str) -> Iterator[tuple[int, Any]]:
    """Every JSON document in text, with its first line; several may follow one another (logs of many pods).

    Lines before and between documents that are not JSON (a log line, a shell prompt) are skipped.
    A document that starts but does not parse raises ValueError with the line and the reason.
    """
    decoder = json.JSONDecoder()
    position, length = 0, len(text)
    counted, line = 0, 1  # lines are counted as the scan advances: thousands of documents stay linear
    while position < length:
        start = text.find("{", position)
        if start < 0:
            return
        line_start = text.rfind("\n", 0, start) + 1
        if text[line_start:start].strip():  # a brace inside a line of prose, not a document
            position = start + 1
            continue
        line += text.count("\n", counted, start)
        counted = start
        try:
            document, end = decoder.raw_decode(text, start)
        except json.JSONDecodeError as exc:
            if exc.pos >= len(text.rstrip()) - 1 or exc.msg.startswith("Unterminated string"):
                raise ValueError(f"the JSON document at line {line} ends early (a truncated file?)") from None
            at = line + text.count("\n", start, exc.pos)
            raise ValueError(f"the JSON document at line {line} is not valid JSON: {exc.msg} at line {at}") from None
        yield line, document
        position = end


def _named(document: Any, origin: str, stem: str | None, line: int) -> list[NodeReport]:
    where = origin if stem is not None else f"{origin}:{line}"
    if not isinstance(document, dict):
        raise ValueError("not a mailtriage report (a JSON object with a schema key)")
    schema = document.get("schema")
    if schema == REPORT_SCHEMA:
        return [NodeReport(where, stem or _hostname(document) or where, None, document)]
    if schema == ACCOUNTS_SCHEMA:
        out = []
        for item in document.get("accounts") or []:
            if isinstance(item, dict) and isinstance(item.get("report"), dict):
                report = item["report"]
                out.append(NodeReport(where, stem or _hostname(report) or where, str(item.get("name")), report))
        return out
    if schema is None:
        raise ValueError("not a mailtriage report: no schema key (write it with --format json)")
    raise ValueError(f"schema {schema!r} is not one merge reads ({REPORT_SCHEMA} or {ACCOUNTS_SCHEMA})")


def _hostname(report: dict[str, Any]) -> str | None:
    for fact in report.get("facts") or []:
        if isinstance(fact, dict) and fact.get("name") == "probe.hostname" and isinstance(fact.get("value"), str):
            return str(fact["value"])
    return None


def read_text(text: str, origin: str, stem: str | None) -> tuple[list[NodeReport], list[Unreadable]]:
    """The reports in one file's (or stdin's) text; what could be read is kept even when a later part is bad."""
    found: list[NodeReport] = []
    try:
        for line, document in _documents(text):
            found += _named(document, origin, stem, line)
    except ValueError as exc:
        return found, [Unreadable(origin, str(exc))]
    if not found:
        return found, [Unreadable(origin, "no mailtriage report in it (write each node's with --format json)")]
    if stem is not None and len(found) > 1 and all(r.account is None for r in found):
        # Several node reports in one file: the file's name cannot name them all.
        found = [
            NodeReport(r.origin, _hostname(r.report) or f"{stem}#{i}", None, r.report) for i, r in enumerate(found, 1)
        ]
    return found, []


def _files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.rglob("*.json") if p.is_file())
    return [path]


def read_reports(sources: list[str], stdin: TextIO) -> tuple[list[NodeReport], list[Unreadable]]:
    """Every report named by sources (files, folders searched for *.json, '-' for stdin), in order."""
    reports: list[NodeReport] = []
    problems: list[Unreadable] = []
    for source in sources:
        if source == "-":
            found, bad = read_text(stdin.read(), "stdin", None)
            reports += found
            problems += bad
            continue
        path = Path(source)
        if not path.exists():
            problems.append(Unreadable(source, "no such file or folder"))
            continue
        files = _files(path)
        if not files:
            problems.append(Unreadable(source, "a folder with no *.json report in it"))
        for file in files:
            try:
                if file.stat().st_size > MAX_BYTES:
                    problems.append(Unreadable(str(file), f"larger than {MAX_BYTES // 2**20} MB: not a node report"))
                    continue
                text = file.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                problems.append(Unreadable(str(file), getattr(exc, "strerror", None) or str(exc)))
                continue
            found, bad = read_text(text, str(file), file.stem)
            reports += found
            problems += bad
    return reports, problems
