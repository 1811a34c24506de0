"""LiteLLM CustomLLM handler for the Codex backend (being built)."""

from __future__ import annotations

from litellm import CustomLLM

__all__ = ["CodexLLM"]


class CodexLLM(CustomLLM):
    """The ``openai-codex`` provider."""
