"""``kabot login``, ``kabot logout`` and ``kabot status``.

Heavy imports (requests-oauthlib, httpx) happen inside the commands, and nothing here
imports LiteLLM, so ``kabot status`` stays fast.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from kabot_codex.cli import cli
from kabot_codex.cli.errors import handle_errors
from kabot_codex.errors import KabotError

__all__ = ["login", "logout", "status"]


@cli.command()
@click.option("--browser", "method", flag_value="browser", help="Log in in the browser (the default).")
@click.option("--device", "method", flag_value="device", help="Log in with a device code (headless).")
@click.option("--import-codex", "codex_path", is_flag=False, flag_value="", default=None, metavar="[PATH]",
              help="Reuse a Codex CLI login (default $CODEX_HOME/auth.json, CODEX_HOME=~/.codex).")
@click.option("--api-key", "api_key", is_flag=True,
              help="Save an OpenAI API key (read from stdin, $OPENAI_API_KEY, or a hidden prompt).")
@click.option("--copy", is_flag=True,
              help="With --import-codex: take the tokens over instead of linking to the Codex file.")
@click.option("--profile", default="default", show_default=True, help="Profile to save the login as.")
@click.option("--no-browser", is_flag=True, help="Print the login URL but do not open a browser.")
@click.option("--no-open", "no_open", is_flag=True, hidden=True)  # the old spelling of --no-browser
@click.option("--paste/--no-paste", default=None,
              help="Also read a pasted redirect URL or code from stdin (default: when stdin is a terminal).")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Seconds to wait for the browser or device approval.")
def login(method: str | None, codex_path: str | None, api_key: bool, copy: bool, profile: str,
          no_browser: bool, no_open: bool, paste: bool | None, timeout: float | None) -> None:
    """Log in to ChatGPT (Codex) or save an API key as PROFILE, and make it the active one.

    The browser login listens on 127.0.0.1:1455 (else 1457) for the redirect and, at the same
    time, accepts the redirect address pasted at the prompt. Over SSH, forward the port
    (`ssh -L 1455:localhost:1455 host`) or paste.
    """
    chosen = [m for m in (method, "codex" if codex_path is not None else None, "api-key" if api_key else None) if m]
    if len(chosen) > 1:
        raise click.UsageError("choose one of --browser, --device, --import-codex, --api-key")
    if copy and codex_path is None:
        raise click.UsageError("--copy only goes with --import-codex")
    console = Console()
    with handle_errors():
        from kabot_codex.auth.login import run_login

        kind = chosen[0] if chosen else "browser"
        options: dict[str, Any] = {}
        if kind == "browser":
            options = {"open_browser": not (no_browser or no_open), "paste": paste}
        elif kind == "codex":
            options = {"path": codex_path or None, "copy": copy}
        elif kind == "api-key":
            options = {"api_key": _read_api_key(console)}
        if timeout is not None and kind in ("browser", "device"):
            options["timeout"] = timeout
        saved = run_login(kind, profile=profile, console=console, **options)
        who = saved.email or ("an API key" if saved.api_key else "the Codex CLI login")
        plan = f" ({saved.plan})" if saved.plan else ""
        console.print(f"[green]Logged in[/] as {who}{plan}: profile [bold]{profile}[/] is now active.")
        if saved.codex_auth_file:
            console.print(f"Linked to {saved.codex_auth_file}: refreshed tokens are written back there, "
                          "so the Codex CLI keeps working.")


def _read_api_key(console: Console) -> str:
    # Never from a command-line argument: it would land in shell history and `ps`.
    if not sys.stdin.isatty():
        return sys.stdin.read().strip()
    env = os.environ.get("OPENAI_API_KEY", "").strip()
    if env:
        console.print("Using the key in $OPENAI_API_KEY.")
        return env
    return str(click.prompt("OpenAI API key", hide_input=True)).strip()


@cli.command()
@click.option("--profile", default=None, help="Profile to remove (default: the active one).")
def logout(profile: str | None) -> None:
    """Remove a stored login (a linked Codex CLI login itself is left untouched)."""
    console = Console()
    with handle_errors():
        from kabot_codex.auth.login import logout as do_logout

        name = do_logout(profile)
        if name is None:
            console.print("Nothing to log out: no login is stored.")
            return
        console.print(f"Logged out: profile [bold]{name}[/] removed.")


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    past, seconds = seconds < 0, abs(seconds)
    if seconds < 90:
        text = f"{seconds:.0f}s"
    elif seconds < 5400:
        text = f"{seconds / 60:.0f}m"
    elif seconds < 172800:
        text = f"{seconds / 3600:.0f}h"
    else:
        text = f"{seconds / 86400:.0f}d"
    return f"{text} ago" if past else f"in {text}"


def _window_label(minutes: Any) -> str:
    if not isinstance(minutes, (int, float)) or minutes <= 0:
        return "window"
    return f"{minutes / 1440:.0f}d" if minutes >= 1440 else f"{minutes / 60:.0f}h"


def _limits_text(entry: dict[str, Any] | None, now: float) -> str:
    """Summarise the provider's x-codex-* snapshot: "5h 42% (resets in 2h), 7d 10% (…)"."""
    if not entry:
        return "-"
    seen = entry.get("seen_at")
    parts = []
    for name in ("primary", "secondary"):
        window = entry.get(name)
        if not isinstance(window, dict) or not isinstance(window.get("used_percent"), (int, float)):
            continue
        text = f"{_window_label(window.get('window_minutes'))} {window['used_percent']:.0f}%"
        reset_at = window.get("reset_at")
        if isinstance(reset_at, (int, float)):
            # A window that has reset since the snapshot: the percentage is history, say so.
            text += f" (resets {_age(reset_at - now)})" if reset_at > now else " (reset since)"
        parts.append(text)
    seen_text = f"; seen {_age(seen - now)}" if isinstance(seen, (int, float)) else ""
    return (", ".join(parts) or "recorded") + seen_text


