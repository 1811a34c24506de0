"""The setup flow through the resolution loop, with scripted answers (no terminal)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from rich.console import Console

from kabot_codex.config import config_path, edit_config, load_config
from kabot_codex.errors import InteractiveSessionRequired, SetupAborted, WizardError
from kabot_codex.wizard.flow import SetupOptions, run_setup
from kabot_codex.wizard.prompter import NonInteractivePrompter, ScriptedPrompter
from tests.catalog.helpers import save_profile

S = ScriptedPrompter


def quiet() -> Console:
    return Console(file=open("/dev/null", "w"), width=120)  # noqa: SIM115


def no_probe(models: Any, **_: Any) -> list[Any]:
    raise AssertionError("probe was not requested")


def run(options: SetupOptions, prompter: Any = None, **kwargs: Any) -> Any:
    kwargs.setdefault("probe", no_probe)
    return run_setup(options, prompter=prompter or NonInteractivePrompter(), console=quiet(), **kwargs)


def saved() -> dict[str, Any]:
    return json.loads(config_path().read_text())


def test_non_interactive_defaults_skip_the_retired_plan_primary(logged_in: None) -> None:
    result = run(SetupOptions(non_interactive=True, login="keep"))
    # gpt-5.3-codex (the plan's primary) is retired; the best bundled model replaces it.
    assert result.primary == "openai-codex/gpt-5.6-sol"
    assert result.fallbacks == ["openai/gpt-5.2-codex", "openai/gpt-4o-mini"]
    assert any("gpt-5.3-codex" in note for note in result.notes)
    assert saved()["agents"]["defaults"]["model"] == {
        "primary": "openai-codex/gpt-5.6-sol", "fallbacks": ["openai/gpt-5.2-codex", "openai/gpt-4o-mini"]}


def test_non_interactive_flags_win_and_other_settings_survive(logged_in: None) -> None:
    with edit_config() as config:
        config.providers["anthropic"] = config.provider("anthropic")
        config.providers["anthropic"].api_key = "sk-ant-keep-me"
    raw = saved()
    raw["channels"] = {"telegram": {"enabled": True}}  # a key this package does not know
    config_path().write_text(json.dumps(raw))
    run(SetupOptions(non_interactive=True, login="keep", primary="gpt-5.5",
                     fallbacks=["openai/gpt-4o-mini", "openai_codex/gpt-5.4-mini"]))
    data = saved()
    assert data["agents"]["defaults"]["model"] == {
        "primary": "openai-codex/gpt-5.5", "fallbacks": ["openai/gpt-4o-mini", "openai-codex/gpt-5.4-mini"]}
    assert data["channels"] == {"telegram": {"enabled": True}}
    assert data["providers"]["anthropic"]["api_key"] == "sk-ant-keep-me"
    assert data["providers"]["openai-codex"]["profiles"]["default"]["access_token"] == "at-dummy"


def test_non_interactive_keeps_the_existing_order(logged_in: None) -> None:
    run(SetupOptions(non_interactive=True, login="keep", primary="gpt-5.4", fallbacks=["openai/gpt-4o"]))
    run(SetupOptions(non_interactive=True, login="keep"))
    order = load_config().agents.defaults.model_order()
    assert (order.primary, order.fallbacks) == ("openai-codex/gpt-5.4", ["openai/gpt-4o"])


def test_non_interactive_without_login_names_the_flag() -> None:
    with pytest.raises(InteractiveSessionRequired) as info:
        run(SetupOptions(non_interactive=True, primary="gpt-5.5"))
    # Not logged in: the login question's default is "browser", which would need a person.
    assert info.value.hint is not None and "--login" in info.value.hint


def test_keep_without_a_login_is_an_error() -> None:
    # "keep" is only offered when there is a login to keep.
    with pytest.raises(WizardError, match="'keep' is not a valid answer for --login") as info:
        run(SetupOptions(non_interactive=True, login="keep"))
    assert info.value.hint is not None and "browser" in info.value.hint
    assert not config_path().exists()


def test_unsupported_primary_needs_allow_unsupported(logged_in: None) -> None:
    with pytest.raises(WizardError) as info:
        run(SetupOptions(non_interactive=True, login="keep", primary="openai-codex/gpt-5.3-codex"))
    assert "--allow-unsupported" in (info.value.hint or "")
    assert load_config().agents.defaults.model is None
    result = run(SetupOptions(non_interactive=True, login="keep", primary="openai-codex/gpt-5.3-codex",
                              allow_unsupported=True))
    assert result.primary == "openai-codex/gpt-5.3-codex"


def test_interactive_declining_an_unsupported_pick_asks_again(logged_in: None) -> None:
    prompter = S({
        "login": "keep",
        "primary": ["openai-codex/gpt-5.3-codex", "openai-codex/gpt-5.5"],
        "allow_unsupported": False,
        "fallbacks": ["openai/gpt-4o-mini", "openai-codex/gpt-5.4-mini", "openai/gpt-5.2-codex"],
        "fallback_1": "openai-codex/gpt-5.4-mini",
        "fallback_2": "openai/gpt-5.2-codex",
        "openai_api_key": "sk-test-fallback",
        "probe": False,
    })
    result = run(SetupOptions(), prompter)
    assert result.primary == "openai-codex/gpt-5.5"
    assert result.fallbacks == ["openai-codex/gpt-5.4-mini", "openai/gpt-5.2-codex", "openai/gpt-4o-mini"]
    names = [q.name for q in prompter.asked]
    assert names == ["login", "primary", "allow_unsupported", "primary", "fallbacks", "fallback_1",
                     "fallback_2", "openai_api_key", "probe"]
    primary_q = prompter.asked[1]
    titles = {c.value: c.title for c in primary_q.choices}
    assert titles["openai-codex/gpt-5.3-codex"].startswith("✗")
    assert titles["openai-codex/gpt-5.5"].startswith("•")
    assert primary_q.default == "openai-codex/gpt-5.6-sol"
    data = saved()
    assert data["providers"]["openai"]["api_key"] == "sk-test-fallback"


def test_existing_answers_become_prompt_defaults(logged_in: None) -> None:
    run(SetupOptions(non_interactive=True, login="keep", primary="gpt-5.4", fallbacks=["openai/gpt-4o"]))
    prompter = S({"login": S.DEFAULT, "primary": S.DEFAULT, "fallbacks": S.DEFAULT, "openai_api_key": "",
                  "probe": False})
    run(SetupOptions(), prompter, probe=no_probe)
    by_name = {q.name: q for q in prompter.asked}
    assert by_name["login"].default == "keep"
    assert by_name["primary"].default == "openai-codex/gpt-5.4"
    assert by_name["fallbacks"].default == ["openai/gpt-4o"]


def test_ctrl_c_before_the_end_writes_nothing(logged_in: None) -> None:
    before = config_path().read_bytes()
    prompter = S({"login": "keep", "primary": "openai-codex/gpt-5.5", "fallbacks": S.ABORT})
    with pytest.raises(SetupAborted):
        run(SetupOptions(), prompter)
    assert config_path().read_bytes() == before


def test_login_step_gets_the_method_and_its_options() -> None:
    calls: list[tuple[str, dict[str, Any]]] = []

    def fake_login(method: str, **kwargs: Any) -> None:
        calls.append((method, kwargs))
        save_profile()

    options = SetupOptions(non_interactive=True, login="browser", primary="gpt-5.5", fallbacks=[],
                           login_options={"browser": {"open_browser": False, "paste": True},
                                          "codex": {"copy": True}})
    run(options, login=fake_login)
    assert calls[0][0] == "browser"
    assert calls[0][1]["open_browser"] is False and calls[0][1]["paste"] is True
    assert calls[0][1]["profile"] == "default" and "copy" not in calls[0][1]
    assert saved()["agents"]["defaults"]["model"] == {"primary": "openai-codex/gpt-5.5", "fallbacks": []}


def test_api_key_login_key_is_offered_for_openai_fallbacks() -> None:
    seen: list[str] = []

    def fake_login(method: str, *, api_key: str, profile: str, console: Any) -> None:
        seen.append(api_key)
        with edit_config() as config:
            from kabot_codex.config import AuthProfile

            config.codex.profiles[profile] = AuthProfile(method="api-key", api_key=api_key)

    run(SetupOptions(non_interactive=True, login="api-key", api_key="sk-test-123", primary="gpt-5.5",
                     fallbacks=["openai/gpt-4o-mini"]), login=fake_login)
    assert seen == ["sk-test-123"]
    assert saved()["providers"]["openai"]["api_key"] == "sk-test-123"


def test_openai_key_not_asked_when_the_environment_has_one(logged_in: None,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    prompter = S({"login": "keep", "primary": "gpt-5.5", "fallbacks": ["openai/gpt-4o-mini"], "probe": False})
    run(SetupOptions(), prompter)
    assert "openai_api_key" not in [q.name for q in prompter.asked]
    assert "openai" not in saved()["providers"]


def test_probe_runs_on_the_chosen_order(logged_in: None) -> None:
    probed: list[list[str]] = []

    def fake_probe(models: list[str], **kwargs: Any) -> list[Any]:
        probed.append(list(models))
        return []

    run(SetupOptions(non_interactive=True, login="keep", primary="gpt-5.5", fallbacks=["openai/gpt-4o-mini"],
                     probe=True, openai_api_key="sk-x"), probe=fake_probe)
    assert probed == [["openai-codex/gpt-5.5", "openai/gpt-4o-mini"]]


def test_invalid_login_flag_is_rejected(logged_in: None) -> None:
    with pytest.raises(WizardError) as info:
        run(SetupOptions(non_interactive=True, login="telepathy"))
    assert "browser" in (info.value.hint or "")
