"""The --session file: answers kept between runs, plus what the last run found (no secrets)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the CLI imports this module for its error before any probe is needed
    from engine.redact import Redactor
    from engine.run.pipeline import Outcome

SCHEMA = "mailtriage.session/1"


class SessionFileError(Exception):
    """A session file that cannot be read or written; the message names it."""


def load_answers(path: str) -> dict[str, Any]:
    """Answers saved by an earlier run; none when the file does not exist yet."""
    if not Path(path).exists():
        return {}
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SessionFileError(f"cannot read session file {path}: {exc}") from None
    answers = data.get("answers") if isinstance(data, dict) else None
    if not isinstance(answers, dict):
        raise SessionFileError(f"{path}: not a mailtriage session file (no 'answers' mapping)")
    return {k: v for k, v in answers.items() if v is not None}


def save(path: str, outcome: Outcome, redact: Redactor) -> None:
    from engine.redact import scrub

    data = {
        "schema": SCHEMA,
        "target": outcome.target,
        "answers": {q.question.id: q.answer for q in outcome.session.questions},
        "findings": [c.finding for c in outcome.session.inference.findings],
        "facts": [{"name": o.name, "value": o.value, "source": o.source} for o in outcome.session.facts.items],
    }
    try:
        Path(path).write_text(json.dumps(scrub(data, redact), indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise SessionFileError(f"cannot write session file {path}: {exc.strerror or exc}") from None
