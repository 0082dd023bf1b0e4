"""The account under test, from flags or files, and the config.* facts it implies."""

from __future__ import annotations

import ipaddress
from dataclasses import field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from engine.facts import Observation
from engine.values import record

if TYPE_CHECKING:  # an account from flags alone never touches a settings file
    from engine.inputs.configfiles.model import Imported

Security = Literal["auto", "starttls", "ssl", "none"]
DEFAULT_PORT = 587
# Settings a file can supply and the flag that overrides each; their facts carry a *_set_by twin.
FLAGS = {"host": "--host", "port": "--port", "security": "--security", "user": "--user", "from_addr": "--from"}
_FACT_NAMES = {"from_addr": "from"}


def read_password_file(path: str) -> str:
    """The first line of a password file; ValueError says why it cannot be had."""
    try:
        return Path(path).read_text(encoding="utf-8").splitlines()[0]
    except (OSError, UnicodeDecodeError, IndexError) as exc:
        raise ValueError(
            "the file is empty" if isinstance(exc, IndexError) else (getattr(exc, "strerror", None) or str(exc))
        ) from None


def source_address_problem(source: str, host: str | None = None) -> str | None:
    """Why the machine cannot send from source to host (not an address, not one of its own, or
    not of the family of a host given as an address), or None."""
    # Here, not at the top: reading pasted text imports this module and needs no sockets.
    import errno
    import socket

    try:
        version = ipaddress.ip_address(source).version
    except ValueError:
        return "not an IP address"
    family = socket.AF_INET6 if version == 6 else socket.AF_INET
    try:
        target = ipaddress.ip_address((host or "").strip("[]"))
    except ValueError:
        target = None  # a host name: its addresses are matched to the family when it resolves
    if target is not None and target.version != version:
        return (
            f"an IPv{version} address cannot reach the IPv{target.version} host {host}; give an IPv{target.version} one"
        )
    try:
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.bind((source, 0))  # binds locally; nothing is sent
    except OSError as exc:
        if exc.errno == errno.EADDRNOTAVAIL:
            return "this machine has no such address (ip -brief address lists the ones it has)"
        return exc.strerror or str(exc)
    return None


# A plain dataclass: every field is set by this program (flags are checked by the parser, files by
# their readers), so there is nothing left to validate, and a pasted-text run need not load pydantic.
@record(kw_only=True)
class AccountSettings:
    """What the application is configured with; the password stays out of every output."""

    host: str | None = None
    port: int = DEFAULT_PORT
    security: Security = "auto"
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    oauth_token: str | None = field(default=None, repr=False)
    send_message: bool = False
    from_addr: str | None = None
    to_addr: str | None = None
    cafile: str | None = None
    timeout: float = 10.0
    source: str = "flags"
    resolver: tuple[str, int] | None = None
    # --source-address: the local address every probe connection leaves from (a multi-homed node).
    source_address: str | None = None
    # --check-dns: SPF, DMARC, MX, blocklists and the egress echo, asked of outside resolvers.
    check_dns: bool = False

    # --- from a settings file (engine.inputs.configfiles) ---
    port_text: str | None = None  # the file's port as written, when it is not a number
    # Setting -> "mail.smtp.port at app.properties:3" or "--port", and -> the file's own line.
    set_by: dict[str, str] = field(default_factory=dict)
    evidence: dict[str, str] = field(default_factory=dict)
    imported: Imported | None = field(default=None, repr=False)

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
        return self.port_text is None and 1 <= self.port <= 65535

    def observations(self) -> list[Observation]:
        """config.* facts; rules judge them (a port's meaning is knowledge, not code)."""
        origin = self.source

        def fact(name: str, value: str | int | float | bool, shown: str | None = None) -> Observation:
            setting = name.removeprefix("config.")
            setting = "from_addr" if setting == "from" else setting
            return Observation(name, value, "config", self.evidence.get(setting, shown), origin)

        out = [fact("config.source", self.source)]
        if self.host:
            out.append(fact("config.host", self.host, f"host = {self.host}"))
            out.append(fact("config.host_is_ip", self.host_is_ip))
        if self.port_text is None:
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
        user_domain, from_domain = domain_of(self.user), domain_of(self.from_addr)
        if user_domain and from_domain:
            same = user_domain == from_domain
            shown = f"user {self.user} and From {self.from_addr}"
            out.append(Observation("config.from_domain_matches_user", same, "config", shown, origin))
        for setting, text in self.set_by.items():
            name = f"config.{_FACT_NAMES.get(setting, setting)}_set_by"
            out.append(Observation(name, text, "config", self.evidence.get(setting), origin))
        if self.imported is not None:
            from engine.inputs.configfiles.facts import file_observations

            out.extend(file_observations(self.imported))
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


def domain_of(address: str | None) -> str | None:
    """The domain of an email address ("App <app@Example.com.>" -> example.com); None without one."""
    if not address or "@" not in address:
        return None
    return address.rpartition("@")[2].strip().strip(">").rstrip(".").lower() or None


def layered(imported: Imported | None, given: dict[str, Any], given_at: str | None = None) -> dict[str, Any]:
    """AccountSettings fields from a file with the flags given over it, each traced to its source.

    given: host, port, security, user, from_addr as the command line (or a profile) set them,
    None where unset; given_at names a profile's place for them ("accounts.toml:12") instead of
    the command line. Returns keyword arguments for AccountSettings (password excluded).
    """
    fields: dict[str, Any] = {}
    set_by: dict[str, str] = {}
    evidence: dict[str, str] = {}
    for setting, flag in FLAGS.items():
        value = given.get(setting)
        if value is not None:
            fields[setting] = value
            if imported is not None:
                key = flag.removeprefix("--")
                set_by[setting] = (
                    f"{flag} on the command line" if given_at is None else f"{key} in the profile at {given_at}"
                )
            continue
        if imported is None:
            continue
        origin = imported.origins.get(setting)
        file_value = imported.effective_port if setting == "port" else getattr(imported, setting)
        if file_value is not None:
            fields[setting] = file_value
        if origin is not None:
            set_by[setting], evidence[setting] = str(origin), origin.evidence
    if imported is not None:
        fields.update(source=imported.path, set_by=set_by, evidence=evidence, imported=imported)
        if given.get("port") is None and imported.port_text is not None:
            fields.update(port=0, port_text=imported.port_text)
    if fields.get("port") is None:
        fields.pop("port", None)
    return fields
