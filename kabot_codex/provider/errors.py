"""Turn backend failures into LiteLLM exception classes the Router understands.

Each exception carries a real ``httpx.Response`` (status + ``retry-after``) because the Router
only sees Retry-After through ``.response.headers``, and a plain exception would become an
uncooled ``APIConnectionError`` (litellm-plugin-facts.md §3.1, §8.6).

Every exception the provider raises is built by ``_build`` here: its message passes through
``redact`` (backend and proxy text may echo the Authorization header) and the request and
response it carries are credential-free copies (docs/internals/network.md).
"""

from __future__ import annotations

import json
import math
import re
import time
from dataclasses import dataclass
from typing import Any, NoReturn

import httpx
import litellm

from kabot_codex.auth.redact import redact
from kabot_codex.errors import KabotError, RefreshError, ReloginRequiredError
from kabot_codex.provider.events import UpstreamFailure, retry_after_from
from kabot_codex.provider.transport import limit_family

__all__ = [
    "MappedError",
    "UnknownProfileRequestError",
    "auth_failure",
    "bad_input",
    "from_failure",
    "from_response",
    "from_transport",
    "limit_window",
    "plan_error",
    "throw",
    "timed_out",
    "unknown_profile_error",
    "usage_limit_error",
]

PROVIDER = "openai-codex"
LOGIN_FIX = "run `kabot login` (or `kabot status` to see your profiles)"
MODELS_FIX = "see `kabot models` for the models this account can use"
_BODY_LIMIT = 2000
_POLICY_CODES = {"cyber_policy", "bio_policy", "invalid_prompt", "content_policy_violation", "content_filter"}


@dataclass
class MappedError:
    """The exception to raise plus what the provider should remember about it."""

    exception: Exception
    usage_limit_resets_at: float | None = None
    unsupported_model: bool = False


# Response headers that would be wrong on the copy (its body is already decoded text) or
# that carry session secrets.
_DROPPED_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding", "set-cookie",
                              "authorization", "proxy-authorization", "cookie"})


def _safe_request(request: httpx.Request) -> httpx.Request:
    """The request without headers, body, query or user info: only what says where it went."""
    url = request.url
    return httpx.Request(request.method, httpx.URL(scheme=url.scheme, host=url.host, port=url.port,
                                                   path=url.path))


def _synthetic(status: int, request: httpx.Request, retry_after: float | None = None,
               headers: httpx.Headers | None = None, body: bytes = b"") -> httpx.Response:
    kept = httpx.Headers({k: redact(v) for k, v in (headers or {}).items() if k.lower() not in _DROPPED_HEADERS})
    if retry_after is not None:
        kept["retry-after"] = str(max(1, math.ceil(retry_after)))
    content = redact(body[:_BODY_LIMIT].decode("utf-8", "replace")).encode() if body else b""
    return httpx.Response(status, headers=kept, content=content, request=_safe_request(request))


def _build(cls: type[Exception], message: str, *, model: str, request: httpx.Request | None = None,
           response: httpx.Response | None = None, **extra: Any) -> Exception:
    """The one place provider exceptions are made: the message is redacted here."""
    text = redact(message)
    if cls is litellm.APIConnectionError:
        return cls(message=text, llm_provider=PROVIDER, model=model,
                   request=_safe_request(request) if request is not None else None)
    return cls(message=text, llm_provider=PROVIDER, model=model, response=response, **extra)


def throw(exc: BaseException) -> NoReturn:
    """Raise ``exc`` with no chained context.

    Raised inside an ``except`` block, an exception keeps the one being handled as its
    ``__context__`` (printed in tracebacks, walked by error trackers), and the raw backend
    text in there was never redacted; ``from None`` only hides it from printing.
    """
    try:
        raise exc
    finally:
        exc.__context__ = None
        exc.__cause__ = None


