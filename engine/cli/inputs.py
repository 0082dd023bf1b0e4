"""What the commands read besides their flags: knowledge, answers, text sources, the asker."""

from __future__ import annotations

import argparse
import io
import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.cli import collector
from engine.cli.environment import BadInput, Environment
from engine.decide.session import AnswerError, Asker, NoAsker, check_answers
from engine.inputs.textinput import Block, read_blocks
from engine.knowledge.model import Knowledge

if TYPE_CHECKING:  # the pipeline is imported when a command needs it: start-up stays fast
    from engine.run.pipeline import PostfixQueue


def knowledge(args: argparse.Namespace, cached: bool = True) -> Knowledge:
    """The knowledge base; loading it ends start-up, so the cyclic collector resumes after it."""
    dirs = [Path(d) for d in args.knowledge]
    if not cached:
        from engine.knowledge.load import load_knowledge

        kb = load_knowledge(dirs)
    else:
        from engine.knowledge.cache import cached_knowledge

        kb = cached_knowledge(dirs, derive=derive)
    collector.resume()
    return kb


def derive(kb: Knowledge) -> None:
    """What the cache keeps beside the knowledge: the text finder's literals, the sentences' plans,
    what the rules' conditions read."""
    from engine.decide.compile import derive_reads
    from engine.report.sentences import derive_sentence_plans
    from engine.text.signatures import derive_literal_sets

    derive_literal_sets(kb)
    derive_sentence_plans(kb)
    derive_reads(kb)


def read_mapping(path: str, what: str) -> dict[str, Any]:
    from engine.knowledge.yamlfile import YamlError, load  # the YAML parser only when a file is given

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


def answers(args: argparse.Namespace, kb: Knowledge, previous: dict[str, Any] | None = None) -> dict[str, Any]:
    """Answers from the session file, then the answers file over them; each checked under its own name."""
    answers: dict[str, Any] = {}
    sources = [(getattr(args, "session", None), previous or {})]
    if args.answers:
        sources.append((args.answers, read_mapping(args.answers, "answers file")))
    for name, raw in sources:
        try:
            answers.update(check_answers(kb, raw))
        except AnswerError as exc:
            raise BadInput(f"{name}: {exc}") from None
    return answers


def interactive(args: argparse.Namespace, env: Environment, stdin_used: bool = False) -> bool:
    """A person at a terminal answers questions (and gets a ticket file at the end)."""
    return not (args.non_interactive or stdin_used or not env.interactive())


def asker(args: argparse.Namespace, env: Environment, stdin_used: bool) -> Asker:
    if not interactive(args, env, stdin_used):
        return NoAsker()
    from rich.console import Console  # only an interactive session needs it

    from engine.cli.prompt import TerminalAsker

    return TerminalAsker(env.stdin, Console(file=env.stderr, highlight=False))


def blocks(sources: list[str], env: Environment) -> Iterator[Block]:
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


def postfix_queue(args: argparse.Namespace, timeout: float) -> PostfixQueue | None:
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


def check_source_address(source: str, where: str, host: str | None) -> None:
    """BadInput, in one line naming where it was given, unless this machine can reach host from source."""
    from engine.inputs.settings import source_address_problem

    problem = source_address_problem(source, host)
    if problem:
        raise BadInput(f"{where} {source}: {problem}")
