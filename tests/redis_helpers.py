"""A real ``redis-server`` for tests: a free loopback port, a temporary directory, no persistence.

Outside CI a machine without the binary skips the tests that need it (with the reason and the
fix); in CI (``CI=true``) it fails them instead: ``.ci/run`` installs the package, so a missing
binary there is a broken CI, not something to skip quietly.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.processes import free_port, stop

__all__ = ["RedisServer", "redis_binary", "running_redis"]

START_TIMEOUT = 15.0


@dataclass(frozen=True)
class RedisServer:
    """A running server: where it listens and its process."""

    host: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"

    def client(self) -> object:
        import redis

        return redis.Redis(host=self.host, port=self.port, socket_timeout=5)


def redis_binary() -> str:
    """The ``redis-server`` path, or skip (fail in CI) naming the fix."""
    found = shutil.which("redis-server")
    if found:
        return found
    reason = ("redis-server is not installed; install the distribution's package "
              "(apt-get install redis-server, brew install redis) to run the Redis tests")
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{reason} — CI must have it (.ci/run installs it)", pytrace=False)
    pytest.skip(reason)


def _wait_ready(server: RedisServer) -> None:
    import redis

    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if server.process.poll() is not None:
            raise RuntimeError(f"redis-server exited ({server.process.returncode}): {server.log.read_text()[-2000:]}")
        try:
            if redis.Redis(host=server.host, port=server.port, socket_timeout=1).ping():
                return
        except redis.RedisError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"redis-server did not answer within {START_TIMEOUT:.0f}s: "
                               f"{server.log.read_text()[-2000:]}")
        time.sleep(0.05)


@contextlib.contextmanager
def running_redis(directory: Path) -> Iterator[RedisServer]:
    """Start ``redis-server`` on a free loopback port with its files in ``directory``; stop it after."""
    binary = redis_binary()
    directory.mkdir(parents=True, exist_ok=True)
    for attempt in range(3):  # the free port may be taken between the probe and the bind
        port = free_port()
        log = directory / f"redis-{port}.log"
        process = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(directory), "--save", "",
             "--appendonly", "no", "--daemonize", "no", "--logfile", str(log)],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        server = RedisServer("127.0.0.1", port, process, log)
        try:
            _wait_ready(server)
        except RuntimeError:
            stop(process)
            if attempt == 2:
                raise
            continue
        try:
            yield server
        finally:
            stop(process)
        return
