"""Every JSON report a test makes is checked against the schema the package ships."""

from __future__ import annotations

import functools
import json
from typing import Any

import jsonschema
from referencing import Registry, Resource

from engine.report import schemas

KINDS = {"mailtriage.report/1": "report", "mailtriage.accounts/1": "accounts", "mailtriage.fleet/1": "fleet"}


@functools.cache
def validator(name: str) -> jsonschema.Draft202012Validator:
    shipped = {n: schemas.load(n) for n in schemas.names()}
    registry: Registry = Registry().with_resources(
        (schema["$id"], Resource.from_contents(schema)) for schema in shipped.values()
    )
    jsonschema.Draft202012Validator.check_schema(shipped[name])
    return jsonschema.Draft202012Validator(shipped[name], registry=registry, format_checker=jsonschema.FormatChecker())


def check_output(text: str) -> None:
    """Validate stdout that is a mailtriage JSON document; anything else is left alone."""
    try:
        data: Any = json.loads(text)
    except ValueError:
        return
    if isinstance(data, dict) and data.get("schema") in KINDS:
        validator(KINDS[data["schema"]]).validate(data)
