"""The only places kabot-codex changes LiteLLM's behaviour: narrow, idempotent wrappers.

1. Parameters. LiteLLM checks and maps the OpenAI parameters of every custom provider against
   one fixed OpenAI-like list that a plugin cannot extend, so ``reasoning_effort`` and
   ``verbosity`` are refused (or, with ``drop_params``, silently lost) although the Codex
   backend takes them. For ``openai-codex`` calls only, the wrappers apply LiteLLM's own escape
   hatch, ``allowed_openai_params``, and make capability queries agree.
2. Fallbacks. LiteLLM's Router falls back on every error, a 400 included; an exception marked
   ``kabot_no_fallback`` (an unknown ``kabot_profile``) is raised to the caller instead.

Why hooks, what they touch, and on which LiteLLM versions: docs/internals/litellm-hooks.md.
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


def _wrap_fallbacks(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    async def async_function_with_fallbacks_common_utils(self: Any, e: Exception, *args: Any, **kwargs: Any) -> Any:
        if getattr(e, "kabot_no_fallback", False):
            raise e
        return await original(self, e, *args, **kwargs)

    setattr(async_function_with_fallbacks_common_utils, _MARK, True)
    return async_function_with_fallbacks_common_utils


def _wrap_allow_fallback(original: Callable[..., Any]) -> Callable[..., Any]:
    # LiteLLM >= 1.110 (Rust router core): asked once per fallback target of a failed level.
    @functools.wraps(original)
    async def allow_fallback(self: Any, target: str) -> Any:
        if getattr(getattr(self, "_last_error", None), "kabot_no_fallback", False):
            return False
        return await original(self, target)

    setattr(allow_fallback, _MARK, True)
    return allow_fallback


_Wrapper = Callable[[Callable[..., Any]], Callable[..., Any]]

# (module[:class], attribute, wrapper, import the module if it is not loaded yet): every binding
# LiteLLM's chat path, its public API and its Routers read. A binding a version lacks is skipped.
_TARGETS: tuple[tuple[str, str, _Wrapper, bool], ...] = (
    ("litellm.litellm_core_utils.get_supported_openai_params", "get_supported_openai_params", _wrap_supported,
     True),
    ("litellm.utils", "get_supported_openai_params", _wrap_supported, True),
    ("litellm", "get_supported_openai_params", _wrap_supported, True),
    ("litellm.utils", "get_optional_params", _wrap_optional, True),
    ("litellm.main", "get_optional_params", _wrap_optional, True),
    ("litellm", "get_optional_params", _wrap_optional, True),
    # The Python Router (LiteLLM < 1.110): every fallback path goes through this method.
    ("litellm.router:Router", "async_function_with_fallbacks_common_utils", _wrap_fallbacks, True),
    # The Rust router core (LiteLLM >= 1.110). It is imported only when a Router is built, so it
    # is hooked when it is already loaded: at registration, or when a no-fallback error is
    # raised (inside the Router's call, so the core is loaded by then).
    ("litellm.router_rust.core:_Driver", "allow_fallback", _wrap_allow_fallback, False),
)


def _owner(path: str, load: bool) -> Any:
    module_name, _, class_name = path.partition(":")
    module = sys.modules.get(module_name)
    if module is None and load:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            return None
    return getattr(module, class_name, None) if class_name else module


def install() -> list[str]:
    """Wrap the bindings listed in ``_TARGETS`` once; return the ones wrapped by this call.

    Idempotent and cheap: a binding already wrapped (by an earlier call, or shared with another
    module) is left alone. Runs at registration and before a no-fallback error is raised.
    """
    wrapped: list[str] = []
    with _lock:
        for owner_path, attribute, wrap, load in _TARGETS:
            owner = _owner(owner_path, load)
            try:
                current = getattr(owner, attribute)  # resolves LiteLLM's lazy attributes too
            except AttributeError:
                continue
            if getattr(current, _MARK, False):
                setattr(owner, attribute, current)  # pin a lazily resolved, already wrapped binding
                continue
            setattr(owner, attribute, wrap(current))
            wrapped.append(f"{owner_path}.{attribute}")
    return wrapped
