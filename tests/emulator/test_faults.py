"""Every fault kind, as a client sees it on the wire."""

from __future__ import annotations

import time

import httpx
import pytest

from kabot_codex.emulator import EmulatorControl
from tests.emulator.helpers import body, client, parse_sse, post_responses


def events_of(r: httpx.Response) -> list[str]:
    return [e for e, _ in parse_sse(r.text)]


@pytest.mark.parametrize(("kind", "status"), [("unauthorized", 401), ("server_error", 500), ("overloaded", 503),
                                              ("bad_gateway", 502), ("cloudflare", 403), ("bad_request", 400)])
def test_status_faults(emu: EmulatorControl, kind: str, status: int) -> None:
    emu.fault(kind, detail="custom detail")
    with client() as http:
        r = post_responses(emu, http)
        assert r.status_code == status
        assert post_responses(emu, http).status_code == 200  # consumed
    if kind == "unauthorized":
        assert r.json() == {"detail": "Could not validate credentials"}
    elif kind == "overloaded":
        assert r.json()["error"]["code"] == "server_is_overloaded"
    elif kind == "cloudflare":
        assert "text/html" in r.headers["content-type"] and "Just a moment" in r.text
        assert r.headers["cf-mitigated"] == "challenge"
    elif kind == "bad_request":
        assert r.json() == {"detail": "custom detail"}


def test_usage_limit(emu: EmulatorControl) -> None:
    emu.fault("usage_limit", resets_in_seconds=120, plan_type="pro")
    with client() as http:
        r = post_responses(emu, http)
    assert r.status_code == 429
    err = r.json()["error"]
    assert err["type"] == "usage_limit_reached" and err["message"] == "The usage limit has been reached"
    assert err["plan_type"] == "pro" and err["resets_in_seconds"] == 120 and err["eligible_promo"] is None
    assert abs(err["resets_at"] - (time.time() + 120)) < 5
    assert r.headers["x-codex-primary-used-percent"] == "100"
    assert r.headers["x-codex-primary-reset-after-seconds"] == "120"


def test_rate_limit_has_retry_after(emu: EmulatorControl) -> None:
    emu.fault("rate_limit", retry_after=3)
    with client() as http:
        r = post_responses(emu, http)
    assert r.status_code == 429 and r.headers["retry-after"] == "3"
    error = r.json()["error"]
    # The provider reads the delay from this text when a stream-level failure carries it.
    assert error["code"] == "rate_limit_exceeded" and "try again in 3s" in error["message"]


def test_count_model_and_target_filters(emu: EmulatorControl) -> None:
    emu.fault("server_error", count=2, model="gpt-5.4")
    emu.fault("server_error", target="openai")
    with client() as http:
        assert post_responses(emu, http).status_code == 200  # other model, other target
        assert post_responses(emu, http, model="gpt-5.4").status_code == 500
        assert post_responses(emu, http, model="gpt-5.4").status_code == 500
        assert post_responses(emu, http, model="gpt-5.4").status_code == 200


def test_unlimited_count_until_reset(emu: EmulatorControl) -> None:
    emu.fault("overloaded", count=0)
    with client() as http:
        assert [post_responses(emu, http).status_code for _ in range(3)] == [503] * 3
        emu.reset()
        assert post_responses(emu, http).status_code == 200


def test_stream_fault_is_not_spent_on_an_invalid_request(emu: EmulatorControl) -> None:
    emu.fault("context_length")
    with client() as http:
        assert post_responses(emu, http, store=True).status_code == 400
        r = post_responses(emu, http)
    assert events_of(r)[-1] == "response.failed"


@pytest.mark.parametrize(("kind", "code"), [("context_length", "context_length_exceeded"),
                                            ("response_failed", "server_error")])
def test_failed_stream(emu: EmulatorControl, kind: str, code: str) -> None:
    emu.fault(kind)
    with client() as http:
        r = post_responses(emu, http)
    assert r.status_code == 200
    events = parse_sse(r.text)
    assert [e for e, _ in events] == ["response.created", "response.in_progress", "response.failed"]
    error = events[-1][1]["response"]["error"]
    assert error["code"] == code and error["message"]
    if kind == "context_length":
        assert "context window" in error["message"]


