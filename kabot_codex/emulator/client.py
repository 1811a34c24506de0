"""Driving an emulator from Python: ``EmulatorControl`` and ``run_emulator_process``."""

from __future__ import annotations

import contextlib
import os
import queue
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator, Mapping
from types import TracebackType
from typing import Any

import httpx

__all__ = ["LISTENING_PREFIX", "EmulatorControl", "EmulatorStartError", "run_emulator_process"]

LISTENING_PREFIX = "kabot-codex emulator listening on "
START_TIMEOUT = 20.0


class EmulatorStartError(RuntimeError):
    """The emulator subprocess did not come up."""


class EmulatorControl:
    """A typed wrapper over the ``/_emulator`` control API of a running emulator."""

    def __init__(self, url: str, timeout: float = 30.0) -> None:
        self.url = url.rstrip("/")
        # A long keep-alive so the control connection itself never shows up as a "new
        # connection" in stats between two calls of a test.
        self._http = httpx.Client(base_url=self.url, timeout=timeout, trust_env=False, verify=False,
                                  limits=httpx.Limits(keepalive_expiry=600))

    @property
    def codex_base(self) -> str:
        """Return the Codex backend base (what ``OPENAI_CODEX_API_BASE`` should be)."""
        return self.url + "/backend-api/codex"

    @property
    def auth_base(self) -> str:
        """Return the OAuth issuer base (what ``OPENAI_CODEX_AUTH_BASE`` should be)."""
        return self.url

    @property
    def openai_base(self) -> str:
        """Return the OpenAI-compatible API base (``.../v1``)."""
        return self.url + "/v1"

    def close(self) -> None:
        """Close the pooled HTTP client."""
        self._http.close()

    def __enter__(self) -> EmulatorControl:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def _call(self, method: str, path: str, json: Any = None, params: Mapping[str, Any] | None = None) -> Any:
        response = self._http.request(method, "/_emulator/" + path, json=json, params=params)
        if response.status_code >= 400:
            raise ValueError(f"emulator control {path} failed ({response.status_code}): {response.text}")
        return response.json()

    def reset(self) -> None:
        """Clear faults, replies, account overrides, recorded requests, counters and tokens."""
        self._call("POST", "reset")

    def fault(self, kind: str, count: int = 1, target: str = "codex", model: str | None = None,
              **params: Any) -> dict[str, Any]:
        """Queue a fault; each matching request consumes one (``count`` <= 0: until reset)."""
        body = {"kind": kind, "count": count, "target": target, "model": model, "params": params}
        return dict(self._call("POST", "faults", body)["fault"])

    @staticmethod
    def _reply_body(text: str | None, chunks: int | None, tool_calls: list[dict[str, Any]] | None,
                    reasoning: str | None, usage: dict[str, Any] | None, target: str) -> dict[str, Any]:
        return {"text": text, "chunks": chunks, "tool_calls": tool_calls, "reasoning": reasoning,
                "usage": usage, "target": target}

    def reply(self, text: str | None = None, chunks: int | None = None,
              tool_calls: list[dict[str, Any]] | None = None, reasoning: str | None = None,
              usage: dict[str, Any] | None = None, target: str = "codex") -> None:
        """Queue one scripted reply for the next model call on ``target``."""
        self._call("POST", "replies", self._reply_body(text, chunks, tool_calls, reasoning, usage, target))

    def set_default_reply(self, text: str | None = None, chunks: int | None = None,
                          tool_calls: list[dict[str, Any]] | None = None, reasoning: str | None = None,
                          usage: dict[str, Any] | None = None, target: str = "codex") -> None:
        """Set the sticky reply used when no scripted reply is queued (all None clears it)."""
        self._call("POST", "default_reply",
                   self._reply_body(text, chunks, tool_calls, reasoning, usage, target))

    def account(self, **fields: Any) -> dict[str, Any]:
        """Patch account settings and return them all (no arguments: just read them)."""
        if not fields:
            return dict(self._call("GET", "account"))
        return dict(self._call("POST", "account", fields))

    def mint_tokens(self, ttl: float = 3600, account_id: str | None = None, email: str | None = None,
                    plan: str | None = None) -> dict[str, Any]:
        """Return a fresh token set: id_token, access_token, refresh_token, expires_in, account_id."""
        body = {"ttl": ttl, "account_id": account_id, "email": email, "plan": plan}
        return dict(self._call("POST", "tokens/mint", body))

    def revoke_refresh_tokens(self) -> None:
        """Revoke every refresh token issued so far (next refresh: ``refresh_token_invalidated``)."""
        self._call("POST", "tokens/revoke_refresh")

    def expire_access_tokens(self) -> None:
        """Expire every access token issued so far (next backend call: 401 ``token_expired``)."""
        self._call("POST", "tokens/expire_access")

    def approve_device(self) -> None:
        """Approve every pending device-code login now."""
        self._call("POST", "device/approve")

    def stats(self) -> dict[str, Any]:
        """Return connection and request counters."""
        return dict(self._call("GET", "stats"))

    def requests(self, limit: int | None = None, path_contains: str | None = None) -> list[dict[str, Any]]:
        """Return recorded (non-control) requests, newest last."""
        params = {k: v for k, v in {"limit": limit, "path_contains": path_contains}.items() if v is not None}
        return list(self._call("GET", "requests", params=params))

    def auth_headers(self, tokens: Mapping[str, Any]) -> dict[str, str]:
        """Return the backend auth headers for a token set from ``mint_tokens``."""
        return {"Authorization": f"Bearer {tokens['access_token']}",
                "ChatGPT-Account-Id": str(tokens["account_id"])}


def _read_first_line(stream: Any, out: queue.Queue[str]) -> None:
    line = stream.readline()
    out.put(line.decode("utf-8", "replace") if isinstance(line, bytes) else line)
    # Keep draining so a chatty child can never block on a full pipe.
    for _ in iter(stream.readline, b""):
        pass


@contextlib.contextmanager
def run_emulator_process(port: int = 0, env: Mapping[str, str] | None = None,
                         host: str = "127.0.0.1") -> Iterator[EmulatorControl]:
    """Run ``python -m kabot_codex.emulator`` as a real subprocess and yield its control client."""
    child_env = dict(os.environ)
    # The package __init__ would otherwise import LiteLLM (~3 s) before the emulator starts.
    child_env["_KABOT_CODEX_DEFER_REGISTER"] = "1"
    child_env.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    child_env["PYTHONUNBUFFERED"] = "1"
    child_env.update(env or {})
    cmd = [sys.executable, "-m", "kabot_codex.emulator", "--host", host, "--port", str(port)]
    with tempfile.TemporaryFile() as stderr:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=stderr, stdin=subprocess.DEVNULL,
                                env=child_env)
        try:
            lines: queue.Queue[str] = queue.Queue()
            threading.Thread(target=_read_first_line, args=(proc.stdout, lines), daemon=True).start()
            try:
                line = lines.get(timeout=START_TIMEOUT)
            except queue.Empty:
                line = ""
            if not line.startswith(LISTENING_PREFIX):
                proc.kill()
                proc.wait(timeout=5)
                stderr.seek(0)
                err = stderr.read().decode("utf-8", "replace")
                raise EmulatorStartError(
                    f"emulator did not start within {START_TIMEOUT:.0f}s (exit code {proc.returncode}); "
                    f"stdout: {line!r}; stderr:\n{err}")
            with EmulatorControl(line[len(LISTENING_PREFIX):].strip()) as control:
                yield control
        finally:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=5)
