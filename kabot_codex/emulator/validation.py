"""The ChatGPT Codex backend's request-body rules and their exact 400 messages (reference §7).

The backend answers FastAPI-style ``{"detail": "..."}``; every rule here is one a real
client has tripped over, so the provider can be tested against each of them.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from kabot_codex.emulator.model_catalog import CATALOG

__all__ = ["UNSUPPORTED_PARAMS", "check_backend_body", "effort_for", "not_supported"]

#: Parameters the backend rejects with "Unsupported parameter: <name>" (when non-null).
UNSUPPORTED_PARAMS = ("temperature", "top_p", "max_output_tokens", "max_tokens", "max_completion_tokens",
                      "metadata")
KNOWN_INCLUDES = frozenset({"reasoning.encrypted_content", "web_search_call.action.sources",
                            "message.output_text.logprobs"})
TOOL_TYPES = frozenset({"function", "custom", "web_search", "web_search_preview", "local_shell",
                        "file_search", "image_generation"})
ROLES = frozenset({"user", "assistant", "system", "developer"})


def not_supported(model: str) -> str:
    """Return the backend's message for a model the account cannot use."""
    return f"The '{model}' model is not supported when using Codex with a ChatGPT account."


def effort_for(body: dict[str, Any]) -> str | None:
    """Return the reasoning effort a request runs with (model default if unspecified)."""
    reasoning = body.get("reasoning")
    if not isinstance(reasoning, dict):
        return None
    effort = reasoning.get("effort")
    if effort is None:
        info = CATALOG.get(str(body.get("model")))
        return info["default_reasoning_level"] if info else "medium"
    return str(effort)


def _quote_list(values: list[str]) -> str:
    quoted = [f"'{v}'" for v in values]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


def _blob_origin(blob: str) -> dict[str, Any] | None:
    # Only blobs this emulator minted can be checked; foreign ones are passed through.
    if not blob.startswith("gAAAAAB"):
        return None
    raw = blob[len("gAAAAAB"):]
    try:
        data = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _check_input(items: list[Any], model: str, account_id: str) -> str | None:
    calls: set[str] = set()
    answered: set[str] = set()
    for pos, item in enumerate(items):
        if not isinstance(item, dict):
            return f"Invalid type for 'input[{pos}]': expected an object, but got {type(item).__name__} instead."
        kind = item.get("type", "message")
        if kind == "item_reference" or item.get("id"):
            return (f"Item with id '{item.get('id')}' not found. "
                    "Items are not persisted when `store` is set to false.")
        if kind == "message":
            if item.get("role") not in ROLES:
                return f"Invalid value: '{item.get('role')}'. Supported values are: " + _quote_list(sorted(ROLES)) + "."
            if not isinstance(item.get("content"), (str, list)):
                return f"Missing required parameter: 'input[{pos}].content'."
        elif kind == "function_call":
            if not item.get("call_id") or not isinstance(item.get("name"), str):
                return f"Missing required parameter: 'input[{pos}].call_id'."
            if not isinstance(item.get("arguments"), str):
                return f"Invalid type for 'input[{pos}].arguments': expected a string."
            calls.add(item["call_id"])
        elif kind == "function_call_output":
            call_id = item.get("call_id")
            if call_id not in calls:
                return f"No tool call found for function call output with call_id {call_id}."
            answered.add(call_id)
        elif kind == "reasoning":
            origin = _blob_origin(str(item.get("encrypted_content") or ""))
            if origin and (origin.get("model") != model or origin.get("acct") != account_id):
                return "invalid_encrypted_content: The encrypted content could not be verified."
    for call_id in calls - answered:
        return f"No tool output found for function call {call_id}."
    return None


def _check_tools(tools: Any) -> str | None:
    if not isinstance(tools, list):
        return "Invalid type for 'tools': expected an array."
    for i, tool in enumerate(tools):
        if not isinstance(tool, dict):
            return f"Invalid type for 'tools[{i}]': expected an object."
        kind = tool.get("type")
        if kind not in TOOL_TYPES:
            return f"Invalid value: '{kind}'. Supported values are: " + _quote_list(sorted(TOOL_TYPES)) + "."
        if kind == "function":
            if not isinstance(tool.get("name"), str) or not tool["name"]:
                return f"Missing required parameter: 'tools[{i}].name'."
            if "function" in tool:
                return f"Unknown parameter: 'tools[{i}].function'."
    return None


def check_backend_body(body: Any, allowed: list[str], account_id: str) -> str | None:
    """Return the backend's 400 ``detail`` for ``body``, or ``None`` if it is acceptable."""
    if not isinstance(body, dict):
        return "Request body must be a JSON object"
    for name in UNSUPPORTED_PARAMS:
        if body.get(name) is not None:
            return f"Unsupported parameter: {name}"
    if body.get("previous_response_id"):
        return f"Previous response with id '{body['previous_response_id']}' not found."
    if body.get("store") is not False:
        return "Store must be set to false"
    if body.get("stream") is not True:
        return "Stream must be set to true"
    instructions = body.get("instructions")
    if not isinstance(instructions, str) or not instructions.strip():
        return "Instructions are required"
    if not isinstance(body.get("input"), list):
        return "Input must be a list"
    model = body.get("model")
    if not isinstance(model, str) or not model or model not in allowed:
        return not_supported(str(model or ""))
    effort = body.get("reasoning", {}).get("effort") if isinstance(body.get("reasoning"), dict) else None
    if body.get("reasoning") is not None and not isinstance(body.get("reasoning"), dict):
        return "Invalid type for 'reasoning': expected an object."
    if effort is not None:
        levels = [lv["effort"] for lv in CATALOG[model]["supported_reasoning_levels"]]
        if effort not in levels:
            return (f"Unsupported value: '{effort}' is not supported with the '{model}' model. "
                    f"Supported values are: {_quote_list(levels)}.")
    include = body.get("include")
    if include is not None:
        if not isinstance(include, list):
            return "Invalid type for 'include': expected an array."
        for value in include:
            if value not in KNOWN_INCLUDES:
                return f"Invalid value: '{value}'. Supported values are: " + _quote_list(sorted(KNOWN_INCLUDES)) + "."
    if body.get("tools") is not None:
        problem = _check_tools(body["tools"])
        if problem:
            return problem
    choice = body.get("tool_choice")
    if choice is not None and not (choice in ("auto", "none", "required") or isinstance(choice, dict)):
        return f"Invalid value: '{choice}'. Supported values are: 'none', 'auto' and 'required'."
    return _check_input(body["input"], model, account_id)
