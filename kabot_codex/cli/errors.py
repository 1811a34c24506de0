"""The one convention every ``kabot`` command follows for errors and exit codes.

A failure is two lines on stderr, never a traceback and never Python advice::

    error: <what happened>
    fix: <the command or step that fixes it>

Exit codes (documented in docs/cli.md):

    0    ok — including "nothing to do" (``kabot logout`` with nothing stored)
    1    failed — the command ran and did not succeed (a refused login, an unreadable file)
    2    usage — the command line cannot run as given: an unknown or conflicting option, a
         question that needs an answer under ``--non-interactive``, no terminal to ask on
    130  interrupted — Ctrl-C (or end of input at a prompt); nothing was half-written

``KabotGroup`` applies the format to click's own usage errors; ``handle_errors`` to ours.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator, Sequence
from typing import Any

import click
from rich.console import Console
from rich.markup import escape

from kabot_codex.errors import InteractiveSessionRequired, KabotError, SetupAborted, UsageProblem

__all__ = [
    "EXIT_ABORTED",
    "EXIT_ERROR",
    "EXIT_OK",
    "EXIT_USAGE",
    "KabotGroup",
    "exit_code_for",
    "handle_errors",
    "print_error",
]

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_ABORTED = 130


def exit_code_for(err: KabotError) -> int:
    """Return the exit code for ``err`` (see the module docstring)."""
    if isinstance(err, SetupAborted):
        return EXIT_ABORTED
    if isinstance(err, UsageProblem):
        return err.exit_code
    if isinstance(err, InteractiveSessionRequired):
        return EXIT_USAGE
    return EXIT_ERROR


def print_error(console: Console, message: str, hint: str | None = None) -> None:
    """Print ``error: message`` and, if there is one, ``fix: hint``."""
    console.print(f"[red]error:[/] {escape(message)}", highlight=False)
    if hint:
        console.print(f"[cyan]fix:[/] {escape(hint)}", highlight=False)


@contextlib.contextmanager
def handle_errors(console: Console | None = None) -> Iterator[None]:
    """Print ``KabotError``s as ``error: … / fix: …`` (no traceback) and exit with their code."""
    console = console or Console(stderr=True)
    try:
        yield
    except SetupAborted as err:
        console.print(f"[yellow]Aborted.[/] {escape(err.hint or '')}".rstrip())
        sys.exit(EXIT_ABORTED)
    except KeyboardInterrupt:
        console.print("[yellow]Aborted.[/] Nothing was changed.")
        sys.exit(EXIT_ABORTED)
    except KabotError as err:
        print_error(console, err.message, err.hint)
        sys.exit(exit_code_for(err))


# click >= 8.2 raises this for a group run without a command; older versions print the help.
class _NeverRaised(click.ClickException):
    pass


_NoArgsIsHelp: type[click.ClickException] = getattr(click.exceptions, "NoArgsIsHelpError", _NeverRaised)


class KabotGroup(click.Group):
    """The top-level group: click's usage errors in the same ``error:/fix:`` format."""

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True, **extra: Any) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        console = Console(stderr=True)
        try:
            result = super().main(args, prog_name, complete_var, False, **extra)
        except _NoArgsIsHelp as exc:
            exc.show()  # `kabot` alone: the help itself is the answer (exit 2, as click does)
            sys.exit(exc.exit_code)
        except click.exceptions.UsageError as exc:
            where = exc.ctx.command_path if exc.ctx is not None else (prog_name or "kabot")
            print_error(console, exc.format_message(), f"see `{where} --help`")
            sys.exit(EXIT_USAGE)
        except click.ClickException as exc:
            print_error(console, exc.format_message())
            sys.exit(exc.exit_code)
        except click.exceptions.Abort:
            # click turns Ctrl-C and end of input at its prompts into Abort.
            console.print("[yellow]Aborted.[/] Nothing was changed.")
            sys.exit(EXIT_ABORTED)
        sys.exit(result if isinstance(result, int) else EXIT_OK)
