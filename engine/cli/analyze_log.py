"""`mailtriage analyze-log`: diagnose from pasted error text or a log alone."""

from __future__ import annotations

import argparse

from engine.cli import inputs
from engine.cli.environment import Environment, Exit
from engine.cli.present import present
from engine.redact import Redactor


def run(args: argparse.Namespace, env: Environment, redact: Redactor) -> Exit:
    from engine.run.pipeline import diagnose_text

    kb = inputs.knowledge(args)
    answers = inputs.answers(args, kb)
    blocks = inputs.blocks(args.files, env)
    queue = inputs.postfix_queue(args, 10.0)
    asker = inputs.asker(args, env, "-" in args.files)
    outcome = diagnose_text(kb, blocks, asker, answers, redact=redact, queue=queue)
    return present(args, env, kb, outcome, redact, interactive=inputs.interactive(args, env, "-" in args.files))
