"""Codex fidelity (issue 7): what today's Codex CLI sends and how it reads the backend's answers.

Request-side facts are checked on the wire (the emulator records every request); error and
header facts through real ``litellm`` calls against the emulator.
"""

from __future__ import annotations

import time

import httpx
import litellm
import pytest

from kabot_codex import state
from kabot_codex.auth.credentials import Credentials
from kabot_codex.provider.errors import from_failure, from_response
from kabot_codex.provider.events import ResponseReducer, UpstreamFailure
from kabot_codex.provider.request import build_request
from kabot_codex.provider.transport import parse_rate_limits

MODEL = "openai-codex/gpt-5.5"
HELLO = [{"role": "user", "content": "hello"}]
REQUEST = httpx.Request("POST", "http://127.0.0.1:9/backend-api/codex/responses")


def account_key(tokens: dict) -> str:
    return Credentials(mode="chatgpt", token="unused", account_id=str(tokens["account_id"])).account_key


def last_body_and_headers(emu) -> tuple[dict, dict]:
    sent = emu.requests(path_contains="/codex/responses")[-1]
    return sent["json"], {k.lower(): v for k, v in sent["headers"].items()}


# -- headers -------------------------------------------------------------------------------------
def test_both_session_spellings_thread_id_client_request_id_and_version_are_sent(emu, logged_in):
    litellm.completion(model=MODEL, messages=HELLO)
    body, headers = last_body_and_headers(emu)
    session = body["prompt_cache_key"]
    assert headers["session_id"] == headers["session-id"] == headers["thread-id"] == session
    assert headers["x-client-request-id"] == session
    assert headers["version"] == "0.146.0"


# -- reasoning defaults ---------------------------------------------------------------------------
def test_reasoning_models_always_get_codex_reasoning_defaults(emu, logged_in):
    litellm.completion(model=MODEL, messages=HELLO)
    body, _ = last_body_and_headers(emu)
    assert body["reasoning"] == {"effort": "medium", "summary": "auto"}  # gpt-5.5's catalog default
    assert body["include"] == ["reasoning.encrypted_content"]
    litellm.completion(model="openai-codex/gpt-5.6-sol", messages=HELLO)
    body, _ = last_body_and_headers(emu)
    assert body["reasoning"] == {"effort": "low", "summary": "auto"}


def test_reasoning_defaults_are_overridable_per_call():
    def build(**params):
        return build_request("gpt-5.5", HELLO, params, reasons=True, reasoning_default="medium").body

    assert build(reasoning_effort="high")["reasoning"] == {"effort": "high", "summary": "auto"}
    assert build(reasoning_summary="none")["reasoning"] == {"effort": "medium"}
    assert build(reasoning_summary="detailed")["reasoning"]["summary"] == "detailed"
    assert build(extra_body={"reasoning": {"summary": None}})["reasoning"] == {"effort": "medium"}
    assert build(include=["web_search_call.action.sources"])["include"] == [
        "web_search_call.action.sources", "reasoning.encrypted_content"]
    # A model the catalog does not know as reasoning gets nothing unless asked.
    assert "reasoning" not in build_request("gpt-4o", HELLO, {}).body


def test_replayed_reasoning_is_reduced_to_what_codex_sends_back():
    item = {"type": "reasoning", "id": "rs_1", "status": "completed", "summary": [{"type": "summary_text",
            "text": "s"}], "content": [{"type": "reasoning_text", "text": "raw"}], "encrypted_content": "gAAA"}
    messages = [*HELLO, {"role": "assistant", "content": "a", "provider_specific_fields": {
        "codex_reasoning": {"model": "gpt-5.5", "items": [item]}}}, {"role": "user", "content": "more"}]
    replayed = build_request("gpt-5.5", messages, {}).body["input"][1]
    assert replayed == {"type": "reasoning", "summary": item["summary"], "encrypted_content": "gAAA"}
    # and what the reducer hands out for replay is already reduced
    reducer = ResponseReducer()
    reducer.feed("response.output_item.done", {"output_index": 0, "item": item})
    reducer.feed("response.completed", {"response": {}})
    assert reducer.result().reasoning_items == [replayed]


