"""Open the SSE response: credentials, usage-limit fail-fast, one 401 recovery, error mapping.

Sync and async twins share everything but the I/O calls.
"""

from __future__ import annotations

from typing import NoReturn

import httpx
import litellm

from kabot_codex import catalog, state
from kabot_codex.auth.credentials import Credentials
from kabot_codex.auth.redact import remember_secret
from kabot_codex.errors import KabotError, NotLoggedInError, UnknownProfileError
from kabot_codex.provider.call import PreparedCall
from kabot_codex.provider.deadline import AsyncDeadline
from kabot_codex.provider.errors import (
    MappedError,
    auth_failure,
    from_failure,
    from_response,
    from_transport,
    throw,
    timed_out,
    unknown_profile_error,
    usage_limit_error,
)
from kabot_codex.provider.events import UpstreamFailure
from kabot_codex.provider.transport import async_client, build_headers, endpoint, sync_client

__all__ = ["aopen_stream", "open_stream", "raise_failure"]

# Reading an error body must not hang a call whose budget is nearly spent, nor decode garbage.
_BODY_ERRORS = (httpx.TransportError, httpx.DecodingError)


def _auth_error(err: KabotError, call: PreparedCall, *, looking_up: bool = False) -> Exception:
    if isinstance(err, UnknownProfileError) and call.named_profile:
        # The caller's input is wrong: an authentication error would send a Router to its
        # fallbacks and bill another provider without a word.
        return unknown_profile_error(call.named_profile, str(err), model=call.model, request=call.request_stub())
    if call.remaining() < 0.05:  # the wait gave up at the deadline (timers may fire a hair early)
        return timed_out(call.model, call.timeout, "while refreshing the ChatGPT login; the refresh goes on in "
                                                   "the background and the next call uses its result")
    exc = auth_failure(err, model=call.model, request=call.request_stub())
    if looking_up and isinstance(err, NotLoggedInError):
        # No login at all (not a rejected one): the Proxy hooks turn the fallback this causes
        # into an error log instead of a silent `200 OK` from a paid model.
        exc.kabot_missing_login = f"{err} ({err.hint})" if err.hint else str(err)  # type: ignore[attr-defined]
    return exc


def _pool_retries(exc: Exception, call: PreparedCall) -> Exception:
    if call.group_size > 1 and isinstance(exc, litellm.RateLimitError):
        exc.num_retries = call.usage_limit_retries()
    return exc


def _remember(mapped: MappedError, call: PreparedCall, credentials: Credentials) -> NoReturn:
    if mapped.usage_limit_resets_at is not None:
        state.note_usage_limit(credentials.account_key, mapped.usage_limit_resets_at)
        throw(_pool_retries(mapped.exception, call))
    if mapped.unsupported_model:
        catalog.note_unsupported(call.catalog_model, credentials.account_key, "rejected by the backend")
    throw(mapped.exception)


def raise_failure(failure: UpstreamFailure, call: PreparedCall) -> NoReturn:
    """Raise the LiteLLM exception for a failure reported inside the stream."""
    if call.credentials is not None:
        remember_secret(call.credentials.token)  # masked even where a proxy echoes it bare
    mapped = from_failure(failure, model=call.model, request=call.request_stub(), timeout=call.timeout,
                          headers=call.raw_headers)
    if call.credentials is None:
        throw(mapped.exception)
    _remember(mapped, call, call.credentials)


def _check_blocked(credentials: Credentials, call: PreparedCall, url: str) -> None:
    until = state.blocked_until(credentials.account_key)
    if until is not None:
        raise _pool_retries(usage_limit_error(call.model, until, httpx.Request("POST", url), remembered=True), call)


def _handle_status(response: httpx.Response, body: bytes, call: PreparedCall,
                   credentials: Credentials) -> NoReturn:
    remember_secret(credentials.token)
    mapped = from_response(response.status_code, response.headers, body, model=call.model,
                           request=response.request)
    _remember(mapped, call, credentials)


