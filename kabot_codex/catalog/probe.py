"""Send one tiny request per model and record what happened (``kabot models --probe``, wizard)."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from kabot_codex.catalog.spec import CODEX, canonical_model
from kabot_codex.catalog.status import note_success, note_unsupported

__all__ = ["ProbeResult", "probe_model", "probe_models"]

_PROMPT = [{"role": "user", "content": "Reply with the single word OK."}]
# Phrases the backends use when a model is not available to this account or key.
_UNSUPPORTED = ("not supported", "not available", "does not exist", "model_not_found", "unsupported model",
                "no such model")


@dataclass(frozen=True)
class ProbeResult:
    """Outcome of one probe: ``working``, ``unsupported``, ``limited`` (usage limit), ``auth`` or ``error``."""

    model: str
    outcome: str
    detail: str
    seconds: float

    @property
    def ok(self) -> bool:
        """Whether the model answered."""
        return self.outcome == "working"


def _classify(exc: Exception) -> tuple[str, str]:
    import litellm

    text = str(exc)
    first_line = text.strip().splitlines()[0][:200] if text.strip() else type(exc).__name__
    if isinstance(exc, litellm.RateLimitError):
        return "limited", first_line
    if isinstance(exc, (litellm.AuthenticationError, litellm.PermissionDeniedError)):
        return "auth", first_line
    if isinstance(exc, litellm.NotFoundError):
        return "unsupported", first_line  # the model is unknown to this account's backend
    if isinstance(exc, litellm.BadRequestError) and any(phrase in text.lower() for phrase in _UNSUPPORTED):
        return "unsupported", first_line
    return "error", first_line


def probe_model(model: str, *, account_key: str | None = None, profile: str | None = None,
                openai_api_key: str | None = None, timeout: float = 60.0) -> ProbeResult:
    """Call ``model`` once with a one-word prompt and record ``working``/``unsupported``.

    Usage limits, auth failures and transient errors are reported but not recorded: they say
    nothing about whether the model itself is available to the account.
    """
    import kabot_codex

    kabot_codex.register()
    import litellm

    from kabot_codex.routing import deployment

    name = canonical_model(model)
    params: dict[str, Any] = dict(deployment(name, profile=profile)["litellm_params"])
    params.pop("allowed_openai_params", None)
    if openai_api_key and name.startswith("openai/"):
        params["api_key"] = openai_api_key  # the wizard probes before it saves the key
    started = time.monotonic()
    try:
        litellm.completion(messages=_PROMPT, timeout=timeout, num_retries=0, **params)
    except Exception as exc:  # every failure becomes a result; probing must go on
        outcome, detail = _classify(exc)
        if outcome == "unsupported":
            note_unsupported(name, account_key if name.startswith(CODEX + "/") else None, detail)
        return ProbeResult(name, outcome, detail, time.monotonic() - started)
    note_success(name, account_key if name.startswith(CODEX + "/") else None)
    return ProbeResult(name, "working", "answered", time.monotonic() - started)


def probe_models(models: Iterable[str], **kwargs: Any) -> list[ProbeResult]:
    """Probe each model in turn (sequentially: a subscription is one account's quota)."""
    return [probe_model(m, **kwargs) for m in models]
