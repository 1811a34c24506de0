"""The smoke check: ``python -m kabot_codex.smoke [--offline] [--model M] [--json]``.

One completion, one stream and one tool call through LiteLLM with the ``openai-codex``
provider — against your account when you are logged in, otherwise against the built-in
emulator (and it says so). Exits non-zero if any check fails.
"""

from __future__ import annotations

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    """Run the smoke check and return the exit code."""
    from kabot_codex.smoke.cli import main as _main

    return _main(argv)
