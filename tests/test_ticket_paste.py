"""The ticket pastes cleanly: GitHub and Jira Cloud render its Markdown, ServiceNow and an email
show it as plain text. So no raw HTML (shown as tags where Markdown is not rendered), tables
whose every row has the header's cells, and server text that cannot escape its code block,
split a table row or bring terminal control codes along."""

from __future__ import annotations

import re

import pytest
from markdown_it import MarkdownIt

from engine import lab
from engine.lab.scenarios import Scenario, Smtp

# What a hostile or careless server may put in a reply: HTML, table pipes, backticks, Markdown
# emphasis and links, a heading marker and a terminal escape sequence.
HOSTILE = "<b>no</b> | pipe ``` fence `tick` *star* _under_ [link](http://x.invalid) # not a heading \x1b[31mred"
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


@pytest.fixture(scope="module")
def hostile_ticket(tmp_path_factory):
    scenario = Scenario(
        "hostile-text",
        "refuses RCPT with text full of Markdown and HTML",
        "recipient.rejected",
        "starttls",
        Smtp(greeting=f"ESMTP {HOSTILE}", rcpt_refusal=f"550 5.1.1 <{{address}}>: {HOSTILE}"),
    )
    return scenario


def diagnose_md(cli, server, *extra):
    return cli(
        "diagnose",
        "--host", "127.0.0.1",
        "--port", str(server.port),
        "--security", "starttls",
        "--cafile", str(server.cafile),
        "--from", "app|user`1@example.com",
        "--to", "someone@example.org",
        "--timeout", "2",
        "--non-interactive",
        "--format", "md",
        *extra,
    )  # fmt: skip


@pytest.fixture(scope="module", params=["probed", "pasted"])
def ticket(request, cli, hostile_ticket, tmp_path_factory):
    """The same hostile text met by a probe, and pasted from an application's log."""
    if request.param == "probed":
        with lab.start(hostile_ticket) as server:
            result = diagnose_md(cli, server)
    else:
        log = tmp_path_factory.mktemp("pasted") / "app.log"
        log.write_text(f"com.sun.mail.smtp.SMTPAddressFailedException: 550 5.1.1 <someone@example.org>: {HOSTILE}\n")
        result = cli("analyze-log", str(log), "--non-interactive", "--format", "md")
    assert result.code == 1, result.err
    return result.out


def tokens(text):
    return MarkdownIt("commonmark").enable("table").parse(text)


def test_the_ticket_holds_no_raw_html_that_a_plain_text_tracker_would_show_as_tags(ticket):
    html = [t for t in tokens(ticket) if t.type == "html_block"]
    inline = [c for t in tokens(ticket) if t.type == "inline" for c in t.children or [] if c.type == "html_inline"]
    assert html == [] and inline == [], (html, inline)


def test_every_value_stays_in_its_own_table_cell(ticket):
    tables = 0
    cells: list[int] = []
    for token in tokens(ticket):
        if token.type == "table_open":
            tables, cells = tables + 1, []
        elif token.type == "tr_open":
            cells.append(0)
        elif token.type in ("th_open", "td_open"):
            cells[-1] += 1
        elif token.type == "table_close":
            assert len(set(cells)) == 1, cells
    assert tables >= 2  # settings and environment; probes too when probed
    # A pipe in a value stays inside its cell: GFM drops cells beyond the header's silently, so
    # the whole value must be found in one cell.
    rendered = MarkdownIt("commonmark").enable("table").render(ticket)
    cells_text = re.findall(r"<td>(.*?)</td>", rendered, re.DOTALL)
    if "pasted text only" not in ticket:
        assert "<code>app|user`1@example.com</code>" in cells_text
        assert any("pipe" in c and "not a heading" in c for c in cells_text)


def test_server_text_stays_inside_code_verbatim_and_never_becomes_markup(ticket):
    code = [t.content for t in tokens(ticket) if t.type in ("fence", "code_block")]
    shown = HOSTILE.replace("\x1b", "\\x1b")  # the probe writes control codes as escapes
    assert any(shown in block for block in code)
    rendered = MarkdownIt("commonmark").enable("table").render(ticket)
    assert "<b>no</b>" not in rendered  # escaped wherever it shows: &lt;b&gt;
    assert '<a href="http://x.invalid"' not in rendered
    headings = [t for t in tokens(ticket) if t.type == "heading_open"]
    heading_text = [tokens(ticket)[i + 1].content for i, t in enumerate(tokens(ticket)) if t.type == "heading_open"]
    assert len(headings) == len(heading_text) and not any("not a heading" in h for h in heading_text)


def test_the_ticket_carries_no_terminal_control_codes(ticket):
    assert not CONTROL.search(ticket), repr(CONTROL.search(ticket).group())
