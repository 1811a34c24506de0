"""The Redis test fixture starts a real server, isolated, and stops it."""

from __future__ import annotations

import pytest

from tests.redis_helpers import RedisServer, redis_binary


def test_a_real_server_on_loopback_that_is_stopped_afterwards(redis_server: RedisServer) -> None:
    client = redis_server.client()
    assert client.ping()  # type: ignore[attr-defined]
    client.set("kabot:probe", "1")  # type: ignore[attr-defined]
    assert client.get("kabot:probe") == b"1"  # type: ignore[attr-defined]
    assert redis_server.host == "127.0.0.1" and redis_server.url.startswith("redis://127.0.0.1:")
    assert client.config_get("save")["save"] == ""  # type: ignore[attr-defined]  # nothing written to disk


def test_each_test_gets_an_empty_server(redis_server: RedisServer) -> None:
    assert redis_server.client().dbsize() == 0  # type: ignore[attr-defined]


def test_missing_binary_skips_outside_ci_and_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="apt-get install redis-server"):
        redis_binary()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI must have it"):
        redis_binary()


def test_the_server_is_stopped_when_the_block_ends(tmp_path: pytest.TempPathFactory) -> None:
    from pathlib import Path

    from tests.redis_helpers import running_redis

    with running_redis(Path(str(tmp_path)) / "redis") as server:
        assert server.client().ping()  # type: ignore[attr-defined]
    assert server.process.poll() is not None
