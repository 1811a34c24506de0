"""Hand-made loopback HTTP servers that misbehave in ways the emulator does not.

Each connection reads one request (headers + body) and hands the socket to a *mode*
function that writes raw bytes: stalls, trickles, resets, oversized events, redirects,
corrupt gzip, or error bodies echoing the Authorization header. ``stop`` ends every
stalling mode at once, so tests never wait on a hung server thread.
"""

from __future__ import annotations

import json
import socket
import struct
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

Mode = Callable[["Conn"], None]

SSE_HEAD = (b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\n"
            b"connection: close\r\n\r\n")


def frame(event: str, payload: dict) -> bytes:
    return f"event: {event}\ndata: {json.dumps({'type': event, **payload})}\n\n".encode()


CREATED = frame("response.created", {"response": {"id": "resp_1", "status": "in_progress"}})
ADDED = frame("response.output_item.added", {"output_index": 0, "item": {"id": "msg_1", "type": "message"}})
DELTA = frame("response.output_text.delta", {"output_index": 0, "item_id": "msg_1", "delta": "partial "})


@dataclass
class Conn:
    """One accepted connection: the parsed request and helpers to answer it."""

    sock: socket.socket
    headers: dict[str, str]
    stop: threading.Event

    @property
    def authorization(self) -> str:
        return self.headers.get("authorization", "")

    def send(self, data: bytes) -> bool:
        try:
            self.sock.sendall(data)
            return True
        except OSError:
            return False

    def wait(self, seconds: float) -> bool:
        """Sleep unless the server is stopping; False once it is."""
        return not self.stop.wait(seconds)

    def reset(self) -> None:
        """Close with RST instead of FIN (a connection reset by peer)."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()


def _read_request(sock: socket.socket) -> dict[str, str]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return {}
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    headers = {}
    for line in head.decode("latin-1").split("\r\n")[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return headers


@dataclass
class FaultServer:
    """A threaded loopback server running one mode for every connection."""

    mode: Mode
    stop: threading.Event = field(default_factory=threading.Event)
    connections: int = 0

    def __post_init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self._threads: list[threading.Thread] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                sock, _ = self._listener.accept()
            except OSError:
                return
            self.connections += 1
            thread = threading.Thread(target=self._serve, args=(sock,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _serve(self, sock: socket.socket) -> None:
        try:
            headers = _read_request(sock)
            if headers:
                self.mode(Conn(sock, headers, self.stop))
        except OSError:
            pass
        finally:
            try:
                sock.close()
            except OSError:
                pass

    def close(self) -> None:
        self.stop.set()
        self._listener.close()
        for thread in self._threads:
            thread.join(timeout=5)


@contextmanager
def serving(mode: Mode) -> Iterator[FaultServer]:
    server = FaultServer(mode)
    try:
        yield server
    finally:
        server.close()


# --- modes --------------------------------------------------------------------------------

def stall_after_headers(conn: Conn) -> None:
    conn.send(SSE_HEAD + CREATED)
    conn.wait(60)


def stall_mid_stream(conn: Conn) -> None:
    conn.send(SSE_HEAD + CREATED + ADDED + DELTA)
    conn.wait(60)


def stall_late(conn: Conn) -> None:
    """Real deltas for 1.8 s, then silence: a read that starts just before a 2 s deadline."""
    conn.send(SSE_HEAD + CREATED + ADDED)
    for _ in range(18):
        if not (conn.send(DELTA) and conn.wait(0.1)):
            return
    conn.wait(60)


def trickle_keepalive(conn: Conn) -> None:
    """A comment every 0.2 s forever: per-byte timeouts never fire."""
    conn.send(SSE_HEAD + CREATED + ADDED + DELTA)
    while conn.wait(0.2) and conn.send(b": keep-alive\n\n"):
        pass


def reset_mid_stream(conn: Conn) -> None:
    conn.send(SSE_HEAD + CREATED + ADDED + DELTA)
    conn.reset()


def huge_event(conn: Conn) -> None:
    """One ``data:`` line that never ends: 24 MiB, past the 16 MiB cap."""
    if not conn.send(SSE_HEAD + CREATED + b"event: response.output_text.delta\ndata: "):
        return
    piece = b"x" * (1024 * 1024)
    for _ in range(24):
        if not conn.send(piece):
            return
    conn.wait(30)


def redirect(conn: Conn) -> None:
    conn.send(b"HTTP/1.1 302 Found\r\nlocation: http://captive.portal.test/login?next=chatgpt\r\n"
              b"content-length: 0\r\nconnection: close\r\n\r\n")


def gzip_garbage(conn: Conn) -> None:
    body = b"\x1f\x8b\x08\x00garbage that is not deflate data at all" * 4
    conn.send(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncontent-encoding: gzip\r\n"
              b"connection: close\r\n\r\n" + body)


def gzip_garbage_error(conn: Conn) -> None:
    body = b"\x1f\x8b\x08\x00not gzip" * 4
    conn.send(b"HTTP/1.1 500 Internal Server Error\r\ncontent-type: application/json\r\ncontent-encoding: gzip"
              b"\r\ncontent-length: " + str(len(body)).encode() + b"\r\nconnection: close\r\n\r\n" + body)


def echo_status(status: int) -> Mode:
    """An error reply whose JSON body (and a header) echo the Authorization header."""
    reasons = {400: "Bad Request", 401: "Unauthorized", 500: "Internal Server Error"}

    def mode(conn: Conn) -> None:
        seen = conn.authorization
        token = seen.split(" ", 1)[-1]
        body = json.dumps({"error": {"message": f"proxy saw Authorization: {seen} (token {token})",
                                     "type": "invalid_request_error" if status == 400 else "server_error",
                                     "code": None}}).encode()
        conn.send(f"HTTP/1.1 {status} {reasons[status]}\r\ncontent-type: application/json\r\n"
                  f"x-echo: {seen}\r\nset-cookie: s={token}\r\n"
                  f"content-length: {len(body)}\r\nconnection: close\r\n\r\n".encode() + body)

    return mode


def echo_failed(conn: Conn) -> None:
    """A 200 stream whose ``response.failed`` message echoes the Authorization header."""
    seen = conn.authorization
    failed = frame("response.failed", {"response": {"id": "resp_1", "status": "failed", "error": {
        "code": "server_error", "message": f"upstream rejected {seen}; raw {seen.split(' ', 1)[-1]}"}}})
    conn.send(SSE_HEAD + CREATED + failed)


def unresponsive(conn: Conn) -> None:
    """Accepts, reads the request, never answers (a dead token endpoint)."""
    conn.wait(60)
