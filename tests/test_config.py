"""The one config writer: atomic, private, keeps what it does not own, refuses corrupt files."""

from __future__ import annotations

import json
import os
import stat

import pytest

from kabot_codex.config import AuthProfile, ModelOrder, config_path, edit_config, load_config
from kabot_codex.errors import ConfigError


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_missing_file_loads_empty_and_first_write_is_private(kabot_home):
    assert load_config().providers == {}
    with edit_config() as cfg:
        cfg.agents.defaults.model = ModelOrder(primary="openai-codex/gpt-5.5", fallbacks=["openai/gpt-4o-mini"])
    assert mode(config_path()) == 0o600
    assert mode(config_path().parent) == 0o700
    data = json.loads(config_path().read_text())
    assert data["agents"]["defaults"]["model"] == {
        "primary": "openai-codex/gpt-5.5",
        "fallbacks": ["openai/gpt-4o-mini"],
    }


def test_unknown_keys_at_every_level_survive(kabot_home):
    config_path().parent.mkdir(parents=True, exist_ok=True)
    config_path().write_text(
        json.dumps(
            {
                "channels": {"telegram": {"token": "x"}},
                "agents": {"defaults": {"workspace": "~/w", "model": "anthropic/claude"}, "list": [1]},
                "providers": {
                    "openai-codex": {"profiles": {"old": {"method": "browser", "color": "blue"}}, "custom": True},
                    "anthropic": {"api_key": "k"},
                },
            }
        )
    )
    with edit_config() as cfg:
        cfg.codex.profiles["new"] = AuthProfile(method="api-key", api_key="sk-1")
        cfg.codex.active_profile = "new"
    data = json.loads(config_path().read_text())
    assert data["channels"] == {"telegram": {"token": "x"}}
    assert data["agents"]["defaults"]["workspace"] == "~/w" and data["agents"]["list"] == [1]
    assert data["agents"]["defaults"]["model"] == "anthropic/claude"
    assert data["providers"]["openai-codex"]["custom"] is True
    assert data["providers"]["openai-codex"]["profiles"]["old"]["color"] == "blue"
    assert data["providers"]["anthropic"] == {"api_key": "k"} or data["providers"]["anthropic"]["api_key"] == "k"
    assert load_config().agents.defaults.model_order().primary == "anthropic/claude"


def test_corrupt_file_is_reported_and_never_overwritten(kabot_home):
    config_path().parent.mkdir(parents=True, exist_ok=True)
    config_path().write_text('{"providers": {')
    with pytest.raises(ConfigError) as info:
        load_config()
    assert "not valid JSON" in str(info.value) and info.value.hint
    with pytest.raises(ConfigError), edit_config() as cfg:
        cfg.codex.active_profile = "x"
    assert config_path().read_text() == '{"providers": {'


def test_invalid_settings_name_the_key(kabot_home):
    config_path().parent.mkdir(parents=True, exist_ok=True)
    config_path().write_text(json.dumps({"agents": {"defaults": {"model": 42}}}))
    config = load_config()  # the order is checked when it is used, not on every load
    with pytest.raises(ConfigError) as info:
        config.agents.defaults.model_order()
    assert "agents.defaults.model" in str(info.value) and info.value.hint


def test_an_exception_inside_the_edit_writes_nothing(kabot_home):
    with edit_config() as cfg:
        cfg.codex.active_profile = "a"
    before = config_path().read_text()
    with pytest.raises(RuntimeError), edit_config() as cfg:
        cfg.codex.active_profile = "b"
        raise RuntimeError("boom")
    assert config_path().read_text() == before


def test_secrets_are_not_in_reprs():
    profile = AuthProfile(
        method="browser",
        access_token="SECRET-ACCESS",
        refresh_token="SECRET-REFRESH",
        id_token="SECRET-ID",
        api_key="SECRET-KEY",
        account_id="acct-secret",
    )
    text = repr(profile) + str(profile)
    for secret in ("SECRET-ACCESS", "SECRET-REFRESH", "SECRET-ID", "SECRET-KEY", "acct-secret"):
        assert secret not in text


def test_model_order_reads_like_kabot_expects():
    order = ModelOrder(primary="a", fallbacks=["b", "a", "c"])
    assert order["primary"] == "a" and order.models() == ["a", "b", "c"]
