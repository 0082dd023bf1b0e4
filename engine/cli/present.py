"""Show a finished diagnosis: the report in the chosen format, on the terminal or in a file."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from engine.cli.environment import BadInput, Environment, Exit
from engine.knowledge.model import Knowledge
from engine.redact import Redactor
from engine.report.formats import chosen


def present(args: argparse.Namespace, env: Environment, kb: Knowledge, outcome: Any, redact: Redactor) -> Exit:
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
    errors = [f for f in report.findings if f.severity == "error"]
    return Exit.PROBLEM_FOUND if errors else Exit.OK
