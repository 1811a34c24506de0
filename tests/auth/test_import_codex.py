"""Reusing a Codex CLI login: link mode (the Codex file stays the source of truth) and copy mode."""

from __future__ import annotations

import io
import json
import os
import stat
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from rich.console import Console

from kabot_codex.auth.codex_file import read_codex_auth
from kabot_codex.auth.login import run_login, status
from kabot_codex.auth.session import session_for
from kabot_codex.config import config_path
from kabot_codex.emulator import EmulatorControl
from kabot_codex.errors import CredentialFileError
from tests.auth.conftest import stored


@pytest.fixture
def codex_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "codex-home"
    home.mkdir(mode=0o700)
    monkeypatch.setenv("CODEX_HOME", str(home))
    return home


def write_codex_login(path: Path, tokens: dict[str, Any]) -> None:
    """Write ``auth.json`` the way the Codex CLI does (in place, pretty, 0600)."""
    data = {
        "auth_mode": "chatgpt",
        "OPENAI_API_KEY": None,
        "tokens": {key: tokens[key] for key in ("id_token", "access_token", "refresh_token", "account_id")},
        "last_refresh": "2026-01-01T12:34:56.789Z",
        "agent_identity": "codex-keeps-this",
    }
    path.write_text(json.dumps(data, indent=2))
    os.chmod(path, 0o600)


def codex_cli_refresh(issuer: EmulatorControl, path: Path) -> str:
    """Play the Codex CLI: refresh with the file's token and write the result back, no lock."""
    data = json.loads(path.read_text())
    response = httpx.post(f"{issuer.auth_base}/oauth/token", json={
        "client_id": "app_EMoamEEZ73f0CkXaXp7hrann", "grant_type": "refresh_token",
        "refresh_token": data["tokens"]["refresh_token"]})
    response.raise_for_status()
    fresh = response.json()
    data["tokens"].update({k: fresh[k] for k in ("id_token", "access_token", "refresh_token")})
    path.write_text(json.dumps(data, indent=2))
    return str(fresh["access_token"])


def quiet() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, width=300), out


def test_link_mode_writes_refreshed_tokens_back_in_codex_format(issuer: EmulatorControl,
                                                               codex_home: Path) -> None:
    auth = codex_home / "auth.json"
    old = issuer.mint_tokens(ttl=120)
    write_codex_login(auth, old)
    saved = run_login("codex", console=quiet()[0])
    assert saved.method == "codex-link" and saved.codex_auth_file == str(auth)
    assert saved.email == "dev@kabot-emulator.test"
    raw_config = config_path().read_text()
    assert old["refresh_token"] not in raw_config and old["access_token"] not in raw_config

    creds = session_for("default").get()  # expiring: refreshes through the link
    data = json.loads(auth.read_text())
    assert data["tokens"]["access_token"] == creds.token != old["access_token"]
    assert data["tokens"]["refresh_token"] not in (old["refresh_token"], None)
    assert data["tokens"]["id_token"].count(".") == 2 and data["tokens"]["account_id"] == old["account_id"]
    assert data["agent_identity"] == "codex-keeps-this" and data["auth_mode"] == "chatgpt"
    assert data["OPENAI_API_KEY"] is None and data["last_refresh"].endswith("Z")
    assert stat.S_IMODE(auth.stat().st_mode) == 0o600
    assert read_codex_auth(auth).tokens is not None
    # The Codex CLI can keep going with what we wrote: its refresh token is the live one.
    assert codex_cli_refresh(issuer, auth)
    assert issuer.stats()["refresh_reuse_errors"] == 0
    assert "tokens" not in json.loads(config_path().read_text())["providers"]["openai-codex"]["profiles"]


def test_copy_mode_takes_the_tokens_over(issuer: EmulatorControl, codex_home: Path) -> None:
    auth = codex_home / "auth.json"
    old = issuer.mint_tokens(ttl=120)
    write_codex_login(auth, old)
    before = auth.read_text()
    console, out = quiet()
    saved = run_login("codex", path=str(auth), copy=True, profile="copied", console=console)
    assert saved.method == "codex-copy" and saved.refresh_token == old["refresh_token"]
    assert "codex login" in out.getvalue()
    creds = session_for("copied").get()
    assert stored("copied").access_token == creds.token != old["access_token"]
    assert auth.read_text() == before, "copy mode never writes to the Codex file"


def test_link_mode_picks_up_a_codex_cli_refresh(issuer: EmulatorControl, codex_home: Path) -> None:
    auth = codex_home / "auth.json"
    write_codex_login(auth, issuer.mint_tokens(ttl=3600))
    run_login("codex", console=quiet()[0])
    session = session_for("default")
    mine = session.get()
    theirs = codex_cli_refresh(issuer, auth)
    assert session.get().token == theirs
    assert session.recover(mine).token == theirs
    assert issuer.stats()["refresh_successes"] == 1  # only the Codex CLI's


def test_link_mode_survives_codex_cli_rotating_during_our_refresh(issuer: EmulatorControl,
                                                                  codex_home: Path) -> None:
    auth = codex_home / "auth.json"
    write_codex_login(auth, issuer.mint_tokens(ttl=120))
    run_login("codex", console=quiet()[0])
    issuer.fault("hang", target="oauth", seconds=1.0)  # our refresh request stalls in the issuer
    result: dict[str, Any] = {}

    def ours() -> None:
        try:
            result["token"] = session_for("default").get().token
        except Exception as exc:  # pragma: no cover - reported below
            result["error"] = exc

    worker = threading.Thread(target=ours)
    worker.start()
    time.sleep(0.4)
    theirs = codex_cli_refresh(issuer, auth)  # Codex does not take our lock
    worker.join(timeout=30)
    assert "error" not in result, result.get("error")
    assert result["token"] == theirs
    stats = issuer.stats()
    assert stats["refresh_successes"] == 1 and stats["refresh_reuse_errors"] == 1


def test_import_of_a_missing_file_writes_nothing(issuer: EmulatorControl, codex_home: Path) -> None:
    with pytest.raises(CredentialFileError) as info:
        run_login("codex", console=quiet()[0])
    assert "codex login" in str(info.value)
    assert not config_path().exists()


def test_import_of_an_api_key_codex_login(issuer: EmulatorControl, codex_home: Path) -> None:
    (codex_home / "auth.json").write_text(json.dumps({"OPENAI_API_KEY": "sk-codex-key-1234567890"}))
    run_login("codex", copy=True, console=quiet()[0])
    creds = session_for("default").get()
    assert creds.mode == "api_key" and creds.token == "sk-codex-key-1234567890"


def test_status_of_a_linked_login_reads_the_codex_file(issuer: EmulatorControl, codex_home: Path) -> None:
    auth = codex_home / "auth.json"
    write_codex_login(auth, issuer.mint_tokens(ttl=3600))
    run_login("codex", console=quiet()[0])
    [row] = status()
    assert row["source"] == "linked" and row["codex_auth_file"] == str(auth)
    assert row["token_state"] == "valid" and 3500 < row["expires_in"] <= 3600
    auth.unlink()
    [row] = status()
    assert row["error"] and "codex login" in row["hint"]
