"""`kabot setup` in a real pseudo-terminal: the questionary UI driven with arrow keys."""

from __future__ import annotations

import json
import os
import re
import stat
import sys
from pathlib import Path

import pexpect
import pytest

from kabot_codex.config import edit_config
from kabot_codex.emulator import EmulatorControl
from tests.catalog.helpers import save_profile

DOWN = "\x1b[B"
ENTER = "\r"

pytestmark = pytest.mark.slow


def spawn(home: Path, emu: EmulatorControl, *, columns: int = 160) -> pexpect.spawn:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI", "KABOT", "_KABOT"))}
    env.update({
        "KABOT_HOME": str(home),
        "OPENAI_CODEX_API_BASE": emu.codex_base,
        "OPENAI_CODEX_AUTH_BASE": emu.auth_base,
        "OPENAI_API_BASE": emu.openai_base,
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "TERM": "xterm-256color",
        # pexpect never answers prompt_toolkit's cursor-position query; without this every prompt
        # waits ~1 s for the reply.
        "PROMPT_TOOLKIT_NO_CPR": "1",
    })
    return pexpect.spawn(sys.executable, ["-m", "kabot_codex.wizard.cli", "setup"], env=env, encoding="utf-8",
                         dimensions=(50, columns), timeout=60, cwd=str(Path(__file__).resolve().parents[2]))


def expect(child: pexpect.spawn, text: str) -> None:
    child.expect_exact(text)


