"""Damaged files: the path and the fix, never a traceback; credentials kept, caches rebuilt.

Config and credential files belong to the user and are only ever reported. State files are
caches we own: a damaged one is set aside as ``<name>.corrupt-<time>`` and rebuilt.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from pathlib import Path
from typing import Any

import litellm
import pytest
from click.testing import CliRunner
from pytest_mock import MockerFixture

import kabot_codex  # noqa: F401  registers the provider
import kabot_codex.wizard.setup_command  # noqa: F401  (adds `setup` to the group)
from kabot_codex import state
from kabot_codex.auth import store as store_module
from kabot_codex.auth.login import run_login, save_token_login
from kabot_codex.catalog import status, store
from kabot_codex.cli import cli
from kabot_codex.config import config_path, load_config
from kabot_codex.emulator import EmulatorControl
from kabot_codex.errors import ConfigError, CredentialFileError

MODEL = "openai-codex/gpt-5.5"
NOT_UTF8 = b'{"providers": {"openai-codex": {"profiles": {"default": {"method": "api-key", "api_key": "\xff"}}}}}'


def hi() -> list[dict[str, str]]:
    return [{"role": "user", "content": "hi"}]


def kabot(*args: str) -> Any:
    return CliRunner(env={"COLUMNS": "200"}).invoke(cli, list(args))


def codex_file(path: Path, tokens: dict[str, Any], **overrides: Any) -> Path:
    block = {key: tokens[key] for key in ("id_token", "access_token", "refresh_token", "account_id")}
    block.update(overrides)
    path.write_text(json.dumps({"auth_mode": "chatgpt", "tokens": block, "last_refresh": "2026-01-01T00:00:00Z"}))
    os.chmod(path, 0o600)
    return path


def link(path: Path, profile: str = "default") -> None:
    run_login("codex", profile=profile, path=str(path))


def assert_typed_auth_failure(exc: BaseException, *needles: str) -> None:
    # Not retryable (401), so a Router falls back at once, like after a failed login.
    assert isinstance(exc, litellm.AuthenticationError), type(exc)
    assert exc.status_code == 401
    message = str(exc)
    assert "Traceback" not in message and "UnicodeDecodeError" not in message
    for needle in needles:
        assert needle in message, (needle, message)


# --- config.json and the linked Codex auth.json --------------------------------------------------


def test_non_utf8_config_is_reported_everywhere_and_kept(on_emulator: EmulatorControl) -> None:
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(NOT_UTF8)
    with pytest.raises(ConfigError) as info:
        load_config()
    assert str(path) in info.value.message and "UTF-8" in info.value.message and info.value.hint
    result = kabot("status")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "error:" in result.output and "UTF-8" in result.output and "fix:" in result.output
    setup = kabot("setup", "--non-interactive", "--login", "keep")
    assert setup.exit_code == 1 and "UTF-8" in setup.output and "Traceback" not in setup.output
    for shape in ("completion", "stream", "acompletion", "astream"):
        with pytest.raises(litellm.AuthenticationError) as call:
            asyncio.run(call_shape(shape))
        assert_typed_auth_failure(call.value, str(path), "UTF-8", "move")
    assert path.read_bytes() == NOT_UTF8  # reported, never replaced


async def call_shape(shape: str) -> None:
    if shape == "completion":
        litellm.completion(model=MODEL, messages=hi())
    elif shape == "stream":
        for _ in litellm.completion(model=MODEL, messages=hi(), stream=True):
            pass
    elif shape == "acompletion":
        await litellm.acompletion(model=MODEL, messages=hi())
    else:
        async for _ in await litellm.acompletion(model=MODEL, messages=hi(), stream=True):
            pass


def test_wrong_typed_config_fields_name_the_key(on_emulator: EmulatorControl) -> None:
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    profile = {"method": "browser", "access_token": "a", "refresh_token": 7}
    path.write_text(json.dumps({"providers": {"openai-codex": {"profiles": {"default": profile}}}}))
    with pytest.raises(litellm.AuthenticationError) as call:
        litellm.completion(model=MODEL, messages=hi())
    assert_typed_auth_failure(call.value, str(path), "providers.openai-codex.profiles.default.refresh_token")
    for shape in ([], "x", 7):
        path.write_text(json.dumps({"providers": shape}))
        result = kabot("status")
        assert result.exit_code == 1 and "providers" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("content", [b'{"tokens": {"access_token": "\xff\xfe"}}', None])
def test_broken_linked_codex_file(on_emulator: EmulatorControl, tmp_path: Path, content: bytes | None) -> None:
    tokens = on_emulator.mint_tokens()
    path = codex_file(tmp_path / "auth.json", tokens)
    link(path)
    if content is None:  # wrong-typed: a number where the refresh token belongs
        codex_file(path, tokens, refresh_token=7)
        needle = "tokens.refresh_token is a JSON number"
    else:
        path.write_bytes(content)
        needle = "not UTF-8"
    before = path.read_bytes()
    with pytest.raises(CredentialFileError) as info:
        store_module.load_snapshot(None)
    assert str(path) in info.value.message and needle in info.value.message and "codex login" in info.value.hint
    assert tokens["access_token"] not in str(info.value)
    rows = json.loads(kabot("status", "--json").output)["profiles"]
    assert needle in rows[0]["error"] and rows[0]["hint"]
    with pytest.raises(litellm.AuthenticationError) as call:
        litellm.completion(model=MODEL, messages=hi())
    assert_typed_auth_failure(call.value, str(path), needle)
    assert path.read_bytes() == before


def test_router_falls_back_at_once_from_a_broken_credential_file(on_emulator: EmulatorControl, tmp_path: Path,
                                                                   mocker: MockerFixture) -> None:
    save_token_login(on_emulator.mint_tokens(), profile="good")
    broken = codex_file(tmp_path / "auth.json", on_emulator.mint_tokens())
    link(broken, profile="linked")
    broken.write_bytes(b"\xff\xfe not json")
    reads = mocker.spy(store_module, "read_codex_auth")
    router = litellm.Router(model_list=[
        {"model_name": "primary", "litellm_params": {"model": MODEL, "kabot_profile": "linked"}},
        {"model_name": "backup", "litellm_params": {"model": MODEL, "kabot_profile": "good"}},
    ], fallbacks=[{"primary": ["backup"]}], num_retries=2)
    response = router.completion(model="primary", messages=hi())
    assert "gpt-5.5" in response.choices[0].message.content
    assert reads.call_count == 1, "a broken credential file is not retried"
    assert on_emulator.stats()["requests"]["codex.responses"] == 1


# --- state files: caches we own ------------------------------------------------------------------

STATE_FILES = ["rate_limits.json", "usage_limits.json", "model_status.json", "models_cache.json"]


@pytest.mark.parametrize("damage", [b"\xff\xfe\x00", b'{"half": ', b"[1, 2]"])
def test_damaged_state_files_are_set_aside_and_rebuilt(on_emulator: EmulatorControl, damage: bytes,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    save_token_login(on_emulator.mint_tokens())
    state_dir = config_path().parent / "state"
    state_dir.mkdir()
    for name in STATE_FILES:
        (state_dir / name).write_bytes(damage)
    state.reset()
    store.reload()
    status.forget_statuses()
    with caplog.at_level(logging.WARNING, logger="kabot_codex"):
        response = litellm.completion(model=MODEL, messages=hi())
        assert response.choices[0].message.content
        assert kabot("status").exit_code == 0
        state.flush()
    for name in STATE_FILES:
        kept = list(state_dir.glob(f"{name}.corrupt-*"))
        assert len(kept) == 1 and kept[0].read_bytes() == damage, name
        assert any(name in r.getMessage() and "moved it to" in r.getMessage() for r in caplog.records), name
    # Rebuilt from this call: valid JSON objects again.
    for name in ("rate_limits.json", "model_status.json"):
        assert isinstance(json.loads((state_dir / name).read_text()), dict), name


@pytest.mark.parametrize("entry", ["a string", {"fetched_at": "soon", "failed_at": [], "models": 5}])
def test_wrong_typed_model_cache_entries_are_refetched(on_emulator: EmulatorControl, entry: Any) -> None:
    from kabot_codex.auth.credentials import resolve_source
    from kabot_codex.catalog.live import refresh_catalog

    save_token_login(on_emulator.mint_tokens())
    key = resolve_source().get().account_key
    path = store.live_cache_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"version": 1, "accounts": {key: entry, "other": 7}}))
    store.reload()
    assert litellm.completion(model=MODEL, messages=hi()).choices[0].message.content
    result = refresh_catalog()
    assert result.outcome == "fetched" and result.models, result
    assert isinstance(json.loads(path.read_text())["accounts"][key]["models"], list)
