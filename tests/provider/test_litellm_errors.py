"""Every failure reaches the caller as the right LiteLLM exception, with a real response."""

from __future__ import annotations

import base64
import json
import socket
import time

import litellm
import pytest
from litellm.exceptions import MidStreamFallbackError

import kabot_codex  # noqa: F401
from kabot_codex import catalog, state

MODEL = "openai-codex/gpt-5.5"
HELLO = [{"role": "user", "content": "Say hello"}]


def responses_sent(emu) -> int:
    return emu.stats()["requests"].get("codex.responses", 0)


def test_usage_limit_is_not_retried_and_later_calls_fail_fast(emu, logged_in):
    emu.fault("usage_limit", resets_in_seconds=7200)
    with pytest.raises(litellm.RateLimitError) as info:
        litellm.completion(model=MODEL, messages=HELLO)
    err = info.value
    assert err.num_retries == 0
    # Nobody is asked to sleep out the window: no Retry-After anywhere a client or Router reads it.
    assert "retry-after" not in err.response.headers and "retry-after" not in (err.headers or {})
    assert err.headers["x-should-retry"] == "false"
    # The reset stays on the exception: attributes, message and dedicated headers.
    assert 7100 <= err.resets_in_seconds <= 7200
    assert abs(err.resets_at - (time.time() + 7200)) < 100
    for headers in (err.headers, err.response.headers):
        assert int(headers["x-kabot-usage-limit-resets-in"]) == err.resets_in_seconds
        assert abs(int(headers["x-kabot-usage-limit-reset-at"]) - err.resets_at) <= 1
    assert "usage limit" in str(err).lower() and "resets in about 2 h" in str(err) or "1 h 59 min" in str(err)
    sent = responses_sent(emu)
    with pytest.raises(litellm.RateLimitError) as again:
        litellm.completion(model=MODEL, messages=HELLO)
    assert "no request was sent" in str(again.value)
    assert responses_sent(emu) == sent  # failed fast, no HTTP
    assert "retry-after" not in again.value.response.headers
    assert 7000 <= again.value.resets_in_seconds <= 7200


def test_usage_limit_router_fails_fast_even_with_retries_requested(emu, logged_in):
    # A single-deployment group with retries and no fallbacks: LiteLLM would sleep between retries
    # if the error asked it to. Bounded against the reset window (a ratio, not a wall-clock limit).
    emu.fault("usage_limit", resets_in_seconds=600)
    router = litellm.Router(model_list=[{"model_name": "codex", "litellm_params": {"model": MODEL}}],
                            num_retries=2)
    started = time.monotonic()
    with pytest.raises(litellm.RateLimitError) as info:
        router.completion(model="codex", messages=HELLO)
    elapsed = time.monotonic() - started
    assert elapsed < 0.01 * info.value.resets_in_seconds
    assert responses_sent(emu) == 1


def test_usage_limit_is_shared_with_other_processes_through_the_state_dir(emu, logged_in):
    emu.fault("usage_limit", resets_in_seconds=600)
    with pytest.raises(litellm.RateLimitError):
        litellm.completion(model=MODEL, messages=HELLO)
    state.flush()  # the limit is written in the background, off the request path
    state.reset()  # what a fresh process (another Proxy worker) knows: only the file
    sent = responses_sent(emu)
    with pytest.raises(litellm.RateLimitError) as info:
        litellm.completion(model=MODEL, messages=HELLO)
    assert "no request was sent" in str(info.value)
    assert responses_sent(emu) == sent


def test_usage_limit_sync_stream_raises_before_returning(emu, logged_in):
    emu.fault("usage_limit", resets_in_seconds=60)
    with pytest.raises(litellm.RateLimitError):
        litellm.completion(model=MODEL, messages=HELLO, stream=True)


async def test_usage_limit_async_stream(emu, logged_in):
    # LiteLLM wraps errors raised before an async stream's first chunk in MidStreamFallbackError
    # (that is what lets a Router fall back mid-stream); the status and our error survive inside.
    emu.fault("usage_limit", resets_in_seconds=60)
    with pytest.raises((litellm.RateLimitError, MidStreamFallbackError)) as info:
        stream = await litellm.acompletion(model=MODEL, messages=HELLO, stream=True)
        async for _ in stream:
            pass
    err = info.value
    assert err.status_code == 429
    original = getattr(err, "original_exception", err)
    assert isinstance(original, litellm.RateLimitError) and original.num_retries == 0


def test_short_rate_limit_carries_retry_after(emu, logged_in):
    emu.fault("rate_limit", retry_after=3)
    with pytest.raises(litellm.RateLimitError) as info:
        litellm.completion(model=MODEL, messages=HELLO, num_retries=0)
    assert info.value.response.headers["retry-after"] == "3"
    assert info.value.num_retries != 0  # short throttles stay retryable


def fake_jwt(account: str) -> str:
    claims = {"exp": time.time() + 3600, "https://api.openai.com/auth": {"chatgpt_account_id": account}}
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return f"eyJhbGciOiJub25lIn0.{payload}.c2lnbmF0dXJl"


