"""What an imported settings file says, and which key on which line said it."""

from __future__ import annotations

from dataclasses import field
from typing import Literal

from engine.inputs.errors import ConfigFileError
from engine.values import frozen, record

__all__ = ["HIDDEN", "ConfigFileError", "Format", "Imported", "Origin", "Security"]

Format = Literal["javamail", "spring"]
Security = Literal["starttls", "ssl", "none"]
# Shown instead of a secret's value in evidence; the value itself never leaves the importer.
HIDDEN = "(value not shown)"


@frozen
class Origin:
    """One key of one file: where a setting came from."""

    key: str
    path: str
    line: int
    shown: str  # the value as written; HIDDEN for a password

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"

    @property
    def evidence(self) -> str:
        """The file's own line, as a report shows it: FILE:LINE: key=value."""
        return f"{self.where}: {self.key}={self.shown}"

    def __str__(self) -> str:
        return f"{self.key} at {self.where}"


@record
class Imported:
    """Settings as the application would use them, each traced to the key that supplied it.

    Fields are None when the file does not say; `security` and `default_port` are what
    JavaMail does then (no TLS; port 25, or 465 for smtps). `origins` maps a setting name
    (host, port, security, user, from_addr, password, auth, ssl_enable, starttls_enable,
    starttls_required, ssl_trust, connect_timeout_ms, read_timeout_ms) to its Origin.
    """

    path: str
    format: Format
    key_prefix: str  # where the transport reads its switches: mail.smtp, mail.smtps, spring.mail.properties.mail.smtp
    host: str | None = None
    port: int | None = None
    port_text: str | None = None  # the port as written, when it is not a number
    default_port: int = 25
    security: Security = "none"
    user: str | None = None
    from_addr: str | None = None
    password: str | None = field(default=None, repr=False)
    auth: bool | None = None
    ssl_enable: bool | None = None
    starttls_enable: bool | None = None
    starttls_required: bool | None = None
    ssl_trust: str | None = None
    connect_timeout_ms: int | None = None
    read_timeout_ms: int | None = None
    origins: dict[str, Origin] = field(default_factory=dict)
    # Keys whose value the transport cannot use as written, each a lint finding of its own.
    not_a_number: list[Origin] = field(default_factory=list)
    not_boolean: list[Origin] = field(default_factory=list)
    ignored: list[Origin] = field(default_factory=list)
    trailing_space: list[Origin] = field(default_factory=list)

    @property
    def effective_port(self) -> int | None:
        """The port the application dials; None when the file's port is not a number."""
        if self.port_text is not None:
            return None
        return self.port if self.port is not None else self.default_port
