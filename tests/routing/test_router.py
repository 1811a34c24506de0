"""build_router() through the real LiteLLM Router, our provider and the emulator."""

from __future__ import annotations

import time
from typing import Any

import litellm
import pytest

import kabot_codex
from kabot_codex.catalog import get_model_status
from kabot_codex.catalog.account import current_account
from kabot_codex.config import ModelOrder
from kabot_codex.emulator import EmulatorControl
from kabot_codex.errors import ConfigError
from tests.routing.conftest import FALLBACKS, PRIMARY, counts, hi


def test_without_a_saved_order_the_error_names_setup() -> None:
    with pytest.raises(ConfigError) as info:
        kabot_codex.build_router()
    assert "kabot setup" in (info.value.hint or "")


def test_deployments_alias_and_fallbacks(setup_done: Any) -> None:
    router = kabot_codex.build_router()
    names = [d["model_name"] for d in router.model_list]
    assert names == [PRIMARY, *FALLBACKS, "kabot"]
    assert router.fallbacks == [{"kabot": FALLBACKS}, {PRIMARY: FALLBACKS}, {FALLBACKS[0]: FALLBACKS[1:]}]
    codex = router.model_list[0]["litellm_params"]
    # reasoning_effort needs no allow-list any more (the provider's params hook).
    assert "allowed_openai_params" not in codex and "api_key" not in codex
    openai_params = router.model_list[1]["litellm_params"]
    assert openai_params["api_key"] == "sk-test-routing"
    assert router.get_model_group_info("kabot").max_input_tokens == 272000


def test_primary_answers_by_alias_and_by_model_string(setup_done: Any, emu: EmulatorControl) -> None:
    router = kabot_codex.build_router()
    by_alias = router.completion(model="kabot", messages=hi(), reasoning_effort="high")
    assert "gpt-5.5" in by_alias.choices[0].message.content
    by_name = router.completion(model=PRIMARY, messages=hi())
    assert "gpt-5.5" in by_name.choices[0].message.content
    assert counts(emu) == {"codex": 2, "openai": 0}
    body = emu.requests(path_contains="/codex/responses")[-2]["json"]
    assert body["reasoning"]["effort"] == "high"
    assert get_model_status(PRIMARY, current_account().account_key) == "working"


def test_usage_limit_falls_back_and_skips_the_primary_until_reset(setup_done: Any, emu: EmulatorControl) -> None:
    # One fault is enough: only the first call may reach the backend before the reset.
    # The window must outlast the calls below even on a loaded machine (a 3 s window could pass
    # before the first request arrived). No wall-clock assert: the counts prove no retry happened.
    window = 10.0
    emu.fault("usage_limit", count=1, resets_in_seconds=window)
    router = kabot_codex.build_router()
    first = router.completion(model="kabot", messages=hi())
    limited_at = time.monotonic()  # the limit (and any Router cooldown) began before this
    assert "gpt-5.2-codex" in first.choices[0].message.content
    assert counts(emu) == {"codex": 1, "openai": 1}
    for model in ("kabot", PRIMARY, "kabot"):
        again = router.completion(model=model, messages=hi())
        assert "gpt-5.2-codex" in again.choices[0].message.content
    assert counts(emu) == {"codex": 1, "openai": 4}  # remembered: the primary was not asked again
    time.sleep(max(0.0, window + 0.5 - (time.monotonic() - limited_at)))
    after = router.completion(model="kabot", messages=hi())
    assert "gpt-5.5" in after.choices[0].message.content
    assert counts(emu) == {"codex": 2, "openai": 4}


def test_permanent_401_falls_back(setup_done: Any, emu: EmulatorControl) -> None:
    emu.fault("unauthorized", count=0)
    router = kabot_codex.build_router(num_retries=0)
    response = router.completion(model="kabot", messages=hi())
    assert "gpt-5.2-codex" in response.choices[0].message.content