def _not_sse(response: httpx.Response) -> bool:
    kind = response.headers.get("content-type", "")
    return "text/event-stream" not in kind


def _request(client: httpx.Client | httpx.AsyncClient, call: PreparedCall,
             credentials: Credentials) -> httpx.Request:
    url = endpoint(credentials, call.api_base)
    _check_blocked(credentials, call, url)
    return client.build_request("POST", url, content=call.body, timeout=call.http_timeout(),
                                headers=build_headers(credentials, call.session_id, call.extra_headers))


def _usable(response: httpx.Response, call: PreparedCall, credentials: Credentials) -> bool:
    call.observe(credentials, response.headers)
    return response.status_code < 300 and not _not_sse(response)


def _should_recover(response: httpx.Response, body: bytes, call: PreparedCall, credentials: Credentials,
                    attempt: int) -> bool:
    """After a failed reply: True means "recover credentials and retry once"; else raise."""
    if response.status_code == 401 and attempt == 0:
        return True
    if response.status_code < 300:
        kind = response.headers.get("content-type") or "no content type"
        raise_failure(UpstreamFailure("malformed", f"expected an SSE stream, got {kind}"), call)
    _handle_status(response, body, call, credentials)


def _transport_error(exc: httpx.TransportError, call: PreparedCall, request: httpx.Request) -> Exception:
    return from_transport(exc, model=call.model, request=request, timeout=call.timeout).exception


def _out_of_time(call: PreparedCall, what: str) -> None:
    if call.remaining() <= 0:
        raise timed_out(call.model, call.timeout, what)


def open_stream(call: PreparedCall) -> httpx.Response:
    """Send the request and return the open 200 SSE response (raises mapped errors)."""
    try:
        credentials = call.source.get(deadline=call.deadline)
    except KabotError as err:
        throw(_auth_error(err, call, looking_up=True))
    client = sync_client()
    for attempt in (0, 1):
        _out_of_time(call, "before the request was sent")
        request = _request(client, call, credentials)
        try:
            response = client.send(request, stream=True)
        except httpx.TransportError as exc:
            throw(_transport_error(exc, call, request))
        if _usable(response, call, credentials):
            return response
        try:
            body = response.read()
        except _BODY_ERRORS:
            body = b""
        finally:
            response.close()
        if _should_recover(response, body, call, credentials, attempt):
            try:
                credentials = call.source.recover(credentials, deadline=call.deadline)  # re-read, else refresh
            except KabotError as err:
                throw(_auth_error(err, call))
    raise AssertionError("unreachable")  # pragma: no cover


async def aopen_stream(call: PreparedCall, watch: AsyncDeadline) -> httpx.Response:
    """Async twin of ``open_stream``; never blocks the event loop. ``watch`` is the call's deadline."""
    try:
        credentials = await call.source.aget(deadline=call.deadline)
    except KabotError as err:
        throw(_auth_error(err, call, looking_up=True))
    client = async_client()
    for attempt in (0, 1):
        _out_of_time(call, "before the request was sent")
        request = _request(client, call, credentials)
        try:
            # Socket timeouts bound each operation; this bounds them together (slow headers).
            response = await watch.wait(client.send(request, stream=True))
        except httpx.TransportError as exc:
            throw(_transport_error(exc, call, request))
        except TimeoutError:
            throw(timed_out(call.model, call.timeout, f"waiting for the Codex backend at {request.url.host}"))
        if _usable(response, call, credentials):
            return response
        try:
            body = await watch.wait(response.aread())
        except (*_BODY_ERRORS, TimeoutError):
            body = b""
        finally:
            await response.aclose()
        if _should_recover(response, body, call, credentials, attempt):
            try:
                credentials = await call.source.arecover(credentials, deadline=call.deadline)
            except KabotError as err:
                throw(_auth_error(err, call))
    raise AssertionError("unreachable")  # pragma: no cover
