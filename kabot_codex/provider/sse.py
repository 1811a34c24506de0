"""Incremental Server-Sent Events decoding: bytes in, ``(event, data)`` pairs out.

Cost is linear in the bytes received: each byte is normalised and searched for an event
boundary once, and a partial event waits in a ``bytearray`` that only grows at its end. A
single event larger than ``MAX_EVENT_BYTES`` is an error instead of unbounded buffering
(see docs/internals/network.md).
"""

from __future__ import annotations

__all__ = ["MAX_EVENT_BYTES", "EventTooLarge", "SSEDecoder"]

MAX_EVENT_BYTES = 16 * 1024 * 1024
"""The largest single SSE event accepted (16 MiB; Codex events are a few hundred bytes, a
whole final item a few hundred KB)."""


class EventTooLarge(ValueError):
    """One SSE event grew past the decoder's cap without ending."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"a single SSE event exceeded {limit // (1024 * 1024)} MiB without ending")
        self.limit = limit


class SSEDecoder:
    """Feed bytes, get ``(event, data bytes)`` pairs; any split of the input gives the same pairs."""

    __slots__ = ("_buffer", "_cr", "_limit")

    def __init__(self, limit: int = MAX_EVENT_BYTES) -> None:
        self._buffer = bytearray()  # the unfinished event: never contains b"\n\n"
        self._cr = False  # the previous chunk ended in "\r": a leading "\n" here belongs to it
        self._limit = limit

    def feed(self, chunk: bytes) -> list[tuple[str | None, bytes]]:
        if self._cr:
            self._cr = False
            if chunk[:1] == b"\n":
                chunk = chunk[1:]
        if b"\r" in chunk:
            # Normalise line ends chunk by chunk; a trailing "\r" already counts as a line end.
            self._cr = chunk.endswith(b"\r")
            chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        buffer = self._buffer
        if buffer:
            # Only the new bytes (and the one before them) can complete a boundary.
            search = len(buffer) - 1
            buffer += chunk
            data: bytes | bytearray = buffer
        else:
            search = 0
            data = chunk
        events: list[tuple[str | None, bytes]] = []
        start = 0
        end = data.find(b"\n\n", search)
        while end >= 0:
            parsed = _parse_block(bytes(data[start:end]) if data is buffer else data[start:end])
            if parsed is not None:
                events.append(parsed)
            start = end + 2
            end = data.find(b"\n\n", start)
        if data is buffer:
            del buffer[:start]  # O(1) amortised: bytearray drops a prefix by moving its start
        elif start < len(data):
            buffer += data[start:]
        if len(buffer) > self._limit:
            buffer.clear()
            raise EventTooLarge(self._limit)
        return events

    @property
    def buffered(self) -> int:
        """Bytes of the unfinished event held so far."""
        return len(self._buffer)


def _parse_block(block: bytes) -> tuple[str | None, bytes] | None:
    # Fast path: nearly every block is exactly "event: X\ndata: {...}".
    newline = block.find(b"\n")
    if newline < 0 and block.startswith(b"data: "):
        return None, block[6:]  # one bare data line (a big event is copied once, not four times)
    if (newline > 0 and block.startswith(b"event: ") and block.startswith(b"data: ", newline + 1)
            and block.find(b"\n", newline + 1) < 0):
        return block[7:newline].decode("utf-8", "replace"), block[newline + 7:]
    event: str | None = None
    data: list[bytes] = []
    for raw in block.split(b"\n"):
        if not raw or raw.startswith(b":"):
            continue
        name, _, value = raw.partition(b":")
        if value.startswith(b" "):
            value = value[1:]
        if name == b"data":
            data.append(value)
        elif name == b"event":
            event = value.decode("utf-8", "replace")
    if not data:
        return None
    return event, b"\n".join(data)
