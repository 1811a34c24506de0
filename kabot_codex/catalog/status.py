"""Per-account model status: what a real call taught us, plus what the catalog says.

``note_success`` / ``note_unsupported`` run on the provider's hot path: they compare against
an in-memory copy and touch the disk only when a status changes, and they never raise.
``get_model_status`` combines those records with the catalog:

- ``working``: a real call succeeded for this account;
- ``unsupported``: the backend rejected the model for this account, or the model is known
  retired for ChatGPT accounts and this is one, or it cannot be used with the account's auth mode;
- ``catalog``: listed (bundled or live) but not verified yet — including a model retired for
  ChatGPT sign-in when nothing is known about the account (it works with an API key);
- ``unknown``: not in the catalog at all.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any, Literal

from kabot_codex import _fs
from kabot_codex.catalog.spec import CODEX, canonical_model
from kabot_codex.catalog.store import catalog
from kabot_codex.config import state_dir

__all__ = [
    "ANY_ACCOUNT",
    "CURRENT",
    "Status",
    "forget_statuses",
    "get_model_status",
    "model_status",
    "note_success",
    "note_unsupported",
    "recorded_status",
    "status_path",
]

Status = Literal["working", "catalog", "unsupported", "unknown"]

#: Records made without an account (e.g. an explicit API key) are kept under this key.
ANY_ACCOUNT = "*"


class _Current:
    def __repr__(self) -> str:
        return "CURRENT"


#: ``get_model_status``'s default: the account of the active login (see ``catalog.account``).
CURRENT: Any = _Current()

log = logging.getLogger(__name__)

_lock = threading.Lock()
# account_key -> model -> {"status", "at", "reason"}; mirrors the file, loaded once.
_records: dict[str, dict[str, dict[str, Any]]] | None = None


def status_path() -> Path:
    """The file holding recorded statuses."""
    return state_dir() / "model_status.json"


def _read_file() -> dict[str, dict[str, dict[str, Any]]]:
    data = _fs.read_state(status_path(), what="model status")  # a damaged one is set aside and rebuilt
    return {k: dict(v) for k, v in data.items() if isinstance(v, dict)}


def _memory() -> dict[str, dict[str, dict[str, Any]]]:
    global _records
    if _records is None:
        _records = _read_file()
    return _records


def _persist(account: str, model: str, record: dict[str, Any]) -> None:
    # Off the request path (this runs inside acompletion too); merged under the file lock so
    # concurrent processes (Proxy workers) keep each other's records.
    def update(current: dict[str, Any]) -> None:
        entry = current.get(account)
        current[account] = {**(entry if isinstance(entry, dict) else {}), model: record}

    _fs.merge_json_later(status_path(), update)


def _note(model: str, account_key: str | None, status: str, reason: str = "") -> None:
    try:
        name = canonical_model(model)
        account = account_key or ANY_ACCOUNT
        with _lock:
            records = _memory()
            previous = records.get(account, {}).get(name)
            if previous is not None and previous.get("status") == status:
                return  # the hot path: nothing changed, nothing to write
            record = {"status": status, "at": time.time()}
            if reason:
                record["reason"] = reason[:300]
            records.setdefault(account, {})[name] = record
        _persist(account, name, record)
    except Exception as exc:  # never fail a model call because bookkeeping failed
        log.debug("could not record status of %s: %s", model, exc)


def note_success(model: str, account_key: str | None) -> None:
    """Record that a real call to ``model`` succeeded for ``account_key``."""
    _note(model, account_key, "working")


def note_unsupported(model: str, account_key: str | None, reason: str) -> None:
    """Record that the backend rejected ``model`` for ``account_key`` (e.g. "not supported")."""
    _note(model, account_key, "unsupported", reason)


def recorded_status(model: str, account_key: str | None) -> dict[str, Any] | None:
    """Return the last record (``{"status", "at", "reason"?}``) for ``model`` and the account."""
    name = canonical_model(model)
    with _lock:
        records = _memory()
        for key in (account_key, ANY_ACCOUNT) if account_key else (ANY_ACCOUNT,):
            record = records.get(key, {}).get(name)
            if record is not None:
                return dict(record)
    return None


def forget_statuses() -> None:
    """Drop the in-memory records so the next lookup re-reads the file (tests, KABOT_HOME change)."""
    global _records
    with _lock:
        _records = None


def get_model_status(model: str, account_key: str | None = CURRENT, *, auth_mode: str | None = None) -> Status:
    """Return ``working`` / ``catalog`` / ``unsupported`` / ``unknown`` for ``model``.

    ``account_key`` is ``Credentials.account_key``; by default the active login's account (and
    its auth mode), None for records made without an account. ``auth_mode`` ("chatgpt" |
    "api_key") decides whether retirement and API support apply. With neither an account nor
    an auth mode nothing is known about the account, so a model retired only for ChatGPT
    sign-in stays ``catalog`` (an API key may use it); an account key alone means ChatGPT.
    """
    return model_status(model, account_key, auth_mode=auth_mode)[0]


def model_status(model: str, account_key: str | None = CURRENT, *,
                 auth_mode: str | None = None) -> tuple[Status, str]:
    """Return ``(status, reason)``: ``get_model_status`` plus why, in words for a person."""
    if not model:
        return "unknown", "no model named"
    name = canonical_model(model)
    if account_key is CURRENT:
        from kabot_codex.catalog.account import current_account

        account = current_account()
        account_key = account.account_key if name.startswith(CODEX + "/") else None
        auth_mode = auth_mode or (account.auth_mode if account_key else None)
    record = recorded_status(name, account_key)
    if record is not None and record.get("status") == "working":
        return "working", "a real call succeeded for this account"
    if record is not None and record.get("status") == "unsupported":
        # A real call beats anything the catalog believes.
        return "unsupported", str(record.get("reason") or "the backend rejected it for this account")
    loaded = catalog()
    spec = loaded.specs.get(name)
    if spec is None:
        return "unknown", "not in the catalog"
    if spec.provider != CODEX:
        return "catalog", ""
    if auth_mode is None and account_key is not None:
        auth_mode = "chatgpt"  # account keys come from logins; API-key callers say so
    retired = spec.retired_note or "retired for ChatGPT accounts"
    if auth_mode == "api_key":
        if not spec.supported_in_api:
            return "unsupported", "needs a ChatGPT login (not offered to API keys)"
        return "catalog", ""
    if spec.retired:
        if auth_mode is None:
            return "catalog", f"{retired}; still usable with an API key"
        listed = loaded.listed.get(account_key or "")
        if listed is None or name not in listed:
            return "unsupported", retired
    return "catalog", ""
