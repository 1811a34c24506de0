"""Runtime state shared across calls and processes: rate-limit snapshots and usage limits.

Kept apart from ``config.json`` (which holds settings and credentials) because it changes on
every call; writes are throttled so the hot path stays cheap.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from kabot_codex import _fs
from kabot_codex.config import state_dir

__all__ = [
    "blocked_until",
    "last_rate_limits",
    "note_usage_limit",
    "record_rate_limits",
    "reset",
]

_PERSIST_EVERY = 30.0  # seconds between snapshot writes per process

_lock = threading.Lock()
_snapshots: dict[str, dict[str, Any]] = {}
_last_persist = 0.0
_blocked: dict[str, float] = {}  # account_key -> epoch seconds when the usage limit resets


def _rate_limits_path() -> Path:
    return state_dir() / "rate_limits.json"


def _usage_limits_path() -> Path:
    return state_dir() / "usage_limits.json"


def record_rate_limits(profile: str | None, account_key: str, snapshot: dict[str, Any]) -> None:
    """Remember the latest x-codex-* snapshot; persisted at most every 30 s per process."""
    global _last_persist
    if not snapshot:
        return
    entry = {"profile": profile, "account": account_key, "seen_at": time.time(), **snapshot}
    with _lock:
        _snapshots[profile or account_key] = entry
        now = time.monotonic()
        if now - _last_persist < _PERSIST_EVERY and _last_persist:
            return
        _last_persist = now
        pending = dict(_snapshots)
    _merge_into(_rate_limits_path(), pending)


def _merge_into(path: Path, entries: dict[str, Any]) -> None:
    try:
        with _fs.file_lock(path, timeout=2.0):
            try:
                current = _fs.read_json(path, what="rate-limit state") or {}
            except Exception:
                current = {}  # state is a cache: a damaged file is replaced, never fatal
            if not isinstance(current, dict):
                current = {}
            current.update(entries)
            _fs.atomic_write_json(path, current)
    except (OSError, _fs.LockTimeout):
        pass  # never fail a model call because a cache could not be written


def last_rate_limits() -> dict[str, dict[str, Any]]:
    """Return the last snapshot per profile (this process's newest, else the persisted one)."""
    try:
        stored = _fs.read_json(_rate_limits_path(), what="rate-limit state") or {}
    except Exception:
        stored = {}
    with _lock:
        stored.update(_snapshots)
    return stored


def note_usage_limit(account_key: str, resets_at: float) -> None:
    """Remember that ``account_key`` hit its usage limit until ``resets_at`` (epoch s)."""
    with _lock:
        _blocked[account_key] = resets_at
    _merge_into(_usage_limits_path(), {account_key: resets_at})


def blocked_until(account_key: str, *, now: float | None = None) -> float | None:
    """Return the reset time if ``account_key`` is known to be over its usage limit."""
    now = time.time() if now is None else now
    with _lock:
        until = _blocked.get(account_key)
    if until is not None and until > now:
        return until
    return None


def load_persisted_usage_limits() -> None:
    """Pick up usage limits other processes hit (called once when the handler starts)."""
    try:
        stored = _fs.read_json(_usage_limits_path(), what="usage-limit state") or {}
    except Exception:
        return
    now = time.time()
    with _lock:
        for key, until in stored.items():
            if isinstance(until, (int, float)) and until > now:
                _blocked[key] = float(until)


def reset() -> None:
    """Forget this process's in-memory snapshots and usage limits (files are left alone)."""
    global _last_persist
    with _lock:
        _snapshots.clear()
        _blocked.clear()
        _last_persist = 0.0
