"""One vocabulary, one error format, documented exit codes — for every `kabot` command."""

from __future__ import annotations

import json
import os
import socket
import subprocess
from pathlib import Path

import pexpect
import pytest
from click.testing import CliRunner

import kabot_codex.wizard.setup_command  # noqa: F401  (adds `setup` to the group)
from kabot_codex.cli import cli
from kabot_codex.config import config_path, load_config
from kabot_codex.emulator import EmulatorControl
from tests.auth.conftest import PYTHON, REPO, store_profile
from tests.auth.test_cli import KABOT
from tests.auth.test_import_codex import write_codex_login


def run(*args: str, input: str | None = None) -> tuple[int, str]:  # noqa: A002
    result = CliRunner(env={"COLUMNS": "200"}).invoke(cli, list(args), input=input)
    return result.exit_code, result.output


def assert_error_format(out: str) -> None:
    lines = [line for line in out.splitlines() if line.strip()]
    # Whatever the command printed before failing, the failure itself is error: then fix:.
    first = next((i for i, line in enumerate(lines) if line.startswith("error: ")), None)
    assert first is not None, out
    lines = lines[first:]
    assert any(line.startswith("fix: ") for line in lines[1:]), out
    assert "Traceback" not in out and "Usage:" not in out


@pytest.mark.parametrize("args", [
    ["login", "--device", "--api-key"],
    ["login", "--bogus-flag"],
    ["stauts"],
    ["setup", "--login", "nope"],
    ["login", "--timeout", "0"],
])
def test_usage_errors_share_the_format_and_exit_2(args: list[str]) -> None:
    code, out = run(*args)
    assert code == 2
    assert_error_format(out)


def test_a_typo_still_gets_a_suggestion() -> None:
    _, out = run("stauts")
    assert "Did you mean 'status'?" in out


def test_no_python_advice_in_cli_errors() -> None:
    code, out = run("router", "show")
    assert code == 1
    assert_error_format(out)
    assert "ModelOrder" not in out and "order=" not in out and "kabot setup" in out


def test_non_interactive_missing_answer_reads_well() -> None:
    code, out = run("setup", "--non-interactive", "--primary", "openai-codex/gpt-5.5")
    assert code == 2
    assert_error_format(out)
    assert "needs an answer and --non-interactive was given" not in out
    assert "--login browser|device|codex|api-key" in out


def test_keep_without_a_login_says_so() -> None:
    code, out = run("setup", "--non-interactive", "--login", "keep")
    assert code == 2
    assert_error_format(out)
    assert "no login to keep" in out and "not a valid answer" not in out
    assert not config_path().exists()


@pytest.mark.parametrize(("key", "why"), [
    ("sk-proj-ok but-split-0123456789", "whitespace"),
    ("AKIA0123456789abcdefghijkl", "start with sk-"),
    ("sk-short", "characters"),
])
def test_an_unlikely_api_key_gets_a_warning(key: str, why: str) -> None:
    code, out = run("login", "--api-key", input=key + "\n")
    assert code == 0, out
    assert "warning:" in out and why in out and key not in out
    assert load_config().codex.profiles["default"].api_key == key


def test_a_likely_api_key_gets_none() -> None:
    code, out = run("login", "--api-key", input="sk-proj-0123456789abcdefghijklmnop\n")
    assert code == 0 and "warning" not in out


def test_logout_with_nothing_stored_is_fine() -> None:
    code, out = run("logout")
    assert code == 0 and "Nothing to log out" in out
    assert "error" not in out


def test_logout_of_a_missing_profile_still_fails(issuer: EmulatorControl) -> None:
    store_profile(issuer.mint_tokens(ttl=3600))
    code, out = run("logout", "--profile", "nope")
    assert code == 1
    assert_error_format(out)


def test_one_flag_vocabulary_across_login_and_setup() -> None:
    for command in ("login", "setup"):
        _, help_text = run(command, "--help")
        assert "--no-browser" in help_text and "--import-codex" in help_text and "--paste" in help_text
        # Old spellings keep working but are not advertised.
        assert "--no-open" not in help_text and "--codex-auth-file" not in help_text


@pytest.mark.parametrize("spelling", [["--import-codex", "{path}"],
                                      ["--login", "codex", "--codex-auth-file", "{path}"]])
