"""Ask questions at the terminal: the question, why it matters, and the accepted answers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TextIO

from rich.console import Console
from rich.text import Text

from engine.decide.session import AnswerError, normalize_answer
from engine.facts import FactValue
from engine.knowledge import schema as s

MAX_TRIES = 3


@dataclass
class TerminalAsker:
    """Reads answers from a stream; a number picks a listed choice, Enter skips the question."""

    stdin: TextIO
    console: Console

    def ask(self, question: s.QuestionSpec) -> FactValue | None:
        self.console.print()
        self.console.print(Text(question.text, style="bold"))
        self.console.print(Text(f"Why: {' '.join(question.why.split())}", style="dim"))
        options = self._options(question)
        for i, (_, label) in enumerate(options, 1):
            self.console.print(f"  {i}. {label}", markup=False, highlight=False)
        for _ in range(MAX_TRIES):
            self.console.print("Answer (Enter to skip): ", end="", markup=False)
            line = self.stdin.readline()
            if not line:
                return None  # end of input: nobody is there to answer
            text = line.strip()
            if not text:
                return None
            if text.isdigit() and options and 1 <= int(text) <= len(options):
                text = options[int(text) - 1][0]
            try:
                return normalize_answer(question, text)
            except AnswerError as exc:
                self.console.print(Text(str(exc), style="red"))
        return None

    @staticmethod
    def _options(question: s.QuestionSpec) -> list[tuple[str, str]]:
        if question.kind == "choice":
            options = [(c.value, c.label) for c in question.choices]
            if all(value != "unknown" for value, _ in options):
                options.append(("unknown", "I don't know"))
            return options
        if question.kind == "yes_no":
            return [("yes", "Yes"), ("no", "No"), ("unknown", "I don't know")]
        return []
