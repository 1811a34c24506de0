"""The emulated issuer: authorize + PKCE, rotating refresh tokens, device code, revoke."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from kabot_codex.emulator import EmulatorControl
from tests.emulator.helpers import CLIENT_ID, client, post_responses

REDIRECT = "http://localhost:1455/auth/callback"


def pkce() -> tuple[str, str]:
    verifier = base64.urlsafe_b64encode(secrets.token_bytes(64)).rstrip(b"=").decode()
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def authorize_query(challenge: str, **overrides: str | None) -> dict[str, str]:
    query = {"response_type": "code", "client_id": CLIENT_ID, "redirect_uri": REDIRECT,
             "scope": "openid profile email offline_access", "code_challenge": challenge,
             "code_challenge_method": "S256", "state": "s-123", "originator": "kabot",
             "id_token_add_organizations": "true", "codex_cli_simplified_flow": "true"}
    query.update(overrides)
    return {k: v for k, v in query.items() if v is not None}


def claims(jwt: str) -> dict[str, Any]:
    payload = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def login(emu: EmulatorControl, http: httpx.Client) -> dict[str, Any]:
    verifier, challenge = pkce()
    r = http.get(emu.auth_base + "/oauth/authorize", params=authorize_query(challenge))
    code = parse_qs(urlsplit(r.headers["location"]).query)["code"][0]
    r = http.post(emu.auth_base + "/oauth/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "client_id": CLIENT_ID,
        "code_verifier": verifier})
    assert r.status_code == 200, r.text
    return dict(r.json())


def refresh(emu: EmulatorControl, http: httpx.Client, token: str, as_json: bool = False) -> httpx.Response:
    fields = {"grant_type": "refresh_token", "refresh_token": token, "client_id": CLIENT_ID}
    if as_json:
        return http.post(emu.auth_base + "/oauth/token", json={**fields, "scope": "openid profile email"})
    return http.post(emu.auth_base + "/oauth/token", data=fields)


def test_browser_login_end_to_end(emu: EmulatorControl) -> None:
    verifier, challenge = pkce()
    with client() as http:
        r = http.get(emu.auth_base + "/oauth/authorize", params=authorize_query(challenge))
        assert r.status_code == 302
        location = urlsplit(r.headers["location"])
        assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
        query = parse_qs(location.query)
        assert query["state"] == ["s-123"]
        code = query["code"][0]
        exchange = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
                    "client_id": CLIENT_ID}
        bad = http.post(emu.auth_base + "/oauth/token", data={**exchange, "code_verifier": "wrong" * 10})
        assert bad.status_code == 400 and bad.json()["error"] == "invalid_grant"
        wrong_uri = http.post(emu.auth_base + "/oauth/token", data={
            **exchange, "code_verifier": verifier, "redirect_uri": "http://localhost:1457/auth/callback"})
        assert wrong_uri.status_code == 400
        r = http.post(emu.auth_base + "/oauth/token", data={**exchange, "code_verifier": verifier})
        assert r.status_code == 200
        tokens = r.json()
        assert {"id_token", "access_token", "refresh_token", "expires_in", "token_type", "scope"} <= set(tokens)
        assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 3600
        reused = http.post(emu.auth_base + "/oauth/token", data={**exchange, "code_verifier": verifier})
        assert reused.status_code == 400  # single use
        access = claims(tokens["access_token"])
        auth = access["https://api.openai.com/auth"]
        assert set(auth) >= {"chatgpt_account_id", "chatgpt_plan_type", "chatgpt_user_id"}
        assert auth["chatgpt_plan_type"] == "plus"
        assert access["exp"] - access["iat"] == 3600
        ident = claims(tokens["id_token"])
        assert ident["email"] == ident["https://api.openai.com/profile"]["email"]
        assert ident["https://api.openai.com/auth"]["chatgpt_account_id"] == auth["chatgpt_account_id"]
        # The tokens work on the backend.
        as_minted = {**tokens, "account_id": auth["chatgpt_account_id"]}
        assert post_responses(emu, http, as_minted).status_code == 200
    stats = emu.stats()["requests"]
    assert stats["oauth.authorize"] == 1 and stats["oauth.token.authorization_code"] == 4


@pytest.mark.parametrize(("field", "value", "words"), [
    ("response_type", "token", "response_type"),
    ("client_id", "app_other", "client_id"),
    ("redirect_uri", "http://localhost:9999/cb", "redirect_uri"),
    ("code_challenge", None, "code_challenge"),
    ("code_challenge_method", "plain", "code_challenge_method"),
    ("state", None, "state"),
    ("scope", "openid profile email", "offline_access"),
])
def test_authorize_rejects(emu: EmulatorControl, field: str, value: str | None, words: str) -> None:
    _, challenge = pkce()
    with client() as http:
        r = http.get(emu.auth_base + "/oauth/authorize", params=authorize_query(challenge, **{field: value}))
    assert r.status_code == 400
    assert words in r.text


def test_authorize_fallback_port_and_error_redirect(emu: EmulatorControl) -> None:
    _, challenge = pkce()
    fallback = "http://localhost:1457/auth/callback"
    with client() as http:
        r = http.get(emu.auth_base + "/oauth/authorize", params=authorize_query(challenge, redirect_uri=fallback))
        assert r.status_code == 302 and r.headers["location"].startswith(fallback + "?code=")
        emu.account(authorize_error="access_denied", authorize_error_description="missing_codex_entitlement")
        r = http.get(emu.auth_base + "/oauth/authorize", params=authorize_query(challenge))
    query = parse_qs(urlsplit(r.headers["location"]).query)
    assert query == {"error": ["access_denied"], "error_description": ["missing_codex_entitlement"],
                     "state": ["s-123"]}


def test_refresh_rotates_and_reuse_is_detected(emu: EmulatorControl) -> None:
    with client() as http:
        first = login(emu, http)
        r = refresh(emu, http, first["refresh_token"], as_json=True)
        assert r.status_code == 200
        second = r.json()
        assert second["refresh_token"] != first["refresh_token"]
        assert second["access_token"] != first["access_token"]
        assert {"id_token", "expires_in"} <= set(second)
        r = refresh(emu, http, first["refresh_token"])
        assert r.status_code == 401
        assert r.json() == {"error": {
            "code": "refresh_token_reused", "type": "invalid_request_error", "param": None,
            "message": "Your refresh token has already been used to generate a new access token. "
                       "Please try signing in again."}}
        assert refresh(emu, http, second["refresh_token"]).status_code == 200
        assert refresh(emu, http, "rt_unknown").json()["error"]["code"] == "refresh_token_expired"
        r = refresh(emu, http, "")
        assert r.status_code == 400 and "empty string" in r.json()["error"]["message"]
        bad_client = http.post(emu.auth_base + "/oauth/token", data={
            "grant_type": "refresh_token", "refresh_token": "x", "client_id": "nope"})
        assert bad_client.status_code == 401
    stats = emu.stats()
    assert stats["refresh_successes"] == 2 and stats["refresh_reuse_errors"] == 1


def test_revoked_refresh_tokens(emu: EmulatorControl) -> None:
    with client() as http:
        a = emu.mint_tokens()
        b = login(emu, http)
        emu.revoke_refresh_tokens()
        for tokens in (a, b):
            r = refresh(emu, http, tokens["refresh_token"])
            assert r.status_code == 401 and r.json()["error"]["code"] == "refresh_token_invalidated"
        c = emu.mint_tokens()
        assert http.post(emu.auth_base + "/oauth/revoke", data={"token": c["refresh_token"]}).status_code == 200
        assert refresh(emu, http, c["refresh_token"]).json()["error"]["code"] == "refresh_token_invalidated"


def test_refresh_picks_up_plan_changes(emu: EmulatorControl) -> None:
    tokens = emu.mint_tokens()
    emu.account(plan="pro", token_ttl=120)
    with client() as http:
        fresh = refresh(emu, http, tokens["refresh_token"]).json()
    assert fresh["expires_in"] == 120
    assert claims(fresh["access_token"])["https://api.openai.com/auth"]["chatgpt_plan_type"] == "pro"


def test_concurrent_refresh_of_one_token_has_exactly_one_winner(emu: EmulatorControl) -> None:
    tokens = emu.mint_tokens()
    barrier = threading.Barrier(32)
    results: list[int] = []
    lock = threading.Lock()

    # One shared client (httpx clients are thread-safe); building 32 would cost 32 SSL contexts.
    http = httpx.Client(trust_env=False, verify=False, timeout=30, limits=httpx.Limits(max_connections=64))

    def worker() -> None:
        barrier.wait()
        status = refresh(emu, http, tokens["refresh_token"]).status_code
        with lock:
            results.append(status)

    threads = [threading.Thread(target=worker) for _ in range(32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    http.close()
    assert sorted(results) == [200] + [401] * 31
    stats = emu.stats()
    assert stats["refresh_successes"] == 1 and stats["refresh_reuse_errors"] == 31
    assert stats["requests"]["oauth.token.refresh_token"] == 32


def test_device_code_flow(emu: EmulatorControl) -> None:
    with client() as http:
        r = http.post(emu.auth_base + "/api/accounts/deviceauth/usercode", json={"client_id": CLIENT_ID})
        assert r.status_code == 200
        start = r.json()
        assert set(start) == {"device_auth_id", "user_code", "interval"}
        assert start["interval"] == "1"
        assert len(start["user_code"]) == 9 and start["user_code"][4] == "-"
        poll = {"device_auth_id": start["device_auth_id"], "user_code": start["user_code"]}
        statuses = [http.post(emu.auth_base + "/api/accounts/deviceauth/token", json=poll).status_code
                    for _ in range(3)]
        assert statuses == [403, 403, 200]
        r = http.post(emu.auth_base + "/api/accounts/deviceauth/token", json=poll)
        grant = r.json()
        assert set(grant) == {"authorization_code", "code_challenge", "code_verifier"}
        r = http.post(emu.auth_base + "/oauth/token", data={
            "grant_type": "authorization_code", "code": grant["authorization_code"], "client_id": CLIENT_ID,
            "redirect_uri": emu.auth_base + "/deviceauth/callback", "code_verifier": grant["code_verifier"]})
        assert r.status_code == 200 and r.json()["refresh_token"]
        bad = http.post(emu.auth_base + "/api/accounts/deviceauth/token",
                        json={"device_auth_id": "deviceauth_x", "user_code": "AAAA-0000"})
        assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_device_auth"


def test_device_code_manual_approval(emu: EmulatorControl) -> None:
    emu.account(device_pending_polls=1000, device_interval=5)
    with client() as http:
        start = http.post(emu.auth_base + "/api/accounts/deviceauth/usercode", json={"client_id": CLIENT_ID}).json()
        assert start["interval"] == "5"
        poll = {"device_auth_id": start["device_auth_id"], "user_code": start["user_code"]}
        assert http.post(emu.auth_base + "/api/accounts/deviceauth/token", json=poll).status_code == 403
        emu.approve_device()
        assert http.post(emu.auth_base + "/api/accounts/deviceauth/token", json=poll).status_code == 200
    stats = emu.stats()["requests"]
    assert stats["oauth.device.usercode"] == 1 and stats["oauth.device.token"] == 2


def test_device_usercode_checks_client(emu: EmulatorControl) -> None:
    with client() as http:
        r = http.post(emu.auth_base + "/api/accounts/deviceauth/usercode", json={"client_id": "other"})
    assert r.status_code == 400


def test_minted_tokens(emu: EmulatorControl) -> None:
    tokens = emu.mint_tokens(ttl=60, account_id="acct-x", email="a@b.c", plan="pro")
    assert tokens["account_id"] == "acct-x" and tokens["expires_in"] == 60
    access = claims(tokens["access_token"])
    assert access["https://api.openai.com/auth"]["chatgpt_account_id"] == "acct-x"
    assert access["https://api.openai.com/profile"]["email"] == "a@b.c"
    assert claims(tokens["id_token"])["email"] == "a@b.c"
