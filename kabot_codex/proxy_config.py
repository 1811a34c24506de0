"""The saved model order as a LiteLLM Proxy ``config.yaml``, safe to start as printed.

The Proxy *assigns* ``litellm.custom_provider_map`` from its YAML, dropping what
``import kabot_codex`` registered, so the file must name our handler instance
(``kabot_codex.handler``); importing it also lets ``reasoning_effort`` through without a
per-deployment ``allowed_openai_params`` (docs/internals/litellm-hooks.md). Secrets never go
into the file: ``openai/*`` keys are referenced as ``os.environ/OPENAI_API_KEY``, the Proxy's
master key as ``os.environ/LITELLM_MASTER_KEY`` and Codex credentials stay in kabot's store.

Safe by default (docs/internals/proxy-safety.md): the printed command binds loopback, and
the YAML asks for a master key — on loopback too, because the Proxy answers cross-origin
browser requests, so any web page the user opens could otherwise spend the subscription.
``kabot_codex.proxy_hooks`` (listed under ``callbacks``) refuses to start without that key
and logs an error for every ``openai-codex`` deployment that has no usable login.
"""

from __future__ import annotations

import ipaddress
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from kabot_codex import _fs
from kabot_codex.config import KabotConfig, ModelOrder, load_config
from kabot_codex.errors import ConfigError
from kabot_codex.routing import ALIAS, fallback_map, model_list, normalise, saved_order, saved_pool

__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "HANDLER_PATH",
    "HOOKS_PATH",
    "MASTER_KEY_ENV",
    "ProxyServe",
    "is_loopback",
    "proxy_config",
    "proxy_config_yaml",
    "redis_router_settings",
    "start_commands",
    "write_proxy_config",
]

#: What ``litellm_settings.custom_provider_map`` must name (module attribute path).
HANDLER_PATH = "kabot_codex.handler"
#: The CustomLogger the Proxy loads from ``litellm_settings.callbacks`` (start-up checks,
#: pool routing, the missing-login error at the first fallback).
HOOKS_PATH = "kabot_codex.proxy_hooks.proxy_hooks"
MASTER_KEY_ENV = "LITELLM_MASTER_KEY"
REDIS_PASSWORD_ENV = "REDIS_PASSWORD"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 4000


@dataclass(frozen=True)
class ProxyServe:
    """Where the Proxy will listen and whether callers must present the master key."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    master_key: bool = True

    def __post_init__(self) -> None:
        if not self.master_key and not is_loopback(self.host):
            raise ConfigError(
                f"Refusing to export a Proxy config that listens on {self.host} without a master key: "
                "anyone who can reach that address could spend the subscription",
                hint=f"drop --no-master-key (callers then send the key in {MASTER_KEY_ENV}), "
                     f"or listen on {DEFAULT_HOST}")


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach (``127.0.0.0/8``, ``::1``, ``localhost``)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def redis_router_settings(url: str) -> dict[str, Any]:
    """LiteLLM ``router_settings`` that share cooldowns and counters through Redis at ``url``.

    The password never lands in the file: it is referenced as ``os.environ/REDIS_PASSWORD``.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss") or not parts.hostname:
        raise ConfigError(f"Not a Redis URL: {parts.scheme or '?'}://{parts.hostname or '?'}",
                          hint="use redis://HOST:PORT/DB or rediss://HOST:PORT/DB")
    settings: dict[str, Any] = {"redis_host": parts.hostname, "redis_port": parts.port or 6379}
    if parts.password is not None and unquote(parts.password):
        settings["redis_password"] = f"os.environ/{REDIS_PASSWORD_ENV}"
    return settings


