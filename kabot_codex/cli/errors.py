"""The one place that turns errors into messages and exit codes for the CLI."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator

from rich.console import Console

from kabot_codex.errors import InteractiveSessionRequired, KabotError, SetupAborted

__all__ = ["EXIT_ABORTED", "EXIT_ERROR", "EXIT_USAGE", "handle_errors"]

EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_ABORTED = 130


@contextlib.contextmanager
def handle_errors(console: Console | None = None) -> Iterator[None]:
    """Print ``KabotError``s as ``error: … / fix: …`` (no traceback) and exit with a code."""
    console = console or Console(stderr=True)
    try:
        yield
    except SetupAborted as err:
        console.print(f"[yellow]Aborted.[/] {err.hint or ''}".rstrip())
        sys.exit(EXIT_ABORTED)
    except KeyboardInterrupt:
        console.print("[yellow]Aborted.[/] Nothing was changed.")
        sys.exit(EXIT_ABORTED)
    except KabotError as err:
        console.print(f"[red]error:[/] {err.message}", highlight=False, markup=True)
        if err.hint:
            console.print(f"[cyan]fix:[/] {err.hint}", highlight=False)
        sys.exit(EXIT_USAGE if isinstance(err, InteractiveSessionRequired) else EXIT_ERROR)
