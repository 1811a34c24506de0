"""Load behaviour: hundreds of concurrent streams, exact counters under contention."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import httpx

from kabot_codex.emulator import EmulatorControl
from tests.emulator.helpers import body, parse_sse


def test_256_concurrent_streams_all_complete(emu: EmulatorControl) -> None:
    emu.set_default_reply(text="word " * 40, chunks=20)
    tokens = emu.mint_tokens()
    headers = emu.auth_headers(tokens)

    async def one(http: httpx.AsyncClient) -> int:
        deltas = 0
        async with http.stream("POST", emu.codex_base + "/responses", json=body(), headers=headers) as r:
            assert r.status_code == 200
            text = (await r.aread()).decode()
        events = parse_sse(text)
        assert events[-1][0] == "response.completed"
        deltas = sum(1 for e, _ in events if e == "response.output_text.delta")
        return deltas

    async def main() -> list[int]:
        # Eight clients of 32 connections: httpcore's pool bookkeeping is quadratic in its size,
        # and one 256-connection pool would make this test measure httpx instead of the server.
        limits = httpx.Limits(max_connections=32, max_keepalive_connections=32)
        clients = [httpx.AsyncClient(trust_env=False, verify=False, timeout=60, limits=limits) for _ in range(8)]
        try:
            return await asyncio.gather(*(one(clients[i % 8]) for i in range(256)))
        finally:
            for http in clients:
                await http.aclose()

    results = asyncio.run(main())  # a hang or a serialised server trips pytest-timeout
    assert results == [20] * 256
    assert emu.stats()["requests"]["codex.responses"] == 256


def test_sequential_calls_reuse_connections_under_threads(emu: EmulatorControl) -> None:
    # Four clients at once, each keeping its own connection alive across its calls.
    tokens = emu.mint_tokens()
    before = emu.stats()["connections"]

    def calls() -> list[int]:
        with httpx.Client(trust_env=False, verify=False, timeout=30) as http:
            return [http.post(emu.codex_base + "/responses", json=body(), headers=emu.auth_headers(tokens)).status_code
                    for _ in range(5)]

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: calls(), range(4)))
    assert results == [[200] * 5] * 4
    assert emu.stats()["connections"] - before == 4
