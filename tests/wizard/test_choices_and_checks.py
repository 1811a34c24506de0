"""Issue 10 (wizard half): fallbacks that help at a usage limit, typo checks, a truthful wizard."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from click.testing import CliRunner
from rich.console import Console

import kabot_codex.wizard.setup_command  # noqa: F401  (adds `setup` to the group)
from kabot_codex.cli import cli
from kabot_codex.config import config_path, load_config
from kabot_codex.errors import SetupAborted, UnknownModelError
from kabot_codex.wizard.choices import SAME_ACCOUNT_NOTE
from kabot_codex.wizard.flow import SetupOptions, run_setup
from kabot_codex.wizard.model_check import known_model
from kabot_codex.wizard.prompter import ScriptedPrompter
from tests.catalog.helpers import save_profile

S = ScriptedPrompter


def invoke(*args: str) -> Any:
    return CliRunner().invoke(cli, ["setup", *args], catch_exceptions=False)


# --- fallbacks (item 2) -------------------------------------------------------------------------

def test_fallbacks_from_another_provider_come_first(logged_in: None) -> None:
    prompter = S({"login": "keep", "primary": "openai-codex/gpt-5.5", "fallbacks": S.DEFAULT,
                  "fallback_1": S.DEFAULT, "openai_api_key": "", "probe": False})
    out = io.StringIO()
    run_setup(SetupOptions(), prompter=prompter, console=Console(file=out, width=200))
    question = next(q for q in prompter.asked if q.name == "fallbacks")
    assert "usage limit covers every openai-codex model of your account" in out.getvalue()
    assert "other providers first" in question.message
    providers = [value.split("/", 1)[0] for value in question.values]
    # Every other-provider model before any same-account one.
    assert providers == sorted(providers, key=lambda p: p == "openai-codex")
    assert providers[0] == "openai" and "openai-codex" in providers
    same = [c for c in question.choices if c.value.startswith("openai-codex/") and not c.title.startswith("✗")]
    assert same and all(SAME_ACCOUNT_NOTE in c.title for c in same)
    assert not any(SAME_ACCOUNT_NOTE in c.title for c in question.choices if c.value.startswith("openai/"))


def test_every_picker_line_fits_in_80_columns(logged_in: None) -> None:
    # questionary crops a choice at the terminal's edge; its own prefix ("   ○ ") takes 5 columns.
    prompter = S({"login": "keep", "primary": "openai-codex/gpt-5.5", "fallbacks": S.DEFAULT,
                  "fallback_1": S.DEFAULT, "openai_api_key": "", "probe": False})
    run_setup(SetupOptions(), prompter=prompter, console=Console(file=io.StringIO()))
    for question in prompter.asked:
        for choice in question.choices:
            assert len(choice.title) + 5 <= 80, choice.title


def test_a_same_account_fallback_is_called_out(logged_in: None) -> None:
    out = io.StringIO()
    result = run_setup(SetupOptions(non_interactive=True, login="keep", primary="gpt-5.5",
                                    fallbacks=["gpt-5.4-mini"]),
                       prompter=S({}), console=Console(file=out, width=200))
    assert result.fallbacks == ["openai-codex/gpt-5.4-mini"]
    assert any("share" in note and "usage limit" in note for note in result.notes)
    assert "not when the account hits its usage limit" in out.getvalue()


# --- model checks (item 3) ----------------------------------------------------------------------

@pytest.mark.parametrize(("args", "expected"), [
    (("--primary", "gpt-5.55"), "openai-codex/gpt-5.5"),
    (("--primary", "openai-codex/"), "openai-codex/gpt-"),
    (("--primary", "gpt-5.5", "--fallback", "bogus/provider-x"), "unknown provider 'bogus'"),
    (("--primary", "gpt-5.5", "--fallback", "openai/gpt-4o-mni"), "openai/gpt-4o-mini"),
])
def test_a_typo_is_refused_with_the_closest_matches(logged_in: None, args: tuple[str, ...], expected: str) -> None:
    result = invoke("--non-interactive", "--login", "keep", "--no-probe", *args)
    assert result.exit_code == 1, result.output
    assert "error:" in result.output and "fix:" in result.output
    assert expected in result.output
    # A missing model name is never right; everything else may be a model we cannot know.
    assert ("--force" in result.output) == (args[1] != "openai-codex/")
    assert load_config().agents.defaults.model_order() is None  # nothing saved


def test_force_saves_an_unknown_model(logged_in: None) -> None:
    result = invoke("--non-interactive", "--login", "keep", "--no-probe", "--primary", "gpt-5.55",
                    "--fallback", "bogus/provider-x", "--force")
    assert result.exit_code == 0, result.output
    saved = json.loads(config_path().read_text())["agents"]["defaults"]["model"]
    assert saved == {"primary": "openai-codex/gpt-5.55", "fallbacks": ["bogus/provider-x"]}
    # A forced model already saved is kept by a later run without --force.
    again = invoke("--non-interactive", "--login", "keep", "--no-probe")
    assert again.exit_code == 0, again.output


def test_known_models_pass_through_every_source() -> None:
    assert known_model("gpt-5.5") == "openai-codex/gpt-5.5"
    assert known_model("openai/gpt-4o-mini") == "openai/gpt-4o-mini"  # the catalog
    assert known_model("openai/gpt-4.1-nano") == "openai/gpt-4.1-nano"  # LiteLLM's model map
    assert known_model("ollama/anything-local") == "ollama/anything-local"  # a provider LiteLLM knows
    assert known_model("openai-codex/gpt-9-preview", listed={"gpt-9-preview"}) == "openai-codex/gpt-9-preview"
    with pytest.raises(UnknownModelError):
        known_model("openai-codex/gpt-9-preview")


# --- truthfulness (item 5) ----------------------------------------------------------------------

def _fake_login(method: str, *, profile: str, console: Console, **_: Any) -> None:
    save_profile(method=method)
    from kabot_codex.config import edit_config

    with edit_config() as config:
        stored = config.codex.profiles[profile]
        stored.email, stored.plan = "new.user@example.com", "plus"


def test_the_wizard_says_who_is_logged_in() -> None:
    out = io.StringIO()
    run_setup(SetupOptions(non_interactive=True, login="device", probe=False), prompter=S({}),
              console=Console(file=out, width=200), login=_fake_login)
    assert "Logged in as new.user@example.com (plus plan)" in out.getvalue()


def test_ctrl_c_after_the_login_says_the_login_was_saved() -> None:
    prompter = S({"login": "device", "primary": S.ABORT})
    with pytest.raises(SetupAborted) as info:
        run_setup(SetupOptions(), prompter=prompter, console=Console(file=io.StringIO()), login=_fake_login)
    assert info.value.hint is not None
    assert "login was saved" in info.value.hint and "model order was not changed" in info.value.hint
    assert load_config().agents.defaults.model_order() is None


def test_ctrl_c_before_anything_was_saved_says_nothing_changed(logged_in: None) -> None:
    with pytest.raises(SetupAborted) as info:
        run_setup(SetupOptions(), prompter=S({"login": "keep", "primary": S.ABORT}),
                  console=Console(file=io.StringIO()))
    assert info.value.hint is not None and "nothing was changed" in info.value.hint
