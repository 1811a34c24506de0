"""Fixtures for the login and credential-lifecycle tests (all against the real emulator)."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from filelock import FileLock

from kabot_codex.auth.session import reset_sessions
from kabot_codex.config import AuthProfile, config_path, edit_config
from kabot_codex.emulator import EmulatorControl

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def issuer(emu: EmulatorControl, monkeypatch: pytest.MonkeyPatch) -> EmulatorControl:
    """The emulator, with ``OPENAI_CODEX_AUTH_BASE`` pointing at it."""
    monkeypatch.setenv("OPENAI_CODEX_AUTH_BASE", emu.auth_base)
    return emu


@pytest.fixture(autouse=True)
def _fresh_sessions() -> Iterator[None]:
    # session_for() is process-wide by design; tests must not share cached logins.
    reset_sessions()
    yield
    reset_sessions()


@pytest.fixture
def loopback_ports() -> Iterator[None]:
    """Hold ports 1455/1457 for this test against other pytest runs on the machine."""
    with FileLock("/tmp/kabot-codex-tests-loopback-1455.lock", timeout=300):
        yield


def store_profile(tokens: Mapping[str, Any], name: str = "default", method: str = "browser",
                  active: bool = True) -> AuthProfile:
    """Save emulator-minted ``tokens`` as profile ``name`` the way a login would."""
    now = time.time()
    profile = AuthProfile(method=method, access_token=tokens["access_token"],
                          refresh_token=tokens["refresh_token"], id_token=tokens["id_token"],
                          account_id=tokens["account_id"], expires_at=now + float(tokens["expires_in"]),
                          last_refresh=now, created_at=now)
    with edit_config() as config:
        config.codex.profiles[name] = profile
        if active:
            config.codex.active_profile = name
    return profile


def stored(name: str = "default") -> AuthProfile:
    """Return profile ``name`` as it is on disk now."""
    from kabot_codex.config import load_config

    return load_config().codex.profiles[name]


@pytest.fixture
def child_env(issuer: EmulatorControl) -> dict[str, str]:
    """Environment for a child process that uses this test's kabot home and issuer."""
    env = dict(os.environ)
    env.update({
        "KABOT_HOME": str(config_path().parent),
        "OPENAI_CODEX_AUTH_BASE": issuer.auth_base,
        "_KABOT_CODEX_DEFER_REGISTER": "1",  # children never need LiteLLM
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "PYTHONPATH": os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        "PYTHONUNBUFFERED": "1",
    })
    return env


PYTHON = sys.executable
