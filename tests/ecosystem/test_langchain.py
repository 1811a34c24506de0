"""langchain-litellm's ``ChatLiteLLM`` on openai-codex: invoke, stream, tools, structured output."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import HumanMessage, ToolMessage
from langchain_core.tools import tool
from langchain_litellm import ChatLiteLLM
from pydantic import BaseModel, Field

import kabot_codex  # noqa: F401  (registers the provider)
from kabot_codex.emulator import EmulatorControl
from tests.ecosystem.conftest import MODEL, last_body


@tool
def get_weather(city: str) -> str:
    """Return the weather for a city."""
    return f"sunny in {city}"


class City(BaseModel):
    """A city and what it is known for."""

    name: str = Field(description="the city's name")
    population: int = Field(ge=1)
    landmarks: list[str]


def test_invoke_and_stream(emu: EmulatorControl, logged_in: dict[str, Any]) -> None:
    llm = ChatLiteLLM(model=MODEL)
    reply = llm.invoke("Say hello")
    assert "You said: Say hello" in reply.content
    assert reply.usage_metadata and reply.usage_metadata["total_tokens"] > 0
    chunks = list(llm.stream("Say hello again"))
    assert len(chunks) > 1 and "You said: Say hello again" in "".join(str(c.content) for c in chunks)


def test_reasoning_effort_through_model_kwargs(emu: EmulatorControl, logged_in: dict[str, Any]) -> None:
    llm = ChatLiteLLM(model=MODEL, model_kwargs={"reasoning_effort": "high"}, temperature=0.2)
    llm.invoke("hi")
    body = last_body(emu)
    assert body["reasoning"]["effort"] == "high" and "temperature" not in body


def test_bind_tools_round_trip(emu: EmulatorControl, logged_in: dict[str, Any]) -> None:
    llm = ChatLiteLLM(model=MODEL).bind_tools([get_weather])
    messages: list[Any] = [HumanMessage("Use get_weather for Paris")]
    first = llm.invoke(messages)
    (call,) = first.tool_calls
    assert call["name"] == "get_weather" and call["args"] == {"city": "Paris"}
    messages += [first, ToolMessage(get_weather.invoke(call["args"]), tool_call_id=call["id"])]
    second = llm.invoke(messages)
    assert not second.tool_calls and "sunny in Paris" in second.content


@pytest.mark.parametrize("method", ["json_schema", "function_calling"])
def test_with_structured_output(emu: EmulatorControl, logged_in: dict[str, Any], method: str) -> None:
    city = ChatLiteLLM(model=MODEL).with_structured_output(City, method=method).invoke("Describe Paris")
    assert isinstance(city, City) and city.population >= 1 and city.landmarks
    body = last_body(emu)
    if method == "json_schema":  # response_format → the backend's text.format
        assert body["text"]["format"]["type"] == "json_schema"
    else:  # a forced tool call
        assert body["tool_choice"] in ("required", {"type": "function", "name": "City"})
