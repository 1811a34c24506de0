"""An account pool through the real Router, our provider and the emulator (three ChatGPT accounts)."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from click.testing import CliRunner

import kabot_codex
import kabot_codex.wizard.setup_command  # noqa: F401  (adds `setup` to the group)
from kabot_codex.cli import cli
from kabot_codex.config import config_path
from kabot_codex.emulator import EmulatorControl
from kabot_codex.wizard.apply import apply_setup
from tests.catalog.helpers import save_profile
from tests.routing.conftest import FALLBACKS, PRIMARY, counts, hi

ACCOUNTS = {"alice": "acct-alice", "bob": "acct-bob", "carol": "acct-carol"}
CALLS = 18


@pytest.fixture
def pool(emu: EmulatorControl, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Three logged-in profiles, one ChatGPT account each, saved as the pool of the primary."""
    monkeypatch.setenv("OPENAI_CODEX_API_BASE", emu.codex_base)
    monkeypatch.setenv("OPENAI_CODEX_AUTH_BASE", emu.auth_base)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-routing")
    monkeypatch.setenv("OPENAI_API_BASE", emu.openai_base)
    for profile, account in ACCOUNTS.items():
        save_profile(emu.mint_tokens(account_id=account, email=f"{profile}@kabot-emulator.test"), profile=profile)
    apply_setup(PRIMARY, FALLBACKS, pool=list(ACCOUNTS))
    return list(ACCOUNTS)


def per_account(emu: EmulatorControl) -> Counter[str]:
    """Requests that reached the Codex backend, by ChatGPT account."""
    by_id = {v: k for k, v in ACCOUNTS.items()}
    return Counter(by_id.get(r["headers"].get("chatgpt-account-id"), "?")
                   for r in emu.requests(path_contains="/codex/responses"))


def test_one_deployment_per_account_in_the_primary_and_alias_groups(pool: list[str]) -> None:
    router = kabot_codex.build_router()
    names = [d["model_name"] for d in router.model_list]
    assert names == [PRIMARY] * 3 + FALLBACKS + ["kabot"] * 3
    pinned = [d["litellm_params"].get("kabot_profile") for d in router.model_list if d["model_name"] == "kabot"]
    assert pinned == pool
    assert router.fallbacks[0] == {"kabot": FALLBACKS}
    shown = CliRunner().invoke(cli, ["router", "show"], catch_exceptions=False).output
    assert "served by the account pool: alice, bob, carol" in shown
    # An explicit empty pool builds the plain order (one deployment per model).
    assert [d["model_name"] for d in kabot_codex.build_router(pool=[]).model_list] == [PRIMARY, *FALLBACKS, "kabot"]


def test_a_limited_account_is_skipped_while_the_others_serve(pool: list[str], emu: EmulatorControl) -> None:
    emu.fault("usage_limit", count=0, account_id=ACCOUNTS["bob"], resets_in_seconds=3600)
    router = kabot_codex.build_router()
    answers = [router.completion(model="kabot", messages=hi()).choices[0].message.content for _ in range(CALLS)]
    # Every call answered by the primary, none by the paid fallbacks.
    assert all("gpt-5.5" in a for a in answers), answers
    seen = per_account(emu)
    assert seen["bob"] <= 1  # asked at most once: the reply that revealed the limit
    assert seen["alice"] + seen["carol"] == CALLS and seen["alice"] > 0 and seen["carol"] > 0
    assert counts(emu)["openai"] == 0
    print(f"pool one limited: requests per account {dict(seen)}")


async def test_only_when_every_account_is_limited_do_the_fallbacks_answer(pool: list[str],
                                                                          emu: EmulatorControl) -> None:
    router = kabot_codex.build_router()
    for _ in range(6):
        assert "gpt-5.5" in (await router.acompletion(model="kabot", messages=hi())).choices[0].message.content
    served = per_account(emu)
    for account in ACCOUNTS.values():
        emu.fault("usage_limit", count=0, account_id=account, resets_in_seconds=3600)
    answers = [(await router.acompletion(model="kabot", messages=hi())).choices[0].message.content
               for _ in range(8)]
    assert all("gpt-5.2-codex" in a for a in answers), answers
    after = per_account(emu) - served
    # Each account was asked at most once more (to learn its limit), then never again.
    assert all(after[p] <= 1 for p in ACCOUNTS), after
    assert counts(emu)["openai"] == 8
    print(f"pool all limited: extra requests per account {dict(after)}, fallback answers 8")


def test_setup_saves_the_pool_and_status_shows_each_accounts_headroom(pool: list[str],
                                                                      emu: EmulatorControl) -> None:
    result = CliRunner().invoke(cli, ["setup", "--non-interactive", "--login", "keep", "--profile", "alice",
                                      "--primary", PRIMARY, "--pool", "alice", "--pool", "carol",
                                      "--fallback", FALLBACKS[0], "--no-probe"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    config = json.loads(config_path().read_text())
    assert config["agents"]["defaults"]["pool"] == ["alice", "carol"]
    assert config["agents"]["defaults"]["model"] == {"primary": PRIMARY, "fallbacks": [FALLBACKS[0]]}

    emu.fault("usage_limit", count=0, account_id=ACCOUNTS["carol"], resets_in_seconds=3600)
    router = kabot_codex.build_router()
    for _ in range(6):
        router.completion(model="kabot", messages=hi())
    status = CliRunner().invoke(cli, ["status", "--json"], catch_exceptions=False)
    rows = {r["profile"]: r for r in json.loads(status.output)["pool"]}
    assert rows["carol"]["limited_until"] is not None and rows["carol"]["headroom_percent"] == 0
    assert 0 < rows["alice"]["headroom_percent"] < 100 and rows["alice"]["window"] == "5h"
    text = CliRunner().invoke(cli, ["status"], catch_exceptions=False).output
    assert "account pool" in text and "alice:" in text and "% left" in text and "usage limit reached" in text
    assert "acct-" not in text and "acct-" not in status.output  # no account ids


def test_setup_refuses_a_pool_profile_without_a_login(pool: list[str]) -> None:
    result = CliRunner().invoke(cli, ["setup", "--non-interactive", "--login", "keep", "--profile", "alice",
                                      "--primary", PRIMARY, "--pool", "alice", "--pool", "dave", "--no-probe"])
    assert result.exit_code == 1
    assert "dave" in result.output and "kabot login --profile dave" in result.output


def test_a_damaged_pool_setting_is_named_and_does_not_hide_the_logins(pool: list[str]) -> None:
    from kabot_codex.config import edit_config
    from kabot_codex.errors import ConfigError

    with edit_config() as config:
        config.agents.defaults.pool = "alice"  # a string, not a list
    with pytest.raises(ConfigError) as info:
        kabot_codex.build_router()
    assert "agents.defaults.pool" in info.value.message
    status = CliRunner().invoke(cli, ["status", "--json"], catch_exceptions=False)
    assert status.exit_code == 0
    data = json.loads(status.output)
    assert {r["profile"] for r in data["profiles"]} == set(ACCOUNTS) and data["pool"] == []
    assert any("agents.defaults.pool" in w for w in data["warnings"])
