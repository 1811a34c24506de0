"""A set of OAuth tokens as an immutable value, and the one place expiry is judged.

Pure: no I/O and no clock of its own — callers pass ``now`` (epoch seconds), so tests never
sleep and the refresh policy is visible in one function.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from kabot_codex.auth import jwt

__all__ = ["NO_EXPIRY_MAX_AGE", "REFRESH_WINDOW", "Freshness", "TokenSet"]

REFRESH_WINDOW = 300.0
"""Refresh this many seconds before ``exp``: early enough that a request never starts with a
token that dies in flight (which would cost a 401, a refresh and a retry), as Codex does."""

NO_EXPIRY_MAX_AGE = 8 * 86400.0
"""A token whose expiry cannot be read is refreshed when it is this old (Codex's rule)."""


class Freshness(enum.Enum):
    """FRESH: use it. STALE: still valid but refresh now. EXPIRED: unusable until refreshed."""

    FRESH = "fresh"
    STALE = "stale"
    EXPIRED = "expired"


@dataclass(frozen=True)
class TokenSet:
    """Access, refresh and id token of one ChatGPT login. Secrets never appear in ``repr``."""

    access_token: str = field(repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    id_token: str | None = field(default=None, repr=False)
    account_id: str | None = field(default=None, repr=False)
    expires_at: float | None = None
    last_refresh: float | None = None

    def state(self, now: float, window: float = REFRESH_WINDOW) -> Freshness:
        """Judge the access token at ``now``."""
        if self.expires_at is None:
            # No readable expiry: trust it until it is old, then refresh; a 401 still recovers.
            if self.last_refresh is not None and now - self.last_refresh < NO_EXPIRY_MAX_AGE:
                return Freshness.FRESH
            return Freshness.STALE
        if now >= self.expires_at:
            return Freshness.EXPIRED
        if now >= self.expires_at - window:
            return Freshness.STALE
        return Freshness.FRESH

    @property
    def email(self) -> str | None:
        """The account e-mail from the id or access token claims."""
        return jwt.email_of(self.id_token, self.access_token)

    @property
    def plan(self) -> str | None:
        """The ChatGPT plan (plus, pro, team, ...) from the token claims."""
        return jwt.plan_of(self.id_token, self.access_token)

    @classmethod
    def from_claims(cls, access_token: str, refresh_token: str | None = None, id_token: str | None = None,
                    *, account_id: str | None = None, expires_at: float | None = None,
                    last_refresh: float | None = None) -> TokenSet:
        """Build a token set, filling expiry and account id from the JWT claims when absent."""
        return cls(
            access_token=access_token,
            refresh_token=refresh_token,
            id_token=id_token,
            account_id=jwt.account_id_of(id_token, access_token) or account_id,
            expires_at=jwt.expiry_of(access_token) or expires_at,
            last_refresh=last_refresh,
        )

    @classmethod
    def from_token_response(cls, data: Mapping[str, Any], *, now: float,
                            previous: TokenSet | None = None) -> TokenSet:
        """Build the token set a token-endpoint response describes.

        Every field is optional in a refresh response (Codex keeps what it does not get back);
        only an access token, new or previous, is required. Raises ``ValueError`` otherwise.
        """
        access = _text(data.get("access_token")) or (previous.access_token if previous else None)
        if not access:
            raise ValueError("the token response holds no access_token")
        expires_in = data.get("expires_in")
        expires_at: float | None = None
        try:
            if expires_in is not None:
                expires_at = now + float(expires_in)
        except (TypeError, ValueError):
            expires_at = None
        base = previous or cls(access_token=access)
        merged = replace(
            base,
            access_token=access,
            refresh_token=_text(data.get("refresh_token")) or base.refresh_token,
            id_token=_text(data.get("id_token")) or base.id_token,
            last_refresh=now,
        )
        # The JWT's own exp wins over expires_in: it is what the backend checks.
        return replace(
            merged,
            expires_at=jwt.expiry_of(access) or expires_at,
            account_id=jwt.account_id_of(merged.id_token, access) or base.account_id,
        )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
