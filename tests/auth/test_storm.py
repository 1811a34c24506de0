"""Many processes, threads and tasks on one expiring token: exactly one refresh, no reuse.

Also: a writer killed mid-write never leaves a torn config file.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import time

import pytest

from kabot_codex.auth.session import session_for
from kabot_codex.config import AuthProfile, config_path, edit_config, load_config
from kabot_codex.emulator import EmulatorControl
from tests.auth.conftest import PYTHON, store_profile, stored

pytestmark = pytest.mark.slow

PROCESSES, THREADS, TASKS, PARENT_TASKS = 8, 4, 8, 50


def test_refresh_storm_across_processes_threads_and_tasks(issuer: EmulatorControl,
                                                          child_env: dict[str, str]) -> None:
    old = issuer.mint_tokens(ttl=120)  # expires within the 5-minute window: everyone wants to refresh
    store_profile(old)
    children = [
        subprocess.Popen([PYTHON, "-m", "tests.auth.storm_worker", str(THREADS), str(TASKS)], env=child_env,
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(PROCESSES)
    ]
    try:
        for child in children:
            assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        for child in children:  # release them all at once
            assert child.stdin is not None
            child.stdin.write("go\n")
            child.stdin.flush()

        async def parent_fan_out() -> list[str]:
            got = await asyncio.gather(*(session_for("default").aget() for _ in range(PARENT_TASKS)))
            return [c.token for c in got]

        tokens = asyncio.run(parent_fan_out())
        errors: list[str] = []
        for child in children:
            out, err = child.communicate(timeout=120)
            assert child.returncode == 0, err
            report = json.loads(out.strip().splitlines()[-1])
            tokens += report["tokens"]
            errors += report["errors"]
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
    assert errors == []
    assert len(tokens) == PROCESSES * (THREADS + TASKS) + PARENT_TASKS
    new = stored().access_token
    assert set(tokens) == {new} and new != old["access_token"]
    stats = issuer.stats()
    assert stats["refresh_successes"] == 1
    assert stats["refresh_reuse_errors"] == 0
    assert stats["requests"]["oauth.token.refresh_token"] == 1


WRITER = """
import sys
from kabot_codex.config import AuthProfile, edit_config
i = 0
while True:
    with edit_config() as config:
        # Sizes vary so a torn write could not go unnoticed.
        config.codex.profiles["default"] = AuthProfile(method="browser", access_token="x" * (1 + i % 9000),
                                                       refresh_token=f"r{i}")
    if i == 0:
        print("ready", flush=True)
    i += 1
"""


def test_writer_killed_mid_write_leaves_old_or_new_file(child_env: dict[str, str]) -> None:
    path = config_path()
    with edit_config() as config:
        config.codex.profiles["keep"] = AuthProfile(method="api-key", api_key="sk-keep-this-key")
    reads = versions = 0
    for round_ in range(5):
        writer = subprocess.Popen([PYTHON, "-c", WRITER], env=child_env, stdout=subprocess.PIPE, text=True)
        assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
        deadline = time.monotonic() + 0.3 + round_ * 0.07
        seen: set[str] = set()
        while time.monotonic() < deadline:
            data = json.loads(path.read_text())  # never torn: raises if it were
            seen.add(data["providers"]["openai-codex"]["profiles"]["default"]["refresh_token"])
            reads += 1
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait(timeout=10)
        versions += len(seen)
        final = load_config()  # the file the kill left behind parses and validates
        assert final.codex.profiles["keep"].api_key == "sk-keep-this-key"
        assert final.codex.profiles["default"].refresh_token
        assert oct(path.stat().st_mode & 0o777) == oct(0o600)
    assert reads > 50 and versions > 5, (reads, versions)
    # The killed writer's lock died with it: the next writer is not blocked.
    with edit_config(timeout=5) as config:
        config.codex.active_profile = "keep"
    assert load_config().codex.active_profile == "keep"
