"""The guided loop: infer, ask what is worth asking, declare the answer, infer again."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import field
from typing import Protocol

from engine.decide.inference import UNKNOWN, Inference, infer
from engine.facts import FactSet, FactValue, Observation
from engine.knowledge import schema as s
from engine.knowledge.model import Knowledge, did_you_mean
from engine.text.replies import meanings
from engine.values import frozen, record


class AnswerError(ValueError):
    """An answer that does not fit its question."""


class Back:
    """What an asker returns to change its previous answer instead of answering this question."""


BACK = Back()


@frozen
class Consequence:
    """What one answer would change in the conclusion: findings confirmed, ruled out, re-routed."""

    answer: str
    confirms: list[str]
    rules_out: list[str]
    reroutes: list[tuple[str, str, str]]  # (finding, contact now, contact after)
    opens: list[str] = field(default_factory=list)  # questions it would make worth asking

    @property
    def changes_anything(self) -> bool:
        return bool(self.confirms or self.rules_out or self.reroutes or self.opens)


@record
class AskContext:
    """What a person at a question may also ask for: why it matters, and a way back."""

    consequences: Callable[[], list[Consequence]]
    can_go_back: bool = False


class Asker(Protocol):
    # A person answers: ask only what some answer would change (the session works that out).
    only_useful: bool

    def ask(self, question: s.QuestionSpec, context: AskContext | None = None) -> FactValue | Back | None:
        """The answer, BACK, or None when nobody can answer now (the question stays open)."""


class NoAsker:
    """--non-interactive: never prompts; open questions are reported as unanswered."""

    only_useful = False

    def ask(self, question: s.QuestionSpec, context: AskContext | None = None) -> FactValue | Back | None:
        return None


@record
class ScriptedAsker:
    """Answers from a dict and records what was asked, in order (tests, answers files).

    script: answers given in turn whatever the question, before the dict is consulted
    (BACK among them goes back), for tests of a person's path through a session.
    """

    answers: dict[str, FactValue]
    asked: list[str] = field(default_factory=list)
    script: list[FactValue | Back | None] = field(default_factory=list)
    contexts: list[AskContext | None] = field(default_factory=list)
    only_useful: bool = False  # True: asks as a person would be asked

    def ask(self, question: s.QuestionSpec, context: AskContext | None = None) -> FactValue | Back | None:
        self.asked.append(question.id)
        self.contexts.append(context)
        if self.script:
            return self.script.pop(0)
        return self.answers.get(question.id)


def normalize_answer(question: s.QuestionSpec, raw: object) -> FactValue:
    """The canonical fact value for an answer, or AnswerError naming what would be accepted."""
    if question.kind == "number":
        if isinstance(raw, bool):
            raise AnswerError(f"question '{question.id}' wants a number, not {raw!r}")
        if isinstance(raw, str) and raw.strip().lower() == UNKNOWN:
            return UNKNOWN
        try:
            return float(raw)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise AnswerError(f"question '{question.id}' wants a number (or 'unknown'), not {raw!r}") from None
    if question.kind == "yes_no" and isinstance(raw, bool):
        return "yes" if raw else "no"  # YAML reads a bare yes/no as a boolean
    if isinstance(raw, (dict, list)) or raw is None:
        raise AnswerError(f"question '{question.id}' wants a single value, not {raw!r}")
    text = str(raw).strip()
    allowed = question.allowed_answers()
    if allowed is None:
        if not text:
            raise AnswerError(f"question '{question.id}' wants some text")
        return text
    lowered = text.lower()
    if lowered in allowed:
        return lowered
    alias = question.alias_of(lowered)
    if alias is not None:
        return alias
    aliases = [alias for choice in question.choices for alias in choice.aliases]
    hint = did_you_mean(lowered, allowed + aliases)
    raise AnswerError(f"'{text}' is not an answer to '{question.id}'{hint}; answers: {', '.join(allowed)}")


def check_answers(kb: Knowledge, answers: dict[str, object]) -> dict[str, FactValue]:
    """Validate a whole answers mapping; every problem in one AnswerError."""
    problems: list[str] = []
    clean: dict[str, FactValue] = {}
    for qid, raw in answers.items():
        question = kb.questions.get(str(qid))
        if question is None:
            problems.append(f"unknown question '{qid}'{did_you_mean(str(qid), kb.questions)}")
            continue
        try:
            clean[question.id] = normalize_answer(question, raw)
        except AnswerError as exc:
            problems.append(str(exc))
    if problems:
        raise AnswerError("; ".join(problems))
    return clean


@record
class AskedQuestion:
    question: s.QuestionSpec
    answer: FactValue | None


@record
class SessionResult:
    inference: Inference
    facts: FactSet
    questions: list[AskedQuestion]


def answer_observation(question: s.QuestionSpec, value: FactValue, how: str) -> Observation:
    return Observation(f"answer.{question.id}", value, "answer", f"{question.text} -> {value}", how)


def answer_observations(
    kb: Knowledge, question: s.QuestionSpec, value: FactValue, how: str, redact: Callable[[str], str] | None
) -> list[Observation]:
    """The answer itself, and for a question that asks for error text, what the signatures find in it."""
    found = [answer_observation(question, value, how)]
    if question.mine and isinstance(value, str) and value != UNKNOWN:
        from engine.text.signatures import mine_snippets  # the text matcher, only for pasted answers

        found.extend(mine_snippets(kb, [(f"answer {question.id}", value)], redact))
    return found


def run_session(
    kb: Knowledge,
    facts: FactSet,
    asker: Asker,
    preset: dict[str, FactValue] | None = None,
    redact: Callable[[str], str] | None = None,
    on_answer: Callable[[dict[str, FactValue]], None] | None = None,
) -> SessionResult:
    """Ask one question at a time: each answer can make the next question moot.

    on_answer(answers) is called after every answer and every step back with all answers so far
    (the session file is saved from it, so an interrupted session loses nothing). An asker
    that is only_useful (a person) is asked only what some answer would change (a finding, who
    acts, or a question that follows); the others are left out, for a few inferences each.
    """
    preset = preset or {}
    record: dict[str, AskedQuestion] = {}
    for qid, given in preset.items():
        question = kb.questions[qid]
        facts.extend(answer_observations(kb, question, given, "answers file", redact))
        record[qid] = AskedQuestion(question, given)
    result = _infer(kb, facts)
    # Answers given in this session, newest last, each with how many facts there were before it:
    # going back drops the answer and everything inferred from it.
    answered: list[tuple[str, int]] = []
    again: str | None = None  # the question a step back returned to: asked next

    def answers() -> dict[str, FactValue]:
        return {qid: q.answer for qid, q in record.items() if q.answer is not None}

    moot: set[str] = set()  # questions no answer of which would change anything, as of now

    def worth_asking(question: s.QuestionSpec) -> bool:
        if not asker.only_useful or question.allowed_answers() is None:
            return True  # free text or a number: what it could change cannot be listed
        return any(c.changes_anything for c in consequences(kb, facts, question, result, redact))

    # Each question is asked at most once unless a person goes back, so this bounds the loop.
    for _ in range(4 * (len(kb.questions) + 1)):
        open_questions = [q for q in result.pending if q.id not in record]
        open_questions.sort(key=lambda q: q.id != again)  # a step back returns to its question
        again = None
        moot = set()
        chosen: s.QuestionSpec | None = None
        for candidate in open_questions:
            if worth_asking(candidate):
                chosen = candidate
                break
            moot.add(candidate.id)
        if chosen is None:
            break
        question = chosen
        context = AskContext(functools.partial(consequences, kb, facts, question, result, redact), bool(answered))
        raw = asker.ask(question, context)
        if isinstance(raw, Back):
            if not answered:
                continue
            qid, size = answered.pop()
            again = qid
            del record[qid]
            del facts.items[size:]
            result = _infer(kb, facts)
            if on_answer is not None:
                on_answer(answers())
            continue
        value: FactValue | None = None if raw is None else normalize_answer(question, raw)
        record[question.id] = AskedQuestion(question, value)
        if value is not None:
            answered.append((question.id, len(facts.items)))
            facts.extend(answer_observations(kb, question, value, "asked", redact))
            result = _infer(kb, facts)
            if on_answer is not None:
                on_answer(answers())
    # Questions still pending at the end stay in the report, unanswered (those that could
    # change nothing are left out).
    for question in result.pending:
        if question.id not in moot:
            record.setdefault(question.id, AskedQuestion(question, None))
    return SessionResult(result, facts, list(record.values()))


def consequences(
    kb: Knowledge,
    facts: FactSet,
    question: s.QuestionSpec,
    now: Inference,
    redact: Callable[[str], str] | None = None,
) -> list[Consequence]:
    """For each answer a person can pick, what the conclusion would become: worked out by
    inferring with that answer, so it is exactly what answering would do."""
    before = {c.finding: c.contact for c in now.findings}
    pending = {q.id for q in now.pending} | {question.id}
    out = []
    for answer in question.allowed_answers() or []:
        trial = FactSet()
        trial.extend(list(facts.items))
        trial.extend(answer_observations(kb, question, answer, "asked", redact))
        inferred = _infer(kb, trial)
        after = {c.finding: c.contact for c in inferred.findings}
        out.append(
            Consequence(
                answer,
                confirms=[f for f in after if f not in before],
                rules_out=[f for f in before if f not in after],
                reroutes=[(f, before[f], after[f]) for f in before if f in after and after[f] != before[f]],
                opens=[q.id for q in inferred.pending if q.id not in pending],
            )
        )
    return out


def _infer(kb: Knowledge, facts: FactSet) -> Inference:
    """Infer after giving every reply seen its standard meaning (the reports show it)."""
    facts.extend(meanings(kb, facts))
    return infer(kb, facts)
