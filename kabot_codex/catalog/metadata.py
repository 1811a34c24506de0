"""Model metadata for ``litellm.register_model``, derived from the catalog."""

from __future__ import annotations

from typing import Any

from kabot_codex.catalog.spec import CODEX, ModelSpec
from kabot_codex.catalog.store import all_specs

__all__ = ["litellm_model_metadata", "model_info_for"]


def model_info_for(spec: ModelSpec) -> dict[str, Any]:
    """Return LiteLLM's model-info dict for one spec (also used for Proxy ``model_info``)."""
    return {
        "litellm_provider": spec.provider,
        # "chat", never "responses": a "responses" entry makes LiteLLM route every call through
        # its chat->Responses bridge, which rewrites the tools.
        "mode": "chat",
        "max_input_tokens": spec.input_limit,
        "max_output_tokens": spec.max_output_tokens,
        "max_tokens": spec.max_output_tokens,
        # Subscription usage is not billed per token.
        "input_cost_per_token": 0.0,
        "output_cost_per_token": 0.0,
        # Without these two LiteLLM logs a warning per model at registration.
        "cache_read_input_token_cost": 0.0,
        "cache_creation_input_token_cost": 0.0,
        "supports_function_calling": True,
        "supports_parallel_function_calling": spec.supports_parallel_tool_calls,
        "supports_tool_choice": True,
        "supports_reasoning": bool(spec.efforts),
        "supports_vision": spec.supports_vision,
        "supports_response_schema": True,
    }


def litellm_model_metadata() -> dict[str, Any]:
    """Return ``{"openai-codex/<slug>": {...}}`` for every ``openai-codex`` model in the catalog."""
    return {spec.model: model_info_for(spec) for spec in all_specs() if spec.provider == CODEX}
