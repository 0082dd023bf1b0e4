"""The command line: declares the interface, presents results, maps outcomes to exit codes."""

from __future__ import annotations

import os

# pydantic looks up third-party plugins through package metadata at import, which costs more
# than the whole SMTP dialogue; mailtriage uses none. Set before pydantic is first imported.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

import argparse
import contextlib
import difflib
import enum
import io
import ipaddress
import itertools
import sys
import tempfile
import traceback
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, TextIO

from engine import __version__
from engine.cli.sessionfile import SessionFileError
from engine.decide.session import AnswerError, Asker, NoAsker, check_answers
from engine.inputs.configfiles.model import ConfigFileError, Imported
from engine.inputs.settings import FLAGS, AccountSettings, layered, read_password_file
from engine.inputs.textinput import Block, TextInputError, read_blocks
from engine.knowledge.model import Knowledge, KnowledgeInvalid, load_knowledge
from engine.knowledge.yamlfile import YamlError, load
from engine.redact import Redactor

if TYPE_CHECKING:  # the pipeline is imported when a command needs it: start-up stays fast
    from engine.run.pipeline import PostfixQueue

FORMATS = ("text", "md", "html", "json")
SUFFIX_FORMATS = {".md": "md", ".html": "html", ".htm": "html", ".json": "json", ".txt": "text"}


class Exit(enum.IntEnum):
    OK = 0
    PROBLEM_FOUND = 1
    BAD_INPUT = 2
    INTERNAL_ERROR = 3


class BadInput(Exception):
    """Anything the user can fix: shown as one line, exit 2."""


@dataclass
class Environment:
    """Streams and surroundings, injected so tests run the real CLI in-process."""

    stdin: TextIO = field(default_factory=lambda: sys.stdin)
    stdout: TextIO = field(default_factory=lambda: sys.stdout)
    stderr: TextIO = field(default_factory=lambda: sys.stderr)
    environ: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    stdin_isatty: bool | None = None

    def interactive(self) -> bool:
        if self.stdin_isatty is not None:
            return self.stdin_isatty
        try:
            return self.stdin.isatty()
        except (AttributeError, ValueError):
            return False

    def stdin_bytes(self) -> BinaryIO:
        buffer = getattr(self.stdin, "buffer", None)
        if buffer is not None:
            return buffer
        return io.BytesIO(self.stdin.read().encode("utf-8"))


class _Parser(argparse.ArgumentParser):
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


def _add_report_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--answers", metavar="FILE", help="YAML or JSON mapping of question id to answer")
    p.add_argument("--non-interactive", action="store_true", help="never prompt; unanswered questions stay open")
    p.add_argument(
        "--knowledge",
        metavar="DIR",
        action="append",
        default=[],
        help="extra knowledge directory layered over the shipped one (repeatable)",
    )
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


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="mailtriage", description="Find out why an application's emails fail to send.")
    parser.add_argument("--version", action="version", version=f"mailtriage {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    d = sub.add_parser("diagnose", help="probe an SMTP account, ask what probes cannot see, conclude, report")
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

    a = sub.add_parser("analyze-log", help="diagnose from pasted error text or a log alone")
    a.add_argument("files", nargs="+", metavar="FILE", help="file with error text, log or bounce ('-' for stdin)")
    _add_report_options(a)

    lab = sub.add_parser("lab", help="run a local SMTP server with a chosen fault, for demos and practice")
    lab.add_argument("scenario", nargs="?", metavar="SCENARIO", help="the fault to reproduce (see --list)")
    lab.add_argument("--list", action="store_true", help="list the scenarios")
    lab.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: any free port)")

    k = sub.add_parser("knowledge", help="lint, test and list the knowledge base")
    ksub = k.add_subparsers(dest="action", metavar="ACTION", parser_class=_Parser)
    ksub.required = True
    for name, text in (
        ("lint", "validate every knowledge file"),
        ("test", "run rule cases and scenarios"),
        ("list", "list rules, questions, findings and signatures"),
        ("explain", "show everything known about one finding or rule"),
    ):
        kp = ksub.add_parser(name, help=text)
        if name == "explain":
            kp.add_argument("ident", metavar="ID", help="a finding id (auth.credentials_rejected) or a rule id")
        kp.add_argument(
            "--knowledge", metavar="DIR", action="append", default=[], help="extra knowledge directory (repeatable)"
        )
    return parser