def _parse_body(body: bytes) -> tuple[dict[str, Any], str]:
    text = body[:_BODY_LIMIT].decode("utf-8", "replace")
    try:
        data = json.loads(body)
    except ValueError:
        return {}, text
    return (data if isinstance(data, dict) else {}), text


_TITLE = re.compile(r"(?is)<title[^>]*>(.*?)</title>")
_MESSAGE_LIMIT = 400


def _one_line(text: str) -> str:
    """Backend text as one short line: an HTML page becomes its title."""
    if "<html" in text[:500].lower() or "<!doctype html" in text[:500].lower():
        title = _TITLE.search(text)
        text = f"an HTML page ({title.group(1).strip()})" if title else "an HTML page"
    line = " ".join(text.split())
    return line if len(line) <= _MESSAGE_LIMIT else line[:_MESSAGE_LIMIT - 1] + "…"


def _error_fields(data: dict[str, Any], text: str) -> tuple[str | None, str | None, str]:
    """Return (type, code, message) from either FastAPI ``detail`` or OpenAI ``error`` bodies."""
    kind, code, message = _raw_error_fields(data, text)
    return kind, code, _one_line(message) or "no details"


def _raw_error_fields(data: dict[str, Any], text: str) -> tuple[str | None, str | None, str]:
    error = data.get("error")
    if isinstance(error, dict):
        return error.get("type"), error.get("code"), str(error.get("message") or text)
    detail = data.get("detail")
    if isinstance(detail, dict):
        return None, detail.get("code"), str(detail.get("message") or detail.get("code") or text)
    if isinstance(detail, str):
        return None, None, detail
    if isinstance(error, str):
        return error, error, str(data.get("error_description") or error)
    return None, None, text.strip() or "no details"


def _resets_at(error: dict[str, Any], headers: httpx.Headers, now: float) -> float:
    if isinstance(error.get("resets_in_seconds"), (int, float)):
        return now + float(error["resets_in_seconds"])
    if isinstance(error.get("resets_at"), (int, float)):
        return float(error["resets_at"])
    window = limit_window(headers)
    if window is not None:
        return window
    return now + 3600.0  # unknown reset: assume the typical 5-hour window is far off


def limit_window(headers: httpx.Headers | dict[str, str]) -> float | None:
    """Return when the exhausted window of the limit in force resets (epoch s), from headers.

    ``x-codex-active-limit`` names the limit family (``codex``, or a metered one whose headers
    are ``x-codex-<name>-*``); within it the fuller window is the one that was hit. Its
    ``reset-at`` (epoch seconds, what Codex reads) wins over ``reset-after-seconds``.
    """
    now = time.time()
    families = [limit_family(headers.get("x-codex-active-limit") or "codex"), "x-codex"]
    for family in dict.fromkeys(families):
        best: tuple[float, float] | None = None
        for window in ("primary", "secondary"):
            prefix = f"{family}-{window}-"
            used = _header_number(headers, prefix + "used-percent")
            reset_at = _header_number(headers, prefix + "reset-at")
            after = _header_number(headers, prefix + "reset-after-seconds")
            when = reset_at if reset_at is not None else (now + after if after is not None else None)
            if when is None:
                continue
            candidate = (used if used is not None else 0.0, when)
            if best is None or candidate > best:
                best = candidate
        if best is not None:
            return best[1]
    return None


def _header_number(headers: httpx.Headers | dict[str, str], name: str) -> float | None:
    raw = headers.get(name)
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def plan_error(code: str, model: str, response: httpx.Response, detail: str | None = None) -> Exception:
    """The one mapping of ``usage_not_included`` / ``insufficient_quota`` (HTTP and in-stream).

    Both are fatal for this account (Codex does not retry them) but say nothing about a reset
    time, so they raise PermissionDeniedError (403: no Router retry, fallbacks still run) and
    never start a usage-limit block.
    """
    if code == "usage_not_included":
        what = "Codex usage is not included in your ChatGPT plan (usage_not_included)"
        fix = "upgrade the plan at chatgpt.com, or use an OpenAI API key (`kabot login --api-key`)"
    else:
        what = "the account is out of quota (insufficient_quota)"
        fix = "add credits or check billing for this account, or log in with another account (`kabot login`)"
    extra = f" Backend said: {detail}" if detail and detail.lower() not in what else ""
    return _build(litellm.PermissionDeniedError, f"{what}; {fix}.{extra}", model=model, response=response)


