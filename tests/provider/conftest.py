"""Fixtures for provider tests: a logged-in profile on the emulator, clean per-process state."""

from __future__ import annotations

import time

import pytest

from kabot_codex import state
from kabot_codex.config import AuthProfile, edit_config


@pytest.fixture(autouse=True)
def _fresh_provider_state():
    # Usage-limit memory and rate-limit snapshots are process-wide by design; tests must not
    # leak them into each other.
    state.reset()
    yield
    state.reset()


def save_profile(tokens: dict, name: str = "default", *, active: bool = True) -> None:
    with edit_config() as cfg:
        cfg.codex.profiles[name] = AuthProfile(
            method="browser",
            access_token=tokens["access_token"],
            refresh_token=tokens["refresh_token"],
            id_token=tokens["id_token"],
            account_id=tokens["account_id"],
            expires_at=time.time() + tokens["expires_in"],
        )
        if active:
            cfg.codex.active_profile = name


@pytest.fixture
def logged_in(emu, monkeypatch):
    """A ChatGPT login saved as the active profile, with the provider pointed at the emulator."""
    monkeypatch.setenv("OPENAI_CODEX_API_BASE", emu.codex_base)
    monkeypatch.setenv("OPENAI_CODEX_AUTH_BASE", emu.auth_base)
    tokens = emu.mint_tokens(ttl=3600)
    save_profile(tokens)
    return tokens
