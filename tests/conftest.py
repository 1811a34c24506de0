"""Shared fixtures: an isolated environment for every test and the Codex emulator.

- ``emulator`` (session): one real ``python -m kabot_codex.emulator`` subprocess, yielded as
  an ``EmulatorControl``.
- ``emu`` (function): the same emulator, reset to defaults before the test.
- ``kabot_home`` (autouse): ``KABOT_HOME`` points at ``tmp_path`` and the developer's real
  credentials/endpoints are removed from the environment.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from kabot_codex.config import CREDENTIAL_ENV


def pytest_configure(config: pytest.Config) -> None:
    import importlib.util

    # The wizard installs as `kabot_codex.wizard` (mapped from the repository's `wizard/` folder);
    # an editable install made before that mapping existed cannot import it.
    if importlib.util.find_spec("kabot_codex.wizard") is None:
        pytest.exit("kabot_codex.wizard is not importable: the editable install predates the package "
                    "mapping; run `.venv/bin/pip install --no-deps -e .` and rerun", returncode=4)

if TYPE_CHECKING:
    from kabot_codex.emulator import EmulatorControl
    from tests.redis_helpers import RedisServer



@pytest.fixture(autouse=True)
def kabot_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point ``KABOT_HOME`` at ``tmp_path`` and hide real credentials from the test."""
    monkeypatch.setenv("KABOT_HOME", str(tmp_path))
    monkeypatch.setenv("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    for name in CREDENTIAL_ENV:
        monkeypatch.delenv(name, raising=False)
    return tmp_path


@pytest.fixture(scope="session")
def emulator() -> Iterator[EmulatorControl]:
    """Run one emulator subprocess for the whole session."""
    from kabot_codex.emulator import run_emulator_process

    with run_emulator_process() as control:
        yield control


@pytest.fixture
def emu(emulator: EmulatorControl) -> EmulatorControl:
    """Return the session emulator, reset to defaults (tokens minted earlier become invalid)."""
    emulator.reset()
    return emulator


@pytest.fixture
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A real ``redis-server`` on a free loopback port (skipped without the binary, failed in CI)."""
    from tests.redis_helpers import running_redis

    with running_redis(tmp_path_factory.mktemp("redis")) as server:
        yield server
