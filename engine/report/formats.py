"""The report formats, and which one a file name asks for."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, get_args

Format = Literal["text", "md", "html", "json"]
FORMATS: tuple[Format, ...] = get_args(Format)
SUFFIX_FORMATS: dict[str, Format] = {".md": "md", ".html": "html", ".htm": "html", ".json": "json", ".txt": "text"}
EXTENSIONS: dict[Format, str] = {"text": "txt", "md": "md", "html": "html", "json": "json"}


def chosen(given: str | None, output: str | None = None, default: Format = "text") -> Format:
    """--format as given, else what --output's suffix implies (Markdown for an unknown one)."""
    for fmt in FORMATS:
        if fmt == given:
            return fmt
    if output:
        return SUFFIX_FORMATS.get(Path(output).suffix.lower(), "md")
    return default
