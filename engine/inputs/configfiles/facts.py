"""The config.* facts only a settings file can supply: raw switches and the keys at fault."""

from __future__ import annotations

from engine.facts import FactValue, Observation
from engine.inputs.configfiles.model import Imported, Origin

# Switches rules judge as the file wrote them (the settings they imply are facts of their own).
_SWITCHES = (
    "auth",
    "ssl_enable",
    "starttls_enable",
    "starttls_required",
    "ssl_trust",
    "connect_timeout_ms",
    "read_timeout_ms",
)

_KINDS = {"javamail": "JavaMail properties", "spring": "Spring Boot spring.mail settings"}


def _from(name: str, value: FactValue, origin: Origin) -> Observation:
    return Observation(name, value, "config", origin.evidence, origin.where)


def file_observations(imported: Imported) -> list[Observation]:
    """Facts about the file itself; each key at fault is a fact whose value is the key's name."""
    read_as = f"{imported.path}: read as {_KINDS[imported.format]} ({imported.key_prefix}.* keys)"
    out = [
        Observation("config.file", imported.path, "config", read_as, imported.path),
        Observation("config.format", imported.format, "config", read_as, imported.path),
        Observation("config.key_prefix", imported.key_prefix, "config", read_as, imported.path),
    ]
    for name in _SWITCHES:
        value = getattr(imported, name)
        if value is not None:
            out.append(_from(f"config.{name}", value, imported.origins[name]))
    for fact, origins in (
        ("config.not_a_number", imported.not_a_number),
        ("config.not_boolean", imported.not_boolean),
        ("config.ignored_key", imported.ignored),
        ("config.trailing_space", imported.trailing_space),
    ):
        out.extend(_from(fact, origin.key, origin) for origin in origins)
    return out
