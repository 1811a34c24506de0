"""Mutable emulator state other than tokens: account, faults, scripted replies, stats, log.

One lock guards it all; every critical section is a few dict operations, so contention
stays negligible even with hundreds of concurrent streams.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from kabot_codex.emulator.model_catalog import CATALOG, DEFAULT_RETIRED, catalog_etag
from kabot_codex.emulator.tokens import Identity

__all__ = ["STREAM_FAULTS", "Account", "Fault", "State", "FAULT_KINDS", "TARGETS"]

#: Faults that only make sense once a stream (or a response body) has started.
STREAM_FAULTS = frozenset({
    "context_length", "response_failed", "error_event", "incomplete", "drop_stream", "reset_stream",
    "malformed_sse", "slow", "transcript",
})
FAULT_KINDS = STREAM_FAULTS | {
    "unauthorized", "usage_limit", "rate_limit", "server_error", "overloaded", "bad_gateway", "cloudflare",
    "bad_request", "hang",
}
TARGETS = frozenset({"codex", "openai", "oauth", "models", "usage", "any"})
REPLY_FIELDS = ("text", "chunks", "tool_calls", "reasoning", "usage")
MAX_RECORDED = 500


@dataclass
class Account:
    """Settings of the (single) emulated ChatGPT account; patched via ``/_emulator/account``."""

    account_id: str = "8f3c2a1e-5b7d-4e9f-a0c6-2d4b6e8f1a3c"
    email: str = "dev@kabot-emulator.test"
    plan: str = "plus"
    user_id: str = "user-KabotEmulator0001"
    models: list[str] | None = None  # None: every non-retired catalog model
    retired: list[str] = field(default_factory=lambda: list(DEFAULT_RETIRED))
    token_ttl: float = 3600
    device_pending_polls: int = 2
    device_interval: str = "1"
    authorize_error: str | None = None
    authorize_error_description: str | None = None
    api_keys: list[str] | None = None  # None: any key starting with "sk-"

    def identity(self) -> Identity:
        """Return the identity tokens are minted for."""
        return Identity(self.account_id, self.email, self.plan, self.user_id)

    def allowed_models(self) -> list[str]:
        """Return the slugs this account may call (hidden included, retired excluded)."""
        base = self.models if self.models is not None else list(CATALOG)
        return [s for s in base if s not in self.retired]


@dataclass
class Fault:
    """One queued fault; ``count`` < 0 means "until reset"."""

    kind: str
    count: int = 1
    target: str = "codex"
    model: str | None = None
    params: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def none(cls) -> Fault:
        """Return a placeholder meaning "no fault" (saves None checks at every use)."""
        return cls(kind="", count=0, target="any")

    def param(self, name: str, default: Any) -> Any:
        """Return a fault parameter, falling back to ``default`` when absent or null."""
        value = self.params.get(name)
        return default if value is None else value


class State:
    """Everything the control API can change or inspect (tokens live in ``TokenStore``)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.started = time.time()
        self.reset()

    def reset(self) -> None:
        """Back to defaults (the control API's ``reset``)."""
        with self.lock:
            self.account = Account()
            self.faults: list[Fault] = []
            self.replies: dict[str, deque[dict[str, Any]]] = {"codex": deque(), "openai": deque()}
            self.default_reply: dict[str, dict[str, Any] | None] = {"codex": None, "openai": None}
            self.counts: Counter[str] = Counter()
            self.connections = 0
            self.control_connections = 0
            self.recorded: deque[dict[str, Any]] = deque(maxlen=MAX_RECORDED)
            self.usage_calls: Counter[str] = Counter()
            self.prompt_cache: dict[tuple[str, str], int] = {}

    # -- account ---------------------------------------------------------------------------
    def patch_account(self, fields: dict[str, Any]) -> dict[str, Any]:
        """Apply a partial account update; unknown names raise ``ValueError``."""
        with self.lock:
            known = set(asdict(self.account))
            unknown = set(fields) - known
            if unknown:
                raise ValueError(f"unknown account field(s): {sorted(unknown)}; known: {sorted(known)}")
            for name, value in fields.items():
                if name == "device_interval" and value is not None:
                    value = str(value)
                setattr(self.account, name, value)
            return asdict(self.account)

    def account_snapshot(self) -> Account:
        """Return a copy of the account settings (safe to read without the lock)."""
        # Shallow is enough: patch_account replaces attributes, it never mutates lists in place.
        with self.lock:
            return replace(self.account)

    def models_etag(self) -> str:
        """Return the ETag of the current account's model set."""
        return catalog_etag(self.account_snapshot().allowed_models())

    # -- faults and replies ----------------------------------------------------------------
    def add_fault(self, fault: Fault) -> None:
        """Queue ``fault`` (FIFO among faults that match the same request)."""
        if fault.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {fault.kind!r}; known: {sorted(FAULT_KINDS)}")
        if fault.target not in TARGETS:
            raise ValueError(f"unknown fault target {fault.target!r}; known: {sorted(TARGETS)}")
        with self.lock:
            self.faults.append(fault)

    def take_fault(self, target: str, model: str | None, phase: str = "http",
                   account_id: str | None = None) -> Fault | None:
        """Consume one matching fault of ``phase``: "http" (whole-response kinds) or "stream".

        Endpoints draw "http" faults before validating the body and "stream" faults only once
        the request is known to be valid, so a stream fault is never wasted on a bad request.
        A fault with an ``account_id`` parameter only hits that account (one account of a pool
        at its usage limit while the others serve).
        """
        want_stream = phase == "stream"
        with self.lock:
            for i, fault in enumerate(self.faults):
                if fault.target not in (target, "any"):
                    continue
                if fault.model is not None and fault.model != model:
                    continue
                if fault.params.get("account_id") not in (None, account_id):
                    continue
                if (fault.kind in STREAM_FAULTS) != want_stream:
                    continue
                if fault.count > 0:
                    fault.count -= 1
                    if fault.count == 0:
                        del self.faults[i]
                return fault
        return None

    def push_reply(self, target: str, reply: dict[str, Any]) -> None:
        """Queue one scripted reply for ``target``."""
        with self.lock:
            self.replies[_reply_target(target)].append(reply)

    def set_default_reply(self, target: str, reply: dict[str, Any] | None) -> None:
        """Set (or clear, with ``None``) the sticky reply used when the queue is empty."""
        with self.lock:
            self.default_reply[_reply_target(target)] = reply

    def take_reply(self, target: str) -> dict[str, Any] | None:
        """Pop the next scripted reply, else the sticky default, else ``None``."""
        with self.lock:
            queue = self.replies[target]
            return queue.popleft() if queue else self.default_reply[target]

    # -- accounting ------------------------------------------------------------------------
    def count(self, name: str) -> None:
        """Increment the request counter ``name``."""
        with self.lock:
            self.counts[name] += 1

    def note_connection(self, control: bool) -> None:
        """Count a new TCP connection, classified by its first request."""
        with self.lock:
            if control:
                self.control_connections += 1
            else:
                self.connections += 1

    def record(self, entry: dict[str, Any]) -> None:
        """Append to the bounded request log."""
        with self.lock:
            self.recorded.append(entry)

    def recorded_requests(self, limit: int | None, path_contains: str | None) -> list[dict[str, Any]]:
        """Return logged requests, newest last."""
        with self.lock:
            items = list(self.recorded)
        if path_contains:
            items = [r for r in items if path_contains in r["path"]]
        if limit is not None and limit >= 0:
            items = items[-limit:] if limit else []
        return items

    def note_usage(self, account_id: str) -> int:
        """Count one served model call for the account and return the new total."""
        with self.lock:
            self.usage_calls[account_id] += 1
            return self.usage_calls[account_id]

    def usage_of(self, account_id: str) -> int:
        """Return how many model calls the account has made."""
        with self.lock:
            return self.usage_calls[account_id]

    def cached_tokens(self, account_id: str, key: str | None, input_tokens: int) -> int:
        """Emulate prompt caching: a repeated ``prompt_cache_key`` hits the previous prefix."""
        if not key:
            return 0
        with self.lock:
            previous = self.prompt_cache.get((account_id, key))
            self.prompt_cache[(account_id, key)] = input_tokens
        if previous is None:
            return 0
        # The previous request is normally a prefix of this one; otherwise assume half matched.
        return previous if previous <= input_tokens else max(1, input_tokens // 2)

    def stats(self, refresh_successes: int, refresh_reuse_errors: int) -> dict[str, Any]:
        """Return the ``/_emulator/stats`` document."""
        with self.lock:
            return {
                "connections": self.connections,
                "control_connections": self.control_connections,
                "requests": dict(self.counts),
                "refresh_successes": refresh_successes,
                "refresh_reuse_errors": refresh_reuse_errors,
                "queued_faults": [asdict(f) for f in self.faults],
                "queued_replies": {t: len(q) for t, q in self.replies.items()},
                "usage_calls": dict(self.usage_calls),
            }


def _reply_target(target: str) -> str:
    if target not in ("codex", "openai"):
        raise ValueError(f"reply target must be 'codex' or 'openai', not {target!r}")
    return target
