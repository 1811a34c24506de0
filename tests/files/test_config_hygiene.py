"""Config hygiene: a shared file keeps other tools' data, reports loose permissions, takes no
secret from the command line, and writes nothing where the user did not ask."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import litellm
from click.testing import CliRunner

import kabot_codex  # noqa: F401  registers the provider
import kabot_codex.wizard.setup_command  # noqa: F401  (adds `setup` to the group)
from kabot_codex.auth.login import save_token_login
from kabot_codex.cli import cli
from kabot_codex.config import config_path, edit_config, load_config
from kabot_codex.emulator import EmulatorControl
from kabot_codex.wizard.apply import apply_setup

MODEL = "openai-codex/gpt-5.5"


def kabot(*args: str, input: str | None = None) -> Any:  # noqa: A002
    return CliRunner(env={"COLUMNS": "200"}).invoke(cli, list(args), input=input)


def hi() -> list[dict[str, str]]:
    return [{"role": "user", "content": "hi"}]


def edit_raw(change: Any) -> dict[str, Any]:
    data = json.loads(config_path().read_text())
    change(data)
    config_path().write_text(json.dumps(data))
    return data


def test_other_tools_sections_of_any_shape_are_kept_and_never_block(on_emulator: EmulatorControl) -> None:
    save_token_login(on_emulator.mint_tokens())

    def foreign(data: dict[str, Any]) -> None:
        data["providers"].update({"other-tool": "a string", "listed": [1, {"x": None}], "nothing": None})
        data["agents"]["defaults"]["model"] = 42  # an order this package cannot read
        data["top"] = None
        data["providers"]["openai-codex"]["theirs"] = None
        data["providers"]["openai-codex"]["profiles"]["default"]["note"] = None

    foreign_data = edit_raw(foreign)
    # Calls with an explicit model need neither the other sections nor the order.
    assert litellm.completion(model=MODEL, messages=hi()).choices[0].message.content
    assert kabot("status").exit_code == 0
    with edit_config() as config:  # a write keeps every foreign key, nulls included
        config.codex.active_profile = "default"
        config.codex.profiles["default"].plan = "pro"
    data = json.loads(config_path().read_text())
    for key in ("other-tool", "listed", "nothing"):
        assert data["providers"][key] == foreign_data["providers"][key], key
    assert data["top"] is None and "top" in data
    assert data["agents"]["defaults"]["model"] == 42
    assert "theirs" in data["providers"]["openai-codex"] and data["providers"]["openai-codex"]["theirs"] is None
    assert data["providers"]["openai-codex"]["profiles"]["default"]["note"] is None
    # Only what asks for the order hears about it, with the key and the fix.
    result = kabot("router", "show")
    assert result.exit_code == 1 and "agents.defaults.model" in result.output and "kabot setup" in result.output


def test_loose_permissions_are_reported_then_fixed_on_the_next_write(on_emulator: EmulatorControl) -> None:
    save_token_login(on_emulator.mint_tokens())
    home = config_path().parent
    os.chmod(home, 0o755)
    os.chmod(config_path(), 0o644)
    shown = kabot("status")
    assert shown.exit_code == 0
    warnings = [line for line in shown.output.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 2, shown.output
    assert f"chmod 700 {home}" in shown.output and f"chmod 600 {config_path()}" in shown.output
    assert json.loads(kabot("status", "--json").output)["warnings"]
    with edit_config() as config:  # even a write that changes nothing tightens the modes
        config.codex.active_profile = "default"
    assert stat.S_IMODE(home.stat().st_mode) == 0o700 and stat.S_IMODE(config_path().stat().st_mode) == 0o600
    assert "warning:" not in kabot("status").output


def test_router_export_does_not_create_missing_directories(tmp_path: Path) -> None:
    apply_setup(MODEL, [])
    output = tmp_path / "no" / "such" / "dir" / "proxy.yaml"
    result = kabot("router", "export", "--output", str(output))
    assert result.exit_code == 1
    assert str(output.parent) in result.output and "mkdir -p" in result.output
    assert not (tmp_path / "no").exists()
    (tmp_path / "out").mkdir()
    assert kabot("router", "export", "--output", str(tmp_path / "out" / "proxy.yaml")).exit_code == 0


def test_setup_takes_keys_from_stdin_or_env_and_warns_about_the_command_line(on_emulator: EmulatorControl,
                                                                             monkeypatch: Any) -> None:
    base = ["setup", "--non-interactive", "--login", "api-key", "--primary", MODEL, "--no-fallbacks", "--no-probe"]
    piped = kabot(*base, "--api-key", "-", input="sk-from-stdin-0123456789\n")
    assert piped.exit_code == 0, piped.output
    assert "warning" not in piped.output and "sk-from-stdin-0123456789" not in piped.output
    assert load_config().codex.profiles["default"].api_key == "sk-from-stdin-0123456789"
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-the-env")
    from_env = kabot(*base)
    assert from_env.exit_code == 0, from_env.output
    assert load_config().codex.profiles["default"].api_key == "sk-from-the-env"
    monkeypatch.delenv("OPENAI_API_KEY")
    literal = kabot(*base, "--api-key", "sk-on-the-command-line")
    assert literal.exit_code == 0, literal.output
    assert "warning:" in literal.output and "ps" in literal.output and "--api-key -" in literal.output
    assert "sk-on-the-command-line" not in literal.output
