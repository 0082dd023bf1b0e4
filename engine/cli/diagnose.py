"""`mailtriage diagnose`: probe one account (or a profile's many), ask, conclude, report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from engine.cli import checklist, inputs
from engine.cli.environment import BadInput, Environment, Exit
from engine.cli.present import present
from engine.facts import FactValue
from engine.inputs.accounts import (
    FALLBACK_PASSWORD_ENV,
    AccountInputError,
    SecretPlaces,
    Secrets,
    account_settings,
    register,
    resolve_secrets,
)
from engine.inputs.settings import FLAGS, layered
from engine.redact import Redactor

if TYPE_CHECKING:  # a settings file is read only when one is named
    from engine.inputs.configfiles.model import Imported


def run(args: argparse.Namespace, env: Environment, redact: Redactor) -> Exit:
    from engine.cli import sessionfile
    from engine.run.pipeline import diagnose_account

    if args.source_address:
        inputs.check_source_address(args.source_address, "--source-address", args.host)
    if args.profile:
        from engine.cli import profile

        return profile.run(args, env, redact)
    if args.report_dir:
        raise BadInput("--report-dir goes with --profile (one report per account); for one account use --output FILE")
    imported = _settings_file(args)
    if not args.host and imported is None:
        raise BadInput(
            "diagnose needs --host (the SMTP server the application uses) or a settings file (--javamail-properties, "
            "--spring-properties), or --profile FILE"
        )
    kb = inputs.knowledge(args)
    fields = layered(imported, {s: getattr(args, s) for s in FLAGS})
    user = fields.get("user")
    places = SecretPlaces(args.password_env, args.password_file, args.oauth_token_env, FALLBACK_PASSWORD_ENV)
    try:
        secrets = resolve_secrets(places, env.environ, imported)
    except AccountInputError as exc:
        raise BadInput(str(exc)) from None
    if user and secrets.password is None and secrets.token is None and env.interactive() and not args.non_interactive:
        secrets = Secrets(_prompt_password(user, env), None, False)
    register(redact, user, secrets, imported)
    if args.cafile and not Path(args.cafile).is_file():
        raise BadInput(f"--cafile {args.cafile}: no such file")
    previous = sessionfile.load_answers(args.session) if args.session else {}
    answers = inputs.answers(args, kb, previous)
    settings = account_settings(
        fields,
        secrets,
        to_addr=args.to_addr,
        timeout=args.timeout,
        resolver=args.resolver,
        source_address=args.source_address,
        cafile=args.cafile,
        send_message=args.send_test_message,
        check_dns=args.check_dns,
    )
    log_blocks = inputs.blocks(args.log, env) if args.log else None
    asker = inputs.asker(args, env, "-" in args.log)
    queue = inputs.postfix_queue(args, args.timeout)
    session = args.session

    def save(answers: dict[str, FactValue]) -> None:
        if session:
            sessionfile.save_answers(session, settings.target(), answers, redact)

    on_step = checklist.for_terminal(env.stderr, env.environ, redact)
    if on_step is not None:
        env.stderr.write(f"Testing {settings.host} port {settings.port} (security {settings.security}):\n")
    try:
        outcome = diagnose_account(
            kb, settings, asker, answers, log_blocks, redact, queue, on_answer=save, on_step=on_step
        )
    except KeyboardInterrupt:
        env.stderr.write("\n" + sessionfile.interrupted(args) + "\n")
        return Exit.INTERRUPTED
    code = present(args, env, kb, outcome, redact, interactive=inputs.interactive(args, env, "-" in args.log))
    if args.session:
        sessionfile.save(args.session, outcome, redact, kb)
    return code


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
    if not (args.javamail_properties or args.spring_properties):
        return None
    from engine.inputs.configfiles import read as configfiles

    if args.javamail_properties:
        return configfiles.load_javamail(args.javamail_properties)
    return configfiles.load_spring(args.spring_properties)
