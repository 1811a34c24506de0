"""Pure translation of a LiteLLM chat call into a Codex Responses request body.

No I/O here: given the model, messages and LiteLLM's ``optional_params``, return the JSON
body, the session id and what was dropped. Mapping rules: codex-protocol.md §7-§8.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["DEFAULT_INSTRUCTIONS", "HOSTED_TOOLS", "CodexRequest", "RequestError", "build_request"]

log = logging.getLogger("kabot_codex")

DEFAULT_INSTRUCTIONS = "You are a helpful assistant."

# The Codex backend answers 400 "Unsupported parameter" for these; LiteLLM callers (and agent
# frameworks) send them routinely, so they are dropped with a one-time warning.
REJECTED_PARAMS = frozenset({"temperature", "top_p", "max_tokens", "max_completion_tokens", "metadata"})
# Chat Completions knobs the Responses API has no equivalent for.
UNMAPPABLE_PARAMS = frozenset({
    "stop", "n", "seed", "presence_penalty", "frequency_penalty", "logit_bias", "logprobs",
    "top_logprobs", "user", "functions", "function_call", "audio", "modalities", "prediction",
    "web_search_options", "prompt_cache_retention",
})
# Set by LiteLLM or the Router, never meant for the backend.
INTERNAL_PARAMS = frozenset({"stream", "stream_options", "max_retries", "extra_headers", "kabot_profile"})
# extra_body may add keys, but not break the request contract with the backend.
PROTECTED_KEYS = frozenset({"model", "input", "store", "stream"})

# Tools the backend runs itself: their results come back inside the answer's text, so they fit
# a chat completion. Client-executed kinds (custom, local_shell, ...) would come back as calls a
# chat-completions tool call cannot carry, so they are refused up front (docs/usage.md#tools).
HOSTED_TOOLS = frozenset({"web_search", "web_search_preview"})
REPLAYED_REASONING_FIELDS = ("type", "summary", "encrypted_content")
# Values that switch reasoning summaries off (Codex omits ``summary`` for "none").
_NO_SUMMARY = frozenset({"none", "off", "false"})

_warned: set[str] = set()


class RequestError(ValueError):
    """The caller's messages or params cannot be expressed as a Codex request."""


@dataclass
class CodexRequest:
    """A ready-to-send body plus what the shell needs around it."""

    body: dict[str, Any]
    session_id: str
    dropped: list[str] = field(default_factory=list)


def _warn_once(name: str, why: str) -> None:
    if name not in _warned:
        _warned.add(name)
        log.warning("openai-codex: ignoring %r (%s); see docs/usage.md#parameters", name, why)


def _text_of(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, str):
                parts.append(part)
            elif isinstance(part, Mapping) and part.get("type") in ("text", "input_text", "output_text"):
                parts.append(str(part.get("text", "")))
        return "\n".join(p for p in parts if p)
    return str(content)


def _input_parts(content: Any, role: str) -> list[dict[str, Any]]:
    if content is None:
        return []
    if isinstance(content, str):
        return [{"type": "input_text", "text": content}] if content else []
    if not isinstance(content, list):
        return [{"type": "input_text", "text": str(content)}]
    parts: list[dict[str, Any]] = []
    for part in content:
        if isinstance(part, str):
            parts.append({"type": "input_text", "text": part})
            continue
        if not isinstance(part, Mapping):
            raise RequestError(f"a content part in a {role} message must be a dict or a string, "
                               f"got {type(part).__name__}")
        kind = part.get("type")
        if kind in ("text", "input_text"):
            parts.append({"type": "input_text", "text": str(part.get("text", ""))})
        elif kind in ("image_url", "input_image"):
            image = part.get("image_url")
            url = image.get("url") if isinstance(image, Mapping) else image
            detail = (image.get("detail") if isinstance(image, Mapping) else None) or part.get("detail")
            if not url:
                raise RequestError(f"an image part in a {role} message has no URL")
            parts.append({"type": "input_image", "image_url": url, "detail": detail or "auto"})
        elif kind in ("file", "input_file"):
            file = part.get("file") if isinstance(part.get("file"), Mapping) else part
            item = {"type": "input_file"}
            for src, dst in (("file_data", "file_data"), ("file_id", "file_id"), ("filename", "filename")):
                if file.get(src):
                    item[dst] = file[src]
            parts.append(item)
        else:
            raise RequestError(f"unsupported content part type {kind!r} in a {role} message")
    return parts