def _headroom_text(entry: dict[str, Any], now: float) -> str:
    if entry["error"]:
        return f"[red]{entry['error']}[/]"
    if entry["limited_until"]:
        return f"[red]usage limit reached[/], skipped until it resets {_age(entry['limited_until'] - now)}"
    if entry["headroom_percent"] is None:
        return "no rate-limit snapshot yet (it appears after the first call)"
    reset = f", resets {_age(entry['resets_at'] - now)}" if entry["resets_at"] else ""
    return f"{entry['headroom_percent']:.0f}% left ({entry['window']} window{reset})"


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def status(as_json: bool) -> None:
    """Show the stored logins: account, plan, token expiry, source and last rate limits."""
    console = Console()
    with handle_errors():
        import time

        from kabot_codex.auth.login import status as do_status
        from kabot_codex.config import permission_warnings
        from kabot_codex.pool import pool_headroom

        now = time.time()
        rows = do_status(now=now)
        warnings = permission_warnings()
        try:
            pool = pool_headroom(now=now)
        except KabotError as err:  # a damaged pool setting must not hide the logins
            pool = []
            warnings.append(f"{err.message}; fix: {err.hint}" if err.hint else err.message)
        if as_json:
            click.echo(json.dumps({"profiles": rows, "env_api_key": bool(os.environ.get("OPENAI_CODEX_API_KEY")),
                                   "env_profile": os.environ.get("KABOT_PROFILE"), "warnings": warnings,
                                   "pool": pool}, indent=2))
            return
        for warning in warnings:
            console.print(f"[yellow]warning:[/] {warning}", highlight=False, soft_wrap=True)
        if not rows:
            console.print("No logins yet: run `kabot login` (or `kabot setup`).")
            return
        table = Table(title="openai-codex logins")
        for column in ("", "profile", "method", "account", "plan", "token", "source", "rate limits"):
            table.add_column(column, overflow="fold")  # never crop an e-mail, a path or an error
        for row in rows:
            if row["error"]:
                # The full reason goes below the table, in the error:/fix: form.
                token = f"[red]{row['token_state'] or 'unusable'}[/]"
            elif row["mode"] == "api_key":
                token = "api key"
            else:
                token = f"{row['token_state']}, expires {_age(row['expires_in'])}"
            source = row["source"] + (f" ({row['codex_auth_file']})" if row["codex_auth_file"] else "")
            table.add_row("*" if row["active"] else "", row["profile"], row["method"], row["email"] or "-",
                          row["plan"] or "-", token, source, _limits_text(row["rate_limits"], now))
        console.print(table)
        for row in rows:
            if row["error"]:
                console.print(f"[red]error ({row['profile']}):[/] {escape(row['error'])}", highlight=False)
                if row.get("hint"):
                    console.print(f"[cyan]fix ({row['profile']}):[/] {escape(row['hint'])}", highlight=False)
        if os.environ.get("OPENAI_CODEX_API_KEY"):
            console.print("[yellow]note:[/] OPENAI_CODEX_API_KEY is set and overrides the active profile.")
        if os.environ.get("KABOT_PROFILE"):
            console.print(f"[yellow]note:[/] KABOT_PROFILE={os.environ['KABOT_PROFILE']} selects the profile.")
        if pool:
            console.print("[bold]account pool[/] (each serves the primary; headroom in the tightest window):")
            for entry in pool:
                console.print(f"  {entry['profile']}: {_headroom_text(entry, now)}", highlight=False)
        stamp = dt.datetime.fromtimestamp(now).strftime("%H:%M:%S")
        console.print(f"[dim]* = active profile; checked at {stamp}[/]")
