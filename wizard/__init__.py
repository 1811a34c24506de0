"""``kabot setup``: log in, choose the primary model and its fallbacks, save the order.

Installed as ``kabot_codex.wizard`` (the repository keeps it in its own ``wizard/`` folder; see
``[tool.setuptools.package-dir]``). Nothing is imported eagerly, so ``kabot --help`` stays fast.
"""

from __future__ import annotations

from typing import Any

__all__ = ["SetupOptions", "SetupResult", "run_setup"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import flow

        return getattr(flow, name)
    raise AttributeError(name)
