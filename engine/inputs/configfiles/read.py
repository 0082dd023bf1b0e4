"""Read a JavaMail or Spring Boot settings file into an Imported: each value with the key and file:line that set it."""

from __future__ import annotations

from pathlib import Path

from engine.inputs.configfiles import spring
from engine.inputs.configfiles.javamail import interpret, raws
from engine.inputs.configfiles.model import Imported
from engine.inputs.configfiles.properties import PropertiesError, parse_properties
from engine.inputs.errors import ConfigFileError

__all__ = ["ConfigFileError", "load_javamail", "load_settings_file", "load_spring"]

MAX_BYTES = 1_000_000  # a settings file is a few kilobytes; anything bigger is the wrong file
YAML_SUFFIXES = (".yml", ".yaml")


def _text(path: str) -> str:
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise ConfigFileError(path, 0, f"cannot read: {exc.strerror or exc}") from None
    if len(data) > MAX_BYTES:
        raise ConfigFileError(path, 1, f"larger than {MAX_BYTES} bytes; is this a settings file?")
    if b"\0" in data:
        raise ConfigFileError(
            path, data[: data.index(b"\0")].count(b"\n") + 1, "binary content (a NUL byte); expected a text file"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")  # java.util.Properties' own encoding: every byte is a character


def _entries(path: str, text: str) -> dict[str, spring.Raw]:
    try:
        return raws(parse_properties(text))
    except PropertiesError as exc:
        raise ConfigFileError(path, exc.line, exc.message) from None


def load_javamail(path: str) -> Imported:
    """A JavaMail / Jakarta Mail .properties file (mail.smtp.*, mail.smtps.*, mail.host...)."""
    props = _entries(path, _text(path))
    if not any(key.startswith("mail.") for key in props):
        if any(key.startswith(spring.PREFIX) for key in props):
            raise ConfigFileError(
                path, 1, "this is a Spring Boot file (spring.mail.* keys); give it with --spring-properties"
            )
        raise ConfigFileError(
            path,
            1,
            "no JavaMail settings (mail.smtp.*, mail.smtps.*, mail.host) found; is this the file the application "
            "loads?",
        )
    return interpret(props, path, "javamail", "mail.")


def load_spring(path: str) -> Imported:
    """Spring Boot spring.mail.* from application.properties or application.yml / .yaml."""
    text = _text(path)
    if Path(path).suffix.lower() in YAML_SUFFIXES:
        return spring.from_flat(spring.flatten_yaml(text, path), path)
    return spring.from_flat(_entries(path, text), path)


def load_settings_file(path: str) -> Imported:
    """Any supported file: YAML is Spring; properties with spring.mail.* keys are Spring, else JavaMail."""
    if Path(path).suffix.lower() in YAML_SUFFIXES:
        return load_spring(path)
    props = _entries(path, _text(path))
    if any(key.startswith(spring.PREFIX) for key in props):
        return spring.from_flat(props, path)
    return load_javamail(path)
