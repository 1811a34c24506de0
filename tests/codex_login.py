"""Fixtures shared by the suites that drive the provider end to end (conformance, ecosystem)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from kabot_codex import state
from kabot_codex.auth.login import save_token_login

__all__ = ["fresh_provider_state", "logged_in"]


@pytest.fixture(autouse=True)
def fresh_provider_state() -> Iterator[None]:
    """The usage-limit memory is process-wide by design; one test's limit must not leak."""
    state.reset()
    yield
    state.reset()


@pytest.fixture
def logged_in(emu: Any, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A ChatGPT login saved as the active profile, with the provider pointed at the emulator."""
    monkeypatch.setenv("OPENAI_CODEX_API_BASE", emu.codex_base)
    monkeypatch.setenv("OPENAI_CODEX_AUTH_BASE", emu.auth_base)
    tokens = emu.mint_tokens(ttl=3600)
    save_token_login(tokens, profile="default", active=True)
    return tokens
