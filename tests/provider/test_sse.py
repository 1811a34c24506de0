"""The SSE decoder: any split of the bytes gives the same events, cost is linear in bytes,
and one event past the cap is an error rather than unbounded buffering."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kabot_codex.provider.sse import MAX_EVENT_BYTES, EventTooLarge, SSEDecoder

_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"), max_size=40)
_event = st.tuples(st.one_of(st.none(), st.sampled_from(["response.output_text.delta", "error", "x"])),
                   st.lists(_text, min_size=1, max_size=3), st.booleans())


def _encode(events: list[tuple[str | None, list[str], bool]], newline: bytes) -> bytes:
    out = b""
    for name, lines, comment in events:
        block = [b": keep-alive"] if comment else []
        if name is not None:
            block.append(b"event: " + name.encode())
        block += [b"data: " + line.encode() for line in lines]
        out += newline.join(block) + newline + newline
    return out


def _expected(events: list[tuple[str | None, list[str], bool]]) -> list[tuple[str | None, bytes]]:
    return [(name, "\n".join(lines).encode()) for name, lines, _ in events]


def _decode(data: bytes, cuts: list[int]) -> list[tuple[str | None, bytes]]:
    decoder = SSEDecoder()
    out = []
    start = 0
    for cut in sorted(set(cuts)) + [len(data)]:
        out += decoder.feed(data[start:cut])
        start = cut
    return out


@settings(max_examples=300, deadline=None)
@given(events=st.lists(_event, max_size=8), newline=st.sampled_from([b"\n", b"\r\n", b"\r"]),
       cuts=st.lists(st.integers(min_value=0, max_value=4000), max_size=30))
def test_any_split_gives_the_same_events(events, newline, cuts):
    data = _encode(events, newline)
    cuts = [c for c in cuts if c <= len(data)]
    assert _decode(data, cuts) == _expected(events)


@settings(max_examples=100, deadline=None)
@given(events=st.lists(_event, min_size=1, max_size=5), newline=st.sampled_from([b"\n", b"\r\n", b"\r"]))
def test_byte_by_byte_equals_all_at_once(events, newline):
    data = _encode(events, newline)
    assert _decode(data, list(range(len(data)))) == _decode(data, [])


def _feed_seconds(size: int, chunk: int = 1024) -> float:
    """Time to feed one ``size``-byte event (no blank line until the end) in ``chunk`` pieces."""
    body = b"data: " + b"x" * size
    decoder = SSEDecoder(limit=size + 100)
    started = time.perf_counter()
    for i in range(0, len(body), chunk):
        decoder.feed(body[i:i + chunk])
    seconds = time.perf_counter() - started
    assert decoder.feed(b"\n\n") == [(None, b"x" * size)]
    return seconds


def test_decoding_cost_is_linear_in_bytes():
    # 16x the bytes must cost about 16x the time; the old decoder re-scanned the growing buffer
    # on every chunk (~256x here). Best of interleaved runs, so a busy machine does not flake it.
    small = large = float("inf")
    for _ in range(7):
        small = min(small, _feed_seconds(64 * 1024))
        large = min(large, _feed_seconds(1024 * 1024))
    assert large / small < 64, f"64 KiB {small * 1000:.2f} ms, 1 MiB {large * 1000:.2f} ms"


def test_an_event_past_the_cap_is_an_error_not_a_stall():
    decoder = SSEDecoder(limit=1000)
    decoder.feed(b"event: x\ndata: " + b"y" * 900)
    with pytest.raises(EventTooLarge, match="exceeded"):
        decoder.feed(b"y" * 200)
    assert MAX_EVENT_BYTES == 16 * 1024 * 1024


def test_many_events_after_a_cap_sized_one_still_decode():
    decoder = SSEDecoder(limit=1000)
    events = decoder.feed(b"data: " + b"z" * 990 + b"\n\n" + b"data: a\n\ndata: b\n\n")
    assert events == [(None, b"z" * 990), (None, b"a"), (None, b"b")]
