"""The loopback server that receives the browser's OAuth redirect, and the paste fallback.

It binds 127.0.0.1 on port 1455 — the redirect URI registered for the Codex client — and
falls back to 1457, the other registered port, when 1455 is busy (another login running).
The redirect URI says ``localhost``, as the issuer expects. Checks follow Codex's order:
state first (CSRF), then ``error=``, then a missing code.
"""

from __future__ import annotations

import errno
import html
import queue
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from types import TracebackType
from urllib.parse import parse_qs, urlsplit

from kabot_codex.auth.redact import redact
from kabot_codex.errors import LoginError, LoginTimeoutError, StateMismatchError

__all__ = ["CALLBACK_PATH", "PORTS", "CallbackServer", "code_from_redirect", "parse_pasted"]

CALLBACK_PATH = "/auth/callback"
PORTS = (1455, 1457)

_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>kabot login</title></head>
<body style="font-family: sans-serif; margin: 3em"><h2>{title}</h2><p>{body}</p></body></html>"""


def code_from_redirect(params: dict[str, list[str]], expected_state: str, *, require_state: bool = True) -> str:
    """Return the authorization code from callback query ``params``, or raise the right error.

    A pasted value may lack its state (``require_state=False``): PKCE still binds the code to
    this login. A state that is present must always match.
    """
    def one(key: str) -> str | None:
        values = params.get(key)
        return values[0] if values else None

    state = one("state")
    if state != expected_state and (state is not None or require_state):
        raise StateMismatchError("The login callback's state does not match this login "
                                 "(a stale tab, or a forged request); nothing was saved")
    error = one("error")
    if error:
        description = redact(one("error_description") or "")[:300]
        if "missing_codex_entitlement" in description:
            raise LoginError("Codex is not enabled for this ChatGPT workspace", code=error,
                             hint="ask the workspace admin to enable Codex, or log in with another account")
        detail = f": {description}" if description else ""
        raise LoginError(f"The issuer refused the login ({error}){detail}", code=error,
                         hint="run `kabot login` again and approve the request")
    code = one("code")
    if not code:
        raise LoginError("The login callback carried no authorization code", code="missing_authorization_code",
                         hint="run `kabot login` again")
    return code


def parse_pasted(text: str, expected_state: str) -> str:
    """Return the code from what the user pasted: a redirect URL, a query string, ``code#state``
    or a bare code. The state is checked whenever it is present."""
    text = text.strip().strip("'\"")
    if not text:
        raise LoginError("Nothing was pasted", hint="run `kabot login` again and paste the address "
                                                    "your browser was sent to")
    if "://" in text:
        parts = urlsplit(text)
        return code_from_redirect(parse_qs(parts.query or parts.fragment), expected_state,
                                  require_state=False)
    if "=" in text:
        return code_from_redirect(parse_qs(text.lstrip("?#")), expected_state, require_state=False)
    if "#" in text:
        code, state = text.split("#", 1)
        return code_from_redirect({"code": [code], "state": [state]}, expected_state)
    return text


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        parts = urlsplit(self.path)
        if parts.path == "/cancel":
            self._reply(200, "Login cancelled", "Another login replaced this one.")
            self.server.deliver(LoginError("The login was cancelled by another login on this machine",
                                           hint="run `kabot login` again"))
            return
        if parts.path != CALLBACK_PATH:
            self._reply(404, "Not found", "")
            return
        try:
            code = code_from_redirect(parse_qs(parts.query), self.server.expected_state)
        except LoginError as err:
            status = 400 if isinstance(err, StateMismatchError) else 200
            self._reply(status, "Login failed", html.escape(err.message))
            self.server.deliver(err)
            return
        self._reply(200, "Logged in", "kabot is logged in. You can close this tab.")
        self.server.deliver(code)

    def _reply(self, status: int, title: str, body: str) -> None:
        page = _PAGE.format(title=title, body=body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(page)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(page)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        # The default writes the request line — with the authorization code — to stderr.
        return


class _Server(HTTPServer):
    def __init__(self, port: int, expected_state: str) -> None:
        self.expected_state = expected_state
        self.results: queue.Queue[str | LoginError] = queue.Queue()
        super().__init__(("127.0.0.1", port), _Handler)

    def deliver(self, result: str | LoginError) -> None:
        self.results.put(result)


class CallbackServer:
    """Serve the OAuth callback on 127.0.0.1 in a background thread until closed."""

    def __init__(self, expected_state: str, ports: tuple[int, ...] = PORTS) -> None:
        last: OSError | None = None
        for port in ports:
            try:
                self._server = _Server(port, expected_state)
                break
            except OSError as exc:
                if exc.errno not in (errno.EADDRINUSE, errno.EACCES):
                    raise
                last = exc
        else:
            raise LoginError(
                f"Ports {' and '.join(map(str, ports))} on 127.0.0.1 are busy (another login running?)",
                hint="finish or close the other login, or run `kabot login --paste` or `kabot login --device`",
            ) from last
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="kabot-login-callback", daemon=True)
        self._thread.start()

    @property
    def redirect_uri(self) -> str:
        """The redirect URI to send in the authorize request (the issuer expects ``localhost``)."""
        return f"http://localhost:{self.port}{CALLBACK_PATH}"

    def wait(self, timeout: float) -> str:
        """Block until the callback arrives; return its code or raise its error."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise LoginTimeoutError(f"The browser did not complete the login within {timeout:.0f} s")
            try:
                # Short waits keep Ctrl-C responsive.
                result = self._server.results.get(timeout=min(remaining, 0.25))
            except queue.Empty:
                continue
            if isinstance(result, LoginError):
                raise result
            return result

    def close(self) -> None:
        """Stop serving and release the port."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> CallbackServer:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
