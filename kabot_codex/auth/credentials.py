"""What the provider asks for on every call: a bearer token and, for ChatGPT, an account id.

``resolve_source`` picks where credentials come from (explicit key, profile, environment,
active profile); the returned ``CredentialSource`` hands out fresh credentials and recovers
from a 401 once. Profile sources refresh tokens (see ``kabot_codex.auth.session``).
"""

from __future__ import annotations

import functools
import hashlib
import os
from dataclasses import dataclass, field
from typing import Literal, Protocol

from kabot_codex.auth import jwt
from kabot_codex.errors import NotLoggedInError

__all__ = ["Credentials", "CredentialSource", "StaticSource", "resolve_source"]

ENV_API_KEY = "OPENAI_CODEX_API_KEY"
ENV_PROFILE = "KABOT_PROFILE"

Mode = Literal["chatgpt", "api_key"]


@dataclass(frozen=True)
class Credentials:
    """A bearer token and the account it belongs to. Secrets never appear in ``repr``."""

    mode: Mode
    token: str = field(repr=False)
    account_id: str | None = field(default=None, repr=False)
    profile: str | None = None

    @functools.cached_property
    def account_key(self) -> str:
        """A stable, non-secret key for per-account state (usage-limit memory, catalogs)."""
        # Cached: asked several times per model call (usage-limit check, rate limits, catalog).
        basis = self.account_id or self.token
        return hashlib.sha256(basis.encode()).hexdigest()[:16]


class CredentialSource(Protocol):
    """Hands out credentials for one account; refreshes and recovers from 401s."""

    @property
    def profile(self) -> str | None: ...

    # ``deadline`` is a ``time.monotonic()`` value: past it, stop waiting for a refresh (raise
    # ``RefreshError``); the refresh itself finishes in the background and saves its tokens.
    def get(self, *, deadline: float | None = None) -> Credentials: ...

    async def aget(self, *, deadline: float | None = None) -> Credentials: ...

    def recover(self, rejected: Credentials, *, deadline: float | None = None) -> Credentials:
        """Return credentials to retry with after ``rejected`` got a 401, or raise."""
        ...

    async def arecover(self, rejected: Credentials, *, deadline: float | None = None) -> Credentials: ...


class StaticSource:
    """Credentials given directly (``api_key=`` or the environment); nothing to refresh."""

    def __init__(self, credentials: Credentials) -> None:
        self._credentials = credentials

    @property
    def profile(self) -> str | None:
        return None

    def get(self, *, deadline: float | None = None) -> Credentials:
        return self._credentials

    async def aget(self, *, deadline: float | None = None) -> Credentials:
        return self._credentials

    def recover(self, rejected: Credentials, *, deadline: float | None = None) -> Credentials:
        raise NotLoggedInError(
            "The backend rejected the key or token passed to kabot-codex (HTTP 401)",
            hint="check the api_key / OPENAI_CODEX_API_KEY value, or run `kabot login`",
        )

    async def arecover(self, rejected: Credentials, *, deadline: float | None = None) -> Credentials:
        return self.recover(rejected)

    def __repr__(self) -> str:
        return f"StaticSource({self._credentials!r})"


def credentials_from_key(key: str) -> Credentials:
    """Interpret a user-supplied key: a ChatGPT access JWT keeps ChatGPT mode, else API-key mode."""
    key = key.strip()
    account = jwt.account_id_of(key)
    if account:
        return Credentials(mode="chatgpt", token=key, account_id=account)
    return Credentials(mode="api_key", token=key)


def resolve_source(*, api_key: str | None = None, profile: str | None = None) -> CredentialSource:
    """Pick the credential source for a call.

    Order: an explicit ``api_key``; an explicit ``profile``; ``OPENAI_CODEX_API_KEY``; the
    ``KABOT_PROFILE`` env var or the config's active profile.
    """
    if api_key:
        return StaticSource(credentials_from_key(api_key))
    from kabot_codex.auth.session import session_for

    if profile:
        return session_for(profile)
    env_key = os.environ.get(ENV_API_KEY, "").strip()
    if env_key:
        return StaticSource(credentials_from_key(env_key))
    return session_for(os.environ.get(ENV_PROFILE) or None)
