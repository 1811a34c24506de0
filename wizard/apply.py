"""The wizard's only write: the chosen order (and an OpenAI key) through ``edit_config``.

Called once, at the very end, so an interrupted setup leaves the config as it was. Everything
else in the file — other providers, profiles, unknown keys — is kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from kabot_codex.config import ModelOrder, edit_config

__all__ = ["apply_setup"]


def apply_setup(primary: str, fallbacks: Sequence[str], *, openai_api_key: str | None = None,
                path: Path | None = None, pool: Sequence[str] | None = None) -> ModelOrder:
    """Save ``agents.defaults.model = {"primary": …, "fallbacks": […]}`` and return it.

    ``pool`` (profiles that each serve the primary) replaces ``agents.defaults.pool``; None
    keeps the saved one.
    """
    order = ModelOrder(primary=primary, fallbacks=[m for m in fallbacks if m != primary])
    with edit_config(path) as config:
        config.agents.defaults.model = order
        if pool is not None:
            config.agents.defaults.pool = list(dict.fromkeys(pool)) or None
        if openai_api_key:
            config.provider("openai").api_key = openai_api_key
    return order
