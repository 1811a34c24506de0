"""DSPy's ``dspy.LM`` on openai-codex: Predict works, and a usage limit fails fast."""

from __future__ import annotations

import time
from typing import Any

import dspy
import litellm
import pytest

import kabot_codex  # noqa: F401  (registers the provider)
from kabot_codex.emulator import EmulatorControl
from tests.ecosystem.conftest import MODEL, codex_calls, last_body


def _lm(**kwargs: Any) -> dspy.LM:
    return dspy.LM(MODEL, cache=False, **kwargs)


def test_predict(emu: EmulatorControl, logged_in: dict[str, Any]) -> None:
    emu.reply("[[ ## answer ## ]]\nParis\n\n[[ ## completed ## ]]")
    with dspy.context(lm=_lm(reasoning_effort="high")):
        prediction = dspy.Predict("question -> answer")(question="What is the capital of France?")
    assert prediction.answer == "Paris"
    body = last_body(emu)
    assert body["reasoning"]["effort"] == "high"  # dspy.LM(reasoning_effort=...) needs no allow-list
    assert "question" in body["instructions"] or "question" in str(body["input"])


def test_predict_with_the_emulators_own_answer(emu: EmulatorControl, logged_in: dict[str, Any]) -> None:
    # Unscripted: the default text does not follow DSPy's field format, so DSPy retries with its
    # JSON adapter (structured output), which the emulator answers from the schema.
    with dspy.context(lm=_lm()):
        prediction = dspy.Predict("question -> answer: str, confidence: float")(question="Capital of France?")
    assert isinstance(prediction.answer, str) and isinstance(prediction.confidence, float)
    assert last_body(emu)["text"]["format"]["type"] == "json_schema"


def test_usage_limit_fails_fast(emu: EmulatorControl, logged_in: dict[str, Any]) -> None:
    # DSPy retries rate limits itself and sleeps whatever Retry-After says (before: the whole
    # reset window, three times). Bound: a small fraction of the reset window, not a wall clock.
    resets_in = 1800
    emu.fault("usage_limit", resets_in_seconds=resets_in, count=1)
    started = time.monotonic()
    with dspy.context(lm=_lm(num_retries=2)), pytest.raises(Exception) as info:
        dspy.Predict("question -> answer")(question="hi")
    elapsed = time.monotonic() - started
    assert elapsed < 0.01 * resets_in
    assert codex_calls(emu) == 1  # DSPy's retries were answered from the remembered limit
    chain, seen = [info.value], info.value
    while seen is not None and len(chain) < 10:
        seen = seen.__cause__ or seen.__context__
        chain.append(seen)
    original = next(e for e in chain if isinstance(e, litellm.RateLimitError))
    assert original.resets_in_seconds > resets_in - 100
    assert "usage limit" in str(info.value).lower()
    assert getattr(info.value, "retry_after", None) is None  # nothing told DSPy to wait
