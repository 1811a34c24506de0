"""A call can pick its account: kabot_profile kwarg, extra_body, or a Router deployment."""

from __future__ import annotations

import litellm
import pytest

import kabot_codex  # noqa: F401

from .conftest import save_profile

MODEL = "openai-codex/gpt-5.5"
HELLO = [{"role": "user", "content": "Say hello"}]


def account_sent(emu) -> str:
    return emu.requests(path_contains="/responses")[-1]["headers"]["chatgpt-account-id"]


def test_profile_per_call(emu, logged_in):
    work = emu.mint_tokens(ttl=3600, account_id="acct-work")
    save_profile(work, "work", active=False)
    litellm.completion(model=MODEL, messages=HELLO)
    assert account_sent(emu) == logged_in["account_id"]
    litellm.completion(model=MODEL, messages=HELLO, kabot_profile="work")
    assert account_sent(emu) == "acct-work"
    litellm.completion(model=MODEL, messages=HELLO, extra_body={"kabot_profile": "work"})
    assert account_sent(emu) == "acct-work"
    assert "kabot_profile" not in emu.requests(path_contains="/responses")[-1]["json"]


async def test_profile_per_router_deployment(emu, logged_in):
    work = emu.mint_tokens(ttl=3600, account_id="acct-work")
    save_profile(work, "work", active=False)
    router = litellm.Router(model_list=[
        {"model_name": "personal", "litellm_params": {"model": MODEL}},
        {"model_name": "work", "litellm_params": {"model": MODEL, "kabot_profile": "work"}},
    ])
    await router.acompletion(model="work", messages=HELLO)
    assert account_sent(emu) == "acct-work"
    await router.acompletion(model="personal", messages=HELLO)
    assert account_sent(emu) == logged_in["account_id"]


def _requests(emu) -> dict[str, int]:
    return emu.stats()["requests"]


@pytest.mark.parametrize("how", ["kwarg", "extra_body", "stream"])
def test_unknown_profile_per_call_is_a_bad_request_naming_kabot_status(emu, logged_in, how: str):
    kwargs: dict = {"extra_body": {"kabot_profile": "nope"}} if how == "extra_body" else {"kabot_profile": "nope"}
    with pytest.raises(litellm.BadRequestError) as info:
        litellm.completion(model=MODEL, messages=HELLO, stream=how == "stream", **kwargs)
    message = str(info.value)
    assert "'nope'" in message and "kabot status" in message
    assert not isinstance(info.value, litellm.AuthenticationError)
    assert _requests(emu).get("codex.responses", 0) == 0  # refused before any request


async def test_unknown_profile_async_stream(emu, logged_in):
    with pytest.raises(litellm.BadRequestError) as info:
        async for _ in await litellm.acompletion(model=MODEL, messages=HELLO, stream=True, kabot_profile="nope"):
            pass
    assert "kabot status" in str(info.value)


def _router_with_fallback(emu, primary_params: dict) -> litellm.Router:
    return litellm.Router(
        model_list=[
            {"model_name": "codex", "litellm_params": {"model": MODEL, **primary_params}},
            {"model_name": "backup", "litellm_params": {"model": "openai/gpt-4o-mini", "api_key": "sk-test",
                                                         "api_base": emu.openai_base}},
        ],
        fallbacks=[{"codex": ["backup"]}],
        num_retries=0,
    )


@pytest.mark.parametrize("where", ["deployment", "call"])
async def test_unknown_profile_does_not_fall_back_through_a_router(emu, logged_in, where: str):
    deployment = {"kabot_profile": "nope"} if where == "deployment" else {}
    per_call = {"kabot_profile": "nope"} if where == "call" else {}
    router = _router_with_fallback(emu, deployment)
    # The fallback itself works: a real failure of the primary would be answered by it.
    assert "gpt-4o-mini" in router.completion(model="backup", messages=HELLO).choices[0].message.content
    before = _requests(emu).get("openai.chat", 0)
    with pytest.raises(litellm.BadRequestError) as info:
        await router.acompletion(model="codex", messages=HELLO, **per_call)
    assert "kabot status" in str(info.value)
    with pytest.raises(litellm.BadRequestError):
        router.completion(model="codex", messages=HELLO, **per_call)
    assert _requests(emu).get("openai.chat", 0) == before  # the paid fallback was never asked
    assert _requests(emu).get("codex.responses", 0) == 0
