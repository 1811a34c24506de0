"""Console entry point: ``kabot`` = the core commands plus ``kabot setup``."""

from __future__ import annotations

# `kabot_codex/__init__.py` recognises the `kabot` command and skips the eager LiteLLM
# registration, which keeps `kabot --help` fast; commands that call LiteLLM register themselves.
from kabot_codex.cli import cli

__all__ = ["main"]


def main() -> None:
    """Run the ``kabot`` command line."""
    try:
        from . import setup_command  # noqa: F401  (registers `kabot setup` on `cli`)
    except ModuleNotFoundError as exc:
        if exc.name != f"{__package__}.setup_command":
            raise
    cli(prog_name="kabot")


if __name__ == "__main__":
    main()
