"""Show a finished diagnosis: the report in the chosen format, on the terminal or in a file."""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

from engine.cli.environment import BadInput, Environment, Exit
from engine.knowledge.model import Knowledge
from engine.redact import Redactor, scrub
from engine.report.formats import chosen


def present(
    args: argparse.Namespace, env: Environment, kb: Knowledge, outcome: Any, redact: Redactor, interactive: bool = False
) -> Exit:
    """interactive (a person at a terminal): also write the Markdown report as a ticket file in
    the current directory (unless --output names one), say where, and answer `how N`/`fix N`."""
    from engine.report.build import build_report
    from engine.report.render import render

    report = build_report(kb, outcome.session, outcome.target, outcome.probes, outcome.transcript)
    fmt = chosen(args.format, args.output)
    if args.output:
        try:
            Path(args.output).write_text(render(kb, report, outcome.session, fmt, redact), encoding="utf-8")
        except OSError as exc:
            raise BadInput(f"cannot write report {args.output}: {exc.strerror or exc}") from None
        env.stdout.write(render(kb, report, outcome.session, "text", redact))
        env.stdout.write(f"\nReport written to {args.output}\n")
    else:
        env.stdout.write(render(kb, report, outcome.session, fmt, redact))
    if interactive and not args.output:
        path = ticket_path(report.target.host, report.generated_at)
        try:
            path.write_text(render(kb, report, outcome.session, "md", redact), encoding="utf-8")
        except OSError as exc:
            env.stderr.write(f"mailtriage: could not write the ticket {path}: {exc.strerror or exc}\n")
        else:
            env.stderr.write(f"\nTicket written to {path}: paste it into the support ticket or an email.\n")
    if interactive:
        from engine.cli.chain import after_verdict
        from engine.report.model import dump

        after_verdict(scrub(dump(report), redact, clean=True)["findings"], env.stdin, env.stderr)
    errors = [f for f in report.findings if f.severity == "error"]
    return Exit.PROBLEM_FOUND if errors else Exit.OK


def ticket_path(host: str | None, generated_at: str) -> Path:
    """mailtriage-<host>-<UTC time>.md, safe as a file name on every system."""
    stamp = re.sub(r"[^0-9T]", "", generated_at.split("+")[0])[:15] + "Z"
    name = re.sub(r"[^A-Za-z0-9.-]+", "_", host or "pasted-text").strip("._") or "pasted-text"
    return Path(f"mailtriage-{name}-{stamp}.md")
