"""Registration with LiteLLM, and the Router falling back on a usage limit."""

from __future__ import annotations

import time

import litellm
import pytest

import kabot_codex

HELLO = [{"role": "user", "content": "Say hello"}]


def test_import_registers_once_and_register_is_idempotent():
    kabot_codex.register()
    kabot_codex.register()
    entries = [e for e in litellm.custom_provider_map if e["provider"] == "openai-codex"]
    assert len(entries) == 1 and entries[0]["custom_handler"] is kabot_codex.handler
    assert "openai-codex" in litellm.provider_list
    assert litellm.get_llm_provider("openai-codex/gpt-5.5")[:2] == ("gpt-5.5", "openai-codex")


def test_register_recovers_after_the_host_replaces_the_map():
    saved = litellm.custom_provider_map
    try:
        litellm.custom_provider_map = []
        kabot_codex.register()
        assert litellm.custom_provider_map[0]["custom_handler"] is kabot_codex.handler
    finally:
        litellm.custom_provider_map = saved
        kabot_codex.register()


def test_model_metadata_is_registered_as_chat_with_zero_cost():
    info = litellm.get_model_info("openai-codex/gpt-5.5")
    assert info["mode"] == "chat" and info["input_cost_per_token"] == 0.0
    assert info["max_input_tokens"] and litellm.supports_function_calling("openai-codex/gpt-5.5")
    assert litellm.supports_reasoning("openai-codex/gpt-5.5")


def test_router_can_be_built_right_after_import():
    router = litellm.Router(model_list=[{"model_name": "codex", "litellm_params": {"model": "openai-codex/gpt-5.5"}}])
    assert router.get_model_names() == ["codex"]


def primary_and_fallback(emu) -> litellm.Router:
    # num_retries=2 on purpose: a usage limit must still reach the primary exactly once.
    return litellm.Router(
        model_list=[
            {"model_name": "primary", "litellm_params": {"model": "openai-codex/gpt-5.5"}},
            {"model_name": "fallback", "litellm_params": {
                "model": "openai/gpt-4o-mini", "api_key": "sk-test", "api_base": emu.openai_base}},
        ],
        fallbacks=[{"primary": ["fallback"]}],
        num_retries=2,
    )


@pytest.mark.parametrize("stream", [False, True])
async def test_router_falls_back_on_usage_limit_calling_primary_once(emu, logged_in, stream):
    router = primary_and_fallback(emu)
    async def call(model: str) -> str:
        if stream:
            response = await router.acompletion(model=model, messages=HELLO, stream=True)
            return "".join([c.choices[0].delta.content or "" async for c in response])
        response = await router.acompletion(model=model, messages=HELLO)
        return response.choices[0].message.content

    # Warm both deployments in the measured shape, so the timing is the fallback's, not the
    # OpenAI SDK's first-call setup; the warm fallback call is the same-run baseline.
    await call("primary")
    await call("fallback")
    baseline_started = time.monotonic()
    await call("fallback")
    baseline = time.monotonic() - baseline_started
    before = emu.stats()["requests"].get("codex.responses", 0)
    emu.fault("usage_limit", resets_in_seconds=3600)
    started = time.monotonic()
    text = await call("primary")
    elapsed = time.monotonic() - started
    assert "gpt-4o-mini" in text
    assert emu.stats()["requests"].get("codex.responses", 0) == before + 1
    # No retry sleeps (each would be >= 0.5 s): the fallback costs about one more call.
    # Relative to a call measured in the same run, because machines here are noisy.
    assert elapsed < 10 * baseline + 0.25
    # Following calls skip the primary without touching the network until the reset.
    response = await router.acompletion(model="primary", messages=HELLO)
    assert "gpt-4o-mini" in response.choices[0].message.content
    assert emu.stats()["requests"].get("codex.responses", 0) == before + 1


def test_sync_router_falls_back_on_usage_limit(emu, logged_in):
    router = primary_and_fallback(emu)
    def call(model: str) -> str:
        return "".join(c.choices[0].delta.content or "" for c in router.completion(
            model=model, messages=HELLO, stream=True))

    call("primary")
    call("fallback")
    baseline_started = time.monotonic()
    call("fallback")
    baseline = time.monotonic() - baseline_started
    before = emu.stats()["requests"].get("codex.responses", 0)
    emu.fault("usage_limit")
    started = time.monotonic()
    text = call("primary")
    assert "gpt-4o-mini" in text and time.monotonic() - started < 10 * baseline + 0.25
    assert emu.stats()["requests"].get("codex.responses", 0) == before + 1