def test_full_setup_with_arrow_keys(emu: EmulatorControl, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "pty-home"
    monkeypatch.setenv("KABOT_HOME", str(home))
    monkeypatch.setenv("OPENAI_CODEX_API_BASE", emu.codex_base)
    save_profile(emu.mint_tokens())  # an existing login, kept in the first question

    child = spawn(home, emu)
    try:
        expect(child, "Current setup")
        expect(child, "How do you want to log in?")
        child.send(ENTER)  # the default: keep the current login
        expect(child, "Loaded your account's model list")
        expect(child, "Primary model:")
        child.send(DOWN * 3 + ENTER)  # gpt-5.6-sol → terra → luna → gpt-5.5
        expect(child, "Fallback models")
        child.send(ENTER)  # keep the pre-checked defaults
        expect(child, "Fallback #1")
        child.send(DOWN + ENTER)  # try gpt-4o-mini before gpt-5.2-codex
        expect(child, "OpenAI API key for the openai/* fallbacks")
        child.send("sk-test-pty" + ENTER)
        expect(child, "Send a tiny test request")
        child.send("y")  # real calls through the provider to the emulator
        expect(child, "Connectivity check")
        expect(child, "Saved.")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 0, child.before
    config = home / "config.json"
    data = json.loads(config.read_text())
    assert data["agents"]["defaults"]["model"] == {
        "primary": "openai-codex/gpt-5.5", "fallbacks": ["openai/gpt-4o-mini", "openai/gpt-5.2-codex"]}
    assert data["providers"]["openai"]["api_key"] == "sk-test-pty"
    assert data["providers"]["openai-codex"]["profiles"]["default"]["method"] == "browser"
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    statuses = json.loads((home / "state" / "model_status.json").read_text())
    recorded = {model: r["status"] for per_account in statuses.values() for model, r in per_account.items()}
    assert recorded == {"openai-codex/gpt-5.5": "working", "openai/gpt-4o-mini": "working",
                        "openai/gpt-5.2-codex": "working"}
    counts = emu.stats()["requests"]
    assert counts["codex.responses"] == 1
    # LiteLLM sends gpt-5.2-codex through OpenAI's Responses API, gpt-4o-mini through chat.
    assert counts.get("openai.chat", 0) + counts.get("openai.responses", 0) == 2


def _abort_at_the_primary_question(child: pexpect.spawn) -> None:
    expect(child, "Primary model:")
    child.sendcontrol("c")
    expect(child, "Aborted")
    child.expect(pexpect.EOF)


def test_ctrl_c_in_a_terminal_writes_nothing(emu: EmulatorControl, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "pty-home"
    monkeypatch.setenv("KABOT_HOME", str(home))
    save_profile(emu.mint_tokens())
    before = (home / "config.json").read_bytes()
    child = spawn(home, emu)
    try:
        expect(child, "How do you want to log in?")
        child.send(ENTER)
        _abort_at_the_primary_question(child)
    finally:
        child.close()
    assert child.exitstatus == 130
    assert "nothing was changed" in ANSI.sub("", child.before)
    assert (home / "config.json").read_bytes() == before


def test_ctrl_c_after_a_login_says_what_was_saved(emu: EmulatorControl, tmp_path: Path) -> None:
    home = tmp_path / "pty-home"
    child = spawn(home, emu)
    try:
        expect(child, "How do you want to log in?")
        child.send(DOWN * 3 + ENTER)  # api-key
        expect(child, "OpenAI API key (sk-...)")
        child.send("sk-test-pty-abort" + ENTER)
        _abort_at_the_primary_question(child)
    finally:
        child.close()
    assert child.exitstatus == 130
    said = " ".join(ANSI.sub("", child.before).split())
    assert "the api-key login was saved (profile default); the model order was not changed" in said
    data = json.loads((home / "config.json").read_text())
    assert data["providers"]["openai-codex"]["profiles"]["default"]["method"] == "api-key"
    assert "model" not in data.get("agents", {}).get("defaults", {})


def test_api_key_login_in_a_terminal(emu: EmulatorControl, tmp_path: Path) -> None:
    home = tmp_path / "pty-home"
    child = spawn(home, emu)
    try:
        expect(child, "not logged in")
        expect(child, "How do you want to log in?")
        child.send(DOWN * 3 + ENTER)  # browser → device → codex → api-key
        expect(child, "OpenAI API key (sk-...)")
        child.send("sk-test-pty-login" + ENTER)
        expect(child, "Logged in")
        expect(child, " as an OpenAI API key, profile default.")
        expect(child, "Primary model:")
        child.send(ENTER)
        expect(child, "Fallback models")
        child.send(DOWN + " " + ENTER)  # also tick the second entry (openai/gpt-5-mini)
        expect(child, "Fallback #1")
        child.send(ENTER)
        expect(child, "Fallback #2")
        child.send(ENTER)
        expect(child, "OpenAI API key for the openai/* fallbacks")
        child.send(ENTER)  # accept the suggested key: the login's own
        expect(child, "Send a tiny test request")
        child.send("n")
        expect(child, "Saved.")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 0, child.before
    data = json.loads((home / "config.json").read_text())
    assert data["providers"]["openai-codex"]["profiles"]["default"] == {
        **data["providers"]["openai-codex"]["profiles"]["default"], "method": "api-key",
        "api_key": "sk-test-pty-login"}
    assert data["providers"]["openai"]["api_key"] == "sk-test-pty-login"
    order = data["agents"]["defaults"]["model"]
    # API-key login: the live list is not available; gpt-5.3-codex is usable with a key, so the
    # plan's primary stays the suggestion.
    assert order["primary"] == "openai-codex/gpt-5.3-codex"
    assert len(order["fallbacks"]) == 3 and "sk-test-pty-login" not in child.before


ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07|\r")
LONG_EMAIL = "first.middle.lastname.for-a-very-long-address@engineering.example-corporation.com"


def _final_output(child: pexpect.spawn) -> str:
    """Everything the wizard printed after its last prompt, as plain text."""
    child.expect_exact("Saved.")
    child.expect(pexpect.EOF)
    return "Saved." + ANSI.sub("", child.before)


def _snippet(screen: str) -> str:
    """The printed Python, from its first import to the Proxy advice, as a user would copy it."""
    lines = screen.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("import kabot_codex"))
    end = next(i for i, line in enumerate(lines) if i > start and "LiteLLM Proxy" in line)
    return "\n".join(lines[start:end])


@pytest.mark.parametrize("columns", [60, 80, 120])
def test_snippet_and_long_values_are_never_cropped(emu: EmulatorControl, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch, columns: int) -> None:
    home = tmp_path / "pty-home"
    monkeypatch.setenv("KABOT_HOME", str(home))
    save_profile(emu.mint_tokens())
    with edit_config() as config:
        config.codex.profiles["default"].email = LONG_EMAIL
    child = spawn(home, emu, columns=columns)
    try:
        expect(child, "How do you want to log in?")
        child.send(ENTER)  # keep
        expect(child, "Primary model:")
        child.send(ENTER)
        expect(child, "Fallback models")
        child.send(ENTER)
        expect(child, "Fallback #1")
        child.send(ENTER)
        expect(child, "OpenAI API key for the openai/* fallbacks")
        child.send(ENTER)
        expect(child, "Send a tiny test request")
        child.send("n")
        screen = _final_output(child)
    finally:
        child.close()
    assert child.exitstatus == 0, child.before
    print(f"--- final output at {columns} columns ---\n{screen}")  # shown with -s / on failure

    code = _snippet(screen)
    compile(code, f"<snippet pasted from a {columns}-column terminal>", "exec")  # a SyntaxError fails
    saved = json.loads((home / "config.json").read_text())["agents"]["defaults"]["model"]
    for model in (saved["primary"], *saved["fallbacks"]):
        assert json.dumps(model) in code
    # The Proxy hint names the export, which prints the safe start command (never a bare
    # `litellm --config`, which would serve the subscription without a master key).
    assert "kabot router export -o config.yaml" in screen and "litellm --config" not in screen
    assert "…" not in screen


def test_current_setup_panel_keeps_a_long_email_whole(emu: EmulatorControl, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "pty-home"
    monkeypatch.setenv("KABOT_HOME", str(home))
    save_profile(emu.mint_tokens())
    with edit_config() as config:
        config.codex.profiles["default"].email = LONG_EMAIL
    child = spawn(home, emu, columns=60)
    try:
        expect(child, "How do you want to log in?")
        shown = ANSI.sub("", child.before)
        child.sendcontrol("c")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert LONG_EMAIL in shown, shown
