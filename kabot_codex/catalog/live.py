"""Live refresh of the ``openai-codex`` model list from ``{api_base}/models``.

The result is cached per account in ``$KABOT_HOME/state/models_cache.json`` with its ETag, so
a refresh inside the TTL costs nothing and one after it is usually a 304. A failed refresh
keeps the last good list (and the bundled snapshot underneath it); it is reported, not raised.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from kabot_codex import _fs
from kabot_codex.catalog import store
from kabot_codex.catalog.account import AccountView, current_account
from kabot_codex.errors import KabotError
from kabot_codex.identity import CLIENT_VERSION, client_headers, codex_base

log = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_TTL",
    "AccountView",
    "RefreshResult",
    "codex_api_base",
    "current_account",
    "refresh_catalog",
]

DEFAULT_TTL = 3600.0  # the catalog changes in weeks, not minutes
RETRY_AFTER_FAILURE = 60.0  # don't hammer a failing endpoint on every `kabot models`
TIMEOUT = 10.0


@dataclass
class RefreshResult:
    """What a refresh did: ``fetched`` (200), ``not_modified`` (304), ``cached`` or ``skipped``/``failed``."""

    outcome: str
    account_key: str | None = None
    models: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        """Whether live data for the account is available now."""
        return self.outcome in ("fetched", "not_modified", "cached")


def codex_api_base(api_base: str | None = None) -> str:
    """Return the Codex backend base the provider uses (explicit, env, default)."""
    return codex_base(api_base)


def _headers(token: str, account_id: str | None, etag: str | None) -> dict[str, str]:
    headers = {**client_headers(token, account_id), "Accept": "application/json"}
    if etag:
        headers["If-None-Match"] = etag
    return headers


def _listed(models: Any) -> list[dict[str, Any]]:
    # Only what the backend wants shown (visibility "list"), in its own order.
    if not isinstance(models, list):
        return []
    shown = [m for m in models if isinstance(m, dict) and m.get("slug") and m.get("visibility", "list") == "list"]
    return sorted(shown, key=lambda m: (m.get("priority", 1000), str(m["slug"])))


def _save_entry(account_key: str, entry: dict[str, Any]) -> None:
    path = store.live_cache_path()
    with _fs.file_lock(path, timeout=5.0):
        data = store.read_live_cache() or {"version": 1, "accounts": {}}
        data.setdefault("accounts", {})[account_key] = entry
        _fs.atomic_write_json(path, data)


def _seconds(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) else 0.0


def _slugs(entry: dict[str, Any] | None) -> list[str]:
    models = (entry or {}).get("models")
    return [f"openai-codex/{m['slug']}" for m in (models if isinstance(models, list) else [])
            if isinstance(m, dict) and m.get("slug")]


def refresh_catalog(
    *,
    profile: str | None = None,
    api_key: str | None = None,
    api_base: str | None = None,
    force: bool = False,
    ttl: float = DEFAULT_TTL,
) -> RefreshResult:
    """Fetch the account's model list unless the cached one is younger than ``ttl``.

    ``force`` ignores the TTL (an ETag still makes an unchanged list a cheap 304). Never raises
    for network or backend failures; the result says what happened and the old data stays.
    """
    import httpx

    from kabot_codex.auth.credentials import resolve_source

    try:
        source = resolve_source(api_key=api_key, profile=profile)
        creds = source.get()
    except KabotError as exc:
        return RefreshResult("skipped", error=str(exc))
    if creds.mode != "chatgpt":
        # /models belongs to the ChatGPT backend; an API key is served from the bundled list.
        return RefreshResult("skipped", error="the live model list needs a ChatGPT login (API-key mode)")
    key = creds.account_key
    previous = store.read_live_cache().get("accounts", {}).get(key)
    if not isinstance(previous, dict):
        previous = None  # a cache entry someone edited into another shape: fetch afresh
    now = time.time()
    if previous and not force:
        if now - _seconds(previous.get("fetched_at")) < ttl:
            return RefreshResult("cached", key, _slugs(previous))
        if now - _seconds(previous.get("failed_at")) < RETRY_AFTER_FAILURE:
            return RefreshResult("failed", key, _slugs(previous), error=previous.get("last_error"))

    url = f"{codex_api_base(api_base)}/models"
    etag = (previous or {}).get("etag") if previous and previous.get("models") is not None else None
    try:
        with httpx.Client(timeout=TIMEOUT) as client:
            response = client.get(url, params={"client_version": CLIENT_VERSION},
                                  headers=_headers(creds.token, creds.account_id, etag))
            if response.status_code == 401:
                # One refresh-and-retry, like every other call on this account.
                creds = source.recover(creds)
                response = client.get(url, params={"client_version": CLIENT_VERSION},
                                      headers=_headers(creds.token, creds.account_id, etag))
        if response.status_code == 304 and previous:
            entry = {**previous, "fetched_at": now}
            entry.pop("failed_at", None)
            entry.pop("last_error", None)
            _save_entry(key, entry)
            store.reload()
            return RefreshResult("not_modified", key, _slugs(entry))
        if response.status_code != 200:
            raise _Failed(f"{url} answered HTTP {response.status_code}")
        body = response.json()
        models = _listed(body.get("models") if isinstance(body, dict) else None)
        if not models:
            raise _Failed(f"{url} returned no listed models")
    except (httpx.HTTPError, ValueError, KabotError, _Failed) as exc:
        error = str(exc) or type(exc).__name__
        entry = {**(previous or {}), "failed_at": now, "last_error": error}
        try:
            _save_entry(key, entry)
        except (OSError, _fs.LockTimeout):
            pass
        return RefreshResult("failed", key, _slugs(previous), error=error)

    entry = {
        "fetched_at": now,
        "etag": response.headers.get("etag") or response.headers.get("x-models-etag")
        or (body.get("etag") if isinstance(body, dict) else None),
        "client_version": CLIENT_VERSION,
        "api_base": codex_api_base(api_base),
        "models": models,
    }
    before, after = set(_slugs(previous)), _slugs(entry)
    try:
        _save_entry(key, entry)
    except (OSError, _fs.LockTimeout) as exc:  # read-only or full home: the list is still good
        log.warning("Could not cache the model list in %s (%s); it is fetched again next time",
                    store.live_cache_path(), getattr(exc, "strerror", None) or type(exc).__name__)
    store.reload()
    return RefreshResult("fetched", key, after, added=[m for m in after if m not in before],
                         removed=sorted(before - set(after)))


class _Failed(Exception):
    """The endpoint answered, but not with a usable list."""
