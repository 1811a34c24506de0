"""Open the SSE response: credentials, usage-limit fail-fast, one 401 recovery, error mapping.

Sync and async twins share everything but the I/O calls.
"""

from __future__ import annotations

from typing import NoReturn

import httpx
import litellm

from kabot_codex import catalog, state
from kabot_codex.auth.credentials import Credentials
from kabot_codex.errors import KabotError, RefreshError, ReloginRequiredError, UnknownProfileError
from kabot_codex.provider.call import PROVIDER, PreparedCall
from kabot_codex.provider.errors import (
    MappedError,
    from_failure,
    from_response,
    from_transport,
    unknown_profile_error,
    usage_limit_error,
)
from kabot_codex.provider.events import UpstreamFailure
from kabot_codex.provider.transport import async_client, build_headers, endpoint, sync_client

__all__ = ["aopen_stream", "open_stream", "raise_failure"]

def _auth_error(err: KabotError, call: PreparedCall) -> Exception:
    request = call.request_stub()
    if isinstance(err, UnknownProfileError) and call.named_profile:
        # The caller's input is wrong: an authentication error would send a Router to its
        # fallbacks and bill another provider without a word.
        return unknown_profile_error(call.named_profile, str(err), model=call.model, request=request)
    if isinstance(err, RefreshError) and not isinstance(err, ReloginRequiredError):
        # The token endpoint had a passing problem: retryable, not a reason to log in again.
        return litellm.ServiceUnavailableError(
            message=f"Could not refresh the ChatGPT login: {err}", llm_provider=PROVIDER, model=call.model,
            response=httpx.Response(503, request=request))
    return litellm.AuthenticationError(
        message=str(err), llm_provider=PROVIDER, model=call.model,
        response=httpx.Response(401, request=request))


def _remember(mapped: MappedError, call: PreparedCall, credentials: Credentials) -> NoReturn:
    if mapped.usage_limit_resets_at is not None:
        state.note_usage_limit(credentials.account_key, mapped.usage_limit_resets_at)
    if mapped.unsupported_model:
        catalog.note_unsupported(call.catalog_model, credentials.account_key, "rejected by the backend")
    raise mapped.exception


def raise_failure(failure: UpstreamFailure, call: PreparedCall) -> NoReturn:
    """Raise the LiteLLM exception for a failure reported inside the stream."""
    mapped = from_failure(failure, model=call.model, request=call.request_stub(), headers=call.raw_headers)
    if call.credentials is None:
        raise mapped.exception
    _remember(mapped, call, call.credentials)


def _check_blocked(credentials: Credentials, call: PreparedCall, url: str) -> None:
    until = state.blocked_until(credentials.account_key)
    if until is not None:
        raise usage_limit_error(call.model, until, httpx.Request("POST", url), remembered=True)


def _handle_status(response: httpx.Response, body: bytes, call: PreparedCall,
                   credentials: Credentials) -> NoReturn:
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
    return client.build_request("POST", url, content=call.body, timeout=call.timeout,
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


def open_stream(call: PreparedCall) -> httpx.Response:
    """Send the request and return the open 200 SSE response (raises mapped errors)."""
    try:
        credentials = call.source.get()
    except KabotError as err:
        raise _auth_error(err, call) from None
    client = sync_client()
    for attempt in (0, 1):
        request = _request(client, call, credentials)
        try:
            response = client.send(request, stream=True)
        except httpx.TransportError as exc:
            raise from_transport(exc, model=call.model, request=request).exception from None
        if _usable(response, call, credentials):
            return response
        try:
            body = response.read()
        except httpx.TransportError:
            body = b""
        finally:
            response.close()
        if _should_recover(response, body, call, credentials, attempt):
            try:
                credentials = call.source.recover(credentials)  # re-read, else refresh once
            except KabotError as err:
                raise _auth_error(err, call) from None
    raise AssertionError("unreachable")  # pragma: no cover


async def aopen_stream(call: PreparedCall) -> httpx.Response:
    """Async twin of ``open_stream``; never blocks the event loop."""
    try:
        credentials = await call.source.aget()
    except KabotError as err:
        raise _auth_error(err, call) from None
    client = async_client()
    for attempt in (0, 1):
        request = _request(client, call, credentials)
        try:
            response = await client.send(request, stream=True)
        except httpx.TransportError as exc:
            raise from_transport(exc, model=call.model, request=request).exception from None
        if _usable(response, call, credentials):
            return response
        try:
            body = await response.aread()
        except httpx.TransportError:
            body = b""
        finally:
            await response.aclose()
        if _should_recover(response, body, call, credentials, attempt):
            try:
                credentials = await call.source.arecover(credentials)
            except KabotError as err:
                raise _auth_error(err, call) from None
    raise AssertionError("unreachable")  # pragma: no cover
