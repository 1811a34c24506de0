"""Small helpers for talking to the emulator over real HTTP in tests."""

from __future__ import annotations

import json
from typing import Any

import httpx

from kabot_codex.emulator import EmulatorControl

CLIENT_ID = "app_EMoamEEZ73f0CkXaXp7hrann"


def client() -> httpx.Client:
    """Return a plain client that ignores proxy settings from the environment."""
    # verify=False: plain HTTP only, and skipping the SSL context makes each client ~50 ms cheaper.
    return httpx.Client(trust_env=False, verify=False, timeout=30)


def body(**overrides: Any) -> dict[str, Any]:
    """Return a valid backend request body; ``overrides`` replace (or, with None, drop) fields."""
    base: dict[str, Any] = {
        "model": "gpt-5.5",
        "instructions": "You are a helpful assistant.",
        "input": [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi there"}]}],
        "store": False,
        "stream": True,
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def parse_sse(text: str) -> list[tuple[str, Any]]:
    """Parse an SSE body into ``(event, data)`` pairs (data JSON-decoded when possible)."""
    events = []
    for frame in text.split("\n\n"):
        if not frame.strip():
            continue
        name, data = "", []
        for line in frame.split("\n"):
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                data.append(line[6:])
        raw = "\n".join(data)
        try:
            events.append((name, json.loads(raw)))
        except ValueError:
            events.append((name, raw))
    return events


def post_responses(emu: EmulatorControl, http: httpx.Client, tokens: dict[str, Any] | None = None,
                   **overrides: Any) -> httpx.Response:
    """POST a (valid unless overridden) body to the backend with fresh or given tokens."""
    tokens = tokens or emu.mint_tokens()
    return http.post(emu.codex_base + "/responses", json=body(**overrides), headers=emu.auth_headers(tokens))
