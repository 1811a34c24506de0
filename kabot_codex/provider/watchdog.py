"""Ends a sync stream's blocked socket read when the call's deadline passes.

A sync read waits at most the socket timeout fixed when the request was sent, so a stream that
goes silent late in its budget could outlive ``timeout=`` by up to that much again. One shared
thread keeps a heap of deadlines and shuts down the socket of a call whose deadline passed; the
blocked read then fails at once and the shell reports ``litellm.Timeout`` (it checks the
deadline first). Arming and disarming cost a heap push and a flag, not a thread per call
(docs/internals/network.md).
"""

from __future__ import annotations

import heapq
import itertools
import socket
import threading
import time
import weakref
from typing import Any

__all__ = ["Guard", "arm", "disarm"]


class Guard:
    """One armed deadline; ``sock`` is dropped when disarmed so the heap keeps nothing alive."""

    __slots__ = ("deadline", "seq", "sock")

    def __init__(self, deadline: float, seq: int, sock: weakref.ref[socket.socket] | None) -> None:
        self.deadline = deadline
        self.seq = seq
        self.sock = sock

    def __lt__(self, other: Guard) -> bool:
        return (self.deadline, self.seq) < (other.deadline, other.seq)


_heap: list[Guard] = []
_cond = threading.Condition()
_seq = itertools.count()
_thread: threading.Thread | None = None
_disarmed = 0  # disarmed guards still in the heap (roughly: the thread also drops them)


def _socket_of(response: Any) -> socket.socket | None:
    stream = getattr(response, "extensions", {}).get("network_stream")
    if stream is None:
        return None
    try:
        sock = stream.get_extra_info("socket")
    except Exception:  # a transport without sockets (tests' MockTransport): nothing to guard
        return None
    return sock if isinstance(sock, socket.socket) else None


def arm(response: Any, deadline: float) -> Guard | None:
    """Shut ``response``'s socket down at ``deadline`` (``time.monotonic()``) unless disarmed first."""
    global _thread
    sock = _socket_of(response)
    if sock is None:
        return None
    guard = Guard(deadline, next(_seq), weakref.ref(sock))
    with _cond:
        heapq.heappush(_heap, guard)
        if _thread is None or not _thread.is_alive():
            _thread = threading.Thread(target=_run, name="kabot-codex-deadlines", daemon=True)
            _thread.start()
        elif _heap[0] is guard:
            _cond.notify()
    return guard


def disarm(guard: Guard | None) -> None:
    """The call is over (or no longer reads): never touch its socket."""
    global _disarmed
    if guard is not None:
        with _cond:
            guard.sock = None
            _disarmed += 1
            # Disarmed guards wait in the heap until their (often distant) deadline; rebuild it
            # now and then so a busy process does not keep one per finished call (amortised O(1)).
            if _disarmed > 1024 and _disarmed * 2 > len(_heap):
                _heap[:] = [g for g in _heap if g.sock is not None]
                heapq.heapify(_heap)
                _disarmed = 0


def _run() -> None:
    with _cond:
        while True:
            while _heap and _heap[0].sock is None:
                heapq.heappop(_heap)  # disarmed: drop it now rather than at its deadline
            if not _heap:
                _cond.wait()
                continue
            wait = _heap[0].deadline - time.monotonic()
            if wait > 0:
                _cond.wait(wait)
                continue
            guard = heapq.heappop(_heap)
            sock = guard.sock() if guard.sock is not None else None
            guard.sock = None
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass  # already closed
