"""Runtime state shared across calls and processes: rate-limit snapshots and usage limits.

Kept apart from ``config.json`` (which holds settings and credentials) because it changes on
every call. Recording is in memory; files are written by a background thread, because the
callers sit on the request path — often inside an event loop — and a file lock may wait.
"""

from __future__ import annotations

import atexit
import functools
import threading
import time
from pathlib import Path
from typing import Any

from kabot_codex import _fs
from kabot_codex.config import state_dir

__all__ = [
    "blocked_until",
    "flush",
    "forget_rate_limits",
    "last_rate_limits",
    "note_usage_limit",
    "record_rate_limits",
    "reset",
]

_PERSIST_EVERY = 30.0  # seconds between snapshot writes per process

_lock = threading.Lock()
_snapshots: dict[str, dict[str, Any]] = {}
_last_persist = 0.0
_unsaved: Path | None = None  # where snapshots changed since the last write should go
_blocked: dict[str, float] = {}  # account_key -> epoch seconds when the usage limit resets
_loaded_from: set[Path] = set()  # state dirs whose persisted usage limits were read


def _rate_limits_path() -> Path:
    return _files_in(state_dir())[0]


def _usage_limits_path() -> Path:
    return _files_in(state_dir())[1]


@functools.lru_cache(maxsize=16)
def _files_in(directory: Path) -> tuple[Path, Path]:
    # Both are looked up on every model call: one Path join each was ~30 us (docs/performance.md).
    return directory / "rate_limits.json", directory / "usage_limits.json"


def record_rate_limits(profile: str | None, account_key: str, snapshot: dict[str, Any]) -> None:
    """Remember the latest x-codex-* snapshot; persisted at most every 30 s per process."""
    global _last_persist, _unsaved
    if not snapshot:
        return
    entry = {"profile": profile, "account": account_key, "seen_at": time.time(), **snapshot}
    path = _rate_limits_path()  # the state dir now, not whatever it is at exit
    with _lock:
        _snapshots[profile or account_key] = entry
        _unsaved = path
        now = time.monotonic()
        if _last_persist and now - _last_persist < _PERSIST_EVERY:
            return
        _last_persist, _unsaved = now, None
        pending = dict(_snapshots)
    _fs.merge_json_later(path, lambda current: current.update(pending))


def last_rate_limits() -> dict[str, dict[str, Any]]:
    """Return the last snapshot per profile (this process's newest, else the persisted one)."""
    stored = {key: entry for key, entry in _fs.read_state(_rate_limits_path(), what="rate-limit state").items()
              if isinstance(entry, dict)}
    with _lock:
        stored.update(_snapshots)
    return stored


def forget_rate_limits(profile: str) -> None:
    """Drop the snapshot recorded for ``profile`` (its login was removed)."""
    with _lock:
        _snapshots.pop(profile, None)
    _fs.merge_json_later(_rate_limits_path(), lambda current: current.pop(profile, None))


def note_usage_limit(account_key: str, resets_at: float) -> None:
    """Remember that ``account_key`` hit its usage limit until ``resets_at`` (epoch s)."""
    global _generation
    with _lock:
        _blocked[account_key] = resets_at
        _generation += 1
    _fs.merge_json_later(_usage_limits_path(), lambda current: current.update({account_key: resets_at}))


def _load_persisted(path: Path) -> None:
    # Usage limits other processes hit: read once per state dir, on the first check.
    _loaded_from.add(path)
    stored = _fs.read_state(path, what="usage-limit state")
    now = time.time()
    with _lock:
        for key, until in stored.items():
            if isinstance(until, (int, float)) and until > now:
                _blocked.setdefault(key, float(until))


_generation = 0


def limits_generation() -> int:
    """A counter that moves whenever this process learns a usage limit (cheap cache validation)."""
    return _generation


def blocked_until(account_key: str, *, now: float | None = None) -> float | None:
    """Return the reset time if ``account_key`` is known to be over its usage limit."""
    path = _usage_limits_path()
    if path not in _loaded_from:
        _load_persisted(path)
    now = time.time() if now is None else now
    with _lock:
        until = _blocked.get(account_key)
    if until is not None and until > now:
        return until
    return None


def flush(timeout: float = 5.0) -> None:
    """Write what is still only in memory and wait for pending writes (at exit; tests)."""
    global _unsaved
    with _lock:
        target, pending = _unsaved, dict(_snapshots)
        _unsaved = None
    if target is not None:
        _fs.merge_json_later(target, lambda current: current.update(pending))
    _fs.wait_for_writes(timeout)


atexit.register(flush)


def reset() -> None:
    """Forget this process's in-memory snapshots and usage limits (files are left alone)."""
    global _last_persist, _unsaved
    _fs.wait_for_writes()  # writes already started finish into the dir they were started for
    with _lock:
        _snapshots.clear()
        _blocked.clear()
        _loaded_from.clear()
        _last_persist, _unsaved = 0.0, None
