"""HTTP plumbing shared by every route: the parsed request and the ways to answer it.

Streams use chunked transfer encoding with one write per event and Nagle disabled, so each
SSE frame reaches the client as soon as it is produced and the connection stays reusable.
"""

from __future__ import annotations

import json
import socket
import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

if TYPE_CHECKING:
    from http.server import BaseHTTPRequestHandler

__all__ = ["BadBody", "ClientGone", "Exchange", "Stream", "dumps", "sse_frame"]


class ClientGone(Exception):
    """The client closed the connection while we were writing."""


class BadBody(Exception):
    """The request body is not the JSON/form document the route needs."""


def dumps(obj: Any) -> str:
    """Serialize compactly (what the real backends put on the wire)."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def sse_frame(event: str | None, data: Any) -> bytes:
    """Encode one SSE frame; ``event`` None gives a bare ``data:`` frame (Chat Completions style)."""
    payload = data if isinstance(data, str) else dumps(data)
    if event is None:
        return f"data: {payload}\n\n".encode()
    return f"event: {event}\ndata: {payload}\n\n".encode()


class Stream:
    """A chunked response body that is written (and flushed) piece by piece."""

    def __init__(self, handler: BaseHTTPRequestHandler) -> None:
        self._handler = handler
        self.finished = False

    def write(self, data: bytes) -> None:
        """Send ``data`` as one chunk (header, payload and CRLF in a single syscall)."""
        if not data:
            return
        try:
            self._handler.wfile.write(b"%x\r\n%b\r\n" % (len(data), data))
        except OSError as exc:
            self._handler.close_connection = True
            raise ClientGone from exc

    def event(self, name: str | None, data: Any) -> None:
        """Send one SSE frame."""
        self.write(sse_frame(name, data))

    def finish(self) -> None:
        """Terminate the body cleanly (the connection stays open for the next request)."""
        if self.finished:
            return
        self.finished = True
        try:
            self._handler.wfile.write(b"0\r\n\r\n")
        except OSError as exc:
            self._handler.close_connection = True
            raise ClientGone from exc

    def abort(self) -> None:
        """Close the socket without the final chunk, like a proxy dying mid-stream."""
        self.finished = True
        self._handler.close_connection = True
        conn: socket.socket = self._handler.connection
        try:
            conn.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class Exchange:
    """One request and its response helpers, handed to every route function."""

    def __init__(self, handler: BaseHTTPRequestHandler, method: str, path: str, query: dict[str, str],
                 headers: dict[str, str], body: bytes) -> None:
        self.handler = handler
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.responded = False
        self.status: int | None = None
        self._json: Any = None
        self._json_done = False
        self.request_id = "req_" + uuid.uuid4().hex

    # -- request side ------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        """Return ``http://host:port`` as the client addressed us (used as the issuer)."""
        host = self.headers.get("host")
        if not host:
            addr: Any = self.handler.server.server_address
            host = f"{addr[0]}:{addr[1]}"
        return f"http://{host}"

    def bearer(self) -> str | None:
        """Return the bearer token from ``Authorization``, if any."""
        scheme, _, token = self.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer":
            return None
        return token.strip() or None

    def json(self) -> Any:
        """Return the parsed JSON body (``None`` when empty); raise ``BadBody`` if unparsable."""
        if not self._json_done:
            self._json_done = True
            if self.body.strip():
                try:
                    self._json = json.loads(self.body)
                except ValueError as exc:
                    raise BadBody(f"Invalid JSON body: {exc}") from exc
        return self._json

    def try_json(self) -> Any:
        """Return the parsed JSON body, or ``None`` if it is not JSON."""
        try:
            return self.json()
        except BadBody:
            return None

    def form(self) -> dict[str, str] | None:
        """Return the form-urlencoded body as a dict, or ``None`` if it is not a form post.

        ``curl -d '{...}'`` labels a JSON body as a form unless told otherwise; a body that
        starts like a JSON document is read as JSON instead of as one odd form field.
        """
        if "application/x-www-form-urlencoded" not in self.headers.get("content-type", ""):
            return None
        if self.body.lstrip()[:1] in (b"{", b"["):
            return None
        return dict(parse_qsl(self.body.decode("utf-8", "replace"), keep_blank_values=True))

    def params(self) -> dict[str, Any]:
        """Return the body as a dict whether it was posted as JSON or as a form."""
        form = self.form()
        if form is not None:
            return form
        data = self.json()
        if data is None:
            return {}
        if not isinstance(data, dict):
            raise BadBody("Request body must be a JSON object")
        return data

    # -- response side -----------------------------------------------------------------------
    def _head(self, status: int, headers: dict[str, str]) -> None:
        self.responded = True
        self.status = status
        h = self.handler
        h.send_response(status)
        for name, value in headers.items():
            h.send_header(name, value)
        h.end_headers()

    def send_bytes(self, status: int, body: bytes, content_type: str,
                   headers: dict[str, str] | None = None) -> None:
        """Send a complete response with Content-Length (keeps the connection reusable)."""
        all_headers = {"Content-Type": content_type, "Content-Length": str(len(body)),
                       "x-request-id": self.request_id, **(headers or {})}
        try:
            self._head(status, all_headers)
            self.handler.wfile.write(body)
        except OSError as exc:
            self.handler.close_connection = True
            raise ClientGone from exc

    def send_json(self, status: int, obj: Any, headers: dict[str, str] | None = None) -> None:
        """Send ``obj`` as JSON."""
        self.send_bytes(status, dumps(obj).encode(), "application/json", headers)

    def send_text(self, status: int, text: str, headers: dict[str, str] | None = None,
                  content_type: str = "text/plain; charset=utf-8") -> None:
        """Send a text (or HTML, via ``content_type``) body."""
        self.send_bytes(status, text.encode(), content_type, headers)

    def redirect(self, location: str) -> None:
        """Answer 302 to ``location``."""
        self.send_bytes(302, b"", "text/html; charset=utf-8", {"Location": location})

    def start_stream(self, headers: dict[str, str] | None = None, status: int = 200,
                     content_type: str = "text/event-stream; charset=utf-8") -> Stream:
        """Send the response head for a chunked body and return the body writer."""
        all_headers = {"Content-Type": content_type, "Transfer-Encoding": "chunked",
                       "Cache-Control": "no-cache", "x-request-id": self.request_id, **(headers or {})}
        try:
            self._head(status, all_headers)
        except OSError as exc:
            self.handler.close_connection = True
            raise ClientGone from exc
        return Stream(self.handler)

    def drop_connection(self) -> None:
        """Close the connection without answering (for faults on non-stream endpoints)."""
        self.responded = True
        Stream(self.handler).abort()
