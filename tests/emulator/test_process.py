"""The emulator as a process: start-up line, port 0, clean shutdown, connection reuse."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time

import pytest

from kabot_codex.emulator import Emulator, EmulatorControl, EmulatorStartError, run_emulator_process
from tests.emulator.helpers import client


def test_listening_line_and_clean_sigterm_exit() -> None:
    proc = subprocess.Popen([sys.executable, "-m", "kabot_codex.emulator", "--port", "0"],
                            stdout=subprocess.PIPE, text=True, env={"_KABOT_CODEX_DEFER_REGISTER": "1",
                                                                     "PATH": "/usr/bin:/bin"})
    try:
        line = proc.stdout.readline()
        assert line.startswith("kabot-codex emulator listening on http://127.0.0.1:")
        port = int(line.rsplit(":", 1)[1])
        assert port > 0
        with client() as http:
            assert http.get(f"http://127.0.0.1:{port}/_emulator/health").json() == {"ok": True}
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0


def test_run_emulator_process_starts_fast_and_stops() -> None:
    started = time.perf_counter()
    with run_emulator_process() as emu:
        elapsed = time.perf_counter() - started
        assert emu.stats()["connections"] == 0
        url = emu.url
    assert elapsed < 5
    with client() as http:
        try:
            http.get(url + "/_emulator/health", timeout=1)
        except Exception:  # noqa: BLE001 - any connection error means it is gone
            return
    raise AssertionError("emulator still answering after the context exited")


def test_in_thread_emulator() -> None:
    with Emulator() as server, EmulatorControl(server.url) as control:
        assert server.url.startswith("http://127.0.0.1:")
        assert control.mint_tokens()["access_token"].count(".") == 2


def test_keep_alive_reuses_one_connection(emu: EmulatorControl) -> None:
    before = emu.stats()["connections"]
    tokens = emu.mint_tokens()
    with client() as http:
        for _ in range(10):
            r = http.get(emu.codex_base + "/models", params={"client_version": "0.146.0"},
                         headers=emu.auth_headers(tokens))
            assert r.status_code == 200
        for _ in range(5):
            with http.stream("POST", emu.codex_base + "/responses", headers=emu.auth_headers(tokens),
                             json={"model": "gpt-5.5", "instructions": "x", "input": [], "store": False,
                                   "stream": True}) as r:
                assert r.status_code == 200
                r.read()
    assert emu.stats()["connections"] == before + 1


def test_start_failure_reports_the_childs_stderr() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(EmulatorStartError, match="Address already in use"), run_emulator_process(port=port):
            pass
