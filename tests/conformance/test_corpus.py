"""The conformance corpus: SSE transcripts shaped like the real backend's and codex-rs fixtures,
each with its expected LiteLLM result, played by the emulator over real HTTP and read through
all four call shapes (completion, acompletion, streaming, astreaming).

A transcript is ``transcripts/<name>.sse`` (bytes exactly as sent; one chunk per event block)
and its expectation is ``cases.json[name]``: either the answer (``content``, ``reasoning``,
``tool_calls`` as ``[id, name, arguments]``, ``finish_reason``, ``usage`` as ``[prompt,
completion, total]``) or an error (``error``: the LiteLLM class name, ``says``: a fragment of
its one-line message).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import litellm
import pytest

HERE = Path(__file__).parent
CASES: dict[str, dict[str, Any]] = json.loads((HERE / "cases.json").read_text())
SHAPES = ("completion", "acompletion", "streaming", "astreaming")
MODEL = "openai-codex/gpt-5.5"
MESSAGES = [{"role": "user", "content": "Run the conformance transcript."}]


def frames(name: str) -> list[str]:
    text = (HERE / "transcripts" / f"{name}.sse").read_text()
    return [block + "\n\n" for block in text.split("\n\n") if block]


def _answer(response: Any) -> dict[str, Any]:
    message = response.choices[0].message
    calls = [[c.id, c.function.name, c.function.arguments] for c in message.tool_calls or []]
    usage = response.usage
    return {"content": message.content, "reasoning": getattr(message, "reasoning_content", None),
            "tool_calls": calls, "finish_reason": response.choices[0].finish_reason,
            "usage": [usage.prompt_tokens, usage.completion_tokens, usage.total_tokens] if usage else None}


def _fold(chunks: list[Any]) -> dict[str, Any]:
    """What a streaming client sees: deltas joined, tool calls assembled by index."""
    content, reasoning, finish, usage = "", "", None, None
    calls: dict[int, list[str]] = {}
    for chunk in chunks:
        if getattr(chunk, "usage", None) is not None and chunk.usage.total_tokens:
            usage = [chunk.usage.prompt_tokens, chunk.usage.completion_tokens, chunk.usage.total_tokens]
        for choice in chunk.choices:
            delta = choice.delta
            content += delta.content or ""
            reasoning += getattr(delta, "reasoning_content", None) or ""
            for call in delta.tool_calls or []:
                entry = calls.setdefault(call.index, ["", "", ""])
                entry[0] = call.id or entry[0]
                entry[1] = call.function.name or entry[1]
                entry[2] += call.function.arguments or ""
            finish = choice.finish_reason or finish
    return {"content": content or None, "reasoning": reasoning or None,
            "tool_calls": [calls[i] for i in sorted(calls)], "finish_reason": finish, "usage": usage}


def run(shape: str) -> dict[str, Any]:
    options: dict[str, Any] = {"model": MODEL, "messages": MESSAGES, "num_retries": 0}
    if shape == "completion":
        return _answer(litellm.completion(**options))
    if shape == "acompletion":
        return _answer(asyncio.run(litellm.acompletion(**options)))
    options.update(stream=True, stream_options={"include_usage": True})
    if shape == "streaming":
        return _fold(list(litellm.completion(**options)))

    async def consume() -> dict[str, Any]:
        stream = await litellm.acompletion(**options)
        return _fold([chunk async for chunk in stream])

    return asyncio.run(consume())


def _unwrap(exc: BaseException) -> BaseException:
    # LiteLLM's stream wrapper re-raises mid-stream failures as MidStreamFallbackError and keeps
    # the provider's own exception as original_exception.
    return getattr(exc, "original_exception", None) or exc


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name", sorted(CASES))
def test_transcript(emu: Any, logged_in: Any, name: str, shape: str) -> None:
    case = CASES[name]
    emu.fault("transcript", frames=frames(name), end=case.get("end", "finish"))
    expect = case["expect"]
    if "error" in expect:
        with pytest.raises(Exception) as info:
            run(shape)
        exc = _unwrap(info.value)
        assert type(exc).__name__ == expect["error"], f"{type(info.value).__name__}: {info.value}"
        text = str(exc)
        assert expect["says"].lower() in text.lower(), text
        assert "Traceback" not in text and "\n" not in text.strip(), text
        return
    got = run(shape)
    for key in ("content", "reasoning", "finish_reason"):
        assert got[key] == expect.get(key), (key, got)
    assert got["tool_calls"] == expect.get("tool_calls", []), got
    if "usage" in expect:
        assert got["usage"] == expect["usage"], got