def test_rejected_model_falls_back_and_is_marked_unsupported(setup_done: Any, emu: EmulatorControl) -> None:
    order = ModelOrder(primary="openai-codex/gpt-5.3-codex", fallbacks=["openai/gpt-4o-mini"])
    router = kabot_codex.build_router(order=order)
    response = router.completion(model="kabot", messages=hi())
    assert "gpt-4o-mini" in response.choices[0].message.content
    assert counts(emu) == {"codex": 1, "openai": 1}
    key = current_account().account_key
    assert get_model_status("openai-codex/gpt-5.3-codex", key) == "unsupported"


def test_context_too_long_uses_context_window_fallbacks(setup_done: Any, emu: EmulatorControl) -> None:
    emu.fault("context_length")
    router = kabot_codex.build_router(context_window_fallbacks=[{PRIMARY: ["openai/gpt-4o-mini"]}])
    response = router.completion(model=PRIMARY, messages=hi())
    # Not the regular first fallback (gpt-5.2-codex): the context-window one.
    assert "gpt-4o-mini" in response.choices[0].message.content


def test_streaming_falls_back_too(setup_done: Any, emu: EmulatorControl) -> None:
    emu.fault("usage_limit", count=0)
    router = kabot_codex.build_router()
    stream = router.completion(model="kabot", messages=hi(), stream=True)
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream)
    assert "gpt-5.2-codex" in text
    assert counts(emu)["codex"] == 1


async def test_async_streaming_falls_back(setup_done: Any, emu: EmulatorControl) -> None:
    emu.fault("usage_limit", count=0)
    router = kabot_codex.build_router()
    stream = await router.acompletion(model="kabot", messages=hi(), stream=True)
    text = ""
    async for chunk in stream:
        text += chunk.choices[0].delta.content or ""
    assert "gpt-5.2-codex" in text


async def test_async_completion_falls_back(setup_done: Any, emu: EmulatorControl) -> None:
    emu.fault("usage_limit", count=0)
    router = kabot_codex.build_router()
    response = await router.acompletion(model="kabot", messages=hi())
    assert "gpt-5.2-codex" in response.choices[0].message.content


def test_whole_chain_is_followed(setup_done: Any, emu: EmulatorControl) -> None:
    emu.fault("usage_limit", count=0)
    emu.fault("server_error", count=0, target="openai", model="gpt-5.2-codex")
    router = kabot_codex.build_router(num_retries=0)
    response = router.completion(model="kabot", messages=hi())
    assert "gpt-4o-mini" in response.choices[0].message.content


def test_router_kwargs_pass_through(setup_done: Any) -> None:
    router = kabot_codex.build_router(num_retries=1, fallbacks=[{"extra": ["openai/gpt-4o-mini"]}])
    assert router.num_retries == 1
    assert {"extra": ["openai/gpt-4o-mini"]} in router.fallbacks
    assert isinstance(router, litellm.Router)


def test_router_show_prints_the_order(setup_done: Any) -> None:
    from click.testing import CliRunner

    from kabot_codex.cli import cli

    result = CliRunner().invoke(cli, ["router", "show"], catch_exceptions=False)
    assert result.exit_code == 0
    assert f"kabot = {PRIMARY}" in result.output
    assert "fallback 2: openai/gpt-4o-mini" in result.output


def test_other_providers_keep_their_litellm_prefix():
    # LiteLLM resolves "vertex_ai/..." but not "vertex-ai/..."; the order must reach it verbatim.
    import litellm

    from kabot_codex.config import KabotConfig, ModelOrder
    from kabot_codex.routing import fallback_map, model_list

    order = ModelOrder(primary="openai-codex/gpt-5.5", fallbacks=["vertex_ai/gemini-1.5-pro"])
    models = [d["litellm_params"]["model"] for d in model_list(order, config=KabotConfig())]
    assert "vertex_ai/gemini-1.5-pro" in models
    assert litellm.get_llm_provider("vertex_ai/gemini-1.5-pro")[1] == "vertex_ai"
    assert {"openai-codex/gpt-5.5": ["vertex_ai/gemini-1.5-pro"]} in fallback_map(order)
