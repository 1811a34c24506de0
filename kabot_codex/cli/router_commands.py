"""``kabot router``: show the saved fallback order and export it for the LiteLLM Proxy."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click
from rich.console import Console

from kabot_codex.cli import cli
from kabot_codex.cli.errors import handle_errors

__all__ = ["router"]


@cli.group()
def router() -> None:
    """Use the saved model order from a LiteLLM Router or Proxy."""


@router.command("show")
def show() -> None:
    """Print the order the Router follows and the fallbacks it derives."""
    from kabot_codex.routing import ALIAS, fallback_map, saved_order, saved_pool

    console = Console()
    with handle_errors():
        order = saved_order()
        console.print(f"[bold]{ALIAS}[/] = {order.primary}", highlight=False)
        pool = saved_pool()
        if pool:
            console.print(f"  served by the account pool: {', '.join(pool)}", highlight=False)
        for i, model in enumerate(order.fallbacks, 1):
            console.print(f"  fallback {i}: {model}", highlight=False)
        for entry in fallback_map(order):
            for group, targets in entry.items():
                console.print(f"  [dim]{group} → {', '.join(targets)}[/]", highlight=False)


@router.command("export")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the config here instead of printing it.")
@click.option("--alias", default="kabot", show_default=True, help="Model group that follows the order.")
@click.option("--profile", default=None, help="kabot credential profile for openai-codex models.")
@click.option("--num-retries", type=int, default=None, help="router_settings.num_retries.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address the printed start command binds (0.0.0.0: every interface).")
@click.option("--port", type=int, default=4000, show_default=True, help="Port of the printed start command.")
@click.option("--no-master-key", is_flag=True,
              help="Loopback only: let callers in without LITELLM_MASTER_KEY (any local page or user can).")
@click.option("--redis-url", default=None, envvar="KABOT_STORE_URL",
              help="Share the Router's cooldowns through this Redis (redis://HOST:PORT/DB; "
                   "default: $KABOT_STORE_URL).")
def export(output: Path | None, alias: str, profile: str | None, num_retries: int | None, host: str, port: int,
           no_master_key: bool, redis_url: str | None) -> None:
    """Write a LiteLLM Proxy config.yaml for the saved order (no secrets in it)."""
    from kabot_codex.proxy_config import ProxyServe, proxy_config, proxy_config_yaml, start_commands, write_proxy_config

    err = Console(stderr=True)
    with handle_errors(err):
        serve = ProxyServe(host=host, port=port, master_key=not no_master_key)
        data = proxy_config(alias=alias or None, profile=profile, num_retries=num_retries, serve=serve,
                            redis_url=redis_url or None)
        if output is None:
            sys.stdout.write(proxy_config_yaml(data, serve=serve))
        else:
            write_proxy_config(output, data, serve=serve)
            err.print(f"Wrote {output}. Start the proxy with:", highlight=False)
            for line in start_commands(str(output), serve):
                err.print(f"  {line}", highlight=False, markup=False, soft_wrap=True)
            if serve.master_key:
                err.print("Callers send LITELLM_MASTER_KEY as their API key.", highlight=False)
        uses_openai = any(d["litellm_params"]["model"].startswith("openai/") for d in data["model_list"])
        if uses_openai and not os.environ.get("OPENAI_API_KEY"):
            # The Proxy reads the key from its environment, never from kabot's config.
            err.print("[yellow]note:[/] the order has openai/* models; set OPENAI_API_KEY where the proxy runs.")
        if "redis_password" in data["router_settings"]:
            err.print("[yellow]note:[/] set REDIS_PASSWORD where the proxy runs (it is not written to the file).")
