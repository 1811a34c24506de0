"""The OpenAI-compatible ``/v1`` API (API-key mode and ``openai/...`` fallback deployments).

Speaks api.openai.com's dialect: ``{"error": {...}}`` bodies, ``data: [DONE]`` for Chat
Completions streams, and a fully populated ``output`` for Responses (unlike the backend).
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from kabot_codex.emulator.app import App, Route
from kabot_codex.emulator.faults import apply_http_fault, openai_error
from kabot_codex.emulator.model_catalog import api_model_ids
from kabot_codex.emulator.replies import Plan, chat_plan, prompt_size, responses_plan, split_text, usage_for
from kabot_codex.emulator.responses_stream import GENERIC_MESSAGE, Render, events_for, write_events
from kabot_codex.emulator.state import Fault
from kabot_codex.emulator.validation import effort_for
from kabot_codex.emulator.wire import Exchange, Stream, dumps

__all__ = ["ROUTES"]

CUT_AFTER_CHUNKS = 3


def _headers() -> dict[str, str]:
    return {"openai-processing-ms": "42", "openai-version": "2020-10-01",
            "x-ratelimit-limit-requests": "10000", "x-ratelimit-remaining-requests": "9999",
            "x-ratelimit-limit-tokens": "30000000", "x-ratelimit-remaining-tokens": "29999000",
            "x-ratelimit-reset-requests": "6ms", "x-ratelimit-reset-tokens": "2ms"}


def _authorized(app: App, ex: Exchange) -> bool:
    key = ex.bearer() or ""
    allowed = app.state.account_snapshot().api_keys
    if key and (key in allowed if allowed is not None else key.startswith("sk-")):
        return True
    masked = (key[:3] + "*" * 4 + key[-4:]) if len(key) > 8 else "***"
    ex.send_json(401, openai_error(
        f"Incorrect API key provided: {masked}. You can find your API key at "
        "https://platform.openai.com/account/api-keys.", "invalid_request_error", "invalid_api_key"), _headers())
    return False


def _known_model(ex: Exchange, body: dict[str, Any]) -> str | None:
    model = body.get("model")
    if isinstance(model, str) and model in api_model_ids():
        return model
    ex.send_json(404, openai_error(f"The model `{model}` does not exist or you do not have access to it.",
                                   "invalid_request_error", "model_not_found"), _headers())
    return None


def _object_body(ex: Exchange) -> dict[str, Any] | None:
    body = ex.try_json()
    if isinstance(body, dict):
        return body
    ex.send_json(400, openai_error("We could not parse the JSON body of your request.",
                                   "invalid_request_error", None), _headers())
    return None


def _chat_usage(usage: dict[str, Any]) -> dict[str, Any]:
    return {
        "prompt_tokens": usage["input_tokens"], "completion_tokens": usage["output_tokens"],
        "total_tokens": usage["total_tokens"],
        "prompt_tokens_details": {"cached_tokens": usage["input_tokens_details"]["cached_tokens"],
                                  "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": usage["output_tokens_details"]["reasoning_tokens"],
                                      "audio_tokens": 0, "accepted_prediction_tokens": 0,
                                      "rejected_prediction_tokens": 0},
    }


def _truncate(plan: Plan, reason: str) -> str:
    deltas = plan.deltas or split_text(plan.text or "This answer was cut short")
    plan.deltas = deltas[: max(1, len(deltas) // 2)]
    plan.text = "".join(plan.deltas)
    plan.tool_calls = []
    return reason


def _admit(app: App, ex: Exchange, counter: str) -> tuple[dict[str, Any], str] | None:
    """Count, authorise, parse and apply any HTTP fault; ``None`` means a reply was sent."""
    app.state.count(counter)
    if not _authorized(app, ex):
        return None
    body = _object_body(ex)
    if body is None or (model := _known_model(ex, body)) is None:
        return None
    if apply_http_fault(ex, app.state.take_fault("openai", model), "openai", _headers(), model):
        return None
    return body, model


def _chat(app: App, ex: Exchange) -> None:
    admitted = _admit(app, ex, "openai.chat")
    if admitted is None:
        return
    body, model = admitted
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        ex.send_json(400, openai_error("Missing required parameter: 'messages'.", "invalid_request_error",
                                       "missing_required_parameter", "messages"), _headers())
        return
    fault = app.state.take_fault("openai", model, "stream") or Fault.none()
    kind = fault.kind
    prompt_chars = len(dumps(messages)) + len(dumps(body.get("tools") or []))
    if kind == "context_length":
        ex.send_json(400, openai_error(
            f"This model's maximum context length is 128000 tokens. However, your messages resulted in "
            f"{200000 + prompt_chars // 4} tokens. Please reduce the length of the messages.",
            "invalid_request_error", "context_length_exceeded", "messages"), _headers())
        return
    plan = chat_plan(body, app.state.take_reply("openai"))
    finish = "tool_calls" if plan.tool_calls else "stop"
    if kind == "incomplete":
        finish = _truncate(plan, "length" if fault.param("reason", "max_output_tokens") == "max_output_tokens"
                           else "content_filter")
    effort = body.get("reasoning_effort") if isinstance(body.get("reasoning_effort"), str) else None
    cached = app.state.cached_tokens("api-key", body.get("prompt_cache_key"), max(1, prompt_chars // 4))
    usage = _chat_usage(usage_for(prompt_chars, plan, effort, cached))
    base = {"id": "chatcmpl-" + secrets.token_urlsafe(22).replace("-", "x").replace("_", "y"),
            "created": int(time.time()), "model": model, "system_fingerprint": "fp_kabot_emulator"}
    if body.get("stream"):
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        stream = ex.start_stream(_headers())
        _write_chat_stream(stream, base, plan, finish, usage if include_usage else None, fault)
        return
    if kind in ("drop_stream", "reset_stream", "malformed_sse"):
        ex.drop_connection()
        return
    if kind in ("response_failed", "error_event"):
        ex.send_json(500, openai_error(str(fault.param("message", GENERIC_MESSAGE)), "server_error",
                                       fault.param("code", None)), _headers())
        return
    if kind == "slow":
        time.sleep(float(fault.param("delay_ms", 200)) / 1000)
    calls = [{"id": c.call_id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
             for c in plan.tool_calls]
    message: dict[str, Any] = {"role": "assistant", "content": plan.text, "refusal": None, "annotations": []}
    if calls:
        message["tool_calls"] = calls
    ex.send_json(200, {**base, "object": "chat.completion", "choices": [
        {"index": 0, "message": message, "logprobs": None, "finish_reason": finish}],
        "usage": usage, "service_tier": "default"}, _headers())


def _write_chat_stream(stream: Stream, base: dict[str, Any], plan: Plan, finish: str,
                       usage: dict[str, Any] | None, fault: Fault | None) -> None:
    fault = fault or Fault.none()
    kind = fault.kind
    delay = float(fault.param("delay_ms", 200)) / 1000 if kind == "slow" else 0.0

    def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
        out = {**base, "object": "chat.completion.chunk", "service_tier": "default",
               "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}]}
        if usage is not None:
            out["usage"] = None
        return out

    deltas: list[dict[str, Any]] = [{"role": "assistant", "content": "" if plan.text is not None else None,
                                     "refusal": None}]
    deltas += [{"content": piece} for piece in (plan.deltas if plan.text is not None else [])]
    for i, call in enumerate(plan.tool_calls):
        deltas.append({"tool_calls": [{"index": i, "id": call.call_id, "type": "function",
                                       "function": {"name": call.name, "arguments": ""}}]})
        for piece in split_text(call.arguments, max(1, min(4, len(call.arguments) // 4))):
            deltas.append({"tool_calls": [{"index": i, "function": {"arguments": piece}}]})
    for n, delta in enumerate(deltas):
        if n == CUT_AFTER_CHUNKS and kind in ("drop_stream", "reset_stream", "response_failed", "error_event"):
            if kind == "reset_stream":
                stream.abort()
                return
            if kind != "drop_stream":
                stream.event(None, openai_error(str(fault.param("message", GENERIC_MESSAGE)), "server_error",
                                                fault.param("code", None)))
            stream.finish()
            return
        if delay:
            time.sleep(delay)
        stream.event(None, chunk(delta))
        if n == 1 and kind == "malformed_sse":
            stream.write(b'data: {"id":"chatcmpl-broken","choices":[{"delta":{"content":"unterminated\n\n')
    stream.event(None, chunk({}, finish))
    if usage is not None:
        stream.event(None, {**base, "object": "chat.completion.chunk", "service_tier": "default", "choices": [],
                            "usage": usage})
    stream.event(None, "[DONE]")
    stream.finish()


def _responses(app: App, ex: Exchange) -> None:
    admitted = _admit(app, ex, "openai.responses")
    if admitted is None:
        return
    body, model = admitted
    if not isinstance(body.get("input"), (str, list)):
        ex.send_json(400, openai_error("Missing required parameter: 'input'.", "invalid_request_error",
                                       "missing_required_parameter", "input"), _headers())
        return
    if body.get("previous_response_id"):
        ex.send_json(400, openai_error(f"Previous response with id '{body['previous_response_id']}' not found.",
                                       "invalid_request_error", "previous_response_not_found",
                                       "previous_response_id"), _headers())
        return
    fault = app.state.take_fault("openai", model, "stream") or Fault.none()
    plan = responses_plan(body, app.state.take_reply("openai"))
    effort = effort_for(body)
    if plan.reasoning is not None and effort in (None, "none"):
        effort = "low"
    prompt_chars, input_tokens = prompt_size(body)
    cached = app.state.cached_tokens("api-key", body.get("prompt_cache_key"), input_tokens)
    usage = usage_for(prompt_chars, plan, effort, cached)
    render = Render(body, plan, usage, account_id="api-key", effort=effort, backend=False)
    if body.get("stream"):
        write_events(ex.start_stream(_headers()), render, fault)
        return
    kind = fault.kind
    if kind in ("drop_stream", "reset_stream", "malformed_sse"):
        ex.drop_connection()
        return
    if kind == "error_event":
        ex.send_json(500, openai_error(str(fault.param("message", GENERIC_MESSAGE)), "server_error",
                                       fault.param("code", None)), _headers())
        return
    if kind == "slow":
        time.sleep(float(fault.param("delay_ms", 200)) / 1000)
    events = events_for(render, fault)
    final: dict[str, Any] = {}
    for _, payload in events:
        final = payload
    ex.send_json(200, final["response"], _headers())


def _models(app: App, ex: Exchange) -> None:
    app.state.count("openai.models")
    if not _authorized(app, ex):
        return
    data = [{"id": m, "object": "model", "created": 1767225600, "owned_by": "openai"} for m in api_model_ids()]
    ex.send_json(200, {"object": "list", "data": data}, _headers())


ROUTES: dict[tuple[str, str], Route] = {
    ("POST", "/v1/chat/completions"): _chat,
    ("POST", "/v1/responses"): _responses,
    ("GET", "/v1/models"): _models,
}