def _tool_output(content: Any) -> str | list[dict[str, Any]]:
    if isinstance(content, list) and any(
        isinstance(p, Mapping) and p.get("type") in ("image_url", "input_image") for p in content
    ):
        return _input_parts(content, "tool")
    return _text_of(content)


def _function_call(call: Mapping[str, Any]) -> dict[str, Any]:
    fn = call.get("function") or {}
    arguments = fn.get("arguments")
    if not isinstance(arguments, str):
        arguments = json.dumps(arguments if arguments is not None else {})
    call_id = call.get("id")
    if not call_id:
        raise RequestError("an assistant tool call has no id")
    return {"type": "function_call", "call_id": str(call_id), "name": fn.get("name", ""), "arguments": arguments}


def _tool_calls(raw: Any) -> list[Mapping[str, Any]]:
    """An assistant message's ``tool_calls``: a list of dicts (or LiteLLM objects)."""
    if not raw:
        return []
    if not isinstance(raw, (list, tuple)):
        raise RequestError(f"an assistant message's tool_calls must be a list, got {type(raw).__name__}")
    calls = []
    for call in raw:
        if hasattr(call, "model_dump"):
            call = call.model_dump()
        if not isinstance(call, Mapping) or not isinstance(call.get("function") or {}, Mapping):
            raise RequestError("each assistant tool call must be a dict like "
                               '{"id": ..., "type": "function", "function": {"name": ..., "arguments": ...}}')
        calls.append(call)
    return calls


def _replayed_reasoning(message: Mapping[str, Any], model: str) -> list[dict[str, Any]]:
    # Encrypted reasoning only verifies for the model (and account) that produced it;
    # replaying it elsewhere fails with invalid_encrypted_content.
    fields = message.get("provider_specific_fields") or {}
    replay = fields.get("codex_reasoning") if isinstance(fields, Mapping) else None
    if not isinstance(replay, Mapping) or replay.get("model") != model:
        return []
    items = replay.get("items") or []
    # Codex sends back only type, summary and encrypted_content (never id, status or the raw
    # reasoning content); anything more is state the backend did not ask for.
    return [{k: item[k] for k in REPLAYED_REASONING_FIELDS if k in item}
            for item in items if isinstance(item, Mapping) and item.get("type") == "reasoning"]


def _convert_messages(messages: list[Any], model: str) -> tuple[str, list[dict[str, Any]]]:
    instructions: str | None = None
    items: list[dict[str, Any]] = []
    for raw in messages:
        if isinstance(raw, Mapping):
            message = raw
        elif hasattr(raw, "model_dump"):  # litellm.Message objects passed back as history
            message = raw.model_dump()
        else:
            raise RequestError(f"a message must be a dict, got {type(raw).__name__}")
        role = message.get("role")
        content = message.get("content")
        if role in ("system", "developer"):
            if instructions is None and role == "system":
                # The backend requires non-empty top-level instructions; the first system
                # message is the caller's own, so it goes there rather than into input.
                instructions = _text_of(content)
                continue
            parts = _input_parts(content, role)
            if parts:
                items.append({"type": "message", "role": "developer", "content": parts})
        elif role == "user":
            parts = _input_parts(content, role)
            if parts:
                items.append({"type": "message", "role": "user", "content": parts})
        elif role == "assistant":
            items.extend(_replayed_reasoning(message, model))
            text = _text_of(content)
            if text:
                items.append({"type": "message", "role": "assistant",
                              "content": [{"type": "output_text", "text": text}]})
            for call in _tool_calls(message.get("tool_calls")):
                items.append(_function_call(call))
        elif role in ("tool", "function"):
            call_id = message.get("tool_call_id") or message.get("name")
            items.append({"type": "function_call_output", "call_id": str(call_id or ""),
                          "output": _tool_output(content)})
        else:
            raise RequestError(f"unsupported message role {role!r}")
    return (instructions or "").strip() or DEFAULT_INSTRUCTIONS, _pair_tool_items(items)


