"""`mailtriage schema NAME` prints the JSON Schema the package ships for one JSON output."""

from __future__ import annotations

import json

import jsonschema

from engine.report import schemas


def test_each_shipped_schema_is_printed_as_shipped_and_is_a_valid_schema(cli):
    assert schemas.names() == ["accounts", "fleet", "report"]
    for name in schemas.names():
        result = cli("schema", name)
        assert result.code == 0 and result.err == ""
        printed = json.loads(result.out)
        assert printed == schemas.load(name)
        jsonschema.Draft202012Validator.check_schema(printed)


def test_the_schemas_name_the_contract_versions_they_describe():
    assert schemas.load("report")["properties"]["schema"] == {"const": "mailtriage.report/1"}
    assert schemas.load("accounts")["properties"]["schema"] == {"const": "mailtriage.accounts/1"}
    assert schemas.load("fleet")["properties"]["schema"] == {"const": "mailtriage.fleet/1"}


def test_an_unknown_schema_is_one_line_naming_the_known_ones_and_exit_2(cli):
    result = cli("schema", "fleets")
    assert result.code == 2 and result.out == ""
    assert result.err.strip() == "mailtriage: unknown schema 'fleets'; known schemas: accounts, fleet, report"
