"""What a valid backend call streams back: event order, items, usage, headers, replies."""

from __future__ import annotations

import json
from typing import Any

from kabot_codex.emulator import EmulatorControl
from tests.emulator.helpers import client, parse_sse, post_responses

WEATHER = {"type": "function", "name": "get_weather", "description": "Weather for a city", "strict": False,
           "parameters": {"type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer"},
                                                           "metric": {"type": "boolean"}},
                          "required": ["city", "days"]}}


def user(text: str) -> dict[str, Any]:
    return {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}


def stream(emu: EmulatorControl, **overrides: Any) -> list[tuple[str, Any]]:
    with client() as http:
        r = post_responses(emu, http, **overrides)
    assert r.status_code == 200, r.text
    return parse_sse(r.text)


def done_items(events: list[tuple[str, Any]]) -> list[dict[str, Any]]:
    return [d["item"] for e, d in events if e == "response.output_item.done"]


def test_text_stream_shape(emu: EmulatorControl) -> None:
    events = stream(emu, input=[user("hello world")])
    names = [e for e, _ in events]
    assert names[:4] == ["response.created", "response.in_progress", "response.output_item.added",
                         "response.content_part.added"]
    assert names[-4:] == ["response.output_text.done", "response.content_part.done", "response.output_item.done",
                          "response.completed"]
    assert all(d["type"] == e for e, d in events)
    assert [d["sequence_number"] for _, d in events] == list(range(len(events)))
    deltas = [d["delta"] for e, d in events if e == "response.output_text.delta"]
    text = "Hello from the kabot-codex emulator (gpt-5.5). You said: hello world"
    assert "".join(deltas) == text and len(deltas) > 5
    (item,) = done_items(events)
    assert item["type"] == "message" and item["id"].startswith("msg_")
    assert item["content"][0]["text"] == text
    completed = events[-1][1]["response"]
    assert completed["status"] == "completed"
    assert completed["output"] == []  # the real backend quirk
    assert completed["id"] == events[0][1]["response"]["id"] and completed["id"].startswith("resp_")
    usage = completed["usage"]
    assert set(usage) == {"input_tokens", "input_tokens_details", "output_tokens", "output_tokens_details",
                          "total_tokens"}
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
    assert usage["input_tokens_details"] == {"cached_tokens": 0}
    assert usage["output_tokens_details"] == {"reasoning_tokens": 0}


def test_prompt_cache_key_gives_cached_tokens(emu: EmulatorControl) -> None:
    first = stream(emu, prompt_cache_key="conv-1")[-1][1]["response"]["usage"]
    assert first["input_tokens_details"]["cached_tokens"] == 0
    second = stream(emu, prompt_cache_key="conv-1", input=[user("hi there"), user("more")])[-1][1]["response"]
    cached = second["usage"]["input_tokens_details"]["cached_tokens"]
    assert 0 < cached <= second["usage"]["input_tokens"]


def test_reasoning_item_precedes_message(emu: EmulatorControl) -> None:
    events = stream(emu, reasoning={"effort": "high", "summary": "auto"}, include=["reasoning.encrypted_content"])
    names = [e for e, _ in events]
    for name in ("response.reasoning_summary_part.added", "response.reasoning_summary_text.delta",
                 "response.reasoning_summary_text.done", "response.reasoning_summary_part.done"):
        assert name in names
    assert names.count("response.reasoning_summary_text.delta") >= 2
    reasoning, message = done_items(events)
    assert reasoning["type"] == "reasoning" and reasoning["id"].startswith("rs_")
    assert reasoning["encrypted_content"].startswith("gAAAAA")
    summary = "".join(d["delta"] for e, d in events if e == "response.reasoning_summary_text.delta")
    assert reasoning["summary"] == [{"type": "summary_text", "text": summary}]
    assert message["type"] == "message"
    indexes = [d["output_index"] for e, d in events if e == "response.output_item.done"]
    assert indexes == [0, 1]
    usage = events[-1][1]["response"]["usage"]
    assert usage["output_tokens_details"]["reasoning_tokens"] > 0
    assert usage["output_tokens"] > usage["output_tokens_details"]["reasoning_tokens"]


def test_reasoning_without_summary_still_returns_the_blob(emu: EmulatorControl) -> None:
    events = stream(emu, reasoning={"effort": "low"}, include=["reasoning.encrypted_content"])
    assert "response.reasoning_summary_text.delta" not in [e for e, _ in events]
    reasoning = done_items(events)[0]
    assert reasoning["summary"] == [] and reasoning["encrypted_content"]


def test_default_tool_call_when_user_names_the_tool(emu: EmulatorControl) -> None:
    events = stream(emu, tools=[WEATHER], input=[user("use get_weather please")])
    (call,) = done_items(events)
    assert call["type"] == "function_call" and call["name"] == "get_weather"
    assert call["call_id"].startswith("call_") and call["id"].startswith("fc_")
    assert json.loads(call["arguments"]) == {"city": "Paris", "days": 1}
    added = next(d["item"] for e, d in events if e == "response.output_item.added")
    assert added["name"] == "get_weather" and added["call_id"] == call["call_id"]
    deltas = [d["delta"] for e, d in events if e == "response.function_call_arguments.delta"]
    assert len(deltas) > 1 and "".join(deltas) == call["arguments"]
    done = next(d for e, d in events if e == "response.function_call_arguments.done")
    assert done["arguments"] == call["arguments"]


