"""The OpenAI issuer's OAuth endpoints: authorize URL, code exchange, refresh, revoke.

The browser session (authorize URL and code exchange) goes through requests-oauthlib, with
its loggers redacted; refresh sits on the request path, so it uses httpx with a hard timeout.
The issuer base is read from ``OPENAI_CODEX_AUTH_BASE`` at call time, so tests and the
emulator can point everything at a loopback server.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx

from kabot_codex.auth.redact import redact, remember_secret, silence_oauth_loggers
from kabot_codex.auth.tokens import TokenSet
from kabot_codex.errors import LoginError, RefreshError, ReloginRequiredError
from kabot_codex.identity import originator, user_agent

__all__ = [
    "CLIENT_ID",
    "DEFAULT_AUTH_BASE",
    "ENV_AUTH_BASE",
    "auth_base",
    "authorize_url",
    "classify_refresh_failure",
    "error_of",
    "exchange_code",
    "refresh",
    "request_headers",
    "revoke",
]

ENV_AUTH_BASE = "OPENAI_CODEX_AUTH_BASE"
DEFAULT_AUTH_BASE = "https://auth.openai.com"
CLIENT_ID = "app_EMoamEEZ73f0CkXaXp7hrann"  # the Codex CLI's public client (no secret)
SCOPES = ("openid", "profile", "email", "offline_access")  # offline_access yields a refresh token

REFRESH_TIMEOUT = httpx.Timeout(20.0, connect=5.0)
EXCHANGE_TIMEOUT = 30.0

_PERMANENT: dict[str, str] = {
    "refresh_token_reused": "Your login was used to refresh somewhere else and is no longer valid "
                            "(refresh_token_reused)",
    "refresh_token_expired": "Your login has expired (refresh_token_expired)",
    "refresh_token_invalidated": "Your login was revoked (refresh_token_invalidated)",
    "invalid_grant": "Your login is no longer accepted by the issuer (invalid_grant)",
    "token_expired": "Your login has expired (token_expired)",
}


def auth_base() -> str:
    """Return the issuer base URL (``OPENAI_CODEX_AUTH_BASE`` or ``https://auth.openai.com``)."""
    return (os.environ.get(ENV_AUTH_BASE) or DEFAULT_AUTH_BASE).rstrip("/")


def request_headers() -> dict[str, str]:
    """Headers sent on every issuer call: the same identity as the backend calls."""
    origin = originator()
    return {"originator": origin, "User-Agent": user_agent(origin), "Accept": "application/json"}


def error_of(body: Any) -> tuple[str | None, str | None]:
    """Return (code, description) from either error shape the issuer uses."""
    if not isinstance(body, Mapping):
        return None, None
    error = body.get("error")
    if isinstance(error, Mapping):
        code, text = error.get("code") or error.get("type"), error.get("message")
    else:
        code, text = error, body.get("error_description") or body.get("message")
    return (str(code) if code else None), (redact(str(text))[:300] if text else None)


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def classify_refresh_failure(status: int, body: Any) -> RefreshError:
    """Turn a failed refresh response into the error to raise (never includes the body's secrets).

    Any 401 or a known refresh-token code is permanent (Codex's rule): only a new login helps.
    Everything else (5xx, 429, odd 4xx) may pass and is retryable.
    """
    code, text = error_of(body)
    if code in _PERMANENT:
        return ReloginRequiredError(_PERMANENT[code], code=code)
    if status == 401:
        suffix = f", {code}" if code else ""
        return ReloginRequiredError(f"The issuer rejected the stored login (HTTP 401{suffix})", code=code)
    detail = f", {code}" if code else ""
    detail += f": {text}" if text else ""
    return RefreshError(f"The token endpoint failed (HTTP {status}{detail})",
                        hint="this is usually temporary; the next call refreshes again")


def refresh(tokens: TokenSet, *, now: float | None = None) -> TokenSet:
    """Redeem ``tokens.refresh_token`` once and return the new token set.

    The refresh token is single-use: the caller must persist the result before anything else
    can fail, and must hold the cross-process lock while calling this.
    """
    if not tokens.refresh_token:
        raise ReloginRequiredError("The stored login has no refresh token")
    body = {"client_id": CLIENT_ID, "grant_type": "refresh_token", "refresh_token": tokens.refresh_token}
    try:
        with httpx.Client(timeout=REFRESH_TIMEOUT, headers=request_headers()) as client:
            response = client.post(f"{auth_base()}/oauth/token", json=body)
    except httpx.HTTPError as exc:
        raise RefreshError(f"Could not reach the token endpoint at {auth_base()} ({type(exc).__name__})",
                           hint="check the network; the next call refreshes again") from None
    if response.status_code != 200:
        raise classify_refresh_failure(response.status_code, _json(response))
    data = _json(response)
    if not isinstance(data, Mapping):
        raise RefreshError("The token endpoint returned a response that is not JSON")
    try:
        fresh = TokenSet.from_token_response(data, now=time.time() if now is None else now,
                                             previous=tokens)
    except ValueError as exc:
        raise RefreshError(f"The token endpoint returned no usable token ({exc})") from None
    remember_secret(fresh.access_token, fresh.refresh_token, fresh.id_token)
    return fresh


def revoke(token: str | None, *, hint: str = "refresh_token") -> bool:
    """Ask the issuer to revoke ``token`` (best effort: logout must work offline too)."""
    if not token:
        return False
    body = {"client_id": CLIENT_ID, "token": token, "token_type_hint": hint}
    try:
        with httpx.Client(timeout=httpx.Timeout(5.0), headers=request_headers()) as client:
            return client.post(f"{auth_base()}/oauth/revoke", json=body).is_success
    except httpx.HTTPError:
        return False


# --- the browser/device authorization-code session (requests-oauthlib) ---------------------

@contextlib.contextmanager
def _loopback_http_allowed(url: str) -> Iterator[None]:
    """Let oauthlib talk plain HTTP to a loopback issuer (the emulator), and to nothing else.

    oauthlib refuses non-HTTPS URLs unless OAUTHLIB_INSECURE_TRANSPORT is set; we set it only
    around a call whose target is 127.0.0.1/localhost, never for a real issuer.
    """
    parts = urlsplit(url)
    loopback = parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost", "::1")
    key = "OAUTHLIB_INSECURE_TRANSPORT"
    previous = os.environ.get(key)
    if loopback:
        os.environ[key] = "1"
    try:
        yield
    finally:
        if loopback:
            if previous is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = previous


def authorize_url(*, redirect_uri: str, state: str, code_challenge: str) -> str:
    """Return the ``/oauth/authorize`` URL with PKCE, state and the issuer's Codex parameters."""
    from requests_oauthlib import OAuth2Session

    silence_oauth_loggers()
    endpoint = f"{auth_base()}/oauth/authorize"
    with _loopback_http_allowed(endpoint), OAuth2Session(CLIENT_ID, redirect_uri=redirect_uri,
                                                         scope=list(SCOPES)) as session:
        url, _ = session.authorization_url(
            endpoint,
            state=state,
            code_challenge=code_challenge,
            code_challenge_method="S256",
            id_token_add_organizations="true",
            codex_cli_simplified_flow="true",
            originator=originator(),
        )
    return str(url)


def _raise_for_token_error(response: Any) -> Any:
    """requests-oauthlib compliance hook: turn an error response into a LoginError with its code."""
    if 200 <= response.status_code < 300:
        return response
    try:
        body = response.json()
    except ValueError:
        body = None
    code, text = error_of(body)
    message = f"The issuer refused the authorization code (HTTP {response.status_code}"
    message += f", {code})" if code else ")"
    if text:
        message += f": {text}"
    raise LoginError(message, code=code, hint="run `kabot login` again")


def exchange_code(code: str, *, verifier: str, redirect_uri: str) -> TokenSet:
    """Exchange an authorization code (+ PKCE verifier) for tokens at ``/oauth/token``."""
    import requests
    from oauthlib.oauth2 import OAuth2Error
    from requests_oauthlib import OAuth2Session

    silence_oauth_loggers()
    endpoint = f"{auth_base()}/oauth/token"
    session = OAuth2Session(CLIENT_ID, redirect_uri=redirect_uri)
    session.headers.update(request_headers())
    session.register_compliance_hook("access_token_response", _raise_for_token_error)
    # No scope on the session: oauthlib would raise a Warning (as an exception) if the issuer
    # reports a different scope than requested, which is not a reason to fail a login.
    try:
        with _loopback_http_allowed(endpoint), session:
            token = session.fetch_token(endpoint, code=code, code_verifier=verifier,
                                        include_client_id=True, timeout=EXCHANGE_TIMEOUT)
    except LoginError:
        raise
    except requests.RequestException as exc:
        raise LoginError(f"Could not reach the token endpoint at {auth_base()} ({type(exc).__name__})",
                         hint="check the network and run `kabot login` again") from None
    except (OAuth2Error, ValueError, Warning) as exc:
        raise LoginError(f"The token endpoint returned an unusable response ({type(exc).__name__})",
                         code=getattr(exc, "error", None), hint="run `kabot login` again") from None
    if not token.get("refresh_token"):
        raise LoginError("The issuer returned no refresh token (was offline_access granted?)",
                         hint="run `kabot login` again")
    try:
        tokens = TokenSet.from_token_response(token, now=time.time())
    except ValueError as exc:
        raise LoginError(f"The token endpoint returned no usable token ({exc})") from None
    remember_secret(tokens.access_token, tokens.refresh_token, tokens.id_token)
    return tokens
