"""`reasoning_effort` / `verbosity` reach the backend in every call shape with no allowed_openai_params."""

from __future__ import annotations

import litellm
import pytest

import kabot_codex
from kabot_codex.provider import litellm_hooks

MODEL = "openai-codex/gpt-5.5"
HELLO = [{"role": "user", "content": "Say hello"}]


def last_body(emu) -> dict:
    return emu.requests(path_contains="/responses")[-1]["json"]


def test_capability_queries_list_the_codex_parameters() -> None:
    for supported in (litellm.get_supported_openai_params("gpt-5.5", custom_llm_provider="openai-codex"),
                      litellm.get_supported_openai_params(MODEL),
                      litellm.utils.get_supported_openai_params("gpt-5.5", custom_llm_provider="openai-codex")):
        assert "reasoning_effort" in supported and "verbosity" in supported
        # Parameters we drop with a warning stay accepted: frameworks send them by default.
        assert "temperature" in supported and "max_tokens" in supported
    # Other providers are untouched.
    assert "verbosity" not in (litellm.get_supported_openai_params("claude-sonnet-4-5",
                                                                   custom_llm_provider="anthropic") or [])


def test_install_is_idempotent() -> None:
    before = litellm.get_supported_openai_params
    assert litellm_hooks.install() == []
    kabot_codex.register()
    assert litellm.get_supported_openai_params is before
    supported = litellm.get_supported_openai_params("gpt-5.5", custom_llm_provider="openai-codex")
    assert supported.count("reasoning_effort") == 1


def _shape_calls():
    async def acompletion(**kw):
        return await litellm.acompletion(**kw)

    async def astream(**kw):
        return [c async for c in await litellm.acompletion(stream=True, **kw)]

    def stream(**kw):
        return list(litellm.completion(stream=True, **kw))

    return {"completion": litellm.completion, "acompletion": acompletion, "stream": stream, "astream": astream}


@pytest.mark.parametrize("shape", ["completion", "acompletion", "stream", "astream"])
async def test_every_call_shape_sends_effort_and_verbosity(emu, logged_in, shape: str) -> None:
    call = _shape_calls()[shape]
    result = call(model=MODEL, messages=HELLO, reasoning_effort="high", verbosity="low")
    if hasattr(result, "__await__"):
        await result
    body = last_body(emu)
    assert body["reasoning"]["effort"] == "high"
    assert body["text"]["verbosity"] == "low"


def test_drop_params_keeps_the_effort(emu, logged_in) -> None:
    litellm.completion(model=MODEL, messages=HELLO, reasoning_effort="high", drop_params=True)
    assert last_body(emu)["reasoning"]["effort"] == "high"


def test_a_callers_own_allow_list_still_works(emu, logged_in) -> None:
    litellm.completion(model=MODEL, messages=HELLO, reasoning_effort="low",
                       allowed_openai_params=["reasoning_effort"])
    assert last_body(emu)["reasoning"]["effort"] == "low"


async def test_router_sync_and_async_without_allow_list(emu, logged_in) -> None:
    router = litellm.Router(model_list=[{"model_name": "codex", "litellm_params": {"model": MODEL}}])
    router.completion(model="codex", messages=HELLO, reasoning_effort="high")
    assert last_body(emu)["reasoning"]["effort"] == "high"
    await router.acompletion(model="codex", messages=HELLO, reasoning_effort="medium")
    assert last_body(emu)["reasoning"]["effort"] == "medium"
    # A deployment-level effort (litellm_params) works too.
    router = litellm.Router(model_list=[{"model_name": "codex-high",
                                         "litellm_params": {"model": MODEL, "reasoning_effort": "high"}}])
    await router.acompletion(model="codex-high", messages=HELLO)
    assert last_body(emu)["reasoning"]["effort"] == "high"


def test_hooks_leave_the_router_signature_alone() -> None:
    # The Proxy keeps only router_settings that Router.__init__'s arg spec names; a wrapped
    # __init__ would silently drop fallbacks, num_retries, ...
    kabot_codex.register()
    assert {"fallbacks", "num_retries", "model_list"} <= set(litellm.Router.get_valid_args())
