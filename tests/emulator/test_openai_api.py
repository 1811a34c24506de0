"""The OpenAI-compatible ``/v1`` API used in API-key mode and for ``openai/...`` fallbacks."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from kabot_codex.emulator import EmulatorControl
from tests.emulator.helpers import parse_sse

KEY = {"Authorization": "Bearer sk-test-0123456789"}
WEATHER = {"type": "function", "function": {"name": "get_weather", "parameters": {
    "type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]}}}


@pytest.fixture
def http() -> httpx.Client:
    with httpx.Client(trust_env=False, verify=False, timeout=30, headers=KEY) as c:
        yield c


def chat(emu: EmulatorControl, http: httpx.Client, **body: Any) -> httpx.Response:
    payload = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello"}], **body}
    return http.post(emu.openai_base + "/chat/completions", json=payload)


def chunks(r: httpx.Response) -> list[Any]:
    assert r.status_code == 200, r.text
    return [data for _, data in parse_sse(r.text)]


def test_chat_non_stream(emu: EmulatorControl, http: httpx.Client) -> None:
    r = chat(emu, http, temperature=0.3, max_tokens=50)
    assert r.status_code == 200
    doc = r.json()
    assert doc["object"] == "chat.completion"
    choice = doc["choices"][0]
    assert choice["message"]["content"] == "Hello from the kabot-codex emulator (gpt-4o-mini). You said: hello"
    assert choice["finish_reason"] == "stop"
    usage = doc["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert emu.stats()["requests"]["openai.chat"] == 1


def test_chat_stream_with_usage(emu: EmulatorControl, http: httpx.Client) -> None:
    data = chunks(chat(emu, http, stream=True, stream_options={"include_usage": True}))
    assert data[-1] == "[DONE]"
    usage_chunk = data[-2]
    assert usage_chunk["choices"] == [] and usage_chunk["usage"]["prompt_tokens"] > 0
    assert data[-3]["choices"][0]["finish_reason"] == "stop"
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in data[:-2])
    assert text.startswith("Hello from the kabot-codex emulator")
    plain = chunks(chat(emu, http, stream=True))
    assert all("usage" not in c for c in plain[:-1])


def test_chat_tool_calls(emu: EmulatorControl, http: httpx.Client) -> None:
    doc = chat(emu, http, tools=[WEATHER], tool_choice="required").json()
    (call,) = doc["choices"][0]["message"]["tool_calls"]
    assert doc["choices"][0]["finish_reason"] == "tool_calls"
    assert call["function"]["name"] == "get_weather"
    assert json.loads(call["function"]["arguments"]) == {"location": "Paris"}
    data = chunks(chat(emu, http, tools=[WEATHER], tool_choice="required", stream=True))
    deltas = [c["choices"][0]["delta"]["tool_calls"][0] for c in data[:-1]
              if c["choices"] and c["choices"][0]["delta"].get("tool_calls")]
    assert deltas[0]["id"].startswith("call_") and deltas[0]["function"]["name"] == "get_weather"
    assert json.loads("".join(d["function"]["arguments"] for d in deltas)) == {"location": "Paris"}
    followup = chat(emu, http, messages=[
        {"role": "user", "content": "weather?"},
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": call["id"], "content": "rainy"}]).json()
    assert followup["choices"][0]["message"]["content"] == "The tool returned: rainy"


def test_chat_scripted_reply_and_faults(emu: EmulatorControl, http: httpx.Client) -> None:
    emu.reply(text="scripted", target="openai")
    assert chat(emu, http).json()["choices"][0]["message"]["content"] == "scripted"
    emu.fault("usage_limit", target="openai")
    r = chat(emu, http)
    assert r.status_code == 429 and r.json()["error"]["code"] == "insufficient_quota"
    emu.fault("rate_limit", target="openai", retry_after=1)
    r = chat(emu, http)
    assert r.status_code == 429 and r.json()["error"]["code"] == "rate_limit_exceeded"
    assert r.headers["retry-after"] == "1"
    emu.fault("context_length", target="openai")
    r = chat(emu, http)
    assert r.status_code == 400 and r.json()["error"]["code"] == "context_length_exceeded"
    emu.fault("incomplete", target="openai")
    assert chat(emu, http).json()["choices"][0]["finish_reason"] == "length"
    emu.fault("drop_stream", target="openai")
    data = chunks(chat(emu, http, stream=True))
    assert "[DONE]" not in data


def test_auth_and_unknown_model(emu: EmulatorControl, http: httpx.Client) -> None:
    r = http.post(emu.openai_base + "/chat/completions", headers={"Authorization": "Bearer nope"},
                  json={"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}]})
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_api_key"
    r = chat(emu, http, model="gpt-99")
    assert r.status_code == 404 and r.json()["error"]["code"] == "model_not_found"
    emu.account(api_keys=["sk-only-this-one"])
    assert chat(emu, http).status_code == 401
    r = http.post(emu.openai_base + "/chat/completions", headers={"Authorization": "Bearer sk-only-this-one"},
                  json={"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}]})
    assert r.status_code == 200


def test_responses_api_json_and_stream(emu: EmulatorControl, http: httpx.Client) -> None:
    r = http.post(emu.openai_base + "/responses", json={"model": "gpt-5.5", "input": "hi", "store": True,
                                                         "temperature": 0.5, "max_output_tokens": 100})
    assert r.status_code == 200
    doc = r.json()
    assert doc["status"] == "completed" and doc["object"] == "response"
    assert doc["output"][0]["content"][0]["text"] == "Hello from the kabot-codex emulator (gpt-5.5). You said: hi"
    assert doc["usage"]["total_tokens"] > 0
    r = http.post(emu.openai_base + "/responses", json={
        "model": "gpt-5.5", "input": [{"role": "user", "content": "hi"}], "stream": True,
        "reasoning": {"effort": "low", "summary": "auto"}})
    events = parse_sse(r.text)
    assert events[0][0] == "response.created" and events[-1][0] == "response.completed"
    assert len(events[-1][1]["response"]["output"]) == 2  # the public API fills output
    r = http.post(emu.openai_base + "/responses", json={"model": "gpt-nope", "input": "hi"})
    assert r.status_code == 404 and r.json()["error"]["code"] == "model_not_found"
    assert emu.stats()["requests"]["openai.responses"] == 3


def test_models_list(emu: EmulatorControl, http: httpx.Client) -> None:
    doc = http.get(emu.openai_base + "/models").json()
    ids = {m["id"] for m in doc["data"]}
    assert doc["object"] == "list" and {"gpt-5.5", "gpt-4o-mini", "gpt-4.1"} <= ids