# -- structured output ----------------------------------------------------------------------------
def test_strict_is_sent_only_as_the_caller_set_it():
    schema = {"type": "object", "properties": {"a": {"type": "string"}}}

    def fmt(**spec):
        fmt_in = {"type": "json_schema", "json_schema": {"name": "out", "schema": schema, **spec}}
        return build_request("gpt-5.5", HELLO, {"response_format": fmt_in}).body["text"]["format"]

    assert "strict" not in fmt()
    assert fmt(strict=False)["strict"] is False
    assert fmt(strict=True)["strict"] is True


# -- tools ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("tool", [
    {"type": "custom", "name": "apply_patch", "description": "freeform patch"},
    {"type": "local_shell"},
    {"type": "code_interpreter", "container": {"type": "auto"}},
])
def test_client_executed_tool_kinds_are_refused_before_any_request(emu, logged_in, tool):
    before = len(emu.requests(path_contains="/codex/responses"))
    with pytest.raises(litellm.BadRequestError) as info:
        litellm.completion(model=MODEL, messages=HELLO, tools=[tool], num_retries=0)
    assert f"type {tool['type']!r} are not supported" in str(info.value)
    assert "function tool" in str(info.value)
    with pytest.raises(litellm.BadRequestError):
        litellm.completion(model=MODEL, messages=HELLO, extra_body={"tools": [tool]}, num_retries=0)
    assert len(emu.requests(path_contains="/codex/responses")) == before


def test_hosted_web_search_still_passes_through():
    body = build_request("gpt-5.5", HELLO, {"tools": [{"type": "web_search"}]}).body
    assert body["tools"] == [{"type": "web_search"}]


# -- plan / quota errors --------------------------------------------------------------------------
@pytest.mark.parametrize("code,says", [("usage_not_included", "not included in your ChatGPT plan"),
                                       ("insufficient_quota", "out of quota")])
def test_plan_errors_are_fatal_clear_and_block_nothing(emu, logged_in, code, says):
    for inject in (lambda: emu.fault("usage_limit", error_type=code),  # HTTP 429 body
                   lambda: emu.fault("response_failed", code=code, message="no")):  # in-stream
        inject()
        with pytest.raises(litellm.PermissionDeniedError) as info:
            litellm.completion(model=MODEL, messages=HELLO, num_retries=0)
        assert says in str(info.value) and "resets" not in str(info.value)
        assert state.blocked_until(account_key(logged_in)) is None
        # no one-hour account block: the very next call goes out and succeeds
        assert litellm.completion(model=MODEL, messages=HELLO).choices[0].message.content


def test_http_and_stream_paths_map_plan_errors_the_same_way():
    body = b'{"error":{"type":"usage_not_included","message":"Codex is not included in your plan."}}'
    http = from_response(429, httpx.Headers(), body, model="m", request=REQUEST)
    stream = from_failure(UpstreamFailure("failed", "Codex is not included in your plan.",
                                          code="usage_not_included"), model="m", request=REQUEST)
    assert type(http.exception) is type(stream.exception) is litellm.PermissionDeniedError
    assert http.usage_limit_resets_at is None and stream.usage_limit_resets_at is None


# -- incomplete reasons ---------------------------------------------------------------------------
def test_unknown_incomplete_reason_is_retryable_not_a_bad_request(emu, logged_in):
    emu.fault("incomplete", reason="server_timeout")
    with pytest.raises(litellm.InternalServerError) as info:
        litellm.completion(model=MODEL, messages=HELLO, num_retries=0)
    assert "server_timeout" in str(info.value) and "retrying usually helps" in str(info.value)
    assert not isinstance(info.value, litellm.BadRequestError)


