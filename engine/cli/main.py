"""The program's entry: parse the command line, run the command, map the outcome to an exit code."""

from __future__ import annotations

import os

# pydantic looks up third-party plugins through package metadata at import, which costs more
# than the whole SMTP dialogue; mailtriage uses none. Set before pydantic is first imported.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

import argparse
import contextlib
import sys
from collections.abc import Sequence

from engine.cli import collector
from engine.cli.environment import BadInput, Environment, Exit
from engine.cli.parser import build_parser
from engine.inputs.errors import InputError
from engine.knowledge.model import KnowledgeInvalid
from engine.redact import Redactor, scrub

__all__ = ["Environment", "Exit", "main"]


def main(argv: Sequence[str] | None = None, env: Environment | None = None) -> int:
    collector.pause()  # until the knowledge is loaded: see engine.cli.collector
    try:
        return _main(argv, env)
    finally:
        collector.resume()


def _main(argv: Sequence[str] | None, env: Environment | None) -> int:
    env = env or Environment()
    redact = Redactor()
    try:
        if not (sys.argv[1:] if argv is None else argv) and env.interactive():
            argv = ["guide"]  # `mailtriage` alone on a terminal: the guided session
        with contextlib.redirect_stdout(env.stdout):  # --help and --version go to the injected stream
            args = build_parser(sys.argv[1:] if argv is None else argv).parse_args(argv)
        args.argv = list(argv) if argv is not None else None  # as typed: a resume hint repeats it
        return int(_dispatch(args, env, redact))
    except InputError as exc:
        line = str(exc)
        print(redact(line if exc.located or line.startswith("mailtriage") else f"mailtriage: {line}"), file=env.stderr)
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
    import tempfile
    import traceback

    details = redact("".join(traceback.format_exception(exc)))
    fd, path = tempfile.mkstemp(prefix="mailtriage-crash-", suffix=".txt")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(details)
    print(
        redact(f"mailtriage: internal error (a bug): {type(exc).__name__}: {exc}; details in {path}"), file=env.stderr
    )
    return Exit.INTERNAL_ERROR


def _dispatch(args: argparse.Namespace, env: Environment, redact: Redactor) -> Exit:
    # Each command's module is imported when it runs: start-up pays only for the one in use.
    if args.command == "knowledge":
        from engine.cli import knowledge

        return knowledge.command(args, env)
    if args.command == "analyze-log":
        from engine.cli import analyze_log

        return analyze_log.run(args, env, redact)
    if args.command == "explain":
        from engine.cli import chain, sessionfile

        report = sessionfile.load_report(args.session_file)
        findings = scrub(report["findings"], Redactor(), clean=True)  # a file a person may have edited
        env.stdout.write("\n".join(chain.explain(findings)) + "\n")
        return Exit.OK
    if args.command == "guide":
        from engine.cli import guide

        return guide.run(args, env, redact)
    if args.command == "schema":
        from engine.report import schemas

        try:
            env.stdout.write(schemas.text(args.name))
        except KeyError as exc:
            raise BadInput(str(exc.args[0])) from None
        return Exit.OK
    if args.command == "merge":
        from engine.cli import merge

        return merge.run(args, env, redact)
    if args.command == "lab":
        from engine.cli import lab

        return lab.run(args, env)
    from engine.cli import diagnose

    return diagnose.run(args, env, redact)
