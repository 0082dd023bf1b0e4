"""`mailtriage merge REPORT...`: one fleet report from the JSON reports of many nodes."""

from __future__ import annotations

import argparse
from pathlib import Path

from engine.cli import inputs
from engine.cli.environment import BadInput, Environment, Exit
from engine.inputs.nodereports import read_reports
from engine.redact import Redactor
from engine.report.fleet import build_fleet, render_fleet
from engine.report.formats import chosen


def run(args: argparse.Namespace, env: Environment, redact: Redactor) -> Exit:
    reports, unreadable = read_reports(args.reports, env.stdin)
    for problem in unreadable:  # one line each; the rest is still merged
        env.stderr.write(f"mailtriage: merge: {problem.origin}: {problem.problem}\n")
    if not reports:
        raise BadInput(f"merge: none of the {len(unreadable)} inputs held a readable mailtriage report")
    fleet = build_fleet(inputs.knowledge(args), reports, unreadable)
    text = render_fleet(fleet, chosen(args.format, args.output), redact)
    if args.output:
        try:
            Path(args.output).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise BadInput(f"cannot write fleet report {args.output}: {exc.strerror or exc}") from None
        env.stderr.write(f"Fleet report written to {args.output}\n")
    else:
        env.stdout.write(text)
    return Exit.PROBLEM_FOUND if fleet.failing else Exit.OK
