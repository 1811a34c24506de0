"""The two interactive ChatGPT logins: browser (authorization code + PKCE) and device code.

Both end in the same code exchange (``oauth.exchange_code``) and return a ``TokenSet``;
nothing here writes to disk, so an interrupted login leaves no trace.
"""

from __future__ import annotations

import os
import sys
import time
import webbrowser

import httpx
from rich.console import Console
from rich.panel import Panel

from kabot_codex.auth import oauth
from kabot_codex.auth.callback import CALLBACK_PATH, PORTS, CallbackServer, parse_pasted
from kabot_codex.auth.pkce import make_state, make_verifier, s256_challenge
from kabot_codex.auth.tokens import TokenSet
from kabot_codex.errors import LoginError, LoginTimeoutError

__all__ = ["browser_login", "device_login", "is_headless"]

DEVICE_TIMEOUT = 900.0  # the issuer's device codes live 15 minutes
_DEVICE_DEFAULT_INTERVAL = 5.0


def is_headless() -> bool:
    """Guess whether a browser on this machine can reach our loopback port (no: SSH, no display)."""
    if any(os.environ.get(v) for v in ("SSH_CONNECTION", "SSH_CLIENT", "SSH_TTY")):
        return True
    if sys.platform.startswith("linux"):
        return not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return False


def _print_url(console: Console, url: str) -> None:
    # soft_wrap: let the terminal wrap, so the URL stays one copyable line.
    console.print(url, soft_wrap=True, highlight=False, markup=False)


def browser_login(*, console: Console, open_browser: bool = True, paste: bool | None = None,
                  timeout: float = 300.0) -> TokenSet:
    """Log in through the browser and return the tokens.

    The URL is always printed. With ``paste`` (None: auto-detect SSH/headless) no callback
    server runs: the user pastes the address the browser was redirected to, or the code.
    """
    verifier, state = make_verifier(), make_state()
    challenge = s256_challenge(verifier)
    if paste is None:
        paste = is_headless()
    if paste:
        redirect_uri = f"http://localhost:{PORTS[0]}{CALLBACK_PATH}"
        url = oauth.authorize_url(redirect_uri=redirect_uri, state=state, code_challenge=challenge)
        console.print("Open this address in a browser (on any machine) and sign in:")
        _print_url(console, url)
        if open_browser and not is_headless():
            _open(url, console)
        console.print("The browser then lands on a [bold]localhost[/] page that may not load. "
                      "Copy that page's full address and paste it here.")
        try:
            text = console.input("Redirect URL or code: ")
        except EOFError:
            raise LoginError("No input to read the redirect URL from",
                             hint="run `kabot login` in a terminal, or use `kabot login --device`") from None
        code = parse_pasted(text, state)
    else:
        with CallbackServer(state) as server:
            redirect_uri = server.redirect_uri
            url = oauth.authorize_url(redirect_uri=redirect_uri, state=state, code_challenge=challenge)
            console.print("Sign in to ChatGPT in your browser. If it does not open, visit:")
            _print_url(console, url)
            if open_browser:
                _open(url, console)
            with console.status("Waiting for the browser to finish the login… (Ctrl-C to cancel)"):
                code = server.wait(timeout)
    return oauth.exchange_code(code, verifier=verifier, redirect_uri=redirect_uri)


def _open(url: str, console: Console) -> None:
    try:
        opened = webbrowser.open(url)
    except Exception:  # a broken browser setup must not end the login: the URL is printed
        opened = False
    if not opened:
        console.print("[dim](Could not open a browser; use the address above.)[/]")


def _interval(value: object) -> float:
    # The issuer sends the interval as a string ("5"); never poll faster than once a second.
    try:
        return max(1.0, float(str(value).strip()))
    except ValueError:
        return _DEVICE_DEFAULT_INTERVAL


def device_login(*, console: Console, timeout: float = DEVICE_TIMEOUT) -> TokenSet:
    """Log in with a device code: show a code, poll until it is approved, exchange it."""
    base = oauth.auth_base()
    with httpx.Client(timeout=httpx.Timeout(15.0, connect=5.0), headers=oauth.request_headers()) as client:
        start = _post(client, f"{base}/api/accounts/deviceauth/usercode", {"client_id": oauth.CLIENT_ID})
        if start.status_code == 404:
            raise LoginError("Device-code login is not enabled on this issuer",
                             hint="use `kabot login --browser` (add `--paste` on a headless machine)")
        data = _ok_json(start, "start the device login")
        device_id, user_code = data.get("device_auth_id"), data.get("user_code") or data.get("usercode")
        if not isinstance(device_id, str) or not isinstance(user_code, str):
            raise LoginError("The issuer's device-code response is missing its code", hint="try again later")
        interval = _interval(data.get("interval", _DEVICE_DEFAULT_INTERVAL))
        console.print(Panel.fit(
            f"Open [bold]{base}/codex/device[/] and enter the code\n\n"
            f"    [bold cyan]{user_code}[/]\n\n"
            f"The code expires in {timeout / 60:.0f} minutes. Never enter a code someone else sent you.",
            title="Log in with a device code",
        ))
        deadline = time.monotonic() + timeout
        poll = {"device_auth_id": device_id, "user_code": user_code}
        with console.status("Waiting for approval… (Ctrl-C to cancel)"):
            while True:
                response = _post(client, f"{base}/api/accounts/deviceauth/token", poll)
                if response.status_code == 200:
                    grant = _ok_json(response, "finish the device login")
                    break
                if response.status_code == 429:
                    interval += 5.0  # told to slow down
                elif response.status_code not in (403, 404):  # 403/404: not approved yet
                    _ok_json(response, "finish the device login")
                if time.monotonic() + interval > deadline:
                    raise LoginTimeoutError(f"The device code was not approved within {timeout / 60:.0f} minutes")
                time.sleep(interval)
    code, verifier = grant.get("authorization_code"), grant.get("code_verifier")
    if not isinstance(code, str) or not isinstance(verifier, str):
        raise LoginError("The issuer approved the device but sent no authorization code", hint="try again")
    return oauth.exchange_code(code, verifier=verifier, redirect_uri=f"{base}/deviceauth/callback")


def _post(client: httpx.Client, url: str, body: dict[str, str]) -> httpx.Response:
    try:
        return client.post(url, json=body)
    except httpx.HTTPError as exc:
        raise LoginError(f"Could not reach {url.split('/api/')[0]} ({type(exc).__name__})",
                         hint="check the network and run `kabot login --device` again") from None


def _ok_json(response: httpx.Response, what: str) -> dict[str, object]:
    try:
        data = response.json()
    except ValueError:
        data = None
    if response.is_success and isinstance(data, dict):
        return data
    code, text = oauth.error_of(data)
    detail = f", {code}" if code else ""
    detail += f": {text}" if text else ""
    raise LoginError(f"Could not {what} (HTTP {response.status_code}{detail})", code=code,
                     hint="run `kabot login --device` again")
