"""Every fact a collector emits is declared in knowledge/facts.yaml, with a value of its type.

Rules test facts by name and value only, so a collector that emits an undeclared name, or a
number where the declaration says text, silently reaches no rule. These tests run the real
collectors (probes against every lab scenario, settings files, the Postfix queue reader, pasted
text through every signature) and check what they emitted against the declarations.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from engine import lab
from engine.facts import Observation
from engine.inputs.configfiles.read import load_javamail, load_spring
from engine.inputs.settings import AccountSettings, layered
from engine.knowledge.model import Knowledge
from engine.probes.postfix_queue import parse_postqueue, queue_observations
from engine.text.signatures import mine_snippets
from tests.test_lab_diagnosis import NO_CREDENTIALS, diagnose_args

TYPES = {"str": (str,), "int": (int,), "float": (int, float), "bool": (bool,)}
DATA = Path(__file__).parent / "data"


def undeclared(kb: Knowledge, facts: list[tuple[str, object]]) -> list[str]:
    problems = []
    for name, value in facts:
        spec = kb.fact_spec(name)
        if spec is None:
            problems.append(f"{name} is not declared")
        elif (isinstance(value, bool) and spec.type != "bool") or not isinstance(value, TYPES[spec.type]):
            problems.append(f"{name} = {value!r} is {type(value).__name__}, declared {spec.type}")
        elif spec.choices is not None and isinstance(value, str) and value not in spec.choices:
            problems.append(f"{name} = {value!r} is not one of its choices {spec.choices}")
    return sorted(set(problems))


def pairs(observations: list[Observation]) -> list[tuple[str, object]]:
    return [(o.name, o.value) for o in observations]


@pytest.mark.parametrize("name", sorted(lab.SCENARIOS))
def test_the_probes_emit_only_declared_facts_against_every_lab_scenario(cli, kb, name):
    with lab.start(name) as server:
        environ = {} if name in NO_CREDENTIALS else {"LAB_PASSWORD": lab.LAB_PASSWORD}
        result = cli(*diagnose_args(server, name), environ=environ)
    facts = [(f["name"], f["value"]) for f in json.loads(result.out)["facts"]]
    assert any(n.startswith("tcp.") for n, _ in facts)
    assert undeclared(kb, facts) == []


def test_settings_from_flags_and_files_emit_only_declared_facts(kb, tmp_path):
    properties = tmp_path / "mail.properties"
    properties.write_text(
        "mail.smtp.host=smtp.example.com\nmail.smtp.port=587\nmail.smtp.auth=true\nmail.smtp.user=app@example.com\n"
        "mail.smtp.starttls.enable=yes\nmail.smtp.ssl.trust=*\nmail.smtp.timeout=30 \nmail.smtp.connectiontimeout=abc\n"
        "mail.smtps.host=ignored.example.com\nmail.from=App <app@other.example>\n"
    )
    spring = tmp_path / "application.yml"
    spring.write_text("spring:\n  mail:\n    host: smtp.example.com\n    port: 465\n    username: a@example.com\n")
    facts = []
    for imported in (load_javamail(str(properties)), load_spring(str(spring))):
        fields = layered(imported, {"host": None, "port": 2525, "security": None, "user": None, "from_addr": None})
        facts += pairs(AccountSettings(**fields, to_addr="someone@example.com").observations())
    facts += pairs(AccountSettings(host="192.0.2.1", port=70000, user="u@example.com").observations())
    assert {n for n, _ in facts} >= {"config.port_set_by", "config.host", "config.from_domain_matches_user"}
    assert undeclared(kb, facts) == []


def test_the_postfix_queue_reader_emits_only_declared_facts(kb):
    listing = parse_postqueue((DATA / "postqueue-deferred-and-held.jsonl").read_text())
    for down in (False, True):
        facts = pairs(queue_observations(listing, down, time.time(), "postqueue -j"))
        assert any(n == "queue.postfix_deferred" for n, _ in facts)
        assert undeclared(kb, facts) == []


def test_every_signature_example_yields_only_declared_facts_of_their_types(kb):
    snippets = [(f"{ident}:match", example) for ident, sig in kb.signatures.items() for example in sig.examples.match]
    facts = pairs(mine_snippets(kb, snippets))
    assert len({n for n, _ in facts}) > 20
    assert undeclared(kb, facts) == []
