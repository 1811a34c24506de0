"""What the wizard prints: the current setup, probe results and the snippet to use the order."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.console import Console
from rich.panel import Panel
from rich.syntax import Syntax
from rich.table import Table

from kabot_codex.catalog.account import AccountView
from kabot_codex.config import KabotConfig
from kabot_codex.errors import ConfigError

if TYPE_CHECKING:
    from kabot_codex.catalog.probe import ProbeResult

__all__ = ["show_current", "show_probes", "show_snippet"]


def show_current(console: Console, config: KabotConfig, account: AccountView, profile: str) -> None:
    """Print what is configured now (login, order), without secrets."""
    codex = config.existing_provider("openai-codex")
    stored = codex.profiles.get(profile) if codex else None
    if stored is None:
        login = "not logged in"
    else:
        who = f" as {stored.email}" if stored.email else ""
        plan = f", {stored.plan} plan" if stored.plan else ""
        login = f"{stored.method}{who}{plan} (profile {profile})"
    lines = [f"login:     {login}"]
    try:
        order = config.agents.defaults.model_order()
    except ConfigError:
        order = None
        lines.append("model:     the saved order is invalid; this setup replaces it")
    if order is None:
        if len(lines) == 1:
            lines.append("model:     not set")
    else:
        lines.append(f"primary:   {order.primary}")
        lines.append(f"fallbacks: {', '.join(order.fallbacks) or 'none'}")
    openai = config.existing_provider("openai")
    if openai and openai.api_key:
        lines.append("openai:    API key saved for openai/* models")
    console.print(Panel("\n".join(lines), title="Current setup", title_align="left", expand=False),
                  highlight=False)


def show_probes(console: Console, results: Sequence[ProbeResult]) -> None:
    """Print one line per probed model."""
    table = Table(show_header=True, title="Connectivity check", title_justify="left")
    table.add_column("model")
    table.add_column("result")
    table.add_column("time", justify="right")
    style = {"working": "green", "unsupported": "red", "limited": "yellow"}
    for r in results:
        text = "ok" if r.ok else f"{r.outcome}: {r.detail}"
        table.add_row(r.model, f"[{style.get(r.outcome, 'red')}]{text}[/]", f"{r.seconds:.1f}s")
    console.print(table)


def show_snippet(console: Console, primary: str, fallbacks: Sequence[str]) -> None:
    """Print how to use the saved order from LiteLLM, a Router and the Proxy."""
    fb = ", ".join(repr(m) for m in fallbacks)
    code = f'''import kabot_codex, litellm

# A Router that follows the saved order ("kabot" = {primary} then its fallbacks):
router = kabot_codex.build_router()
reply = router.completion(model="kabot", messages=[{{"role": "user", "content": "Hi"}}])

# Plain LiteLLM, one call:
reply = litellm.completion(model={primary!r}, messages=[{{"role": "user", "content": "Hi"}}],
                           fallbacks=[{fb}])
'''
    console.print(Syntax(code, "python", theme="ansi_dark", background_color="default"))
    console.print("LiteLLM Proxy: [bold]kabot router export -o config.yaml[/] "
                  "(it prints the command that starts it safely)", highlight=False)
