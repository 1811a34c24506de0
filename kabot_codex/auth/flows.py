"""The two interactive ChatGPT logins: browser (authorization code + PKCE) and device code.

Both end in the same code exchange (``oauth.exchange_code``) and return a ``TokenSet``;
nothing here writes to disk, so an interrupted login leaves no trace.
"""

from __future__ import annotations

import os
import select
import sys
import time
import webbrowser

import httpx
from rich.console import Console
from rich.panel import Panel

from kabot_codex.auth import oauth
from kabot_codex.auth.callback import CallbackServer, parse_pasted
from kabot_codex.auth.pkce import make_state, make_verifier, s256_challenge
from kabot_codex.auth.tokens import TokenSet
from kabot_codex.errors import LoginError, LoginTimeoutError, StateMismatchError

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

    The loopback callback server always listens (1455, else 1457) and the URL is always
    printed. At the same time a pasted redirect URL or code is accepted on stdin — ``paste``
    None: when stdin is a terminal; True: always; False: never. Whichever arrives first wins.
    SSH/headless detection only changes the advice (port forwarding), never the server.
    """
    verifier, state = make_verifier(), make_state()
    challenge = s256_challenge(verifier)
    headless = is_headless()
    with CallbackServer(state) as server:
        redirect_uri = server.redirect_uri
        url = oauth.authorize_url(redirect_uri=redirect_uri, state=state, code_challenge=challenge)
        # Over SSH a browser would open on the remote machine, where nobody sees it; without a
        # display Python's webbrowser would start a text browser (lynx, w3m) in this terminal.
        if open_browser and not headless:
            console.print("Sign in to ChatGPT in your browser. If it does not open, visit:")
            _print_url(console, url)
            _open(url, console)
        else:
            console.print("Open this URL:")
            _print_url(console, url)
        reader = _PasteReader.for_stdin(paste)
        if headless:
            port = server.port
            console.print("This machine looks remote (SSH) or has no display: open the URL in a browser "
                          "on your own computer. For that browser to reach kabot, first run this on "
                          "your computer, in another terminal:")
            # On a line of its own and never wrapped: it is meant to be copied.
            console.print(f"    ssh -L {port}:localhost:{port} host", soft_wrap=True, highlight=False,
                          markup=False)
            if reader is not None:
                console.print("Or paste here the address the browser ends on (a page that does not load).")
        elif reader is not None:
            console.print("If the browser ends on a page that does not load, copy its full address "
                          "and paste it here.")
        code = _wait_for_code(server, reader, console, state, timeout)
        try:
            tokens = oauth.exchange_code(code, verifier=verifier, redirect_uri=redirect_uri)
        except LoginError as err:
            server.finish(err.message)
            raise
        server.finish(None)
    return tokens


_PROMPT = "Redirect URL or code: "


class _PasteReader:
    """Lines from stdin, read without blocking so the callback server can win the race.

    ``select`` + ``os.read`` on the file descriptor (no Python buffering): when the login ends,
    nothing is left half-read or stuck in a thread that would steal the next prompt's input.
    """

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._buffer = b""

    @classmethod
    def for_stdin(cls, paste: bool | None) -> _PasteReader | None:
        if paste is False or os.name == "nt":  # select() takes only sockets on Windows
            return None
        stream = sys.stdin
        try:
            if stream is None or (paste is None and not stream.isatty()):
                return None
            return cls(stream.fileno())
        except (ValueError, OSError):  # closed or not a real file (e.g. captured)
            return None

    def line(self, timeout: float) -> str | None:
        """Return the next full line, ``None`` if none arrived in time; raise EOFError at the end."""
        while b"\n" not in self._buffer:
            ready, _, _ = select.select([self._fd], [], [], max(timeout, 0.0))
            if not ready:
                return None
            chunk = os.read(self._fd, 65536)
            if not chunk:
                if self._buffer:
                    break
                raise EOFError
            self._buffer += chunk
            timeout = 0.0
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line.decode("utf-8", "replace")


def _wait_for_code(server: CallbackServer, reader: _PasteReader | None, console: Console,
                   state: str, timeout: float) -> str:
    """Return the code from whichever comes first: the browser's callback or a pasted line."""
    waiting = "Waiting for the browser to finish the login… (Ctrl-C to cancel)"
    if reader is None:
        with console.status(waiting):
            return _race(server, None, console, state, timeout)
    console.print(waiting)
    console.print(_PROMPT, end="")
    return _race(server, reader, console, state, timeout)


def _race(server: CallbackServer, reader: _PasteReader | None, console: Console, state: str,
          timeout: float) -> str:
    deadline = time.monotonic() + timeout
    prompting = reader is not None
    strays = 0
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            if prompting:
                console.print()
            raise LoginTimeoutError(f"The browser did not complete the login within {timeout:.0f} s")
        # Short slices keep Ctrl-C responsive and let either source win.
        code = server.poll(0.0 if reader is not None else min(remaining, 0.25))
        if code is not None:
            if prompting:
                console.print("\nThe browser completed the login.")
            return code
        if server.strays > strays:
            strays = server.strays
            console.print(("\n" if prompting else "") + "[yellow]note:[/] a sign-in from another login "
                          "(an older tab?) reached kabot and was refused; finish the sign-in in the newest "
                          "tab.", highlight=False)
            if reader is not None:
                console.print(_PROMPT, end="")
        if reader is None:
            continue
        try:
            text = reader.line(min(remaining, 0.25))
        except EOFError:
            # stdin is closed: paste is off, the callback server keeps waiting.
            reader = None
            console.print("\n[dim](no more input; waiting for the browser only)[/]")
            continue
        if text is None:
            continue
        if not text.strip():
            console.print("Nothing was pasted. Paste the address your browser was sent to, or keep "
                          "waiting for the browser.")
            console.print(_PROMPT, end="")
            continue
        try:
            return parse_pasted(text, state)
        except StateMismatchError as err:
            # Most likely an older tab's address: nothing was exchanged, so let the person retry.
            console.print(f"[red]{err.message}.[/] Paste the address from this login's tab.", highlight=False)
            console.print(_PROMPT, end="")


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
                             hint="use `kabot login --browser` (on SSH: forward the port, or paste the redirect)")
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
