"""`kabot login` (browser) in a real terminal: the callback server and the paste prompt race.

A test plays the browser: it opens the printed URL, signs in (the emulator redirects at once)
and either lets the redirect reach kabot's loopback server or pastes it at the prompt.
"""

from __future__ import annotations

import re

import httpx
import pexpect
import pytest

from kabot_codex.config import load_config
from kabot_codex.emulator import EmulatorControl
from tests.auth.conftest import REPO
from tests.auth.test_cli import KABOT

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("loopback_ports")]

URL = r"(http://127\.0\.0\.1:\d+/oauth/authorize\?\S+)"


def spawn(args: list[str], env: dict[str, str], *, ssh: bool) -> pexpect.spawn:
    env = {k: v for k, v in env.items() if not k.startswith("SSH_")}
    env.pop("DISPLAY", None)
    if ssh:
        env["SSH_CONNECTION"] = "10.0.0.2 50000 10.0.0.1 22"
    else:
        env["DISPLAY"] = ":0"  # a desktop; --no-open keeps any real browser shut
    return pexpect.spawn(KABOT, args, env=env, cwd=str(REPO), encoding="utf-8", timeout=30,
                         dimensions=(40, 400))


def sign_in(child: pexpect.spawn) -> str:
    """Open the printed URL like a browser and return where the issuer sends it."""
    child.expect(URL)
    location = httpx.get(child.match.group(1), follow_redirects=False).headers["location"]
    assert location.startswith("http://localhost:1455/auth/callback?")
    return location


def finish(child: pexpect.spawn) -> None:
    child.expect("Logged in")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before


def test_over_ssh_the_callback_server_still_listens(issuer: EmulatorControl, child_env: dict[str, str]) -> None:
    child = spawn(["login", "--profile", "ssh"], child_env, ssh=True)
    child.expect("Open this URL:")
    location = sign_in(child)
    child.expect(re.escape("ssh -L 1455:localhost:1455 host"))
    child.expect("Redirect URL or code")
    # The browser reaches kabot through the forwarded port: the callback wins the race.
    page = httpx.get(location, timeout=30)
    assert page.status_code == 200 and "Logged in" in page.text
    finish(child)
    assert load_config().codex.profiles["ssh"].refresh_token
    assert "If it does not open" not in (child.before or "")


def test_an_empty_line_asks_again_then_a_paste_wins(issuer: EmulatorControl, child_env: dict[str, str]) -> None:
    child = spawn(["login", "--no-open", "--profile", "pasted"], child_env, ssh=False)
    child.expect("Open this URL:")
    location = sign_in(child)
    child.expect("Redirect URL or code")
    child.sendline("")  # a stray Enter must not end the login
    child.expect("Nothing was pasted")
    child.expect("Redirect URL or code")
    child.sendline(location)
    finish(child)
    assert load_config().codex.profiles["pasted"].refresh_token


@pytest.mark.parametrize("flag", ["--no-browser", "--no-open"])
def test_no_browser_says_only_open_this_url(issuer: EmulatorControl, child_env: dict[str, str], flag: str) -> None:
    child = spawn(["login", flag], child_env, ssh=False)
    child.expect(URL)
    printed = child.before
    child.expect("Redirect URL or code")
    child.sendintr()
    child.expect(pexpect.EOF)
    child.close()
    assert "Open this URL:" in printed and "If it does not open" not in printed
    assert child.exitstatus == 130


def test_end_of_input_only_turns_paste_off(issuer: EmulatorControl, child_env: dict[str, str]) -> None:
    child = spawn(["login", "--profile", "eof"], child_env, ssh=True)
    location = sign_in(child)
    child.expect("Redirect URL or code")
    child.sendeof()  # Ctrl-D: nothing more will be typed
    child.expect("waiting for the browser only")
    page = httpx.get(location, timeout=30)
    assert "Logged in" in page.text
    finish(child)
    assert load_config().codex.profiles["eof"].refresh_token


def test_a_paste_from_another_login_asks_again(issuer: EmulatorControl, child_env: dict[str, str]) -> None:
    child = spawn(["login", "--no-browser", "--profile", "retry"], child_env, ssh=False)
    location = sign_in(child)
    child.expect("Redirect URL or code")
    child.sendline(re.sub(r"state=[^&]+", "state=from-an-old-tab", location))
    child.expect("does not match")
    child.expect("Redirect URL or code")
    child.sendline(location)
    finish(child)
    assert load_config().codex.profiles["retry"].refresh_token
