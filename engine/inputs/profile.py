"""A mailtriage profile (TOML): one or many SMTP accounts, with shared defaults.

    [defaults]                 # optional; every account starts from these
    host = "smtp.example.com"
    port = 587
    security = "starttls"
    to = "postmaster@example.com"

    [[accounts]]
    name = "billing"
    user = "billing@example.com"
    from = "billing@example.com"
    password_env = "BILLING_SMTP_PASSWORD"   # or password_file; never the password itself

    [[accounts]]
    name = "orders"
    settings_file = "orders/mail.properties"  # JavaMail or Spring Boot, read like --javamail-properties

Errors name the file, the line and the key, like the knowledge lint does.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import ErrorDetails

from engine.values import frozen

MAX_ACCOUNTS = 1000  # a profile is a list a person keeps; far more is a mistake in generating it


class ProfileError(Exception):
    """A profile that cannot be used; the message is one line: file:line: what and how to fix."""


class AccountEntry(BaseModel):
    """The keys an account (or [defaults]) may hold; unknown keys are typos and are refused."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: str | None = Field(default=None, min_length=1)
    host: str | None = None
    port: int | None = Field(default=None, ge=1, le=65535)
    security: Literal["auto", "starttls", "ssl", "none"] | None = None
    user: str | None = None
    from_addr: str | None = Field(default=None, alias="from")
    to_addr: str | None = Field(default=None, alias="to")
    password_env: str | None = None
    password_file: str | None = None
    oauth_token_env: str | None = None
    cafile: str | None = None
    timeout: float | None = Field(default=None, gt=0, le=300)
    source_address: str | None = None  # as --source-address, for this account
    # A JavaMail or Spring Boot file the application reads; the account's own keys win over it,
    # and the file over [defaults]. A relative path is taken from the profile's folder.
    settings_file: str | None = None


class ProfileFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    defaults: AccountEntry = AccountEntry()
    accounts: list[AccountEntry] = Field(min_length=1, max_length=MAX_ACCOUNTS)


@frozen
class ProfileAccount:
    name: str
    entry: AccountEntry  # defaults already applied
    origin: str  # "file:line" of its [[accounts]] header
    own: frozenset[str] = frozenset()  # the fields its own table sets (not inherited from [defaults])


def _line_of(text: str, loc: tuple[Any, ...]) -> int:
    """Best line for a validation error location such as ('accounts', 2, 'port')."""
    lines = text.splitlines()
    start, end = 0, len(lines)
    if loc and loc[0] == "accounts" and len(loc) > 1 and isinstance(loc[1], int):
        headers = [i for i, line in enumerate(lines) if re.match(r"\s*\[\[\s*accounts\s*\]\]", line)]
        if loc[1] < len(headers):
            start = headers[loc[1]]
            end = headers[loc[1] + 1] if loc[1] + 1 < len(headers) else len(lines)
        key = loc[2] if len(loc) > 2 else None
    elif loc and loc[0] == "defaults":
        header = next((i for i, line in enumerate(lines) if re.match(r"\s*\[\s*defaults\s*\]", line)), None)
        start = header if header is not None else 0
        key = loc[1] if len(loc) > 1 else None
    else:
        key = loc[0] if loc else None
    if isinstance(key, str):
        spelled = {"from_addr": "from", "to_addr": "to"}.get(key, key)
        for i in range(start, end):
            if re.match(rf"\s*{re.escape(spelled)}\s*=", lines[i]):
                return i + 1
    return start + 1


def _message(error: ErrorDetails) -> str:
    loc = error["loc"]
    key = ".".join(str(part) for part in loc if not isinstance(part, int))
    if error["type"] == "extra_forbidden":
        if loc[-1] == "password":
            return (
                "a password does not belong in a profile: name its environment variable with "
                "password_env (or a file with password_file)"
            )
        return f"unknown key '{loc[-1]}' (allowed: {', '.join(sorted(_allowed()))})"
    if error["type"] == "missing" and loc == ("accounts",):
        return "no accounts: add at least one [[accounts]] table"
    return f"{key}: {error['msg'].lower()}"


def _allowed() -> set[str]:
    return {field.alias or name for name, field in AccountEntry.model_fields.items()}


def load_profile(path: str) -> list[ProfileAccount]:
    """The accounts of a profile, each with the defaults applied; ProfileError on any problem."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(f"cannot read profile {path}: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"\(at line (\d+), column \d+\)", str(exc))
        line = found.group(1) if found else "1"
        reason = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
        raise ProfileError(f"{path}:{line}: not valid TOML: {reason}") from None
    try:
        parsed = ProfileFile.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ProfileError(f"{path}:{_line_of(text, first['loc'])}: {_message(first)}") from None
    if parsed.defaults.password_env and parsed.defaults.password_file:
        raise ProfileError(
            f"{path}:{_line_of(text, ('defaults', 'password_file'))}: [defaults] sets both password_env and "
            "password_file; keep one"
        )
    headers = [i + 1 for i, line in enumerate(text.splitlines()) if re.match(r"\s*\[\[\s*accounts\s*\]\]", line)]
    accounts: list[ProfileAccount] = []
    seen: dict[str, str] = {}
    for index, entry in enumerate(parsed.accounts):
        own = entry.model_dump(exclude_unset=True)
        line = headers[index] if index < len(headers) else 1
        name = entry.name or entry.user or parsed.defaults.user or f"account-{index + 1}"
        if "password_env" in own and "password_file" in own:
            raise ProfileError(f"{path}:{line}: account '{name}' sets both password_env and password_file; keep one")
        # An account that names its own password source replaces the default one, of either kind.
        if "password_env" in own or "password_file" in own:
            own = {"password_env": None, "password_file": None, **own}
        merged = parsed.defaults.model_copy(update=own)
        if name in seen:
            raise ProfileError(
                f"{path}:{line}: account name '{name}' is used twice (first at {seen[name]}); names must be unique"
            )
        seen[name] = f"{path}:{line}"
        if not merged.host and not merged.settings_file:
            raise ProfileError(
                f"{path}:{line}: account '{name}' has no host: set host (or settings_file) here or in [defaults]"
            )
        if merged.settings_file and not Path(merged.settings_file).is_absolute():
            merged.settings_file = str(Path(path).parent / merged.settings_file)
        accounts.append(
            ProfileAccount(name, merged, f"{path}:{line}", frozenset(k for k, v in own.items() if v is not None))
        )
    return accounts
