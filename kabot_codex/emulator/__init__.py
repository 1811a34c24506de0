"""A local emulator of the ChatGPT Codex backend, its OAuth issuer and the OpenAI ``/v1`` API.

Every test, the smoke check and the benchmarks run against it; users can also point their own
app at it offline. Standard library only (plus httpx for the control client) and no LiteLLM:
with ``_KABOT_CODEX_DEFER_REGISTER=1`` (which ``run_emulator_process`` sets) the package
import skips provider registration and the server is up in ~0.3 s. See ``docs/emulator.md``.
"""

from __future__ import annotations

from kabot_codex.emulator.client import EmulatorControl, EmulatorStartError, run_emulator_process
from kabot_codex.emulator.server import Emulator

__all__ = ["Emulator", "EmulatorControl", "EmulatorStartError", "run_emulator_process"]
