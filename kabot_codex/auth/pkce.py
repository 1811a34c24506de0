"""PKCE (RFC 7636, S256) and OAuth ``state`` values: pure functions, no I/O."""

from __future__ import annotations

import base64
import hashlib
import secrets

__all__ = ["make_state", "make_verifier", "s256_challenge"]


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def make_verifier() -> str:
    """Return a fresh code verifier: 64 random bytes, base64url without padding (86 chars, as Codex)."""
    return _b64url(secrets.token_bytes(64))


def s256_challenge(verifier: str) -> str:
    """Return the S256 code challenge of ``verifier``."""
    return _b64url(hashlib.sha256(verifier.encode("ascii")).digest())


def make_state() -> str:
    """Return a fresh CSRF ``state`` value (32 random bytes, base64url)."""
    return _b64url(secrets.token_bytes(32))
