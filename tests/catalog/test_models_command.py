"""`kabot models`: table, JSON, --refresh and --probe against the emulator."""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner

from kabot_codex import _fs, state
from kabot_codex.catalog.account import current_account
from kabot_codex.cli import cli
from kabot_codex.emulator import EmulatorControl
from tests.catalog.helpers import login_to


def run(*args: str) -> Any:
    result = CliRunner().invoke(cli, ["models", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def rows(*args: str) -> dict[str, dict[str, Any]]:
    return {row["model"]: row for row in json.loads(run("--json", *args).stdout)}


def test_offline_lists_the_bundle_without_retired_models() -> None:
    out = run().output
    assert "openai-codex/gpt-5.6-sol" in out and "openai/gpt-4o-mini" in out
    assert "openai-codex/gpt-5.3-codex " not in out
    assert "not logged in" in out
    every = rows("--all")
    # Not logged in: nothing says this is a ChatGPT account, and an API key can use the model.
    assert every["openai-codex/gpt-5.3-codex"]["status"] == "catalog"
    assert "retired for ChatGPT" in every["openai-codex/gpt-5.3-codex"]["reason"]
    assert every["openai-codex/gpt-5.5"]["status"] == "catalog"


def test_logged_in_uses_the_live_list(emu: EmulatorControl, monkeypatch: pytest.MonkeyPatch) -> None:
    emu.account(models=["gpt-5.5", "gpt-5.4-mini"])
    login_to(emu, monkeypatch)
    listed = rows()
    codex = [m for m in listed if m.startswith("openai-codex/")]
    assert codex == ["openai-codex/gpt-5.5", "openai-codex/gpt-5.4-mini"]
    assert listed["openai-codex/gpt-5.5"]["source"] == "live"
    before = len(emu.requests(path_contains="/models"))
    run("--refresh")
    assert len(emu.requests(path_contains="/models")) == before + 1


def test_probe_records_working_and_unsupported(emu: EmulatorControl, monkeypatch: pytest.MonkeyPatch) -> None:
    state.reset()
    # The bundle believes gpt-5.4-mini is current; this account's backend rejects it.
    emu.account(models=["gpt-5.5", "gpt-5.4-mini"], retired=["gpt-5.4-mini"])
    login_to(emu, monkeypatch)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-models")
    monkeypatch.setenv("OPENAI_API_BASE", emu.openai_base)
    result = rows("--probe", "--all", "--yes")
    assert result["openai-codex/gpt-5.5"]["status"] == "working"
    assert result["openai-codex/gpt-5.4-mini"]["status"] == "unsupported"
    assert result["openai-codex/gpt-5.4-mini"]["probe"]["outcome"] == "unsupported"
    assert result["openai-codex/gpt-5.5"]["probe"]["outcome"] == "working"
    assert result["openai/gpt-4o-mini"]["status"] == "working"
    # Probing records what it learns; the next listing shows it without probing again.
    again = rows()
    assert again["openai-codex/gpt-5.5"]["status"] == "working"
    key = current_account().account_key
    _fs.wait_for_writes()  # statuses are written in the background
    statuses = json.loads((state.state_dir() / "model_status.json").read_text())
    assert statuses[key]["openai-codex/gpt-5.5"]["status"] == "working"
    assert statuses[key]["openai-codex/gpt-5.4-mini"]["status"] == "unsupported"


def test_the_header_speaks_plainly(emu: EmulatorControl, monkeypatch: pytest.MonkeyPatch) -> None:
    login_to(emu, monkeypatch)
    first = CliRunner(env={"COLUMNS": "200"}).invoke(cli, ["models"]).output
    again = CliRunner(env={"COLUMNS": "200"}).invoke(cli, ["models", "--refresh"]).output  # a 304
    for out in (first, again):
        assert "your account's list" in out
        assert "not_modified" not in out and "live list (" not in out and "(fetched)" not in out


def test_the_table_shows_why_a_model_is_unsupported(emu: EmulatorControl, monkeypatch: pytest.MonkeyPatch) -> None:
    login_to(emu, monkeypatch)
    listed = rows("--all")
    assert listed["openai-codex/gpt-5.3-codex"]["status"] == "unsupported"
    assert "retired for ChatGPT" in listed["openai-codex/gpt-5.3-codex"]["reason"]
    out = CliRunner(env={"COLUMNS": "250"}).invoke(cli, ["models", "--all"]).output
    assert "retired for ChatGPT accounts in June 2026" in out
