"""The ``kabot`` command line (the ``setup`` wizard is added by ``kabot_codex.wizard.cli``)."""

from __future__ import annotations

import click

from kabot_codex import __version__
from kabot_codex.cli.errors import KabotGroup

__all__ = ["cli"]


class _Group(KabotGroup):
    """A group whose ``--help`` shows each command's whole summary, wrapped, never cut."""

    group_class = type  # `@cli.group()` sub-groups (e.g. `kabot router`) list their commands the same way

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # click cuts each summary to one line ("…save an API key as PROFILE, and..."); the
        # definition list below wraps long summaries instead.
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit=1_000)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
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
