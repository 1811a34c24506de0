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
    from kabot_codex.routing import ALIAS, fallback_map, saved_order

    console = Console()
    with handle_errors():
        order = saved_order()
        console.print(f"[bold]{ALIAS}[/] = {order.primary}", highlight=False)
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
def export(output: Path | None, alias: str, profile: str | None, num_retries: int | None) -> None:
    """Write a LiteLLM Proxy config.yaml for the saved order (no secrets in it)."""
    from kabot_codex.proxy_config import proxy_config, proxy_config_yaml, write_proxy_config

    err = Console(stderr=True)
    with handle_errors(err):
        data = proxy_config(alias=alias or None, profile=profile, num_retries=num_retries)
        if output is None:
            sys.stdout.write(proxy_config_yaml(data))
        else:
            write_proxy_config(output, data)
            err.print(f"Wrote {output}. Start the proxy with: litellm --config {output}", highlight=False)
        uses_openai = any(d["litellm_params"]["model"].startswith("openai/") for d in data["model_list"])
        if uses_openai and not os.environ.get("OPENAI_API_KEY"):
            # The Proxy reads the key from its environment, never from kabot's config.
            err.print("[yellow]note:[/] the order has openai/* models; set OPENAI_API_KEY where the proxy runs.")
