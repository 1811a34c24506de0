"""The OpenAI-compatible ``/v1`` API (API-key mode and ``openai/...`` fallback deployments)."""

from __future__ import annotations

from kabot_codex.emulator.app import Route

__all__ = ["ROUTES"]

ROUTES: dict[tuple[str, str], Route] = {}
