"""``kabot login / logout / status`` through click, and the same commands in a real terminal."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pexpect
import pytest
from click.testing import CliRunner

from kabot_codex.cli import cli
from kabot_codex.config import config_path, load_config
from kabot_codex.emulator import EmulatorControl
from tests.auth.conftest import PYTHON, REPO, store_profile

KABOT = str(Path(PYTHON).parent / "kabot")


def run(*args: str, input: str | None = None, width: int = 100) -> tuple[int, str]:
    result = CliRunner(env={"COLUMNS": str(width)}).invoke(cli, list(args), input=input)
    return result.exit_code, result.output


def test_api_key_from_stdin_never_echoed(issuer: EmulatorControl) -> None:
    code, out = run("login", "--api-key", "--profile", "keyed", input="sk-SENTINEL-cli-key-0001\n")
    assert code == 0, out
    assert "sk-SENTINEL" not in out and "keyed" in out
    assert load_config().codex.profiles["keyed"].api_key == "sk-SENTINEL-cli-key-0001"
    code, out = run("status", "--json")
    assert code == 0 and "sk-SENTINEL" not in out
    [row] = json.loads(out)["profiles"]
    assert row["mode"] == "api_key" and row["active"]


def test_status_lists_profiles_without_secrets(issuer: EmulatorControl) -> None:
    tokens = issuer.mint_tokens(ttl=3600, email="pro@x.test", plan="pro")
    store_profile(tokens, "work")
    store_profile(issuer.mint_tokens(ttl=60), "old", active=False)
    from kabot_codex import state
    from kabot_codex.auth.session import session_for

    state.record_rate_limits("work", session_for("work").get().account_key, {
        "primary": {"used_percent": 42.0, "window_minutes": 300, "reset_at": time.time() + 7200},
        "secondary": {"used_percent": 10.0, "window_minutes": 10080}, "plan_type": "pro"})
    code, out = run("status", "--json")
    assert code == 0, out
    rows = {r["profile"]: r for r in json.loads(out)["profiles"]}
    assert rows["work"]["active"] and rows["work"]["email"] == "pro@x.test" and rows["work"]["plan"] == "pro"
    assert rows["work"]["token_state"] == "valid" and rows["old"]["token_state"] == "refresh due"
    assert rows["work"]["rate_limits"]["primary"]["used_percent"] == 42.0
    for secret in (tokens["access_token"], tokens["refresh_token"], tokens["id_token"], tokens["account_id"]):
        assert secret not in out
    code, table = run("status", width=250)
    assert code == 0 and "pro@x.test" in table and "5h 42% (resets in 2h), 7d 10%" in table
    assert tokens["access_token"] not in table


def test_logout_removes_and_revokes(issuer: EmulatorControl) -> None:
    store_profile(issuer.mint_tokens(ttl=3600), "a")
    b_tokens = issuer.mint_tokens(ttl=3600)
    store_profile(b_tokens, "b")
    code, out = run("logout")
    assert code == 0 and "b" in out
    codex = load_config().codex
    assert list(codex.profiles) == ["a"] and codex.active_profile == "a"
    assert issuer.stats()["requests"].get("oauth.revoke") == 1
    revoked = issuer.requests(path_contains="/oauth/revoke")[-1]
    assert b_tokens["refresh_token"] in ((revoked["form"] or {}).get("token"), (revoked["json"] or {}).get("token"))
    code, out = run("logout", "--profile", "nope")
    assert code == 1 and "error:" in out and "kabot status" in out


def test_conflicting_methods_are_a_usage_error(issuer: EmulatorControl) -> None:
    code, out = run("login", "--device", "--api-key")
    assert code == 2 and "choose one" in out
    code, out = run("login", "--copy")
    assert code == 2


def test_import_codex_from_the_cli(issuer: EmulatorControl, tmp_path: Path) -> None:
    from tests.auth.test_import_codex import write_codex_login

    auth = tmp_path / "auth.json"
    write_codex_login(auth, issuer.mint_tokens(ttl=3600))
    code, out = run("login", "--import-codex", str(auth), "--profile", "linked")
    assert code == 0, out
    assert "Linked to" in out and load_config().codex.profiles["linked"].codex_auth_file == str(auth)


def test_status_does_not_import_litellm_or_httpx(issuer: EmulatorControl, child_env: dict[str, str]) -> None:
    store_profile(issuer.mint_tokens(ttl=3600))
    code = ("import sys\nfrom kabot_codex.cli import cli\n"
            "try:\n    cli(['status'])\nexcept SystemExit:\n    pass\n"
            "print('litellm' in sys.modules, 'httpx' in sys.modules)")
    out = subprocess.run([PYTHON, "-c", code], env=child_env, capture_output=True, text=True, timeout=60)
    assert out.stdout.strip().splitlines()[-1] == "False False", out.stderr


def _spawn(args: list[str], env: dict[str, str]) -> pexpect.spawn:
    return pexpect.spawn(KABOT, args, env=env, cwd=str(REPO), encoding="utf-8", timeout=30,
                         dimensions=(40, 120))


@pytest.mark.slow
@pytest.mark.usefixtures("loopback_ports")
def test_paste_flow_in_a_terminal(issuer: EmulatorControl, child_env: dict[str, str]) -> None:
    child = _spawn(["login", "--paste", "--no-open", "--profile", "pasted"], child_env)
    child.expect(r"(http://127\.0\.0\.1:\d+/oauth/authorize\?\S+)")
    url = child.match.group(1)
    # The user's browser: it signs in and is sent to localhost:1455, which nothing serves.
    location = httpx.get(url, follow_redirects=False).headers["location"]
    assert location.startswith("http://localhost:1455/auth/callback?")
    child.expect("Redirect URL or code")
    child.sendline(location)
    child.expect("Logged in")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert load_config().codex.profiles["pasted"].refresh_token


@pytest.mark.slow
def test_ctrl_c_during_device_login_writes_nothing(issuer: EmulatorControl, child_env: dict[str, str]) -> None:
    issuer.account(device_pending_polls=1000, device_interval="1")
    child = _spawn(["login", "--device"], child_env)
    child.expect(re.escape(f"{issuer.auth_base}/codex/device"))
    child.expect("Waiting for approval")
    child.sendintr()
    child.expect("Aborted")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130 or child.signalstatus == signal.SIGINT
    assert not config_path().exists()


def test_env_overrides_are_reported(issuer: EmulatorControl, monkeypatch: pytest.MonkeyPatch) -> None:
    store_profile(issuer.mint_tokens(ttl=3600))
    monkeypatch.setenv("OPENAI_CODEX_API_KEY", "sk-env-key-123456789")
    monkeypatch.setenv("KABOT_PROFILE", "default")
    code, out = run("status")
    assert code == 0 and "OPENAI_CODEX_API_KEY is set" in out and "sk-env" not in out
    assert "KABOT_PROFILE=default" in out
