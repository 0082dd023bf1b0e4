"""Write the pages of docs/ that code and knowledge already say: the CLI reference, from the
argument parser, and the finding catalogue, from knowledge/findings.yaml. Run by `make docs`;
tests/test_docs.py fails when a page is stale."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from engine.cli.environment import Exit
from engine.cli.parser import build_parser
from engine.knowledge import schema as s
from engine.knowledge.load import load_knowledge
from engine.report.labels import CONTACTS_SHORT

DOCS = Path(__file__).resolve().parent
HEADER = "<!-- written by `make docs` (docs/generate.py); do not edit by hand -->\n\n"
# One line per exit status the CLI has (a new Exit member without one fails `make docs`).
EXIT_MEANINGS = {
    Exit.OK: "no blocking problem (warnings may be reported)",
    Exit.PROBLEM_FOUND: "a problem of severity `error` was found",
    Exit.BAD_INPUT: "bad input: an invalid flag, an unreadable file, broken knowledge (one line, with file:line)",
    Exit.INTERNAL_ERROR: "internal error",
    Exit.INTERRUPTED: "interrupted (Ctrl-C); with `--session` the answers so far are kept",
}


def _subparsers(parser: argparse.ArgumentParser) -> argparse._SubParsersAction | None:
    return next((a for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None)


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    action = _subparsers(parser)
    return dict(action.choices) if action else {}


def _options(parser: argparse.ArgumentParser) -> list[str]:
    rows = []
    for action in parser._actions:
        if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
            continue
        if action.option_strings:
            name = ", ".join(action.option_strings)
            if action.nargs != 0:
                name += f" {action.metavar or action.dest.upper()}"
        else:
            name = str(action.metavar or action.dest)
        detail = action.help or ""
        if action.choices and not isinstance(action.choices, dict):
            detail += f" (one of: {', '.join(str(c) for c in action.choices)})"
        if action.required and action.option_strings:
            detail += " (required)"
        escaped = detail.replace("|", "\\|")
        rows.append(f"| `{name}` | {escaped} |")
    return rows


def _command(path: str, parser: argparse.ArgumentParser, depth: int) -> list[str]:
    out = [f"{'#' * depth} `{path}`", ""]
    if parser.description or parser.usage:
        out += [parser.description or "", ""]
    rows = _options(parser)
    if rows:
        out += ["| option | what it does |", "|---|---|", *rows, ""]
    for name, sub in _subcommands(parser).items():
        out += _command(f"{path} {name}", sub, min(depth + 1, 4))
    return out


def cli_page() -> str:
    parser = build_parser()
    action = _subparsers(parser)
    helps = {choice.dest: choice.help for choice in action._choices_actions} if action else {}
    out = [
        "# Command-line reference",
        "",
        "Every command and option of `mailtriage`, as its argument parser declares them. Without a",
        "command, on a terminal, `mailtriage` starts the guided session (`mailtriage guide`).",
        "",
        "## Exit codes",
        "",
        "| code | meaning |",
        "|---|---|",
        *(f"| {int(code)} | {EXIT_MEANINGS[code]} |" for code in Exit),
        "",
        "## Commands",
        "",
        *(f"- `mailtriage {name}`: {helps.get(name, '')}" for name in _subcommands(parser)),
        "",
    ]
    for name, sub in _subcommands(parser).items():
        out += _command(f"mailtriage {name}", sub, 3)
    return HEADER + "\n".join(out).rstrip("\n") + "\n"


def findings_page() -> str:
    kb = load_knowledge()
    out = [
        "# Finding catalogue",
        "",
        "Every finding mailtriage can conclude, from `knowledge/findings.yaml`: what it means, who",
        "must act, and the step of the support page's decision tree it belongs to. `mailtriage",
        "knowledge explain ID` shows the rules that conclude one and its fix steps.",
        "",
        "| finding | severity | who acts | step | title |",
        "|---|---|---|---|---|",
    ]
    for ident, finding in sorted(kb.findings.items()):
        out.append(
            f"| `{ident}` | {finding.severity} | {_contact(finding.contact)} | {finding.step} | {finding.title} |"
        )
    out.append("")
    for ident, finding in sorted(kb.findings.items()):
        out += [f"## `{ident}`", "", f"**{finding.title}.** {finding.summary}", "", finding.why, ""]
    return HEADER + "\n".join(out).rstrip("\n") + "\n"


def _contact(contact: s.ContactRule) -> str:
    if isinstance(contact, str):
        return CONTACTS_SHORT.get(contact, contact)
    by = contact.by.removeprefix("answer.")
    cases = "; ".join(f"{value}: {CONTACTS_SHORT.get(who, who)}" for value, who in contact.cases.items())
    return f"by {by} ({cases}; otherwise {CONTACTS_SHORT.get(contact.otherwise, contact.otherwise)})"


PAGES = {"cli.md": cli_page, "findings.md": findings_page}


def main() -> int:
    for name, page in PAGES.items():
        (DOCS / name).write_text(page(), encoding="utf-8")
        print(f"wrote docs/{name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
