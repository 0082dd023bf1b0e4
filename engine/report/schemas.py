"""The JSON Schemas of what mailtriage writes as JSON, shipped in the package (engine/schemas/)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"


def names() -> list[str]:
    return sorted(path.stem for path in SCHEMAS.glob("*.json"))


def text(name: str) -> str:
    """The schema as shipped; KeyError names the schemas there are."""
    path = SCHEMAS / f"{name}.json"
    if name not in names():
        raise KeyError(f"unknown schema {name!r}; known schemas: {', '.join(names())}")
    return path.read_text(encoding="utf-8")


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(text(name))
    return data
