"""The token lifecycle the provider relies on: proactive refresh, 401 recovery, failures.

Everything runs over real HTTP against the emulator's issuer and backend.
"""

from __future__ import annotations

import asyncio
import subprocess
import threading
import time

import httpx
import pytest
from pytest_mock import MockerFixture

from kabot_codex.auth import store as store_module
from kabot_codex.auth.credentials import Credentials, resolve_source
from kabot_codex.auth.login import run_login
from kabot_codex.auth.session import session_for
from kabot_codex.emulator import EmulatorControl
from kabot_codex.errors import NotLoggedInError, RefreshError, ReloginRequiredError
from tests.auth.conftest import PYTHON, store_profile, stored


def backend_status(emu: EmulatorControl, creds: Credentials) -> int:
    """One authenticated backend call with ``creds``: what the provider does on every request."""
    headers = {"Authorization": f"Bearer {creds.token}", "ChatGPT-Account-Id": creds.account_id or ""}
    response = httpx.get(f"{emu.codex_base}/models", params={"client_version": "0.130.0"}, headers=headers)
    return response.status_code


def refreshes(emu: EmulatorControl) -> int:
    return int(emu.stats()["requests"].get("oauth.token.refresh_token", 0))


def test_fresh_token_is_served_from_memory(issuer: EmulatorControl, mocker: MockerFixture) -> None:
    tokens = issuer.mint_tokens(ttl=3600)
    store_profile(tokens)
    session = session_for("default")
    first = session.get()
    assert first.token == tokens["access_token"] and first.mode == "chatgpt"
    assert first.account_id == tokens["account_id"] and first.profile == "default"
    parse = mocker.spy(store_module, "load_config")
    start = time.perf_counter()
    for _ in range(5000):
        assert session.get() is first
    per_call = (time.perf_counter() - start) / 5000
    assert parse.call_count == 0, "a fresh token must not re-read config.json"
    assert per_call < 100e-6, f"get() took {per_call * 1e6:.0f} µs"
    assert refreshes(issuer) == 0


def test_expiring_token_is_refreshed_once_and_saved(issuer: EmulatorControl) -> None:
    tokens = issuer.mint_tokens(ttl=120)  # inside the 5-minute window
    store_profile(tokens)
    session = session_for("default")
    creds = session.get()
    assert creds.token != tokens["access_token"]
    saved = stored()
    assert saved.access_token == creds.token
    assert saved.refresh_token not in (None, tokens["refresh_token"])  # the rotated one is on disk
    assert saved.expires_at and saved.expires_at > time.time() + 3000 and saved.last_refresh
    assert session.get() is not None and refreshes(issuer) == 1
    assert backend_status(issuer, creds) == 200


def test_threads_share_one_refresh(issuer: EmulatorControl) -> None:
    store_profile(issuer.mint_tokens(ttl=120))
    barrier = threading.Barrier(16)
    seen: list[str] = []

    def worker() -> None:
        barrier.wait()
        seen.append(session_for("default").get().token)

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(seen) == 16 and len(set(seen)) == 1
    stats = issuer.stats()
    assert stats["refresh_successes"] == 1 and stats["refresh_reuse_errors"] == 0


async def test_async_fan_out_shares_one_refresh(issuer: EmulatorControl) -> None:
    store_profile(issuer.mint_tokens(ttl=120))
    sources = [resolve_source() for _ in range(100)]
    results = await asyncio.gather(*(s.aget() for s in sources))
    assert len({c.token for c in results}) == 1
    assert issuer.stats()["refresh_successes"] == 1


async def test_aget_with_a_fresh_token_stays_on_the_loop(issuer: EmulatorControl) -> None:
    store_profile(issuer.mint_tokens(ttl=3600))
    loop = asyncio.get_running_loop()
    for _ in range(50):
        await session_for("default").aget()
    # The default executor is created lazily by the first thread hop: none happened.
    assert getattr(loop, "_default_executor", None) is None


async def test_cancelled_waiter_does_not_cancel_the_refresh(issuer: EmulatorControl) -> None:
    store_profile(issuer.mint_tokens(ttl=120))
    issuer.fault("hang", target="oauth", seconds=0.5)
    session = session_for("default")
    doomed = asyncio.create_task(session.aget())
    survivor = asyncio.create_task(session.aget())
    await asyncio.sleep(0.1)
    doomed.cancel()
    creds = await survivor
    assert creds.token == stored().access_token and issuer.stats()["refresh_successes"] == 1


def test_401_recovers_with_one_refresh_and_one_retry(issuer: EmulatorControl) -> None:
    store_profile(issuer.mint_tokens(ttl=3600))
    source = resolve_source()
    creds = source.get()
    assert backend_status(issuer, creds) == 200
    issuer.expire_access_tokens()  # the backend now rejects it mid-session
    assert backend_status(issuer, creds) == 401
    retry = source.recover(creds)
    assert retry.token != creds.token
    assert backend_status(issuer, retry) == 200
    assert refreshes(issuer) == 1
    assert source.get() is not None and refreshes(issuer) == 1