# -- rate-limit headers ---------------------------------------------------------------------------
def test_usage_limit_reset_comes_from_reset_at_when_the_body_has_none():
    now = time.time()
    headers = httpx.Headers({
        "x-codex-primary-used-percent": "100", "x-codex-primary-reset-at": str(int(now) + 5000),
        "x-codex-primary-reset-after-seconds": "60",  # stale relative value: reset-at wins
        "x-codex-secondary-used-percent": "40", "x-codex-secondary-reset-at": str(int(now) + 90000),
        "x-codex-active-limit": "codex"})
    body = b'{"error":{"type":"usage_limit_reached","message":"The usage limit has been reached"}}'
    mapped = from_response(429, headers, body, model="m", request=REQUEST)
    assert mapped.usage_limit_resets_at == int(now) + 5000


def test_active_limit_names_a_metered_family_whose_windows_are_kept():
    snapshot = parse_rate_limits({
        "x-codex-primary-used-percent": "10", "x-codex-primary-reset-at": "1777936568",
        "x-codex-active-limit": "codex_bengalfox", "x-codex-bengalfox-limit-name": "gpt-5.3-codex-spark",
        "x-codex-bengalfox-primary-used-percent": "100", "x-codex-bengalfox-primary-reset-at": "1777940000"})
    assert snapshot["primary"]["reset_at"] == 1777936568
    assert snapshot["active_limit"] == "codex_bengalfox"
    assert snapshot["active"]["limit_name"] == "gpt-5.3-codex-spark"
    assert snapshot["active"]["primary"]["reset_at"] == 1777940000


def test_usage_limit_over_http_keeps_the_reset_from_headers(emu, logged_in):
    emu.fault("usage_limit", resets_in_seconds=7200, body_resets=False)
    with pytest.raises(litellm.RateLimitError):
        litellm.completion(model=MODEL, messages=HELLO, num_retries=0)
    until = state.blocked_until(account_key(logged_in))
    assert until is not None and abs(until - (time.time() + 7200)) < 30


def test_in_stream_usage_limit_takes_its_reset_from_the_stream_headers():
    reset_at = int(time.time()) + 4000
    headers = {"x-codex-primary-used-percent": "100", "x-codex-primary-reset-at": str(reset_at),
               "x-codex-active-limit": "codex"}
    failure = UpstreamFailure("failed", "The usage limit has been reached", code="usage_limit_reached")
    mapped = from_failure(failure, model="m", request=REQUEST, headers=headers)
    assert mapped.usage_limit_resets_at == reset_at
    assert isinstance(mapped.exception, litellm.RateLimitError)


def test_a_non_json_line_is_logged_once_per_stream_at_debug(caplog):
    caplog.set_level("DEBUG", logger="kabot_codex")
    reducer = ResponseReducer()
    for _ in range(3):
        assert reducer.feed_raw("response.output_text.delta", b"keep-alive") == []
    assert reducer.feed_raw(None, b"[1, 2]") == []
    skipped = [r for r in caplog.records if "not a JSON object" in r.getMessage()]
    assert len(skipped) == 1 and skipped[0].levelname == "DEBUG"


def test_a_metered_limit_in_force_sets_the_reset_and_shows_in_the_snapshot(emu, logged_in):
    # The plan window is far from full; the per-model limit named by x-codex-active-limit was hit.
    emu.fault("usage_limit", resets_in_seconds=1800, body_resets=False, active_limit="codex_bengalfox")
    with pytest.raises(litellm.RateLimitError):
        litellm.completion(model=MODEL, messages=HELLO, num_retries=0)
    until = state.blocked_until(account_key(logged_in))
    assert until is not None and abs(until - (time.time() + 1800)) < 30
    snapshot = next(iter(state.last_rate_limits().values()))
    assert snapshot["active_limit"] == "codex_bengalfox"
    assert snapshot["active"]["primary"]["used_percent"] == 100
