"""Sentinel test: a server that echoes the Authorization header into every error it sends
(400, 401, 500 bodies and headers, ``response.failed``) must not get the token or API key into
anything a caller, a log or a LiteLLM callback sees — with LiteLLM debug logging on.
"""

from __future__ import annotations

import logging
import secrets
import time
import traceback
from typing import Any

import litellm
import pytest
from litellm.integrations.custom_logger import CustomLogger

from tests.provider import faultserver as fs
from tests.provider.conftest import save_profile
from tests.provider.shapes import SHAPES, run

ECHOES = [("400", fs.echo_status(400)), ("401", fs.echo_status(401)), ("500", fs.echo_status(500)),
          ("failed", fs.echo_failed)]


class Recorder(CustomLogger):
    """Keeps every callback's kwargs (and the response object) as text."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[str] = []
        self.failures = 0

    def _keep(self, kwargs: Any, response: Any = None) -> None:
        self.seen.append(repr(kwargs))
        self.seen.append(repr(response))
        for key in ("exception", "traceback_exception", "error_str"):
            self.seen.append(str(kwargs.get(key)))
        self.seen.append(str((kwargs.get("standard_logging_object") or {}).get("error_str")))

    def log_pre_api_call(self, model, messages, kwargs):  # noqa: ANN001 - LiteLLM's signature
        self._keep(kwargs)

    def log_failure_event(self, kwargs, response_obj, start_time, end_time):  # noqa: ANN001
        self.failures += 1
        self._keep(kwargs, response_obj)

    async def async_log_failure_event(self, kwargs, response_obj, start_time, end_time):  # noqa: ANN001
        self.failures += 1
        self._keep(kwargs, response_obj)


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))
        if record.exc_info:
            self.lines.append("".join(traceback.format_exception(*record.exc_info)))


def _exception_texts(exc: BaseException | None, depth: int = 0) -> list[str]:
    """Everything reachable from an exception a caller could print or inspect."""
    if exc is None or depth > 3:
        return []
    texts = [str(exc), repr(exc), "".join(traceback.format_exception(exc))]
    for name in ("message", "body", "litellm_debug_info"):
        texts.append(str(getattr(exc, name, "")))
    for name in ("response", "request"):
        try:
            obj = getattr(exc, name, None)
        except Exception:  # noqa: BLE001 - some LiteLLM classes raise on a missing request
            obj = None
        if obj is None:
            continue
        texts.append(repr(obj))
        texts.append(str(dict(obj.headers)))
        request = getattr(obj, "_request", None) if name == "response" else obj
        if request is not None:
            texts += [str(request.url), str(dict(request.headers)), repr(request.content)]
        if name == "response":
            try:
                texts.append(obj.text)
            except Exception:  # noqa: BLE001 - a streaming response that was never read
                pass
    for inner in (getattr(exc, "original_exception", None), exc.__cause__, exc.__context__):
        if inner is not exc:
            texts += _exception_texts(inner, depth + 1)
    return texts


@pytest.fixture
def debug_logging(monkeypatch, capfd):
    litellm._turn_on_debug()
    monkeypatch.setattr(litellm, "set_verbose", True)
    capture = Capture()
    names = ["", "LiteLLM", "LiteLLM Router", "LiteLLM Proxy", "kabot_codex", "httpx", "httpcore"]
    for name in names:
        logging.getLogger(name).addHandler(capture)
    recorder = Recorder()
    monkeypatch.setattr(litellm, "callbacks", [recorder])
    yield capture, recorder
    for name in names:
        logging.getLogger(name).removeHandler(capture)
    for name in ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy"):
        logging.getLogger(name).setLevel(logging.WARNING)


def _credentials(kind: str, emu: Any, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Set up one kind of credential; return the secrets that must never appear."""
    if kind == "chatgpt_login":
        monkeypatch.setenv("OPENAI_CODEX_AUTH_BASE", emu.auth_base)
        tokens = emu.mint_tokens(ttl=3600)
        save_profile(tokens)
        return [tokens["access_token"], tokens["refresh_token"]]
    key = ("sk-proj-" if kind == "api_key" else "opaque-") + "SENTINEL" + secrets.token_hex(12)
    monkeypatch.setenv("OPENAI_CODEX_API_KEY", key)
    return [key]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("kind", ["chatgpt_login", "api_key", "opaque_key"])
def test_echoed_credentials_never_leak(emu, monkeypatch, capfd, debug_logging, kind, shape):
    capture, recorder = debug_logging
    sentinels = _credentials(kind, emu, monkeypatch)
    texts: list[str] = []
    for name, mode in ECHOES:
        with fs.serving(mode) as server:
            outcome = run(shape, api_base=server.base, timeout=5)
        assert outcome.error is not None, name
        if not (name == "401" and kind != "chatgpt_login"):  # a rejected static key: no backend text
            assert "[redacted]" in str(outcome.original), f"{name}: the echo did not reach the message"
        texts += _exception_texts(outcome.error)
    deadline = time.monotonic() + 5
    while recorder.failures < len(ECHOES) and time.monotonic() < deadline:
        time.sleep(0.05)  # LiteLLM runs failure callbacks in the background
    assert recorder.failures >= len(ECHOES)
    out, err = capfd.readouterr()
    haystack = "\n".join([*texts, *recorder.seen, *capture.lines, out, err])
    assert "Authorization" in haystack or "authorization" in haystack  # the echo really happened
    for secret in sentinels:
        assert secret not in haystack, f"{kind}/{shape}: a credential leaked"
        assert secret[-16:] not in haystack, f"{kind}/{shape}: part of a credential leaked"
