"""Compiled report templates are kept in the cache directory: a warm run compiles none, and a
cache that cannot be written or read only costs the compile."""

from __future__ import annotations

import re
from pathlib import Path

import jinja2
import pytest

from engine.cli.inputs import derive
from engine.decide.session import NoAsker
from engine.inputs.textinput import Block
from engine.knowledge.cache import cached_knowledge
from engine.redact import Redactor
from engine.report.build import build_report
from engine.report.render import render
from engine.run.pipeline import diagnose_text

TEXT = "java.net.UnknownHostException: smtp.example.invalid"
# What differs between two renderings of one report: the time and the case id made from it.
MOMENT = re.compile(r"MT-[0-9A-F]{8}|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)?")


def same(text: str) -> str:
    return MOMENT.sub("<moment>", text)


def report_of(kb, fmt: str) -> str:
    outcome = diagnose_text(kb, [Block.of_text(TEXT, "pasted")], NoAsker(), redact=Redactor())
    report = build_report(kb, outcome.session, outcome.target, outcome.probes, outcome.transcript)
    return render(kb, report, outcome.session, fmt, Redactor())


@pytest.fixture
def cache(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.setenv("MAILTRIAGE_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache" / "templates"


@pytest.mark.parametrize("fmt", ["text", "md", "html"])
def test_a_warm_run_renders_the_same_report_without_compiling_a_template(cache, monkeypatch, fmt):
    kb = cached_knowledge(derive=derive)  # as a run has it: every knowledge sentence has its plan
    cold = report_of(kb, fmt)
    assert list(cache.iterdir())

    def refuse(*args, **kwargs):
        raise AssertionError("a template was compiled although its compiled form was cached")

    monkeypatch.setattr(jinja2.Environment, "compile", refuse)
    assert same(report_of(kb, fmt)) == same(cold)


def test_a_damaged_cached_template_is_compiled_again(kb, cache):
    cold = report_of(kb, "md")
    for entry in cache.iterdir():
        entry.write_bytes(b"not bytecode")
    assert same(report_of(kb, "md")) == same(cold)


def test_a_cache_directory_that_cannot_be_made_costs_only_the_compile(kb, tmp_path: Path, monkeypatch):
    blocked = tmp_path / "a-file"
    blocked.write_text("in the way")
    monkeypatch.setenv("MAILTRIAGE_CACHE_DIR", str(blocked))
    assert "does not resolve" in report_of(kb, "text")