_PLAN_CODES = ("usage_not_included", "insufficient_quota")


def _describe_reset(resets_at: float, now: float) -> str:
    hours, minutes = divmod(math.ceil(max(0.0, resets_at - now) / 60), 60)
    when = time.strftime("%H:%M UTC", time.gmtime(resets_at))
    span = f"{hours} h {minutes} min" if hours else f"{minutes} min"
    return f"resets in about {span} (at {when})"


#: The usage-limit reset, as epoch seconds and as seconds from now (docs/errors.md#usage-limits).
RESET_AT_HEADER = "x-kabot-usage-limit-reset-at"
RESETS_IN_HEADER = "x-kabot-usage-limit-resets-in"
# Headers a client would read as "sleep this long, then retry": never sent for a usage limit.
_RETRY_HEADERS = ("retry-after", "retry-after-ms")


def usage_limit_error(model: str, resets_at: float, request: httpx.Request, *, plan: str | None = None,
                      remembered: bool = False, headers: httpx.Headers | None = None) -> Exception:
    """A non-retryable RateLimitError that says when the limit resets, and never asks anyone to wait.

    No ``Retry-After``: DSPy sleeps it out verbatim (hours), and a retry before the reset cannot
    succeed anyway. ``x-should-retry: false`` stops the OpenAI SDK (the Proxy forwards ``.headers``),
    ``num_retries=0`` stops the Router's same-group retries so fallbacks answer at once, and the reset
    rides on the message, ``.resets_at`` / ``.resets_in_seconds`` and the ``x-kabot-usage-limit-*``
    headers. Why: docs/internals/usage-limits.md.
    """
    now = time.time()
    resets_in = max(0, math.ceil(resets_at - now))
    plan_text = f" ({plan} plan)" if plan else ""
    source = "remembered from an earlier call; no request was sent" if remembered else "from the backend"
    ours = {RESET_AT_HEADER: str(math.ceil(resets_at)), RESETS_IN_HEADER: str(resets_in),
            "x-should-retry": "false"}
    merged = httpx.Headers(headers or {})
    for name in _RETRY_HEADERS:
        merged.pop(name, None)
    merged.update(ours)
    exc = _build(
        litellm.RateLimitError,
        f"ChatGPT usage limit reached{plan_text}; {_describe_reset(resets_at, now)} [{source}]. "
        "Retrying before then cannot succeed. Fallback models configured in a Router take over; "
        "otherwise wait or use an API key (`kabot login --api-key`)",
        model=model, response=_synthetic(429, request, headers=merged), num_retries=0, headers=ours,
    )
    exc.resets_at = resets_at  # type: ignore[attr-defined]
    exc.resets_in_seconds = resets_in  # type: ignore[attr-defined]
    return exc


class UnknownProfileRequestError(litellm.BadRequestError):
    """A ``kabot_profile`` that is not in config.json: the request is wrong, so no fallback may
    answer it in the profile's place (the Router honours this through ``litellm_hooks``)."""

    kabot_no_fallback = True


def unknown_profile_error(profile: str, detail: str, *, model: str, request: httpx.Request) -> Exception:
    """The BadRequestError for a profile named per call or per deployment that does not exist."""
    from kabot_codex.provider import litellm_hooks

    litellm_hooks.install()  # a Router built since registration may have loaded its core only now
    return _build(UnknownProfileRequestError,
                  f"Unknown kabot profile {profile!r} (named by kabot_profile): {detail}. "
                  "Run `kabot status` to list the profiles, or `kabot login --profile NAME` to create one",
                  model=model, response=_synthetic(400, request))


