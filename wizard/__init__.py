"""``kabot setup``: log in, choose the primary model and its fallbacks, save the order.

Nothing is imported eagerly: ``wizard.cli`` must run before ``kabot_codex`` is imported so the
CLI can defer LiteLLM registration (keeps ``kabot --help`` fast).
"""

from __future__ import annotations

from typing import Any

__all__ = ["SetupOptions", "SetupResult", "run_setup"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from wizard import flow

        return getattr(flow, name)
    raise AttributeError(name)
