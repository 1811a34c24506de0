"""What the LiteLLM Proxy runs of ours besides the handler: start-up checks and fallback alarms.

``kabot router export`` lists ``kabot_codex.proxy_hooks.proxy_hooks`` under
``litellm_settings.callbacks``. The Proxy imports it while it loads the config (after reading
the YAML, before building the Router), which is when the start-up checks run:

- a config that asks for a master key (``general_settings.master_key``) whose environment
  variable is unset stops the start-up: LiteLLM would otherwise serve every caller unchecked;
- every ``openai-codex`` deployment without a usable login gets an ERROR naming the profile,
  ``KABOT_HOME`` and the fix — a Proxy started as another user or with another HOME would
  otherwise answer everything from its paid fallbacks and log only ``200 OK``.

At run time the same object hears the Router's fallback events and logs an ERROR once per
profile the first time a request falls back because that profile has no login, and it keeps
the Router from picking an account kabot already knows to be over its usage limit (an account
pool appears in several groups — the model string and the alias — and the Router's cooldown
is per group; a streamed call that picked such an account would go to the fallbacks).
See docs/internals/proxy-safety.md.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Iterable, Mapping
from typing import Any

from litellm.integrations.custom_logger import CustomLogger

from kabot_codex import state
from kabot_codex.auth.credentials import ENV_API_KEY, ENV_PROFILE
from kabot_codex.config import kabot_home
from kabot_codex.errors import ConfigError, KabotError

__all__ = ["ProxyHooks", "check_proxy_config", "login_problems", "master_key_problem", "proxy_hooks"]

logger = logging.getLogger("kabot_codex.proxy")

CODEX_PREFIX = "openai-codex/"
#: How long a profile's account is trusted before the store is read again (a re-login to
#: another account is noticed within this time).
ACCOUNT_TTL = 30.0
#: How long "this account is not limited" is trusted by the deployment filter. Asking the
#: usage-limit memory costs ~30 us per account; a limit this process learns invalidates every
#: cached verdict at once (``state.limits_generation``), so the TTL only bounds how late a
#: limit another process persisted is seen.
VERDICT_TTL = 1.0


def _ensure_visible() -> None:
    # The Proxy configures LiteLLM's loggers, not ours: without a handler an ERROR would only
    # reach Python's last-resort handler, and not at all once someone configures the root logger
    # above ERROR. These lines must not be missed.
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s kabot-codex: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False


def _profile_of(params: Mapping[str, Any]) -> str | None:
    metadata = params.get("metadata")
    pinned = params.get("kabot_profile") or (metadata.get("kabot_profile") if isinstance(metadata, Mapping) else None)
    return pinned or os.environ.get(ENV_PROFILE) or None


def _login_fix(profile: str | None, home: str) -> str:
    command = "kabot login" + (f" --profile {profile}" if profile and profile != "default" else "")
    return (f"run `{command}` as the user the Proxy runs as, with KABOT_HOME={home} "
            f"(or start the Proxy with the KABOT_HOME that holds the login)")


def login_problems(model_list: Iterable[Mapping[str, Any]]) -> list[str]:
    """One message per ``openai-codex`` deployment that has no usable login."""
    from kabot_codex.auth.store import load_snapshot

    home = str(kabot_home())
    problems: list[str] = []
    verdicts: dict[str | None, str | None] = {}
    for entry in model_list:
        params = entry.get("litellm_params") or {}
        model = str(params.get("model") or "")
        if not model.startswith(CODEX_PREFIX) or params.get("api_key") or os.environ.get(ENV_API_KEY):
            continue  # a key given in the YAML or the environment needs no kabot login
        profile = _profile_of(params)
        if profile not in verdicts:
            try:
                load_snapshot(profile)
                verdicts[profile] = None
            except (KabotError, ConfigError) as err:
                verdicts[profile] = str(err)
        reason = verdicts[profile]
        if reason is None:
            continue
        shown = repr(profile) if profile else "the active profile"
        problems.append(
            f"openai-codex deployment {entry.get('model_name')!r} ({model}, {shown}) has NO usable login "
            f"in KABOT_HOME={home}: {reason}. Every request to it fails and is answered by its fallbacks "
            f"(paid openai/* models) instead. Fix: {_login_fix(profile, home)}.")
    return problems


def master_key_problem(config: Mapping[str, Any]) -> str | None:
    """Why the config's master key is unusable, or None (also None when none is asked for)."""
    general = config.get("general_settings") or {}
    if not isinstance(general, Mapping) or "master_key" not in general:
        return None
    value = general.get("master_key")
    if isinstance(value, str) and value and not value.startswith("os.environ/"):
        return None
    return ("this Proxy config requires a master key (general_settings.master_key: "
            "os.environ/LITELLM_MASTER_KEY) but LITELLM_MASTER_KEY is not set, so LiteLLM would serve "
            "every caller without checking a key. Fix: export LITELLM_MASTER_KEY=sk-... (any secret "
            "starting with sk-) and start the Proxy again; callers send it as their API key")


