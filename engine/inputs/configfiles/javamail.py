"""JavaMail / Jakarta Mail semantics: which keys the SMTP transport reads, and what they mean."""

from __future__ import annotations

from engine.inputs.configfiles.model import HIDDEN, Format, Imported, Origin
from engine.inputs.configfiles.properties import Entry
from engine.values import frozen

# Per-transport keys, after "mail.smtp." or "mail.smtps.", that become settings.
_TEXT = {"host": "host", "user": "user", "from": "from_addr", "password": "password", "ssl.trust": "ssl_trust"}
_BOOL = {
    "auth": "auth",
    "ssl.enable": "ssl_enable",
    "starttls.enable": "starttls_enable",
    "starttls.required": "starttls_required",
}
_INT = {"port": "port", "connectiontimeout": "connect_timeout_ms", "timeout": "read_timeout_ms"}
_READ = set(_TEXT) | set(_BOOL) | set(_INT) | {"socketFactory.class"}
# Session-wide fallbacks JavaMail uses when the transport's own key is absent.
_FALLBACK = {"host": "mail.host", "user": "mail.user", "from": "mail.from", "password": "mail.password"}
_PASSWORD_SUFFIX = "password"
DEFAULT_PORT = {"smtp": 25, "smtps": 465}


@frozen
class Raw:
    """A value as the transport will see it, and the key and line of the file that held it."""

    value: str
    key: str  # as written in the file (spring.mail.properties.mail.smtp.auth, not mail.smtp.auth)
    line: int

    def origin(self, path: str, secret: bool = False) -> Origin:
        return Origin(self.key, path, self.line, HIDDEN if secret else self.value)


def raws(entries: list[Entry]) -> dict[str, Raw]:
    """Properties entries by key; a repeated key keeps the later value, as java.util.Properties does."""
    return {e.key: Raw(e.value, e.key, e.line) for e in entries}


def interpret(
    props: dict[str, Raw], path: str, fmt: Format, prefix_shown: str, explicit: dict[str, Raw] | None = None
) -> Imported:
    """What an SMTP transport built from these JavaMail properties would do.

    props: JavaMail keys (mail.smtp.host) -> Raw; explicit: settings passed to connect() by a
    framework (Spring's host, port, username, password, protocol), which win over props.
    prefix_shown: how the file spells "mail." for the key_prefix fact (spring.mail.properties.mail.).
    """
    explicit = explicit or {}
    protocol_raw = explicit.get("protocol") or props.get("mail.transport.protocol")
    protocol = "smtps" if protocol_raw is not None and protocol_raw.value.strip().lower() == "smtps" else "smtp"
    other = "smtp" if protocol == "smtps" else "smtps"
    prefix = f"mail.{protocol}."
    out = Imported(path=path, format=fmt, key_prefix=f"{prefix_shown}{protocol}", default_port=DEFAULT_PORT[protocol])

    def own(suffix: str) -> Raw | None:
        return props.get(prefix + suffix) or (props.get(_FALLBACK[suffix]) if suffix in _FALLBACK else None)

    def note(name: str, raw: Raw, secret: bool = False) -> Origin:
        origin = raw.origin(path, secret)
        out.origins[name] = origin
        if fmt == "javamail" and not secret and raw.value != raw.value.rstrip():
            out.trailing_space.append(origin)  # java.util.Properties keeps it; Spring Boot trims
        return origin

    for suffix, name in _TEXT.items():
        raw = explicit.get(name) or own(suffix)
        if raw is not None and raw.value.strip():
            note(name, raw, secret=suffix == _PASSWORD_SUFFIX)
            setattr(out, name, raw.value if suffix == _PASSWORD_SUFFIX else raw.value.strip())
    for suffix, name in _BOOL.items():
        raw = own(suffix)
        if raw is not None:
            origin = note(name, raw)
            word = raw.value.strip().lower()
            if word not in ("true", "false"):
                out.not_boolean.append(origin)  # JavaMail reads anything but "true" as false
            setattr(out, name, word == "true")
    for suffix, name in _INT.items():
        raw = explicit.get(name) or own(suffix)
        if raw is None or not raw.value.strip():
            continue
        origin = note(name, raw)
        try:
            setattr(out, name, int(raw.value.strip()))
        except ValueError:
            out.not_a_number.append(origin)
            if name == "port":
                out.port_text = raw.value
    _security(out, props, prefix, protocol, protocol_raw, path)
    for key, raw in props.items():
        setting = key.removeprefix(f"mail.{other}.")
        if key.startswith(f"mail.{other}.") and setting in _READ and prefix + setting not in props:
            out.ignored.append(raw.origin(path, secret=key.endswith(_PASSWORD_SUFFIX)))
    return out


def _security(
    out: Imported, props: dict[str, Raw], prefix: str, protocol: str, protocol_raw: Raw | None, path: str
) -> None:
    """Implicit TLS (smtps, ssl.enable, an SSL socket factory) wins over STARTTLS; neither is plain."""
    factory = props.get(prefix + "socketFactory.class")
    if protocol == "smtps" and out.ssl_enable is not False and protocol_raw is not None:
        out.security, out.origins["security"] = "ssl", protocol_raw.origin(path)
    elif out.ssl_enable:
        out.security, out.origins["security"] = "ssl", out.origins["ssl_enable"]
    elif factory is not None and factory.value.strip().endswith("SSLSocketFactory"):
        out.security, out.origins["security"] = "ssl", factory.origin(path)
    elif out.starttls_enable or out.starttls_required:
        out.security = "starttls"
        out.origins["security"] = out.origins["starttls_enable" if out.starttls_enable else "starttls_required"]
