"""``kabot models``: which models exist and whether this account can use them."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console
from rich.table import Table

from kabot_codex.cli import cli
from kabot_codex.cli.errors import handle_errors

if TYPE_CHECKING:
    from kabot_codex.catalog import AccountView, ModelSpec
    from kabot_codex.catalog.live import RefreshResult
    from kabot_codex.catalog.probe import ProbeResult

__all__ = ["STATUS_MARKS", "models"]

#: Status → (mark, style) in the table and the wizard.
STATUS_MARKS: dict[str, tuple[str, str]] = {
    "working": ("✓", "green"),
    "catalog": ("•", "yellow"),
    "unsupported": ("✗", "red"),
    "unknown": ("?", "dim"),
}


def _efforts(spec: ModelSpec) -> str:
    if not spec.efforts:
        return "-"
    return " ".join(f"[b]{e}[/]" if e == spec.default_effort else e for e in spec.efforts)


def _note(spec: ModelSpec, status: str, auth_mode: str | None) -> str:
    if spec.retired and status == "unsupported" and auth_mode != "api_key":
        return spec.retired_note or "retired"
    if auth_mode == "api_key" and spec.provider == "openai-codex" and not spec.supported_in_api:
        return "needs a ChatGPT login"
    if "image" not in spec.input_modalities:
        return "text only"
    return ""


@cli.command("models")
@click.option("--refresh", is_flag=True, help="Fetch the live model list now (ignores the 1 h cache).")
@click.option("--probe", is_flag=True, help="Send one tiny request per model and record the result.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option("--all", "show_all", is_flag=True, help="Include retired models.")
@click.option("--profile", default=None, help="Credential profile to look at (default: the active one).")
def models(refresh: bool, probe: bool, as_json: bool, show_all: bool, profile: str | None) -> None:
    """List models with their status for this account.

    \b
    ✓ working      a real call succeeded for this account
    • catalog      listed, not verified yet (run --probe)
    ✗ unsupported  rejected for this account, retired, or not usable with this login
    ? unknown      not in the catalog
    """
    from kabot_codex.catalog import all_specs, get_model_status
    from kabot_codex.catalog.account import current_account
    from kabot_codex.catalog.live import refresh_catalog

    err = Console(stderr=True)
    with handle_errors(err):
        account = current_account(profile=profile)
        result = None
        if account.auth_mode == "chatgpt":
            # Within the TTL this reads the cache; --refresh forces a (usually 304) request.
            result = refresh_catalog(profile=profile, force=refresh)
            if not result.ok and result.outcome != "skipped":
                err.print(f"[yellow]warning:[/] could not refresh the model list ({result.error}); "
                          "showing the last known list", highlight=False)
        elif refresh:
            err.print("[yellow]note:[/] the live list needs a ChatGPT login; showing the bundled list "
                      "(run `kabot login`)", highlight=False)

        specs = all_specs()
        listed = None
        if result is not None and result.ok:
            listed = set(result.models)
        shown = [s for s in specs if show_all or _visible(s, listed)]

        probes: dict[str, ProbeResult] = {}
        if probe:
            from kabot_codex.catalog.probe import probe_model

            for spec in shown:
                status = get_model_status(spec.model, account.account_key, auth_mode=account.auth_mode)
                if status == "unsupported" and not show_all:
                    continue  # known bad: don't spend quota on it
                err.print(f"probing {spec.model} …", highlight=False)
                probes[spec.model] = probe_model(spec.model, account_key=account.account_key, profile=profile)

        rows = []
        for spec in shown:
            status = get_model_status(spec.model, account.account_key, auth_mode=account.auth_mode)
            rows.append((spec, status))
        if as_json:
            payload = [_json_row(spec, status, probes.get(spec.model)) for spec, status in rows]
            sys.stdout.write(json.dumps(payload, indent=2) + "\n")
            return
        _print_table(rows, probes, account.auth_mode, _source_line(account, result))


def _visible(spec: ModelSpec, listed: set[str] | None) -> bool:
    if spec.provider != "openai-codex":
        return True
    if listed is not None:
        return spec.model in listed
    return not spec.retired


def _json_row(spec: ModelSpec, status: str, probe: ProbeResult | None) -> dict[str, Any]:
    row = {
        "model": spec.model,
        "display_name": spec.display_name,
        "status": status,
        "context_window": spec.context_window,
        "max_output_tokens": spec.max_output_tokens,
        "efforts": list(spec.efforts),
        "default_effort": spec.default_effort,
        "input_modalities": list(spec.input_modalities),
        "retired": spec.retired,
        "source": spec.source,
    }
    if probe is not None:
        row["probe"] = {"outcome": probe.outcome, "detail": probe.detail, "seconds": round(probe.seconds, 3)}
    return row


def _source_line(account: AccountView, result: RefreshResult | None) -> str:
    from kabot_codex.catalog.store import catalog

    if account.auth_mode is None:
        return f"not logged in — bundled list ({catalog().snapshot}); run `kabot login` for your account's list"
    if account.auth_mode == "api_key":
        return f"API-key login — bundled list ({catalog().snapshot})"
    if result is not None and result.ok:
        return f"ChatGPT login (profile {account.profile or 'default'}) — live list ({result.outcome})"
    return f"ChatGPT login — last known list ({catalog().snapshot} snapshot underneath)"


def _print_table(rows: list[tuple[ModelSpec, str]], probes: dict[str, ProbeResult], auth_mode: str | None,
                 source: str) -> None:
    table = Table(title=f"Models · {source}", title_justify="left")
    table.add_column("", no_wrap=True)
    table.add_column("model", no_wrap=True)
    table.add_column("context", justify="right", no_wrap=True)
    table.add_column("efforts (default bold)")
    table.add_column("note")
    for spec, status in rows:
        mark, style = STATUS_MARKS[status]
        note = _note(spec, status, auth_mode)
        probe = probes.get(spec.model)
        if probe is not None and probe.outcome != "working":
            note = f"probe: {probe.outcome} — {probe.detail}"
        table.add_row(f"[{style}]{mark}[/]", spec.model, f"{spec.context_window:,}",
                      _efforts(spec), note)
    console = Console()
    console.print(table)
    legend = "  ".join(f"[{style}]{mark}[/] {name}" for name, (mark, style) in STATUS_MARKS.items())
    console.print(legend)
