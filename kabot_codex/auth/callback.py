"""The loopback server that receives the browser's OAuth redirect, and parsing of pasted redirects.

It binds 127.0.0.1 on port 1455 — the redirect URI registered for the Codex client — and
falls back to 1457, the other registered port, when 1455 is busy (another login running).
The redirect URI says ``localhost``, as the issuer expects. Checks follow Codex's order:
state first (CSRF), then ``error=``, then a missing code. One thread per connection, a
secret-guarded ``/cancel``, and a page that waits for the code exchange's real outcome — see
docs/internals/login.md.
"""

from __future__ import annotations

import errno
import hmac
import html
import queue
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import parse_qs, urlsplit

from kabot_codex.auth.redact import redact
from kabot_codex.errors import LoginError, LoginTimeoutError, StateMismatchError

__all__ = ["CALLBACK_PATH", "PORTS", "CallbackServer", "code_from_redirect", "parse_pasted"]

CALLBACK_PATH = "/auth/callback"
PORTS = (1455, 1457)
OUTCOME_TIMEOUT = 60.0  # how long the browser tab waits for the code exchange to finish

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
        raise LoginError("Nothing was pasted", hint="paste the address your browser was sent to")
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


class _Arrival:
    """A callback that carried a code: its browser tab waits for the outcome of the exchange."""

    def __init__(self, code: str) -> None:
        self.code = code
        self._done = threading.Event()
        self._error: str | None = None

    def finish(self, error: str | None) -> None:
        if not self._done.is_set():
            self._error = error
            self._done.set()

    def outcome(self, timeout: float) -> tuple[bool, str]:
        """Wait for ``finish`` and return (ok, message) for the page."""
        if not self._done.wait(timeout):
            return False, "kabot did not finish the login in time; see the terminal."
        if self._error is None:
            return True, "kabot is logged in. You can close this tab."
        return False, self._error


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    # A connection that sends nothing (browsers pre-connect) gives up its thread after this.
    timeout = 30

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        parts = urlsplit(self.path)
        if parts.path == "/cancel":
            self._cancel(parse_qs(parts.query))
            return
        if parts.path != CALLBACK_PATH:
            self._reply(404, "Not found", "")
            return
        if self.server.taken.is_set():
            # Only the first callback counts; a reload of the tab must not start a second exchange.
            self._reply(409, "Already handled", "This login already received its callback; see the terminal.")
            return
        try:
            code = code_from_redirect(parse_qs(parts.query), self.server.expected_state)
        except StateMismatchError:
            # Not this login's callback (an older tab, or a page forging one): refuse it, but
            # do not let it end the login — that would be the same one-request DoS as /cancel.
            self.server.note_stray()
            self._reply(400, "Not this login",
                        "This sign-in belongs to another kabot login (an older tab?). Nothing was done: "
                        "finish the sign-in in the newest tab, or run kabot login again.")
            return
        except LoginError as err:
            self._reply(200, "Login failed", html.escape(err.message))
            self.server.deliver(err)
            return
        arrival = _Arrival(code)
        self.server.taken.set()
        self.server.deliver(arrival)
        ok, message = arrival.outcome(self.server.outcome_timeout)
        self._reply(200, "Logged in" if ok else "Login failed", html.escape(message))

    def _cancel(self, params: dict[str, list[str]]) -> None:
        # Without the per-login secret any web page could end a running login with one request.
        given = (params.get("secret") or [""])[0]
        if not hmac.compare_digest(given.encode(), self.server.cancel_secret.encode()):
            self._reply(403, "Forbidden", "")
            return
        self._reply(200, "Login cancelled", "Another login replaced this one.")
        self.server.deliver(LoginError("The login was cancelled by another login on this machine",
                                       hint="run `kabot login` again"))

    def _reply(self, status: int, title: str, body: str) -> None:
        page = _PAGE.format(title=title, body=body).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(page)
        except OSError:  # the tab was closed; the terminal has the outcome
            pass

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        # The default writes the request line — with the authorization code — to stderr.
        return


class _Server(ThreadingHTTPServer):
    # One thread per connection: an idle pre-connected socket cannot hold up the real callback.
    daemon_threads = True
    block_on_close = False

    def __init__(self, port: int, expected_state: str) -> None:
        self.expected_state = expected_state
        self.cancel_secret = secrets.token_urlsafe(24)
        self.outcome_timeout = OUTCOME_TIMEOUT
        self.taken = threading.Event()
        self.strays = 0  # callbacks refused for carrying another login's state
        self._stray_lock = threading.Lock()
        self.results: queue.Queue[_Arrival | LoginError] = queue.Queue()
        super().__init__(("127.0.0.1", port), _Handler)

    def deliver(self, result: _Arrival | LoginError) -> None:
        self.results.put(result)

    def note_stray(self) -> None:
        with self._stray_lock:
            self.strays += 1

    def handle_error(self, request: object, client_address: object) -> None:
        # A reset connection is the browser's business; never print a traceback into the terminal.
        return


class CallbackServer:
    """Serve the OAuth callback on 127.0.0.1 in a background thread until closed.

    ``poll`` / ``wait`` return the authorization code; the caller then reports the exchange's
    outcome with ``finish`` so the browser tab shows what really happened.
    """

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
                hint="finish or close the other login, or run `kabot login --device`",
            ) from last
        self.port: int = self._server.server_address[1]
        self._arrival: _Arrival | None = None
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="kabot-login-callback", daemon=True)
        self._thread.start()

    @property
    def redirect_uri(self) -> str:
        """The redirect URI to send in the authorize request (the issuer expects ``localhost``)."""
        return f"http://localhost:{self.port}{CALLBACK_PATH}"

    @property
    def cancel_url(self) -> str:
        """The URL that ends this login (it carries this login's secret)."""
        return f"http://127.0.0.1:{self.port}/cancel?secret={self._server.cancel_secret}"

    @property
    def strays(self) -> int:
        """How many callbacks were refused because they belong to another login."""
        return self._server.strays

    def poll(self, timeout: float) -> str | None:
        """Wait up to ``timeout`` seconds; return the code, raise the callback's error, or None."""
        try:
            result = self._server.results.get(timeout=max(timeout, 0.0))
        except queue.Empty:
            return None
        if isinstance(result, LoginError):
            raise result
        self._arrival = result
        return result.code

    def wait(self, timeout: float) -> str:
        """Block until the callback arrives; return its code or raise its error."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise LoginTimeoutError(f"The browser did not complete the login within {timeout:.0f} s")
            # Short waits keep Ctrl-C responsive.
            code = self.poll(min(remaining, 0.25))
            if code is not None:
                return code

    def finish(self, error: str | None = None) -> None:
        """Tell the waiting browser tab how the code exchange ended (None: logged in)."""
        if self._arrival is not None:
            self._arrival.finish(error)

    def close(self) -> None:
        """Stop serving and release the port (a tab still waiting is told the login ended)."""
        self.finish("The login did not complete; see the terminal.")
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> CallbackServer:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
