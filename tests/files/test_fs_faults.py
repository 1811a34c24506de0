"""Real file-system faults under KABOT_HOME: a full disk and a read-only mount.

Each case runs a worker in a private mount namespace (``unshare -m``; see fs_worker.py) that
mounts the fault over its own KABOT_HOME and makes real LiteLLM calls against the emulator.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from pathlib import Path

from kabot_codex.auth.login import save_token_login
from kabot_codex.config import config_path, edit_config
from kabot_codex.emulator import EmulatorControl
from tests.files.conftest import run_as_nobody, run_in_namespace


def test_full_disk_after_a_refresh_loses_nothing(on_emulator: EmulatorControl, tmp_path: Path) -> None:
    tokens = on_emulator.mint_tokens(ttl=120)  # valid, but inside the refresh window: the first call refreshes
    save_token_login(tokens)
    staged = json.loads(config_path().read_text())
    home = tmp_path / "full-home"
    home.mkdir()
    report = run_in_namespace({"scenario": "full-disk", "home": str(home), "config": staged},
                              {"KABOT_HOME": str(home)})
    assert report["filled"] > 0
    calls = report["calls"]
    assert [c["ok"] for c in calls] == [True, True, True], calls
    # While the disk was full the rotated tokens lived only in memory, and were used.
    assert report["stored_while_full"] == tokens["refresh_token"]
    warning = next(w for w in report["warnings_while_full"] if "Could not save the refreshed login" in w)
    assert str(home / "config.json") in warning and "free some space" in warning and "kabot login" in warning
    # Once space came back the next call saved them: the stored refresh token is the live one.
    assert report["stored_after_space_came_back"] != tokens["refresh_token"]
    assert report["stored_token_is_live"] is True
    assert any("at last" in w for w in report["warnings"])
    assert report["leftovers"] == [] and report["mode"] == "0o600"
    stats = on_emulator.stats()
    assert stats["refresh_successes"] == 2  # the call's refresh, then the worker's proof
    assert stats["refresh_reuse_errors"] == 0
    assert stats["requests"]["codex.responses"] == 3


def test_read_only_home_serves_valid_tokens_and_explains_the_rest(on_emulator: EmulatorControl) -> None:
    for name, ttl in (("fresh", 3600), ("due", 120), ("expired", 3600)):
        save_token_login(on_emulator.mint_tokens(ttl=ttl), profile=name, active=name == "fresh")
    with edit_config() as config:
        config.codex.profiles["expired"].expires_at = time.time() - 60
    home = config_path().parent
    before = config_path().read_bytes()
    report = run_in_namespace({"scenario": "read-only", "home": str(home)}, {})
    assert report["probe"] == "EROFS"
    # A valid token works — also one due for a refresh, which needs the lock file.
    for case in ("fresh", "due", "due_again"):
        assert report[case]["ok"], report[case]
    due = next(w for w in report["warnings"] if "due for a token refresh" in w)
    assert "refresh-due.lock" in due and "Read-only file system" in due and "KABOT_HOME" in due
    # An expired one cannot be refreshed without the lock: a typed, non-retryable error that says why.
    expired = report["expired"]
    assert not expired["ok"] and expired["type"] == "AuthenticationError" and expired["status"] == 401
    message = expired["message"]
    assert "refresh-expired.lock" in message and "read-only" in message and "Traceback" not in message
    assert report["status"]["rc"] == 0 and "due" in report["status"]["out"]
    stats = on_emulator.stats()
    assert stats["refresh_successes"] == 0, "no refresh token may be spent when its result cannot be kept"
    assert stats["requests"]["codex.responses"] == 3
    assert config_path().read_bytes() == before


def test_home_not_writable_by_this_user_keeps_the_refreshed_login(on_emulator: EmulatorControl) -> None:
    tokens = on_emulator.mint_tokens(ttl=120)
    save_token_login(tokens)
    # A home that belongs to root and that nobody may only read (outside tmp_path, which is 0700).
    home = Path(tempfile.mkdtemp(prefix="kabot-eacces-"))
    try:
        shutil.copy(config_path(), home / "config.json")
        os.chmod(home / "config.json", 0o644)
        (home / "refresh-default.lock").touch()
        os.chmod(home / "refresh-default.lock", 0o666)
        os.chmod(home, 0o755)
        report = run_as_nobody({"scenario": "not-writable", "home": str(home)}, {"KABOT_HOME": str(home)})
        assert report["uid"] == 65534
        assert [c["ok"] for c in report["calls"]] == [True, True], report["calls"]
        assert report["stored"] == tokens["refresh_token"]
        warning = next(w for w in report["warnings"] if "Could not save the refreshed login" in w)
        assert "Permission denied" in warning and "writable by this user" in warning
        # Still unsaved at exit: the process says, loudly, that the login must be redone.
        assert "could not be saved" in report["stderr"] and "kabot login" in report["stderr"]
        stats = on_emulator.stats()
        assert stats["refresh_successes"] == 1 and stats["refresh_reuse_errors"] == 0
        assert stats["requests"]["codex.responses"] == 2
    finally:
        shutil.rmtree(home, ignore_errors=True)
