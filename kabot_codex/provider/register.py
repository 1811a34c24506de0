"""Registering the ``openai-codex`` provider and its model metadata with LiteLLM."""

from __future__ import annotations

import threading

import litellm

from kabot_codex.provider import litellm_hooks
from kabot_codex.provider.handler import CodexLLM

__all__ = ["PROVIDER", "handler", "register", "register_model_metadata"]

PROVIDER = "openai-codex"

#: The handler instance; LiteLLM Proxy YAML refers to it as ``kabot_codex.handler``.
handler = CodexLLM()

_lock = threading.Lock()


def register_model_metadata() -> None:
    """Tell LiteLLM about every catalog model (context window, capabilities, zero cost)."""
    from kabot_codex.catalog import litellm_model_metadata

    # mode "chat" (not "responses"): a "responses" entry would re-route calls through
    # LiteLLM's chat->Responses bridge and rewrite the tools.
    litellm.register_model(litellm_model_metadata())


def register() -> CodexLLM:
    """Put ``openai-codex`` in ``litellm.custom_provider_map`` (once) and make it resolvable."""
    with _lock:
        entries = litellm.custom_provider_map
        # Mutate in place: callers may hold a reference to the list. Replacing our own entry
        # keeps registration idempotent; the last matching entry would win otherwise.
        entries[:] = [e for e in entries if e.get("provider") != PROVIDER]
        entries.append({"provider": PROVIDER, "custom_handler": handler})
        # Router() does not run this itself; without it Router(model_list=[openai-codex/...])
        # fails with "LLM Provider NOT provided".
        litellm.utils.custom_llm_setup()
        # reasoning_effort / verbosity without allowed_openai_params (docs/internals/litellm-hooks.md).
        litellm_hooks.install()
        try:
            register_model_metadata()
        except ImportError:
            pass
    return handler