def main(argv: Sequence[str] | None = None, env: Environment | None = None) -> int:
    env = env or Environment()
    redact = Redactor()
    try:
        with contextlib.redirect_stdout(env.stdout):  # --help and --version go to the injected stream
            args = build_parser().parse_args(argv)
        return int(_dispatch(args, env, redact))
    except (BadInput, SessionFileError, TextInputError) as exc:
        print(redact(f"mailtriage: {exc}" if not str(exc).startswith("mailtriage") else str(exc)), file=env.stderr)
        return Exit.BAD_INPUT
    except ConfigFileError as exc:  # FILE:LINE: what is wrong, as compilers say it
        print(redact(str(exc)), file=env.stderr)
        return Exit.BAD_INPUT
    except KnowledgeInvalid as exc:
        for problem in exc.problems:
            print(problem, file=env.stderr)
        count = len(exc.problems)
        print(f"mailtriage: {count} problem{'s' if count != 1 else ''} in the knowledge files", file=env.stderr)
        return Exit.BAD_INPUT
    except SystemExit as exc:  # --help and --version
        return int(exc.code or 0)
    except KeyboardInterrupt:
        print("mailtriage: interrupted", file=env.stderr)
        return 130
    except Exception as exc:  # a bug: say so, keep the details out of the user's way
        return _internal_error(exc, env, redact)


def _internal_error(exc: Exception, env: Environment, redact: Redactor) -> int:
    details = redact("".join(traceback.format_exception(exc)))
    fd, path = tempfile.mkstemp(prefix="mailtriage-crash-", suffix=".txt")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(details)
    print(
        redact(f"mailtriage: internal error (a bug): {type(exc).__name__}: {exc}; details in {path}"), file=env.stderr
    )
    return Exit.INTERNAL_ERROR


def _dispatch(args: argparse.Namespace, env: Environment, redact: Redactor) -> Exit:
    if args.command == "knowledge":
        from engine.cli import knowledge as cli_knowledge

        try:
            # lint and test always read every file; list and explain may use the cache.
            kb = _knowledge(args, cached=args.action in ("list", "explain"))
            return Exit(cli_knowledge.run(args.action, kb, env, getattr(args, "ident", None)))
        except cli_knowledge.UnknownId as exc:
            raise BadInput(str(exc)) from None
    if args.command == "analyze-log":
        return _analyze_log(args, env, redact)
    if args.command == "lab":
        return _lab(args, env)
    return _diagnose(args, env, redact)


def _lab(args: argparse.Namespace, env: Environment) -> Exit:
    from engine import lab

    try:
        lab.require()
    except lab.LabUnavailable as exc:
        raise BadInput(f"lab: {exc}") from None
    if args.list or not args.scenario:
        if not args.list:
            raise BadInput("lab needs a SCENARIO or --list")
        for scenario in lab.SCENARIOS.values():
            env.stdout.write(f"{scenario.name:22} {scenario.expected:34} {scenario.description}\n")
        return Exit.OK
    if args.scenario not in lab.SCENARIOS:
        close = difflib.get_close_matches(args.scenario, list(lab.SCENARIOS), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise BadInput(f"lab: unknown scenario '{args.scenario}'{hint}; see 'mailtriage lab --list'")
    if not 0 <= args.port <= 65535:
        raise BadInput(f"lab --port {args.port}: not a TCP port")
    try:
        server = lab.start(args.scenario, args.port)
    except OSError as exc:
        raise BadInput(f"lab: cannot listen on 127.0.0.1:{args.port}: {exc.strerror or exc}") from None
    with server:
        s = server.scenario
        env.stdout.write(
            f"lab scenario {s.name}: {s.description}\n"
            f"listening on {server.host}:{server.port}; it reproduces {s.expected}\n"
            f"user {lab.LAB_USER}, password in MAILTRIAGE_PASSWORD={lab.LAB_PASSWORD}\n\n"
            f"try: mailtriage diagnose --host {server.host} --port {server.port} --security {s.security} "
            f"--cafile {server.cafile} --user {lab.LAB_USER} --from {lab.LAB_SENDER} --to {lab.LAB_RECIPIENT}\n"
            "Stop with Ctrl-C.\n"
        )
        env.stdout.flush()
        _wait_for_interrupt()
    return Exit.OK


def _wait_for_interrupt() -> None:
    """Block until Ctrl-C or SIGTERM; the lab's servers run in their own thread."""
    import signal
    import threading

    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)