def test_401_uses_the_token_another_process_refreshed(issuer: EmulatorControl,
                                                      child_env: dict[str, str]) -> None:
    store_profile(issuer.mint_tokens(ttl=3600))
    session = session_for("default")
    mine = session.get()
    code = ("from kabot_codex.auth.session import session_for as s\n"
            "c = s('default').get()\nprint(s('default').recover(c).token != c.token)")
    out = subprocess.run([PYTHON, "-c", code], env=child_env, capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "True", out.stderr
    assert refreshes(issuer) == 1
    retry = session.recover(mine)  # re-reads the store: no second refresh
    assert retry.token == stored().access_token != mine.token
    assert refreshes(issuer) == 1


def test_revoked_login_gives_the_relogin_error_once(issuer: EmulatorControl) -> None:
    store_profile(issuer.mint_tokens(ttl=3600))
    session = session_for("default")
    creds = session.get()
    issuer.revoke_refresh_tokens()
    issuer.expire_access_tokens()
    with pytest.raises(ReloginRequiredError) as info:
        session.recover(creds)
    assert info.value.code == "refresh_token_invalidated"
    assert "kabot login" in str(info.value) and not info.value.retryable
    with pytest.raises(ReloginRequiredError):
        session.recover(creds)
    assert refreshes(issuer) == 1, "a dead refresh token is not tried again"


def test_dead_login_still_serves_a_valid_token_then_fails(issuer: EmulatorControl) -> None:
    store_profile(issuer.mint_tokens(ttl=120))
    issuer.revoke_refresh_tokens()
    session = session_for("default")
    # Valid for two more minutes: the call goes through, nothing loops.
    assert session.get().token == stored().access_token
    assert session.get() is not None and refreshes(issuer) == 1
    store_profile(issuer.mint_tokens(ttl=0))
    issuer.revoke_refresh_tokens()
    with pytest.raises(ReloginRequiredError):
        session_for("default").get()


def test_transient_issuer_failure_keeps_the_valid_token(issuer: EmulatorControl) -> None:
    tokens = issuer.mint_tokens(ttl=120)
    store_profile(tokens)
    issuer.fault("server_error", target="oauth")
    session = session_for("default")
    assert session.get().token == tokens["access_token"]
    assert session.get().token == tokens["access_token"]  # backing off: no second attempt yet
    assert refreshes(issuer) == 1 and stored().refresh_token == tokens["refresh_token"]


def test_transient_failure_with_an_expired_token_is_retryable(issuer: EmulatorControl) -> None:
    store_profile(issuer.mint_tokens(ttl=0))
    issuer.fault("server_error", target="oauth")
    with pytest.raises(RefreshError) as info:
        session_for("default").get()
    assert info.value.retryable and not isinstance(info.value, ReloginRequiredError)
    assert session_for("default").get().token == stored().access_token  # next call succeeds


def test_new_login_replaces_the_cached_one(issuer: EmulatorControl) -> None:
    store_profile(issuer.mint_tokens(ttl=3600))
    session = session_for("default")
    session.get()
    again = issuer.mint_tokens(ttl=3600)
    store_profile(again)
    assert session.get().token == again["access_token"]


def test_api_key_profile(issuer: EmulatorControl) -> None:
    run_login("api-key", api_key="sk-test-api-key-123456")
    source = resolve_source()
    creds = source.get()
    assert creds.mode == "api_key" and creds.token == "sk-test-api-key-123456"
    with pytest.raises(NotLoggedInError) as info:
        source.recover(creds)
    assert "sk-test" not in str(info.value) and "kabot login" in str(info.value)


def test_profiles_side_by_side(issuer: EmulatorControl) -> None:
    a = issuer.mint_tokens(ttl=3600, account_id="acct-a", email="a@x.test")
    b = issuer.mint_tokens(ttl=3600, account_id="acct-b", email="b@x.test")
    store_profile(a, "work")
    store_profile(b, "home")  # now active
    assert resolve_source().get().account_id == "acct-b"
    assert resolve_source(profile="work").get().account_id == "acct-a"


def test_missing_profile_says_how_to_log_in(issuer: EmulatorControl) -> None:
    with pytest.raises(NotLoggedInError) as info:
        session_for("nobody").get()
    assert "kabot login --profile nobody" in str(info.value)


def test_a_login_that_lands_during_the_refresh_wins(issuer: EmulatorControl, mocker: MockerFixture) -> None:
    from kabot_codex.auth import oauth

    store_profile(issuer.mint_tokens(ttl=120))  # due for a refresh
    newer = issuer.mint_tokens(ttl=3600, account_id="acct-new-login")
    real_refresh = oauth.refresh

    def refresh_while_someone_logs_in(*args, **kwargs):  # type: ignore[no-untyped-def]
        fresh = real_refresh(*args, **kwargs)
        store_profile(newer)  # `kabot login` in another terminal, while our HTTP call ran
        return fresh

    mocker.patch.object(oauth, "refresh", refresh_while_someone_logs_in)
    creds = session_for("default").get()
    assert creds.token == newer["access_token"] and creds.account_id == "acct-new-login"
    assert stored().access_token == newer["access_token"]  # the refreshed old login was not written over it