def test_response_failed_params(emu: EmulatorControl) -> None:
    emu.fault("response_failed", code="rate_limit_exceeded", message="Please try again in 1.5s.")
    with client() as http:
        error = parse_sse(post_responses(emu, http).text)[-1][1]["response"]["error"]
    assert error == {"code": "rate_limit_exceeded", "message": "Please try again in 1.5s."}


def test_error_event(emu: EmulatorControl) -> None:
    emu.fault("error_event", code="server_is_overloaded", message="busy")
    with client() as http:
        events = parse_sse(post_responses(emu, http).text)
    assert events[-1][0] == "error"
    assert events[-1][1]["code"] == "server_is_overloaded" and events[-1][1]["message"] == "busy"


@pytest.mark.parametrize("reason", ["max_output_tokens", "content_filter"])
def test_incomplete(emu: EmulatorControl, reason: str) -> None:
    emu.fault("incomplete", reason=reason)
    with client() as http:
        events = parse_sse(post_responses(emu, http).text)
    assert "response.output_text.delta" in [e for e, _ in events]
    name, data = events[-1]
    assert name == "response.incomplete"
    assert data["response"]["status"] == "incomplete"
    assert data["response"]["incomplete_details"] == {"reason": reason}
    assert data["response"]["usage"]["output_tokens"] > 0


def test_drop_stream_ends_cleanly_without_terminal_event(emu: EmulatorControl) -> None:
    emu.fault("drop_stream")
    with client() as http:
        r = post_responses(emu, http)
        names = events_of(r)
        assert "response.output_text.delta" in names
        assert not {"response.completed", "response.failed", "response.incomplete"} & set(names)
        assert post_responses(emu, http).status_code == 200  # connection still usable


def test_reset_stream_breaks_the_body(emu: EmulatorControl) -> None:
    emu.fault("reset_stream")
    tokens = emu.mint_tokens()
    received = []
    with (
        client() as http,
        pytest.raises(httpx.RemoteProtocolError),
        http.stream("POST", emu.codex_base + "/responses", json=body(), headers=emu.auth_headers(tokens)) as r,
    ):
        for line in r.iter_lines():
            received.append(line)
    assert any("response.output_text.delta" in line for line in received)


def test_malformed_sse(emu: EmulatorControl) -> None:
    emu.fault("malformed_sse")
    with client() as http:
        events = parse_sse(post_responses(emu, http).text)
    assert any(isinstance(data, str) for _, data in events)
    assert events[-1][0] == "response.completed"


def test_slow_streams_really_stream(emu: EmulatorControl) -> None:
    emu.fault("slow", delay_ms=60)
    tokens = emu.mint_tokens()
    with client() as http:
        started = time.perf_counter()
        with http.stream("POST", emu.codex_base + "/responses", json=body(),
                         headers=emu.auth_headers(tokens)) as r:
            first = None
            for line in r.iter_lines():
                if first is None and line.startswith("event: response.created"):
                    first = time.perf_counter() - started
        total = time.perf_counter() - started
    assert first is not None and first < 0.5
    assert total > 0.6  # ~15 events x 60 ms


def test_hang_times_out_the_client(emu: EmulatorControl) -> None:
    emu.fault("hang", seconds=1.5)
    tokens = emu.mint_tokens()
    with client() as http:
        with pytest.raises(httpx.ReadTimeout):
            http.post(emu.codex_base + "/responses", json=body(), headers=emu.auth_headers(tokens), timeout=0.3)
        assert post_responses(emu, http, tokens).status_code == 200


def test_any_target_hits_oauth_and_models(emu: EmulatorControl) -> None:
    tokens = emu.mint_tokens()
    emu.fault("server_error", target="models")
    emu.fault("overloaded", target="oauth")
    with client() as http:
        r = http.get(emu.codex_base + "/models", headers=emu.auth_headers(tokens))
        assert r.status_code == 500
        r = http.post(emu.auth_base + "/oauth/token", data={"grant_type": "refresh_token", "refresh_token": "x",
                                                           "client_id": "app_EMoamEEZ73f0CkXaXp7hrann"})
        assert r.status_code == 503
        emu.fault("bad_gateway", target="any")
        assert http.get(emu.codex_base + "/models", headers=emu.auth_headers(tokens)).status_code == 502


def test_bad_fault_kind_is_rejected(emu: EmulatorControl) -> None:
    with pytest.raises(ValueError, match="unknown fault kind"):
        emu.fault("explode")
    with pytest.raises(ValueError, match="unknown fault target"):
        emu.fault("hang", target="moon")
