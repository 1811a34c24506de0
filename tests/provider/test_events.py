"""SSE decoding and reduction of Codex events into deltas and one final answer."""

from __future__ import annotations

import json

import pytest

from kabot_codex.provider.events import Delta, ResponseReducer, UpstreamFailure, usage_from
from kabot_codex.provider.sse import SSEDecoder


def frame(payload: dict) -> bytes:
    return f"event: {payload['type']}\ndata: {json.dumps(payload)}\n\n".encode()


USAGE = {"input_tokens": 20, "input_tokens_details": {"cached_tokens": 8}, "output_tokens": 9,
         "output_tokens_details": {"reasoning_tokens": 4}, "total_tokens": 29}


def conversation() -> list[dict]:
    return [
        {"type": "response.created", "response": {"id": "resp_1"}},
        {"type": "response.in_progress", "response": {"id": "resp_1"}},
        {"type": "response.output_item.added", "output_index": 0, "item": {"type": "reasoning", "id": "rs_1"}},
        {"type": "response.reasoning_summary_part.added", "output_index": 0, "item_id": "rs_1", "summary_index": 0},
        {"type": "response.reasoning_summary_text.delta", "output_index": 0, "item_id": "rs_1", "delta": "Think"},
        {"type": "response.reasoning_summary_part.added", "output_index": 0, "item_id": "rs_1", "summary_index": 1},
        {"type": "response.reasoning_summary_text.delta", "output_index": 0, "item_id": "rs_1", "delta": "More"},
        {"type": "response.output_item.done", "output_index": 0, "item": {
            "type": "reasoning", "id": "rs_1", "encrypted_content": "gAAA",
            "summary": [{"type": "summary_text", "text": "Think"}, {"type": "summary_text", "text": "More"}]}},
        {"type": "response.output_item.added", "output_index": 1, "item": {"type": "message", "id": "msg_1"}},
        {"type": "response.output_text.delta", "output_index": 1, "item_id": "msg_1", "delta": "Hello "},
        {"type": "response.output_text.delta", "output_index": 1, "item_id": "msg_1", "delta": "world"},
        {"type": "response.output_item.done", "output_index": 1, "item": {
            "type": "message", "id": "msg_1", "content": [{"type": "output_text", "text": "Hello world"}]}},
        {"type": "response.output_item.added", "output_index": 2, "item": {
            "type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "get_weather"}},
        {"type": "response.function_call_arguments.delta", "output_index": 2, "item_id": "fc_1", "delta": '{"city":'},
        {"type": "response.function_call_arguments.delta", "output_index": 2, "item_id": "fc_1", "delta": '"Paris"}'},
        {"type": "response.output_item.done", "output_index": 2, "item": {
            "type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "get_weather",
            "arguments": '{"city":"Paris"}'}},
        {"type": "response.output_item.added", "output_index": 3, "item": {
            "type": "function_call", "id": "fc_2", "call_id": "call_2", "name": "get_time"}},
        {"type": "response.output_item.done", "output_index": 3, "item": {
            "type": "function_call", "id": "fc_2", "call_id": "call_2", "name": "get_time", "arguments": "{}"}},
        {"type": "response.completed", "response": {"id": "resp_1", "status": "completed", "output": [],
                                                    "usage": USAGE}},
    ]


def run(events: list[dict]) -> tuple[ResponseReducer, list[Delta]]:
    reducer = ResponseReducer()
    decoder = SSEDecoder()
    deltas: list[Delta] = []
    raw = b"".join(frame(e) for e in events)
    for i in range(0, len(raw), 7):  # split mid-frame on purpose
        for event, data in decoder.feed(raw[i:i + 7]):
            deltas.extend(reducer.feed_raw(event, data))
    return reducer, deltas


def test_final_answer_comes_from_output_items_even_when_completed_output_is_empty():
    reducer, _ = run(conversation())
    result = reducer.result()
    assert result.text == "Hello world"
    assert result.reasoning == "Think\n\nMore"
    assert [c["id"] for c in result.tool_calls] == ["call_1", "call_2"]
    assert result.tool_calls[0]["function"] == {"name": "get_weather", "arguments": '{"city":"Paris"}'}
    assert result.finish_reason == "tool_calls"
    assert result.usage == {"prompt_tokens": 20, "completion_tokens": 9, "total_tokens": 29,
                            "prompt_tokens_details": {"cached_tokens": 8},
                            "completion_tokens_details": {"reasoning_tokens": 4}}
    assert result.reasoning_items == [{"type": "reasoning", "encrypted_content": "gAAA", "summary": [
        {"type": "summary_text", "text": "Think"}, {"type": "summary_text", "text": "More"}]}]


def test_stream_deltas_carry_text_reasoning_and_indexed_tool_calls():
    _, deltas = run(conversation())
    assert "".join(d.text for d in deltas if d.kind == "text") == "Hello world"
    assert "".join(d.text for d in deltas if d.kind == "reasoning") == "Think\n\nMore"
    tools = [d for d in deltas if d.kind == "tool"]
    assert [(d.index, d.call_id, d.name) for d in tools if d.call_id] == [(0, "call_1", "get_weather"),
                                                                          (1, "call_2", "get_time")]
    assert "".join(d.text for d in tools if d.index == 0) == '{"city":"Paris"}'
    assert "".join(d.text for d in tools if d.index == 1) == "{}"  # arguments only arrived with done


def test_crlf_and_comments_are_decoded():
    decoder = SSEDecoder()
    out = decoder.feed(b": keep-alive\r\n\r\nevent: x\r\ndata: {\"type\":\"a\"}\r")
    out += decoder.feed(b"\n\r\n")
    assert out == [("x", b'{"type":"a"}')]
    assert SSEDecoder().feed(b"data: a\ndata: b\nid: 7\n\n") == [(None, b"a\nb")]


@pytest.mark.parametrize("reason,finish", [("max_output_tokens", "length"), ("content_filter", "content_filter")])
def test_incomplete_maps_to_finish_reason(reason, finish):
    events = conversation()[:12] + [{"type": "response.incomplete", "response": {
        "status": "incomplete", "incomplete_details": {"reason": reason}, "usage": USAGE}}]
    reducer, _ = run(events)
    assert reducer.result().finish_reason == finish


def test_missing_terminal_event_is_an_error_not_a_short_answer():
    reducer, _ = run(conversation()[:11])
    with pytest.raises(UpstreamFailure) as info:
        reducer.result()
    assert info.value.kind == "truncated"


def test_failed_error_and_wrong_typed_events_raise():
    with pytest.raises(UpstreamFailure) as info:
        run([{"type": "response.failed", "response": {"error": {
            "code": "rate_limit_exceeded", "message": "Rate limit reached. Please try again in 1.5s."}}}])
    assert info.value.code == "rate_limit_exceeded" and info.value.retry_after == 1.5
    with pytest.raises(UpstreamFailure) as info:
        run([{"type": "error", "code": "server_error", "message": "boom"}])
    assert info.value.kind == "error"
    with pytest.raises(UpstreamFailure) as info:
        ResponseReducer().feed_raw("response.output_text.delta", b'{"type":"response.output_text.delta","delta":7}')
    assert info.value.kind == "malformed"


def test_usage_without_details():
    assert usage_from({"input_tokens": 3, "output_tokens": 2}) == {
        "prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}
    assert usage_from(None) is None
