"""Real frameworks, pinned in constraints.txt, driven against the emulator over real HTTP.

Every test here is marked ``ecosystem`` (select with ``-m ecosystem``, skip with
``-m "not ecosystem"``). Nothing is mocked: the frameworks call LiteLLM, LiteLLM calls the
provider, the provider talks HTTP to the emulator subprocess.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from kabot_codex.auth.login import save_token_login
from kabot_codex.config import CREDENTIAL_ENV
from kabot_codex.emulator import EmulatorControl
from tests.codex_login import fresh_provider_state, logged_in
from tests.processes import free_port, stop, wait_until_live

__all__ = ["fresh_provider_state", "logged_in"]  # shared fixtures, re-exported for pytest

MODEL = "openai-codex/gpt-5.5"
PROXY_STARTUP_TIMEOUT = 120.0


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.ecosystem)




def last_body(emu: EmulatorControl) -> dict[str, Any]:
    """The JSON body of the last request the Codex backend received."""
    return emu.requests(path_contains="/codex/responses")[-1]["json"]


def codex_calls(emu: EmulatorControl) -> int:
    return int(emu.stats()["requests"].get("codex.responses", 0))


@pytest.fixture(scope="module")
def proxy(emulator: EmulatorControl, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real LiteLLM Proxy (``litellm --config``) on a free loopback port; yields its base URL.

    One per module: starting it costs seconds. It has its own ``KABOT_HOME`` with two logins
    minted by the session emulator, so tests using it must use ``emulator`` (``emu`` resets the
    emulator, which invalidates those tokens) and compare request counts as differences.
    Deployments: ``codex`` (the active login) and ``codex-limited`` (profile ``limited``, its own
    account, so a usage limit hit there is remembered apart from ``codex``'s).
    """
    emulator.reset()  # no fault or reply left over from an earlier module
    home = tmp_path_factory.mktemp("proxy-home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KABOT_HOME", str(home))
        save_token_login(emulator.mint_tokens(ttl=3600), profile="default", active=True)
        save_token_login(emulator.mint_tokens(ttl=3600, account_id="acct-limited"), profile="limited", active=False)
    config = {
        "model_list": [
            {"model_name": "codex", "litellm_params": {"model": MODEL}},
            {"model_name": "codex-limited", "litellm_params": {"model": MODEL, "kabot_profile": "limited"}},
        ],
        "litellm_settings": {"custom_provider_map": [
            {"provider": "openai-codex", "custom_handler": "kabot_codex.handler"}]},
    }
    path = home / "proxy.yaml"
    path.write_text(yaml.safe_dump(config))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("_KABOT") and k not in CREDENTIAL_ENV}
    # LiteLLM 1.104+ will not start without a master key; the clients send it as their API key.
    env.update({"LITELLM_MASTER_KEY": "sk-proxy-client", "LITELLM_LOCAL_MODEL_COST_MAP": "True", "LITELLM_LOG": "ERROR",
                "KABOT_HOME": str(home),
                "OPENAI_CODEX_API_BASE": emulator.codex_base, "OPENAI_CODEX_AUTH_BASE": emulator.auth_base})
    log_path = home / "proxy.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [str(Path(sys.executable).with_name("litellm")), "--config", str(path), "--host", "127.0.0.1",
             "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT, cwd=home)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_until_live(process, base, log_path, PROXY_STARTUP_TIMEOUT)
            yield base
        finally:
            stop(process)
