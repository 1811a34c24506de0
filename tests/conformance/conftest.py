"""Fixtures for the conformance corpus: a logged-in profile on the emulator, clean provider state."""

from tests.codex_login import fresh_provider_state, logged_in

__all__ = ["fresh_provider_state", "logged_in"]
