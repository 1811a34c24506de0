"""Test helpers shared by the catalog, wizard and routing tests."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import pytest

from kabot_codex.config import AuthProfile, edit_config

if TYPE_CHECKING:
    from kabot_codex.emulator import EmulatorControl


def save_profile(tokens: dict[str, Any] | None = None, *, profile: str = "default",
                 method: str = "browser") -> None:
    """Store a ChatGPT login the way `kabot login` would (from emulator tokens, or dummies)."""
    tokens = tokens or {"access_token": "at-dummy", "refresh_token": "rt-dummy", "id_token": "id-dummy",
                        "account_id": "acct-dummy", "expires_in": 3600}
    with edit_config() as config:
        codex = config.codex
        codex.profiles[profile] = AuthProfile(
            method=method, access_token=str(tokens["access_token"]),
            refresh_token=str(tokens["refresh_token"]), id_token=str(tokens.get("id_token") or ""),
            account_id=str(tokens["account_id"]),
            expires_at=time.time() + float(tokens.get("expires_in", 3600)),
        )
        codex.active_profile = profile


def login_to(emu: EmulatorControl, monkeypatch: pytest.MonkeyPatch, *, profile: str = "default") -> dict[str, Any]:
    """Point kabot at the emulator and store a fresh emulator login; return the tokens."""
    monkeypatch.setenv("OPENAI_CODEX_API_BASE", emu.codex_base)
    monkeypatch.setenv("OPENAI_CODEX_AUTH_BASE", emu.auth_base)
    tokens = emu.mint_tokens()
    save_profile(tokens, profile=profile)
    return tokens