def test_tool_choice_required_and_named(emu: EmulatorControl) -> None:
    other = {"type": "function", "name": "lookup", "parameters": {"type": "object", "properties": {
        "query": {"type": "string"}, "limit": {"type": "number"}, "tags": {"type": "array"}}}}
    (call,) = done_items(stream(emu, tools=[WEATHER, other], tool_choice="required"))
    assert call["name"] == "get_weather"
    (call,) = done_items(stream(emu, tools=[WEATHER, other],
                                tool_choice={"type": "function", "name": "lookup"}))
    assert call["name"] == "lookup"
    assert json.loads(call["arguments"]) == {"query": "test", "limit": 1, "tags": []}  # none required: all


def test_no_tool_call_unless_asked(emu: EmulatorControl) -> None:
    (item,) = done_items(stream(emu, tools=[WEATHER], input=[user("just chat")]))
    assert item["type"] == "message"


def test_function_call_output_is_echoed(emu: EmulatorControl) -> None:
    items = [user("weather?"), {"type": "function_call", "name": "get_weather", "arguments": "{}",
                                "call_id": "call_9"},
             {"type": "function_call_output", "call_id": "call_9", "output": "sunny, 21C"}]
    (item,) = done_items(stream(emu, tools=[WEATHER], input=items))
    assert item["content"][0]["text"] == "The tool returned: sunny, 21C"


def test_scripted_reply_with_parallel_calls_and_usage(emu: EmulatorControl) -> None:
    emu.reply(text="Checking both.", chunks=3, reasoning="Need two lookups.", tool_calls=[
        {"name": "get_weather", "arguments": '{"city": "Paris"}', "call_id": "call_a"},
        {"name": "get_weather", "arguments": '{"city": "Rome"}'}],
        usage={"input_tokens": 100, "output_tokens": 7, "cached_tokens": 40})
    events = stream(emu, tools=[WEATHER])
    deltas = [d["delta"] for e, d in events if e == "response.output_text.delta"]
    assert deltas == ["Check", "ing b", "oth."]
    kinds = [(i["type"], i.get("call_id")) for i in done_items(events)]
    assert kinds[0] == ("reasoning", None) and kinds[1] == ("message", None)
    assert kinds[2] == ("function_call", "call_a") and kinds[3][0] == "function_call"
    indexes = [d["output_index"] for e, d in events if e == "response.output_item.added"]
    assert indexes == [0, 1, 2, 3]
    usage = events[-1][1]["response"]["usage"]
    assert usage["input_tokens"] == 100 and usage["output_tokens"] == 7 and usage["total_tokens"] == 107
    assert usage["input_tokens_details"] == {"cached_tokens": 40}
    # The scripted reply was used once; the next call is back to the default.
    assert "Hello from" in done_items(stream(emu))[0]["content"][0]["text"]


def test_default_reply_is_sticky(emu: EmulatorControl) -> None:
    emu.set_default_reply(text="x" * 200, chunks=20)
    for _ in range(2):
        events = stream(emu)
        assert len([e for e, _ in events if e == "response.output_text.delta"]) == 20
    emu.set_default_reply()
    assert "Hello from" in done_items(stream(emu))[0]["content"][0]["text"]


def test_rate_limit_headers_move_with_usage(emu: EmulatorControl) -> None:
    tokens = emu.mint_tokens()
    with client() as http:
        seen = []
        for _ in range(3):
            r = post_responses(emu, http, tokens)
            seen.append(float(r.headers["x-codex-primary-used-percent"]))
        h = r.headers
    assert seen == sorted(seen) and seen[-1] > seen[0]
    assert h["x-codex-primary-window-minutes"] == "300" and h["x-codex-secondary-window-minutes"] == "10080"
    assert int(h["x-codex-primary-reset-after-seconds"]) > 0 and int(h["x-codex-primary-reset-at"]) > 0
    for name in ("x-codex-plan-type", "x-codex-active-limit", "x-codex-credits-has-credits",
                 "x-codex-credits-unlimited", "x-models-etag", "x-request-id", "x-codex-secondary-used-percent",
                 "x-codex-secondary-reset-at", "x-codex-secondary-reset-after-seconds"):
        assert h[name]
    assert h["x-codex-plan-type"] == "plus"


def test_wham_usage(emu: EmulatorControl) -> None:
    tokens = emu.mint_tokens()
    with client() as http:
        post_responses(emu, http, tokens)
        r = http.get(emu.url + "/backend-api/wham/usage", headers=emu.auth_headers(tokens))
        assert http.get(emu.url + "/backend-api/wham/usage").status_code == 401
    doc = r.json()
    assert doc["account_id"] == tokens["account_id"] and doc["plan_type"] == "plus"
    primary = doc["rate_limit"]["primary_window"]
    assert primary["limit_window_seconds"] == 18000 and primary["used_percent"] > 0
    assert doc["rate_limit"]["secondary_window"]["limit_window_seconds"] == 604800


def test_requests_are_recorded(emu: EmulatorControl) -> None:
    with client() as http:
        post_responses(emu, http, prompt_cache_key="abc")
        http.get(emu.url + "/nowhere")
    (rec,) = emu.requests(path_contains="/responses")
    assert rec["method"] == "POST" and rec["path"] == "/backend-api/codex/responses"
    assert rec["json"]["prompt_cache_key"] == "abc" and rec["form"] is None
    assert rec["headers"]["chatgpt-account-id"]
    assert [r["path"] for r in emu.requests(limit=1)] == ["/nowhere"]
    assert emu.stats()["requests"]["codex.responses"] == 1
