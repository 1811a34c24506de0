"""Everything decided before a request is sent: body, credentials source, timeout, metadata."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import litellm

from kabot_codex import catalog, state
from kabot_codex.auth.credentials import Credentials, CredentialSource, resolve_source
from kabot_codex.identity import DEFAULT_CODEX_BASE
from kabot_codex.provider.errors import bad_input, throw
from kabot_codex.provider.request import RequestError, build_request
from kabot_codex.provider.transport import codex_headers, endpoint, parse_rate_limits, timeout_for

__all__ = ["DEFAULT_TIMEOUT", "PROVIDER", "PreparedCall", "prepare"]

PROVIDER = "openai-codex"
DEFAULT_TIMEOUT = 600.0
"""Seconds a whole call may take when the caller passes no ``timeout=`` (LiteLLM's default)."""


@dataclass
class PreparedCall:
    """One call's request, plus what the shells record about its response."""

    model: str
    body: bytes
    session_id: str
    source: CredentialSource
    api_base: str | None
    extra_headers: dict[str, str]
    timeout: float
    """The whole call's budget in seconds: connect, headers, every byte, any refresh."""
    deadline: float
    """``time.monotonic()`` value by which the call must be over."""
    credentials: Credentials | None = None
    #: The profile the caller named (per call, extra_body, metadata or deployment), if any.
    named_profile: str | None = None
    rate_limits: dict[str, Any] = field(default_factory=dict)
    raw_headers: dict[str, str] = field(default_factory=dict)
    #: Deployments in the Router group that sent this call (an account pool has several).
    group_size: int = 1

    def usage_limit_retries(self) -> int:
        """Same-group retries a usage limit deserves: none alone, one per other account in a pool.

        Alone, retrying before the reset only wastes calls; in a pool the Router's retry picks
        another (not cooled) deployment at once, so the other accounts answer, not the fallbacks.
        """
        return self.group_size - 1

    @property
    def catalog_model(self) -> str:
        """The model as the catalog and LiteLLM's model map know it."""
        return f"{PROVIDER}/{self.model}"

    def observe(self, credentials: Credentials, headers: httpx.Headers) -> None:
        """Record which credentials were used and the x-codex-* snapshot that came back."""
        self.credentials = credentials
        raw = codex_headers(headers)
        self.rate_limits = parse_rate_limits(raw)
        if self.rate_limits:
            self.raw_headers = raw
            state.record_rate_limits(credentials.profile, credentials.account_key, self.rate_limits)

    def remaining(self) -> float:
        """Seconds left of the call's budget (may be negative)."""
        return self.deadline - time.monotonic()

    def http_timeout(self) -> httpx.Timeout:
        """Per-operation limits for the next request: never past the call's deadline."""
        return timeout_for(max(self.remaining(), 0.001))

    def request_stub(self) -> httpx.Request:
        """A request to hang on exceptions raised without a real one (auth and stream failures)."""
        if self.credentials is not None:
            return httpx.Request("POST", endpoint(self.credentials, self.api_base))
        return httpx.Request("POST", (self.api_base or DEFAULT_CODEX_BASE).rstrip("/") + "/responses")

    def note_success(self) -> None:
        """Tell the catalog this model really works for this account."""
        if self.credentials is not None:
            catalog.note_success(self.catalog_model, self.credentials.account_key)

    def attach_metadata(self, response: litellm.ModelResponse) -> None:
        """Expose the rate-limit headers: raw in ``additional_headers``, parsed in ``codex_rate_limits``."""
        hidden = response._hidden_params
        if self.raw_headers:
            additional = dict(hidden.get("additional_headers") or {})
            additional.update({f"llm_provider-{k}": v for k, v in self.raw_headers.items()})
            hidden["additional_headers"] = additional
        if self.rate_limits:
            hidden["codex_rate_limits"] = self.rate_limits

    def attach_stream_metadata(self, chunk: Any) -> None:
        """Put the parsed snapshot on the first stream chunk (``provider_specific_fields``)."""
        if self.rate_limits:
            chunk.provider_specific_fields = {"codex_rate_limits": self.rate_limits}


def _profile_from(params: dict[str, Any], litellm_params: Mapping[str, Any] | None) -> str | None:
    profile = params.pop("kabot_profile", None)
    extra_body = params.get("extra_body")
    if isinstance(extra_body, dict) and "kabot_profile" in extra_body:
        extra_body = dict(extra_body)
        profile = profile or extra_body.pop("kabot_profile")
        params["extra_body"] = extra_body
    if not profile and litellm_params:
        metadata = litellm_params.get("metadata") or {}
        profile = metadata.get("kabot_profile") if isinstance(metadata, Mapping) else None
    return profile or None


def _group_size(litellm_params: Mapping[str, Any] | None) -> int:
    # The Router puts the size of the group it routes in into the call's metadata.
    for key in ("metadata", "litellm_metadata"):
        metadata = (litellm_params or {}).get(key)
        size = metadata.get("model_group_size") if isinstance(metadata, Mapping) else None
        if isinstance(size, int) and size > 1:
            return size
    return 1


def _session_hint(litellm_params: Mapping[str, Any] | None) -> str | None:
    if not litellm_params:
        return None
    metadata = litellm_params.get("metadata") or {}
    hint = metadata.get("session_id") if isinstance(metadata, Mapping) else None
    return hint or litellm_params.get("litellm_session_id") or None


def prepare(model: str, messages: list[Any], optional_params: Mapping[str, Any],
            litellm_params: Mapping[str, Any] | None, *, api_base: str | None, api_key: str | None,
            headers: Mapping[str, str] | None, timeout: Any) -> PreparedCall:
    """Build the request for one LiteLLM call; raises LiteLLM exceptions for bad input."""
    params = dict(optional_params)
    profile = _profile_from(params, litellm_params)
    spec = catalog.get_spec(f"{PROVIDER}/{model}")
    try:
        request = build_request(
            model, messages, params,
            # The spec is already in hand; an unknown model keeps the effort (the backend decides).
            clamp_effort=(lambda _m, e: spec.clamp(e)) if spec else (lambda _m, e: e),
            supports_parallel_tool_calls=spec.supports_parallel_tool_calls if spec else True,
            session_hint=_session_hint(litellm_params),
            # Codex sends reasoning for models that reason and have summaries (codex-protocol §6.2).
            reasons=bool(spec and spec.efforts and spec.supports_reasoning_summaries),
            reasoning_default=spec.default_effort if spec else None,
        )
    except RequestError as exc:
        throw(bad_input(f"Cannot send these messages to the Codex backend: {exc}", model=model))
    except (TypeError, AttributeError, ValueError, KeyError):
        # Input of a shape the checks above did not foresee: still the caller's to fix, and
        # no reason for the Router to retry (no Python internals in the message).
        throw(bad_input("Cannot send these messages to the Codex backend: a message, content part, tool or "
                        "parameter has an unexpected shape; see docs/usage.md for what each accepts",
                        model=model))
    seconds = _budget(timeout, model)
    return PreparedCall(
        model=model,
        body=json.dumps(request.body, separators=(",", ":"), ensure_ascii=False).encode(),
        session_id=request.session_id,
        source=resolve_source(api_key=api_key or None, profile=profile),
        api_base=api_base or None,
        extra_headers=dict(headers or {}),
        timeout=seconds,
        deadline=time.monotonic() + seconds,
        named_profile=profile,
        group_size=_group_size(litellm_params),
    )


def _budget(timeout: Any, model: str) -> float:
    """Read ``timeout=`` as the whole call's budget in seconds; nonsense is the caller's mistake."""
    if timeout is None:
        return DEFAULT_TIMEOUT
    if isinstance(timeout, httpx.Timeout):
        # The longest phase limit is the closest thing to a budget the caller expressed.
        phases = [t for t in (timeout.connect, timeout.read, timeout.write, timeout.pool) if t is not None]
        return _budget(max(phases), model) if phases else DEFAULT_TIMEOUT
    seconds: float | None = None
    if not isinstance(timeout, bool):
        try:
            seconds = float(timeout)
        except (TypeError, ValueError, OverflowError):
            seconds = None
    if seconds is None or not math.isfinite(seconds) or seconds <= 0:
        raise bad_input(f"timeout= must be a positive number of seconds for the whole call (got {timeout!r}); "
                        f"leave it out for the default {DEFAULT_TIMEOUT:g} s", model=model)
    return seconds
