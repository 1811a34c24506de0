"""Fixtures for provider tests: a logged-in profile on the emulator, clean per-process state."""

from __future__ import annotations

import pytest

from kabot_codex import state
from kabot_codex.auth.login import save_token_login


@pytest.fixture(autouse=True)
def _fresh_provider_state():
    # Usage-limit memory and rate-limit snapshots are process-wide by design; tests must not
    # leak them into each other.
    state.reset()
    yield
    state.reset()


def save_profile(tokens: dict, name: str = "default", *, active: bool = True) -> None:
    save_token_login(tokens, profile=name, active=active)


@pytest.fixture
def logged_in(emu, monkeypatch):
    """A ChatGPT login saved as the active profile, with the provider pointed at the emulator."""
    monkeypatch.setenv("OPENAI_CODEX_API_BASE", emu.codex_base)
    monkeypatch.setenv("OPENAI_CODEX_AUTH_BASE", emu.auth_base)
    tokens = emu.mint_tokens(ttl=3600)
    save_profile(tokens)
    return tokens