def _pair_tool_items(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Make every function_call have an output and every output a call (the backend demands it)."""
    calls = {i["call_id"] for i in items if i["type"] == "function_call"}
    answered = {i["call_id"] for i in items if i["type"] == "function_call_output"}
    paired: list[dict[str, Any]] = []
    for item in items:
        if item["type"] == "function_call_output" and item["call_id"] not in calls:
            # An orphan output (its call was trimmed from the history): keep the information
            # as plain context instead of a 400 "No tool call found".
            output = item["output"] if isinstance(item["output"], str) else _text_of(item["output"])
            paired.append({"type": "message", "role": "user", "content": [
                {"type": "input_text", "text": f"[result of tool call {item['call_id']}]\n{output}"}]})
            continue
        paired.append(item)
        if item["type"] == "function_call" and item["call_id"] not in answered:
            paired.append({"type": "function_call_output", "call_id": item["call_id"],
                           "output": "No result was provided for this tool call."})
    return paired


def _convert_tools(tools: list[Any]) -> list[dict[str, Any]]:
    converted = []
    for tool in tools:
        if not isinstance(tool, Mapping):
            raise RequestError(f"a tool must be a dict, got {type(tool).__name__}")
        if tool.get("type") == "function" and isinstance(tool.get("function"), Mapping):
            fn = tool["function"]
            if not fn.get("name"):
                raise RequestError("a function tool has no name")
            converted.append({
                "type": "function",
                "name": fn["name"],
                "description": fn.get("description") or "",
                "parameters": fn.get("parameters") or {"type": "object", "properties": {}},
                "strict": bool(fn.get("strict", False)),
            })
        else:
            converted.append(_hosted_tool(tool))
    return converted


def _hosted_tool(tool: Mapping[str, Any]) -> dict[str, Any]:
    kind = tool.get("type")
    if kind in HOSTED_TOOLS:
        return dict(tool)
    if kind == "function":
        raise RequestError("a function tool needs a 'function' object with a name (Chat Completions shape)")
    raise RequestError(
        f"tools of type {kind!r} are not supported: the model would call it as a {kind} tool, which a "
        "chat-completions tool call cannot carry. Declare it as a function tool "
        '({"type": "function", "function": {"name": ..., "parameters": ...}}); hosted tools '
        f"{sorted(HOSTED_TOOLS)} are passed through")


def _check_raw_tools(tools: Any) -> None:
    """Tools given in Responses shape through extra_body get the same refusal."""
    if not isinstance(tools, list):
        raise RequestError("extra_body 'tools' must be a list")
    for tool in tools:
        if not isinstance(tool, Mapping):
            raise RequestError(f"a tool must be a dict, got {type(tool).__name__}")
        if tool.get("type") != "function":
            _hosted_tool(tool)


def _convert_tool_choice(choice: Any) -> Any:
    if isinstance(choice, Mapping) and choice.get("type") == "function":
        fn = choice.get("function") or {}
        return {"type": "function", "name": fn.get("name") or choice.get("name")}
    return choice


def _text_format(response_format: Any) -> dict[str, Any] | None:
    if not isinstance(response_format, Mapping):
        return None
    kind = response_format.get("type")
    if kind == "json_schema":
        spec = response_format.get("json_schema") or {}
        text_format = {"type": "json_schema", "name": spec.get("name") or "output",
                       "schema": spec.get("schema") or {}}
        # Only as the caller set it: the API's default is non-strict, and forcing strict makes
        # the backend reject schemas that cannot be strict (optional fields, free-form objects).
        if spec.get("strict") is not None:
            text_format["strict"] = bool(spec["strict"])
        return text_format
    if kind == "json_object":
        return {"type": "json_object"}
    return None


def _reasoning(model: str, params: dict[str, Any], extra_body: dict[str, Any],
               clamp_effort: Callable[[str, str | None], str | None], default: str | None,
               reasons: bool) -> dict[str, Any] | None:
    """The ``reasoning`` object, or None when nothing is to be sent."""
    given = extra_body.pop("reasoning", None) or params.pop("reasoning", None)
    reasoning = dict(given) if isinstance(given, Mapping) else {}
    effort = params.pop("reasoning_effort", None)
    if isinstance(effort, Mapping):  # LiteLLM also accepts {"effort": ..., "summary": ...}
        reasoning.update(effort)
    elif effort is not None:
        reasoning["effort"] = effort
    summary = params.pop("reasoning_summary", None)
    if summary is not None:
        reasoning["summary"] = summary
    if not reasoning and not reasons:
        return None  # a model without reasoning (or unknown to the catalog): the backend decides
    if reasons and reasoning.get("effort") is None and default is not None:
        reasoning["effort"] = default
    # Codex always asks for summaries; otherwise many models stream no visible reasoning.
    reasoning.setdefault("summary", "auto")
    if reasoning["summary"] is None or str(reasoning["summary"]).lower() in _NO_SUMMARY:
        reasoning.pop("summary")
    if reasoning.get("effort") is not None:
        reasoning["effort"] = clamp_effort(model, str(reasoning["effort"]))
        if reasoning["effort"] is None:
            reasoning.pop("effort")
    return reasoning


def _session_id(explicit: str | None, instructions: str, items: list[dict[str, Any]]) -> str:
    if explicit:
        return explicit
    # Stable per conversation (same system prompt + first user turn), so the backend's prompt
    # cache hits across the turns of one conversation without the caller doing anything.
    first_user = next((i for i in items if i.get("role") == "user"), None)
    seed = json.dumps([instructions, first_user], sort_keys=True, default=str)
    digest = hashlib.sha256(seed.encode()).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"


def build_request(
    model: str,
    messages: list[Any],
    optional_params: Mapping[str, Any],
    *,
    clamp_effort: Callable[[str, str | None], str | None] = lambda _m, e: e,
    supports_parallel_tool_calls: bool = True,
    session_hint: str | None = None,
    reasoning_default: str | None = None,
    reasons: bool = False,
) -> CodexRequest:
    """Return the Codex body for a LiteLLM call. Raises ``RequestError`` for inexpressible input.

    ``reasons``: the model reasons (per the catalog), so reasoning is always sent the way Codex
    sends it — ``{effort: <caller's or reasoning_default>, summary: "auto"}`` plus the encrypted
    reasoning in ``include`` — unless the caller overrides it.
    """
    params = dict(optional_params)
    extra_body = dict(params.pop("extra_body", None) or {})
    instructions, items = _convert_messages(messages, model)

    dropped: list[str] = []
    for name in list(params):
        if name in REJECTED_PARAMS:
            _warn_once(name, "the Codex backend rejects it")
        elif name in UNMAPPABLE_PARAMS:
            _warn_once(name, "the Responses API has no equivalent")
        elif name not in INTERNAL_PARAMS:
            continue
        params.pop(name)
        if name not in INTERNAL_PARAMS:
            dropped.append(name)

    explicit_session = params.pop("prompt_cache_key", None) or extra_body.pop("prompt_cache_key", None)
    session_id = _session_id(explicit_session or session_hint, instructions, items)
    body: dict[str, Any] = {
        "model": model,
        "instructions": instructions,
        "input": items,
        "store": False,
        "stream": True,
        "prompt_cache_key": session_id,
    }

    tools = params.pop("tools", None)
    if tools:
        body["tools"] = _convert_tools(tools)
        body["tool_choice"] = _convert_tool_choice(params.pop("tool_choice", None) or "auto")
        parallel = params.pop("parallel_tool_calls", None)
        body["parallel_tool_calls"] = supports_parallel_tool_calls if parallel is None else bool(parallel)
    else:
        params.pop("tool_choice", None)
        params.pop("parallel_tool_calls", None)

    reasoning = _reasoning(model, params, extra_body, clamp_effort, reasoning_default, reasons)
    if reasoning is not None:
        body["reasoning"] = reasoning
        body["include"] = ["reasoning.encrypted_content"]

    text: dict[str, Any] = dict(extra_body.pop("text", None) or {})
    text_format = _text_format(params.pop("response_format", None))
    if text_format:
        text["format"] = text_format
    verbosity = params.pop("verbosity", None)
    if verbosity:
        text["verbosity"] = verbosity
    if text:
        body["text"] = text

    for name in ("service_tier", "safety_identifier", "truncation", "include"):
        value = params.pop(name, None)
        if value is not None:
            body[name] = value
    for key, value in extra_body.items():
        if key not in PROTECTED_KEYS:
            body[key] = value
    if "tools" in extra_body:
        _check_raw_tools(body["tools"])
    if reasoning is not None and isinstance(body.get("include"), list) and (
            "reasoning.encrypted_content" not in body["include"]):
        # A caller's own include list adds to the encrypted reasoning, never replaces it.
        body["include"] = [*body["include"], "reasoning.encrypted_content"]
    # Anything left is an unknown kwarg LiteLLM passed through; sending it would only earn
    # a 400 from the backend, so it is dropped with a warning instead.
    for name in params:
        _warn_once(name, "not a parameter the Codex backend accepts")
        dropped.append(name)
    return CodexRequest(body=body, session_id=session_id, dropped=dropped)
