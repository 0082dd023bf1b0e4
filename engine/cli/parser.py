"""The command line, declared once: every command, its options, and how their values are checked."""

from __future__ import annotations

import argparse
import ipaddress
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from engine import __version__
from engine.cli.environment import BadInput
from engine.report.formats import FORMATS


class _Formatter(argparse.HelpFormatter):
    """argparse's help layout, told the terminal's width. Left to itself, it imports shutil (and
    with it bz2 and lzma, some 2 ms) to ask, and argparse makes one for every option it adds."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24, width: int | None = None):
        super().__init__(prog, indent_increment, max_help_position, _columns() - 2 if width is None else width)


def _columns() -> int:
    """The terminal's width as shutil.get_terminal_size tells it: $COLUMNS, else the terminal's, else 80."""
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> Any:  # one line, no usage dump
        raise BadInput(f"{self.prog}: {message} (see '{self.prog} --help')")


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 < value <= 300:
        raise argparse.ArgumentTypeError(f"must be between 0 and 300 seconds, not {text}")
    return value


def _jobs(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 256:
        raise argparse.ArgumentTypeError(f"expected a whole number from 1 to 256, not {text!r}")
    return int(text)


def _host_port(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    host = host.strip("[]")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError(f"expected IP:PORT, like 127.0.0.1:53, not {text!r}")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a DNS server is named by its IP address, not {host!r}") from None
    if not 1 <= int(port) <= 65535:
        raise argparse.ArgumentTypeError(f"port {port} is not a TCP/UDP port (1-65535)")
    return host, int(port)


def add_knowledge_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--knowledge",
        metavar="DIR",
        action="append",
        default=[],
        help="extra knowledge directory layered over the shipped one (repeatable)",
    )


def _add_report_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--answers", metavar="FILE", help="YAML or JSON mapping of question id to answer")
    p.add_argument("--non-interactive", action="store_true", help="never prompt; unanswered questions stay open")
    add_knowledge_option(p)
    p.add_argument("--format", choices=FORMATS, help="report format (default: text, or from --output's suffix)")
    p.add_argument("--output", metavar="FILE", help="write the report here; the terminal still gets the summary")
    p.add_argument(
        "--postfix-queue",
        nargs="?",
        const="",
        default=None,
        metavar="CONFIG_DIR",
        help=(
            "also read this machine's Postfix queue with postqueue -j (CONFIG_DIR: another instance's config directory)"
        ),
    )


def _diagnose(d: argparse.ArgumentParser) -> None:
    d.add_argument("--host", help="SMTP host name or address (or from a settings file)")
    d.add_argument("--port", type=int, help="SMTP port (default 587, or the settings file's)")
    d.add_argument(
        "--security",
        choices=("auto", "starttls", "ssl", "none"),
        help="connection security (default auto, or the settings file's)",
    )
    d.add_argument("--user", help="user name for SMTP AUTH")
    pw = d.add_mutually_exclusive_group()
    pw.add_argument("--password-env", metavar="VAR", help="read the password from this environment variable")
    pw.add_argument("--password-file", metavar="FILE", help="read the password from the first line of this file")
    d.add_argument(
        "--oauth-token-env",
        metavar="VAR",
        help="authenticate with XOAUTH2 using the access token in this environment variable",
    )
    d.add_argument(
        "--cafile", metavar="PEM", help="trust the certificate authorities in this PEM file instead of the system store"
    )
    d.add_argument(
        "--send-test-message",
        action="store_true",
        help="really send one short, labelled test message (default: stop after RCPT TO)",
    )
    d.add_argument("--from", dest="from_addr", metavar="ADDR", help="envelope sender / From address")
    d.add_argument("--to", dest="to_addr", metavar="ADDR", help="recipient to test with RCPT TO")
    files = d.add_mutually_exclusive_group()
    files.add_argument(
        "--javamail-properties",
        metavar="FILE",
        help=(
            "read host, port, security, user and From from a JavaMail / Jakarta Mail .properties file; flags "
            "override it"
        ),
    )
    files.add_argument(
        "--spring-properties",
        metavar="FILE",
        help="read spring.mail.* from a Spring Boot application.properties or application.yml; flags override it",
    )
    d.add_argument(
        "--timeout",
        type=_positive_float,
        default=10.0,
        metavar="SECONDS",
        help="bound for every network step (default 10)",
    )
    d.add_argument(
        "--resolver", type=_host_port, metavar="HOST:PORT", help="ask this DNS server instead of the system resolver"
    )
    d.add_argument(
        "--source-address",
        metavar="IP",
        help="connect from this local address, the one the application's traffic leaves from (a multi-homed node)",
    )
    d.add_argument(
        "--check-dns",
        action="store_true",
        help=(
            "also check the sender domain's SPF, DMARC and MX records, the egress address as the outside sees it, "
            "and DNS blocklists (asks outside resolvers, or --resolver)"
        ),
    )
    d.add_argument(
        "--log",
        metavar="FILE",
        action="append",
        default=[],
        help="error text or log to mine as well ('-' for stdin; repeatable)",
    )
    d.add_argument("--session", metavar="FILE", help="reuse answers from this session file and save the session to it")
    d.add_argument("--profile", metavar="FILE", help="TOML profile with one or many accounts (see README)")
    d.add_argument(
        "--jobs",
        type=_jobs,
        default=8,
        metavar="N",
        help="with --profile: accounts probed at the same time (default 8)",
    )
    d.add_argument("--report-dir", metavar="DIR", help="with --profile: write one report per account here")
    _add_report_options(d)


def _guide(g: argparse.ArgumentParser) -> None:
    g.add_argument("--session", metavar="FILE", help="save every answer here as it is given; the same command resumes")
    g.add_argument(
        "--timeout", type=_positive_float, default=10.0, metavar="SECONDS", help="bound for every network step"
    )
    _add_report_options(g)


def _explain(e: argparse.ArgumentParser) -> None:
    e.add_argument("session_file", metavar="SESSION_FILE", help="a file written by a run with --session")


def _analyze_log(a: argparse.ArgumentParser) -> None:
    a.add_argument("files", nargs="+", metavar="FILE", help="file with error text, log or bounce ('-' for stdin)")
    _add_report_options(a)


def _lab(lab: argparse.ArgumentParser) -> None:
    lab.add_argument("scenario", nargs="?", metavar="SCENARIO", help="the fault to reproduce (see --list)")
    lab.add_argument("--list", action="store_true", help="list the scenarios")
    lab.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: any free port)")


def _merge(m: argparse.ArgumentParser) -> None:
    m.add_argument(
        "reports",
        nargs="+",
        metavar="REPORT",
        help="a node's JSON report (mailtriage.report/1 or mailtriage.accounts/1), a folder of them, or '-' for stdin",
    )
    m.add_argument("--format", choices=FORMATS, help="text (default), md, html or json (mailtriage.fleet/1)")
    m.add_argument("--output", metavar="FILE", help="write the fleet report here; the format follows the suffix")
    add_knowledge_option(m)


def _schema(sc: argparse.ArgumentParser) -> None:
    sc.add_argument(
        "name",
        metavar="NAME",
        help="report (mailtriage.report/1), accounts (mailtriage.accounts/1) or fleet (mailtriage.fleet/1)",
    )


def _knowledge(k: argparse.ArgumentParser) -> None:
    ksub = k.add_subparsers(dest="action", metavar="ACTION", parser_class=_Parser)
    ksub.required = True
    for name, text in (
        ("lint", "validate every knowledge file"),
        ("test", "run rule cases and scenarios"),
        ("list", "list rules, questions, findings and signatures"),
        ("explain", "show everything known about one finding or rule"),
        ("coverage", "which error findings each client ecosystem's signatures lead to (Markdown)"),
        ("graph", "the decision tree: facts -> rules -> findings -> who acts (Mermaid, or HTML with SVG)"),
        ("new", "draft knowledge into the last --knowledge DIR: a signature from an unrecognised text"),
        ("reference", "every key of every knowledge file, from the models that validate them (Markdown)"),
    ):
        kp = ksub.add_parser(name, help=text)
        if name == "explain":
            kp.add_argument("ident", metavar="ID", help="a finding id (auth.credentials_rejected) or a rule id")
        if name == "coverage":
            kp.add_argument(
                "--output", metavar="FILE", help="write the table here (knowledge/coverage.md in the repository)"
            )
        if name == "test":
            kp.add_argument("-v", "--verbose", action="store_true", help="list every case, passed ones too")
        if name == "new":
            kp.add_argument("kind", choices=("signature", "rule", "finding", "question"), help="what to draft")
            kp.add_argument("--from-text", metavar="FILE", help="signature: the error text it did not recognise")
            kp.add_argument(
                "--finding", metavar="ID", help="signature, rule: the finding to conclude; question: when to ask"
            )
            kp.add_argument(
                "--when", action="append", default=[], metavar="FACT=VALUE", help="rule, finding: a fact it needs"
            )
            kp.add_argument("--id", metavar="ID", help="the new id (finding, question; a rule's is drafted)")
            kp.add_argument("--title", metavar="TEXT", help="finding: its title")
            kp.add_argument("--contact", metavar="CONTACT", help="finding: who must act (network_admin, ...)")
            kp.add_argument("--severity", choices=("error", "warning", "info"), default="error", help="finding")
            kp.add_argument("--text", metavar="TEXT", help="question: what to ask")
        if name == "reference":
            kp.add_argument("--update", metavar="FILE", help="rewrite the reference block of this guide in place")
        if name == "graph":
            kp.add_argument("--format", choices=("mermaid", "html"), help="default: mermaid, or html for an .html FILE")
            kp.add_argument("--output", metavar="FILE", help="write the graph here instead of to stdout")
        add_knowledge_option(kp)


# name -> (the line `mailtriage --help` shows, what adds the command's own options)
COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None]]] = {
    "diagnose": ("probe an SMTP account, ask what probes cannot see, conclude, report", _diagnose),
    "guide": ("a guided session from nothing: symptom, pasted text, then a test (default on a terminal)", _guide),
    "explain": ("how each finding of a saved session was concluded, and its fix", _explain),
    "analyze-log": ("diagnose from pasted error text or a log alone", _analyze_log),
    "lab": ("run a local SMTP server with a chosen fault, for demos and practice", _lab),
    "merge": ("one fleet report from the JSON reports of many nodes, grouped by cause", _merge),
    "schema": ("print the JSON Schema of a JSON output (report, accounts, fleet)", _schema),
    "knowledge": ("lint, test and list the knowledge base", _knowledge),
}


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The whole command line; given the arguments about to be parsed, only the command they
    name gets its options (argparse formats every help text as it is added, and start-up
    should pay for one command, not eight). The others still list, and a mistyped one fails
    as before."""
    parser = _Parser(prog="mailtriage", description="Find out why an application's emails fail to send.")
    parser.add_argument("--version", action="version", version=f"mailtriage {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    chosen = argv[0] if argv else None
    for name, (text, add_options) in COMMANDS.items():
        command = sub.add_parser(name, help=text)
        if argv is None or name == chosen:
            add_options(command)
    return parser