def _redirect(status: int, headers: httpx.Headers, request: httpx.Request) -> str:
    location = headers.get("location") or ""
    try:
        target = request.url.join(location).host if location else ""
    except (httpx.InvalidURL, ValueError):
        target = ""
    where = f" to {target}" if target else ""
    return (f"The request to {request.url.host} was redirected (HTTP {status}{where}) instead of answered: "
            "a captive portal (hotel or airport Wi-Fi sign-in), a proxy or a firewall is intercepting the "
            "traffic, or api_base points at the wrong place. Sign in to the network or fix the proxy / "
            "api_base, then retry")


def from_response(status: int, headers: httpx.Headers, body: bytes, *, model: str,
                  request: httpx.Request) -> MappedError:
    """Map a non-2xx reply to the LiteLLM exception a caller and the Router expect."""
    if 300 <= status < 400:
        return MappedError(_build(litellm.APIConnectionError, _redirect(status, headers, request),
                                  model=model, request=request))
    data, text = _parse_body(body)
    kind, code, message = _error_fields(data, text)
    error = data.get("error") if isinstance(data.get("error"), dict) else {}
    lowered = f"{kind} {code} {message}".lower()
    response = _synthetic(status, request, headers=headers, body=body)
    now = time.time()

    def build(cls: type[Exception], text: str, **extra: Any) -> Exception:
        return _build(cls, text, model=model, response=extra.pop("response", response), **extra)

    if (status in (429, 404) and ("usage_limit_reached" in lowered or "usage limit" in lowered)):
        resets_at = _resets_at(error, headers, now)
        exc = usage_limit_error(model, resets_at, request, plan=error.get("plan_type"), headers=headers)
        return MappedError(exc, usage_limit_resets_at=resets_at)
    plan_code = next((c for c in _PLAN_CODES if c in (kind, code)), None)
    if status in (429, 403, 404) and plan_code is not None:
        return MappedError(plan_error(plan_code, model, response, message))
    if status == 429:
        retry = _retry_after(headers, message)
        return MappedError(build(litellm.RateLimitError, f"Codex rate limit: {message}",
                                 response=_synthetic(429, request, retry_after=retry, headers=headers)))
    if status == 401:
        return MappedError(build(
            litellm.AuthenticationError,
            f"The Codex backend rejected the credentials (401: {message}); {LOGIN_FIX}"))
    if status == 403:
        if "<html" in text.lower() or "cloudflare" in lowered:
            note = ("the request was blocked by Cloudflare's bot check (HTML challenge); this happens from "
                    "datacenter IPs — run from a residential/local network or use an API key")
        elif "invalid_workspace_selected" in lowered:
            note = f"the ChatGPT account/workspace id does not match the token; {LOGIN_FIX}"
        else:
            note = f"access denied (403: {message}); {LOGIN_FIX}"
        return MappedError(build(litellm.PermissionDeniedError, note))
    if "not supported when using codex" in lowered or code == "model_not_found":
        return MappedError(build(
            litellm.NotFoundError,
            f"The model {model!r} is not available to this account: {message} — {MODELS_FIX}"),
            unsupported_model=True)
    if "context_length_exceeded" in lowered or "context window" in lowered:
        return MappedError(build(litellm.ContextWindowExceededError,
                                 f"The conversation is longer than {model}'s context window: {message}"))
    if code in _POLICY_CODES or kind in _POLICY_CODES:
        return MappedError(build(litellm.ContentPolicyViolationError,
                                 f"The request was refused by the content policy ({code or kind}): {message}"))
    if status == 404:
        where = request.url.copy_with(query=None)
        return MappedError(build(litellm.NotFoundError, f"Not found (404) at {where}: {message}; check api_base"))
    if status in (400, 413, 422) or 400 <= status < 500:
        return MappedError(build(litellm.BadRequestError,
                                 f"The Codex backend rejected the request ({status}): {message}"))
    if status == 502:
        return MappedError(build(litellm.BadGatewayError, f"Codex backend bad gateway (502): {message}"))
    if status in (503, 529) or "overloaded" in lowered or "slow_down" in lowered:
        return MappedError(build(
            litellm.ServiceUnavailableError, f"Codex backend unavailable ({status}): {message}",
            response=_synthetic(503, request, retry_after=_retry_after(headers, message), headers=headers)))
    if status == 504:
        return MappedError(build(litellm.Timeout, f"Codex backend gateway timeout (504): {message}",
                                 exception_status_code=504))
    return MappedError(build(litellm.InternalServerError, f"Codex backend error ({status}): {message}"))


