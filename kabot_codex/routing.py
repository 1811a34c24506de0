"""The saved model order as LiteLLM Router deployments and fallbacks.

``agents.defaults.model`` (primary then fallbacks, written by ``kabot setup``) becomes:

- one deployment per model whose ``model_name`` is the model string itself, so
  ``router.completion(model="openai-codex/gpt-5.5")`` works unchanged;
- an alias group ``kabot`` that is a copy of the primary, so apps can call "the order"
  without knowing the slugs;
- with an account pool (``agents.defaults.pool``, several kabot profiles), the primary and
  the alias get one deployment per profile, each pinned with ``litellm_params.kabot_profile``:
  the Router spreads calls over the accounts, a usage-limited account cools down until its
  reset while the others serve, and the fallbacks answer only when every account is limited;
- ``fallbacks``: the alias and the primary fall back to the fallbacks in order, and each
  fallback to the ones after it.

The same description feeds ``kabot router export`` (LiteLLM Proxy ``config.yaml``).
"""

from __future__ import annotations

import copy
import os
from collections.abc import Sequence
from typing import Any

from kabot_codex.catalog import canonical_model, get_spec, model_info_for
from kabot_codex.config import KabotConfig, ModelOrder, load_config
from kabot_codex.errors import ConfigError

__all__ = [
    "ALIAS",
    "build_router",
    "deployment",
    "fallback_map",
    "model_list",
    "openai_credentials",
    "saved_order",
    "saved_pool",
]

#: The model group that follows the saved order.
ALIAS = "kabot"

CODEX = "openai-codex"


def saved_order(config: KabotConfig | None = None) -> ModelOrder:
    """Return the saved primary/fallback order, or raise ``ConfigError`` naming the fix."""
    config = config or load_config()
    order = config.agents.defaults.model_order()
    if order is None or not order.primary:
        raise ConfigError("No model order is saved yet",
                          hint="run `kabot setup` to choose the primary model and its fallbacks")
    return ModelOrder(primary=normalise(order.primary), fallbacks=[normalise(m) for m in order.fallbacks])


def saved_pool(config: KabotConfig | None = None) -> list[str]:
    """Return the saved account pool (kabot profiles serving the primary), empty if none."""
    config = config or load_config()
    return config.agents.defaults.pool_profiles()


def normalise(model: str) -> str:
    """Return the LiteLLM model string for a saved model (bare slugs are ``openai-codex``)."""
    return canonical_model(model)


def openai_credentials(config: KabotConfig | None = None) -> tuple[str | None, str | None]:
    """Return ``(api_key, api_base)`` for ``openai/*``: environment first, then the config."""
    config = config or load_config()
    section = config.existing_provider("openai")
    key = os.environ.get("OPENAI_API_KEY") or (section.api_key if section else None)
    base = (os.environ.get("OPENAI_API_BASE") or os.environ.get("OPENAI_BASE_URL")
            or (section.api_base if section else None))
    return key or None, base or None


def deployment(model: str, *, model_name: str | None = None, config: KabotConfig | None = None,
               profile: str | None = None, for_proxy: bool = False) -> dict[str, Any]:
    """Return one Router/Proxy deployment for ``model``.

    ``openai-codex`` deployments carry no secret: the provider reads our credential store (or
    ``profile``). ``openai/*`` ones get the key the way LiteLLM expects it; for the Proxy the
    key is referenced as ``os.environ/OPENAI_API_KEY`` so no secret lands in the YAML.
    """
    model = normalise(model)
    params: dict[str, Any] = {"model": model}
    entry: dict[str, Any] = {"model_name": model_name or model, "litellm_params": params}
    provider = model.split("/", 1)[0]
    if provider == CODEX:
        if profile:
            params["kabot_profile"] = profile
        spec = get_spec(model)
        if spec is not None:
            entry["model_info"] = model_info_for(spec)
    elif provider == "openai":
        key, base = openai_credentials(config)
        if for_proxy:
            params["api_key"] = "os.environ/OPENAI_API_KEY"
        elif key:
            params["api_key"] = key
        if base:
            params["api_base"] = base
    return entry


def fallback_map(order: ModelOrder, *, alias: str | None = ALIAS) -> list[dict[str, list[str]]]:
    """Return Router ``fallbacks``: alias and primary → all fallbacks, each fallback → the rest."""
    models = order.models()
    primary, rest = models[0], models[1:]
    mapping: list[dict[str, list[str]]] = []
    if not rest:
        return mapping
    if alias:
        mapping.append({alias: list(rest)})
    mapping.append({primary: list(rest)})
    for i, model in enumerate(rest[:-1]):
        mapping.append({model: rest[i + 1:]})
    return mapping


def model_list(order: ModelOrder, *, alias: str | None = ALIAS, config: KabotConfig | None = None,
               profile: str | None = None, for_proxy: bool = False,
               pool: Sequence[str] = ()) -> list[dict[str, Any]]:
    """Return the deployments: every model of the order, then the alias copy of the primary.

    With a ``pool`` of profiles the primary (and its alias copy) is one deployment per profile.
    """
    models = order.models()
    primary = normalise(models[0])
    if pool and not primary.startswith(CODEX + "/"):
        raise ConfigError(f"An account pool serves openai-codex models, but the primary is {primary}",
                          hint="choose an openai-codex primary, or run `kabot setup` without --pool")
    heads = ([deployment(primary, config=config, profile=p, for_proxy=for_proxy) for p in pool]
             or [deployment(primary, config=config, profile=profile, for_proxy=for_proxy)])
    deployments = heads + [deployment(m, config=config, profile=profile, for_proxy=for_proxy) for m in models[1:]]
    if alias:
        for head in heads:
            alias_entry = copy.deepcopy(head)
            alias_entry["model_name"] = alias
            deployments.append(alias_entry)
    return deployments


def build_router(order: ModelOrder | None = None, *, alias: str | None = ALIAS, profile: str | None = None,
                 pool: Sequence[str] | None = None, **router_kwargs: Any) -> Any:
    """Return a ``litellm.Router`` that follows the saved primary-then-fallback order.

    Args:
        order: the order to use; default: ``agents.defaults.model`` from the config.
        alias: name of the group that follows the order (``"kabot"``); None for no alias.
        profile: the kabot credential profile ``openai-codex`` deployments use (default: active).
        pool: profiles that each serve the primary (default: ``agents.defaults.pool``; ``[]``: none).
        **router_kwargs: passed to ``litellm.Router`` (``num_retries``,
            ``context_window_fallbacks``, ``cooldown_time``, ...). ``fallbacks`` given here are
            appended after the ones derived from the order.

    Raises:
        ConfigError: no order is saved (run ``kabot setup``).
    """
    import kabot_codex

    # Router() does not run LiteLLM's custom-provider setup itself; registering does.
    kabot_codex.register()
    import litellm

    config = load_config()
    if order is None:
        order = saved_order(config)
    else:
        order = ModelOrder(primary=normalise(order.primary), fallbacks=[normalise(m) for m in order.fallbacks])
    if pool is None:
        pool = saved_pool(config)
    extra_fallbacks = list(router_kwargs.pop("fallbacks", None) or [])
    return litellm.Router(
        model_list=model_list(order, alias=alias, config=config, profile=profile, pool=pool),
        fallbacks=fallback_map(order, alias=alias) + extra_fallbacks,
        **router_kwargs,
    )
