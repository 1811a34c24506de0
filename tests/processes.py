"""Starting and stopping the real server processes the tests need (LiteLLM Proxy, redis-server)."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import httpx

__all__ = ["ProxyExited", "free_port", "stop", "wait_until_live"]


class ProxyExited(Exception):
    """The Proxy process ended during start-up; the message is its log."""


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stop(process: subprocess.Popen, timeout: float = 10.0) -> None:
    """End ``process``: terminate, then kill if it does not go within ``timeout``."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=timeout)


def wait_until_live(process: subprocess.Popen, base: str, log_path: Path, timeout: float) -> None:
    """Wait for a LiteLLM Proxy at ``base`` to answer its liveness probe.

    Raises ``ProxyExited`` (with the log) if the process ends, ``TimeoutError`` if it never answers.
    """
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise ProxyExited(log_path.read_text())
        try:
            if httpx.get(base + "/health/liveliness", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"proxy did not start: {log_path.read_text()[-3000:]}")
        time.sleep(0.2)
