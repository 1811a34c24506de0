"""Browser and device-code logins end to end: a test plays the browser / the approving user."""

from __future__ import annotations

import io
import os
import socket
import stat
import sys
import threading
import time
from collections.abc import Callable
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import httpx
import pytest
from pytest_mock import MockerFixture
from rich.console import Console

from kabot_codex.auth.login import run_login
from kabot_codex.auth.session import session_for
from kabot_codex.config import config_path, load_config
from kabot_codex.emulator import EmulatorControl
from kabot_codex.errors import LoginError, LoginTimeoutError

pytestmark = pytest.mark.usefixtures("loopback_ports")


def quiet_console() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, width=400, force_terminal=False), out


def desktop(mocker: MockerFixture) -> None:
    """Look like a desktop session (a display, no SSH): kabot then opens the browser itself."""
    mocker.patch.dict(os.environ, {"DISPLAY": ":0"})
    for name in ("SSH_CONNECTION", "SSH_CLIENT", "SSH_TTY"):
        os.environ.pop(name, None)


def fake_browser(mocker: MockerFixture, tamper: Callable[[str], str] | None = None,
                 pages: list[str] | None = None) -> list[str]:
    """Patch the browser opener with one that signs in: it follows the authorize redirect to
    our loopback callback (optionally tampering with the redirect first). Like a real browser
    it runs apart from kabot (a thread here): the callback page waits for the code exchange.
    The callback pages it was shown go to ``pages``."""
    opened: list[str] = []

    def browse(url: str) -> None:
        with httpx.Client(trust_env=False, timeout=30) as browser:
            redirect = browser.get(url).headers["location"]
            page = browser.get(tamper(redirect) if tamper else redirect)
            if pages is not None:
                pages.append(page.text)

    def open_(url: str, *args: object, **kwargs: object) -> bool:
        opened.append(url)
        threading.Thread(target=browse, args=(url,), daemon=True).start()
        return True

    desktop(mocker)
    mocker.patch("webbrowser.open", side_effect=open_)
    return opened


def test_browser_login_end_to_end(issuer: EmulatorControl, mocker: MockerFixture) -> None:
    opened = fake_browser(mocker)
    console, out = quiet_console()
    saved = run_login("browser", console=console, paste=False, timeout=30)
    url = urlsplit(opened[0])
    query = parse_qs(url.query)
    assert url.path == "/oauth/authorize"
    assert query["client_id"] == ["app_EMoamEEZ73f0CkXaXp7hrann"]
    assert query["redirect_uri"] == ["http://localhost:1455/auth/callback"]
    assert query["code_challenge_method"] == ["S256"] and len(query["state"][0]) >= 32
    assert "offline_access" in query["scope"][0].split()
    assert query["codex_cli_simplified_flow"] == ["true"] and query["id_token_add_organizations"] == ["true"]
    assert opened[0] in out.getvalue(), "the URL is always printed"
    assert saved.method == "browser" and saved.email == "dev@kabot-emulator.test" and saved.plan == "plus"
    codex = load_config().codex
    assert codex.active_profile == "default" and codex.profiles["default"].refresh_token
    assert stat.S_IMODE(config_path().stat().st_mode) == 0o600
    assert stat.S_IMODE(config_path().parent.stat().st_mode) == 0o700
    exchange = issuer.requests(path_contains="/oauth/token")[-1]
    assert exchange["form"]["grant_type"] == "authorization_code"
    assert len(exchange["form"]["code_verifier"]) == 86
    assert session_for("default").get().token == codex.profiles["default"].access_token


def test_busy_port_falls_back_to_1457(issuer: EmulatorControl, mocker: MockerFixture) -> None:
    opened = fake_browser(mocker)
    with socket.socket() as blocker:
        blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # earlier tests leave TIME_WAITs
        blocker.bind(("127.0.0.1", 1455))
        blocker.listen()
        run_login("browser", profile="second", console=quiet_console()[0], paste=False, timeout=30)
    assert parse_qs(urlsplit(opened[0]).query)["redirect_uri"] == ["http://localhost:1457/auth/callback"]
    assert load_config().codex.profiles["second"].access_token


def _swap_state(redirect: str) -> str:
    parts = urlsplit(redirect)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query["state"] = "forged"
    return urlunsplit(parts._replace(query=urlencode(query)))


def test_state_mismatch_is_rejected(issuer: EmulatorControl, mocker: MockerFixture) -> None:
    fake_browser(mocker, tamper=_swap_state)
    console, out = quiet_console()
    with pytest.raises(LoginTimeoutError):
        run_login("browser", console=console, paste=False, timeout=3)
    assert "another login (an older tab?) reached kabot and was refused" in out.getvalue()
    assert not config_path().exists()
    assert "oauth.token.authorization_code" not in issuer.stats()["requests"]


