"""The four LiteLLM call shapes, tools, reasoning and usage — real litellm, real HTTP, emulator."""

from __future__ import annotations

import json

import litellm
import pytest

import kabot_codex  # noqa: F401  (registers the provider)

MODEL = "openai-codex/gpt-5.5"
HELLO = [{"role": "user", "content": "Say hello"}]
WEATHER_TOOL = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather for a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        },
    }
]


def last_body(emu) -> dict:
    return emu.requests(path_contains="/responses")[-1]["json"]


def collect(stream) -> tuple[str, list, object]:
    chunks = list(stream)
    built = litellm.stream_chunk_builder(chunks)
    return built.choices[0].message.content or "", chunks, built


async def acollect(stream):
    chunks = [c async for c in stream]
    built = litellm.stream_chunk_builder(chunks)
    return built.choices[0].message.content or "", chunks, built


def test_completion_text_usage_and_rate_limits(emu, logged_in):
    response = litellm.completion(model=MODEL, messages=HELLO)
    assert len(response.choices) == 1
    assert "You said: Say hello" in response.choices[0].message.content
    assert response.choices[0].finish_reason == "stop"
    assert response.usage.prompt_tokens > 0 and response.usage.completion_tokens > 0
    assert response._hidden_params["codex_rate_limits"]["primary"]["window_minutes"] == 300
    assert any(k.endswith("x-codex-primary-used-percent") for k in response._hidden_params["additional_headers"])
    body = last_body(emu)
    assert body["model"] == "gpt-5.5" and body["store"] is False and body["stream"] is True
    headers = emu.requests(path_contains="/responses")[-1]["headers"]
    assert headers["chatgpt-account-id"] == logged_in["account_id"]
    assert headers["accept"] == "text/event-stream" and headers["session_id"] and headers["originator"]


async def test_acompletion(emu, logged_in):
    response = await litellm.acompletion(model=MODEL, messages=HELLO)
    assert "You said: Say hello" in response.choices[0].message.content
    assert response.usage.total_tokens == response.usage.prompt_tokens + response.usage.completion_tokens


def test_sync_stream_yields_deltas_and_real_usage(emu, logged_in):
    emu.reply(
        text="one two three four five six",
        chunks=6,
        usage={"input_tokens": 111, "output_tokens": 22, "total_tokens": 133},
    )
    stream = litellm.completion(model=MODEL, messages=HELLO, stream=True, stream_options={"include_usage": True})
    text, chunks, built = collect(stream)
    assert text == "one two three four five six"
    assert sum(1 for c in chunks if c.choices and c.choices[0].delta.content) >= 5
    assert (built.usage.prompt_tokens, built.usage.completion_tokens) == (111, 22)  # not LiteLLM's estimate
    assert built.choices[0].finish_reason == "stop"


async def test_async_stream(emu, logged_in):
    emu.reply(text="alpha beta gamma", chunks=3, usage={"input_tokens": 50, "output_tokens": 3, "total_tokens": 53})
    stream = await litellm.acompletion(model=MODEL, messages=HELLO, stream=True, stream_options={"include_usage": True})
    text, _, built = await acollect(stream)
    assert text == "alpha beta gamma"
    assert built.usage.prompt_tokens == 50


def test_text_and_tool_call_come_back_in_one_choice(emu, logged_in):
    emu.reply(text="Let me check.", tool_calls=[{"name": "get_weather", "arguments": '{"city": "Paris"}'}])
    response = litellm.completion(
        model=MODEL, messages=[{"role": "user", "content": "Weather in Paris?"}], tools=WEATHER_TOOL
    )
    assert len(response.choices) == 1
    message = response.choices[0].message
    assert message.content == "Let me check."
    assert message.tool_calls[0].function.name == "get_weather"
    assert json.loads(message.tool_calls[0].function.arguments) == {"city": "Paris"}
    assert response.choices[0].finish_reason == "tool_calls"
    assert last_body(emu)["tools"][0] == {
        "type": "function",
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": WEATHER_TOOL[0]["function"]["parameters"],
        "strict": False,
    }


@pytest.mark.parametrize("stream", [False, True])
def test_two_step_tool_round_trip(emu, logged_in, stream):
    messages = [{"role": "user", "content": "What is the weather in Paris? Use get_weather."}]
    if stream:
        _, _, first = collect(litellm.completion(model=MODEL, messages=messages, tools=WEATHER_TOOL, stream=True))
    else:
        first = litellm.completion(model=MODEL, messages=messages, tools=WEATHER_TOOL)
    call = first.choices[0].message.tool_calls[0]
    assert call.function.name == "get_weather"
    messages.append(first.choices[0].message.model_dump())
    messages.append({"role": "tool", "tool_call_id": call.id, "content": "sunny, 21 C"})
    second = litellm.completion(model=MODEL, messages=messages, tools=WEATHER_TOOL)
    assert "sunny, 21 C" in second.choices[0].message.content
    sent = last_body(emu)["input"]
    assert {
        "type": "function_call",
        "call_id": call.id,
        "name": "get_weather",
        "arguments": call.function.arguments,
    } in sent
    assert {"type": "function_call_output", "call_id": call.id, "output": "sunny, 21 C"} in sent


