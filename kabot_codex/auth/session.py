"""Credentials of one stored profile, kept fresh for the provider.

(Minimal version: reads the store; refresh and single-flight arrive with the login work.)
"""

from __future__ import annotations

import asyncio
import threading

from kabot_codex.auth.credentials import Credentials
from kabot_codex.config import load_config
from kabot_codex.errors import NotLoggedInError

__all__ = ["ProfileSession", "session_for"]


class ProfileSession:
    """Hands out the stored credentials of profile ``name`` (``None``: the active profile)."""

    def __init__(self, name: str | None) -> None:
        self._name = name

    @property
    def profile(self) -> str | None:
        return self._name

    def _load(self) -> Credentials:
        codex = load_config().codex
        name = self._name or codex.active_profile
        stored = codex.profiles.get(name)
        if stored is None:
            raise NotLoggedInError(f"No openai-codex credentials for profile {name!r}")
        if stored.api_key:
            return Credentials(mode="api_key", token=stored.api_key, profile=name)
        if not stored.access_token:
            raise NotLoggedInError(f"Profile {name!r} holds no access token")
        return Credentials(mode="chatgpt", token=stored.access_token, account_id=stored.account_id,
                           profile=name)

    def get(self) -> Credentials:
        return self._load()

    async def aget(self) -> Credentials:
        return await asyncio.to_thread(self._load)

    def recover(self, rejected: Credentials) -> Credentials:
        fresh = self._load()
        if fresh.token != rejected.token:
            return fresh
        raise NotLoggedInError("The backend rejected the stored token (HTTP 401)")

    async def arecover(self, rejected: Credentials) -> Credentials:
        return await asyncio.to_thread(self.recover, rejected)


_sessions: dict[str | None, ProfileSession] = {}
_sessions_lock = threading.Lock()


def session_for(name: str | None) -> ProfileSession:
    """Return the process-wide session of profile ``name`` (one per profile, for single-flight)."""
    with _sessions_lock:
        session = _sessions.get(name)
        if session is None:
            session = _sessions[name] = ProfileSession(name)
        return session
