"""Routing fixtures: a saved order, a login on the emulator, OpenAI fallbacks on the emulator's /v1."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from kabot_codex import state
from kabot_codex.catalog import status, store
from kabot_codex.emulator import EmulatorControl
from kabot_codex.wizard.apply import apply_setup
from tests.catalog.helpers import login_to

PRIMARY = "openai-codex/gpt-5.5"
FALLBACKS = ["openai/gpt-5.2-codex", "openai/gpt-4o-mini"]


@pytest.fixture(autouse=True)
def _fresh_process_state() -> Iterator[None]:
    # Usage-limit memory, statuses and the catalog are process-wide by design; tests must not
    # inherit each other's.
    state.reset()
    store.reload()
    status.forget_statuses()
    yield
    state.reset()
    store.reload()
    status.forget_statuses()


@pytest.fixture
def setup_done(emu: EmulatorControl, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """What `kabot setup` leaves behind: a login and the order primary → FALLBACKS."""
    tokens = login_to(emu, monkeypatch)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-routing")
    monkeypatch.setenv("OPENAI_API_BASE", emu.openai_base)
    apply_setup(PRIMARY, FALLBACKS)
    return tokens


def counts(emu: EmulatorControl) -> dict[str, int]:
    """Backend calls so far: codex (primary) and openai (fallbacks, chat or responses API)."""
    requests = emu.stats()["requests"]
    return {"codex": requests.get("codex.responses", 0),
            "openai": requests.get("openai.chat", 0) + requests.get("openai.responses", 0)}


def hi() -> list[dict[str, str]]:
    return [{"role": "user", "content": "hi"}]
