"""A call can pick its account: kabot_profile kwarg, extra_body, or a Router deployment."""

from __future__ import annotations

import litellm

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
