"""How this client identifies itself to the backend, and the default endpoints.

Kept free of httpx/litellm imports so CLI code paths (``kabot models``) stay fast.
"""

from __future__ import annotations

import os
import platform

from kabot_codex import __version__

__all__ = [
    "CLIENT_VERSION",
    "DEFAULT_CODEX_BASE",
    "DEFAULT_OPENAI_BASE",
    "client_headers",
    "codex_base",
    "openai_base",
    "originator",
    "user_agent",
]

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


def client_headers(token: str, account_id: str | None = None) -> dict[str, str]:
    """Bearer token, account and client identity: what every backend request carries."""
    origin = originator()
    headers = {"Authorization": f"Bearer {token}", "originator": origin, "User-Agent": user_agent(origin)}
    if account_id:
        headers["ChatGPT-Account-Id"] = account_id
    return headers


def _base(url: str) -> str:
    # Accept the Responses URL as well as the base: users paste either.
    return url.rstrip("/").removesuffix("/responses")


def codex_base(api_base: str | None = None) -> str:
    """The ChatGPT Codex backend base: explicit, else ``OPENAI_CODEX_API_BASE``, else chatgpt.com."""
    return _base(api_base or os.environ.get("OPENAI_CODEX_API_BASE") or DEFAULT_CODEX_BASE)


def openai_base(api_base: str | None = None) -> str:
    """The OpenAI API base for API-key mode: explicit, else the env, else api.openai.com."""
    return _base(api_base or os.environ.get("OPENAI_CODEX_OPENAI_BASE") or os.environ.get("OPENAI_BASE_URL")
                 or DEFAULT_OPENAI_BASE)
