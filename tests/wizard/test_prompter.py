"""The real questionary adapter, fed through prompt_toolkit's pipe input (no terminal needed)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from kabot_codex.errors import InteractiveSessionRequired, SetupAborted
from kabot_codex.wizard import questions as Q
from kabot_codex.wizard.prompter import NonInteractivePrompter, QuestionaryPrompter

DOWN = "\x1b[B"
ENTER = "\r"
SPACE = " "
CTRL_C = "\x03"

MODELS = [("openai-codex/gpt-5.5", "• gpt-5.5"), ("openai/gpt-5.2-codex", "• gpt-5.2-codex"),
          ("openai/gpt-4o-mini", "• gpt-4o-mini")]


@pytest.fixture
def pipe() -> Iterator[Any]:
    with create_pipe_input() as inp:
        yield inp


def ask(pipe: Any, question: Q.Question, keys: str) -> Any:
    pipe.send_text(keys)
    return QuestionaryPrompter(input=pipe, output=DummyOutput()).ask(question)


def test_select_starts_on_the_default(pipe: Any) -> None:
    q = Q.primary_question(MODELS, "openai/gpt-5.2-codex")
    assert ask(pipe, q, ENTER) == "openai/gpt-5.2-codex"


def test_select_moves_with_arrows(pipe: Any) -> None:
    q = Q.login_question(logged_in=True)  # starts on the default, "keep", the last entry
    assert ask(pipe, q, DOWN + DOWN + ENTER) == "device"  # wraps around to the top


def test_checkbox_prechecks_defaults_and_toggles(pipe: Any) -> None:
    q = Q.fallbacks_question(MODELS, ["openai/gpt-4o-mini"])
    # Cursor on the first item: check it too.
    assert ask(pipe, q, SPACE + ENTER) == ["openai-codex/gpt-5.5", "openai/gpt-4o-mini"]


def test_confirm_and_password(pipe: Any) -> None:
    assert ask(pipe, Q.probe_question(default=True), ENTER) is True
    with create_pipe_input() as other:
        other.send_text("sk-secret\r")
        answer = QuestionaryPrompter(input=other, output=DummyOutput()).ask(Q.api_key_question())
    assert answer == "sk-secret"


def test_ctrl_c_is_setup_aborted_not_none(pipe: Any) -> None:
    with pytest.raises(SetupAborted):
        ask(pipe, Q.probe_question(default=True), CTRL_C)


def test_end_of_input_is_interactive_session_required(pipe: Any) -> None:
    pipe.close()
    with pytest.raises(InteractiveSessionRequired):
        QuestionaryPrompter(input=pipe, output=DummyOutput()).ask(Q.probe_question(default=True))


def test_non_interactive_prompter_names_the_flag() -> None:
    with pytest.raises(InteractiveSessionRequired) as info:
        NonInteractivePrompter().ask(Q.api_key_question())
    assert info.value.hint == "add --api-key and send the key on stdin"