def _retry_after(headers: httpx.Headers, message: str) -> float | None:
    for name in ("retry-after-ms", "retry-after"):
        raw = headers.get(name)
        if raw:
            try:
                value = float(raw)
            except ValueError:
                continue
            return value / 1000 if name.endswith("-ms") else value
    return retry_after_from(message)


def _seconds(value: float) -> str:
    return f"{value:g} s"


def timed_out(model: str, seconds: float, what: str) -> Exception:
    """The ``litellm.Timeout`` for a call that used up its whole ``timeout=`` budget."""
    return _build(litellm.Timeout,
                  f"The call did not finish within timeout={_seconds(seconds)} ({what}); the partial answer, "
                  "if any, was discarded. Raise timeout= for long answers, or retry",
                  model=model)


def from_failure(failure: UpstreamFailure, *, model: str, request: httpx.Request,
                 timeout: float | None = None, headers: dict[str, str] | None = None) -> MappedError:
    """Map a failure reported inside (or by the end of) the SSE stream.

    ``headers``: the stream's ``x-codex-*`` headers, for the usage-limit reset time.
    """
    code = (failure.code or "").lower()
    message = _one_line(failure.message)
    if failure.kind == "unsupported_tool":
        return MappedError(_build(litellm.BadRequestError, f"Codex reply not representable: {message}",
                                  model=model, response=_synthetic(400, request)))
    if failure.kind == "timeout":
        return MappedError(timed_out(model, timeout or 0.0, message))
    if failure.kind in ("truncated", "malformed", "too_large"):
        why = {"truncated": f"{message}; the partial answer was discarded",
               "malformed": f"the stream was not valid SSE: {message}",
               "too_large": f"{message}; the partial answer was discarded"}[failure.kind]
        return MappedError(_build(litellm.APIConnectionError, f"Codex stream broke: {why}. Retrying usually helps",
                                  model=model, request=request))

    def build(cls: type[Exception], text: str, status: int = 400, retry_after: float | None = None,
              **extra: Any) -> Exception:
        return _build(cls, text, model=model, response=_synthetic(status, request, retry_after=retry_after),
                      **extra)

    if code == "context_length_exceeded":
        return MappedError(build(litellm.ContextWindowExceededError,
                                 f"The conversation is longer than {model}'s context window: {message}"))
    if code in _POLICY_CODES:
        return MappedError(build(litellm.ContentPolicyViolationError,
                                 f"The request was refused by the content policy ({code}): {message}"))
    if code in _PLAN_CODES:
        return MappedError(plan_error(code, model, _synthetic(403, request), message))
    if code == "usage_limit_reached":
        from_headers = limit_window(headers) if headers and failure.retry_after is None else None
        resets_at = from_headers or time.time() + (failure.retry_after or 3600.0)
        return MappedError(usage_limit_error(model, resets_at, request), usage_limit_resets_at=resets_at)
    if code in ("rate_limit_exceeded", "rate_limit"):
        return MappedError(build(litellm.RateLimitError, f"Codex rate limit: {message}", 429,
                                 retry_after=failure.retry_after))
    if "not supported when using codex" in message.lower():
        return MappedError(build(
            litellm.NotFoundError,
            f"The model {model!r} is not available to this account: {message} — {MODELS_FIX}"),
            unsupported_model=True)
    if failure.kind == "incomplete":
        # Known reasons became a finish_reason in the reducer; any other one (server_timeout,
        # interrupted, ...) is a passing backend problem, retryable like Codex's stream errors.
        return MappedError(build(litellm.InternalServerError,
                                 f"The Codex backend stopped the response early (incomplete: {failure.code}); "
                                 "retrying usually helps", 500))
    if code in ("invalid_request_error", "invalid_encrypted_content"):
        return MappedError(build(litellm.BadRequestError,
                                 f"The Codex backend rejected the request ({failure.code}): {message}"))
    if code in ("server_is_overloaded", "slow_down"):
        return MappedError(build(litellm.ServiceUnavailableError, f"Codex backend overloaded: {message}", 503,
                                 retry_after=failure.retry_after))
    return MappedError(build(litellm.InternalServerError,
                             f"Codex backend failed the response ({failure.code or failure.kind}): {message}", 500))


