"""The one place ``kabot setup`` asks a human anything.

``QuestionaryPrompter`` is the only code that imports questionary. It uses ``unsafe_ask`` so
Ctrl-C is an exception (``SetupAborted``), never a ``None`` that could end up in the config,
and maps EOF (no terminal) to ``InteractiveSessionRequired``. ``NonInteractivePrompter``
refuses every question, naming the flag that answers it; ``ScriptedPrompter`` answers from a
dict for tests.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from kabot_codex.errors import InteractiveSessionRequired, SetupAborted

from .questions import Question

__all__ = ["NonInteractivePrompter", "Prompter", "QuestionaryPrompter", "ScriptedPrompter"]


class Prompter(Protocol):
    """Asks one question and returns the raw answer."""

    def ask(self, question: Question) -> Any:
        """Return the answer to ``question`` (raise ``SetupAborted`` on Ctrl-C)."""
        ...


class NonInteractivePrompter:
    """Used with ``--non-interactive``: any question that reaches it is missing a flag."""

    def ask(self, question: Question) -> Any:
        """Raise: the question has no flag value and no default."""
        topic = question.message.rstrip(":? ").lower()
        if question.kind == "password":
            values = " and send the key on stdin"  # never as an argument: `ps` and shell history
        elif question.values and not question.allow_other:
            values = f" {'|'.join(question.values)}"
        else:
            values = " VALUE"
        raise InteractiveSessionRequired(
            f"with --non-interactive nothing is asked, and no {question.flag} was given ({topic})",
            hint=f"add {question.flag}{values}",
        )


class ScriptedPrompter:
    """Answers from ``answers`` by question name.

    For a non-checkbox question a list answers repeated askings in turn (a checkbox's list is
    its answer).

    ``DEFAULT`` accepts the question's default; ``ABORT`` behaves like Ctrl-C. Every question
    asked is kept in ``asked`` so tests can check what the user saw.
    """

    DEFAULT: Any = object()
    ABORT: Any = object()

    def __init__(self, answers: Mapping[str, Any]) -> None:
        self._answers = {k: (list(v) if isinstance(v, tuple) else v) for k, v in answers.items()}
        self.asked: list[Question] = []

    def ask(self, question: Question) -> Any:
        """Return the scripted answer for ``question.name``."""
        self.asked.append(question)
        if question.name not in self._answers:
            raise AssertionError(f"unexpected question {question.name!r}: {question.message}")
        answer = self._answers[question.name]
        if isinstance(answer, list) and question.kind != "checkbox":
            answer = answer.pop(0)  # the same question asked again gets the next answer
        if answer is self.ABORT:
            raise SetupAborted("Setup was interrupted")
        if answer is self.DEFAULT:
            return question.default
        return answer


class QuestionaryPrompter:
    """Asks through questionary (prompt_toolkit) on the terminal, or on ``input``/``output``."""

    def __init__(self, *, input: Any = None, output: Any = None) -> None:  # noqa: A002 (questionary's names)
        import questionary  # the only questionary import in the package

        self._q = questionary
        self._io: dict[str, Any] = {}
        if input is not None:
            self._io["input"] = input
        if output is not None:
            self._io["output"] = output

    def _build(self, question: Question) -> Any:
        q = self._q
        if question.kind == "select":
            choices = [q.Choice(c.title, value=c.value) for c in question.choices]
            default = question.default if question.default in question.values else None
            return q.select(question.message, choices=choices, default=default,
                            instruction=question.instruction, **self._io)
        if question.kind == "checkbox":
            chosen = set(question.default or ())
            choices = [q.Choice(c.title, value=c.value, checked=c.value in chosen) for c in question.choices]
            return q.checkbox(question.message, choices=choices, instruction=question.instruction, **self._io)
        if question.kind == "confirm":
            return q.confirm(question.message, default=bool(question.default), **self._io)
        if question.kind == "password":
            return q.password(question.message, default=question.default or "", **self._io)
        return q.text(question.message, default=question.default or "", **self._io)

    def ask(self, question: Question) -> Any:
        """Prompt for ``question``; Ctrl-C → ``SetupAborted``, EOF → ``InteractiveSessionRequired``."""
        prompt = self._build(question)
        try:
            return prompt.unsafe_ask()
        except KeyboardInterrupt as exc:
            raise SetupAborted("Setup was interrupted") from exc
        except EOFError as exc:
            raise InteractiveSessionRequired("kabot setup lost its terminal (end of input)") from exc