def test_parallel_tool_calls_stream_with_their_own_index(emu, logged_in):
    emu.reply(
        tool_calls=[
            {"name": "get_weather", "arguments": '{"city": "Paris"}'},
            {"name": "get_weather", "arguments": '{"city": "Rome"}'},
        ]
    )
    _, chunks, built = collect(litellm.completion(model=MODEL, messages=HELLO, tools=WEATHER_TOOL, stream=True))
    calls = built.choices[0].message.tool_calls
    assert [json.loads(c.function.arguments)["city"] for c in calls] == ["Paris", "Rome"]
    assert len({c.id for c in calls}) == 2
    assert built.choices[0].finish_reason == "tool_calls"


def test_reasoning_effort_is_clamped_and_reasoning_content_returned(emu, logged_in):
    response = litellm.completion(
        model=MODEL, messages=HELLO, reasoning_effort="minimal", allowed_openai_params=["reasoning_effort"]
    )
    assert response.choices[0].message.reasoning_content
    assert response.usage.completion_tokens_details.reasoning_tokens > 0
    body = last_body(emu)
    assert body["reasoning"]["effort"] == "low"  # gpt-5.5 has no "minimal"
    assert body["include"] == ["reasoning.encrypted_content"]


def test_reasoning_streams_as_reasoning_content(emu, logged_in):
    stream = litellm.completion(model=MODEL, messages=HELLO, stream=True, extra_body={"reasoning": {"effort": "high"}})
    _, chunks, built = collect(stream)
    assert any(getattr(c.choices[0].delta, "reasoning_content", None) for c in chunks if c.choices)
    assert built.choices[0].message.reasoning_content


def test_params_the_backend_rejects_are_never_sent(emu, logged_in):
    response = litellm.completion(
        model=MODEL,
        messages=HELLO,
        temperature=0.3,
        top_p=0.9,
        max_tokens=50,
        max_completion_tokens=50,
        metadata={"trace": "1"},
    )
    assert response.choices[0].message.content
    body = last_body(emu)
    for name in ("temperature", "top_p", "max_tokens", "max_output_tokens", "max_completion_tokens", "metadata"):
        assert name not in body


def test_model_named_is_model_sent(emu, logged_in):
    litellm.completion(model="openai-codex/gpt-5.4-mini", messages=HELLO)
    assert last_body(emu)["model"] == "gpt-5.4-mini"


def test_api_key_mode_goes_to_the_openai_responses_api(emu, monkeypatch):
    response = litellm.completion(model=MODEL, messages=HELLO, api_key="sk-test-key", api_base=emu.openai_base)
    assert "You said" in response.choices[0].message.content
    sent = emu.requests(path_contains="/v1/responses")[-1]
    assert sent["headers"]["authorization"] == "Bearer sk-test-key"
    assert "chatgpt-account-id" not in sent["headers"]
    monkeypatch.setenv("OPENAI_CODEX_API_KEY", "sk-from-env")
    monkeypatch.setenv("OPENAI_CODEX_OPENAI_BASE", emu.openai_base)
    litellm.completion(model=MODEL, messages=HELLO)
    assert emu.requests(path_contains="/v1/responses")[-1]["headers"]["authorization"] == "Bearer sk-from-env"


def test_connections_are_reused(emu, logged_in):
    litellm.completion(model=MODEL, messages=HELLO)
    before = emu.stats()["connections"]
    for _ in range(10):
        litellm.completion(model=MODEL, messages=HELLO)
    assert emu.stats()["connections"] - before <= 1


async def test_async_connections_are_reused(emu, logged_in):
    await litellm.acompletion(model=MODEL, messages=HELLO)
    before = emu.stats()["connections"]
    for _ in range(10):
        await litellm.acompletion(model=MODEL, messages=HELLO)
    assert emu.stats()["connections"] - before <= 1


def test_api_key_mode_reports_the_prompt_cache_like_the_backend(emu):
    # Same conversation twice: the second call's prompt is served from the cache in full.
    kwargs = {"model": MODEL, "messages": HELLO, "api_key": "sk-test-key", "api_base": emu.openai_base,
              "prompt_cache_key": "conversation-1"}
    litellm.completion(**kwargs)
    usage = litellm.completion(**kwargs).usage
    assert usage.prompt_tokens_details.cached_tokens == usage.prompt_tokens > 0
