"""After the verdict: how a finding was concluded, and its fix, from the report's own data.

`how N` shows the chain (the facts with where each came from, the rules they satisfied, the
finding and who acts), `fix N` the numbered steps; `mailtriage explain SESSION_FILE` prints
both for every finding of a saved session. All of it reads the JSON report's findings, so what
is shown later is exactly what the run concluded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TextIO

from engine.report.labels import CONTACTS


def title(number: int, finding: Mapping[str, Any]) -> str:
    return f"{number}. {finding['title']} ({finding['id']}, {finding['severity']}, confidence {finding['confidence']})"


def how(finding: Mapping[str, Any]) -> list[str]:
    """Facts (with their source) -> rules -> finding -> who acts."""
    lines = ["  Facts, with where each came from:"]
    lines += [f"    - {line}" for line in finding["evidence"]] or ["    - (none: concluded from the absence of facts)"]
    lines.append("  Rules they satisfied:")
    lines += [f"    - {line}" for line in finding["explanation"]]
    contact = CONTACTS.get(finding["contact"], finding["contact"])
    lines.append(f"  So: {finding['id']}; who acts: {contact} ({finding['contact']}).")
    return lines


def fix(finding: Mapping[str, Any]) -> list[str]:
    return [f"  {i}. {step}" for i, step in enumerate(finding["remediation"], 1)]


def explain(findings: Sequence[Mapping[str, Any]]) -> list[str]:
    """Every finding with its chain and its fix."""
    if not findings:
        return ["No finding: nothing stops email from being sent."]
    lines = []
    for number, finding in enumerate(findings, 1):
        lines += [title(number, finding), *how(finding), "  What to do:", *fix(finding), ""]
    return lines


def after_verdict(findings: Sequence[Mapping[str, Any]], stdin: TextIO, out: TextIO) -> None:
    """Answer `how N` and `fix N` until Enter or the end of input."""
    if not findings:
        return
    count = len(findings)
    while True:
        out.write(f"\nType 'how N' to see how finding N was concluded, 'fix N' for its steps (1-{count}); Enter ends: ")
        out.flush()
        line = stdin.readline()
        words = line.split()
        if not words:
            return
        if len(words) == 2 and words[0].lower() in ("how", "fix") and words[1].isdigit():
            number = int(words[1])
            if 1 <= number <= count:
                finding = findings[number - 1]
                shown = how(finding) if words[0].lower() == "how" else ["  What to do:", *fix(finding)]
                out.write("\n".join([title(number, finding), *shown]) + "\n")
                continue
        out.write(f"Not understood: {line.strip()!r}; type 'how N' or 'fix N' with N from 1 to {count}, or Enter.\n")
