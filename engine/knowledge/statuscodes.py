"""The status-code backbone: knowledge/status-codes.yaml as low-confidence rules, and meanings.

Each row with a finding becomes a rule of tier "backbone" that tests one reply: an enhanced
code row matches reply.enhanced; a basic code row matches reply.code (per stage where the row
says the stage matters) when the reply's enhanced code has no row of its own (and, for a row
that yields to policy, is no security or policy code X.7.*), since the enhanced code is the
more precise of the two.
"""

from __future__ import annotations

from collections.abc import Iterator

from engine.knowledge import schema as s
from engine.knowledge.model import Where

RULE_PREFIX = "status-"


def enhanced_codes(key: str, table: s.StatusCodesFile) -> list[str]:
    """The codes an enhanced row stands for: X.7.1 is 4.7.1 and 5.7.1, unless a class has its own row."""
    if not key.startswith("X."):
        return [key]
    rest = key.removeprefix("X")
    return [f"{cls}{rest}" for cls in "45" if f"{cls}{rest}" not in table.enhanced]


def _fact(name: str, **test: object) -> s.FactTest:
    return s.FactTest(fact=name, **test)  # type: ignore[arg-type]


def _reply(*parts: s.Condition) -> s.ReplyTest:
    return s.ReplyTest(reply=s.AllOf(all=list(parts)))


def backbone_rules(table: s.StatusCodesFile, where: Where) -> Iterator[tuple[s.RuleSpec, Where]]:
    """A rule for every row that names a finding, with the place of its row."""
    explained = sorted(
        {code for key, row in table.enhanced.items() if row.finding for code in enhanced_codes(key, table)}
    )
    for key, row in table.enhanced.items():
        if row.finding:
            test = _fact("reply.enhanced", one_of=enhanced_codes(key, table))
            yield _rule(f"{key}", row, row.finding, _reply(test), f"enhanced code {key}"), where.sub("enhanced", key)
    for key, row in table.basic.items():
        code = _fact("reply.code", equals=int(key))
        no_enhanced_row = s.NotOf(not_=_fact("reply.enhanced", one_of=explained))
        not_policy = [s.NotOf(not_=_fact("reply.enhanced", matches=r"^[45]\.7\."))]
        if not row.yields_to_policy:
            not_policy = []
        for stage, finding in row.stages.items():
            at_stage = _fact("reply.stage", equals=stage)
            when = _reply(code, at_stage, no_enhanced_row, *not_policy)
            rule = _rule(f"{key}-{stage}", row, finding, when, f"{key} at {stage}")
            yield rule, where.sub("basic", key, "stages", stage)
        if row.finding:
            elsewhere = s.NotOf(not_=_fact("reply.stage", one_of=list(row.stages)))
            parts: list[s.Condition] = [code, no_enhanced_row, *not_policy, *([elsewhere] if row.stages else [])]
            yield _rule(key, row, row.finding, _reply(*parts), f"reply code {key}"), where.sub("basic", key)


def _rule(ident: str, row: s.StatusRow, finding: str, when: s.ReplyTest, what: str) -> s.RuleSpec:
    return s.RuleSpec(
        id=f"{RULE_PREFIX}{ident}",
        description=f"By the standards, {what} means {row.meaning}.",
        finding=finding,
        confidence="low",
        tier="backbone",
        contact=row.contact,
        when=when,
    )


def meaning(table: s.StatusCodesFile, code: int | None, enhanced: str | None) -> str | None:
    """What a reply's codes mean, most precise first: enhanced row, basic row, subject, class."""
    parts = []
    if enhanced:
        cls, subject, detail = enhanced.split(".")
        row = table.enhanced.get(enhanced) or table.enhanced.get(f"X.{subject}.{detail}")
        if row is not None:
            parts.append(f"{enhanced}: {row.meaning}")
        elif subject in table.subjects:
            parts.append(f"{enhanced}: {table.subjects[subject]}")
    if code is not None:
        basic = table.basic.get(str(code))
        if basic is not None:
            parts.append(f"{code}: {basic.meaning}")
    cls = str(code)[0] if code is not None else (enhanced or "")[:1]
    if cls in table.classes:
        parts.append(f"{cls}xx: {table.classes[cls]}")
    return "; ".join(parts) or None
