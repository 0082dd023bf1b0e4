"""One account to diagnose, assembled the same way from flags, settings files and profiles.

Precedence, for every source: the place's own keys (flags, or the profile account's keys) over
the settings file over defaults; an OAuth token over a password; the password from the named
environment variable, then the named file, then MAILTRIAGE_PASSWORD (command line only), then
the settings file's own. Every secret, used or not, is registered with the redactor.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from engine.inputs.errors import ConfigFileError
from engine.inputs.settings import FLAGS, AccountSettings, layered, read_password_file
from engine.redact import Redactor
from engine.values import frozen

if TYPE_CHECKING:  # profiles are read (with pydantic) only by a run that names one
    from engine.inputs.configfiles.model import Imported
    from engine.inputs.profile import ProfileAccount

FALLBACK_PASSWORD_ENV = "MAILTRIAGE_PASSWORD"


class AccountInputError(ValueError):
    """A secret or settings file named for an account cannot be had; the message says where."""


@frozen
class SecretPlaces:
    """Where one account's secrets come from, and how an error names those places."""

    password_env: str | None = None
    password_file: str | None = None
    oauth_token_env: str | None = None
    fallback_env: str | None = None  # read when neither password place is named
    # "" for the command line (errors name the flag); "file:line: account 'x'" for a profile.
    where: str = ""

    def _unset(self, key: str, variable: str) -> str:
        if not self.where:
            return f"--{key.replace('_', '-')}: environment variable {variable} is not set"
        return f"{self.where}: {key} {variable} is not set in the environment"

    def _unreadable(self, key: str, path: str, why: object) -> str:
        if not self.where:
            return f"cannot read --{key.replace('_', '-')} {path}: {why}"
        return f"{self.where}: cannot read {key} {path}: {why}"

    def _env(self, key: str, variable: str, environ: Mapping[str, str]) -> str:
        if variable not in environ:
            raise AccountInputError(self._unset(key, variable))
        return environ[variable]

    def token(self, environ: Mapping[str, str]) -> str | None:
        return self._env("oauth_token_env", self.oauth_token_env, environ) if self.oauth_token_env else None

    def password(self, environ: Mapping[str, str]) -> str | None:
        if self.password_env:
            return self._env("password_env", self.password_env, environ)
        if self.password_file:
            try:
                return read_password_file(self.password_file)
            except ValueError as exc:
                raise AccountInputError(self._unreadable("password_file", self.password_file, exc)) from None
        return environ.get(self.fallback_env) if self.fallback_env else None


@frozen
class Secrets:
    password: str | None
    token: str | None
    from_file: bool  # the password is the settings file's own


def resolve_secrets(places: SecretPlaces, environ: Mapping[str, str], imported: Imported | None) -> Secrets:
    """The token, else the password from its places, else the settings file's password."""
    token = places.token(environ)
    password = None if token else places.password(environ)
    if token is None and password is None and imported is not None and imported.password is not None:
        return Secrets(imported.password, None, True)
    return Secrets(password, token, False)


def register(redact: Redactor, user: str | None, secrets: Secrets, imported: Imported | None) -> None:
    """Every secret this account holds, the settings file's included even when another is used."""
    redact.include(Redactor.for_credentials(user, secrets.password, secrets.token))
    if imported is not None:
        redact.include(Redactor.for_credentials(user, imported.password))


def account_settings(fields: dict[str, Any], secrets: Secrets, **common: Any) -> AccountSettings:
    """AccountSettings from layered fields, the chosen secret and the run-wide options."""
    imported = fields.get("imported")
    if secrets.from_file and imported is not None:
        fields = {**fields, "evidence": {**fields.get("evidence", {})}}
        fields["evidence"]["password_given"] = imported.origins["password"].evidence
    return AccountSettings(**fields, password=secrets.password, oauth_token=secrets.token, **common)


def profile_fields(account: ProfileAccount) -> dict[str, Any]:
    """Host, port, security, user and from: the account's keys over its settings file over [defaults]."""
    entry = account.entry
    if not entry.settings_file:
        return {
            "host": entry.host,
            "port": entry.port or 587,
            "security": entry.security or "auto",
            "user": entry.user,
            "from_addr": entry.from_addr,
            "source": f"profile {account.origin}",
        }
    from engine.inputs.configfiles.read import load_settings_file

    try:
        imported = load_settings_file(entry.settings_file)
    except ConfigFileError as exc:
        raise AccountInputError(f"{account.origin}: account '{account.name}': {exc}") from None
    own = {setting: getattr(entry, setting) if setting in account.own else None for setting in FLAGS}
    fields = layered(imported, own, account.origin)
    for setting in FLAGS:  # what neither the account nor its file says comes from [defaults]
        if fields.get(setting) is None and getattr(entry, setting) is not None:
            fields[setting] = getattr(entry, setting)
    return fields


def profile_secret_places(account: ProfileAccount) -> SecretPlaces:
    entry = account.entry
    return SecretPlaces(
        entry.password_env,
        entry.password_file,
        entry.oauth_token_env,
        where=f"{account.origin}: account '{account.name}'",
    )
