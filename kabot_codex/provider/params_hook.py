"""Let LiteLLM accept ``reasoning_effort`` and ``verbosity`` for ``openai-codex`` calls.

LiteLLM checks and maps the OpenAI parameters of every custom provider against one fixed
OpenAI-like list that a plugin cannot extend, so both parameters are refused (or, with
``drop_params``, silently lost) although the Codex backend takes them. This module applies
LiteLLM's own escape hatch, ``allowed_openai_params``, to ``openai-codex`` calls only, and makes
capability queries agree. Why a hook, and what it touches: docs/internals/litellm-params.md.
"""

from __future__ import annotations

import functools
import importlib
import sys
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["EXTRA_PARAMS", "install"]

PROVIDER = "openai-codex"

#: Parameters the Codex backend takes that LiteLLM's generic custom-provider list lacks.
EXTRA_PARAMS: tuple[str, ...] = ("reasoning_effort", "verbosity")

_MARK = "__kabot_codex_hook__"
_lock = threading.Lock()


def _is_ours(model: Any, provider: Any) -> bool:
    if provider:
        return provider == PROVIDER
    return isinstance(model, str) and model.startswith(PROVIDER + "/")


def _with_extras(params: list[str] | None) -> list[str] | None:
    if params is None:
        return None
    return [*params, *(p for p in EXTRA_PARAMS if p not in params)]


def _wrap_supported(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def get_supported_openai_params(model: str, custom_llm_provider: str | None = None,
                                    *args: Any, **kwargs: Any) -> Any:
        supported = original(model, custom_llm_provider, *args, **kwargs)
        request_type = kwargs.get("request_type", args[0] if args else "chat_completion")
        if request_type == "chat_completion" and _is_ours(model, custom_llm_provider):
            return _with_extras(supported)
        return supported

    setattr(get_supported_openai_params, _MARK, True)
    return get_supported_openai_params


def _wrap_optional(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def get_optional_params(*args: Any, **kwargs: Any) -> Any:
        if kwargs.get("custom_llm_provider") == PROVIDER:
            # The same list a caller would pass by hand: LiteLLM then both accepts the
            # parameters and hands them to the provider (its generic mapping drops them).
            kwargs["allowed_openai_params"] = _with_extras(list(kwargs.get("allowed_openai_params") or []))
        return original(*args, **kwargs)

    setattr(get_optional_params, _MARK, True)
    return get_optional_params


# (module, attribute, wrapper): every binding LiteLLM's chat path and its public API read.
_TARGETS: tuple[tuple[str, str, Callable[[Callable[..., Any]], Callable[..., Any]]], ...] = (
    ("litellm.litellm_core_utils.get_supported_openai_params", "get_supported_openai_params", _wrap_supported),
    ("litellm.utils", "get_supported_openai_params", _wrap_supported),
    ("litellm", "get_supported_openai_params", _wrap_supported),
    ("litellm.utils", "get_optional_params", _wrap_optional),
    ("litellm.main", "get_optional_params", _wrap_optional),
    ("litellm", "get_optional_params", _wrap_optional),
)


def install() -> list[str]:
    """Wrap the bindings listed in ``_TARGETS`` once; return the ones wrapped by this call.

    Idempotent: a binding already wrapped (by an earlier call, or shared with another module)
    is left alone. A binding a LiteLLM version lacks is skipped.
    """
    wrapped: list[str] = []
    with _lock:
        for module_name, attribute, wrap in _TARGETS:
            module = sys.modules.get(module_name) or importlib.import_module(module_name)
            try:
                current = getattr(module, attribute)  # resolves LiteLLM's lazy attributes too
            except AttributeError:
                continue
            if getattr(current, _MARK, False):
                setattr(module, attribute, current)  # pin a lazily resolved, already wrapped binding
                continue
            setattr(module, attribute, wrap(current))
            wrapped.append(f"{module_name}.{attribute}")
    return wrapped
