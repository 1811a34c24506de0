"""The account pool through real LiteLLM Proxy processes, and two Proxies sharing one Redis."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from kabot_codex.cli import cli
from kabot_codex.config import config_path
from kabot_codex.emulator import EmulatorControl
from tests.redis_helpers import RedisServer
from tests.routing.conftest import PRIMARY, counts
from tests.routing.test_pool import ACCOUNTS, per_account, pool  # noqa: F401  (fixture)
from tests.routing.test_proxy import AUTH, chat, running_proxy

pytestmark = pytest.mark.slow


def export(tmp_path: Path, *args: str) -> Path:
    path = tmp_path / "proxy" / "config.yaml"
    path.parent.mkdir(exist_ok=True)
    result = CliRunner().invoke(cli, ["router", "export", "--output", str(path), *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return path


def streamed(base: str, model: str) -> str:
    import httpx

    with httpx.stream("POST", base + "/v1/chat/completions", timeout=60, headers=AUTH, json={
            "model": model, "stream": True, "messages": [{"role": "user", "content": "hi"}]}) as response:
        assert response.status_code == 200
        return "".join(response.iter_text())


def test_pool_through_the_proxy(pool: list[str], emu: EmulatorControl, tmp_path: Path) -> None:  # noqa: F811
    config = export(tmp_path)
    data = yaml.safe_load(config.read_text())
    assert [d["litellm_params"].get("kabot_profile") for d in data["model_list"]
            if d["model_name"] == "kabot"] == list(ACCOUNTS)
    emu.fault("usage_limit", count=0, account_id=ACCOUNTS["bob"], resets_in_seconds=3600)
    with running_proxy(config, tmp_path) as (base, _log):
        answers = [chat(base, model="kabot") for _ in range(12)]
        assert all(r.status_code == 200 and "gpt-5.5" in r.json()["choices"][0]["message"]["content"]
                   for r in answers)
        seen = per_account(emu)
        assert seen["bob"] <= 1 and seen["alice"] + seen["carol"] == 12
        # Streamed calls too, once the limit is known: never the limited account, never a fallback —
        # also in the other group (the model string), whose deployment of bob was never cooled.
        assert all("gpt-5.5" in streamed(base, "kabot") for _ in range(4))
        assert all("gpt-5.5" in streamed(base, PRIMARY) for _ in range(8))
        assert per_account(emu)["bob"] == seen["bob"]
        assert counts(emu)["openai"] == 0
        print(f"proxy pool, one limited: requests per account {dict(per_account(emu))}")

        for account in ACCOUNTS.values():
            emu.fault("usage_limit", count=0, account_id=account, resets_in_seconds=3600)
        before = per_account(emu)
        fallback = [chat(base, model="kabot") for _ in range(6)]
        assert all("gpt-5.2-codex" in r.json()["choices"][0]["message"]["content"] for r in fallback)
        extra = per_account(emu) - before
        assert all(extra[p] <= 1 for p in ACCOUNTS), extra
        print(f"proxy pool, all limited: extra requests per account {dict(extra)}, fallback answers 6")


def test_two_proxies_share_router_cooldowns_through_redis(pool: list[str], emu: EmulatorControl,  # noqa: F811
                                                          tmp_path: Path, redis_server: RedisServer) -> None:
    config = export(tmp_path, "--redis-url", redis_server.url)
    settings = yaml.safe_load(config.read_text())["router_settings"]
    assert settings["redis_host"] == "127.0.0.1" and settings["redis_port"] == redis_server.port
    # Host B has its own KABOT_HOME (same logins): kabot's own usage-limit memory is not shared,
    # so only LiteLLM's Redis-backed cooldown can keep B away from the limited account.
    home_b = tmp_path / "home-b"
    home_b.mkdir()
    shutil.copy2(config_path(), home_b / "config.json")
    emu.fault("usage_limit", count=0, account_id=ACCOUNTS["bob"], resets_in_seconds=3600)
    with running_proxy(config, tmp_path, name="proxy-a") as (base_a, _), \
            running_proxy(config, tmp_path, name="proxy-b", env={"KABOT_HOME": str(home_b)}) as (base_b, _):
        for _ in range(12):
            assert chat(base_a, model="kabot").status_code == 200
            if per_account(emu)["bob"]:
                break
        assert per_account(emu)["bob"] == 1, "proxy A never picked the limited account"
        answers = [chat(base_b, model="kabot") for _ in range(15)]
    assert all("gpt-5.5" in r.json()["choices"][0]["message"]["content"] for r in answers)
    assert per_account(emu)["bob"] == 1  # B learnt the cooldown from Redis, not by asking
    assert counts(emu)["openai"] <= 1  # at most A's discovery, if LiteLLM sent it to a fallback
