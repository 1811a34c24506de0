"""Run one LiteLLM call in any of the four shapes and report what the caller saw."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

import litellm

MODEL = "openai-codex/gpt-5.5"
HELLO = [{"role": "user", "content": "hello"}]
SHAPES = ["completion", "acompletion", "stream", "astream"]


@dataclass
class Outcome:
    """The caller's view of one call: an answer or an error, and how long it took."""

    shape: str
    seconds: float = 0.0
    text: str = ""
    finish_reasons: list[str] = field(default_factory=list)
    error: BaseException | None = None

    @property
    def original(self) -> BaseException | None:
        """The provider's exception (LiteLLM wraps mid-stream errors in MidStreamFallbackError)."""
        return getattr(self.error, "original_exception", None) or self.error


def run(shape: str, **kwargs: Any) -> Outcome:
    kwargs = {"model": MODEL, "messages": HELLO, "num_retries": 0, **kwargs}
    outcome = Outcome(shape)
    started = time.monotonic()
    try:
        if shape == "completion":
            _take(outcome, litellm.completion(**kwargs))
        elif shape == "acompletion":
            _take(outcome, asyncio.run(litellm.acompletion(**kwargs)))
        elif shape == "stream":
            for chunk in litellm.completion(stream=True, **kwargs):
                _chunk(outcome, chunk)
        else:
            asyncio.run(_astream(outcome, kwargs))
    except Exception as exc:  # noqa: BLE001 - the outcome records it
        outcome.error = exc
    outcome.seconds = time.monotonic() - started
    return outcome


def _take(outcome: Outcome, response: Any) -> None:
    choice = response.choices[0]
    outcome.text = choice.message.content or ""
    outcome.finish_reasons.append(choice.finish_reason)


def _chunk(outcome: Outcome, chunk: Any) -> None:
    for choice in chunk.choices:
        outcome.text += choice.delta.content or ""
        if choice.finish_reason:
            outcome.finish_reasons.append(choice.finish_reason)


async def _astream(outcome: Outcome, kwargs: dict[str, Any]) -> None:
    stream = await litellm.acompletion(stream=True, **kwargs)
    async for chunk in stream:
        _chunk(outcome, chunk)
