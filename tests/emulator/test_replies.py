"""What the emulated model answers to structured-output and tool requests: valid against the schema."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest

from kabot_codex.emulator import EmulatorControl
from kabot_codex.emulator.replies import args_from_schema, example_for, responses_plan

# Shaped like what pydantic v2 emits for nested models, optionals, enums and lists (instructor,
# LangChain and DSPy all send these).
PYDANTIC_LIKE: dict[str, Any] = {
    "$defs": {
        "Address": {"properties": {"city": {"type": "string"}, "zip": {"type": "string", "minLength": 5}},
                    "required": ["city", "zip"], "type": "object"},
        "Role": {"enum": ["admin", "user"], "type": "string"},
    },
    "properties": {
        "name": {"type": "string"},
        "age": {"type": "integer", "minimum": 18, "maximum": 130},
        "score": {"exclusiveMinimum": 0, "type": "number"},
        "email": {"format": "email", "type": "string"},
        "address": {"$ref": "#/$defs/Address"},
        "role": {"$ref": "#/$defs/Role"},
        "nickname": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None},
        "tags": {"items": {"type": "string"}, "minItems": 2, "type": "array"},
        "friends": {"items": {"$ref": "#/$defs/Address"}, "type": "array"},
        "active": {"type": "boolean"},
        "kind": {"const": "person"},
        "meta": {"allOf": [{"properties": {"a": {"type": "integer"}}, "required": ["a"]}]},
    },
    "required": ["name", "age", "score", "email", "address", "role", "nickname", "tags", "friends", "active",
                 "kind", "meta"],
    "title": "Person",
    "type": "object",
    "additionalProperties": False,
}


def test_example_validates_against_a_pydantic_like_schema() -> None:
    value = example_for(PYDANTIC_LIKE)
    jsonschema.validate(value, PYDANTIC_LIKE)
    assert value["address"]["city"] == "Paris" and len(value["tags"]) == 2 and value["age"] >= 18


@pytest.mark.parametrize("schema", [
    {"type": ["string", "null"]},
    {"type": "array"},
    {"oneOf": [{"type": "null"}, {"type": "integer", "minimum": 3}]},
    {"properties": {"x": {"type": "number"}}},
    {"type": "string", "maxLength": 2},
])
def test_small_schemas(schema: dict[str, Any]) -> None:
    jsonschema.validate(example_for(schema), schema)


def test_tool_arguments_keep_required_only() -> None:
    schema = {"type": "object", "properties": {"city": {"type": "string"}, "unit": {"type": "string"}},
              "required": ["city"]}
    assert args_from_schema(schema) == {"city": "Paris"}


def _plan(**body: Any):
    body.setdefault("model", "gpt-5.5")
    body.setdefault("input", [{"type": "message", "role": "user", "content": "hi"}])
    return responses_plan(body, None)


LOOKUP = {"type": "function", "name": "lookup", "parameters": PYDANTIC_LIKE}


def test_tool_choice_none_required_and_named() -> None:
    assert not _plan(tools=[LOOKUP], tool_choice="none").tool_calls
    assert not _plan(tools=[LOOKUP], tool_choice="auto").tool_calls  # "lookup" is not mentioned
    (call,) = _plan(tools=[LOOKUP], tool_choice="required").tool_calls
    jsonschema.validate(json.loads(call.arguments), PYDANTIC_LIKE)
    (call,) = _plan(tools=[LOOKUP], tool_choice={"type": "function", "name": "lookup"}).tool_calls
    assert call.name == "lookup"


def test_structured_answer_follows_text_format_even_after_a_tool() -> None:
    fmt = {"type": "json_schema", "name": "person", "schema": PYDANTIC_LIKE, "strict": True}
    plan = _plan(text={"format": fmt})
    jsonschema.validate(json.loads(plan.text), PYDANTIC_LIKE)
    after_tool = _plan(text={"format": fmt}, tools=[LOOKUP], input=[
        {"type": "message", "role": "user", "content": "use lookup"},
        {"type": "function_call", "call_id": "c1", "name": "lookup", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "c1", "output": "42"}])
    assert not after_tool.tool_calls
    jsonschema.validate(json.loads(after_tool.text), PYDANTIC_LIKE)
    assert json.loads(_plan(text={"format": {"type": "json_object"}}).text)


def test_over_http_backend_and_chat_api(emu: EmulatorControl) -> None:
    import httpx

    fmt = {"type": "json_schema", "name": "person", "schema": PYDANTIC_LIKE, "strict": True}
    tokens = emu.mint_tokens(ttl=600)
    body = {"model": "gpt-5.5", "instructions": "x", "store": False, "stream": True, "text": {"format": fmt},
            "input": [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]}]}
    headers = {"authorization": f"Bearer {tokens['access_token']}", "chatgpt-account-id": tokens["account_id"]}
    with httpx.stream("POST", emu.codex_base + "/responses", json=body, headers=headers, timeout=30) as r:
        assert r.status_code == 200, r.read()
        done = [json.loads(line[6:]) for line in r.iter_lines() if line.startswith("data: ")]
    text = next(d["text"] for d in done if d.get("type") == "response.output_text.done")
    jsonschema.validate(json.loads(text), PYDANTIC_LIKE)
    chat = httpx.post(emu.openai_base + "/chat/completions", headers={"authorization": "Bearer sk-test"}, json={
        "model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}],
        "response_format": {"type": "json_schema", "json_schema": {"name": "person", "schema": PYDANTIC_LIKE}}},
        timeout=30)
    jsonschema.validate(json.loads(chat.json()["choices"][0]["message"]["content"]), PYDANTIC_LIKE)
