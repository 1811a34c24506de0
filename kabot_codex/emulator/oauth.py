"""The emulated OAuth issuer (auth.openai.com): authorize, token, revoke and device code."""

from __future__ import annotations

import html
import secrets
from urllib.parse import urlencode

from kabot_codex.emulator.app import App, Route
from kabot_codex.emulator.faults import apply_http_fault
from kabot_codex.emulator.tokens import CLIENT_ID
from kabot_codex.emulator.wire import Exchange

__all__ = ["REDIRECT_URIS", "ROUTES"]

#: The loopback redirect URIs registered for the Codex client (1457 is the fallback port).
REDIRECT_URIS = ("http://localhost:1455/auth/callback", "http://localhost:1457/auth/callback")
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"


def _error_page(ex: Exchange, problem: str) -> None:
    page = (f"<!DOCTYPE html><html><head><title>Authorization error</title></head><body>"
            f"<h1>Authorization error</h1><p>invalid_request: {html.escape(problem)}</p></body></html>")
    ex.send_text(400, page, content_type="text/html; charset=utf-8")


def _authorize(app: App, ex: Exchange) -> None:
    app.state.count("oauth.authorize")
    q = ex.query
    if apply_http_fault(ex, app.state.take_fault("oauth", None), "oauth", {}):
        return
    checks = [
        (q.get("response_type") == "code", f"response_type must be 'code', got {q.get('response_type')!r}"),
        (q.get("client_id") == CLIENT_ID, f"unknown client_id {q.get('client_id')!r}"),
        (q.get("redirect_uri") in REDIRECT_URIS,
         f"redirect_uri {q.get('redirect_uri')!r} is not registered for this client "
         f"(allowed: {', '.join(REDIRECT_URIS)})"),
        (bool(q.get("code_challenge")), "code_challenge is required (PKCE)"),
        (q.get("code_challenge_method") == "S256",
         f"code_challenge_method must be 'S256', got {q.get('code_challenge_method')!r}"),
        (bool(q.get("state")), "state is required"),
        ("offline_access" in (q.get("scope") or "").split(),
         f"scope must include 'offline_access' to receive a refresh token, got {q.get('scope')!r}"),
    ]
    for ok, problem in checks:
        if not ok:
            _error_page(ex, problem)
            return
    acct = app.state.account_snapshot()
    redirect = q["redirect_uri"]
    if acct.authorize_error:
        desc = acct.authorize_error_description or f"The authorization request failed: {acct.authorize_error}"
        ex.redirect(redirect + "?" + urlencode(
            {"error": acct.authorize_error, "error_description": desc, "state": q["state"]}))
        return
    code = app.tokens.create_code(acct.identity(), (redirect,), q["code_challenge"])
    ex.redirect(redirect + "?" + urlencode({"code": code, "state": q["state"]}))


def _token(app: App, ex: Exchange) -> None:
    params = {k: str(v) if v is not None else "" for k, v in ex.params().items()}
    grant = params.get("grant_type", "")
    app.state.count("oauth.token." + ("token_exchange" if grant == TOKEN_EXCHANGE else grant or "missing"))
    if apply_http_fault(ex, app.state.take_fault("oauth", None), "oauth", {}):
        return
    acct = app.state.account_snapshot()
    issuer = ex.base_url
    if grant == "authorization_code":
        status, body = app.tokens.exchange_code(
            params.get("code", ""), params.get("redirect_uri", ""), params.get("code_verifier", ""),
            params.get("client_id", ""), acct.token_ttl, issuer)
    elif grant == "refresh_token":
        if params.get("client_id") != CLIENT_ID:
            status, body = 401, {"error": {"code": "invalid_client", "type": "invalid_request_error",
                                           "message": f"Unknown client_id {params.get('client_id')!r}."}}
        else:
            status, body = app.tokens.refresh(params.get("refresh_token", ""), acct.identity(),
                                              acct.token_ttl, issuer)
    elif grant == TOKEN_EXCHANGE and params.get("requested_token") == "openai-api-key":
        status, body = 200, {"access_token": "sk-emulator-" + secrets.token_urlsafe(24),
                             "token_type": "Bearer"}
    else:
        status, body = 400, {"error": "unsupported_grant_type",
                             "error_description": f"grant_type {grant!r} is not supported"}
    ex.send_json(status, body, {"Cache-Control": "no-store"})


def _revoke(app: App, ex: Exchange) -> None:
    app.state.count("oauth.revoke")
    token = str(ex.params().get("token") or "")
    app.tokens.revoke(token)
    ex.send_json(200, {})


def _device_usercode(app: App, ex: Exchange) -> None:
    app.state.count("oauth.device.usercode")
    if apply_http_fault(ex, app.state.take_fault("oauth", None), "oauth", {}):
        return
    params = ex.params()
    if params.get("client_id") != CLIENT_ID:
        ex.send_json(400, {"error": {"code": "invalid_client", "type": "invalid_request_error",
                                     "message": f"Unknown client_id {params.get('client_id')!r}."}})
        return
    acct = app.state.account_snapshot()
    dev = app.tokens.start_device(acct.identity())
    ex.send_json(200, {"device_auth_id": dev.device_auth_id, "user_code": dev.user_code,
                       "interval": acct.device_interval})


def _device_token(app: App, ex: Exchange) -> None:
    app.state.count("oauth.device.token")
    if apply_http_fault(ex, app.state.take_fault("oauth", None), "oauth", {}):
        return
    params = ex.params()
    acct = app.state.account_snapshot()
    uris = (f"{ex.base_url}/deviceauth/callback", "https://auth.openai.com/deviceauth/callback")
    status, body = app.tokens.poll_device(str(params.get("device_auth_id") or ""),
                                          str(params.get("user_code") or ""), acct.device_pending_polls, uris)
    ex.send_json(status, body)


def _device_page(app: App, ex: Exchange) -> None:
    ex.send_text(200, "<!DOCTYPE html><html><body><h1>Enter your one-time code</h1>"
                      "<p>kabot-codex emulator: codes are approved automatically.</p></body></html>",
                 content_type="text/html; charset=utf-8")


ROUTES: dict[tuple[str, str], Route] = {
    ("GET", "/oauth/authorize"): _authorize,
    ("POST", "/oauth/token"): _token,
    ("POST", "/oauth/revoke"): _revoke,
    ("POST", "/api/accounts/deviceauth/usercode"): _device_usercode,
    ("POST", "/api/accounts/deviceauth/token"): _device_token,
    ("GET", "/codex/device"): _device_page,
}
