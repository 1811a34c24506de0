"""The three smoke checks — completion, stream, tool call — and how a failure is explained.

Each check is one real LiteLLM call through the ``openai-codex`` provider, exactly as a user's
code would make it; nothing here talks HTTP itself.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import litellm

from kabot_codex.auth.redact import redact
from kabot_codex.errors import KabotError

__all__ = ["CheckResult", "explain", "run_checks"]

LOGIN_FIX = "run `kabot login` (or `kabot setup`), then rerun `python -m kabot_codex.smoke`"
MODELS_FIX = ("this account cannot use that model: `kabot models` lists the ones it can; "
              "rerun with --model openai-codex/<slug>")
LIMIT_FIX = ("the account is over its usage limit (see the reset time above): wait, or pick another "
             "model from `kabot models`")
NETWORK_FIX = "the Codex backend could not be reached: check your network or proxy settings and try again"

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather for a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string", "description": "City name, e.g. Paris"}},
            "required": ["city"],
        },
    },
}
HELLO = [{"role": "user", "content": "Reply with one short friendly sentence that says hello."}]
COUNT = [{"role": "user", "content": "Count from one to ten in words, separated by spaces."}]
WEATHER = [{"role": "user", "content": "What is the weather in Paris right now? Use the get_weather tool."}]


@dataclass
class CheckResult:
    """What one check saw. ``status`` is ``pass``, ``fail`` or ``skipped``."""

    name: str
    status: str = "fail"
    latency_s: float | None = None
    ttft_s: float | None = None
    tokens: dict[str, int] | None = None
    detail: str = ""
    error: str | None = None
    hint: str | None = None
    rate_limits: dict[str, Any] | None = field(default=None, repr=False)
    fatal: bool = field(default=False, repr=False)  # later checks would fail the same way

    @property
    def ok(self) -> bool:
        return self.status == "pass"

    def public(self) -> dict[str, Any]:
        """The JSON form (no secrets: replies, timings, token counts, redacted errors)."""
        data = asdict(self)
        data.pop("rate_limits")
        data.pop("fatal")
        for key in ("latency_s", "ttft_s"):
            if data[key] is not None:
                data[key] = round(data[key], 4)
        return data


def _cause(exc: BaseException) -> BaseException:
    # LiteLLM wraps a stream that failed before its first chunk in MidStreamFallbackError, whose
    # message repeats the original's ("… Original exception: APIConnectionError: …"): explain
    # the original, once.
    seen: set[int] = set()
    while isinstance(getattr(exc, "original_exception", None), BaseException) and id(exc) not in seen:
        seen.add(id(exc))
        exc = exc.original_exception  # type: ignore[attr-defined]
    return exc


def _network_fix() -> str:
    base = os.environ.get("OPENAI_CODEX_API_BASE")
    if base:
        return f"nothing answered at {base} (OPENAI_CODEX_API_BASE): start that server or unset the variable"
    return NETWORK_FIX


def explain(exc: BaseException) -> tuple[str, str, bool]:
    """Return (redacted message, what to do, whether the remaining checks are pointless).

    A transport failure (nothing answered, or no answer in time) is fatal: the next checks
    would only wait for the same failure again.
    """
    exc = _cause(exc)
    message = redact(" ".join(str(exc).split()))
    message = re.sub(r"^(litellm\.)?(\w+Error: )?(litellm\.)?", "", message)
    message = message.split(" Original exception: ", 1)[0]
    if len(message) > 400:
        message = message[:397] + "..."
    message = f"{type(exc).__name__}: {message}" if not message.startswith(type(exc).__name__) else message
    lowered = message.lower()
    if isinstance(exc, (litellm.AuthenticationError, litellm.PermissionDeniedError)):
        return message, LOGIN_FIX, True
    if isinstance(exc, litellm.NotFoundError) or "not supported when using codex" in lowered:
        return message, MODELS_FIX, True
    if isinstance(exc, litellm.RateLimitError):
        return message, LIMIT_FIX, "usage limit" in lowered or "usage_limit" in lowered
    if isinstance(exc, (litellm.Timeout, litellm.APIConnectionError)):
        return message, _network_fix(), True
    if isinstance(exc, (litellm.ServiceUnavailableError, litellm.InternalServerError, litellm.BadGatewayError)):
        return message, NETWORK_FIX, False
    if isinstance(exc, litellm.BadRequestError):
        return message, "the backend rejected the request; if it names the model, see `kabot models`", False
    if isinstance(exc, KabotError) and exc.hint:
        return message, exc.hint, False
    return message, "rerun with --json and include its output in a bug report (tokens are redacted)", False


def _tokens(usage: Any) -> dict[str, int] | None:
    if usage is None:
        return None
    out = {}
    for name in ("prompt_tokens", "completion_tokens", "total_tokens"):
        value = getattr(usage, name, None)
        if isinstance(value, int):
            out[name] = value
    return out or None


def _excerpt(text: str, limit: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def check_completion(model: str, timeout: float) -> CheckResult:
    """One plain non-stream completion; it must return some text."""
    result = CheckResult("completion")
    start = time.perf_counter()
    response = litellm.completion(model=model, messages=HELLO, timeout=timeout)
    result.latency_s = time.perf_counter() - start
    text = response.choices[0].message.content or ""
    result.tokens = _tokens(getattr(response, "usage", None))
    result.rate_limits = response._hidden_params.get("codex_rate_limits")
    result.detail = _excerpt(text, 70) or "(empty reply)"
    result.status = "pass" if text.strip() else "fail"
    if not text.strip():
        result.error = "the model returned no text"
    return result


async def _stream(model: str, timeout: float, result: CheckResult) -> None:
    start = time.perf_counter()
    pieces: list[str] = []
    response = await litellm.acompletion(model=model, messages=COUNT, stream=True, timeout=timeout,
                                         stream_options={"include_usage": True})
    async for chunk in response:
        fields = getattr(chunk, "provider_specific_fields", None) or {}
        if result.rate_limits is None and fields.get("codex_rate_limits"):
            result.rate_limits = fields["codex_rate_limits"]
        if chunk.choices and chunk.choices[0].delta.content:
            if result.ttft_s is None:
                result.ttft_s = time.perf_counter() - start
            pieces.append(chunk.choices[0].delta.content)
        usage = getattr(chunk, "usage", None)
        if usage is not None:
            result.tokens = _tokens(usage)
    result.latency_s = time.perf_counter() - start
    text = "".join(pieces)
    # "async" in the reply column: this check covers acompletion/astreaming, the others the sync path.
    result.detail = f"async, {len(pieces)} deltas: {_excerpt(text, 60)}" if pieces else "(no text deltas)"
    result.status = "pass" if pieces and text.strip() else "fail"
    if result.status == "fail":
        result.error = "the stream ended without any text"


def check_stream(model: str, timeout: float) -> CheckResult:
    """One async stream (the path the LiteLLM Proxy and async apps use): count deltas, time to first."""
    result = CheckResult("stream")
    asyncio.run(_stream(model, timeout, result))
    return result


def check_tool_call(model: str, timeout: float) -> CheckResult:
    """One completion that must call ``get_weather`` with JSON-object arguments."""
    result = CheckResult("tool call")
    start = time.perf_counter()
    response = litellm.completion(model=model, messages=WEATHER, tools=[WEATHER_TOOL], tool_choice="required",
                                  timeout=timeout)
    result.latency_s = time.perf_counter() - start
    result.tokens = _tokens(getattr(response, "usage", None))
    result.rate_limits = response._hidden_params.get("codex_rate_limits")
    calls = response.choices[0].message.tool_calls or []
    if not calls:
        result.detail = _excerpt(response.choices[0].message.content or "") or "(no reply)"
        result.error = "no tool call came back"
        return result
    call = calls[0]
    try:
        args = json.loads(call.function.arguments or "{}")
    except ValueError:
        args = None
    result.detail = f"{call.function.name}({_excerpt(call.function.arguments or '', 80)})"
    if call.function.name != "get_weather":
        result.error = f"expected a get_weather call, got {call.function.name!r}"
    elif not isinstance(args, dict):
        result.error = "the tool arguments are not a JSON object"
    else:
        result.status = "pass"
    return result


CHECKS: list[tuple[str, Callable[[str, float], CheckResult]]] = [
    ("completion", check_completion), ("stream", check_stream), ("tool call", check_tool_call)]


def run_checks(model: str, timeout: float, on_result: Callable[[CheckResult], None] | None = None
               ) -> list[CheckResult]:
    """Run the three checks in order; after a fatal error the rest are skipped (same cause)."""
    results: list[CheckResult] = []
    fatal: CheckResult | None = None
    for name, check in CHECKS:
        if fatal is not None:
            result = CheckResult(name, status="skipped", detail=f"skipped: same cause as {fatal.name}")
        else:
            start = time.perf_counter()
            try:
                result = check(model, timeout)
            except Exception as exc:  # noqa: BLE001 - every failure becomes a readable row
                result = CheckResult(name, latency_s=time.perf_counter() - start)
                result.error, result.hint, result.fatal = explain(exc)
            if result.fatal:
                fatal = result
        results.append(result)
        if on_result is not None:
            on_result(result)
    return results
