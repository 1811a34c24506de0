"""HTTP plumbing for the provider: pooled clients, endpoint, headers, rate-limit headers.

One keep-alive ``httpx.Client`` per process and one ``httpx.AsyncClient`` per event loop
(an async client's connections belong to the loop that opened them, and LiteLLM runs some
async paths on short-lived loops).
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from typing import Any

import httpx

from kabot_codex.auth.credentials import Credentials
from kabot_codex.identity import CLIENT_VERSION, client_headers, codex_base, openai_base

__all__ = [
    "async_client",
    "build_headers",
    "endpoint",
    "limit_family",
    "parse_rate_limits",
    "sync_client",
    "timeout_for",
]

# No cap on concurrent connections (long streams must not queue behind each other), but only
# 32 idle ones are kept: httpcore rescans the whole pool on every request and response close,
# so a pool left large by a burst slowed every later call (measured: 256-stream bursts at
# 19 req/s with 160 kept connections, 49 req/s with 32).
_LIMITS = httpx.Limits(max_connections=None, max_keepalive_connections=32, keepalive_expiry=90.0)

_sync_lock = threading.Lock()
_sync: httpx.Client | None = None
_async: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient] = weakref.WeakKeyDictionary()


def sync_client() -> httpx.Client:
    """Return the process-wide pooled client (cookies kept: Cloudflare wants its cookies back)."""
    global _sync
    client = _sync
    if client is None or client.is_closed:
        with _sync_lock:
            if _sync is None or _sync.is_closed:
                _sync = httpx.Client(limits=_LIMITS, follow_redirects=False)
            client = _sync
    return client


def async_client() -> httpx.AsyncClient:
    """Return the pooled async client of the running event loop."""
    loop = asyncio.get_running_loop()
    client = _async.get(loop)
    if client is None or client.is_closed:
        client = httpx.AsyncClient(limits=_LIMITS, follow_redirects=False)
        _async[loop] = client
    return client


def timeout_for(remaining: float) -> httpx.Timeout:
    """Per-operation limits inside a call with ``remaining`` seconds left: connect ≤ 10 s.

    These only bound single socket operations; the shells also check the call's deadline
    between chunks, so a trickle of bytes cannot stretch the call (docs/internals/network.md).
    """
    return httpx.Timeout(remaining, connect=min(10.0, remaining), pool=min(30.0, remaining))


def endpoint(credentials: Credentials, api_base: str | None) -> str:
    """Return the Responses URL: explicit ``api_base``, else the env, else the default."""
    base = codex_base(api_base) if credentials.mode == "chatgpt" else openai_base(api_base)
    return base + "/responses"


def build_headers(credentials: Credentials, session_id: str, extra: dict[str, str] | None) -> dict[str, str]:
    """Return the request headers the backend expects (codex-protocol.md §6.1)."""
    headers = client_headers(credentials.token, credentials.account_id if credentials.mode == "chatgpt" else None)
    headers.update({
        "Content-Type": "application/json",
        "Accept": "text/event-stream",
        # Today's Codex sends the hyphenated session-id/thread-id and x-client-request-id (all
        # the conversation id here: one LiteLLM conversation is one Codex thread) and its
        # version; older backends and proxies key on the legacy session_id, so both are sent.
        "session_id": session_id,
        "session-id": session_id,
        "thread-id": session_id,
        "x-client-request-id": session_id,
        "version": CLIENT_VERSION,
    })
    if extra:
        headers.update({k: v for k, v in extra.items() if k.lower() != "authorization"})
    return headers


def _number(value: str | None) -> float | int | None:
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return int(number) if number.is_integer() else number


def _flag(value: str | None) -> bool | None:
    if value is None:
        return None
    return value.strip().lower() in ("1", "true", "yes")


def parse_rate_limits(headers: httpx.Headers | dict[str, str]) -> dict[str, Any]:
    """Return the x-codex-* usage snapshot as a dict (empty when the backend sent none)."""
    # One pass into a plain dict: httpx.Headers lookups are linear scans, and this runs per call.
    raw = headers if isinstance(headers, dict) else codex_headers(headers)
    if "x-codex-primary-used-percent" not in raw and "x-codex-plan-type" not in raw:
        return {}
    snapshot: dict[str, Any] = _windows(raw, "x-codex")
    active = raw.get("x-codex-active-limit")
    family = limit_family(active) if active else "x-codex"
    if family != "x-codex":
        # A metered limit (x-codex-<name>-*) is the one in force: keep its windows too.
        windows = _windows(raw, family)
        if windows:
            limit_name = raw.get(family + "-limit-name")
            snapshot["active"] = {"limit": active, **({"limit_name": limit_name} if limit_name else {}), **windows}
    for key, header in (("plan_type", "x-codex-plan-type"), ("active_limit", "x-codex-active-limit")):
        if raw.get(header):
            snapshot[key] = raw[header]
    credits = {
        "has_credits": _flag(raw.get("x-codex-credits-has-credits")),
        "unlimited": _flag(raw.get("x-codex-credits-unlimited")),
        "balance": _number(raw.get("x-codex-credits-balance")),
    }
    if any(v is not None for v in credits.values()):
        snapshot["credits"] = credits
    return snapshot


def limit_family(active: str) -> str:
    """Header prefix of the limit named by ``x-codex-active-limit`` (``codex`` -> ``x-codex``)."""
    name = active.strip().lower().replace("_", "-")
    return f"x-{name}" if name.startswith("codex") else f"x-codex-{name}"


def _windows(raw: dict[str, str], family: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for window in ("primary", "secondary"):
        prefix = f"{family}-{window}-"
        values = {
            "used_percent": _number(raw.get(prefix + "used-percent")),
            "window_minutes": _number(raw.get(prefix + "window-minutes")),
            "reset_after_seconds": _number(raw.get(prefix + "reset-after-seconds")),
            # Epoch seconds: what Codex itself reads (reset-after is relative to an unknown send time).
            "reset_at": _number(raw.get(prefix + "reset-at")),
        }
        if any(v is not None for v in values.values()):
            out[window] = values
    return out


def codex_headers(headers: httpx.Headers) -> dict[str, str]:
    """Return the raw x-codex-* / request-id headers, for callers who want them verbatim."""
    return {key.decode("latin-1").lower(): value.decode("latin-1") for key, value in headers.raw
            if key[:8].lower() == b"x-codex-" or key.lower() in (b"x-request-id", b"x-models-etag")}
