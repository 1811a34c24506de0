"""The saved model order as a LiteLLM Proxy ``config.yaml``.

The Proxy *assigns* ``litellm.custom_provider_map`` from its YAML, dropping what
``import kabot_codex`` registered, so the file must name our handler instance
(``kabot_codex.handler``); importing it also lets ``reasoning_effort`` through without a
per-deployment ``allowed_openai_params`` (docs/internals/litellm-hooks.md). Secrets never go
into the file: ``openai/*`` keys are referenced as ``os.environ/OPENAI_API_KEY`` and Codex
credentials stay in kabot's store.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kabot_codex import _fs
from kabot_codex.config import KabotConfig, ModelOrder, load_config
from kabot_codex.errors import ConfigError
from kabot_codex.routing import ALIAS, fallback_map, model_list, normalise, saved_order

__all__ = ["HANDLER_PATH", "proxy_config", "proxy_config_yaml", "write_proxy_config"]

#: What ``litellm_settings.custom_provider_map`` must name (module attribute path).
HANDLER_PATH = "kabot_codex.handler"

_HEADER = """\
# LiteLLM Proxy config written by `kabot router export` from the saved model order.
# Start it with:  litellm --config {name}
# openai-codex models use the credentials of `kabot login` (KABOT_HOME, active profile);
# openai/* models read OPENAI_API_KEY from the proxy's environment.
# With --num_workers N every worker shares kabot's credential store; token refreshes are
# locked across processes, and usage-limit state is shared through KABOT_HOME.
"""


def proxy_config(order: ModelOrder | None = None, *, alias: str | None = ALIAS,
                 config: KabotConfig | None = None, profile: str | None = None,
                 num_retries: int | None = None) -> dict[str, Any]:
    """Return the Proxy config as a dict (``model_list``, ``litellm_settings``, ``router_settings``)."""
    config = config or load_config()
    if order is None:
        order = saved_order(config)
    else:
        order = ModelOrder(primary=normalise(order.primary), fallbacks=[normalise(m) for m in order.fallbacks])
    router_settings: dict[str, Any] = {"fallbacks": fallback_map(order, alias=alias)}
    if num_retries is not None:
        router_settings["num_retries"] = num_retries
    return {
        "model_list": model_list(order, alias=alias, config=config, profile=profile, for_proxy=True),
        "litellm_settings": {
            "custom_provider_map": [{"provider": "openai-codex", "custom_handler": HANDLER_PATH}],
        },
        "router_settings": router_settings,
    }


def proxy_config_yaml(data: dict[str, Any], *, name: str = "config.yaml") -> str:
    """Render ``data`` as commented YAML."""
    import yaml

    body = yaml.safe_dump(data, sort_keys=False, default_flow_style=False, width=100)
    return _HEADER.format(name=name) + body


def write_proxy_config(path: Path, data: dict[str, Any]) -> None:
    """Write the YAML atomically (0644: it holds no secrets and the Proxy may run as another user).

    The directory must exist: creating it would hide a typo in ``--output`` (``ConfigError``).
    """
    target = _fs.write_target(path)
    if not target.parent.is_dir():
        raise ConfigError(f"The directory {target.parent} does not exist; nothing was written",
                          hint=f"create it first (`mkdir -p {target.parent}`) or choose another --output")
    _fs.atomic_write_text(path, proxy_config_yaml(data, name=path.name), mode=0o644)