def proxy_config(order: ModelOrder | None = None, *, alias: str | None = ALIAS,
                 config: KabotConfig | None = None, profile: str | None = None,
                 num_retries: int | None = None, pool: Sequence[str] | None = None,
                 serve: ProxyServe | None = None, redis_url: str | None = None) -> dict[str, Any]:
    """Return the Proxy config as a dict (``model_list``, ``litellm_settings``, ``router_settings``,
    and ``general_settings.master_key`` unless ``serve.master_key`` is off)."""
    config = config or load_config()
    serve = serve or ProxyServe()
    if order is None:
        order = saved_order(config)
    else:
        order = ModelOrder(primary=normalise(order.primary), fallbacks=[normalise(m) for m in order.fallbacks])
    if pool is None:
        pool = saved_pool(config)
    router_settings: dict[str, Any] = {"fallbacks": fallback_map(order, alias=alias)}
    if num_retries is not None:
        router_settings["num_retries"] = num_retries
    if redis_url:
        router_settings.update(redis_router_settings(redis_url))
    data: dict[str, Any] = {
        "model_list": model_list(order, alias=alias, config=config, profile=profile, for_proxy=True, pool=pool),
        "litellm_settings": {
            "custom_provider_map": [{"provider": "openai-codex", "custom_handler": HANDLER_PATH}],
            "callbacks": [HOOKS_PATH],
        },
        "router_settings": router_settings,
    }
    if serve.master_key:
        data["general_settings"] = {"master_key": f"os.environ/{MASTER_KEY_ENV}"}
    return data


def start_commands(path: str, serve: ProxyServe | None = None) -> list[str]:
    """The shell lines that start the Proxy for ``path`` as exported (what the tests run)."""
    serve = serve or ProxyServe()
    lines = []
    if serve.master_key:
        # LiteLLM only treats keys starting with "sk-" as virtual/master keys.
        lines.append(f'export {MASTER_KEY_ENV}="${{{MASTER_KEY_ENV}:-sk-$(python3 -c '
                     f"'import secrets; print(secrets.token_urlsafe(32))')}}\"")
    lines.append(f"LITELLM_LOCAL_MODEL_COST_MAP=True litellm --config {shlex.quote(path)} "
                 f"--host {serve.host} --port {serve.port}")
    return lines


_HEADER = """\
# LiteLLM Proxy config written by `kabot router export` from the saved model order.
# Start it with:
{start}
# openai-codex models use the credentials of `kabot login` (KABOT_HOME, active profile or
# the deployment's kabot_profile): run the Proxy as the user who logged in, with the same
# KABOT_HOME; kabot_codex.proxy_hooks logs an error at start-up for every deployment without a login.
# openai/* models read OPENAI_API_KEY from the proxy's environment.
# With --num_workers N every worker shares kabot's credential store; token refreshes are
# locked across processes, and usage-limit state is shared through KABOT_HOME.
"""

_MASTER_KEY_NOTE = """\
# general_settings.master_key: every caller must send `Authorization: Bearer $LITELLM_MASTER_KEY`.
# It is read from the environment (never written here) and required even on 127.0.0.1: the
# Proxy answers cross-origin requests, so without it any web page you open could use it.
# kabot_codex.proxy_hooks stops the Proxy at start-up if LITELLM_MASTER_KEY is unset.
"""

_OPEN_NOTE = """\
# No master key (exported with --no-master-key): anything that can reach {host}:{port},
# including web pages open in a browser on this machine, can use this Proxy.
"""


def proxy_config_yaml(data: dict[str, Any], *, name: str = "config.yaml", serve: ProxyServe | None = None) -> str:
    """Render ``data`` as commented YAML."""
    import yaml

    serve = serve or ProxyServe()
    start = "\n".join(f"#   {line}" for line in start_commands(name, serve))
    header = _HEADER.format(start=start)
    header += _MASTER_KEY_NOTE if "general_settings" in data else _OPEN_NOTE.format(host=serve.host, port=serve.port)
    body = yaml.safe_dump(data, sort_keys=False, default_flow_style=False, width=100)
    return header + body


def write_proxy_config(path: Path, data: dict[str, Any], *, serve: ProxyServe | None = None) -> None:
    """Write the YAML atomically (0644: it holds no secrets and the Proxy may run as another user).

    The directory must exist: creating it would hide a typo in ``--output`` (``ConfigError``).
    """
    target = _fs.write_target(path)
    if not target.parent.is_dir():
        raise ConfigError(f"The directory {target.parent} does not exist; nothing was written",
                          hint=f"create it first (`mkdir -p {target.parent}`) or choose another --output")
    _fs.atomic_write_text(path, proxy_config_yaml(data, name=str(path), serve=serve), mode=0o644)
