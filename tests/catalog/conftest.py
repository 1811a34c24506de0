"""Catalog fixtures: a private KABOT_HOME and fresh in-memory catalog/status caches per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kabot_codex.catalog import status, store


@pytest.fixture(autouse=True)
def fresh_catalog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # The shared conftest isolates KABOT_HOME as well; setting it here keeps these tests
    # self-contained. The in-memory caches outlive a test, so drop them on both sides.
    monkeypatch.setenv("KABOT_HOME", str(tmp_path / "kabot-home"))
    store.reload()
    status.forget_statuses()
    yield
    store.reload()
    status.forget_statuses()
