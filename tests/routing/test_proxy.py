"""`kabot router export` → the real LiteLLM Proxy on loopback → our provider → the emulator."""

from __future__ import annotations

import contextlib
import json
import os
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
from tests.processes import ProxyExited, free_port, stop, wait_until_live
from tests.routing.conftest import FALLBACKS, PRIMARY, counts

pytestmark = pytest.mark.slow

STARTUP_TIMEOUT = 90.0


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
    assert data["litellm_settings"]["callbacks"] == ["kabot_codex.proxy_hooks.proxy_hooks"]
    # A master key from the environment, by default, even on loopback.
    assert data["general_settings"] == {"master_key": "os.environ/LITELLM_MASTER_KEY"}


def test_export_prints_a_loopback_start_command_with_the_cost_map_variable(setup_done: Any, tmp_path: Path) -> None:
    path = tmp_path / "cfg.yaml"
    result = CliRunner().invoke(cli, ["router", "export", "-o", str(path)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    start = f"LITELLM_LOCAL_MODEL_COST_MAP=True litellm --config {path} --host 127.0.0.1 --port 4000"
    assert start in result.output
    assert "export LITELLM_MASTER_KEY=" in result.output
    header = path.read_text()
    assert start in header and "required even on 127.0.0.1" in header
    assert "litellm --config cfg.yaml\n" not in header


def test_export_beyond_loopback_requires_a_master_key(setup_done: Any, tmp_path: Path) -> None:
    refused = CliRunner().invoke(cli, ["router", "export", "--host", "0.0.0.0", "--no-master-key"])
    assert refused.exit_code == 1
    flat = " ".join(refused.output.split())
    assert "Refusing to export" in flat and "without a master key" in flat and "fix:" in flat
    public = CliRunner().invoke(cli, ["router", "export", "--host", "0.0.0.0", "--port", "8080"],
                                catch_exceptions=False)
    assert public.exit_code == 0
    data = yaml.safe_load(public.output)
    assert data["general_settings"]["master_key"] == "os.environ/LITELLM_MASTER_KEY"
    assert "--host 0.0.0.0 --port 8080" in public.output
    # Loopback may opt out, and the file says what that means.
    open_ = CliRunner().invoke(cli, ["router", "export", "--no-master-key"], catch_exceptions=False)
    assert "general_settings" not in yaml.safe_load(open_.output)
    assert "No master key" in open_.output


def test_export_shares_router_state_through_redis(setup_done: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    result = CliRunner().invoke(cli, ["router", "export", "--redis-url", "redis://:s3cret@10.0.0.5:6380/2"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    settings = yaml.safe_load(result.stdout)["router_settings"]
    assert settings["redis_host"] == "10.0.0.5" and settings["redis_port"] == 6380
    assert settings["redis_password"] == "os.environ/REDIS_PASSWORD"
    assert "s3cret" not in result.output
    monkeypatch.setenv("KABOT_STORE_URL", "redis://127.0.0.1:6379/0")
    from_env = yaml.safe_load(CliRunner().invoke(cli, ["router", "export"], catch_exceptions=False).stdout)
    assert from_env["router_settings"]["redis_host"] == "127.0.0.1"
    assert "redis_password" not in from_env["router_settings"]
    bad = CliRunner().invoke(cli, ["router", "export", "--redis-url", "http://x"])
    assert bad.exit_code == 1 and "Not a Redis URL" in bad.output


def test_export_to_stdout_has_no_secrets(setup_done: Any) -> None:
    result = CliRunner().invoke(cli, ["router", "export"], catch_exceptions=False)
    assert result.exit_code == 0
    assert "custom_provider_map" in result.output
    assert "sk-test-routing" not in result.output
    assert "access_token" not in result.output


MASTER_KEY = "sk-test-master-key"


@contextlib.contextmanager
def running_proxy(config: Path, tmp_path: Path, *, env: dict[str, str] | None = None,
                  name: str = "proxy") -> Iterator[tuple[str, Path]]:
    """Start the real LiteLLM Proxy the way the export prints it; yield its base URL and log."""
    port = free_port()
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("_KABOT")}
    child_env.update({"LITELLM_LOCAL_MODEL_COST_MAP": "True", "LITELLM_LOG": "ERROR",
                      "LITELLM_MASTER_KEY": MASTER_KEY})
    child_env.update(env or {})
    # KABOT_HOME, OPENAI_CODEX_API_BASE/AUTH_BASE, OPENAI_API_KEY/BASE come from the fixtures.
    litellm_cli = Path(sys.executable).with_name("litellm")
    log_path = tmp_path / f"{name}.log"
    log = log_path.open("w")
    process = subprocess.Popen(
        [str(litellm_cli), "--config", str(config), "--host", "127.0.0.1", "--port", str(port)],
        env=child_env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        try:
            wait_until_live(process, base, log_path, STARTUP_TIMEOUT)
        except TimeoutError as exc:
            pytest.fail(str(exc))
        yield base, log_path
    finally:
        stop(process)
        log.close()


@pytest.fixture
def proxy(setup_done: Any, emu: EmulatorControl, tmp_path: Path) -> Iterator[str]:
    with running_proxy(export(tmp_path), tmp_path) as (base, _log):
        yield base


AUTH = {"Authorization": f"Bearer {MASTER_KEY}"}


def chat(base: str, *, key: str | None = MASTER_KEY, **body: Any) -> httpx.Response:
    body.setdefault("messages", [{"role": "user", "content": "hi"}])
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.post(base + "/v1/chat/completions", json=body, headers=headers, timeout=60)


def test_proxy_round_trip(proxy: str, emu: EmulatorControl) -> None:
    # The master key is enforced: without it the Proxy refuses and never calls a model. 1.110.2
    # answers 401; 1.102.0 answers 500 because its auth-error handler imports prisma, which
    # neither its own proxy extra nor ours installs.
    anonymous = httpx.post(proxy + "/v1/chat/completions", timeout=60,
                           json={"model": "kabot", "messages": [{"role": "user", "content": "hi"}]})
    assert anonymous.status_code in (401, 500), anonymous.text
    assert counts(emu) == {"codex": 0, "openai": 0}

    # Normal call through the alias, with a reasoning effort (no allowed_openai_params needed).
    ok = chat(proxy, model="kabot", reasoning_effort="high")
    assert ok.status_code == 200, ok.text
    assert "gpt-5.5" in ok.json()["choices"][0]["message"]["content"]
    assert emu.requests(path_contains="/codex/responses")[-1]["json"]["reasoning"]["effort"] == "high"

    # The model string itself also routes.
    direct = chat(proxy, model=PRIMARY)
    assert direct.status_code == 200 and "gpt-5.5" in direct.json()["choices"][0]["message"]["content"]

    # Streamed.
    with httpx.stream("POST", proxy + "/v1/chat/completions", timeout=60, headers=AUTH, json={
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
    with httpx.stream("POST", proxy + "/v1/chat/completions", timeout=60, headers=AUTH, json={
            "model": "kabot", "stream": True, "messages": [{"role": "user", "content": "hi"}]}) as response:
        assert response.status_code == 200
        body = "".join(response.iter_text())
    assert "gpt-5.2-codex" in body
    assert counts(emu) == {"codex": 4, "openai": 2}


def test_proxy_refuses_to_start_without_its_master_key(setup_done: Any, tmp_path: Path) -> None:
    with pytest.raises(ProxyExited) as exited, running_proxy(export(tmp_path), tmp_path,
                                                             env={"LITELLM_MASTER_KEY": ""}):
        pass
    log = str(exited.value)
    assert "Refusing to start" in log and "LITELLM_MASTER_KEY is not set" in log


def test_proxy_asks_callers_for_the_master_key(proxy: str, emu: EmulatorControl) -> None:
    for key in (None, "sk-wrong"):
        refused = chat(proxy, model="kabot", key=key)
        # LiteLLM refuses with 401, or 400/500 "No connected db" when it has no database to look
        # other keys up in; either way no model is asked.
        assert refused.status_code in (400, 401, 500), refused.text
    assert counts(emu) == {"codex": 0, "openai": 0}  # refused before any model was asked
    assert chat(proxy, model="kabot").status_code == 200


def test_proxy_without_a_login_says_so_at_start_up_and_at_the_first_fallback(
        setup_done: Any, emu: EmulatorControl, tmp_path: Path) -> None:
    config = export(tmp_path)
    empty_home = tmp_path / "other-user-home"
    empty_home.mkdir()
    with running_proxy(config, tmp_path, env={"KABOT_HOME": str(empty_home)}) as (base, log_path):
        startup = log_path.read_text()
        errors = [line for line in startup.splitlines() if "has NO usable login" in line]
        # One per openai-codex deployment: the primary and its alias copy.
        assert len(errors) == 2, startup
        assert f"KABOT_HOME={empty_home}" in errors[0] and "kabot login" in errors[0]
        assert errors[0].startswith("ERROR kabot-codex:")
        first = chat(base, model="kabot")
        assert first.status_code == 200
        assert "gpt-5.2-codex" in first.json()["choices"][0]["message"]["content"]
        assert chat(base, model="kabot").status_code == 200
        time.sleep(0.5)  # fallback events are logged after the response is sent
        after = log_path.read_text()[len(startup):]
    fallback_errors = [line for line in after.splitlines() if "could not use openai-codex" in line]
    assert len(fallback_errors) == 1, after
    assert "a fallback model answered instead" in fallback_errors[0]
    assert "No openai-codex login" in fallback_errors[0] and str(empty_home) in fallback_errors[0]
    assert counts(emu) == {"codex": 0, "openai": 2}


@pytest.mark.parametrize(("host", "loopback"), [
    ("127.0.0.1", True), ("127.0.0.2", True), ("::1", True), ("[::1]", True), ("localhost", True),
    ("0.0.0.0", False), ("192.168.1.10", False), ("::", False), ("proxy.internal", False),
])
def test_which_hosts_count_as_loopback(host: str, loopback: bool) -> None:
    from kabot_codex.proxy_config import is_loopback

    assert is_loopback(host) is loopback
