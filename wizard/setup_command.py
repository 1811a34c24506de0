"""``kabot setup``: the click command in front of ``wizard.flow.run_setup``."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click
from rich.console import Console

from kabot_codex.cli import cli
from kabot_codex.cli.errors import handle_errors
from kabot_codex.errors import InteractiveSessionRequired, UsageProblem

from .questions import LOGIN_METHODS

__all__ = ["setup"]


def _read_secret(value: str | None, flag: str) -> str | None:
    """Return the key ``flag`` was given: "-" (or the bare flag) reads stdin, else a hidden prompt."""
    if value == "-":
        if sys.stdin.isatty():
            return str(click.prompt(f"{flag} (hidden)", hide_input=True, err=True)).strip() or None
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
@click.option("--api-key", is_flag=False, flag_value="-", default=None, metavar="[KEY]",
              help="With --login api-key: read the key from stdin (a hidden prompt on a terminal; default: "
                   "$OPENAI_API_KEY or a prompt). A literal KEY is unsafe: visible in `ps` and shell history.")
@click.option("--primary", default=None, help="Primary model, e.g. openai-codex/gpt-5.5 (see `kabot models`).")
@click.option("--fallback", "fallbacks", multiple=True, help="Fallback model, in order; repeat for more.")
@click.option("--no-fallbacks", is_flag=True, help="Save the primary alone.")
@click.option("--pool", "pool", multiple=True, metavar="PROFILE",
              help="Account pool: a logged-in profile that serves the primary; repeat for each account.")
@click.option("--allow-unsupported", is_flag=True, default=None,
              help="Accept a primary marked unsupported for this account.")
@click.option("--openai-api-key", is_flag=False, flag_value="-", default=None, metavar="[KEY]",
              help="Key for openai/* fallbacks, read from stdin (or a hidden prompt); KEY itself is unsafe.")
@click.option("--force", is_flag=True,
              help="Save models neither the catalog nor LiteLLM knows (a private deployment, a brand-new model).")
@click.option("--probe/--no-probe", default=None, help="Send one tiny request per chosen model.")
@click.option("--profile", default="default", show_default=True, help="Credential profile to log in to.")
@click.option("--no-browser", is_flag=True, help="Browser login: print the URL but do not open a browser.")
@click.option("--no-open", "no_open", is_flag=True, hidden=True)  # `kabot login`'s old spelling
@click.option("--paste/--no-paste", default=None,
              help="Browser login: also read a pasted redirect URL or code (default: on a terminal).")
@click.option("--import-codex", "codex_path", is_flag=False, flag_value="", default=None, metavar="[PATH]",
              help="Reuse a Codex CLI login (same as --login codex; default $CODEX_HOME/auth.json).")
@click.option("--codex-auth-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              hidden=True)  # the old spelling of --import-codex PATH
@click.option("--copy", "copy_codex", is_flag=True,
              help="With --import-codex: take the tokens over instead of linking to the Codex file.")
def setup(non_interactive: bool, login_method: str | None, api_key: str | None, primary: str | None,
          fallbacks: tuple[str, ...], no_fallbacks: bool, pool: tuple[str, ...], allow_unsupported: bool | None,
          openai_api_key: str | None, force: bool, probe: bool | None, profile: str, no_browser: bool,
          no_open: bool, paste: bool | None, codex_path: str | None, codex_auth_file: Path | None,
          copy_codex: bool) -> None:
    """Log in, pick the primary model and its fallbacks, and save the order.

    \b
    Non-interactive:
      kabot setup --non-interactive --login keep --primary openai-codex/gpt-5.5 \\
                  --fallback openai/gpt-5.2-codex --fallback openai/gpt-4o-mini
    """
    from .flow import SetupOptions, run_setup
    from .prompter import NonInteractivePrompter, Prompter, QuestionaryPrompter

    path = codex_path or (str(codex_auth_file) if codex_auth_file is not None else None)
    if codex_path is not None or codex_auth_file is not None:
        if login_method not in (None, "codex"):
            raise click.UsageError(f"--import-codex reuses the Codex CLI login; it does not go with "
                                   f"--login {login_method}")
        login_method = "codex"
    elif copy_codex and login_method != "codex":
        raise click.UsageError("--copy only goes with --import-codex")
    with handle_errors():
        if not non_interactive and not (sys.stdin.isatty() and sys.stdout.isatty()):
            raise InteractiveSessionRequired("kabot setup needs a terminal to ask its questions")
        if login_method == "keep" and not _has_login(profile):
            raise UsageProblem(f"--login keep: there is no login to keep (profile {profile!r} is not logged in)",
                               hint="choose --login browser, device, codex or api-key, or run `kabot login` first")
        # Per method: the flow passes only the chosen method's options to the login.
        codex_options: dict[str, object] = {"copy": copy_codex}
        if path:
            codex_options["path"] = path
        # paste None: accept a pasted redirect when stdin is a terminal (the callback server
        # listens either way).
        browser = {"open_browser": not (no_browser or no_open), "paste": paste}
        login_options = {"browser": browser, "codex": codex_options}
        options = SetupOptions(
            non_interactive=non_interactive, profile=profile, login=login_method,
            api_key=_read_secret(api_key, "--api-key") or _env_key(login_method), primary=primary,
            fallbacks=[] if no_fallbacks else (list(fallbacks) or None),
            allow_unsupported=allow_unsupported or None,
            openai_api_key=_read_secret(openai_api_key, "--openai-api-key"),
            probe=probe, force=force, login_options=login_options, pool=list(pool) or None,
        )
        prompter: Prompter = NonInteractivePrompter() if non_interactive else QuestionaryPrompter()
        run_setup(options, prompter=prompter, console=Console())


def _has_login(profile: str) -> bool:
    from kabot_codex.config import load_config

    return profile in load_config().codex.profiles
