"""`mailtriage diagnose --profile FILE`: every account of a profile, a summary, a report each."""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

from engine.inputs.configfiles import ConfigFileError, load_settings_file
from engine.inputs.profile import ProfileAccount, ProfileError, load_profile
from engine.inputs.settings import FLAGS, AccountSettings, layered, read_password_file
from engine.knowledge.model import Knowledge
from engine.redact import Redactor
from engine.run.batch import diagnose_accounts, group

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
EXTENSIONS = {"text": "txt", "md": "md", "html": "html", "json": "json"}


class ProfileInputError(Exception):
    """Bad input found while reading the profile or its secrets; becomes exit code 2."""


def _secret(account: ProfileAccount, environ: Any) -> tuple[str | None, str | None]:
    """(password, oauth token) for an account, from the places its entry names."""
    entry = account.entry
    where = f"{account.origin}: account '{account.name}'"
    token = None
    if entry.oauth_token_env:
        if entry.oauth_token_env not in environ:
            raise ProfileInputError(f"{where}: oauth_token_env {entry.oauth_token_env} is not set in the environment")
        token = environ[entry.oauth_token_env]
    if entry.password_env:
        if entry.password_env not in environ:
            raise ProfileInputError(f"{where}: password_env {entry.password_env} is not set in the environment")
        return environ[entry.password_env], token
    if entry.password_file:
        try:
            return read_password_file(entry.password_file), token
        except ValueError as exc:
            raise ProfileInputError(f"{where}: cannot read password_file {entry.password_file}: {exc}") from None
    return None, token


def settings_of(args: argparse.Namespace, environ: Any, redact: Redactor) -> list[tuple[str, AccountSettings]]:
    """The profile's accounts as settings; every secret is registered with the redactor first."""
    given = [f"--{name.replace('_addr', '').replace('_', '-')}" for name in ACCOUNT_FLAGS if getattr(args, name, None)]
    if given:
        raise ProfileInputError(f"--profile names the accounts; drop {', '.join(given)} (or put it in the profile)")
    try:
        accounts = load_profile(args.profile)
    except ProfileError as exc:
        raise ProfileInputError(str(exc)) from None
    out = []
    for account in accounts:
        entry = account.entry
        fields = _fields(account)
        password, token = _secret(account, environ)
        imported = fields.get("imported")
        file_password = imported.password if imported is not None else None
        if password is None and token is None:
            password = file_password  # the profile's own sources win; the file's is the fallback
        redact.include(Redactor.for_credentials(fields.get("user"), password, token))
        redact.include(Redactor.for_credentials(fields.get("user"), file_password))
        if entry.cafile and not Path(entry.cafile).is_file():
            raise ProfileInputError(f"{account.origin}: account '{account.name}': cafile {entry.cafile}: no such file")
        out.append(
            (
                account.name,
                AccountSettings(
                    **fields,
                    password=password,
                    oauth_token=token,
                    to=entry.to_addr,
                    timeout=entry.timeout or args.timeout,
                    resolver=args.resolver,
                    cafile=entry.cafile,
                    send_message=args.send_test_message,
                    check_dns=args.check_dns,
                ),
            )
        )
    return out


def _fields(account: ProfileAccount) -> dict[str, Any]:
    """Host, port, security, user and from: the account's keys over its settings file over [defaults]."""
    entry = account.entry
    if not entry.settings_file:
        return {
            "host": entry.host,
            "port": entry.port or 587,
            "security": entry.security or "auto",
            "user": entry.user,
            "from": entry.from_addr,
            "source": f"profile {account.origin}",
        }
    try:
        imported = load_settings_file(entry.settings_file)
    except ConfigFileError as exc:
        raise ProfileInputError(f"{account.origin}: account '{account.name}': {exc}") from None
    own = {setting: getattr(entry, setting) if setting in account.own else None for setting in FLAGS}
    fields = layered(imported, own, account.origin)
    for setting in FLAGS:  # what neither the account nor its file says comes from [defaults]
        key = "from" if setting == "from_addr" else setting
        if fields.get(key) is None and getattr(entry, setting) is not None:
            fields[key] = getattr(entry, setting)
    return fields


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
    from engine.report.render import build_report, render, render_accounts

    outcomes = diagnose_accounts(kb, accounts, answers, redact, args.jobs)
    reports = [
        build_report(kb, o.outcome.session, o.outcome.target, o.outcome.probes, o.outcome.transcript) for o in outcomes
    ]
    fmt = args.format or "text"
    env.stdout.write(render_accounts(kb, outcomes, group(kb, outcomes), reports, fmt, redact))
    if args.report_dir:
        directory = Path(args.report_dir)
        try:
            directory.mkdir(parents=True, exist_ok=True)
            used: set[str] = set()
            for item, report in zip(outcomes, reports, strict=True):
                stem = _file_name(item.name)
                while stem in used:
                    stem += "_"
                used.add(stem)
                path = directory / f"{stem}.{EXTENSIONS[fmt]}"
                path.write_text(render(kb, report, item.outcome.session, fmt, redact), encoding="utf-8")
        except OSError as exc:
            raise ProfileInputError(f"cannot write reports to {directory}: {exc.strerror or exc}") from None
        env.stdout.write(f"\n{len(outcomes)} reports written to {directory}/\n")
    elif fmt != "json":
        for item, report in zip(outcomes, reports, strict=True):
            env.stdout.write(f"\n{'=' * 20} account {item.name} {'=' * 20}\n")
            env.stdout.write(render(kb, report, item.outcome.session, fmt, redact))
    return any(f.severity == "error" for r in reports for f in r.findings)