# What a user should read instead of an exception class name or errno text.
_TRANSPORT_WORDS: tuple[tuple[type[Exception], str], ...] = (
    (httpx.ProxyError, "the proxy refused or failed the connection"),
    (httpx.RemoteProtocolError, "the server closed the connection or broke the HTTP protocol"),
    (httpx.LocalProtocolError, "the request could not be sent"),
    (httpx.ReadError, "the connection was reset while reading"),
    (httpx.WriteError, "the connection was reset while sending"),
    (httpx.ConnectError, "the connection failed"),
)
_ERRNO = re.compile(r"\[Errno -?\d+\]\s*|\s*\(_ssl\.c:\d+\)|^\[SSL: [A-Z_]+\]\s*")


def describe_transport(exc: BaseException) -> str:
    """One plain sentence for a connection failure: OS wording kept, Python internals dropped."""
    generic = next((words for cls, words in _TRANSPORT_WORDS if isinstance(exc, cls)), "the connection failed")
    detail = _ERRNO.sub("", str(exc).splitlines()[0] if str(exc) else "").strip().rstrip(".")
    if not detail or "Errno" in detail or "<" in detail or len(detail) > 160:
        return generic
    return f"{generic} ({detail[0].lower() + detail[1:]})"


def from_transport(exc: httpx.TransportError, *, model: str, request: httpx.Request,
                   timeout: float | None = None) -> MappedError:
    """Map a connection-level failure (DNS, refused, reset, timeout) before any reply."""
    host = request.url.host
    if isinstance(exc, httpx.TimeoutException):
        phase = "connecting to" if isinstance(exc, (httpx.ConnectTimeout, httpx.PoolTimeout)) else "waiting for"
        return MappedError(timed_out(model, timeout or 0.0, f"{phase} the Codex backend at {host}"))
    if isinstance(exc, httpx.UnsupportedProtocol):
        return MappedError(bad_input(f"api_base must be an http:// or https:// URL (got {request.url.scheme!r})",
                                     model=model))
    return MappedError(_build(
        litellm.APIConnectionError,
        f"Could not reach the Codex backend at {host}: {describe_transport(exc)}. Check the network, any "
        "proxy and api_base; retrying may help", model=model, request=request))


def bad_input(message: str, *, model: str) -> Exception:
    """A caller mistake: not retried by the Router (a ``BadRequestError``)."""
    return _build(litellm.BadRequestError, message, model=model)


def auth_failure(err: KabotError, *, model: str, request: httpx.Request) -> Exception:
    """The exception for a login that could not supply credentials."""
    if isinstance(err, RefreshError) and not isinstance(err, ReloginRequiredError):
        # The token endpoint had a passing problem: retryable, not a reason to log in again.
        return _build(litellm.ServiceUnavailableError, f"Could not refresh the ChatGPT login: {err}",
                      model=model, response=_synthetic(503, request))
    return _build(litellm.AuthenticationError, str(err), model=model, response=_synthetic(401, request))
