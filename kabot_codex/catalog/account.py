"""Whose statuses to show: the account the provider would use, worked out without any I/O
beyond reading the config (no token refresh, no network).

The key matches ``Credentials.account_key`` — what the provider records statuses under — and
follows ``resolve_source``'s order: explicit key, explicit profile, ``OPENAI_CODEX_API_KEY``,
``KABOT_PROFILE`` or the active profile.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

__all__ = ["AccountView", "current_account"]


@dataclass(frozen=True)
class AccountView:
    """The account key and auth mode ("chatgpt" | "api_key"); both None when not logged in."""

    account_key: str | None
    auth_mode: str | None
    profile: str | None = None


def current_account(*, profile: str | None = None, api_key: str | None = None) -> AccountView:
    """Return the account the provider would use now (reads the stored files, never the network)."""
    from kabot_codex.auth.credentials import ENV_API_KEY, ENV_PROFILE, credentials_from_key
    from kabot_codex.auth.store import load_snapshot
    from kabot_codex.errors import AuthError, ConfigError

    key = api_key or (None if profile else os.environ.get(ENV_API_KEY, "").strip())
    if key:
        creds = credentials_from_key(key)
        return AccountView(creds.account_key, creds.mode, None)
    name = profile or os.environ.get(ENV_PROFILE) or None
    try:
        # The auth store's own reader: it knows where each kind of login keeps its tokens
        # (a linked Codex CLI login lives in that CLI's auth.json, not in our config).
        snapshot = load_snapshot(name)
        creds = snapshot.credentials
    except (AuthError, ConfigError):  # not logged in, or unreadable: commands report it themselves
        return AccountView(None, None, name or _active_profile())
    return AccountView(creds.account_key, creds.mode, snapshot.name)


def _active_profile() -> str | None:
    from kabot_codex.config import load_config

    try:
        return load_config().codex.active_profile
    except Exception:
        return None
