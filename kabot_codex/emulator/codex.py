"""The emulated ChatGPT Codex backend: ``/backend-api/codex/{responses,models}`` and ``/wham/usage``."""

from __future__ import annotations

import time
from typing import Any

from kabot_codex.emulator.app import App, Route
from kabot_codex.emulator.faults import apply_http_fault
from kabot_codex.emulator.model_catalog import catalog_etag, model_infos
from kabot_codex.emulator.replies import prompt_size, responses_plan, usage_for
from kabot_codex.emulator.responses_stream import Render, write_events
from kabot_codex.emulator.tokens import Identity
from kabot_codex.emulator.validation import check_backend_body, effort_for
from kabot_codex.emulator.wire import Exchange

__all__ = ["ROUTES", "authenticate", "rate_limit_headers", "usage_snapshot"]

PRIMARY_MINUTES = 300
SECONDARY_MINUTES = 10080
TOKEN_EXPIRED = {"error": {
    "message": "Provided authentication token is expired. Please try signing in again.",
    "type": "invalid_request_error", "code": "token_expired", "param": None}}


def _windows(app: App, account_id: str) -> dict[str, dict[str, float]]:
    # Used percent creeps up with each served call so clients see a moving snapshot.
    calls = app.state.usage_of(account_id)
    now = time.time()
    out = {}
    for name, minutes, rate in (("primary", PRIMARY_MINUTES, 0.5), ("secondary", SECONDARY_MINUTES, 0.1)):
        window = minutes * 60
        after = window - int(now - app.state.started) % window
        out[name] = {"used_percent": min(99.0, round(calls * rate, 1)), "window_minutes": minutes,
                     "reset_after_seconds": after, "reset_at": int(now) + after}
    return out


def _fmt(value: float) -> str:
    return f"{value:g}"


def rate_limit_headers(app: App, account_id: str, plan: str) -> dict[str, str]:
    """Return the ``x-codex-*`` snapshot headers the backend puts on every reply."""
    headers: dict[str, str] = {}
    for name, win in _windows(app, account_id).items():
        headers[f"x-codex-{name}-used-percent"] = _fmt(win["used_percent"])
        headers[f"x-codex-{name}-window-minutes"] = str(win["window_minutes"])
        headers[f"x-codex-{name}-reset-after-seconds"] = str(win["reset_after_seconds"])
        headers[f"x-codex-{name}-reset-at"] = str(win["reset_at"])
    headers.update({
        "x-codex-primary-over-secondary-limit-percent": "0",
        "x-codex-plan-type": plan,
        "x-codex-active-limit": "codex",
        "x-codex-credits-has-credits": "False",
        "x-codex-credits-unlimited": "False",
        "x-codex-credits-balance": "0",
        "x-models-etag": app.state.models_etag(),
    })
    return headers


def authenticate(app: App, ex: Exchange) -> tuple[Identity, dict[str, str]] | None:
    """Check bearer token and ``ChatGPT-Account-Id``; answer 401/403 and return None on failure.

    On success, return the identity and the rate-limit headers every reply to it carries.
    """
    acct = app.state.account_snapshot()
    token = ex.bearer()
    check = app.tokens.check_access(token) if token else None
    if check is None or check.status == "invalid":
        ex.send_json(401, {"detail": "Could not validate credentials"},
                     rate_limit_headers(app, acct.account_id, acct.plan))
        return None
    ident = check.identity
    assert ident is not None
    headers = rate_limit_headers(app, ident.account_id, ident.plan)
    if check.status == "expired":
        ex.send_json(401, TOKEN_EXPIRED, headers)
        return None
    if ex.headers.get("chatgpt-account-id") != ident.account_id:
        ex.send_json(403, {"detail": {"code": "invalid_workspace_selected"}}, headers)
        return None
    return ident, headers


