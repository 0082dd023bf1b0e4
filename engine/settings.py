"""The account under test, from flags or files, and the config.* facts it implies."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from engine.facts import Observation

Security = Literal["auto", "starttls", "ssl", "none"]


def read_password_file(path: str) -> str:
    """The first line of a password file; ValueError says why it cannot be had."""
    try:
        return Path(path).read_text(encoding="utf-8").splitlines()[0]
    except (OSError, UnicodeDecodeError, IndexError) as exc:
        raise ValueError("the file is empty" if isinstance(exc, IndexError) else (getattr(exc, "strerror", None) or str(exc))) from None


class AccountSettings(BaseModel):
    """What the application is configured with; the password stays out of every output."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    host: str | None = None
    port: int = 587
    security: Security = "auto"
    user: str | None = None
    password: str | None = Field(default=None, repr=False, exclude=True)
    oauth_token: str | None = Field(default=None, repr=False, exclude=True)
    send_message: bool = False
    from_addr: str | None = Field(default=None, alias="from")
    to_addr: str | None = Field(default=None, alias="to")
    cafile: str | None = None
    timeout: float = Field(default=10.0, gt=0, le=300)
    source: str = "flags"
    resolver: tuple[str, int] | None = None
    # --check-dns: SPF, DMARC, MX, blocklists and the egress echo, asked of outside resolvers.
    check_dns: bool = False

    @property
    def host_is_ip(self) -> bool:
        if not self.host:
            return False
        try:
            ipaddress.ip_address(self.host.strip("[]"))
        except ValueError:
            return False
        return True

    @property
    def port_valid(self) -> bool:
        return 1 <= self.port <= 65535

    def observations(self) -> list[Observation]:
        """config.* facts; rules judge them (a port's meaning is knowledge, not code)."""
        origin = self.source

        def fact(name: str, value: str | int | float | bool, shown: str | None = None) -> Observation:
            return Observation(name, value, "config", shown, origin)

        out = [fact("config.source", self.source)]
        if self.host:
            out.append(fact("config.host", self.host, f"host = {self.host}"))
            out.append(fact("config.host_is_ip", self.host_is_ip))
        out.append(fact("config.port", self.port, f"port = {self.port}"))
        out.append(fact("config.security", self.security, f"security = {self.security}"))
        if self.user:
            out.append(fact("config.user", self.user, f"user = {self.user}"))
        out.append(fact("config.password_given", self.password is not None or self.oauth_token is not None))
        if self.from_addr:
            out.append(fact("config.from", self.from_addr, f"from = {self.from_addr}"))
        if self.to_addr:
            out.append(fact("config.to", self.to_addr, f"to = {self.to_addr}"))
        out.append(fact("config.timeout", float(self.timeout)))
        return out

    def target(self) -> dict[str, object]:
        """The report's target block: never the password."""
        return {
            "host": self.host,
            "port": self.port,
            "security": self.security,
            "user": self.user,
            "from": self.from_addr,
            "to": self.to_addr,
        }
