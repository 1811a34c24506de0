"""Deciding what the emulated model "says": scripted replies or the deterministic default.

Both the Codex backend and the ``/v1`` API turn a request into a ``Plan``; each then
renders the plan in its own wire format.
"""

from __future__ import annotations

import json
import re
import secrets
import string
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Plan",
    "ToolCall",
    "args_from_schema",
    "chat_plan",
    "estimate_tokens",
    "example_for",
    "new_call_id",
    "responses_plan",
    "split_text",
    "structured_text",
    "usage_for",
]

_ALNUM = string.ascii_letters + string.digits
EFFORT_TOKENS = {"minimal": 8, "low": 16, "medium": 64, "high": 128, "xhigh": 256, "max": 512, "ultra": 1024}


def new_call_id() -> str:
    """Return a call id shaped like the real ones (``call_`` + 24 alphanumerics)."""
    return "call_" + "".join(secrets.choice(_ALNUM) for _ in range(24))


@dataclass
class ToolCall:
    """One function call the model makes."""

    name: str
    arguments: str
    call_id: str = field(default_factory=new_call_id)


@dataclass
class Plan:
    """What to answer, independent of the wire format."""

    text: str | None = None
    deltas: list[str] = field(default_factory=list)
    tool_calls: list[ToolCall] = field(default_factory=list)
    reasoning: str | None = None
    usage: dict[str, Any] | None = None


def split_text(text: str, chunks: int | None = None) -> list[str]:
    """Split ``text`` into ``chunks`` even pieces, or into word-sized deltas when not given."""
    if not text:
        return [text]
    if chunks and chunks > 0:
        n = min(chunks, len(text))
        size, extra = divmod(len(text), n)
        pieces, start = [], 0
        for i in range(n):
            end = start + size + (1 if i < extra else 0)
            pieces.append(text[start:end])
            start = end
        return pieces
    pieces = re.findall(r"\s*\S+", text)
    tail = text[len("".join(pieces)):]
    if tail:
        pieces.append(tail)
    return pieces or [text]


