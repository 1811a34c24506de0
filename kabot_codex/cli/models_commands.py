"""``kabot models``: which models exist and whether this account can use them."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console
from rich.table import Table

from kabot_codex.cli import cli
from kabot_codex.cli.errors import EXIT_ERROR, handle_errors
from kabot_codex.errors import UsageProblem

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


def _note(spec: ModelSpec, reason: str) -> str:
    if reason and not reason.startswith("a real call"):
        return reason
    if "image" not in spec.input_modalities:
        return "text only"
    return ""


@cli.command("models")
@click.option("--refresh", is_flag=True, help="Fetch the live model list now (ignores the 1 h cache).")
@click.option("--probe", is_flag=True, help="Send one tiny request per model and record the result.")
@click.option("--yes", "-y", is_flag=True, help="With --probe: do not ask before paid openai/* calls.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option("--all", "show_all", is_flag=True, help="Include retired models.")
@click.option("--profile", default=None, help="Credential profile to look at (default: the active one).")
def models(refresh: bool, probe: bool, yes: bool, as_json: bool, show_all: bool, profile: str | None) -> None:
    """List models with their status for this account.

    \b
    ✓ working      a real call succeeded for this account
    • catalog      listed, not verified yet (run --probe)
    ✗ unsupported  rejected for this account, retired, or not usable with this login
    ? unknown      not in the catalog
    """
    from kabot_codex.catalog import all_specs, model_status
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

        def status_of(spec: ModelSpec) -> tuple[str, str]:
            return model_status(spec.model, account.account_key, auth_mode=account.auth_mode)

        probes: dict[str, ProbeResult] = {}
        if probe:
            from kabot_codex.catalog.probe import probe_model

            # Known bad models are skipped unless --all: don't spend quota on them.
            targets = [s for s in shown if show_all or status_of(s)[0] != "unsupported"]
            # openai/* models bill the OpenAI key; so do openai-codex/* ones under an API-key login.
            paid = [s.model for s in targets if s.provider != "openai-codex" or account.auth_mode == "api_key"]
            _confirm_paid_probes(paid, yes, err)
            for spec in targets:
                err.print(f"probing {spec.model} …", highlight=False)
                probes[spec.model] = probe_model(spec.model, account_key=account.account_key, profile=profile)

        rows = [(spec, *status_of(spec)) for spec in shown]
        if as_json:
            payload = [_json_row(spec, status, reason, probes.get(spec.model)) for spec, status, reason in rows]
            sys.stdout.write(json.dumps(payload, indent=2) + "\n")
            return
        _print_table(rows, probes, _source_line(account, result))


def _confirm_paid_probes(paid: list[str], yes: bool, err: Console) -> None:
    """Ask before probes that the OpenAI API bills (a ChatGPT plan's own models cost nothing extra)."""
    if not paid or yes:
        return
    what = f"{len(paid)} model{'s' if len(paid) != 1 else ''} billed by the OpenAI API ({', '.join(paid)})"
    if not (sys.stdin.isatty() and sys.stderr.isatty()):
        raise UsageProblem(f"--probe would send paid requests to {what} and there is no terminal to ask",
                           hint="rerun with `kabot models --probe --yes` to allow them")
    err.print(f"--probe sends one tiny request to each model, including {what}.",
              highlight=False, soft_wrap=True)
    if not click.confirm("Send them?", default=False, err=True):
        raise UsageProblem("Probing cancelled; nothing was sent",
                           hint="run `kabot models --probe --yes` to probe without asking", exit_code=EXIT_ERROR)


def _visible(spec: ModelSpec, listed: set[str] | None) -> bool:
    if spec.provider != "openai-codex":
        return True
    if listed is not None:
        return spec.model in listed
    return not spec.retired


def _json_row(spec: ModelSpec, status: str, reason: str, probe: ProbeResult | None) -> dict[str, Any]:
    row = {
        "model": spec.model,
        "display_name": spec.display_name,
        "status": status,
        "reason": reason,
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


_FRESHNESS = {
    "fetched": ", just fetched",
    "not_modified": ", checked just now",
    "cached": ", checked within the hour",
}


def _source_line(account: AccountView, result: RefreshResult | None) -> str:
    from kabot_codex.catalog.store import catalog

    if account.auth_mode is None:
        return f"not logged in — bundled list ({catalog().snapshot}); run `kabot login` for your account's list"
    if account.auth_mode == "api_key":
        return f"API-key login — bundled list ({catalog().snapshot})"
    if result is not None and result.ok:
        freshness = _FRESHNESS.get(result.outcome, "")
        return f"ChatGPT login (profile {account.profile or 'default'}) — your account's list{freshness}"
    return f"ChatGPT login — last known list ({catalog().snapshot} snapshot underneath)"


def _print_table(rows: list[tuple[ModelSpec, str, str]], probes: dict[str, ProbeResult], source: str) -> None:
    table = Table(title=f"Models · {source}", title_justify="left")
    table.add_column("", no_wrap=True)
    table.add_column("model", no_wrap=True)
    table.add_column("context", justify="right", no_wrap=True)
    table.add_column("efforts (default bold)")
    table.add_column("note")
    for spec, status, reason in rows:
        mark, style = STATUS_MARKS[status]
        note = _note(spec, reason)
        probe = probes.get(spec.model)
        if probe is not None and probe.outcome != "working":
            note = f"probe: {probe.outcome} — {probe.detail}"
        table.add_row(f"[{style}]{mark}[/]", spec.model, f"{spec.context_window:,}",
                      _efforts(spec), note)
    console = Console()
    console.print(table)
    legend = "  ".join(f"[{style}]{mark}[/] {name}" for name, (mark, style) in STATUS_MARKS.items())
    console.print(legend)
