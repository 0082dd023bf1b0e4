"""The one-walk report writer gives the very text json.dumps gives for the scrubbed dump, on real reports."""

from __future__ import annotations

import json
import math

import pytest

from engine.decide.session import NoAsker
from engine.inputs.textinput import Block
from engine.redact import Redactor, scrub
from engine.report.build import build_report
from engine.report.jsontext import Unwritable, json_text
from engine.report.model import FactOut, Report, Target, dump
from engine.report.render import report_json
from engine.run.pipeline import diagnose_text


def three_walks(report: Report, redact: Redactor) -> str:
    return json.dumps(scrub(dump(report), redact), indent=2, ensure_ascii=False)


def report_of(kb, text: str) -> Report:
    outcome = diagnose_text(kb, [Block.of_text(text, "pasted")], NoAsker(), redact=Redactor())
    return build_report(kb, outcome.session, outcome.target, outcome.probes, outcome.transcript)


def bare_report(**changes) -> Report:
    target = Target(host="smtp.example.com", port=587, security="starttls", user=None, from_=None, to=None)
    fields = dict(generated_at="2026-12-05T00:00:00+00:00", target=target, findings=[], facts=[], questions=[])
    return Report(**{**fields, "probes": [], "transcript": [], **changes})


def test_every_corpus_text_s_report_is_written_as_json_dumps_writes_it(kb):
    texts = [sc.text for sc in kb.scenarios.values() if sc.id.startswith("corpus-") and sc.text]
    assert len(texts) >= 400
    memo: dict[str, str] = {}  # shared, as a batch shares it
    redact = Redactor.for_credentials("app@example.com", "hunter2-secret")
    for text in texts:
        report = report_of(kb, text + "\nAUTH PLAIN hunter2-secret")
        assert json_text(report, redact, memo) == three_walks(report, redact), text


def test_secrets_are_redacted_and_control_characters_and_unicode_kept_as_json_dumps_keeps_them():
    facts = [
        FactOut(name="smtp.reply", value="535 5.7.8 bad password s3cr3t-pass \x1b[2J ünïcødé ✉ \u2028", source="probe"),
        FactOut(name="tcp.connect_ms", value=1.5, source="probe"),
        FactOut(name="smtp.code", value=535, source="probe"),
        FactOut(name="tls.ok", value=True, source="probe"),
        FactOut(name="tls.expired", value=False, source="probe"),
    ]
    report = bare_report(facts=facts, transcript=['C: AUTH PLAIN czNjcjN0LXBhc3M="quoted"\\'])
    redact = Redactor.for_credentials("app@example.com", "s3cr3t-pass")

    text = json_text(report, redact, {})

    assert text == three_walks(report, redact)
    assert "s3cr3t-pass" not in text
    assert json.loads(text)["facts"][0]["value"].startswith("535 5.7.8 bad password <redacted>")


def test_a_value_json_dumps_spells_its_own_way_is_refused_and_report_json_still_writes_it():
    report = bare_report(facts=[FactOut(name="smtp.size", value=math.inf, source="probe")])

    with pytest.raises(Unwritable):
        json_text(report, Redactor(), {})
    assert report_json(report, Redactor()) == three_walks(report, Redactor())
    assert '"value": Infinity' in report_json(report, Redactor())


def test_a_memo_shared_by_two_reports_gives_each_its_own_text():
    memo: dict[str, str] = {}
    first = bare_report(transcript=["S: 220 one"])
    second = bare_report(transcript=["S: 220 two", "S: 220 one"])

    assert json_text(first, Redactor(), memo) == three_walks(first, Redactor())
    assert json_text(second, Redactor(), memo) == three_walks(second, Redactor())
