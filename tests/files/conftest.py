"""Fixtures for the file-system reliability tests: the emulator, a clean session cache, and a
way to run a worker inside a private mount namespace (root only; skipped elsewhere)."""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kabot_codex import state
from kabot_codex.auth import session as session_module
from kabot_codex.auth.session import reset_sessions
from kabot_codex.catalog import status, store
from kabot_codex.emulator import EmulatorControl

REPO = Path(__file__).resolve().parents[2]
PYTHON = sys.executable


@pytest.fixture(autouse=True)
def _fresh_process_state() -> Iterator[None]:
    reset_sessions()
    state.reset()
    store.reload()
    status.forget_statuses()
    yield
    session_module._unsaved.clear()  # tokens a test left unsaved must not reach the next test
    reset_sessions()
    state.reset()
    store.reload()
    status.forget_statuses()


@pytest.fixture
def on_emulator(emu: EmulatorControl, monkeypatch: pytest.MonkeyPatch) -> EmulatorControl:
    """The emulator, with the provider and the issuer pointed at it."""
    monkeypatch.setenv("OPENAI_CODEX_API_BASE", emu.codex_base)
    monkeypatch.setenv("OPENAI_CODEX_AUTH_BASE", emu.auth_base)
    return emu


@functools.cache
def namespaces_work() -> str | None:
    """``None`` if this process may mount a tmpfs in a private mount namespace, else why not."""
    probe = subprocess.run(["unshare", "-m", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt && umount /mnt"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        return f"no private mount namespace here ({probe.stderr.strip() or probe.returncode})"
    return None


@functools.cache
def unprivileged_works() -> str | None:
    """``None`` if this process can run the worker as ``nobody`` and see EACCES, else why not."""
    if os.getuid() != 0:
        return "not root: cannot switch to another user"
    probe = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", PYTHON, "-c",
                            "import kabot_codex.config"], capture_output=True, text=True, cwd=REPO,
                           env={**os.environ, "PYTHONPATH": str(REPO), "_KABOT_CODEX_DEFER_REGISTER": "1"})
    if probe.returncode != 0:
        return f"cannot run the worker as nobody ({probe.stderr.strip()[-200:] or probe.returncode})"
    return None


def run_in_namespace(args: dict[str, Any], env: dict[str, str], timeout: float = 120) -> dict[str, Any]:
    """Run ``tests/files/fs_worker.py`` under ``unshare -m`` and return its JSON report."""
    why = namespaces_work()
    if why:
        pytest.skip(why)
    return _run_worker(["unshare", "-m", "--propagation", "private"], args, env, timeout)


def run_as_nobody(args: dict[str, Any], env: dict[str, str], timeout: float = 120) -> dict[str, Any]:
    """Run ``tests/files/fs_worker.py`` as the unprivileged user ``nobody``."""
    why = unprivileged_works()
    if why:
        pytest.skip(why)
    return _run_worker(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"], args, env, timeout)


def _run_worker(prefix: list[str], args: dict[str, Any], env: dict[str, str], timeout: float) -> dict[str, Any]:
    child_env = {**os.environ, **env, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1",
                 "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    done = subprocess.run([*prefix, PYTHON, "-m", "tests.files.fs_worker", json.dumps(args)],
                          env=child_env, cwd=REPO, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr[-3000:]
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    figures = os.environ.get("KABOT_RELIABILITY_FIGURES")  # docs/reliability.md quotes the last run
    if figures:
        with open(figures, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"scenario": args["scenario"], **report}) + "\n")
    report["stderr"] = done.stderr
    return report
