"""The pure parts: token freshness, token responses, PKCE, redaction, error classification."""

from __future__ import annotations

import base64
import hashlib
import json
import logging

import pytest

from kabot_codex.auth import oauth, pkce
from kabot_codex.auth.redact import RedactingFilter, redact, remember_secret
from kabot_codex.auth.tokens import NO_EXPIRY_MAX_AGE, REFRESH_WINDOW, Freshness, TokenSet
from kabot_codex.errors import RefreshError, ReloginRequiredError


def make_jwt(claims: dict[str, object]) -> str:
    def part(obj: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none'})}.{part(claims)}.sig"


NOW = 1_800_000_000.0


@pytest.mark.parametrize(
    ("expires_at", "state"),
    [
        (NOW + REFRESH_WINDOW + 1, Freshness.FRESH),  # boundary: one second outside the window
        (NOW + REFRESH_WINDOW, Freshness.STALE),
        (NOW + 1, Freshness.STALE),
        (NOW, Freshness.EXPIRED),
        (NOW - 10, Freshness.EXPIRED),
    ],
)
def test_state_around_the_refresh_window(expires_at: float, state: Freshness) -> None:
    assert TokenSet("a", expires_at=expires_at).state(NOW) is state


def test_unknown_expiry_is_fresh_until_old() -> None:
    assert TokenSet("a", last_refresh=NOW - 3600).state(NOW) is Freshness.FRESH
    assert TokenSet("a", last_refresh=NOW - NO_EXPIRY_MAX_AGE - 1).state(NOW) is Freshness.STALE
    assert TokenSet("a").state(NOW) is Freshness.STALE


def test_token_response_prefers_jwt_exp_and_keeps_what_is_missing() -> None:
    access = make_jwt({"exp": NOW + 999, "https://api.openai.com/auth": {"chatgpt_account_id": "acc-2",
                                                                         "chatgpt_plan_type": "pro"}})
    previous = TokenSet("old", "rt-old", "id-old", account_id="acc-1", expires_at=NOW)
    fresh = TokenSet.from_token_response({"access_token": access, "expires_in": 10}, now=NOW, previous=previous)
    assert fresh.expires_at == NOW + 999
    assert fresh.refresh_token == "rt-old" and fresh.id_token == "id-old"
    assert fresh.account_id == "acc-2" and fresh.plan == "pro"
    assert fresh.last_refresh == NOW


def test_token_response_without_exp_uses_expires_in() -> None:
    fresh = TokenSet.from_token_response({"access_token": "opaque", "refresh_token": "r", "expires_in": "60"},
                                         now=NOW)
    assert fresh.expires_at == NOW + 60


def test_token_response_needs_an_access_token() -> None:
    with pytest.raises(ValueError):
        TokenSet.from_token_response({"refresh_token": "r"}, now=NOW)


def test_repr_hides_secrets() -> None:
    text = repr(TokenSet("SENTINEL-ACCESS", "SENTINEL-REFRESH", "SENTINEL-ID", account_id="SENTINEL-ACC"))
    assert "SENTINEL" not in text


def test_pkce_pair_matches_rfc7636() -> None:
    verifier = pkce.make_verifier()
    assert len(verifier) == 86 and 43 <= len(verifier) <= 128
    digest = hashlib.sha256(verifier.encode()).digest()
    assert pkce.s256_challenge(verifier) == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert pkce.make_state() != pkce.make_state()


@pytest.mark.parametrize(
    "text",
    [
        'Response content {"access_token": "SENTINELvalue123", "expires_in": 3}',
        "grant_type=refresh_token&refresh_token=SENTINELvalue123&client_id=x",
        "{'refresh_token': 'SENTINELvalue123'}",
        "Authorization: Bearer SENTINELvalue123",
        "GET /auth/callback?code=SENTINELvalue123&state=abc",
        "key sk-SENTINELvalue123",
    ],
)
def test_redact_masks_token_shapes(text: str) -> None:
    assert "SENTINELvalue123" not in redact(text)


def test_redact_masks_jwts_and_remembered_secrets() -> None:
    token = make_jwt({"exp": 1})
    remember_secret("opaque-SENTINEL-remembered")
    out = redact(f"a {token} b opaque-SENTINEL-remembered c")
    assert token not in out and "SENTINEL" not in out


def test_filter_rewrites_records(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("tests.redact")
    logger.addFilter(RedactingFilter())
    with caplog.at_level(logging.DEBUG, logger="tests.redact"):
        logger.debug("Obtained token %s.", {"access_token": "SENTINELvalue123"})
    assert "SENTINELvalue123" not in caplog.text and "Obtained token" in caplog.text


@pytest.mark.parametrize(
    ("status", "body", "permanent"),
    [
        (401, {"error": {"code": "refresh_token_reused", "message": "used"}}, True),
        (400, {"error": {"code": "refresh_token_reused"}}, True),
        (401, {"error": {"code": "refresh_token_invalidated"}}, True),
        (400, {"error": "refresh_token_expired"}, True),
        (400, {"error": "invalid_grant", "error_description": "bad"}, True),
        (401, None, True),
        (500, {"error": "server_error"}, False),
        (429, None, False),
        (400, {"error": {"code": "invalid_request"}}, False),
    ],
)
def test_refresh_failures_are_classified(status: int, body: object, permanent: bool) -> None:
    err = oauth.classify_refresh_failure(status, body)
    assert isinstance(err, RefreshError)
    assert isinstance(err, ReloginRequiredError) is permanent
    if permanent:
        assert "kabot login" in str(err)
