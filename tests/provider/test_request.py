"""The pure request builder: LiteLLM chat params -> Codex Responses body."""

from __future__ import annotations

import logging

import pytest

from kabot_codex.provider.request import DEFAULT_INSTRUCTIONS, RequestError, build_request


def body(messages, **params):
    return build_request("gpt-5.5", messages, params).body


def test_fixed_fields_and_instructions_from_first_system_message():
    b = body([{"role": "system", "content": "Be terse."}, {"role": "user", "content": "hi"}])
    assert b["model"] == "gpt-5.5"
    assert b["store"] is False and b["stream"] is True
    assert b["instructions"] == "Be terse."
    assert b["input"] == [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]}]
    assert b["prompt_cache_key"]


def test_default_instructions_when_no_system_message_and_extra_system_becomes_developer():
    assert body([{"role": "user", "content": "hi"}])["instructions"] == DEFAULT_INSTRUCTIONS
    b = body(
        [
            {"role": "user", "content": "hi"},
            {"role": "system", "content": "rule"},
            {"role": "system", "content": "later rule"},
        ]
    )
    assert b["instructions"] == "rule"
    assert b["input"][1] == {
        "type": "message",
        "role": "developer",
        "content": [{"type": "input_text", "text": "later rule"}],
    }
    b = body(
        [{"role": "system", "content": "a"}, {"role": "developer", "content": "b"}, {"role": "user", "content": "c"}]
    )
    assert b["instructions"] == "a" and b["input"][0]["role"] == "developer"


def test_user_images_and_text_parts():
    b = body(
        [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "what is this?"},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA", "detail": "low"}},
                ],
            }
        ]
    )
    assert b["input"][0]["content"] == [
        {"type": "input_text", "text": "what is this?"},
        {"type": "input_image", "image_url": "data:image/png;base64,AAAA", "detail": "low"},
    ]


def test_tool_round_trip_history_maps_to_function_items_without_ids():
    messages = [
        {"role": "user", "content": "weather in Paris?"},
        {
            "role": "assistant",
            "content": "Checking.",
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
    ]
    items = body(messages)["input"]
    assert items[1] == {
        "type": "message",
        "role": "assistant",
        "content": [{"type": "output_text", "text": "Checking."}],
    }
    assert items[2] == {
        "type": "function_call",
        "call_id": "call_1",
        "name": "get_weather",
        "arguments": '{"city":"Paris"}',
    }
    assert items[3] == {"type": "function_call_output", "call_id": "call_1", "output": "sunny"}
    assert all("id" not in item for item in items)


def test_orphan_calls_and_outputs_are_repaired():
    messages = [
        {
            "role": "assistant",
            "tool_calls": [{"id": "call_a", "type": "function", "function": {"name": "f", "arguments": "{}"}}],
        },
        {"role": "user", "content": "never mind"},
        {"role": "tool", "tool_call_id": "call_zzz", "content": "stale"},
    ]
    items = body(messages)["input"]
    assert items[1] == {
        "type": "function_call_output",
        "call_id": "call_a",
        "output": "No result was provided for this tool call.",
    }
    assert items[-1]["type"] == "message" and "stale" in items[-1]["content"][0]["text"]


def test_tools_are_flattened_and_tool_choice_mapped():
    tools = [
        {
            "type": "function",
            "function": {"name": "f", "description": "d", "parameters": {"type": "object", "properties": {}}},
        }
    ]
    b = body(
        [{"role": "user", "content": "x"}],
        tools=tools,
        tool_choice={"type": "function", "function": {"name": "f"}},
        parallel_tool_calls=False,
    )
    assert b["tools"] == [
        {
            "type": "function",
            "name": "f",
            "description": "d",
            "parameters": {"type": "object", "properties": {}},
            "strict": False,
        }
    ]
    assert b["tool_choice"] == {"type": "function", "name": "f"}
    assert b["parallel_tool_calls"] is False
    b = body([{"role": "user", "content": "x"}], tools=tools)
    assert b["tool_choice"] == "auto" and b["parallel_tool_calls"] is True


def test_rejected_params_are_never_sent_and_warned_once(caplog):
    caplog.set_level(logging.WARNING, logger="kabot_codex")
    request = build_request(
        "gpt-5.5",
        [{"role": "user", "content": "x"}],
        {
            "temperature": 0.2,
            "top_p": 1,
            "max_tokens": 5,
            "max_completion_tokens": 5,
            "metadata": {"a": 1},
            "stream": True,
            "max_retries": 0,
            "stop": ["x"],
        },
    )
    for name in (
        "temperature",
        "top_p",
        "max_tokens",
        "max_completion_tokens",
        "metadata",
        "stop",
        "max_output_tokens",
        "stream_options",
    ):
        assert name not in request.body
    assert request.body["stream"] is True
    assert set(request.dropped) >= {"temperature", "top_p", "max_tokens", "max_completion_tokens", "metadata"}


def test_reasoning_effort_is_clamped_and_includes_encrypted_content():
    clamp = lambda model, effort: {"minimal": "low"}.get(effort, effort)  # noqa: E731
    b = build_request(
        "gpt-5.5", [{"role": "user", "content": "x"}], {"reasoning_effort": "minimal"}, clamp_effort=clamp
    ).body
    assert b["reasoning"] == {"effort": "low", "summary": "auto"}
    assert b["include"] == ["reasoning.encrypted_content"]
    assert "reasoning" not in body([{"role": "user", "content": "x"}])


def test_reasoning_via_extra_body_and_response_format_json_schema():
    b = body(
        [{"role": "user", "content": "x"}],
        extra_body={"reasoning": {"effort": "high", "summary": "detailed"}},
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "out", "schema": {"type": "object"}, "strict": True},
        },
    )
    assert b["reasoning"] == {"effort": "high", "summary": "detailed"}
    assert b["text"] == {"format": {"type": "json_schema", "name": "out", "schema": {"type": "object"}, "strict": True}}


