"""Spring Boot's spring.mail.* from application.properties or application.yml, as JavaMail sees them."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from engine.inputs.configfiles.javamail import Raw, interpret
from engine.inputs.configfiles.model import ConfigFileError, Imported

if TYPE_CHECKING:  # YAML is read only for application.yml; the other commands never load it
    import yaml

PREFIX = "spring.mail."
PROPERTIES = "spring.mail.properties."
# spring.mail.* that Spring hands to Transport.connect(); everything else goes through properties.
_EXPLICIT = {"host": "host", "port": "port", "username": "user", "password": "password", "protocol": "protocol"}
# ${NAME} or ${NAME:default}: resolved by Spring at run time; only a default is knowable here.
_PLACEHOLDER = re.compile(r"^\$\{[^}:]+(?::(?P<default>[^}]*))?\}$")
_BRACKETS = re.compile(r"\[([^\]]*)\]")
_PROFILE_KEYS = ("spring.config.activate.on-profile", "spring.profiles")


def from_flat(flat: dict[str, Raw], path: str) -> Imported:
    """spring.mail.* keys (relaxed: dashes and case ignored) -> the JavaMail transport they configure."""
    explicit: dict[str, Raw] = {}
    props: dict[str, Raw] = {}
    for written, raw in flat.items():
        key = _BRACKETS.sub(r".\1", written)  # spring.mail.properties[mail.smtp.auth] -> ...properties.mail.smtp.auth
        resolved = _resolved(raw)
        if resolved is None:
            continue
        if key.startswith(PROPERTIES):
            props[key.removeprefix(PROPERTIES)] = resolved
            continue
        name = key.removeprefix(PREFIX).replace("-", "").lower()
        if key.startswith(PREFIX) and name in _EXPLICIT:
            explicit[_EXPLICIT[name]] = resolved
    if not any(key.startswith(PREFIX) for key in flat):
        raise ConfigFileError(path, 1, "no spring.mail.* settings found; is this the file the application loads?")
    return interpret(props, path, "spring", "spring.mail.properties.mail.", explicit)


def _resolved(raw: Raw) -> Raw | None:
    """A placeholder's default, or None when only the running application can resolve it."""
    match = _PLACEHOLDER.match(raw.value.strip())
    if match is None:
        return raw
    default = match.group("default")
    return None if default is None else Raw(default, raw.key, raw.line)


def flatten_yaml(text: str, path: str) -> dict[str, Raw]:
    """Every scalar leaf as a dotted key with the line of its key; later documents win.

    Documents that apply only to a named profile are skipped: without the profile, Spring does too.
    """
    import yaml

    from engine.knowledge.yamlfile import Loader, error_line

    flat: dict[str, Raw] = {}
    try:
        for node in yaml.compose_all(text, Loader=Loader):
            if node is None:
                continue
            if not isinstance(node, yaml.MappingNode):
                raise ConfigFileError(
                    path, node.start_mark.line + 1, "a Spring configuration file must be a mapping of keys"
                )
            document: dict[str, Raw] = {}
            _walk(node, "", document, path)
            if not any(k in document for k in _PROFILE_KEYS):
                flat.update(document)
    except yaml.MarkedYAMLError as exc:
        raise ConfigFileError(
            path, error_line(exc, text), f"YAML syntax: {exc.problem or exc.context or 'invalid YAML'}"
        ) from None
    except yaml.YAMLError as exc:
        raise ConfigFileError(path, 1, f"YAML syntax: {exc}") from None
    return flat


def _walk(node: yaml.Node, prefix: str, out: dict[str, Raw], path: str) -> None:
    import yaml

    for key_node, value in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            raise ConfigFileError(path, key_node.start_mark.line + 1, "a key must be plain text")
        # Spring's bracket notation keeps dots inside one map key: "[mail.smtp.auth]".
        key = prefix + key_node.value.strip("[]")
        if isinstance(value, yaml.MappingNode):
            _walk(value, key + ".", out, path)
        elif isinstance(value, yaml.ScalarNode):
            text = _scalar(value)
            if text is not None:
                out[key] = Raw(text, key, key_node.start_mark.line + 1)
        elif key.startswith(PREFIX):
            raise ConfigFileError(path, key_node.start_mark.line + 1, f"{key} must be a single value, not a list")


def _scalar(node: yaml.ScalarNode) -> str | None:
    """The value as Spring passes it on: YAML 1.1 booleans (yes, on) become true/false."""
    import yaml

    if node.tag == "tag:yaml.org,2002:null":
        return None
    if node.tag == "tag:yaml.org,2002:bool":
        return "true" if yaml.constructor.SafeConstructor.bool_values[node.value.lower()] else "false"
    return node.value
