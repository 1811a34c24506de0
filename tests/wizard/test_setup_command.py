"""`kabot setup` as a command: TTY check, non-interactive flags, exit codes, emulator catalog."""

from __future__ import annotations

import json
import os

import pytest
from click.testing import CliRunner

import kabot_codex.wizard.setup_command  # noqa: F401  (adds `setup` to the group)
from kabot_codex.cli import cli
from kabot_codex.config import config_path
from kabot_codex.emulator import EmulatorControl
from tests.catalog.helpers import login_to


def invoke(*args: str, input: str | None = None) -> object:  # noqa: A002
    return CliRunner().invoke(cli, ["setup", *args], input=input, catch_exceptions=False)


def test_without_a_terminal_it_asks_for_non_interactive() -> None:
    result = invoke()
    assert result.exit_code == 2
    assert "needs a terminal" in result.output
    assert "--non-interactive" in result.output
    assert not config_path().exists()


def test_non_interactive_against_the_live_catalog(emu: EmulatorControl, monkeypatch: pytest.MonkeyPatch) -> None:
    login_to(emu, monkeypatch)
    result = invoke("--non-interactive", "--login", "keep")
    assert result.exit_code == 0, result.output
    model = json.loads(config_path().read_text())["agents"]["defaults"]["model"]
    # Logged in and the live list loaded: the best listed model is the default primary.
    assert model == {"primary": "openai-codex/gpt-5.6-sol",
                     "fallbacks": ["openai/gpt-5.2-codex", "openai/gpt-4o-mini"]}
    assert "Loaded your account's model list" in result.output
    assert "router.completion(" in result.output and "model=\"kabot\"" in result.output
    assert oct(os.stat(config_path()).st_mode & 0o777) == "0o600"


def test_live_catalog_shapes_the_default(emu: EmulatorControl, monkeypatch: pytest.MonkeyPatch) -> None:
    emu.account(models=["gpt-5.5", "gpt-5.4-mini"])
    login_to(emu, monkeypatch)
    result = invoke("--non-interactive", "--login", "keep", "--no-fallbacks")
    assert result.exit_code == 0, result.output
    model = json.loads(config_path().read_text())["agents"]["defaults"]["model"]
    assert model == {"primary": "openai-codex/gpt-5.5", "fallbacks": []}


def test_non_interactive_missing_login_is_a_usage_error() -> None:
    result = invoke("--non-interactive", "--primary", "openai-codex/gpt-5.5")
    assert result.exit_code == 2
    assert "--login" in result.output


def test_unsupported_primary_exits_1_with_the_fix(emu: EmulatorControl, monkeypatch: pytest.MonkeyPatch) -> None:
    login_to(emu, monkeypatch)
    result = invoke("--non-interactive", "--login", "keep", "--primary", "gpt-5.3-codex")
    assert result.exit_code == 1
    assert "--allow-unsupported" in result.output and "kabot models" in result.output


def test_api_key_login_from_stdin(emu: EmulatorControl) -> None:
    result = invoke("--non-interactive", "--login", "api-key", "--api-key", "-", "--primary", "gpt-5.5",
                    "--fallback", "openai/gpt-4o-mini", input="sk-test-from-stdin\n")
    assert result.exit_code == 0, result.output
    data = json.loads(config_path().read_text())
    profile = data["providers"]["openai-codex"]["profiles"]["default"]
    assert profile["method"] == "api-key" and profile["api_key"] == "sk-test-from-stdin"
    # The same OpenAI key serves the openai/* fallbacks.
    assert data["providers"]["openai"]["api_key"] == "sk-test-from-stdin"
    assert "sk-test-from-stdin" not in result.output


def test_device_login_then_live_catalog(emu: EmulatorControl, monkeypatch: pytest.MonkeyPatch) -> None:
    # The real device-code flow against the emulated issuer (it approves after two polls).
    monkeypatch.setenv("OPENAI_CODEX_API_BASE", emu.codex_base)
    monkeypatch.setenv("OPENAI_CODEX_AUTH_BASE", emu.auth_base)
    result = invoke("--non-interactive", "--login", "device", "--fallback", "openai/gpt-4o-mini")
    assert result.exit_code == 0, result.output
    data = json.loads(config_path().read_text())
    profile = data["providers"]["openai-codex"]["profiles"]["default"]
    assert profile["method"] == "device" and profile["account_id"]
    # Logged in by the wizard itself, so the account's live list picked the primary.
    assert data["agents"]["defaults"]["model"] == {"primary": "openai-codex/gpt-5.6-sol",
                                                   "fallbacks": ["openai/gpt-4o-mini"]}
    assert "Loaded your account's model list" in result.output
