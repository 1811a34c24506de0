"""Faults that replace the whole HTTP response (status-code faults, Cloudflare, hangs).

Each area has its own error dialect: the ChatGPT backend mixes FastAPI ``{"detail"}`` and
``{"error": {...}}`` bodies, ``/v1`` speaks api.openai.com, and the issuer speaks OAuth.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from kabot_codex.emulator.state import Fault
from kabot_codex.emulator.wire import Exchange

__all__ = ["CLOUDFLARE_PAGE", "apply_http_fault", "openai_error"]

CLOUDFLARE_PAGE = """<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title>
<meta http-equiv="Content-Type" content="text/html; charset=UTF-8"><meta name="robots" content="noindex,nofollow">
</head><body><div class="main-wrapper" role="main"><div class="main-content">
<h1 class="zone-name-title h1">chatgpt.com</h1><h2 class="h2" id="challenge-running">Checking if the site
connection is secure</h2><noscript><div class="h2">Enable JavaScript and cookies to continue</div></noscript>
</div></div><script>(function(){window._cf_chl_opt={cvId: '3',cZone: "chatgpt.com",cType: 'managed'};}());
</script></body></html>"""

BAD_GATEWAY_PAGE = ("<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad "
                    "Gateway</h1></center>\r\n<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n")


PLAN_MESSAGES = {
    "usage_not_included": "Codex is not included in your plan. Upgrade to a plan that includes Codex.",
    "insufficient_quota": "You exceeded your current quota, please check your plan and billing details.",
}


def openai_error(message: str, type_: str, code: str | None, param: str | None = None) -> dict[str, Any]:
    """Return an api.openai.com style error body."""
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def _usage_limit_headers(headers: dict[str, str], resets_in: int, active: str = "codex") -> dict[str, str]:
    """The snapshot after a limit was hit: the plan limit (``codex``) or a metered per-model one
    (e.g. ``codex_bengalfox``, whose windows are ``x-codex-bengalfox-*``), named by
    ``x-codex-active-limit``."""
    now = int(time.time())
    out = dict(headers)
    if "x-codex-primary-used-percent" in out:
        family = "x-codex" if active == "codex" else "x-" + active.replace("_", "-")
        if family != "x-codex":
            out[f"{family}-limit-name"] = "gpt-5.3-codex-spark"
            out[f"{family}-primary-window-minutes"] = "300"
        out[f"{family}-primary-used-percent"] = "100"
        out[f"{family}-primary-reset-after-seconds"] = str(resets_in)
        out[f"{family}-primary-reset-at"] = str(now + resets_in)
        out["x-codex-active-limit"] = active
    return out


def apply_http_fault(ex: Exchange, fault: Fault | None, style: str, headers: dict[str, str],
                     model: str | None = None) -> bool:
    """Answer ``ex`` according to ``fault`` and return True, or return False to carry on.

    ``style`` is ``codex``, ``openai`` or ``oauth``; ``hang`` sleeps and then carries on.
    """
    if fault is None:
        return False
    kind = fault.kind
    if kind == "hang":
        time.sleep(float(fault.param("seconds", 30)))
        return False
    cf_headers = {**headers, "cf-ray": f"{secrets.token_hex(8)}-IAD"}
    if kind == "cloudflare":
        ex.send_text(403, CLOUDFLARE_PAGE, {
            "cf-ray": cf_headers["cf-ray"], "cf-mitigated": "challenge", "server": "cloudflare",
            "Set-Cookie": f"__cf_bm={secrets.token_urlsafe(32)}; path=/; HttpOnly; Secure; SameSite=None",
        }, content_type="text/html; charset=UTF-8")
        return True
    if kind == "bad_gateway":
        ex.send_text(502, BAD_GATEWAY_PAGE, cf_headers, content_type="text/html")
        return True
    if style == "oauth":
        _oauth_fault(ex, fault)
    elif style == "openai":
        _openai_fault(ex, fault, headers, model)
    else:
        _codex_fault(ex, fault, headers)
    return True


def _codex_fault(ex: Exchange, fault: Fault, headers: dict[str, str]) -> None:
    kind = fault.kind
    if kind == "unauthorized":
        ex.send_json(401, {"detail": "Could not validate credentials"}, headers)
    elif kind == "usage_limit":
        resets_in = int(fault.param("resets_in_seconds", 3600))
        plan = str(fault.param("plan_type", headers.get("x-codex-plan-type", "plus")))
        error_type = str(fault.param("error_type", "usage_limit_reached"))
        if error_type != "usage_limit_reached":  # usage_not_included / insufficient_quota: no reset
            ex.send_json(429, {"error": {"type": error_type, "code": error_type, "plan_type": plan,
                                         "message": PLAN_MESSAGES.get(error_type, error_type)}}, headers)
            return
        error: dict[str, Any] = {
            "type": "usage_limit_reached", "message": "The usage limit has been reached", "plan_type": plan,
            "resets_at": int(time.time()) + resets_in, "eligible_promo": None, "resets_in_seconds": resets_in,
        }
        if not fault.param("body_resets", True):  # some replies carry the reset only in headers
            del error["resets_at"], error["resets_in_seconds"]
        ex.send_json(429, {"error": error},
                     _usage_limit_headers(headers, resets_in, str(fault.param("active_limit", "codex"))))
    elif kind == "rate_limit":
        retry = fault.param("retry_after", 2)
        ex.send_json(429, openai_error(
            f"Rate limit reached for requests. Please try again in {retry}s.", "rate_limit_exceeded",
            "rate_limit_exceeded"), {**headers, "retry-after": str(retry)})
    elif kind == "server_error":
        ex.send_json(500, openai_error("An error occurred while processing your request.", "server_error",
                                       "server_error"), headers)
    elif kind == "overloaded":
        ex.send_json(503, openai_error("Our servers are currently overloaded. Please try again later.",
                                       "service_unavailable_error", "server_is_overloaded"), headers)
    else:  # bad_request
        ex.send_json(400, {"detail": fault.param("detail", "Bad Request")}, headers)


def _openai_fault(ex: Exchange, fault: Fault, headers: dict[str, str], model: str | None) -> None:
    kind = fault.kind
    if kind == "unauthorized":
        ex.send_json(401, openai_error("Incorrect API key provided. You can find your API key at "
                                       "https://platform.openai.com/account/api-keys.",
                                       "invalid_request_error", "invalid_api_key"), headers)
    elif kind == "usage_limit":
        ex.send_json(429, openai_error(
            "You exceeded your current quota, please check your plan and billing details. For more "
            "information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.",
            "insufficient_quota", "insufficient_quota"), headers)
    elif kind == "rate_limit":
        retry = fault.param("retry_after", 2)
        ex.send_json(429, openai_error(
            f"Rate limit reached for {model or 'the model'} in organization org-emulator on requests per min "
            f"(RPM): Limit 3, Used 3, Requested 1. Please try again in {retry}s.", "requests",
            "rate_limit_exceeded"), {**headers, "retry-after": str(retry)})
    elif kind == "server_error":
        ex.send_json(500, openai_error("The server had an error while processing your request. Sorry about that!",
                                       "server_error", None), headers)
    elif kind == "overloaded":
        ex.send_json(503, openai_error("The engine is currently overloaded, please try again later",
                                       "server_error", "server_is_overloaded"), headers)
    else:  # bad_request
        ex.send_json(400, openai_error(str(fault.param("detail", "Bad request")), "invalid_request_error",
                                       None), headers)


def _oauth_fault(ex: Exchange, fault: Fault) -> None:
    kind = fault.kind
    if kind == "unauthorized":
        ex.send_json(401, {"error": "invalid_client", "error_description": "Client authentication failed."})
    elif kind in ("usage_limit", "rate_limit"):
        retry = fault.param("retry_after", 2)
        ex.send_json(429, {"error": "rate_limit_exceeded", "error_description": "Too many requests."},
                     {"retry-after": str(retry)})
    elif kind == "server_error":
        ex.send_json(500, {"error": "server_error", "error_description": "Internal server error."})
    elif kind == "overloaded":
        ex.send_json(503, {"error": "temporarily_unavailable", "error_description": "Try again later."})
    else:  # bad_request
        ex.send_json(400, {"error": "invalid_request", "error_description": fault.param("detail", "Bad request")})
