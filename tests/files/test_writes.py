"""How credentials and config are written: through symlinks, atomically, privately, and never lost.

Symlinks and SIGKILL run on the real file system. A failed save is injected at the narrowest
seam (the atomic writer raising EACCES) because root ignores file modes; the real full-disk
and read-only cases are in test_fs_faults.py.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import signal
import stat
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from kabot_codex import _fs
from kabot_codex.auth import session as session_module
from kabot_codex.auth.login import run_login, save_token_login
from kabot_codex.auth.session import session_for
from kabot_codex.config import AuthProfile, config_path, edit_config, load_config
from kabot_codex.emulator import EmulatorControl
from tests.auth.test_storm import WRITER  # the endless config writer both tests kill mid-write
from tests.files.conftest import PYTHON, REPO


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def codex_file(path: Path, tokens: dict[str, Any]) -> Path:
    block = {key: tokens[key] for key in ("id_token", "access_token", "refresh_token", "account_id")}
    path.write_text(json.dumps({"auth_mode": "chatgpt", "tokens": block, "last_refresh": "2026-01-01T00:00:00Z",
                                "codex_keeps": "this"}))
    os.chmod(path, 0o644)
    return path


# --- symlinks --------------------------------------------------------------------------------------


def test_symlinked_config_is_written_through_to_its_target(tmp_path: Path) -> None:
    dotfiles = tmp_path / "dotfiles"
    dotfiles.mkdir()
    target = dotfiles / "kabot-config.json"
    target.write_text(json.dumps({"theme": "dark"}))
    os.chmod(target, 0o644)
    config_path().parent.mkdir(parents=True, exist_ok=True)
    config_path().symlink_to(target)
    with edit_config() as config:
        config.codex.profiles["default"] = AuthProfile(method="api-key", api_key="sk-through-the-link")
    assert config_path().is_symlink() and os.readlink(config_path()) == str(target)
    data = json.loads(target.read_text())
    assert data["theme"] == "dark" and data["providers"]["openai-codex"]["profiles"]["default"]["api_key"]
    assert mode(target) == 0o600
    assert sorted(p.name for p in dotfiles.iterdir()) == ["kabot-config.json"]  # no temp file left


def test_symlinked_codex_file_gets_the_refreshed_tokens(on_emulator: EmulatorControl, tmp_path: Path) -> None:
    tokens = on_emulator.mint_tokens(ttl=120)  # due for a refresh
    target = codex_file(tmp_path / "dotfiles-codex-auth.json", tokens)
    codex_home = tmp_path / "codex"
    codex_home.mkdir()
    (codex_home / "auth.json").symlink_to(target)
    run_login("codex", path=str(codex_home / "auth.json"))
    creds = session_for(None).get()
    assert creds.token != tokens["access_token"]
    assert (codex_home / "auth.json").is_symlink()
    data = json.loads(target.read_text())
    assert data["tokens"]["access_token"] == creds.token and data["codex_keeps"] == "this"
    assert data["tokens"]["refresh_token"] != tokens["refresh_token"]
    assert mode(target) == 0o600
    # The refresh lock sits by the real file, shared by every link to it.
    assert (tmp_path / "dotfiles-codex-auth.json.kabot-refresh.lock").exists()
    assert on_emulator.stats()["refresh_reuse_errors"] == 0


# --- a save that fails ---------------------------------------------------------------------------


@pytest.fixture
def saves_fail(monkeypatch: pytest.MonkeyPatch) -> dict[str, bool]:
    """While ``switch["fail"]`` is True (set it after the set-up) every atomic write raises EACCES."""
    switch = {"fail": False}
    real = _fs.atomic_write_text

    def write(path: Path, text: str, **kwargs: Any) -> None:
        if switch["fail"]:
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        real(path, text, **kwargs)

    monkeypatch.setattr(_fs, "atomic_write_text", write)
    monkeypatch.setattr(session_module, "RESAVE_EVERY", 0.0, raising=False)
    return switch


@pytest.mark.parametrize("where", ["config", "linked"])
def test_tokens_that_cannot_be_saved_are_used_and_saved_later(on_emulator: EmulatorControl, tmp_path: Path,
                                                              saves_fail: dict[str, bool], where: str,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    tokens = on_emulator.mint_tokens(ttl=120)
    if where == "config":
        save_token_login(tokens)
        path = config_path()

        def stored() -> str | None:
            return load_config().codex.profiles["default"].refresh_token
    else:
        path = codex_file(tmp_path / "auth.json", tokens)
        run_login("codex", path=str(path))

        def stored() -> str | None:
            return json.loads(path.read_text())["tokens"]["refresh_token"]

    session = session_for(None)
    saves_fail["fail"] = True
    with caplog.at_level(logging.WARNING, logger="kabot_codex"):
        first = session.get()
    assert first.token != tokens["access_token"]  # refreshed, and used although it was not saved
    assert stored() == tokens["refresh_token"]
    warning = next(r.getMessage() for r in caplog.records if "Could not save" in r.getMessage())
    assert str(path) in warning and "writable" in warning and "kabot login" in warning
    assert session.get() == first  # later calls keep the unsaved tokens; the spent one is never used
    # A second refresh while still unsaved (a 401) spends the in-memory refresh token, not the stored one.
    second = session.recover(first)
    assert second.token not in (first.token, tokens["access_token"])
    assert stored() == tokens["refresh_token"]
    saves_fail["fail"] = False
    assert session.get() == second  # the next call retries the save, and it works now
    assert stored() not in (None, tokens["refresh_token"])
    stats = on_emulator.stats()
    assert stats["refresh_successes"] == 2 and stats["refresh_reuse_errors"] == 0
    assert mode(path) == 0o600


def test_unsaved_tokens_give_way_to_a_new_login(on_emulator: EmulatorControl, saves_fail: dict[str, bool]) -> None:
    save_token_login(on_emulator.mint_tokens(ttl=120))
    session = session_for(None)
    saves_fail["fail"] = True
    refreshed = session.get()
    saves_fail["fail"] = False
    newer = on_emulator.mint_tokens(ttl=3600)
    save_token_login(newer)  # the user logged in again meanwhile: the store's newer login wins
    again = session_for(None).get()
    assert again.token == newer["access_token"] != refreshed.token
    assert load_config().codex.profiles["default"].refresh_token == newer["refresh_token"]


def test_exit_retry_reports_what_could_not_be_saved(on_emulator: EmulatorControl, saves_fail: dict[str, bool],
                                                    caplog: pytest.LogCaptureFixture) -> None:
    save_token_login(on_emulator.mint_tokens(ttl=120))
    saves_fail["fail"] = True
    session_for(None).get()
    with caplog.at_level(logging.WARNING, logger="kabot_codex"):
        session_module._save_pending_at_exit()
    assert any("before exit" in r.getMessage() and "kabot login" in r.getMessage() for r in caplog.records)
    saves_fail["fail"] = False
    session_module._save_pending_at_exit()
    assert not session_module._unsaved


# --- killed while writing --------------------------------------------------------------------------



def test_writer_killed_mid_write_through_a_symlink(tmp_path: Path) -> None:
    dotfiles = tmp_path / "dotfiles"
    dotfiles.mkdir()
    target = dotfiles / "config.json"
    config_path().parent.mkdir(parents=True, exist_ok=True)
    config_path().symlink_to(target)
    with edit_config() as config:
        config.codex.profiles["keep"] = AuthProfile(method="api-key", api_key="sk-keep-this-key")
    env = {**os.environ, "PYTHONPATH": str(REPO), "_KABOT_CODEX_DEFER_REGISTER": "1"}  # no LiteLLM import
    kills = 0
    for round_ in range(6):
        writer = subprocess.Popen([PYTHON, "-c", WRITER], env=env, stdout=subprocess.PIPE, text=True)
        assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
        time.sleep(0.05 + round_ * 0.03)
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait(timeout=10)
        kills += 1
        assert config_path().is_symlink()
        final = load_config()  # old or new, never torn
        assert final.codex.profiles["keep"].api_key == "sk-keep-this-key"
        assert mode(target) == 0o600
    # Temp files a killed writer left behind are swept once no live writer can own them.
    for leftover in dotfiles.glob(".config.json.*.tmp"):
        os.utime(leftover, (time.time() - 3600, time.time() - 3600))
    with edit_config(timeout=5) as config:
        config.codex.active_profile = "keep"
    assert sorted(p.name for p in dotfiles.iterdir()) == ["config.json"]
    assert kills == 6


def test_unsaved_tokens_of_a_logged_out_profile_are_dropped(on_emulator: EmulatorControl,
                                                           saves_fail: dict[str, bool]) -> None:
    from kabot_codex.auth.login import logout

    save_token_login(on_emulator.mint_tokens(ttl=120))
    save_token_login(on_emulator.mint_tokens(ttl=3600), profile="other", active=False)
    saves_fail["fail"] = True
    session_for(None).get()
    assert session_module._unsaved
    saves_fail["fail"] = False
    logout("default")
    session_module._save_pending_at_exit()
    assert not session_module._unsaved
    assert "default" not in load_config().codex.profiles  # nothing resurrected the profile


def test_unsaved_tokens_survive_a_login_to_another_profile(on_emulator: EmulatorControl,
                                                           saves_fail: dict[str, bool]) -> None:
    tokens = on_emulator.mint_tokens(ttl=120)
    save_token_login(tokens)
    saves_fail["fail"] = True
    refreshed = session_for(None).get()
    saves_fail["fail"] = False
    save_token_login(on_emulator.mint_tokens(), profile="work", active=False)  # resets every session
    # The new session object for "default" still uses the refreshed tokens, never the spent ones,
    # and (writes working again) saves them.
    assert session_for("default").get() == refreshed
    assert load_config().codex.profiles["default"].refresh_token != tokens["refresh_token"]
    assert on_emulator.stats()["refresh_reuse_errors"] == 0
