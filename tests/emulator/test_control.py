"""The control API itself: reset semantics, validation of control calls, the request log."""

from __future__ import annotations

import pytest

from kabot_codex.emulator import EmulatorControl
from tests.emulator.helpers import client, post_responses


def test_reset_restores_defaults(emu: EmulatorControl) -> None:
    emu.account(plan="pro", email="x@y.z", models=["gpt-5.5"])
    emu.fault("server_error", count=5)
    emu.reply(text="queued")
    emu.set_default_reply(text="sticky")
    with client() as http:
        post_responses(emu, http)
    emu.reset()
    account = emu.account()
    assert account["plan"] == "plus" and account["models"] is None and account["token_ttl"] == 3600
    assert account["device_interval"] == "1" and account["device_pending_polls"] == 2
    assert "gpt-5.2" in account["retired"]
    stats = emu.stats()
    assert stats["requests"] == {} and stats["refresh_successes"] == 0 and stats["queued_faults"] == []
    assert emu.requests() == []
    with client() as http:
        r = post_responses(emu, http)
    assert r.status_code == 200 and "Hello from" in r.text


def test_control_errors_are_400(emu: EmulatorControl) -> None:
    with pytest.raises(ValueError, match=r"\(400\).*unknown account field"):
        emu.account(colour="blue")
    with pytest.raises(ValueError, match=r"\(400\).*reply target"):
        emu.reply(text="x", target="moon")
    with pytest.raises(ValueError, match=r"\(400\).*name"):
        emu.reply(tool_calls=[{"arguments": "{}"}])


def test_requests_log_filters_and_limit(emu: EmulatorControl) -> None:
    with client() as http:
        for _ in range(3):
            post_responses(emu, http)
        http.post(emu.auth_base + "/oauth/token", data={"grant_type": "refresh_token", "refresh_token": "r",
                                                       "client_id": "c"})
    assert len(emu.requests(path_contains="/responses")) == 3
    assert len(emu.requests(limit=2)) == 2
    (token_call,) = emu.requests(path_contains="/oauth/token")
    assert token_call["form"] == {"grant_type": "refresh_token", "refresh_token": "r", "client_id": "c"}
    assert token_call["json"] is None
    assert all(not r["path"].startswith("/_emulator") for r in emu.requests())


def test_unknown_path_is_404(emu: EmulatorControl) -> None:
    with client() as http:
        assert http.get(emu.url + "/backend-api/codex/nothing").status_code == 404
        assert http.get(emu.codex_base + "/responses").status_code == 405


def test_a_json_body_sent_the_way_curl_sends_it_is_read_as_json(emu: EmulatorControl) -> None:
    # `curl -d '{...}'` without -H 'Content-Type: application/json' labels the body as a form.
    import httpx

    root = emu.auth_base + "/_emulator"
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    with httpx.Client() as http:
        fault = http.post(f"{root}/faults", content='{"kind":"usage_limit","resets_in_seconds":120}', headers=form)
        assert fault.status_code == 200, fault.text
        assert fault.json()["fault"]["params"] == {"resets_in_seconds": 120}
        minted = http.post(f"{root}/tokens/mint", content='{"ttl":120}', headers=form)
        assert minted.status_code == 200 and minted.json()["expires_in"] == 120
        missing = http.post(f"{root}/faults", content='{"count":2}', headers=form)
        assert missing.status_code == 400
        assert missing.json()["error"] == "missing field 'kind' in the JSON body"
