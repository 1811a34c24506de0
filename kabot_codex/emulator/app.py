"""The emulator application: shared state plus the route table."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from kabot_codex.emulator.state import State
from kabot_codex.emulator.tokens import TokenStore
from kabot_codex.emulator.wire import Exchange

__all__ = ["App", "Route", "routes"]


@dataclass
class App:
    """State that outlives a request; one per emulator server."""

    state: State = field(default_factory=State)
    tokens: TokenStore = field(default_factory=TokenStore)
    verbose: bool = False

    def reset(self) -> None:
        """Back to defaults (faults, replies, account, counters, tokens)."""
        self.state.reset()
        self.tokens.reset()


Route = Callable[[App, Exchange], None]


def routes() -> dict[tuple[str, str], Route]:
    """Return ``{(method, path): route}`` for every emulated endpoint."""
    # Imported here so each area module can import App without a cycle.
    from kabot_codex.emulator import codex, control, oauth, openai_api

    table: dict[tuple[str, str], Route] = {}
    for module in (codex, control, oauth, openai_api):
        table.update(module.ROUTES)
    return table
