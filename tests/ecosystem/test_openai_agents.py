"""openai-agents' ``LitellmModel`` driving openai-codex: run, run_streamed, a tool, reasoning."""

from __future__ import annotations

from typing import Any

import pytest
from agents import Agent, ModelSettings, Runner, function_tool, set_tracing_disabled
from agents.extensions.models.litellm_model import LitellmModel
from openai.types.shared import Reasoning

import kabot_codex  # noqa: F401  (registers the provider)
from kabot_codex.emulator import EmulatorControl
from tests.ecosystem.conftest import MODEL, last_body

# The SDK exports traces to api.openai.com by default; nothing may leave loopback.
set_tracing_disabled(True)

weather_calls: list[str] = []


@function_tool
def get_weather(city: str) -> str:
    """Return the weather for a city."""
    weather_calls.append(city)
    return f"sunny in {city}"


def _agent(**settings: Any) -> Agent:
    return Agent(name="assistant", instructions="You are terse.", model=LitellmModel(model=MODEL),
                 model_settings=ModelSettings(**settings), tools=[get_weather])


async def test_run_with_a_tool_round_trip(emu: EmulatorControl, logged_in: dict[str, Any]) -> None:
    weather_calls.clear()
    result = await Runner.run(_agent(), "Call get_weather for Paris, please")
    assert weather_calls == ["Paris"]
    assert "sunny in Paris" in result.final_output
    calls = emu.requests(path_contains="/codex/responses")
    assert len(calls) == 2 and calls[-1]["json"]["input"][-1]["type"] == "function_call_output"


async def test_run_streamed(emu: EmulatorControl, logged_in: dict[str, Any]) -> None:
    result = Runner.run_streamed(_agent(), "Say hello")
    deltas = [event.data.delta async for event in result.stream_events()
              if event.type == "raw_response_event" and event.data.type == "response.output_text.delta"]
    assert "You said: Say hello" in "".join(deltas)
    assert "You said: Say hello" in result.final_output


async def test_reasoning_via_model_settings(emu: EmulatorControl, logged_in: dict[str, Any]) -> None:
    # ModelSettings(reasoning=...) becomes LiteLLM's reasoning_effort: accepted with no allow-list.
    result = await Runner.run(_agent(reasoning=Reasoning(effort="high")), "Think, then say hi")
    assert "You said" in result.final_output
    assert last_body(emu)["reasoning"]["effort"] == "high"


@pytest.mark.parametrize("setting", [{"temperature": 0.3, "max_tokens": 50, "top_p": 0.9}])
async def test_default_sampling_settings_are_accepted_and_dropped(emu: EmulatorControl, logged_in: dict[str, Any],
                                                                  setting: dict[str, Any]) -> None:
    await Runner.run(_agent(**setting), "hi")
    body = last_body(emu)
    assert not {"temperature", "max_output_tokens", "top_p"} & set(body)