def _responses(app: App, ex: Exchange) -> None:
    app.state.count("codex.responses")
    admitted = authenticate(app, ex)
    if admitted is None:
        return
    ident, headers = admitted
    body = ex.try_json()
    if body is None and ex.body.strip():
        ex.send_json(400, {"detail": "We could not parse the JSON body of your request."}, headers)
        return
    model = body.get("model") if isinstance(body, dict) else None
    if apply_http_fault(ex, app.state.take_fault("codex", model, account_id=ident.account_id), "codex", headers):
        return
    acct = app.state.account_snapshot()
    problem = check_backend_body(body, acct.allowed_models(), ident.account_id)
    if problem is not None:
        ex.send_json(400, {"detail": problem}, headers)
        return
    assert isinstance(body, dict)
    stream_fault = app.state.take_fault("codex", model, "stream", account_id=ident.account_id)
    plan = responses_plan(body, app.state.take_reply("codex"))
    effort = effort_for(body)
    if plan.reasoning is not None and effort in (None, "none"):
        effort = "low"
    prompt_chars, input_tokens = prompt_size(body)
    cached = app.state.cached_tokens(ident.account_id, body.get("prompt_cache_key"), input_tokens)
    usage = usage_for(prompt_chars, plan, effort, cached)
    app.state.note_usage(ident.account_id)
    stream = ex.start_stream(rate_limit_headers(app, ident.account_id, ident.plan))
    render = Render(body, plan, usage, account_id=ident.account_id, effort=effort, backend=True)
    write_events(stream, render, stream_fault)


def _etag_matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    want = etag.strip('"')
    for candidate in header.split(","):
        candidate = candidate.strip()
        if candidate == "*" or candidate.removeprefix("W/").strip('"') == want:
            return True
    return False


def _models(app: App, ex: Exchange) -> None:
    app.state.count("codex.models")
    admitted = authenticate(app, ex)
    if admitted is None:
        return
    ident, headers = admitted
    if apply_http_fault(ex, app.state.take_fault("models", None), "codex", headers):
        return
    allowed = app.state.account_snapshot().allowed_models()
    etag = catalog_etag(allowed)
    headers["ETag"] = etag
    if _etag_matches(ex.headers.get("if-none-match"), etag):
        ex.send_bytes(304, b"", "application/json", headers)
        return
    ex.send_json(200, {"models": model_infos(allowed, ex.query.get("client_version"))}, headers)


def usage_snapshot(app: App, ident: Identity) -> dict[str, Any]:
    """Return the ``/wham/usage`` document for ``ident``."""
    wins = _windows(app, ident.account_id)

    def window(win: dict[str, float]) -> dict[str, Any]:
        return {"used_percent": win["used_percent"], "limit_window_seconds": int(win["window_minutes"]) * 60,
                "reset_after_seconds": win["reset_after_seconds"], "reset_at": win["reset_at"]}

    return {
        "user_id": ident.user_id, "account_id": ident.account_id, "email": ident.email,
        "plan_type": ident.plan,
        "rate_limit": {"allowed": True, "limit_reached": False, "primary_window": window(wins["primary"]),
                       "secondary_window": window(wins["secondary"])},
        "code_review_rate_limit": None,
        "credits": {"has_credits": False, "unlimited": False, "balance": "0"},
    }


def _usage(app: App, ex: Exchange) -> None:
    app.state.count("codex.usage")
    admitted = authenticate(app, ex)
    if admitted is None:
        return
    ident, headers = admitted
    if apply_http_fault(ex, app.state.take_fault("usage", None), "codex", headers):
        return
    ex.send_json(200, usage_snapshot(app, ident), headers)


ROUTES: dict[tuple[str, str], Route] = {
    ("POST", "/backend-api/codex/responses"): _responses,
    ("GET", "/backend-api/codex/models"): _models,
    ("GET", "/backend-api/wham/usage"): _usage,
    ("GET", "/api/codex/usage"): _usage,
}