def test_a_forged_callback_cannot_end_the_login(issuer: EmulatorControl, mocker: MockerFixture) -> None:
    """Any web page can make the browser call 127.0.0.1:1455; a callback with another state is
    refused (400) and the real one still completes the login."""
    pages: list[tuple[int, str]] = []

    def browse(url: str) -> None:
        with httpx.Client(trust_env=False, timeout=30) as browser:
            redirect = browser.get(url).headers["location"]
            forged = browser.get(_swap_state(redirect))
            pages.append((forged.status_code, forged.text))
            browser.get(redirect)

    def open_(url: str, *args: object, **kwargs: object) -> bool:
        threading.Thread(target=browse, args=(url,), daemon=True).start()
        return True

    desktop(mocker)
    mocker.patch("webbrowser.open", side_effect=open_)
    console, out = quiet_console()
    saved = run_login("browser", console=console, paste=False, timeout=15)
    assert saved.refresh_token and pages[0][0] == 400 and "another kabot login" in pages[0][1]
    assert issuer.stats()["requests"]["oauth.token.authorization_code"] == 1


def test_refused_authorization_ends_with_its_reason(issuer: EmulatorControl, mocker: MockerFixture) -> None:
    issuer.account(authorize_error="access_denied", authorize_error_description="missing_codex_entitlement")
    fake_browser(mocker)
    with pytest.raises(LoginError) as info:
        run_login("browser", console=quiet_console()[0], paste=False, timeout=30)
    assert info.value.code == "access_denied" and "not enabled" in str(info.value)
    assert not config_path().exists()


def test_browser_that_never_comes_back_times_out(issuer: EmulatorControl, mocker: MockerFixture) -> None:
    desktop(mocker)
    mocker.patch("webbrowser.open", return_value=False)
    start = time.monotonic()
    with pytest.raises(LoginTimeoutError) as info:
        run_login("browser", console=quiet_console()[0], paste=False, timeout=1)
    assert time.monotonic() - start < 5 and "ssh -L 1455:localhost:1455" in str(info.value)
    assert not config_path().exists()
    # The port is released: the next login can bind 1455 again.
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as HTTPServer does
        probe.bind(("127.0.0.1", 1455))


def test_no_open_only_prints(issuer: EmulatorControl, mocker: MockerFixture) -> None:
    opener = mocker.patch("webbrowser.open")
    with pytest.raises(LoginTimeoutError):
        run_login("browser", console=quiet_console()[0], open_browser=False, paste=False, timeout=0.5)
    opener.assert_not_called()


def test_device_login_with_pending_polls(issuer: EmulatorControl) -> None:
    issuer.account(device_pending_polls=2, device_interval="1")
    console, out = quiet_console()
    start = time.monotonic()
    saved = run_login("device", profile="headless", console=console, timeout=30)
    assert time.monotonic() - start >= 1.9, "the server's interval is honoured"
    stats = issuer.stats()["requests"]
    assert stats["oauth.device.usercode"] == 1 and stats["oauth.device.token"] == 3
    text = out.getvalue()
    assert f"{issuer.auth_base}/codex/device" in text
    user_code = issuer.requests(path_contains="deviceauth/token")[-1]["json"]["user_code"]
    assert user_code in text
    exchange = issuer.requests(path_contains="/oauth/token")[-1]
    assert exchange["form"]["redirect_uri"] == f"{issuer.auth_base}/deviceauth/callback"
    assert saved.method == "device" and load_config().codex.active_profile == "headless"


def test_device_login_times_out_and_writes_nothing(issuer: EmulatorControl) -> None:
    issuer.account(device_pending_polls=1000, device_interval="1")
    with pytest.raises(LoginTimeoutError):
        run_login("device", console=quiet_console()[0], timeout=1.5)
    assert not config_path().exists()


def test_device_login_not_enabled(issuer: EmulatorControl) -> None:
    issuer.fault("bad_request", target="oauth", status=404)
    with pytest.raises(LoginError):
        run_login("device", console=quiet_console()[0], timeout=5)
    assert not config_path().exists()


# --- the callback server under a hostile or impatient browser (issue 8, item 5) --------------

def _port_of(authorize_url: str) -> int:
    redirect = parse_qs(urlsplit(authorize_url).query)["redirect_uri"][0]
    return urlsplit(redirect).port or 0


def _idle_connection_first(mocker: MockerFixture, idle: list[socket.socket],
                           then: Callable[..., bool] | None) -> None:
    """Before the browser (if any) signs in, open a TCP connection that never sends a byte —
    what a browser's pre-connect does."""
    def open_(url: str, *args: object, **kwargs: object) -> bool:
        idle.append(socket.create_connection(("127.0.0.1", _port_of(url))))
        time.sleep(0.2)  # let the server accept it first
        return then(url) if then is not None else True

    desktop(mocker)
    mocker.patch("webbrowser.open", side_effect=open_)


