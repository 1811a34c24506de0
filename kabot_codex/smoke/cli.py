"""``python -m kabot_codex.smoke``: decide live or offline, pick the model, run and report.

Live when credentials are configured (a saved profile or ``OPENAI_CODEX_API_KEY``) and
``--offline`` is not given; otherwise the emulator runs in a subprocess with a throw-away
``KABOT_HOME``, so an offline run never touches the user's config or any real endpoint.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import tempfile
import time
from collections.abc import Iterator
from typing import Any

from rich.console import Console

from kabot_codex.config import CODEX_PROVIDER as CODEX
from kabot_codex.config import CREDENTIAL_ENV
from kabot_codex.errors import KabotError

__all__ = ["OFFLINE_NOTICE", "main"]

FALLBACK_MODEL = f"{CODEX}/gpt-5.5"
OFFLINE_NOTICE = ("Ran OFFLINE against the built-in Codex emulator — no real account was used. "
                  "To use your subscription: `kabot login` (or `kabot setup`)")
#: Offline runs must not pick up (or send) the user's real credentials or endpoints.
OFFLINE_SCRUB = CREDENTIAL_ENV


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m kabot_codex.smoke",
        description="Check that the openai-codex provider works: one completion, one stream and one tool "
                    "call through LiteLLM. Uses your login if you have one, else the offline emulator.")
    parser.add_argument("--offline", action="store_true",
                        help="always use the built-in emulator, even when you are logged in")
    parser.add_argument("--model", help="model to check (default: your saved primary, else the catalog's best)")
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of tables")
    parser.add_argument("--timeout", type=float, default=None,
                        help="seconds per call (default 120 live, 30 offline)")
    return parser.parse_args(argv)


def _forget_process_state() -> None:
    """Drop in-memory caches that belong to the previous ``KABOT_HOME``."""
    from kabot_codex import catalog
    from kabot_codex.auth.session import reset_sessions
    from kabot_codex.catalog.status import forget_statuses

    reset_sessions()
    forget_statuses()
    catalog.reload()


def credentials_summary() -> tuple[bool, str]:
    """Return (logged in?, a secret-free description of the credentials a call would use)."""
    if os.environ.get("OPENAI_CODEX_API_KEY", "").strip():
        return True, "credentials: OPENAI_CODEX_API_KEY"
    from kabot_codex.auth.login import status

    rows = status()
    if not rows:
        return False, "not logged in"
    wanted = os.environ.get("KABOT_PROFILE")
    row = next((r for r in rows if r["profile"] == wanted), None) or next((r for r in rows if r["active"]), rows[0])
    bits = [str(row.get("method") or "?")]
    if row.get("plan"):
        bits.append(str(row["plan"]))
    if row.get("token_state"):
        bits.append(str(row["token_state"]))
    return True, f"profile {row['profile']!r} ({', '.join(bits)})"


def choose_model(explicit: str | None, *, api_key_mode: bool = False) -> tuple[str, str]:
    """Return (model, where it came from): --model, saved primary, catalog best, or the fallback."""
    from kabot_codex import catalog
    from kabot_codex.catalog import canonical_model, get_model_status
    from kabot_codex.config import load_config

    if explicit:
        return canonical_model(explicit), "--model"
    try:
        order = load_config().agents.defaults.model_order()
    except KabotError:
        order = None
    if order is not None and order.primary and canonical_model(order.primary).startswith(CODEX + "/"):
        return canonical_model(order.primary), "saved primary"
    mode = "api_key" if api_key_mode else None
    for spec in catalog.all_specs():
        if spec.provider == CODEX and get_model_status(spec.model, auth_mode=mode) != "unsupported":
            return spec.model, "catalog's best"
    return FALLBACK_MODEL, "default"


@contextlib.contextmanager
def offline_environment() -> Iterator[Any]:
    """Start the emulator and log a throw-away profile in to it; restore everything afterwards."""
    from kabot_codex.auth.login import save_token_login
    from kabot_codex.emulator import run_emulator_process

    names = (*OFFLINE_SCRUB, "KABOT_HOME")
    saved = {name: os.environ.get(name) for name in names}
    try:
        with tempfile.TemporaryDirectory(prefix="kabot-smoke-") as home, run_emulator_process() as emu:
            for name in OFFLINE_SCRUB:
                os.environ.pop(name, None)
            os.environ.update(KABOT_HOME=home, OPENAI_CODEX_API_BASE=emu.codex_base,
                              OPENAI_CODEX_AUTH_BASE=emu.auth_base, OPENAI_CODEX_OPENAI_BASE=emu.openai_base)
            save_token_login(emu.mint_tokens(ttl=3600))
            _forget_process_state()
            yield emu
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        _forget_process_state()


def _latest_limits(results: list[Any], started: float) -> tuple[dict[str, Any] | None, float | None]:
    """The newest rate-limit snapshot and, when it is older than this run, when it was seen."""
    for result in reversed(results):
        if result.rate_limits:
            return dict(result.rate_limits), None
    # A failed call still records the snapshot its response headers carried; an older one is
    # shown too, but marked with its age, never as if this run had seen it.
    from kabot_codex.state import last_rate_limits

    snapshots = [s for s in last_rate_limits().values() if isinstance(s, dict)]
    if not snapshots:
        return None, None
    newest = max(snapshots, key=lambda s: s.get("seen_at") or 0)
    seen_at = newest.get("seen_at")
    limits = {k: v for k, v in newest.items() if k not in ("account", "profile", "seen_at")}
    if isinstance(seen_at, (int, float)) and seen_at >= started:
        return limits, None
    return limits, float(seen_at) if isinstance(seen_at, (int, float)) else 0.0


def _run(args: argparse.Namespace, console: Console | None, offline: bool, account: str,
         chosen: tuple[str, str]) -> int:
    from kabot_codex.smoke.checks import run_checks
    from kabot_codex.smoke.render import print_header, print_report

    model, source = chosen
    if not model.startswith(CODEX + "/"):
        _fail(console, args, f"the smoke checks the {CODEX} provider; {model!r} belongs to another one",
              f"pass --model {CODEX}/<slug> (see `kabot models`)")
        return 2
    timeout = args.timeout or (30.0 if offline else 120.0)
    if console is not None:
        print_header(console, offline=offline, model=model, model_source=source, account=account)
    started = time.time()
    results = run_checks(model, timeout)
    limits, seen_at = _latest_limits(results, started)
    age_s = None if seen_at is None else max(0.0, time.time() - seen_at)
    notice = OFFLINE_NOTICE if offline else ""
    ok = all(r.ok for r in results)
    if console is not None:
        print_report(console, results, limits, offline=offline, notice=notice, limits_age_s=age_s)
    else:
        print(json.dumps({"ok": ok, "mode": "offline" if offline else "live", "model": model,
                          "model_source": source, "credentials": account, "checks": [r.public() for r in results],
                          "rate_limits": limits, "rate_limits_age_s": None if age_s is None else round(age_s),
                          "notice": notice or None}, indent=2))
    return 0 if ok else 1


def _fail(console: Console | None, args: argparse.Namespace, message: str, hint: str | None) -> None:
    from kabot_codex.auth.redact import redact

    message = redact(message)
    if console is None:
        print(json.dumps({"ok": False, "error": message, "hint": hint}, indent=2))
        return
    console.print(f"[bold red]✗[/] {message}", soft_wrap=True, highlight=False)
    if hint:
        console.print(f"  fix: {hint}", soft_wrap=True, highlight=False, markup=False)


def main(argv: list[str] | None = None) -> int:
    """Run the smoke check; return the process exit code (0 only if every check passed)."""
    args = parse_args(argv)
    console = None if args.json else Console(highlight=False)
    import litellm

    # Its "Give Feedback / Get Help" banner would bury our own explanation of a failure.
    litellm.suppress_debug_info = True
    try:
        logged_in, account = (False, "") if args.offline else credentials_summary()
        # Chosen from the user's own config, before an offline run swaps KABOT_HOME for a
        # throw-away one: `--offline` checks the saved primary too, as --help says.
        chosen = choose_model(args.model, api_key_mode=account.endswith("OPENAI_CODEX_API_KEY"))
        if args.offline or not logged_in:
            reason = "--offline" if args.offline else "no login found"
            with offline_environment():
                return _run(args, console, True, f"throw-away emulator login ({reason})", chosen)
        return _run(args, console, False, account, chosen)
    except KabotError as err:
        _fail(console, args, err.message, err.hint)
    except Exception as exc:  # noqa: BLE001 - the smoke must end with a readable message, not a trace
        from kabot_codex.smoke.checks import explain

        message, hint, _ = explain(exc)
        _fail(console, args, message, hint)
    return 1
