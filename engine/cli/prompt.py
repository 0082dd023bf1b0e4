"""Ask questions at the terminal: the question, the accepted answers, and on request why it matters.

At any question a person may type `?` or `why` (what each answer would confirm or rule out),
`back` (change the previous answer), `skip` (leave it open), or say they do not know.
"""

from __future__ import annotations

from typing import TextIO

from rich.console import Console
from rich.text import Text

from engine.decide.session import BACK, UNKNOWN, AnswerError, AskContext, Back, Consequence, normalize_answer
from engine.facts import FactValue
from engine.knowledge import schema as s
from engine.values import record

MAX_TRIES = 3
WHY = {"?", "why", "help"}
SKIP = {"skip", "s"}
GO_BACK = {"back", "b"}
DONT_KNOW = {"i don't know", "i dont know", "don't know", "dont know", "idk"}


@record
class TerminalAsker:
    """Reads answers from a stream; a number picks a listed choice, Enter skips the question."""

    stdin: TextIO
    console: Console
    only_useful: bool = True  # a person's time: ask only what can change the conclusion

    def ask(self, question: s.QuestionSpec, context: AskContext | None = None) -> FactValue | Back | None:
        self.console.print()
        self.console.print(Text(question.text, style="bold"))
        self.console.print(Text(f"Why: {' '.join(question.why.split())}", style="dim"))
        options = self._options(question)
        for i, (_, label) in enumerate(options, 1):
            self.console.print(f"  {i}. {label}", markup=False, highlight=False)
        commands = "? why" + (", back" if context is not None and context.can_go_back else "") + ", skip"
        pasted = question.kind == "text" and question.mine
        if pasted:
            self.console.print(
                "Paste the text, then a line with only a full stop (.) or Ctrl-D.", markup=False, highlight=False
            )
        tries = 0
        while tries < MAX_TRIES:
            self.console.print(f"Answer ({commands}; Enter skips): ", end="", markup=False, highlight=False)
            line = self.stdin.readline()
            if not line:
                return None  # end of input: nobody is there to answer
            text = line.strip()
            if pasted and text.lower() not in WHY | SKIP | GO_BACK and text:
                return self._rest_of_paste(line)
            word = text.lower()
            if not text or word in SKIP:
                return None
            if word in WHY:
                self._explain(question, context)
                continue
            if word in GO_BACK and context is not None and context.can_go_back:
                return BACK
            if word in DONT_KNOW:
                text = UNKNOWN
            elif text.isdigit() and options and 1 <= int(text) <= len(options):
                text = options[int(text) - 1][0]
            try:
                return normalize_answer(question, text)
            except AnswerError as exc:
                self.console.print(Text(str(exc), style="red"))
                tries += 1
        return None

    def _rest_of_paste(self, first: str) -> str:
        """Lines up to one holding only a full stop, or the end of input; blank lines are kept."""
        lines = [first.rstrip("\n")]
        while (line := self.stdin.readline()) and line.strip() != ".":
            lines.append(line.rstrip("\n"))
        return "\n".join(lines).strip("\n")

    def _explain(self, question: s.QuestionSpec, context: AskContext | None) -> None:
        if context is None:
            self.console.print(Text(f"Why: {' '.join(question.why.split())}", style="dim"))
            return
        self.console.print("What each answer would do:", markup=False)
        labels = dict(self._options(question))
        for effect in context.consequences():
            self.console.print(
                f"  {labels.get(effect.answer, effect.answer)}: {describe(effect)}", markup=False, highlight=False
            )

    @staticmethod
    def _options(question: s.QuestionSpec) -> list[tuple[str, str]]:
        if question.kind == "choice":
            options = [(c.value, c.label) for c in question.choices]
            if all(value != UNKNOWN for value, _ in options):
                options.append((UNKNOWN, "I don't know"))
            return options
        if question.kind == "yes_no":
            return [("yes", "Yes"), ("no", "No"), (UNKNOWN, "I don't know")]
        return []


def describe(effect: Consequence) -> str:
    """One answer's effect in a line: 'confirms auth.credentials_rejected; email provider acts on ...'."""
    parts = []
    if effect.confirms:
        parts.append("confirms " + ", ".join(effect.confirms))
    if effect.rules_out:
        parts.append("rules out " + ", ".join(effect.rules_out))
    parts.extend(
        f"{finding} goes to the {after.replace('_', ' ')} (not the {before.replace('_', ' ')})"
        for finding, before, after in effect.reroutes
    )
    return "; ".join(parts) if parts else "changes nothing in the conclusion"