def test_setup_imports_the_codex_login_with_either_spelling(issuer: EmulatorControl, tmp_path: Path,
                                                           spelling: list[str]) -> None:
    auth = tmp_path / "codex" / "auth.json"
    auth.parent.mkdir()
    write_codex_login(auth, issuer.mint_tokens(ttl=3600))
    args = [a.format(path=auth) for a in spelling]
    code, out = run("setup", "--non-interactive", *args, "--primary", "openai-codex/gpt-5.5", "--no-fallbacks",
                    "--no-probe")
    assert code == 0, out
    assert load_config().codex.profiles["default"].codex_auth_file == str(auth)


def test_import_codex_does_not_go_with_another_login(tmp_path: Path) -> None:
    code, out = run("setup", "--non-interactive", "--login", "browser", "--import-codex", str(tmp_path / "a.json"))
    assert code == 2
    assert_error_format(out)


def test_probe_refuses_paid_calls_without_a_terminal_or_yes(emu: EmulatorControl,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-probe-0123456789")
    monkeypatch.setenv("OPENAI_API_BASE", emu.openai_base)
    code, out = run("models", "--probe")
    assert code == 2
    assert_error_format(out)
    assert "openai/gpt-4o-mini" in out and "--yes" in out
    requests = emu.stats()["requests"]
    assert not any(name.startswith(("openai.", "codex.responses")) for name in requests), requests


@pytest.mark.slow
def test_probe_asks_in_a_terminal(emu: EmulatorControl, child_env: dict[str, str]) -> None:
    env = {**child_env, "OPENAI_API_KEY": "sk-test-probe-0123456789", "OPENAI_API_BASE": emu.openai_base,
           "OPENAI_CODEX_API_BASE": emu.codex_base}
    child = pexpect.spawn(KABOT, ["models", "--probe"], env=env, cwd=str(REPO), encoding="utf-8",
                          timeout=30, dimensions=(40, 200))
    child.expect("billed by the OpenAI API")
    child.expect(r"Send them\? \[y/N\]")
    child.sendline("n")
    child.expect("nothing was sent")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 1
    assert not any(name.startswith("openai.") for name in emu.stats()["requests"])


def test_the_emulator_on_a_busy_port_says_so_in_one_line(child_env: dict[str, str]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = subprocess.run([PYTHON, "-m", "kabot_codex.emulator", "--port", str(port)], env=child_env,
                              capture_output=True, text=True, timeout=30)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert lines[0].startswith(f"error: cannot listen on 127.0.0.1:{port}") and lines[1].startswith("fix: ")


def test_status_json_is_unchanged_by_the_error_format(issuer: EmulatorControl) -> None:
    store_profile(issuer.mint_tokens(ttl=3600))
    code, out = run("status", "--json")
    assert code == 0 and json.loads(out)["profiles"][0]["profile"] == "default"


def test_exit_codes_are_documented() -> None:
    docs = (REPO / "docs" / "cli.md").read_text()
    for code in ("`0`", "`1`", "`2`", "`130`"):
        assert code in docs
    assert os.path.exists(REPO / "kabot_codex" / "cli" / "errors.py")


def test_setup_reads_keys_from_stdin_and_warns_about_arguments() -> None:
    code, out = run("setup", "--non-interactive", "--login", "api-key", "--api-key", "--primary",
                    "openai-codex/gpt-5.5", "--no-fallbacks", "--no-probe", input="sk-from-stdin-0123456789abcd\n")
    assert code == 0, out
    assert load_config().codex.profiles["default"].api_key == "sk-from-stdin-0123456789abcd"
    assert "`ps`" not in out and "sk-from-stdin" not in out
    code, out = run("setup", "--non-interactive", "--login", "api-key", "--api-key", "sk-on-argv-0123456789abcd",
                    "--primary", "openai-codex/gpt-5.5", "--no-fallbacks", "--no-probe")
    assert code == 0, out
    assert "warning:" in out and "`ps`" in out


def test_kabot_alone_shows_the_help() -> None:
    code, out = run()
    assert "Commands:" in out and "error:" not in out


def test_probe_counts_codex_models_as_paid_under_an_api_key(emu: EmulatorControl) -> None:
    assert run("login", "--api-key", input="sk-test-probe-0123456789abcdef\n")[0] == 0
    code, out = run("models", "--probe")
    assert code == 2 and "openai-codex/gpt-5.5" in out and "--yes" in out
