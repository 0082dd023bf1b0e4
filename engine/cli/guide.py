"""`mailtriage guide`, and `mailtriage` alone on a terminal: a guided session from nothing.

It opens with the questions in knowledge gated on `session.guided` (the symptom, the pasted Test
Connectivity message and JavaMail debugging information, the server), so a person with no shell
on the application node gets as far as their text allows. With a server named (in the text or
an answer) and their consent, it then tests that server from this machine; either way the
session goes on through the questions the rules find worth asking, and ends with the report.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from engine.cli import checklist, inputs, sessionfile
from engine.cli.environment import BadInput, Environment, Exit
from engine.cli.present import present
from engine.decide.session import AskContext, Asker, Back, run_session
from engine.facts import FactSet, FactValue, Observation
from engine.knowledge import schema as s
from engine.knowledge.conditions import facts_read
from engine.knowledge.model import Knowledge
from engine.redact import Redactor

if TYPE_CHECKING:
    from engine.inputs.settings import AccountSettings

GUIDED = "session.guided"


def opening_questions(kb: Knowledge) -> set[str]:
    """The questions whose condition reads session.guided: the guide's own opening."""
    return {q.id for q in kb.questions.values() if GUIDED in facts_read(q.when)}


class OpeningAsker:
    """Passes the opening questions to the person; any other waits until the server is known."""

    only_useful = False  # the opening is asked as written; what follows is judged then

    def __init__(self, inner: Asker, opening: set[str]) -> None:
        self.inner, self.opening = inner, opening

    def ask(self, question: s.QuestionSpec, context: AskContext | None = None) -> FactValue | Back | None:
        return self.inner.ask(question, context) if question.id in self.opening else None


def run(args: argparse.Namespace, env: Environment, redact: Redactor) -> Exit:
    from engine.run.pipeline import diagnose_account, diagnose_text

    if not env.interactive() or args.non_interactive:
        raise BadInput(
            "guide asks questions at a terminal; for a script use 'analyze-log FILE' or "
            "'diagnose --host HOST --answers FILE --non-interactive'"
        )
    kb = inputs.knowledge(args)
    previous = sessionfile.load_answers(args.session) if args.session else {}
    answers = inputs.answers(args, kb, previous)
    asker = inputs.asker(args, env, False)
    target: dict[str, object] = {}

    def save(given: dict[str, FactValue]) -> None:
        if args.session:
            sessionfile.save_answers(args.session, target, given, redact)

    env.stderr.write("mailtriage guide: a few questions, then a test of the server if you want one.\n")
    try:
        facts = FactSet()
        facts.extend([Observation(GUIDED, True, "answer", "started with mailtriage guide", "guide")])
        opened = run_session(kb, facts, OpeningAsker(asker, opening_questions(kb)), answers, redact, save)
        given = {q.question.id: q.answer for q in opened.questions if q.answer is not None}
        host = opened.facts.first("config.host") or given.get("smtp_host")
        if isinstance(host, str) and given.get("probe_consent") == "yes":
            settings = _settings(opened.facts, given, host, args.timeout)
            target.update(settings.target())
            env.stderr.write(f"Testing {host} port {settings.port} from this machine:\n")
            on_step = checklist.for_terminal(env.stderr, env.environ, redact)
            outcome = diagnose_account(kb, settings, asker, given, None, redact, on_answer=save, on_step=on_step)
        else:
            outcome = diagnose_text(kb, [], asker, given, redact=redact, on_answer=save)
    except KeyboardInterrupt:
        env.stderr.write("\n" + sessionfile.interrupted(args) + "\n")
        return Exit.INTERRUPTED
    code = present(args, env, kb, outcome, redact, interactive=inputs.interactive(args, env))
    if args.session:
        sessionfile.save(args.session, outcome, redact, kb)
    return code


def _settings(facts: FactSet, given: dict[str, FactValue], host: str, timeout: float) -> AccountSettings:
    """The account to test: what the pasted text showed, else what the person answered."""
    from engine.inputs.settings import DEFAULT_PORT, AccountSettings

    port = facts.first("config.port")
    if not isinstance(port, int):
        answered = given.get("smtp_port")
        port = int(answered) if isinstance(answered, float) and 1 <= answered <= 65535 else DEFAULT_PORT
    security = facts.first("config.security")
    return AccountSettings(
        host=host,
        port=port,
        security=security if security in ("starttls", "ssl", "none") else "auto",  # type: ignore[arg-type]
        timeout=timeout,
        source="guide",
    )
