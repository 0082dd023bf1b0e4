"""Java .properties files as java.util.Properties reads them, keeping the line of every key."""

from __future__ import annotations

import re

from engine.values import frozen

_WHITESPACE = " \t\f"
_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "f": "\f"}
_NATURAL_LINES = re.compile(r"\r\n|\r|\n")


class PropertiesError(ValueError):
    """A line java.util.Properties would refuse, with its 1-based number."""

    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line = line
        self.message = message


@frozen
class Entry:
    """One key, its value, and the line where the key stands (a continued value starts there)."""

    key: str
    value: str
    line: int


def parse_properties(text: str) -> list[Entry]:
    """Every key = value in file order; a repeated key appears twice (the later one wins in Java)."""
    entries: list[Entry] = []
    lines = _NATURAL_LINES.split(text.removeprefix("\ufeff"))
    index = 0
    while index < len(lines):
        start = index
        logical = lines[index].lstrip(_WHITESPACE)
        index += 1
        if not logical or logical[0] in "#!":
            continue  # comments never continue onto the next line
        while _continues(logical) and index < len(lines):
            logical = logical[:-1] + lines[index].lstrip(_WHITESPACE)
            index += 1
        if _continues(logical):
            logical = logical[:-1]  # a backslash at the end of the file joins nothing
        entries.append(_entry(logical, start + 1))
    return entries


def _continues(line: str) -> bool:
    """An odd number of trailing backslashes: the last one escapes the line break."""
    return (len(line) - len(line.rstrip("\\"))) % 2 == 1


def _entry(logical: str, line: int) -> Entry:
    end = 0
    while end < len(logical):
        char = logical[end]
        if char == "\\":
            end += 2
            continue
        if char in "=:" or char in _WHITESPACE:
            break
        end += 1
    rest = logical[end:].lstrip(_WHITESPACE)
    if rest[:1] in ("=", ":"):
        rest = rest[1:].lstrip(_WHITESPACE)
    key = _unescape(logical[:end], line)
    try:
        return Entry(key, _unescape(rest, line), line)
    except PropertiesError as exc:
        raise PropertiesError(line, f"value of {key}: {exc.message}") from None


def _unescape(text: str, line: int) -> str:
    if "\\" not in text:
        return text
    out: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char != "\\" or i + 1 >= len(text):
            out.append(char)
            i += 1
            continue
        code = text[i + 1]
        if code == "u":
            digits = text[i + 2 : i + 6]
            if len(digits) != 4 or not all(c in "0123456789abcdefABCDEF" for c in digits):
                raise PropertiesError(
                    line, "malformed \\uXXXX escape: \\u needs four hex digits (write \\\\u for a backslash and u)"
                )
            out.append(chr(int(digits, 16)))
            i += 6
            continue
        out.append(_ESCAPES.get(code, code))  # any other escaped character stands for itself
        i += 2
    return "".join(out)
