"""What each SMTP reply seen means by the standards: a reply.meaning fact for every reply."""

from __future__ import annotations

from dataclasses import replace

from engine.facts import FactSet, Observation
from engine.knowledge.model import Knowledge
from engine.knowledge.statuscodes import meaning


def meanings(kb: Knowledge, facts: FactSet) -> list[Observation]:
    """reply.meaning for each reply that has none yet, in the reply's own group."""
    if kb.status_codes is None:
        return []
    out = []
    for group in facts.reply_groups():
        if any(o.name == "reply.meaning" for o in group):
            continue
        fields = {o.name: o.value for o in reversed(group)}
        code, enhanced = fields.get("reply.code"), fields.get("reply.enhanced")
        text = meaning(
            kb.status_codes,
            code if isinstance(code, int) and not isinstance(code, bool) else None,
            enhanced if isinstance(enhanced, str) and enhanced.count(".") == 2 else None,
        )
        if text is not None:
            out.append(replace(group[0], name="reply.meaning", value=text))
    return out
