"""What the wizard prints: the current setup, probe results and the snippet to use the order."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.console import Console
from rich.syntax import Syntax
from rich.table import Table

from kabot_codex.catalog.account import AccountView
from kabot_codex.config import KabotConfig
from kabot_codex.errors import ConfigError

if TYPE_CHECKING:
    from kabot_codex.catalog.probe import ProbeResult

__all__ = ["show_current", "show_login", "show_probes", "show_snippet", "snippet"]


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
    # No box around it: a box would fold a long e-mail or path in a narrow terminal.
    console.print("[bold]Current setup[/]", highlight=False)
    for line in lines:
        console.print(f"  {line}", highlight=False, soft_wrap=True)


def show_probes(console: Console, results: Sequence[ProbeResult]) -> None:
    """Print one line per probed model."""
    table = Table(show_header=True, title="Connectivity check", title_justify="left")
    # fold, not the default ellipsis: a narrow terminal must not hide a model name or an error.
    table.add_column("model", overflow="fold")
    table.add_column("result", overflow="fold")
    table.add_column("time", justify="right", no_wrap=True)
    style = {"working": "green", "unsupported": "red", "limited": "yellow"}
    for r in results:
        text = "ok" if r.ok else f"{r.outcome}: {r.detail}"
        table.add_row(r.model, f"[{style.get(r.outcome, 'red')}]{text}[/]", f"{r.seconds:.1f}s")
    console.print(table)


def snippet(primary: str, fallbacks: Sequence[str]) -> str:
    """The Python that uses the saved order; short lines, so it reads well in narrow terminals.

    ``json.dumps`` quotes each model: a valid Python string literal for any model name.
    """
    listed = "".join(f"        {json.dumps(m)},\n" for m in fallbacks)
    return f'''import kabot_codex
import litellm

# A Router that follows the saved order:
# "kabot" = {primary}, then its fallbacks.
router = kabot_codex.build_router()
reply = router.completion(
    model="kabot",
    messages=[{{"role": "user", "content": "Hi"}}],
)

# Plain LiteLLM, one call:
reply = litellm.completion(
    model={json.dumps(primary)},
    messages=[{{"role": "user", "content": "Hi"}}],
    fallbacks=[
{listed}    ],
)
'''


def show_snippet(console: Console, primary: str, fallbacks: Sequence[str]) -> None:
    """Print how to use the saved order from LiteLLM, a Router and the Proxy.

    Printed with ``soft_wrap``: a line wider than the terminal is left for the terminal to wrap
    (copying joins it back), never cropped or broken by us, so the pasted code always runs.
    A ``Syntax`` renderable would crop long lines to the console width.
    """
    code = snippet(primary, fallbacks)
    highlighted = Syntax(code, "python", theme="ansi_dark", background_color="default").highlight(code)
    highlighted.rstrip()
    console.print("Use it from Python:", highlight=False)
    console.print(highlighted, soft_wrap=True)
    console.print("Or from the LiteLLM Proxy (the export prints the command that starts it safely):",
                  highlight=False, soft_wrap=True)
    console.print("  [bold]kabot router export -o config.yaml[/]", highlight=False, soft_wrap=True)


def show_login(console: Console, config: KabotConfig, profile: str) -> None:
    """Say who is logged in now, from what was saved (never secrets)."""
    codex = config.providers.get("openai-codex")
    stored = codex.profiles.get(profile) if codex else None
    if stored is None:
        return
    if stored.email:
        who = stored.email
    elif stored.method == "api-key":
        who = "an OpenAI API key"
    else:
        who = "your ChatGPT account"
    plan = f" ({stored.plan} plan)" if stored.plan else ""
    console.print(f"[green]Logged in[/] as {who}{plan}, profile {profile}.", highlight=False, soft_wrap=True)
