"""Wizard fixtures: a private KABOT_HOME, fresh catalog caches, and a stored login."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kabot_codex.catalog import status, store
from kabot_codex.config import CREDENTIAL_ENV
from tests.catalog.helpers import save_profile


@pytest.fixture(autouse=True)
def wizard_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    home = tmp_path / "kabot-home"
    monkeypatch.setenv("KABOT_HOME", str(home))
    for var in CREDENTIAL_ENV:
        monkeypatch.delenv(var, raising=False)
    # Nothing listens on port 9: a test that forgets the emulator fails fast instead of
    # reaching chatgpt.com.
    monkeypatch.setenv("OPENAI_CODEX_API_BASE", "http://127.0.0.1:9/backend-api/codex")
    store.reload()
    status.forget_statuses()
    yield home
    store.reload()
    status.forget_statuses()


@pytest.fixture
def logged_in() -> None:
    """A stored (dummy) ChatGPT login; the catalog refresh fails, so the bundle is used."""
    save_profile()
