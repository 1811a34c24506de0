"""How this client identifies itself to the backend, and the default endpoints.

Kept free of httpx/litellm imports so CLI code paths (``kabot models``) stay fast.
"""

from __future__ import annotations

import os
import platform

from kabot_codex import __version__

__all__ = ["CLIENT_VERSION", "DEFAULT_CODEX_BASE", "DEFAULT_OPENAI_BASE", "originator", "user_agent"]

DEFAULT_CODEX_BASE = "https://chatgpt.com/backend-api/codex"
DEFAULT_OPENAI_BASE = "https://api.openai.com/v1"
# /models gates newer models behind client_version (codex-protocol.md §12.1); 0.146.0 is the
# newest version other clients have verified against the backend.
CLIENT_VERSION = "0.146.0"

_PLATFORM = f"({platform.system()} {platform.release()}; {platform.machine()})"


def originator() -> str:
    """The ``originator`` header: the Codex CLI's value unless ``KABOT_CODEX_ORIGINATOR`` is set.

    Third-party clients each send their own; the backend's edge has been reported to treat
    unknown values with suspicion, so the default is the one it knows best.
    """
    return os.environ.get("KABOT_CODEX_ORIGINATOR") or "codex_cli_rs"


def user_agent(origin: str | None = None) -> str:
    """A Codex-style User-Agent that also names this package."""
    return f"{origin or originator()}/{CLIENT_VERSION} {_PLATFORM} kabot-codex/{__version__}"
