"""Fixtures for the conformance corpus: a logged-in profile on the emulator, clean provider state."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from kabot_codex import state
from kabot_codex.auth.login import save_token_login


@pytest.fixture(autouse=True)
def _fresh_provider_state() -> Iterator[None]:
    state.reset()
    yield
    state.reset()


@pytest.fixture
def logged_in(emu: Any, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setenv("OPENAI_CODEX_API_BASE", emu.codex_base)
    monkeypatch.setenv("OPENAI_CODEX_AUTH_BASE", emu.auth_base)
    tokens = emu.mint_tokens(ttl=3600)
    save_token_login(tokens, profile="default", active=True)
    return tokens