def test_session_id_is_stable_per_conversation_and_overridable():
    first = build_request("m", [{"role": "user", "content": "hello"}], {})
    again = build_request(
        "m",
        [
            {"role": "user", "content": "hello"},
            {"role": "assistant", "content": "hi"},
            {"role": "user", "content": "more"},
        ],
        {},
    )
    other = build_request("m", [{"role": "user", "content": "bye"}], {})
    assert first.session_id == again.session_id != other.session_id
    assert build_request("m", [{"role": "user", "content": "x"}], {"prompt_cache_key": "conv-7"}).session_id == "conv-7"


def test_extra_body_cannot_break_the_contract():
    b = body(
        [{"role": "user", "content": "x"}], extra_body={"store": True, "stream": False, "service_tier": "priority"}
    )
    assert b["store"] is False and b["stream"] is True and b["service_tier"] == "priority"


def test_reasoning_replay_only_for_the_same_model():
    replay = {
        "codex_reasoning": {
            "model": "gpt-5.5",
            "items": [{"type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": "gAAA"}],
        }
    }
    messages = [
        {"role": "user", "content": "q"},
        {"role": "assistant", "content": "a", "provider_specific_fields": replay},
        {"role": "user", "content": "q2"},
    ]
    items = build_request("gpt-5.5", messages, {}).body["input"]
    assert items[1] == {"type": "reasoning", "summary": [], "encrypted_content": "gAAA"}
    items = build_request("gpt-5.6-sol", messages, {}).body["input"]
    assert all(item["type"] != "reasoning" for item in items)


def test_bad_input_raises_request_error():
    with pytest.raises(RequestError):
        body([{"role": "wizard", "content": "x"}])
    with pytest.raises(RequestError):
        body([{"role": "user", "content": [{"type": "audio_blob"}]}])
    with pytest.raises(RequestError):
        body(["just a string"])
    with pytest.raises(RequestError):
        body([{"role": "user", "content": "x"}], tools=[{"type": "function", "function": {"description": "no name"}}])
