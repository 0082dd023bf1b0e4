"""`mailtriage diagnose --profile FILE`: every account of a profile, a summary, a report each."""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.cli import inputs
from engine.cli.environment import BadInput, Environment, Exit
from engine.cli.present import present
from engine.inputs.accounts import (
    AccountInputError,
    account_settings,
    profile_fields,
    profile_secret_places,
    register,
    resolve_secrets,
)
from engine.inputs.profile import ProfileError, load_profile
from engine.inputs.settings import AccountSettings
from engine.knowledge.model import Knowledge
from engine.redact import Redactor
from engine.report.formats import EXTENSIONS, Format, chosen

if TYPE_CHECKING:
    from engine.run.batch import AccountOutcome

# Flags that describe one account; with a profile the accounts come from the file instead.
ACCOUNT_FLAGS = (
    "host",
    "user",
    "from_addr",
    "to_addr",
    "password_env",
    "password_file",
    "oauth_token_env",
    "javamail_properties",
    "spring_properties",
)


def run(args: argparse.Namespace, env: Environment, redact: Redactor) -> Exit:
    from engine.run.pipeline import diagnose_account

    try:
        accounts = settings_of(args, env.environ, redact)
    except (ProfileError, AccountInputError) as exc:
        raise BadInput(str(exc)) from None
    if args.cafile or args.log or args.session or args.postfix_queue is not None:
        raise BadInput(
            "--profile cannot be combined with --cafile (set cafile per account in the profile), "
            "--log, --session or --postfix-queue"
        )
    kb = inputs.knowledge(args)
    answers = inputs.answers(args, kb)
    if len(accounts) == 1 and not args.report_dir:
        ((_, settings),) = accounts
        outcome = diagnose_account(kb, settings, inputs.asker(args, env, False), answers, None, redact)
        return present(args, env, kb, outcome, redact)
    if args.output:
        raise BadInput("with several accounts use --report-dir DIR instead of --output")
    failed = run_many(args, env, kb, accounts, answers, redact)
    return Exit.PROBLEM_FOUND if failed else Exit.OK


def settings_of(args: argparse.Namespace, environ: Any, redact: Redactor) -> list[tuple[str, AccountSettings]]:
    """The profile's accounts as settings; every secret is registered with the redactor first."""
    given = [f"--{name.replace('_addr', '').replace('_', '-')}" for name in ACCOUNT_FLAGS if getattr(args, name, None)]
    if given:
        raise BadInput(f"--profile names the accounts; drop {', '.join(given)} (or put it in the profile)")
    out = []
    for account in load_profile(args.profile):
        entry = account.entry
        fields = profile_fields(account)
        imported = fields.get("imported")
        secrets = resolve_secrets(profile_secret_places(account), environ, imported)
        register(redact, fields.get("user"), secrets, imported)
        if entry.cafile and not Path(entry.cafile).is_file():
            raise BadInput(f"{account.origin}: account '{account.name}': cafile {entry.cafile}: no such file")
        source = entry.source_address or args.source_address
        if source:
            key = "source_address" if entry.source_address else "--source-address"
            inputs.check_source_address(
                source, f"{account.origin}: account '{account.name}': {key}", fields.get("host")
            )
        settings = account_settings(
            fields,
            secrets,
            to_addr=entry.to_addr,
            timeout=entry.timeout or args.timeout,
            resolver=args.resolver,
            source_address=source,
            cafile=entry.cafile,
            send_message=args.send_test_message,
            check_dns=args.check_dns,
        )
        out.append((account.name, settings))
    return out


def _file_name(name: str) -> str:
    """An account name made safe as a file name (names come from a file a person edits)."""
    return re.sub(r"[^A-Za-z0-9._@-]+", "_", name).strip("._") or "account"


def run_many(
    args: argparse.Namespace,
    env: Any,
    kb: Knowledge,
    accounts: list[tuple[str, AccountSettings]],
    answers: dict[str, Any],
    redact: Redactor,
) -> bool:
    """Diagnose every account, print the summary, write or print each report; True if any failed."""
    from engine.report.accounts import render_accounts
    from engine.report.render import report_json
    from engine.run.batch import diagnose_accounts, group

    fmt = chosen(args.format)
    written: dict[str, str] = {}  # each batch worker fills its own copy
    encode = (lambda report: report_json(report, redact, written)) if fmt == "json" else None
    outcomes = diagnose_accounts(kb, accounts, answers, redact, args.jobs, encode)
    env.stdout.write(render_accounts(kb, outcomes, group(kb, outcomes), fmt, redact))
    if args.report_dir:
        directory = Path(args.report_dir)
        try:
            directory.mkdir(parents=True, exist_ok=True)
            used: set[str] = set()
            for item in outcomes:
                stem = _file_name(item.name)
                while stem in used:
                    stem += "_"
                used.add(stem)
                path = directory / f"{stem}.{EXTENSIONS[fmt]}"
                path.write_text(_report_text(kb, item, fmt, redact), encoding="utf-8")
        except OSError as exc:
            raise BadInput(f"cannot write reports to {directory}: {exc.strerror or exc}") from None
        env.stdout.write(f"\n{len(outcomes)} reports written to {directory}/\n")
    elif fmt != "json":
        for item in outcomes:
            env.stdout.write(f"\n{'=' * 20} account {item.name} {'=' * 20}\n")
            env.stdout.write(_report_text(kb, item, fmt, redact))
    return any(f.severity == "error" for item in outcomes for f in item.report.findings)


def _report_text(kb: Knowledge, item: AccountOutcome, fmt: Format, redact: Redactor) -> str:
    """One account's report as written: as its worker encoded it, or through its template."""
    from engine.report.render import render

    if item.encoded is not None:
        return item.encoded + "\n"
    assert item.session is not None, "a batch without encode keeps every session"
    return render(kb, item.report, item.session, fmt, redact)
