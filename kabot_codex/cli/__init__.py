"""The ``kabot`` command line (the ``setup`` wizard is added by ``wizard.cli``)."""

from __future__ import annotations

import click

from kabot_codex import __version__
from kabot_codex.cli.errors import KabotGroup

__all__ = ["cli"]


@click.group(cls=KabotGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kabot")
def cli() -> None:
    """Use your ChatGPT (Codex) subscription or an OpenAI API key from LiteLLM."""


def _add_commands() -> None:
    # Each area keeps its commands in its own module; importing them registers them on `cli`.
    import importlib

    for module in ("auth_commands", "models_commands", "router_commands"):
        try:
            importlib.import_module(f"kabot_codex.cli.{module}")
        except ModuleNotFoundError as exc:
            if exc.name != f"kabot_codex.cli.{module}":
                raise


_add_commands()
