"""``kabot setup``: the click command in front of ``wizard.flow.run_setup``."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click
from rich.console import Console

from kabot_codex.cli import cli
from kabot_codex.cli.errors import handle_errors
from kabot_codex.errors import InteractiveSessionRequired

from .questions import LOGIN_METHODS

__all__ = ["setup"]


def _read_secret(value: str | None, flag: str) -> str | None:
    # "-" reads the key from stdin so it stays out of shell history and `ps`.
    if value == "-":
        return sys.stdin.readline().strip() or None
    if value:
        # Kept for scripts that already pass it, but never silently (docs/setup.md calls it unsafe).
        Console(stderr=True).print(
            f"[bold yellow]warning:[/] {flag} KEY puts the key in your shell history and in `ps` output for "
            f"every user of this machine; use `{flag} -` and pipe the key in, or set OPENAI_API_KEY",
            highlight=False)
    return value


def _env_key(login_method: str | None) -> str | None:
    # `--login api-key` without --api-key: the environment, like `kabot login --api-key`.
    key = os.environ.get("OPENAI_API_KEY", "").strip() if login_method == "api-key" else ""
    if key:
        Console(stderr=True).print("Using the key in $OPENAI_API_KEY.")
    return key or None


@cli.command("setup")
@click.option("--non-interactive", is_flag=True, help="Ask nothing; use flags, the current config and defaults.")
@click.option("--login", "login_method", type=click.Choice(list(LOGIN_METHODS)), default=None,
              help="How to log in (keep = the current login).")
@click.option("--api-key", default=None,
              help="OpenAI API key for --login api-key: '-' reads it from stdin (a literal KEY is unsafe: "
                   "visible in `ps` and shell history; default: $OPENAI_API_KEY or a hidden prompt).")
@click.option("--primary", default=None, help="Primary model, e.g. openai-codex/gpt-5.5 (see `kabot models`).")
@click.option("--fallback", "fallbacks", multiple=True, help="Fallback model, in order; repeat for more.")
@click.option("--no-fallbacks", is_flag=True, help="Save the primary alone.")
@click.option("--allow-unsupported", is_flag=True, default=None,
              help="Accept a primary marked unsupported for this account.")
@click.option("--openai-api-key", default=None,
              help="Key for openai/* fallbacks: '-' reads it from stdin (a literal KEY is unsafe, as for --api-key).")
@click.option("--probe/--no-probe", default=None, help="Send one tiny request per chosen model.")
@click.option("--profile", default="default", show_default=True, help="Credential profile to log in to.")
@click.option("--no-browser", is_flag=True, help="Browser login: print the URL instead of opening it.")
@click.option("--paste", is_flag=True, help="Browser login: paste the redirect URL instead of a callback.")
@click.option("--codex-auth-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Codex login: the auth.json to reuse (default ~/.codex/auth.json).")
@click.option("--copy", "copy_codex", is_flag=True, help="Codex login: copy the tokens instead of linking.")
def setup(non_interactive: bool, login_method: str | None, api_key: str | None, primary: str | None,
          fallbacks: tuple[str, ...], no_fallbacks: bool, allow_unsupported: bool | None,
          openai_api_key: str | None, probe: bool | None, profile: str, no_browser: bool, paste: bool,
          codex_auth_file: Path | None, copy_codex: bool) -> None:
    """Log in, pick the primary model and its fallbacks, and save the order.

    \b
    Non-interactive:
      kabot setup --non-interactive --login keep --primary openai-codex/gpt-5.5 \\
                  --fallback openai/gpt-5.2-codex --fallback openai/gpt-4o-mini
    """
    from .flow import SetupOptions, run_setup
    from .prompter import NonInteractivePrompter, Prompter, QuestionaryPrompter

    with handle_errors():
        if not non_interactive and not (sys.stdin.isatty() and sys.stdout.isatty()):
            raise InteractiveSessionRequired("kabot setup needs a terminal to ask its questions")
        # Per method: the flow passes only the chosen method's options to the login.
        codex_options: dict[str, object] = {"copy": copy_codex}
        if codex_auth_file is not None:
            codex_options["path"] = codex_auth_file
        # paste None lets the login pick paste mode itself on SSH/headless machines.
        browser = {"open_browser": not no_browser, "paste": True if paste else None}
        login_options = {"browser": browser, "codex": codex_options}
        options = SetupOptions(
            non_interactive=non_interactive, profile=profile, login=login_method,
            api_key=_read_secret(api_key, "--api-key") or _env_key(login_method), primary=primary,
            fallbacks=[] if no_fallbacks else (list(fallbacks) or None),
            allow_unsupported=allow_unsupported or None,
            openai_api_key=_read_secret(openai_api_key, "--openai-api-key"),
            probe=probe, login_options=login_options,
        )
        prompter: Prompter = NonInteractivePrompter() if non_interactive else QuestionaryPrompter()
        run_setup(options, prompter=prompter, console=Console())