def _knowledge(args: argparse.Namespace, cached: bool = True) -> Knowledge:
    return load_knowledge([Path(d) for d in args.knowledge], cached=cached)


def _read_mapping(path: str, what: str) -> dict[str, Any]:
    try:
        located = load(Path(path))
    except YamlError as exc:
        raise BadInput(f"{path}:{exc.line}: {exc.message}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"cannot read {what} {path}: {getattr(exc, 'strerror', None) or exc}") from None
    if located.data is None:
        return {}
    if not isinstance(located.data, dict):
        raise BadInput(f"{path}:1: {what} must be a mapping of question id to answer")
    return located.data


def _answers(args: argparse.Namespace, kb: Knowledge, previous: dict[str, Any] | None = None) -> dict[str, Any]:
    """Answers from the session file, then the answers file over them; each checked under its own name."""
    answers: dict[str, Any] = {}
    sources = [(getattr(args, "session", None), previous or {})]
    if args.answers:
        sources.append((args.answers, _read_mapping(args.answers, "answers file")))
    for name, raw in sources:
        try:
            answers.update(check_answers(kb, raw))
        except AnswerError as exc:
            raise BadInput(f"{name}: {exc}") from None
    return answers


def _asker(args: argparse.Namespace, env: Environment, stdin_used: bool) -> Asker:
    if args.non_interactive or stdin_used or not env.interactive():
        return NoAsker()
    from rich.console import Console  # only an interactive session needs it

    from engine.cli.prompt import TerminalAsker

    return TerminalAsker(env.stdin, Console(file=env.stderr, highlight=False))


def _blocks(sources: list[str], env: Environment) -> Iterator[Block]:
    """The text of every source, streamed a block at a time: a gigabyte log is never held in memory."""
    for source in sources:
        if source != "-":
            try:
                Path(source).open("rb").close()  # say now, not after the probes, that it cannot be read
            except OSError as exc:
                raise BadInput(f"cannot read {source}: {exc.strerror or exc}") from None
    return itertools.chain.from_iterable(
        # Touch stdin only for '-': a terminal's stdin is for answering questions.
        read_blocks(source, env.stdin_bytes() if source == "-" else io.BytesIO())
        for source in sources
    )


def _analyze_log(args: argparse.Namespace, env: Environment, redact: Redactor) -> Exit:
    from engine.run.pipeline import diagnose_text

    kb = _knowledge(args)
    answers = _answers(args, kb)
    blocks = _blocks(args.files, env)
    queue = _postfix_queue(args, 10.0)
    outcome = diagnose_text(kb, blocks, _asker(args, env, "-" in args.files), answers, redact=redact, queue=queue)
    return _present(args, env, kb, outcome, redact)


def _postfix_queue(args: argparse.Namespace, timeout: float) -> PostfixQueue | None:
    """--postfix-queue [CONFIG_DIR]: None when not asked for; a directory that is not there is bad input."""
    from engine.run.pipeline import PostfixQueue

    if args.postfix_queue is None:
        return None
    if args.postfix_queue and not (Path(args.postfix_queue) / "main.cf").is_file():
        raise BadInput(
            f"--postfix-queue {args.postfix_queue}: no main.cf there; give a Postfix config directory (like "
            "/etc/postfix-out)"
        )
    return PostfixQueue(args.postfix_queue or None, timeout)


def _password(args: argparse.Namespace, env: Environment) -> str | None:
    if args.password_env:
        if args.password_env not in env.environ:
            raise BadInput(f"--password-env: environment variable {args.password_env} is not set")
        return env.environ[args.password_env]
    if args.password_file:
        try:
            return read_password_file(args.password_file)
        except ValueError as exc:
            raise BadInput(f"cannot read --password-file {args.password_file}: {exc}") from None
    return env.environ.get("MAILTRIAGE_PASSWORD")


def _oauth_token(args: argparse.Namespace, env: Environment) -> str | None:
    if not args.oauth_token_env:
        return None
    if args.oauth_token_env not in env.environ:
        raise BadInput(f"--oauth-token-env: environment variable {args.oauth_token_env} is not set")
    return env.environ[args.oauth_token_env]


def _prompt_password(user: str, env: Environment) -> str | None:
    """Hidden prompt on a real terminal; a line from the injected stream otherwise (tests)."""
    prompt = f"Password for {user} (Enter to skip AUTH): "
    if env.stdin is sys.stdin:
        import getpass

        text = getpass.getpass(prompt, stream=env.stderr)
    else:
        env.stderr.write(prompt)
        text = env.stdin.readline().rstrip("\n")
    return text or None


def _settings_file(args: argparse.Namespace) -> Imported | None:
    """The settings file named on the command line, read now: a bad file stops the run before any probe."""
    from engine.inputs import configfiles

    if args.javamail_properties:
        return configfiles.load_javamail(args.javamail_properties)
    if args.spring_properties:
        return configfiles.load_spring(args.spring_properties)
    return None


def _diagnose(args: argparse.Namespace, env: Environment, redact: Redactor) -> Exit:
    from engine.cli import sessionfile
    from engine.run.pipeline import diagnose_account

    if args.profile:
        return _diagnose_profile(args, env, redact)
    if args.report_dir:
        raise BadInput("--report-dir goes with --profile (one report per account); for one account use --output FILE")
    imported = _settings_file(args)
    if not args.host and imported is None:
        raise BadInput(
            "diagnose needs --host (the SMTP server the application uses) or a settings file (--javamail-properties, "
            "--spring-properties), or --profile FILE"
        )
    kb = _knowledge(args)
    fields = layered(imported, {s: getattr(args, s) for s in FLAGS})
    user = fields.get("user")
    token = _oauth_token(args, env)
    password = None if token else _password(args, env)
    file_password = imported.password if imported is not None else None
    if password is None and token is None and imported is not None and imported.password is not None:
        password = imported.password  # the CLI's own sources win; the file's is the fallback
        fields["evidence"]["password_given"] = imported.origins["password"].evidence
    if user and password is None and token is None and env.interactive() and not args.non_interactive:
        password = _prompt_password(user, env)
    redact.include(Redactor.for_credentials(user, password, token))
    redact.include(Redactor.for_credentials(user, file_password))  # a secret even when another is used
    if args.cafile and not Path(args.cafile).is_file():
        raise BadInput(f"--cafile {args.cafile}: no such file")
    previous = sessionfile.load_answers(args.session) if args.session else {}
    answers = _answers(args, kb, previous)
    settings = AccountSettings(
        **fields,
        password=password,
        oauth_token=token,
        to=args.to_addr,
        timeout=args.timeout,
        resolver=args.resolver,
        cafile=args.cafile,
        send_message=args.send_test_message,
        check_dns=args.check_dns,
    )
    log_blocks = _blocks(args.log, env) if args.log else None
    asker = _asker(args, env, "-" in args.log)
    outcome = diagnose_account(kb, settings, asker, answers, log_blocks, redact, _postfix_queue(args, args.timeout))
    code = _present(args, env, kb, outcome, redact)
    if args.session:
        sessionfile.save(args.session, outcome, redact)
    return code


def _diagnose_profile(args: argparse.Namespace, env: Environment, redact: Redactor) -> Exit:
    from engine.cli import profile as cli_profile
    from engine.run.pipeline import diagnose_account

    try:
        accounts = cli_profile.settings_of(args, env.environ, redact)
        if args.cafile or args.log or args.session or args.postfix_queue is not None:
            raise cli_profile.ProfileInputError(
                "--profile cannot be combined with --cafile (set cafile per account in the profile), "
                "--log, --session or --postfix-queue"
            )
        kb = _knowledge(args)
        answers = _answers(args, kb)
        if len(accounts) == 1 and not args.report_dir:
            ((_, settings),) = accounts
            outcome = diagnose_account(kb, settings, _asker(args, env, False), answers, None, redact)
            return _present(args, env, kb, outcome, redact)
        if args.output:
            raise cli_profile.ProfileInputError("with several accounts use --report-dir DIR instead of --output")
        failed = cli_profile.run_many(args, env, kb, accounts, answers, redact)
    except cli_profile.ProfileInputError as exc:
        raise BadInput(str(exc)) from None
    return Exit.PROBLEM_FOUND if failed else Exit.OK


def _present(args: argparse.Namespace, env: Environment, kb: Knowledge, outcome: Any, redact: Redactor) -> Exit:
    from engine.report.render import build_report, render

    report = build_report(kb, outcome.session, outcome.target, outcome.probes, outcome.transcript)
    fmt = args.format or (SUFFIX_FORMATS.get(Path(args.output).suffix.lower(), "md") if args.output else "text")
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
