"""Token state of the emulated OAuth issuer: JWT minting, rotating refresh tokens, codes.

All mutation happens under one lock so the counters stay exact when dozens of clients
race to refresh the same refresh token (exactly one may win; the rest see
``refresh_token_reused``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "AUTH_CLAIM",
    "CLIENT_ID",
    "PROFILE_CLAIM",
    "AccessCheck",
    "Identity",
    "TokenStore",
    "b64url",
    "s256",
]

CLIENT_ID = "app_EMoamEEZ73f0CkXaXp7hrann"
AUTH_CLAIM = "https://api.openai.com/auth"
PROFILE_CLAIM = "https://api.openai.com/profile"
SCOPE = "openid profile email offline_access"


def b64url(data: bytes) -> str:
    """Encode base64url without padding (JWT / PKCE alphabet)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def s256(verifier: str) -> str:
    """Return the PKCE S256 challenge of ``verifier``."""
    return b64url(hashlib.sha256(verifier.encode("ascii")).digest())


@dataclass(frozen=True)
class Identity:
    """Who a token belongs to."""

    account_id: str
    email: str
    plan: str
    user_id: str


@dataclass
class _Access:
    identity: Identity
    exp: float
    expired: bool = False


@dataclass
class _Refresh:
    identity: Identity
    status: str = "active"  # active | used | revoked


@dataclass
class _Code:
    identity: Identity
    redirect_uris: tuple[str, ...]
    challenge: str
    client_id: str


@dataclass
class _Device:
    device_auth_id: str
    user_code: str
    identity: Identity
    polls: int = 0
    approved: bool = False
    verifier: str = field(default_factory=lambda: b64url(secrets.token_bytes(64)))
    code: str | None = None


@dataclass(frozen=True)
class AccessCheck:
    """Outcome of validating a bearer access token."""

    status: str  # ok | expired | invalid
    identity: Identity | None = None


def _refresh_error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "type": "invalid_request_error", "param": None}}


