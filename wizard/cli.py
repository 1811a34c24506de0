"""Console entry point: ``kabot`` = the core commands plus ``kabot setup``."""

from __future__ import annotations

import os

# Keep `kabot --help` fast: kabot_codex registers with LiteLLM lazily under the CLI.
os.environ["_KABOT_CODEX_DEFER_REGISTER"] = "1"

from kabot_codex.cli import cli  # noqa: E402

__all__ = ["main"]


def main() -> None:
    """Run the ``kabot`` command line."""
    try:
        import wizard.setup_command  # noqa: F401  (registers `kabot setup` on `cli`)
    except ModuleNotFoundError as exc:
        if exc.name != "wizard.setup_command":
            raise
    cli(prog_name="kabot")


if __name__ == "__main__":
    main()
