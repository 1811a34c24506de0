"""What calls learned about each login, so ``kabot status`` never calls a dead login valid.

A refresh that fails for good (``refresh_token_expired``/``_reused``/``_invalidated``), or an
API key the backend rejects, is recorded per profile together with a digest of the refresh
token (or key) it was about. The record describes that secret only: a new login or a
successful refresh brings a different one, and the record stops applying without anyone
having to clear it. ``logout`` removes it.
Written off the request path's happy case: only a permanent failure writes.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Any

from kabot_codex import _fs
from kabot_codex.config import state_dir

__all__ = ["dead_login", "forget_login", "note_dead_login"]


def _path() -> Path:
    return state_dir() / "login_health.json"


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()[:16]


def note_dead_login(profile: str, refresh_token: str | None, code: str | None, message: str) -> None:
    """Remember that ``refresh_token`` (or API key) of ``profile`` can never work again."""
    if not refresh_token:
        return
    record = {"refresh": _digest(refresh_token), "code": code, "message": message[:300], "at": time.time()}
    _fs.merge_json_later(_path(), lambda current: current.update({profile: record}))
    # Another process (`kabot status`) should see it now, not at this one's exit; this is a
    # failure path, so waiting briefly for the write costs nothing that matters.
    _fs.wait_for_writes(2.0)


def dead_login(profile: str, refresh_token: str | None) -> dict[str, Any] | None:
    """Return the failure record if it is about this very ``refresh_token``, else None."""
    if not refresh_token:
        return None
    try:
        stored = _fs.read_json(_path(), what="login health") or {}
    except Exception:
        return None  # a damaged record is no reason to fail `kabot status`
    record = stored.get(profile) if isinstance(stored, dict) else None
    if isinstance(record, dict) and record.get("refresh") == _digest(refresh_token):
        return record
    return None


def forget_login(profile: str) -> None:
    """Drop what was recorded about ``profile`` (it was logged out)."""
    _fs.merge_json_later(_path(), lambda current: current.pop(profile, None))