def test_an_idle_connection_does_not_block_the_callback(issuer: EmulatorControl, mocker: MockerFixture) -> None:
    fake_browser(mocker)
    import webbrowser

    browser = webbrowser.open  # the fake that signs in
    idle: list[socket.socket] = []
    _idle_connection_first(mocker, idle, browser)
    try:
        saved = run_login("browser", console=quiet_console()[0], paste=False, timeout=15)
    finally:
        for sock in idle:
            sock.close()
    assert saved.refresh_token and idle


def test_timeout_holds_with_an_idle_connection(issuer: EmulatorControl, mocker: MockerFixture) -> None:
    idle: list[socket.socket] = []
    _idle_connection_first(mocker, idle, None)
    outcome: list[BaseException] = []

    def login() -> None:
        try:
            run_login("browser", console=quiet_console()[0], paste=False, timeout=1)
        except BaseException as exc:  # noqa: BLE001 (handed to the test thread)
            outcome.append(exc)

    worker = threading.Thread(target=login, daemon=True)
    start = time.monotonic()
    worker.start()
    worker.join(10)
    for sock in idle:
        sock.close()
    assert not worker.is_alive(), "the login ignored its timeout while a connection sat idle"
    assert time.monotonic() - start < 6
    assert len(outcome) == 1 and isinstance(outcome[0], LoginTimeoutError)


def test_cancel_needs_the_login_secret(issuer: EmulatorControl, mocker: MockerFixture) -> None:
    from kabot_codex.auth.callback import CallbackServer

    fake_browser(mocker)
    import webbrowser

    browser = webbrowser.open
    answers: list[int] = []

    def open_(url: str, *args: object, **kwargs: object) -> bool:
        # Any web page can send this request to the loopback port; it must not end the login.
        answers.append(httpx.get(f"http://127.0.0.1:{_port_of(url)}/cancel", timeout=5).status_code)
        answers.append(httpx.get(f"http://127.0.0.1:{_port_of(url)}/cancel?secret=guess", timeout=5).status_code)
        return browser(url)

    mocker.patch("webbrowser.open", side_effect=open_)
    saved = run_login("browser", console=quiet_console()[0], paste=False, timeout=15)
    assert saved.refresh_token and answers == [403, 403]
    # The holder of the secret (this login's own process) can still cancel it.
    with CallbackServer("state-x") as server:
        assert httpx.get(server.cancel_url, timeout=5).status_code == 200
        with pytest.raises(LoginError, match="cancelled"):
            server.wait(5)


def test_the_page_reports_a_failed_exchange(issuer: EmulatorControl, mocker: MockerFixture) -> None:
    first: list[str] = []

    def remember(redirect: str) -> str:
        first.append(redirect)
        return redirect

    fake_browser(mocker, tamper=remember)
    run_login("browser", profile="first", console=quiet_console()[0], paste=False, timeout=15)
    used_code = parse_qs(urlsplit(first[0]).query)["code"][0]

    def replay(redirect: str) -> str:
        # The second login's callback carries the first login's (spent) code: a replay.
        parts = urlsplit(redirect)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        query["code"] = used_code
        return urlunsplit(parts._replace(query=urlencode(query)))

    pages: list[str] = []
    fake_browser(mocker, tamper=replay, pages=pages)
    with pytest.raises(LoginError):
        run_login("browser", profile="second", console=quiet_console()[0], paste=False, timeout=15)
    deadline = time.monotonic() + 10
    while not pages and time.monotonic() < deadline:
        time.sleep(0.05)
    assert pages and "Login failed" in pages[0] and "Logged in" not in pages[0]
    assert "second" not in load_config().codex.profiles


def test_the_page_says_logged_in_only_after_the_exchange(issuer: EmulatorControl, mocker: MockerFixture) -> None:
    pages: list[str] = []
    fake_browser(mocker, pages=pages)
    run_login("browser", console=quiet_console()[0], paste=False, timeout=15)
    deadline = time.monotonic() + 10
    while not pages and time.monotonic() < deadline:
        time.sleep(0.05)
    assert pages and "Logged in" in pages[0]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the display check is Linux's")
def test_no_browser_is_started_without_a_display(issuer: EmulatorControl, mocker: MockerFixture) -> None:
    # Python's webbrowser would run a text browser (lynx, w3m) inside this terminal.
    mocker.patch.dict(os.environ, {}, clear=False)
    os.environ.pop("DISPLAY", None)
    os.environ.pop("WAYLAND_DISPLAY", None)
    opener = mocker.patch("webbrowser.open")
    console, out = quiet_console()
    with pytest.raises(LoginTimeoutError):
        run_login("browser", console=console, paste=False, timeout=0.5)
    opener.assert_not_called()
    assert "Open this URL:" in out.getvalue() and "ssh -L 1455:localhost:1455 host" in out.getvalue()
