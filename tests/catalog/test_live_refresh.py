"""Live refresh of the model list from the emulated backend: TTL, ETag, failures, statuses."""

from __future__ import annotations

import json

import pytest

from kabot_codex import catalog
from kabot_codex.catalog import store
from kabot_codex.catalog.account import current_account
from kabot_codex.catalog.live import refresh_catalog
from kabot_codex.emulator import EmulatorControl
from kabot_codex.identity import CLIENT_VERSION
from tests.catalog.helpers import login_to


def model_requests(emu: EmulatorControl) -> list[dict]:
    return emu.requests(path_contains="/models")


def test_refresh_lists_visible_models_in_priority_order(emu: EmulatorControl,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    login_to(emu, monkeypatch)
    result = refresh_catalog()
    assert result.outcome == "fetched"
    assert result.models[:4] == ["openai-codex/gpt-5.6-sol", "openai-codex/gpt-5.6-terra",
                                 "openai-codex/gpt-5.6-luna", "openai-codex/gpt-5.5"]
    assert "openai-codex/codex-auto-review" not in result.models  # visibility "hide"
    assert "openai-codex/gpt-5.3-codex" not in result.models  # retired: not listed
    sent = model_requests(emu)[-1]
    assert sent["query"]["client_version"] == CLIENT_VERSION
    headers = {k.lower(): v for k, v in sent["headers"].items()}
    assert headers["authorization"].startswith("Bearer ")
    assert headers["chatgpt-account-id"] and headers["originator"] and headers["user-agent"]
    cache = json.loads(store.live_cache_path().read_text())
    entry = cache["accounts"][current_account().account_key]
    assert entry["etag"] and entry["models"][0]["slug"] == "gpt-5.6-sol"


def test_ttl_then_etag(emu: EmulatorControl, monkeypatch: pytest.MonkeyPatch) -> None:
    login_to(emu, monkeypatch)
    assert refresh_catalog().outcome == "fetched"
    before = len(model_requests(emu))
    assert refresh_catalog().outcome == "cached"  # inside the TTL: no request at all
    assert len(model_requests(emu)) == before
    forced = refresh_catalog(force=True)
    assert forced.outcome == "not_modified"  # If-None-Match hit
    last = {k.lower(): v for k, v in model_requests(emu)[-1]["headers"].items()}
    assert last["if-none-match"]
    assert forced.models[0] == "openai-codex/gpt-5.6-sol"


def test_changed_account_list_is_picked_up(emu: EmulatorControl, monkeypatch: pytest.MonkeyPatch) -> None:
    login_to(emu, monkeypatch)
    refresh_catalog()
    emu.account(models=["gpt-5.5", "gpt-5.4-mini"])  # e.g. a free plan
    result = refresh_catalog(force=True)
    assert result.outcome == "fetched"
    assert result.models == ["openai-codex/gpt-5.5", "openai-codex/gpt-5.4-mini"]
    assert "openai-codex/gpt-5.6-sol" in result.removed


def test_failed_refresh_keeps_the_last_good_list(emu: EmulatorControl, monkeypatch: pytest.MonkeyPatch) -> None:
    login_to(emu, monkeypatch)
    good = refresh_catalog()
    emu.fault("server_error", target="models")
    failed = refresh_catalog(force=True)
    assert failed.outcome == "failed" and "500" in (failed.error or "")
    assert failed.models == good.models
    catalog.reload()
    assert catalog.get_spec("gpt-5.6-sol").source == "live"


def test_refresh_without_login_or_with_api_key_is_skipped(emu: EmulatorControl,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    assert refresh_catalog().outcome == "skipped"
    assert refresh_catalog(api_key="sk-test-key").outcome == "skipped"
    assert model_requests(emu) == []


def test_live_statuses(emu: EmulatorControl, monkeypatch: pytest.MonkeyPatch) -> None:
    login_to(emu, monkeypatch)
    refresh_catalog()
    key = current_account().account_key
    assert catalog.get_model_status("openai-codex/gpt-5.5", key) == "catalog"
    assert catalog.get_model_status("openai-codex/gpt-5.3-codex", key) == "unsupported"
    catalog.note_success("openai-codex/gpt-5.5", key)
    assert catalog.get_model_status("openai-codex/gpt-5.5", key) == "working"


def test_default_status_is_for_the_active_login(emu: EmulatorControl, monkeypatch: pytest.MonkeyPatch) -> None:
    login_to(emu, monkeypatch)
    refresh_catalog()
    catalog.note_success("openai-codex/gpt-5.4", current_account().account_key)
    # No account given: the active login's account (found without any network call).
    assert catalog.get_model_status("gpt-5.4") == "working"
    assert catalog.get_model_status("gpt-5.3-codex") == "unsupported"
    monkeypatch.setenv("OPENAI_CODEX_API_KEY", "sk-test-env")
    # An API key in the environment wins, as in the provider: another account, API-key mode.
    assert catalog.get_model_status("gpt-5.4") == "catalog"
    assert catalog.get_model_status("gpt-5.3-codex") == "catalog"
    assert current_account().auth_mode == "api_key"
