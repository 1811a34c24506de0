"""``python -m kabot_codex.smoke`` as a user runs it: a real subprocess, a real emulator.

The autouse ``kabot_home`` fixture (tests/conftest.py) points ``KABOT_HOME`` at a temp dir and
removes real credentials, so "no login" is the starting state of every test here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kabot_codex.auth.login import save_token_login
from kabot_codex.smoke.cli import OFFLINE_NOTICE

TIMEOUT_S = 120


def run_smoke(*args: str, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, COLUMNS="120", **(extra_env or {}))
    return subprocess.run([sys.executable, "-m", "kabot_codex.smoke", *args], env=env, capture_output=True,
                          text=True, timeout=TIMEOUT_S)


def test_offline_smoke_passes_and_says_it_ran_offline(kabot_home: Path) -> None:
    proc = run_smoke("--offline")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert OFFLINE_NOTICE in proc.stdout
    assert "All 3 checks passed." in proc.stdout
    assert "get_weather(" in proc.stdout
    assert "Rate-limit headroom" in proc.stdout and "plan: plus" in proc.stdout
    # The throw-away profile lived in its own temp dir: the user's KABOT_HOME stays untouched.
    assert not (kabot_home / "config.json").exists()


def test_without_credentials_it_falls_back_to_offline_json(kabot_home: Path) -> None:
    proc = run_smoke("--json", "--model", "gpt-5.5")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    assert report["ok"] is True
    assert report["mode"] == "offline"
    assert report["model"] == "openai-codex/gpt-5.5"
    assert report["notice"] == OFFLINE_NOTICE
    assert [c["status"] for c in report["checks"]] == ["pass", "pass", "pass"]
    stream = report["checks"][1]
    assert stream["ttft_s"] is not None and stream["tokens"]["completion_tokens"] > 0
    assert report["rate_limits"]["plan_type"] == "plus"
    assert "eyJ" not in proc.stdout  # no token (JWT) is ever printed


def test_retired_model_fails_and_points_at_kabot_models(kabot_home: Path) -> None:
    proc = run_smoke("--offline", "--model", "openai-codex/gpt-5.3-codex")
    assert proc.returncode != 0
    out = " ".join(proc.stdout.split())
    assert "kabot models" in out
    assert "FAILED" in out
    assert "skipped: same cause as completion" in out  # no point repeating a model rejection


def _save_login(tokens: dict) -> None:
    save_token_login(tokens)


@pytest.fixture
def logged_in_on_emulator(emu, kabot_home: Path) -> dict[str, str]:
    """A saved login whose endpoints point at the test emulator: "live" mode, safely offline."""
    _save_login(emu.mint_tokens(ttl=3600))
    return {"OPENAI_CODEX_API_BASE": emu.codex_base, "OPENAI_CODEX_AUTH_BASE": emu.auth_base}


def test_with_a_login_it_runs_live_against_the_configured_backend(emu, logged_in_on_emulator) -> None:
    before = emu.stats()["requests"].get("codex.responses", 0)
    proc = run_smoke("--json", extra_env=logged_in_on_emulator)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    assert report["mode"] == "live" and report["notice"] is None
    assert report["credentials"].startswith("profile 'default'")
    assert emu.stats()["requests"]["codex.responses"] - before == 3


def test_rejected_login_fails_with_the_login_fix(emu, logged_in_on_emulator) -> None:
    emu.expire_access_tokens()
    emu.revoke_refresh_tokens()
    proc = run_smoke(extra_env=logged_in_on_emulator)
    assert proc.returncode != 0
    out = " ".join(proc.stdout.split())
    assert "kabot login" in out
    assert "OFFLINE" not in out
    assert "eyJ" not in proc.stdout + proc.stderr


def _dead_base() -> str:
    import socket

    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def backend_down(emu, kabot_home: Path) -> dict[str, str]:
    _save_login(emu.mint_tokens(ttl=3600))
    dead = _dead_base()
    return {"OPENAI_CODEX_API_BASE": f"{dead}/backend-api/codex", "OPENAI_CODEX_AUTH_BASE": dead}


def test_backend_down_stops_at_the_first_transport_failure(backend_down: dict[str, str]) -> None:
    proc = run_smoke(extra_env=backend_down)
    assert proc.returncode == 1
    out = proc.stdout
    errors = [line for line in out.splitlines() if line.startswith("✗ ")]
    assert len(errors) == 1 and errors[0].startswith("✗ completion: APIConnectionError: "), out
    assert out.count("SKIPPED") == 2 and "same cause as" in " ".join(out.split())
    assert "Original exception" not in out
    assert f"nothing answered at {backend_down['OPENAI_CODEX_API_BASE']}" in " ".join(out.split())
    assert "FAILED: completion (stream, tool call skipped)" in " ".join(out.split())
    assert "No call got an answer" in out


def test_a_stream_failure_is_explained_once() -> None:
    import litellm
    from litellm.exceptions import MidStreamFallbackError

    from kabot_codex.smoke.checks import explain

    cause = litellm.APIConnectionError(message="Could not reach the Codex backend at 127.0.0.1: ConnectError: "
                                       "All connection attempts failed", llm_provider="openai-codex", model="m")
    wrapped = MidStreamFallbackError(message=str(cause), model="m", llm_provider="openai-codex",
                                     original_exception=cause)
    message, _, fatal = explain(wrapped)
    assert message == ("APIConnectionError: Could not reach the Codex backend at 127.0.0.1: ConnectError: "
                       "All connection attempts failed")
    assert fatal


def test_old_rate_limits_are_marked_with_their_age(backend_down: dict[str, str], kabot_home: Path) -> None:
    import time

    state = kabot_home / "state"
    state.mkdir(parents=True, exist_ok=True)
    (state / "rate_limits.json").write_text(json.dumps({"default": {
        "profile": "default", "account": "acct", "seen_at": time.time() - 7260, "plan_type": "plus",
        "primary": {"used_percent": 42, "window_minutes": 300, "reset_after_seconds": 600}}}))
    proc = run_smoke(extra_env=backend_down)
    out = " ".join(proc.stdout.split())
    assert "stale, seen 2h 01m ago" in out, proc.stdout
    assert "Not from this run" in out
    report = json.loads(run_smoke("--json", extra_env=backend_down).stdout)
    assert 7200 <= report["rate_limits_age_s"] < 7400


def test_offline_uses_the_saved_primary(kabot_home: Path) -> None:
    from kabot_codex.wizard.apply import apply_setup

    apply_setup("openai-codex/gpt-5.4", ["openai/gpt-4o-mini"])
    proc = run_smoke("--offline", "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    assert (report["model"], report["model_source"]) == ("openai-codex/gpt-5.4", "saved primary")