def test_static_token_rejected_is_authentication_error(emu, monkeypatch):
    monkeypatch.setenv("OPENAI_CODEX_API_BASE", emu.codex_base)
    token = fake_jwt("acct-unknown")
    with pytest.raises(litellm.AuthenticationError) as info:
        litellm.completion(model=MODEL, messages=HELLO, api_key=token)
    assert "kabot login" in str(info.value)
    assert token not in str(info.value)
    sent = emu.requests(path_contains="/responses")[-1]["headers"]
    assert sent["chatgpt-account-id"] == "acct-unknown"  # a ChatGPT JWT keeps ChatGPT mode


def test_rejected_api_key_is_authentication_error(emu):
    with pytest.raises(litellm.AuthenticationError) as info:
        litellm.completion(model=MODEL, messages=HELLO, api_key="bad-key-123", api_base=emu.openai_base)
    assert "bad-key-123" not in str(info.value)


def test_not_logged_in_says_how_to_log_in(emu, monkeypatch):
    monkeypatch.setenv("OPENAI_CODEX_API_BASE", emu.codex_base)
    with pytest.raises(litellm.AuthenticationError) as info:
        litellm.completion(model=MODEL, messages=HELLO)
    assert "kabot login" in str(info.value)


def test_retired_model_names_kabot_models_and_is_marked_unsupported(emu, logged_in):
    with pytest.raises(litellm.NotFoundError) as info:
        litellm.completion(model="openai-codex/gpt-5.3-codex", messages=HELLO)
    assert "kabot models" in str(info.value)
    assert catalog.get_model_status("openai-codex/gpt-5.3-codex") == "unsupported"


def test_context_window_exceeded(emu, logged_in):
    emu.fault("context_length")
    with pytest.raises(litellm.ContextWindowExceededError):
        litellm.completion(model=MODEL, messages=HELLO)


def test_content_policy(emu, logged_in):
    emu.fault("response_failed", code="cyber_policy", message="This request has been flagged.")
    with pytest.raises(litellm.ContentPolicyViolationError):
        litellm.completion(model=MODEL, messages=HELLO)


@pytest.mark.parametrize("kind,exc", [
    ("server_error", litellm.InternalServerError),
    ("overloaded", litellm.ServiceUnavailableError),
    ("bad_gateway", litellm.BadGatewayError),
    ("cloudflare", litellm.PermissionDeniedError),
])
def test_status_errors(emu, logged_in, kind, exc):
    emu.fault(kind)
    with pytest.raises(exc) as info:
        litellm.completion(model=MODEL, messages=HELLO, num_retries=0)
    assert info.value.response is not None


@pytest.mark.parametrize("kind", ["drop_stream", "reset_stream"])
def test_broken_streams_are_errors_not_short_answers(emu, logged_in, kind):
    emu.fault(kind)
    with pytest.raises(litellm.APIConnectionError) as info:
        litellm.completion(model=MODEL, messages=HELLO, num_retries=0)
    assert "stream" in str(info.value).lower()


def test_a_non_json_data_line_is_skipped_like_codex_does(emu, logged_in):
    emu.reply(text="All of it arrived", chunks=4)
    emu.fault("malformed_sse")
    response = litellm.completion(model=MODEL, messages=HELLO, num_retries=0)
    assert response.choices[0].message.content == "All of it arrived"


@pytest.mark.parametrize("kind", ["drop_stream"])
def test_broken_streams_raise_while_streaming(emu, logged_in, kind):
    emu.fault(kind)
    stream = litellm.completion(model=MODEL, messages=HELLO, stream=True)
    finishes = []
    with pytest.raises((litellm.APIConnectionError, MidStreamFallbackError)) as info:
        for chunk in stream:
            finishes += [c.finish_reason for c in chunk.choices if c.finish_reason]
    assert "stream" in str(info.value).lower()
    assert finishes == []  # the partial text was never presented as a finished answer


def test_incomplete_max_output_tokens_is_length(emu, logged_in):
    emu.fault("incomplete", reason="max_output_tokens")
    response = litellm.completion(model=MODEL, messages=HELLO)
    assert response.choices[0].finish_reason == "length"


def test_connection_refused(logged_in):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(litellm.APIConnectionError):
        litellm.completion(model=MODEL, messages=HELLO, api_base=f"http://127.0.0.1:{port}", num_retries=0)


def test_timeout(emu, logged_in):
    emu.fault("hang", seconds=3)
    started = time.monotonic()
    with pytest.raises(litellm.Timeout):
        litellm.completion(model=MODEL, messages=HELLO, timeout=0.5, num_retries=0)
    assert time.monotonic() - started < 2.5


def test_bad_messages_are_bad_request_before_any_http(emu, logged_in):
    with pytest.raises(litellm.BadRequestError):
        litellm.completion(model=MODEL, messages=[{"role": "wizard", "content": "x"}])
    assert responses_sent(emu) == 0