def estimate_tokens(text: str) -> int:
    """Approximate tokens as chars/4 (deterministic, good enough for usage accounting)."""
    return max(1, (len(text) + 3) // 4) if text else 0


_MAX_DEPTH = 8
_FORMAT_EXAMPLES = {"date-time": "2026-01-01T00:00:00Z", "date": "2026-01-01", "time": "00:00:00",
                    "email": "user@example.com", "uri": "https://example.com", "uuid":
                    "00000000-0000-4000-8000-000000000000"}


def _resolve(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """Follow a local ``$ref`` (``#/$defs/X`` or ``#/definitions/X``); siblings of the ref win."""
    seen = 0
    while isinstance(schema.get("$ref"), str) and seen < _MAX_DEPTH:
        target = defs.get(schema["$ref"].rsplit("/", 1)[-1])
        if not isinstance(target, dict):
            break
        schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
        seen += 1
    return schema


def _string_example(name: str, schema: dict[str, Any]) -> str:
    value = _FORMAT_EXAMPLES.get(str(schema.get("format")), "")
    if not value:
        value = "Paris" if re.search(r"city|location|place|town", name, re.I) else "test"
    minimum = schema.get("minLength")
    if isinstance(minimum, int) and len(value) < minimum:
        value += "x" * (minimum - len(value))
    maximum = schema.get("maxLength")
    return value[:maximum] if isinstance(maximum, int) and maximum >= 0 else value


def _number_example(kind: str, schema: dict[str, Any]) -> int | float:
    low = schema.get("minimum", schema.get("exclusiveMinimum"))
    high = schema.get("maximum", schema.get("exclusiveMaximum"))
    value: float = 1
    if isinstance(low, (int, float)):
        value = low + (1 if "exclusiveMinimum" in schema and "minimum" not in schema else 0)
        value = max(value, low)
    if isinstance(high, (int, float)) and value > high:
        value = high
    return int(value) if kind == "integer" else value


def example_for(schema: Any, name: str = "", defs: dict[str, Any] | None = None, depth: int = 0) -> Any:
    """Return a value that validates against ``schema`` (the subset tools and structured outputs use).

    Handles local ``$ref``/``$defs``, ``anyOf``/``oneOf`` (first non-null branch), ``allOf``,
    ``enum``/``const``, type lists, string formats and lengths, numeric bounds, ``minItems``, and
    objects (required properties; every property when none is listed).
    """
    if not isinstance(schema, dict) or depth > _MAX_DEPTH:
        return None
    defs = {**(defs or {}), **(schema.get("$defs") or {}), **(schema.get("definitions") or {})}
    schema = _resolve(schema, defs)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    if "default" in schema and schema["default"] is not None:
        return schema["default"]
    for key in ("anyOf", "oneOf"):
        options = [o for o in schema.get(key) or [] if isinstance(o, dict)]
        if options:
            chosen = next((o for o in options if _resolve(o, defs).get("type") != "null"), options[0])
            return example_for(chosen, name, defs, depth + 1)
    if schema.get("allOf"):
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            if isinstance(part, dict):
                part = _resolve(part, defs)
                merged = {**merged, **part, "properties": {**merged.get("properties", {}),
                                                           **(part.get("properties") or {})},
                          "required": [*merged.get("required", []), *(part.get("required") or [])]}
        return example_for(merged, name, defs, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind is None:
        kind = "object" if "properties" in schema else "array" if "items" in schema else "string"
    if kind == "string":
        return _string_example(name, schema)
    if kind in ("number", "integer"):
        return _number_example(kind, schema)
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    if kind == "array":
        items = schema.get("items")
        if not isinstance(items, dict):
            return []
        count = max(1, int(schema.get("minItems") or 0))
        return [example_for(items, name, defs, depth + 1) for _ in range(count)]
    if kind == "object":
        return _object_example(schema, defs, depth)
    return "test"


def _object_example(schema: dict[str, Any], defs: dict[str, Any], depth: int) -> dict[str, Any]:
    props = schema.get("properties") or {}
    required = schema.get("required") or list(props)
    return {key: example_for(props.get(key) or {}, key, defs, depth + 1) for key in required if key in props}


def args_from_schema(schema: dict[str, Any] | None) -> dict[str, Any]:
    """Build tool arguments from a JSON schema: required properties only (all, if none are required)."""
    value = example_for(schema or {"type": "object"})
    return value if isinstance(value, dict) else {}


def structured_text(text_format: Any) -> str | None:
    """The answer text a structured-output request asks for, or None for plain text.

    ``json_schema`` gets a JSON document that validates against the schema; ``json_object``
    gets a small JSON object.
    """
    if not isinstance(text_format, dict):
        return None
    if text_format.get("type") == "json_schema":
        schema = text_format.get("schema")
        if schema is None and isinstance(text_format.get("json_schema"), dict):  # Chat Completions shape
            schema = text_format["json_schema"].get("schema")
        return json.dumps(example_for(schema or {"type": "object"}))
    if text_format.get("type") == "json_object":
        return json.dumps({"message": "test"})
    return None


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                parts.append(part["text"])
            elif isinstance(part, str):
                parts.append(part)
        return "".join(parts)
    return ""


def _hello(model: str, said: str) -> str:
    return f"Hello from the kabot-codex emulator ({model}). You said: {said}"


def _pick_tool(tools: list[tuple[str, dict[str, Any]]], tool_choice: Any, user_text: str
               ) -> tuple[str, dict[str, Any]] | None:
    if not tools or tool_choice == "none":
        return None
    forced = None
    if isinstance(tool_choice, dict):
        forced = tool_choice.get("name") or (tool_choice.get("function") or {}).get("name")
    if forced:
        return next((t for t in tools if t[0] == forced), tools[0])
    if tool_choice == "required":
        return next((t for t in tools if t[0].lower() in user_text.lower()), tools[0])
    return next((t for t in tools if t[0].lower() in user_text.lower()), None)


def _from_script(reply: dict[str, Any], fallback: Plan) -> Plan:
    text = reply.get("text")
    calls = [ToolCall(c["name"], c.get("arguments") if isinstance(c.get("arguments"), str)
                      else json.dumps(c.get("arguments") or {}), c.get("call_id") or new_call_id())
             for c in (reply.get("tool_calls") or [])]
    if text is None and not calls:
        text = fallback.text if fallback.text is not None else ""
    deltas = split_text(text, reply.get("chunks")) if text is not None else []
    return Plan(text, deltas, calls, reply.get("reasoning"), reply.get("usage"))


def responses_plan(body: dict[str, Any], scripted: dict[str, Any] | None) -> Plan:
    """Plan the answer to a Responses-API body (backend or ``/v1/responses``)."""
    model = str(body.get("model"))
    items = body.get("input")
    if isinstance(items, str):
        items = [{"role": "user", "content": items}]
    items = [i for i in (items or []) if isinstance(i, dict)]
    user_text = next((_text_of(i.get("content")) for i in reversed(items)
                      if i.get("role") == "user" and i.get("type", "message") == "message"), "")
    tools = [(t["name"], t.get("parameters") or {}) for t in body.get("tools") or []
             if isinstance(t, dict) and t.get("type") == "function" and isinstance(t.get("name"), str)]
    last = items[-1] if items else {}
    tool_output = _text_of(last.get("output")) if last.get("type") == "function_call_output" else None
    text = body.get("text") if isinstance(body.get("text"), dict) else {}
    return _plan(model, user_text, tools, tool_output, body.get("tool_choice"), scripted, text.get("format"))


def chat_plan(body: dict[str, Any], scripted: dict[str, Any] | None) -> Plan:
    """Plan the answer to a Chat Completions body."""
    model = str(body.get("model"))
    messages = [m for m in body.get("messages") or [] if isinstance(m, dict)]
    user_text = next((_text_of(m.get("content")) for m in reversed(messages) if m.get("role") == "user"), "")
    tools: list[tuple[str, dict[str, Any]]] = []
    for tool in body.get("tools") or []:
        function = tool.get("function") if isinstance(tool, dict) else None
        if isinstance(function, dict) and isinstance(function.get("name"), str):
            tools.append((function["name"], function.get("parameters") or {}))
    last = messages[-1] if messages else {}
    tool_output = _text_of(last.get("content")) if last.get("role") == "tool" else None
    return _plan(model, user_text, tools, tool_output, body.get("tool_choice"), scripted,
                 body.get("response_format"))


def _plan(model: str, user_text: str, tools: list[tuple[str, dict[str, Any]]], tool_output: str | None,
          tool_choice: Any, scripted: dict[str, Any] | None, text_format: Any = None) -> Plan:
    """The default answer (tool result echo, a tool call, or a hello), unless a reply is scripted.

    A structured-output request (``text.format`` / ``response_format``) turns the final answer into
    JSON that matches the requested schema.
    """
    plan = Plan()
    structured = structured_text(text_format)
    # After a tool result the model answers, unless the caller insists on another call.
    tool = None if tool_output is not None and tool_choice != "required" else _pick_tool(tools, tool_choice, user_text)
    if tool is not None:
        plan.tool_calls = [ToolCall(tool[0], json.dumps(args_from_schema(tool[1])))]
    elif structured is not None:
        plan.text = structured
    elif tool_output is not None:
        plan.text = f"The tool returned: {tool_output}"
    else:
        plan.text = _hello(model, user_text)
    if scripted is not None:
        return _from_script(scripted, plan)
    plan.deltas = split_text(plan.text) if plan.text is not None else []
    return plan


def prompt_size(body: dict[str, Any]) -> tuple[int, int]:
    """Return (prompt characters, input tokens) of a Responses body; ~4 characters a token."""
    def size(value: Any) -> int:  # as the wire carries it: compact JSON
        return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False))

    chars = len(str(body.get("instructions") or "")) + size(body.get("input") or []) + size(body.get("tools") or [])
    return chars, max(1, (chars + 3) // 4)


def usage_for(prompt_chars: int, plan: Plan, effort: str | None, cached: int) -> dict[str, Any]:
    """Return Responses-style usage; ``plan.usage`` overrides individual fields."""
    input_tokens = max(1, (prompt_chars + 3) // 4)
    reasoning_tokens = 0
    if effort and effort != "none":
        reasoning_tokens = EFFORT_TOKENS.get(effort, 64) + estimate_tokens(plan.reasoning or "")
    visible = estimate_tokens(plan.text or "") + sum(
        estimate_tokens(c.name + c.arguments) for c in plan.tool_calls)
    output_tokens = max(1, visible) + reasoning_tokens
    usage: dict[str, Any] = {
        "input_tokens": input_tokens,
        "input_tokens_details": {"cached_tokens": min(cached, input_tokens)},
        "output_tokens": output_tokens,
        "output_tokens_details": {"reasoning_tokens": reasoning_tokens},
        "total_tokens": input_tokens + output_tokens,
    }
    override = plan.usage or {}
    if override:
        for key in ("input_tokens", "output_tokens", "total_tokens"):
            if key in override:
                usage[key] = override[key]
        if "cached_tokens" in override:
            usage["input_tokens_details"] = {"cached_tokens": override["cached_tokens"]}
        if "reasoning_tokens" in override:
            usage["output_tokens_details"] = {"reasoning_tokens": override["reasoning_tokens"]}
        for key in ("input_tokens_details", "output_tokens_details"):
            if isinstance(override.get(key), dict):
                usage[key] = {**usage[key], **override[key]}
        if "total_tokens" not in override:
            usage["total_tokens"] = usage["input_tokens"] + usage["output_tokens"]
    return usage
