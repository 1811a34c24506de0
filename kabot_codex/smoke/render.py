"""Showing smoke results: a rich table of checks, a rate-limit panel, or one JSON document."""

from __future__ import annotations

import os
import time
from typing import Any

from rich import box
from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from kabot_codex.smoke.checks import CheckResult

__all__ = ["headroom_lines", "print_header", "print_report", "window_label"]

_STYLE = {"pass": "bold green", "fail": "bold red", "skipped": "yellow"}


def window_label(minutes: Any) -> str:
    """Name a rate-limit window the way ChatGPT does (5 h, weekly)."""
    if not isinstance(minutes, (int, float)) or minutes <= 0:
        return "window"
    if minutes == 10080:
        return "weekly"
    if minutes % 60 == 0:
        return f"{int(minutes // 60)} h"
    return f"{int(minutes)} min"


def _in(seconds: float) -> str:
    seconds = max(0, int(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m"


def headroom_lines(limits: dict[str, Any] | None, now: float | None = None) -> list[str]:
    """Return one line per rate-limit window (used %, reset time) plus the plan."""
    if not limits:
        return ["No rate-limit headers came back (API-key mode has none; a ChatGPT login always sends them)."]
    now = time.time() if now is None else now
    lines = []
    for key in ("primary", "secondary"):
        window = limits.get(key)
        if not isinstance(window, dict):
            continue
        used = window.get("used_percent")
        reset_at = window.get("reset_at")
        if not isinstance(reset_at, (int, float)) and isinstance(window.get("reset_after_seconds"), (int, float)):
            reset_at = now + window["reset_after_seconds"]
        when = "reset time unknown"
        if isinstance(reset_at, (int, float)):
            stamp = time.strftime("%a %d %b %H:%M", time.localtime(reset_at))
            when = f"resets {stamp} (in {_in(reset_at - now)})"
        used_text = f"{used:g}% used" if isinstance(used, (int, float)) else "usage unknown"
        lines.append(f"{window_label(window.get('window_minutes'))} window ({key}): {used_text}, {when}")
    plan = limits.get("plan_type")
    if plan:
        lines.append(f"plan: {plan}")
    return lines or ["The backend sent no usable rate-limit windows."]


def print_header(console: Console, *, offline: bool, model: str, model_source: str, account: str) -> None:
    """Say what is about to be checked, and against what."""
    base = os.environ.get("OPENAI_CODEX_API_BASE")
    if offline:
        where = "the built-in Codex emulator (offline)"
    elif base:
        where = f"{base} (from OPENAI_CODEX_API_BASE)"
    else:
        where = "your account"
    console.print(f"kabot-codex smoke: [bold]{model}[/] ({model_source}) against {where}; {account}",
                  soft_wrap=True, highlight=False)


def _seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f} s"


def _tokens(tokens: dict[str, int] | None) -> str:
    if not tokens:
        return "—"
    return f"{tokens.get('prompt_tokens', '?')}/{tokens.get('completion_tokens', '?')}"


def print_report(console: Console, results: list[CheckResult], limits: dict[str, Any] | None, *,
                 offline: bool, notice: str, limits_age_s: float | None = None) -> None:
    """Print the checks table, the headroom panel, the errors with their fixes, and the verdict.

    ``limits_age_s`` set means the snapshot is not from this run: the panel says how old it is.
    """
    # Light box and no padding so the reply column keeps some room in an 80-column terminal.
    table = Table(title="Checks", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("check", no_wrap=True)
    table.add_column("result", no_wrap=True)
    table.add_column("latency", justify="right", no_wrap=True)
    table.add_column("TTFT", justify="right", no_wrap=True)
    table.add_column("tokens in/out", justify="right", no_wrap=True)
    table.add_column("reply", ratio=1, overflow="fold")
    for r in results:
        table.add_row(r.name, Text(r.status.upper(), style=_STYLE.get(r.status, "")), _seconds(r.latency_s),
                      _seconds(r.ttft_s), _tokens(r.tokens),
                      Text(r.detail or ("see the error below" if r.error else "")))
    console.print(table)
    title = "Rate-limit headroom" + (" (emulated)" if offline else "")
    answered = any(r.ok or r.tokens for r in results)
    lines = (headroom_lines(limits) if limits or answered
             else ["No call got an answer, so there is no rate-limit data."])
    if limits and limits_age_s is not None:
        title += f" — stale, seen {_in(limits_age_s)} ago"
        lines.insert(0, f"Not from this run: the last snapshot, seen {_in(limits_age_s)} ago; "
                        "usage may have changed since.")
    console.print(Panel("\n".join(lines), title=title, title_align="left", expand=False))
    for r in results:
        if r.error:
            console.print(Text(f"✗ {r.name}: {r.error}", style="red"), soft_wrap=True)
            if r.hint:
                console.print(f"  fix: {r.hint}", soft_wrap=True, highlight=False, markup=False)
    if notice:
        console.print(Text(notice, style="bold yellow" if offline else ""), soft_wrap=True)
    failed = [r.name for r in results if r.status == "fail"]
    skipped = [r.name for r in results if r.status == "skipped"]
    if failed:
        also = f" ({', '.join(skipped)} skipped)" if skipped else ""
        console.print(Text(f"FAILED: {', '.join(failed)}{also}", style="bold red"), soft_wrap=True)
    else:
        console.print(Text(f"All {len(results)} checks passed.", style="bold green"), soft_wrap=True)
