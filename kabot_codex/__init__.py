"""Use a ChatGPT Plus/Pro (Codex) subscription, or an OpenAI API key, from LiteLLM.

``import kabot_codex`` registers the ``openai-codex`` provider with LiteLLM, so
``litellm.completion(model="openai-codex/gpt-5.5", ...)`` works right away.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

# Must happen before litellm is imported anywhere: otherwise its import makes a blocking
# network fetch of the model cost map.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

__version__ = "0.1.0"

__all__ = ["__version__", "build_router", "handler", "register"]

if TYPE_CHECKING:
    from kabot_codex.provider.handler import CodexLLM


#: Commands that import this package but either never call LiteLLM (the emulator) or register
#: it only when a subcommand needs it (the `kabot` CLI): they should not pay LiteLLM's ~3 s
#: import just to start or to print `--help`.
_LAZY_MODULES = ("kabot_codex.emulator", "kabot_codex.wizard.cli")
_LAZY_SCRIPTS = ("kabot", "kabot.exe", "kabot-script.py")


def _started_as_lazy_command() -> bool:
    argv = list(getattr(sys, "orig_argv", ()))
    if "-m" in argv:
        return argv[argv.index("-m") + 1:argv.index("-m") + 2] in [[module] for module in _LAZY_MODULES]
    # The `kabot` console script imports `kabot_codex.wizard.cli`, so this package is imported
    # before any code of the CLI runs: the script's name is the only early signal.
    return bool(sys.argv) and os.path.basename(sys.argv[0]) in _LAZY_SCRIPTS


# The emulator's child processes set the variable explicitly (tests, `run_emulator_process`).
_DEFER = os.environ.pop("_KABOT_CODEX_DEFER_REGISTER", "") == "1" or _started_as_lazy_command()


def register() -> CodexLLM:
    """Register the ``openai-codex`` provider with LiteLLM (idempotent) and return the handler."""
    from kabot_codex.provider.register import register as _register

    return _register()


def build_router(**router_kwargs: Any) -> Any:
    """Return a ``litellm.Router`` that follows the saved primary-then-fallback model order."""
    from kabot_codex.routing import build_router as _build_router

    return _build_router(**router_kwargs)


def __getattr__(name: str) -> Any:
    if name == "handler":
        from kabot_codex.provider.register import handler

        return handler
    raise AttributeError(name)


if not _DEFER:
    register()