class TokenStore:
    """Everything the issuer remembers about tokens, behind a single lock."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        # A fresh secret per process: tokens from an earlier emulator run never validate.
        self._secret = secrets.token_bytes(32)
        self.reset()

    def reset(self) -> None:
        """Forget every token, code and device authorization."""
        with self.lock:
            self._access: dict[str, _Access] = {}
            self._refresh: dict[str, _Refresh] = {}
            self._codes: dict[str, _Code] = {}
            self._devices: dict[str, _Device] = {}
            self.refresh_successes = 0
            self.refresh_reuse_errors = 0

    # -- minting ---------------------------------------------------------------------------
    def _jwt(self, claims: dict[str, Any]) -> str:
        header = b64url(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "kabot-emulator"}).encode())
        payload = b64url(json.dumps(claims, separators=(",", ":")).encode())
        signing_input = f"{header}.{payload}".encode("ascii")
        sig = b64url(hmac.new(self._secret, signing_input, hashlib.sha256).digest())
        return f"{header}.{payload}.{sig}"

    def _issue_locked(self, ident: Identity, ttl: float, issuer: str) -> dict[str, Any]:
        now = int(time.time())
        exp = now + int(ttl)
        auth = {
            "chatgpt_account_id": ident.account_id,
            "chatgpt_plan_type": ident.plan,
            "chatgpt_user_id": ident.user_id,
            "user_id": ident.user_id,
        }
        profile = {"email": ident.email, "email_verified": True}
        access = self._jwt({
            "iss": issuer, "aud": ["https://api.openai.com/v1"], "client_id": CLIENT_ID,
            "sub": ident.user_id, "iat": now, "nbf": now, "exp": exp, "jti": secrets.token_hex(12),
            "scp": SCOPE.split(), AUTH_CLAIM: auth, PROFILE_CLAIM: profile,
        })
        id_token = self._jwt({
            "iss": issuer, "aud": [CLIENT_ID], "sub": ident.user_id, "iat": now, "auth_time": now,
            "exp": now + 3600, "email": ident.email, "email_verified": True,
            AUTH_CLAIM: {**auth, "organizations": [], "completed_platform_onboarding": False,
                         "is_org_owner": False},
            PROFILE_CLAIM: profile,
        })
        refresh = "rt_" + secrets.token_urlsafe(40)
        self._access[access] = _Access(ident, float(exp))
        self._refresh[refresh] = _Refresh(ident)
        return {
            "id_token": id_token,
            "access_token": access,
            "refresh_token": refresh,
            "expires_in": int(ttl),
            "token_type": "Bearer",
            "scope": SCOPE,
        }

    def mint(self, ident: Identity, ttl: float, issuer: str) -> dict[str, Any]:
        """Issue a fresh token set (``ttl`` <= 0 yields an already-expired access token)."""
        with self.lock:
            tokens = self._issue_locked(ident, ttl, issuer)
        return {**tokens, "account_id": ident.account_id}

    # -- checks ----------------------------------------------------------------------------
    def check_access(self, token: str) -> AccessCheck:
        """Validate a bearer token by exact lookup (cheaper than re-verifying the signature)."""
        with self.lock:
            rec = self._access.get(token)
            if rec is None:
                return AccessCheck("invalid")
            if rec.expired or time.time() >= rec.exp:
                return AccessCheck("expired", rec.identity)
            return AccessCheck("ok", rec.identity)

    def expire_access(self) -> int:
        """Expire every access token issued so far; return how many."""
        with self.lock:
            for rec in self._access.values():
                rec.expired = True
            return len(self._access)

    def revoke_refresh(self) -> int:
        """Revoke every refresh token issued so far; return how many."""
        with self.lock:
            for rec in self._refresh.values():
                rec.status = "revoked"
            return len(self._refresh)

    def revoke(self, token: str) -> None:
        """Handle ``/oauth/revoke`` for either kind of token (unknown tokens are ignored)."""
        with self.lock:
            if token in self._refresh:
                self._refresh[token].status = "revoked"
            if token in self._access:
                self._access[token].expired = True

    # -- grants ----------------------------------------------------------------------------
    def refresh(self, token: str, ident_now: Identity | None, ttl: float, issuer: str
                ) -> tuple[int, dict[str, Any]]:
        """Rotate ``token``; return (status, body). ``ident_now`` updates the plan/email if same account."""
        if not token:
            return 400, _refresh_error("invalid_request", "Invalid 'refresh_token': empty string.")
        with self.lock:
            rec = self._refresh.get(token)
            if rec is None:
                return 401, _refresh_error(
                    "refresh_token_expired",
                    "Your refresh token has expired. Please try signing in again.")
            if rec.status == "used":
                self.refresh_reuse_errors += 1
                return 401, _refresh_error(
                    "refresh_token_reused",
                    "Your refresh token has already been used to generate a new access token. "
                    "Please try signing in again.")
            if rec.status == "revoked":
                return 401, _refresh_error(
                    "refresh_token_invalidated",
                    "Your refresh token has been invalidated. Please try signing in again.")
            rec.status = "used"
            ident = rec.identity
            if ident_now is not None and ident_now.account_id == ident.account_id:
                ident = ident_now
            self.refresh_successes += 1
            return 200, self._issue_locked(ident, ttl, issuer)

    def create_code(self, ident: Identity, redirect_uris: tuple[str, ...], challenge: str) -> str:
        """Create a one-time authorization code bound to a PKCE challenge."""
        code = "ac_" + secrets.token_urlsafe(32)
        with self.lock:
            self._codes[code] = _Code(ident, redirect_uris, challenge, CLIENT_ID)
        return code

    def exchange_code(self, code: str, redirect_uri: str, verifier: str, client_id: str, ttl: float,
                      issuer: str) -> tuple[int, dict[str, Any]]:
        """Redeem an authorization code (single use) for a token set."""
        def fail(desc: str, error: str = "invalid_grant") -> tuple[int, dict[str, Any]]:
            return 400, {"error": error, "error_description": desc}

        if client_id != CLIENT_ID:
            return 401, {"error": "invalid_client", "error_description": f"Unknown client_id {client_id!r}"}
        with self.lock:
            rec = self._codes.get(code)
            if rec is None:
                return fail("Invalid or already used authorization code.")
            if redirect_uri not in rec.redirect_uris:
                return fail(f"redirect_uri {redirect_uri!r} does not match the authorization request.")
            if not verifier or s256(verifier) != rec.challenge:
                return fail("PKCE verification failed: code_verifier does not match code_challenge.")
            del self._codes[code]
            return 200, self._issue_locked(rec.identity, ttl, issuer)

    # -- device flow -----------------------------------------------------------------------
    def start_device(self, ident: Identity) -> _Device:
        """Create a pending device authorization."""
        letters = "ABCDEFGHJKLMNPQRSTUVWXYZ"
        user_code = "".join(secrets.choice(letters) for _ in range(4)) + "-" + \
            "".join(secrets.choice("0123456789") for _ in range(4))
        dev = _Device("deviceauth_" + secrets.token_hex(12), user_code, ident)
        with self.lock:
            self._devices[dev.device_auth_id] = dev
        return dev

    def approve_devices(self) -> int:
        """Approve every pending device authorization; return how many."""
        with self.lock:
            pending = [d for d in self._devices.values() if not d.approved]
            for dev in pending:
                dev.approved = True
            return len(pending)

    def poll_device(self, device_auth_id: str, user_code: str, pending_polls: int,
                    redirect_uris: tuple[str, ...]) -> tuple[int, dict[str, Any]]:
        """One poll of ``/deviceauth/token``: 403 while pending, then the server-made PKCE code."""
        with self.lock:
            dev = self._devices.get(device_auth_id)
            if dev is None or dev.user_code != user_code:
                return 400, {"error": {"code": "invalid_device_auth",
                                       "message": "Unknown device_auth_id or user_code.",
                                       "type": "invalid_request_error"}}
            dev.polls += 1
            if not dev.approved and dev.polls > pending_polls:
                dev.approved = True
            if not dev.approved:
                return 403, {"error": {"code": "deviceauth_authorization_pending",
                                       "message": "Device authorization is pending. Keep polling.",
                                       "type": "invalid_request_error"}}
            if dev.code is None:
                dev.code = "ac_" + secrets.token_urlsafe(32)
                self._codes[dev.code] = _Code(dev.identity, redirect_uris, s256(dev.verifier), CLIENT_ID)
            return 200, {"authorization_code": dev.code, "code_challenge": s256(dev.verifier),
                         "code_verifier": dev.verifier}
