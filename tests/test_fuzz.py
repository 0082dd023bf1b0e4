"""Fuzzing the readers and renderers with hypothesis, within a bounded budget: whatever a knowledge
file, a log, a server or a settings file holds, mailtriage answers with a finding or one clear
problem at file:line, never a traceback.

The budget is the number of examples per property (FUZZ_EXAMPLES, default 100); set it higher to
fuzz longer on a machine of your own.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import tempfile
import textwrap
from pathlib import Path

import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from engine.cli.main import Environment, main
from engine.inputs.configfiles.model import ConfigFileError
from engine.inputs.configfiles.read import load_settings_file
from engine.inputs.textinput import Block
from engine.knowledge.load import load_knowledge
from engine.knowledge.model import KnowledgeInvalid
from engine.probes.dial import dial
from engine.probes.wire import Transcript, Wire, WireError
from engine.text.signatures import mine

BUDGET = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "100")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Values YAML can hold, nested: what a person might type in a knowledge file by mistake.
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20))
keys = st.sampled_from(
    ["id", "description", "finding", "when", "fact", "equals", "all", "any", "not", "reply", "confidence", "fix"]
) | st.text(min_size=1, max_size=8)
shapes = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=5), max_leaves=20
)

BASE_FACTS = "facts:\n  tcp.connect:\n    type: str\n    description: outcome of the TCP connection\n"
BASE_FINDINGS = textwrap.dedent(
    """
    findings:
      network.connection_refused:
        title: refused
        severity: error
        contact: network_admin
        summary: s
        why: w
        fix: [f]
        step: 2
    """
)


def knowledge_dirs() -> tuple[Path, Path]:
    base, layer = Path(tempfile.mkdtemp()), Path(tempfile.mkdtemp())
    (base / "facts.yaml").write_text(BASE_FACTS)
    (base / "findings.yaml").write_text(BASE_FINDINGS)
    (layer / "rules" / "fuzz").mkdir(parents=True)
    return base, layer


@BUDGET
@given(shape=shapes)
@example(shape={"<any>": None})  # a key spelled like a condition union's tag: once an IndexError
def test_any_shape_of_rule_file_loads_or_names_its_problems_at_file_and_line(shape):
    base, layer = knowledge_dirs()
    rule = layer / "rules" / "fuzz" / "r.yaml"
    rule.write_text(yaml.safe_dump(shape, allow_unicode=True))
    try:
        load_knowledge([layer], base=base)
    except KnowledgeInvalid as exc:
        assert exc.problems
        for problem in exc.problems:
            assert problem.path.is_file() and problem.line >= 1 and problem.message.strip(), problem


@BUDGET
@given(data=st.binary(max_size=3000) | st.text(max_size=600).map(lambda t: t.encode("utf-8", "surrogatepass")))
def test_any_bytes_as_a_log_give_facts_or_nothing(kb, data):
    found = mine(kb, [Block(data, "fuzz.log", 1, data.count(b"\n") + 1)])
    assert found.lines_read >= 1 and 0 <= found.lines_matched <= found.lines_read
    assert all(o.name for o in found.observations)


def replies_from(payload: bytes) -> list[object]:
    """What the probe's reply reader makes of a real loopback server that sends `payload` and closes."""

    async def serve(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(payload)
        await writer.drain()
        writer.close()

    async def run() -> list[object]:
        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        wire, out = Wire(await dial("127.0.0.1", port, 2.0), Transcript()), []
        deadline = asyncio.get_running_loop().time() + 2.0
        try:
            while True:
                out.append(await wire.reply(deadline))
        except WireError as exc:
            out.append(exc)
        finally:
            await wire.close()
            server.close()
            await server.wait_closed()
        return out

    return asyncio.run(run())


smtp_like = st.lists(
    st.tuples(st.sampled_from(["220", "250", "421", "535", "550", "999", "2x0", ""]), st.sampled_from([" ", "-", ""]))
    .map("".join)
    .flatmap(lambda head: st.text(max_size=60).map(lambda tail: f"{head}{tail}\r\n")),
    max_size=6,
).map(lambda lines: "".join(lines).encode("utf-8", "surrogatepass"))


@BUDGET
@given(payload=st.binary(max_size=5000) | smtp_like)
def test_any_bytes_from_a_server_are_replies_then_one_clear_wire_error(payload):
    results = replies_from(payload)
    *replies, last = results
    assert isinstance(last, WireError) and last.kind in (
        "timeout",
        "closed",
        "truncated",
        "line_too_long",
        "endless_reply",
        "garbage",
    )
    assert all(200 <= r.code <= 599 for r in replies)  # type: ignore[attr-defined]


@BUDGET
@given(
    text=st.text(max_size=400),
    suffix=st.sampled_from([".properties", ".yml", ".yaml"]),
)
def test_any_settings_file_is_read_or_refused_at_a_line(text, suffix):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"mail{suffix}"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        try:
            load_settings_file(str(path))
        except ConfigFileError as exc:
            assert exc.line >= 0 and str(exc).strip()


markdownish = st.text(alphabet=st.sampled_from([*"<>|`*_[]()#!&;:/\\\"' \tab12", "\n"]), max_size=80)


def element_names(page: str) -> set[str]:
    import html5lib

    return {el.tag.rsplit("}", 1)[-1] for el in html5lib.parse(page).iter() if isinstance(el.tag, str)}


@BUDGET
@given(words=markdownish)
def test_server_words_never_become_markup_in_the_ticket_or_html(kb, words):
    from tests.test_report import from_text, rendered

    outcome = from_text(kb, f"javax.mail.AuthenticationFailedException: 535 5.7.8 {words}")
    ticket = rendered(kb, outcome, "md")
    tokens = MarkdownIt("commonmark").enable("table").parse(ticket)
    assert not [t for t in tokens if t.type == "html_block"]
    inline = [
        c for t in tokens if t.type == "inline" for c in t.children or [] if c.type in ("html_inline", "link_open")
    ]
    assert not inline, inline
    # The HTML report holds no element the same report of plain words does not.
    plain = element_names(rendered(kb, from_text(kb, "javax.mail.AuthenticationFailedException: 535 5.7.8 x"), "html"))
    assert element_names(rendered(kb, outcome, "html")) <= plain


# A profile a person might write: TOML-ish lines with the keys a profile knows, some nonsense.
profile_lines = st.lists(
    st.one_of(
        st.sampled_from(["[defaults]", "[[accounts]]", "[accounts]", "[[nope]]", ""]),
        st.tuples(
            st.sampled_from(["name", "host", "port", "security", "user", "from", "to", "password_env", "hots"]),
            st.sampled_from(['"a"', "587", "0", "70000", '"ssl"', '"weird"', "true", "[1, 2]", '"x', "= ="]),
        ).map(lambda kv: f"{kv[0]} = {kv[1]}"),
        st.text(max_size=20),
    ),
    max_size=12,
).map("\n".join)


@BUDGET
@given(text=profile_lines)
def test_any_profile_is_read_or_refused_in_one_line_at_its_place(text):
    from engine.inputs.profile import ProfileError, load_profile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "accounts.toml"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        try:
            load_profile(str(path))
        except ProfileError as exc:
            message = str(exc)
            assert "\n" not in message and (message.startswith(f"{path}:") or message.startswith("cannot read"))


# What a node report might hold after a person edited it, or a tool cut it: any shape under the keys.
report_keys = st.sampled_from(
    [
        "schema",
        "tool",
        "version",
        "generated_at",
        "target",
        "host",
        "port",
        "user",
        "findings",
        "id",
        "severity",
        "title",
        "contact",
        "evidence",
        "facts",
        "name",
        "value",
        "accounts",
        "report",
    ]
)
report_shapes = st.recursive(
    scalars | st.sampled_from(["mailtriage.report/1", "mailtriage.accounts/1", "error", "probe.hostname"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(report_keys, inner, max_size=6),
    max_leaves=25,
)


@BUDGET
@given(documents=st.lists(report_shapes, min_size=1, max_size=3), cut=st.integers(min_value=0, max_value=400))
def test_any_json_given_to_merge_is_merged_or_refused_in_one_line(kb, documents, cut):
    text = "\n".join(json.dumps(document) for document in documents)
    for given_text in (text, text[:cut]):
        out, err = io.StringIO(), io.StringIO()
        env = Environment(stdin=io.StringIO(given_text), stdout=out, stderr=err)
        code = main(["merge", "-", "--format", "md"], env)
        assert code in (0, 1, 2), err.getvalue()
        assert "Traceback" not in err.getvalue() and "internal error" not in err.getvalue()
        if code == 2:
            assert out.getvalue() == ""
