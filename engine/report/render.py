"""Render a report through its Jinja template, or as JSON, and redact on the way out."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.decide.session import SessionResult
from engine.knowledge.model import Knowledge
from engine.redact import Redactor, scrub
from engine.report.formats import Format
from engine.report.jsontext import Unwritable, json_text
from engine.report.labels import CONTACTS, CONTACTS_SHORT
from engine.report.model import Report, dump
from engine.report.view import view

if TYPE_CHECKING:
    import jinja2

TEMPLATES: dict[str, str] = {"text": "summary.txt.j2", "md": "ticket.md.j2", "html": "report.html.j2"}


def reports_root() -> Path:
    packaged = Path(__file__).resolve().parent.parent / "_data" / "reports"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent.parent / "reports"


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """'1 line', '3 lines': a count with its noun, for the templates."""
    return f"{count} {singular if count == 1 else plural_form or singular + 's'}"


def fence(lines: object) -> str:
    """A Markdown code fence longer than any run of backticks in the text it encloses, so server
    text or a pasted log can never close the block early (CommonMark)."""
    texts = [lines] if isinstance(lines, str) else [str(line) for line in lines]  # type: ignore[attr-defined]
    return "`" * max(3, _longest_backticks(texts) + 1)


def _longest_backticks(texts: list[str]) -> int:
    return max((len(run) for text in texts for run in re.findall(r"`+", text)), default=0)


def code(value: object) -> str:
    """A Markdown code span that holds any text: delimited by more backticks than any run
    inside, padded where the text starts or ends with one (CommonMark 6.1)."""
    text = " ".join(str(value).splitlines())
    ticks = "`" * (_longest_backticks([text]) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


_CODE_SPAN = re.compile(r"(`+).+?(?<!`)\1(?!`)", re.DOTALL)
# A '<' that would open an HTML tag, comment or autolink, and the '](' that closes a link's text:
# server text must not become markup that a tracker hides or a link a reader follows.
_MARKUP = re.compile(r"<(?=[A-Za-z/!?])|\](?=\()")


def prose(value: object) -> str:
    """Running Markdown text that may carry server or pasted text: what would become HTML or a
    link is backslash-escaped, outside the code spans the knowledge wrote."""
    text, out, last = str(value), [], 0
    for span in _CODE_SPAN.finditer(text):
        out.append(_MARKUP.sub(lambda m: "\\" + m.group(), text[last : span.start()]))
        out.append(span.group())
        last = span.end()
    out.append(_MARKUP.sub(lambda m: "\\" + m.group(), text[last:]))
    return "".join(out)


def cell(value: object) -> str:
    """Text for one Markdown table cell: a pipe would end the cell and a line break the row."""
    return " ".join(str(value).splitlines()).replace("|", "\\|")


def environment(html: bool) -> jinja2.Environment:
    import jinja2  # the templates only: JSON needs none

    from engine.report.templatecache import bytecode_cache

    env = jinja2.Environment(
        bytecode_cache=bytecode_cache(),
        loader=jinja2.FileSystemLoader(str(reports_root())),
        autoescape=html,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["plural"] = plural
    env.globals["fence"] = fence
    env.globals["code"] = code
    env.filters["cell"] = cell
    env.filters["prose"] = prose
    env.globals["contacts"] = CONTACTS
    env.globals["contacts_short"] = CONTACTS_SHORT
    return env


def render(kb: Knowledge, report: Report, session: SessionResult, fmt: Format, redact: Redactor) -> str:
    if fmt == "json":
        return report_json(report, redact) + "\n"
    return through_template(TEMPLATES[fmt], fmt == "html", view(kb, report, session), redact)


def as_json(data: Any, redact: Redactor) -> str:
    """A JSON document (report, accounts summary, fleet) as the CLI writes it, secrets scrubbed."""
    return encoded(scrub(data, redact)) + "\n"


def report_json(report: Report, redact: Redactor, memo: dict[str, str] | None = None) -> str:
    """One report as JSON, secrets scrubbed, without the final newline: a file's text, or a
    fragment that an accounts summary nests as it is (see engine/report/accounts.py).

    memo: each text's JSON form, shared by the reports of one batch, whose texts repeat.
    """
    try:
        return json_text(report, redact, {} if memo is None else memo)
    except Unwritable:
        return encoded(scrub(dump(report), redact))


def encoded(data: Any) -> str:
    """Data already scrubbed, in the layout every JSON output uses."""
    return json.dumps(data, indent=2, ensure_ascii=False)


def through_template(name: str, html: bool, context: dict[str, Any], redact: Redactor) -> str:
    """One of reports/*.j2 filled with context, secrets scrubbed from what goes in and what comes out."""
    text = environment(html).get_template(name).render(**scrub(context, redact, clean=True))
    # Last line of defence on the finished text; in HTML the marker must be escaped as well.
    return redact(text, "&lt;redacted&gt;" if html else "<redacted>")
