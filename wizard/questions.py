"""Every question ``kabot setup`` can ask, as data.

A ``Question`` describes itself (kind, message, choices, default, the CLI flag that answers
it) and validates an answer however it arrived — typed at a prompt, passed as a flag, or
taken from the existing config. It never prompts: ``wizard.prompter`` does that, and
``wizard.flow`` decides whether a prompt is needed at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from kabot_codex.errors import WizardError

__all__ = [
    "LOGIN_METHODS",
    "Choice",
    "InvalidAnswer",
    "Question",
    "api_key_question",
    "confirm_unsupported_question",
    "fallback_order_question",
    "fallbacks_explanation",
    "fallbacks_question",
    "login_question",
    "openai_key_question",
    "primary_question",
    "probe_question",
]

Kind = Literal["select", "checkbox", "confirm", "text", "password"]

#: Login methods, in the order the wizard offers them, with their labels.
LOGIN_METHODS: dict[str, str] = {
    "browser": "Sign in with ChatGPT in the browser (recommended)",
    "device": "Sign in with a device code (headless machines, SSH)",
    "codex": "Reuse the Codex CLI login (~/.codex/auth.json)",
    "api-key": "Use an OpenAI API key",
    "keep": "Keep the current login",
}


class InvalidAnswer(WizardError):
    """An answer (typed or passed as a flag) is not acceptable for its question."""


@dataclass(frozen=True)
class Choice:
    """One option of a select/checkbox question."""

    value: str
    title: str


@dataclass(frozen=True)
class Question:
    """One question; ``flag`` names the CLI option that answers it without a prompt."""

    name: str
    kind: Kind
    message: str
    flag: str
    choices: tuple[Choice, ...] = ()
    default: Any = None
    # Suggested at the prompt only; non-interactive mode never falls back to it (e.g. a
    # browser login needs a person, so it must be asked for explicitly with --login).
    prompt_default: Any = None
    required: bool = True
    instruction: str | None = None
    allow_other: bool = False  # select/checkbox: accept values outside ``choices`` (custom models)
    meta: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def values(self) -> list[str]:
        """The values of the choices."""
        return [c.value for c in self.choices]

    def validate(self, answer: Any) -> Any:
        """Return ``answer`` normalised for this question, or raise ``InvalidAnswer``."""
        if self.kind == "confirm":
            if isinstance(answer, str):
                answer = answer.strip().lower() in ("y", "yes", "true", "1")
            return bool(answer)
        if self.kind == "checkbox":
            items = [answer] if isinstance(answer, str) else list(answer or [])
            cleaned: list[str] = []
            for item in (str(i).strip() for i in items):
                if item and item not in cleaned:
                    self._check_choice(item)
                    cleaned.append(item)
            return cleaned
        text = "" if answer is None else str(answer).strip()
        if not text:
            if self.required:
                raise InvalidAnswer(f"{self.message.rstrip('?:')} needs an answer",
                                    hint=f"pass {self.flag}")
            return None
        if self.kind == "select":
            self._check_choice(text)
        return text

    def _check_choice(self, value: str) -> None:
        if self.choices and not self.allow_other and value not in self.values:
            raise InvalidAnswer(f"{value!r} is not a valid answer for {self.flag}",
                                hint=f"use one of: {', '.join(self.values)}")


def login_question(*, logged_in: bool) -> Question:
    """How to log in; ``keep`` is offered only when credentials exist."""
    methods = [m for m in LOGIN_METHODS if m != "keep" or logged_in]
    return Question(
        name="login", kind="select", flag="--login",
        message="How do you want to log in?",
        choices=tuple(Choice(m, LOGIN_METHODS[m]) for m in methods),
        default="keep" if logged_in else None,
        prompt_default="browser",
    )


def api_key_question() -> Question:
    """The OpenAI API key for ``--login api-key``."""
    return Question(name="api_key", kind="password", flag="--api-key",
                    message="OpenAI API key (sk-...):")


def _model_choices(models: Sequence[tuple[str, str]]) -> tuple[Choice, ...]:
    return tuple(Choice(value, title) for value, title in models)


def primary_question(models: Sequence[tuple[str, str]], default: str) -> Question:
    """The primary model; ``models`` are ``(model, title-with-status)`` pairs, best first."""
    return Question(
        name="primary", kind="select", flag="--primary",
        message="Primary model:", choices=_model_choices(models), default=default,
        instruction="(✓ working  • listed  ✗ unsupported)", allow_other=True,
    )


def confirm_unsupported_question(model: str, why: str) -> Question:
    """Picking an ``unsupported`` model needs an explicit yes."""
    return Question(
        name="allow_unsupported", kind="confirm", flag="--allow-unsupported",
        message=f"{model} is marked unsupported for this account ({why}). Use it anyway?",
        default=False,
    )


def fallbacks_explanation(provider: str) -> str:
    """Why the fallback list is ordered as it is (printed before the question)."""
    return (f"A usage limit covers every {provider} model of your account, so models from another "
            "provider are listed first; \"same account\" marks the ones that share the limit.")


def fallbacks_question(models: Sequence[tuple[str, str]], default: Sequence[str]) -> Question:
    """Which models take over when the primary fails (usage limit, outage, rejection).

    ``models`` come most useful first (another provider before the primary's own account).
    """
    return Question(
        name="fallbacks", kind="checkbox", flag="--fallback",
        message="Fallback models (other providers first):",
        choices=_model_choices(models), default=list(default), required=False,
        instruction="(space toggles, enter confirms)", allow_other=True,
    )


def fallback_order_question(position: int, remaining: Sequence[str]) -> Question:
    """Which of the remaining fallbacks is tried at ``position`` (1-based)."""
    return Question(
        name=f"fallback_{position}", kind="select", flag="--fallback (in order)",
        message=f"Fallback #{position} (tried {'first' if position == 1 else 'next'}):",
        choices=tuple(Choice(m, m) for m in remaining), default=remaining[0],
    )


def openai_key_question(default: str | None) -> Question:
    """An OpenAI API key for ``openai/*`` fallbacks, when none is configured."""
    return Question(
        name="openai_api_key", kind="password", flag="--openai-api-key",
        message="OpenAI API key for the openai/* fallbacks (empty: set OPENAI_API_KEY later):",
        default=default, required=False,
    )


def probe_question(default: bool) -> Question:
    """Whether to send one tiny request per chosen model now."""
    return Question(
        name="probe", kind="confirm", flag="--probe",
        message="Send a tiny test request to each chosen model now?", default=default,
    )
