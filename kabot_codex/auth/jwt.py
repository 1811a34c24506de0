"""Read (never verify) the claims of the JWTs the OpenAI issuer hands out.

We only need the expiry and the ChatGPT account/plan claims; the backend verifies the
signature, so decoding locally without a key is safe for this purpose.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

__all__ = ["AUTH_CLAIM", "PROFILE_CLAIM", "account_id_of", "claims_of", "email_of", "expiry_of", "plan_of"]

AUTH_CLAIM = "https://api.openai.com/auth"
PROFILE_CLAIM = "https://api.openai.com/profile"


def claims_of(token: str | None) -> dict[str, Any]:
    """Return the payload of ``token`` as a dict, or ``{}`` if it is not a readable JWT."""
    if not token or token.count(".") != 2:
        return {}
    payload = token.split(".")[1]
    try:
        raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        claims = json.loads(raw)
    except (binascii.Error, ValueError):
        return {}
    return claims if isinstance(claims, dict) else {}


def _auth(claims: dict[str, Any]) -> dict[str, Any]:
    value = claims.get(AUTH_CLAIM)
    return value if isinstance(value, dict) else {}


def expiry_of(token: str | None) -> float | None:
    """Return the ``exp`` claim (epoch seconds) of ``token``, if any."""
    exp = claims_of(token).get("exp")
    return float(exp) if isinstance(exp, (int, float)) else None


def account_id_of(*tokens: str | None) -> str | None:
    """Return the first ``chatgpt_account_id`` claim found in ``tokens``."""
    for token in tokens:
        claims = claims_of(token)
        value = _auth(claims).get("chatgpt_account_id") or claims.get("chatgpt_account_id")
        if isinstance(value, str) and value:
            return value
    return None


def plan_of(*tokens: str | None) -> str | None:
    """Return the first ``chatgpt_plan_type`` claim found in ``tokens``."""
    for token in tokens:
        value = _auth(claims_of(token)).get("chatgpt_plan_type")
        if isinstance(value, str) and value:
            return value
    return None


def email_of(*tokens: str | None) -> str | None:
    """Return the first e-mail claim found in ``tokens``."""
    for token in tokens:
        claims = claims_of(token)
        profile = claims.get(PROFILE_CLAIM)
        value = (profile.get("email") if isinstance(profile, dict) else None) or claims.get("email")
        if isinstance(value, str) and value:
            return value
    return None
