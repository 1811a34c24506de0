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
    """Return the account the provider would use now (reads the config, never the network)."""
    from kabot_codex.auth.credentials import ENV_API_KEY, ENV_PROFILE, Credentials, credentials_from_key
    from kabot_codex.config import load_config

    key = api_key or (None if profile else os.environ.get(ENV_API_KEY, "").strip())
    if key:
        creds = credentials_from_key(key)
        return AccountView(creds.account_key, creds.mode, None)
    try:
        codex = load_config().providers.get("openai-codex")
    except Exception:  # an unreadable config means "not logged in" here; commands report it
        return AccountView(None, None, profile)
    name = profile or os.environ.get(ENV_PROFILE) or (codex.active_profile if codex else "default")
    stored = codex.profiles.get(name) if codex else None
    if stored is None:
        return AccountView(None, None, name)
    if stored.api_key:
        return AccountView(Credentials(mode="api_key", token=stored.api_key).account_key, "api_key", name)
    if not (stored.access_token or stored.account_id):
        return AccountView(None, None, name)
    creds = Credentials(mode="chatgpt", token=stored.access_token or "", account_id=stored.account_id)
    return AccountView(creds.account_key, "chatgpt", name)
