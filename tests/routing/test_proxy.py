"""`kabot router export` → the real LiteLLM Proxy on loopback → our provider → the emulator."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from click.testing import CliRunner

from kabot_codex.cli import cli
from kabot_codex.emulator import EmulatorControl
from tests.routing.conftest import FALLBACKS, PRIMARY, counts

pytestmark = pytest.mark.slow

STARTUP_TIMEOUT = 90.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def export(tmp_path: Path) -> Path:
    path = tmp_path / "proxy" / "config.yaml"
    path.parent.mkdir()
    result = CliRunner().invoke(cli, ["router", "export", "--output", str(path)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return path


def test_export_shape(setup_done: Any, tmp_path: Path) -> None:
    data = yaml.safe_load(export(tmp_path).read_text())
    assert data["litellm_settings"]["custom_provider_map"] == [
        {"provider": "openai-codex", "custom_handler": "kabot_codex.handler"}]
    names = [d["model_name"] for d in data["model_list"]]
    assert names == [PRIMARY, *FALLBACKS, "kabot"]
    codex = data["model_list"][0]
    assert "allowed_openai_params" not in codex["litellm_params"]
    assert codex["model_info"]["max_input_tokens"] == 272000 and codex["model_info"]["mode"] == "chat"
    assert data["model_list"][1]["litellm_params"]["api_key"] == "os.environ/OPENAI_API_KEY"
    assert data["router_settings"]["fallbacks"][0] == {"kabot": FALLBACKS}


def test_export_to_stdout_has_no_secrets(setup_done: Any) -> None:
    result = CliRunner().invoke(cli, ["router", "export"], catch_exceptions=False)
    assert result.exit_code == 0
    assert "custom_provider_map" in result.output
    assert "sk-test-routing" not in result.output
    assert "access_token" not in result.output


@pytest.fixture
def proxy(setup_done: Any, emu: EmulatorControl, tmp_path: Path) -> Iterator[str]:
    config = export(tmp_path)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("_KABOT")}
    env.update({"LITELLM_LOCAL_MODEL_COST_MAP": "True", "LITELLM_LOG": "ERROR"})
    # KABOT_HOME, OPENAI_CODEX_API_BASE/AUTH_BASE, OPENAI_API_KEY/BASE come from the fixtures.
    litellm_cli = Path(sys.executable).with_name("litellm")
    log = (tmp_path / "proxy.log").open("w")
    process = subprocess.Popen(
        [str(litellm_cli), "--config", str(config), "--host", "127.0.0.1", "--port", str(port)],
        env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            if process.poll() is not None:
                pytest.fail(f"proxy exited: {(tmp_path / 'proxy.log').read_text()[-3000:]}")
            try:
                if httpx.get(base + "/health/liveliness", timeout=1.0).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"proxy did not start: {(tmp_path / 'proxy.log').read_text()[-3000:]}")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()


def chat(base: str, **body: Any) -> httpx.Response:
    body.setdefault("messages", [{"role": "user", "content": "hi"}])
    return httpx.post(base + "/v1/chat/completions", json=body, timeout=60)


def test_proxy_round_trip(proxy: str, emu: EmulatorControl) -> None:
    # Normal call through the alias, with a reasoning effort (no allowed_openai_params needed).
    ok = chat(proxy, model="kabot", reasoning_effort="high")
    assert ok.status_code == 200, ok.text
    assert "gpt-5.5" in ok.json()["choices"][0]["message"]["content"]
    assert emu.requests(path_contains="/codex/responses")[-1]["json"]["reasoning"]["effort"] == "high"

    # The model string itself also routes.
    direct = chat(proxy, model=PRIMARY)
    assert direct.status_code == 200 and "gpt-5.5" in direct.json()["choices"][0]["message"]["content"]

    # Streamed.
    with httpx.stream("POST", proxy + "/v1/chat/completions", timeout=60, json={
            "model": "kabot", "stream": True, "messages": [{"role": "user", "content": "hi"}]}) as response:
        assert response.status_code == 200
        lines = [line[6:] for line in response.iter_lines() if line.startswith("data: ")]
    assert lines[-1] == "[DONE]"
    text = "".join(json.loads(x)["choices"][0]["delta"].get("content") or ""
                   for x in lines[:-1] if json.loads(x).get("choices"))
    assert "gpt-5.5" in text
    assert counts(emu) == {"codex": 3, "openai": 0}

    # Usage limit → the first fallback answers; the primary was asked once.
    emu.fault("usage_limit", count=1)
    fallback = chat(proxy, model="kabot")
    assert fallback.status_code == 200, fallback.text
    assert "gpt-5.2-codex" in fallback.json()["choices"][0]["message"]["content"]
    assert fallback.headers.get("x-litellm-attempted-fallbacks") == "1"
    assert counts(emu) == {"codex": 4, "openai": 1}

    # Streamed fallback while the limit is remembered (no further request to the primary).
    with httpx.stream("POST", proxy + "/v1/chat/completions", timeout=60, json={
            "model": "kabot", "stream": True, "messages": [{"role": "user", "content": "hi"}]}) as response:
        assert response.status_code == 200
        body = "".join(response.iter_text())
    assert "gpt-5.2-codex" in body
    assert counts(emu) == {"codex": 4, "openai": 2}
