"""instructor over LiteLLM on openai-codex: TOOLS and JSON_SCHEMA modes, sync and async."""

from __future__ import annotations

from typing import Any

import instructor
import litellm
import pytest
from pydantic import BaseModel, Field

import kabot_codex  # noqa: F401  (registers the provider)
from kabot_codex.emulator import EmulatorControl
from tests.ecosystem.conftest import MODEL, last_body


class Address(BaseModel):
    city: str
    zip_code: str = Field(min_length=5)


class Person(BaseModel):
    """A person extracted from text."""

    name: str
    age: int = Field(ge=0, le=150)
    nickname: str | None = None
    addresses: list[Address]


MESSAGES = [{"role": "user", "content": "Extract: Ada, 36, lives in Paris"}]


@pytest.mark.parametrize("mode", [instructor.Mode.TOOLS, instructor.Mode.JSON_SCHEMA])
def test_sync_modes(emu: EmulatorControl, logged_in: dict[str, Any], mode: instructor.Mode) -> None:
    client = instructor.from_litellm(litellm.completion, mode=mode)
    person = client.chat.completions.create(model=MODEL, messages=MESSAGES, response_model=Person, max_retries=0)
    assert isinstance(person, Person) and person.addresses and person.addresses[0].city == "Paris"
    body = last_body(emu)
    if mode is instructor.Mode.TOOLS:
        assert body["tool_choice"] == {"type": "function", "name": "Person"}
    else:
        text_format = body["text"]["format"]
        assert text_format["type"] == "json_schema" and text_format["schema"]["title"] == "Person"


async def test_async_tools_mode(emu: EmulatorControl, logged_in: dict[str, Any]) -> None:
    client = instructor.from_litellm(litellm.acompletion, mode=instructor.Mode.TOOLS)
    person = await client.chat.completions.create(model=MODEL, messages=MESSAGES, response_model=Person,
                                                  max_retries=0)
    assert isinstance(person, Person)