def check_proxy_config(config: Mapping[str, Any]) -> None:
    """Run the start-up checks on a loaded Proxy config: log login problems, refuse an open door."""
    _ensure_visible()
    for problem in login_problems(config.get("model_list") or []):
        logger.error(problem)
    refusal = master_key_problem(config)
    if refusal is not None:
        logger.error(refusal)
        raise ConfigError(f"Refusing to start: {refusal}")


def _running_proxy_config() -> Mapping[str, Any] | None:
    # The config the Proxy is loading right now (it imports us from inside `load_config`).
    server = sys.modules.get("litellm.proxy.proxy_server")
    getter = getattr(getattr(server, "proxy_config", None), "get_config_state", None)
    if getter is None:
        return None
    try:
        state = getter()
    except Exception:  # noqa: BLE001 - an unreadable state only skips the checks
        return None
    return state if isinstance(state, Mapping) and state.get("model_list") is not None else None


class ProxyHooks(CustomLogger):
    """Skips accounts known to be usage-limited; logs the first fallback caused by a missing login."""

    def __init__(self) -> None:
        super().__init__()
        self._reported: set[str] = set()
        self._lock = threading.Lock()
        self._accounts: dict[str | None, tuple[str | None, float]] = {}
        self._verdicts: dict[str, tuple[bool, float, int]] = {}

    def _account_key(self, profile: str | None) -> str | None:
        now = time.monotonic()
        cached = self._accounts.get(profile)
        if cached is not None and now - cached[1] < ACCOUNT_TTL:
            return cached[0]
        from kabot_codex.auth.store import load_snapshot

        try:
            key: str | None = load_snapshot(profile).credentials.account_key
        except (KabotError, ConfigError):
            key = None
        self._accounts[profile] = (key, now)
        return key

    def _known_limited(self, deployment: Mapping[str, Any]) -> bool:
        params = deployment.get("litellm_params") or {}
        if not str(params.get("model") or "").startswith(CODEX_PREFIX) or params.get("api_key"):
            return False
        key = self._account_key(_profile_of(params))
        if key is None:
            return False
        now = time.monotonic()
        generation = state.limits_generation()
        verdict = self._verdicts.get(key)
        if verdict is None or now - verdict[1] >= VERDICT_TTL or verdict[2] != generation:
            verdict = self._verdicts[key] = (state.blocked_until(key) is not None, now, generation)
        return verdict[0]

    async def async_filter_deployments(self, model: str, healthy_deployments: list, messages: Any,
                                       request_kwargs: dict | None = None,
                                       parent_otel_span: Any = None) -> list[dict]:
        if len(healthy_deployments) < 2:
            return healthy_deployments
        keep = [d for d in healthy_deployments if not self._known_limited(d)]
        # All limited: leave the choice to the Router; the provider fails fast without a request
        # and the fallbacks answer.
        return keep or healthy_deployments

    def _report(self, original_model_group: str, original_exception: Exception, answered: bool) -> None:
        reason = getattr(original_exception, "kabot_missing_login", None)
        if not reason:
            return
        with self._lock:
            if reason in self._reported:
                return
            self._reported.add(reason)
        _ensure_visible()
        outcome = "a fallback model answered instead" if answered else "its fallbacks failed too"
        logger.error(f"request for {original_model_group!r} could not use openai-codex and {outcome}: "
                     f"{reason}; KABOT_HOME={kabot_home()}. Logged once per profile.")

    async def log_success_fallback_event(self, original_model_group: str, kwargs: dict,
                                         original_exception: Exception) -> None:
        self._report(original_model_group, original_exception, answered=True)

    async def log_failure_fallback_event(self, original_model_group: str, kwargs: dict,
                                         original_exception: Exception) -> None:
        self._report(original_model_group, original_exception, answered=False)


proxy_hooks = ProxyHooks()

_config = _running_proxy_config()
if _config is not None:
    check_proxy_config(_config)
