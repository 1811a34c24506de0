"""A 401 mid-session recovers with one refresh and one retry; a dead login says what to do."""

from __future__ import annotations

import litellm
import pytest

import kabot_codex  # noqa: F401
from kabot_codex.config import load_config

MODEL = "openai-codex/gpt-5.5"
HELLO = [{"role": "user", "content": "Say hello"}]


def counts(emu) -> tuple[int, int]:
    stats = emu.stats()
    return stats["requests"].get("codex.responses", 0), stats["refresh_successes"]


@pytest.mark.parametrize("shape", ["sync", "async", "sync-stream", "async-stream"])
async def test_401_mid_session_refreshes_once_and_retries_once(emu, logged_in, shape):
    litellm.completion(model=MODEL, messages=HELLO)  # a working session first
    emu.expire_access_tokens()
    sent, refreshed = counts(emu)
    if shape == "sync":
        text = litellm.completion(model=MODEL, messages=HELLO).choices[0].message.content
    elif shape == "async":
        text = (await litellm.acompletion(model=MODEL, messages=HELLO)).choices[0].message.content
    elif shape == "sync-stream":
        text = "".join(c.choices[0].delta.content or "" for c in litellm.completion(
            model=MODEL, messages=HELLO, stream=True))
    else:
        stream = await litellm.acompletion(model=MODEL, messages=HELLO, stream=True)
        text = "".join([c.choices[0].delta.content or "" async for c in stream])
    assert "You said" in text
    assert counts(emu) == (sent + 2, refreshed + 1)  # the rejected call, one refresh, one retry
    stored = load_config().codex.profiles["default"]
    assert stored.refresh_token != logged_in["refresh_token"]  # the rotated token was persisted


def test_revoked_refresh_token_gives_the_login_hint_without_looping(emu, logged_in):
    emu.revoke_refresh_tokens()
    emu.expire_access_tokens()
    sent, _ = counts(emu)
    with pytest.raises(litellm.AuthenticationError) as info:
        litellm.completion(model=MODEL, messages=HELLO, num_retries=0)
    assert "kabot login" in str(info.value)
    assert logged_in["refresh_token"] not in str(info.value)
    assert counts(emu)[0] == sent + 1  # no second request without new credentials


def test_issuer_and_backend_calls_carry_the_same_client_identity(emu, logged_in, monkeypatch):
    monkeypatch.setenv("KABOT_CODEX_ORIGINATOR", "kabot_test_origin")
    emu.expire_access_tokens()
    litellm.completion(model=MODEL, messages=HELLO)  # 401, refresh, retry
    refresh = emu.requests(path_contains="/oauth/token")[-1]["headers"]
    backend = emu.requests(path_contains="/responses")[-1]["headers"]
    assert refresh["originator"] == backend["originator"] == "kabot_test_origin"
    assert refresh["user-agent"] == backend["user-agent"]
    assert "kabot-codex/" in backend["user-agent"]
