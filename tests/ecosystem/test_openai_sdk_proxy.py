"""The OpenAI Python SDK against the real LiteLLM Proxy serving openai-codex (no allow-lists)."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import openai
import pytest

from kabot_codex.emulator import EmulatorControl
from tests.ecosystem.conftest import codex_calls, last_body

WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "Weather for a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}


class _Counter:
    """Counts the HTTP requests the SDK really sends (its retries included)."""

    def __init__(self) -> None:
        self.sent = 0

    def __call__(self, request: httpx.Request) -> None:
        self.sent += 1


def _client(base: str, counter: _Counter | None = None) -> openai.OpenAI:
    hooks: dict[str, Any] = {"request": [counter]} if counter else {}
    return openai.OpenAI(base_url=base + "/v1", api_key="sk-proxy-client",
                         http_client=httpx.Client(event_hooks=hooks, timeout=60))


def test_chat_stream_tools_and_reasoning(proxy: str, emulator: EmulatorControl) -> None:
    client = _client(proxy)
    reply = client.chat.completions.create(model="codex", messages=[{"role": "user", "content": "hi"}],
                                           reasoning_effort="high")
    assert "gpt-5.5" in (reply.choices[0].message.content or "")
    assert last_body(emulator)["reasoning"]["effort"] == "high"
    assert reply.usage is not None and reply.usage.total_tokens > 0

    stream = client.chat.completions.create(model="codex", messages=[{"role": "user", "content": "hi"}],
                                            stream=True, stream_options={"include_usage": True})
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert "gpt-5.5" in text and chunks[-1].usage is not None

    messages: list[Any] = [{"role": "user", "content": "Use get_weather for Paris"}]
    first = client.chat.completions.create(model="codex", messages=messages, tools=[WEATHER])
    (call,) = first.choices[0].message.tool_calls or []
    assert first.choices[0].finish_reason == "tool_calls"
    assert json.loads(call.function.arguments) == {"city": "Paris"}
    messages += [first.choices[0].message.model_dump(exclude_none=True),
                 {"role": "tool", "tool_call_id": call.id, "content": "sunny, 21 C"}]
    second = client.chat.completions.create(model="codex", messages=messages, tools=[WEATHER])
    assert "sunny, 21 C" in (second.choices[0].message.content or "")

    streamed_call = client.chat.completions.create(model="codex", messages=messages[:1], tools=[WEATHER],
                                                   tool_choice="required", stream=True)
    names = [tc.function.name for c in streamed_call if c.choices for tc in (c.choices[0].delta.tool_calls or [])
             if tc.function and tc.function.name]
    assert names == ["get_weather"]


def test_responses_api_plain_and_streamed(proxy: str, emulator: EmulatorControl) -> None:
    client = _client(proxy)
    before = codex_calls(emulator)
    response = client.responses.create(model="codex", input="hello there")
    assert "hello there" in response.output_text
    events = list(client.responses.create(model="codex", input="streamed hello", stream=True))
    kinds = [e.type for e in events]
    assert "response.output_text.delta" in kinds and kinds[-1] == "response.completed"
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert "streamed hello" in text
    assert codex_calls(emulator) == before + 2


def test_usage_limit_fails_at_once_without_sdk_retries(proxy: str, emulator: EmulatorControl) -> None:
    client = _client(proxy)
    client.chat.completions.create(model="codex-limited", messages=[{"role": "user", "content": "warm"}])
    counter = _Counter()
    client = _client(proxy, counter)  # the SDK default: max_retries=2
    emulator.fault("usage_limit", resets_in_seconds=1800, count=1)
    started = time.monotonic()
    with pytest.raises(openai.RateLimitError) as info:
        client.chat.completions.create(model="codex-limited", messages=[{"role": "user", "content": "hi"}])
    elapsed = time.monotonic() - started
    assert counter.sent == 1  # x-should-retry: false — the SDK did not retry
    headers = info.value.response.headers
    assert "retry-after" not in headers
    assert 1700 <= int(headers["x-kabot-usage-limit-resets-in"]) <= 1800
    assert int(headers["x-kabot-usage-limit-reset-at"]) > time.time() + 1700
    assert "usage limit" in str(info.value).lower()
    assert elapsed < 0.01 * 1800  # a ratio of the reset window, not a wall-clock budget
    # The other account is not blocked; the limited one now fails without a backend request.
    before = codex_calls(emulator)
    assert client.chat.completions.create(model="codex", messages=[{"role": "user", "content": "hi"}])
    with pytest.raises(openai.RateLimitError):
        client.chat.completions.create(model="codex-limited", messages=[{"role": "user", "content": "hi"}])
    assert codex_calls(emulator) == before + 1
