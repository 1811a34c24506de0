"""The async shells' whole-call deadline: one timer per call, not one per chunk.

``asyncio.timeout_at`` around every chunk read costs ~20 µs per chunk (measured), more than
the rest of the per-chunk work. ``AsyncDeadline`` arms a single ``loop.call_at`` for the
call; when it fires while the call is awaiting I/O it cancels that await, and ``wait`` turns
exactly that cancellation into ``TimeoutError`` (see docs/internals/network.md).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from typing import TypeVar

__all__ = ["AsyncDeadline"]

T = TypeVar("T")


class AsyncDeadline:
    """Raises ``TimeoutError`` from ``wait`` once ``time.monotonic()`` passes ``deadline``."""

    __slots__ = ("_cancelled", "_handle", "_task", "fired")

    def __init__(self, deadline: float) -> None:
        loop = asyncio.get_running_loop()
        self.fired = False
        self._task: asyncio.Task | None = None
        self._cancelled = False
        # loop.time() is time.monotonic() for asyncio's loops; rebase anyway for other loops.
        self._handle = loop.call_at(loop.time() + (deadline - time.monotonic()), self._fire)

    def _fire(self) -> None:
        self.fired = True
        if self._task is not None:
            self._cancelled = True
            self._task.cancel()

    async def wait(self, awaitable: Awaitable[T]) -> T:
        """Await ``awaitable``, or raise ``TimeoutError`` if the deadline passes first."""
        if self.fired:
            if asyncio.iscoroutine(awaitable):
                awaitable.close()
            raise TimeoutError
        task = self._task = asyncio.current_task()
        try:
            return await awaitable
        except asyncio.CancelledError:
            if self._cancelled and task is not None:
                self._cancelled = False
                if task.uncancel() == 0:  # our cancel, and nobody else's
                    raise TimeoutError from None
            raise
        finally:
            self._task = None

    def close(self) -> None:
        """Disarm the timer (the call is over)."""
        self._handle.cancel()
