"""The threaded HTTP/1.1 server and the in-process ``Emulator`` wrapper.

One daemon thread per connection with keep-alive: clients that pool connections reuse
them (the stats count TCP connections so tests can assert that), and hundreds of
concurrent SSE streams are just hundreds of mostly sleeping threads.
"""

from __future__ import annotations

import socket
import sys
import threading
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from kabot_codex.emulator.app import App, Route, routes
from kabot_codex.emulator.wire import BadBody, ClientGone, Exchange

__all__ = ["Emulator", "EmulatorServer"]

CONTROL_PREFIX = "/_emulator/"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "kabot-codex-emulator"
    sys_version = ""
    # Small SSE writes must not wait for delayed ACKs.
    disable_nagle_algorithm = True
    server: EmulatorServer

    def setup(self) -> None:
        super().setup()
        self._first_request = True
        self.server.track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, add=False)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        if self.server.app.verbose:
            sys.stderr.write("emulator: " + (format % args) + "\n")

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        self._dispatch()

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch()

    def do_PUT(self) -> None:  # noqa: N802
        self._dispatch()

    def do_DELETE(self) -> None:  # noqa: N802
        self._dispatch()

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            parts: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _dispatch(self) -> None:
        app = self.server.app
        split = urlsplit(self.path)
        path = split.path.rstrip("/") or "/"
        control = path.startswith(CONTROL_PREFIX.rstrip("/"))
        if self._first_request:
            self._first_request = False
            app.state.note_connection(control)
        headers = {k.lower(): v for k, v in self.headers.items()}
        ex = Exchange(self, self.command, path, dict(parse_qsl(split.query, keep_blank_values=True)),
                      headers, self._read_body())
        if not control:
            app.state.record({
                "method": self.command, "path": path, "query": ex.query, "headers": headers,
                "json": ex.try_json(), "form": ex.form(),
            })
        route: Route | None = self.server.routes.get((self.command, path))
        try:
            if route is None:
                known = any(p == path for _, p in self.server.routes)
                ex.send_json(405 if known else 404, {"detail": "Method Not Allowed" if known else "Not Found"})
                return
            route(app, ex)
            if not ex.responded:
                ex.send_json(500, {"detail": f"emulator route for {path} sent no response"})
        except ClientGone:
            self.close_connection = True
        except BadBody as exc:
            if not ex.responded:
                ex.send_json(400, {"detail": str(exc)})
            else:
                self.close_connection = True
        except Exception as exc:  # noqa: BLE001 - report every emulator bug to the client
            traceback.print_exc(file=sys.stderr)
            if ex.responded:
                self.close_connection = True
            else:
                try:
                    ex.send_json(500, {"detail": f"emulator internal error: {type(exc).__name__}: {exc}"})
                except ClientGone:
                    self.close_connection = True


class EmulatorServer(ThreadingHTTPServer):
    """``ThreadingHTTPServer`` that never joins keep-alive threads and can drop live sockets."""

    daemon_threads = True
    # Idle keep-alive connections would make server_close() wait forever.
    block_on_close = False
    # Hundreds of clients connect at once in the concurrency tests; the default of 5 drops SYNs.
    request_queue_size = 1024

    def __init__(self, address: tuple[str, int], app: App | None = None) -> None:
        self.app = app or App()
        self.routes = routes()
        self._live: set[socket.socket] = set()
        self._live_lock = threading.Lock()
        super().__init__(address, _Handler)

    def track(self, sock: socket.socket, add: bool) -> None:
        """Remember open connections so ``close_all`` can end them."""
        with self._live_lock:
            if add:
                self._live.add(sock)
            else:
                self._live.discard(sock)

    def close_all(self) -> None:
        """Shut down every open client connection (used when stopping)."""
        with self._live_lock:
            live = list(self._live)
        for sock in live:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    @property
    def url(self) -> str:
        """Return ``http://host:port`` of the listening socket."""
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"


class Emulator:
    """Run the emulator in a background thread of this process.

    ``with Emulator() as emu: httpx.get(emu.url + "/_emulator/stats")``
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, verbose: bool = False) -> None:
        self.host = host
        self.port = port
        self.app = App(verbose=verbose)
        self._server: EmulatorServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Return the base URL; only valid once started."""
        if self._server is None:
            raise RuntimeError("Emulator is not running; call start() first")
        return self._server.url

    def start(self) -> Emulator:
        """Bind and start serving; return self."""
        if self._server is not None:
            return self
        self._server = EmulatorServer((self.host, self.port), self.app)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.2},
                                        name="kabot-codex-emulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close every connection."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.close_all()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
