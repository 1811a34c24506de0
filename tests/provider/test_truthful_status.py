"""`kabot status` tells the truth after real calls: dead logins, logouts, whose rate limits."""

from __future__ import annotations

import json
from typing import Any

import litellm
import pytest
from click.testing import CliRunner

import kabot_codex  # noqa: F401
from kabot_codex import state
from kabot_codex.cli import cli
from tests.provider.conftest import save_profile

MODEL = "openai-codex/gpt-5.5"
HELLO = [{"role": "user", "content": "Say hello"}]


def status() -> tuple[dict[str, Any], str]:
    runner = CliRunner(env={"COLUMNS": "250"})
    as_json = runner.invoke(cli, ["status", "--json"])
    table = runner.invoke(cli, ["status"])
    assert as_json.exit_code == 0 and table.exit_code == 0, as_json.output + table.output
    rows = {row["profile"]: row for row in json.loads(as_json.output)["profiles"]}
    return rows, table.output


@pytest.mark.parametrize("kill", ["forgotten", "revoked"])
def test_a_failed_refresh_shows_in_status(emu, logged_in, kill: str) -> None:
    litellm.completion(model=MODEL, messages=HELLO)
    rows, table = status()
    assert rows["default"]["token_state"] == "valid" and "valid, expires in" in table
    if kill == "forgotten":
        emu.reset()  # the issuer no longer knows the tokens: refresh_token_expired
        code = "refresh_token_expired"
    else:
        emu.revoke_refresh_tokens()
        emu.expire_access_tokens()
        code = "refresh_token_invalidated"
    with pytest.raises(litellm.AuthenticationError):
        litellm.completion(model=MODEL, messages=HELLO, num_retries=0)
    rows, table = status()
    row = rows["default"]
    assert row["token_state"] == "needs login" and code in row["error"]
    assert "valid, expires" not in table and code in table and "kabot login" in table
    # A new login is a new refresh token: the record about the old one stops applying.
    save_profile(emu.mint_tokens(ttl=3600))
    rows, table = status()
    assert rows["default"]["token_state"] == "valid" and rows["default"]["error"] is None


def test_rate_limits_belong_to_the_login_that_saw_them(emu, logged_in) -> None:
    litellm.completion(model=MODEL, messages=HELLO)
    state.flush()
    rows, table = status()
    assert rows["default"]["rate_limits"]["primary"]["used_percent"] is not None
    assert "seen " in table and " ago" in table  # the snapshot's age is shown
    runner = CliRunner()
    assert runner.invoke(cli, ["logout"]).exit_code == 0
    assert runner.invoke(cli, ["login", "--api-key"], input="sk-new-login-0123456789abcdef\n").exit_code == 0
    rows, table = status()
    assert rows["default"]["mode"] == "api_key" and rows["default"]["rate_limits"] is None
    assert "5h" not in table and "seen " not in table


def test_a_snapshot_of_another_account_is_not_shown(emu, logged_in) -> None:
    litellm.completion(model=MODEL, messages=HELLO)
    state.flush()
    # The same profile name logged in to another account without a logout in between.
    save_profile(emu.mint_tokens(ttl=3600, account_id="acct-other"))
    rows, _ = status()
    assert rows["default"]["rate_limits"] is None


def test_a_window_that_has_reset_is_not_shown_as_current(emu, logged_in) -> None:
    import time

    from kabot_codex.auth.session import session_for

    key = session_for("default").get().account_key
    state.record_rate_limits("default", key, {
        "primary": {"used_percent": 97.0, "window_minutes": 300, "reset_at": time.time() - 600}})
    _, table = status()
    assert "5h 97% (reset since)" in table and "resets 10m ago" not in table


def test_a_rejected_api_key_shows_in_status(emu, monkeypatch) -> None:
    monkeypatch.setenv("OPENAI_CODEX_OPENAI_BASE", emu.openai_base)
    runner = CliRunner()
    assert runner.invoke(cli, ["login", "--api-key"], input="sk-revoked-0123456789abcdef\n").exit_code == 0
    emu.fault("unauthorized", count=0, target="openai")
    with pytest.raises(litellm.AuthenticationError):
        litellm.completion(model=MODEL, messages=HELLO, num_retries=0)
    rows, table = status()
    assert rows["default"]["token_state"] == "rejected" and "rejected this API key" in table
    assert "sk-revoked" not in table


def test_status_crops_nothing_at_80_columns(emu, logged_in) -> None:
    emu.reset()
    with pytest.raises(litellm.AuthenticationError):
        litellm.completion(model=MODEL, messages=HELLO, num_retries=0)
    out = CliRunner(env={"COLUMNS": "80"}).invoke(cli, ["status"]).output
    assert "…" not in out and "dev@kabot-" in out and "est " in out  # the e-mail folds, whole
    assert "error (default): login no longer valid (refresh_token_expired)" in out
    assert "fix (default): run `kabot login`" in out
