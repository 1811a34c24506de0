"""The four things ``scripts/bench.py`` measures, each as a sync and an async call.

(a) ``raw``: httpx + SSE parse, no LiteLLM — the cost of talking to the backend at all.
(b) ``floor``: a CustomLLM that does no I/O and returns the same reply — LiteLLM's own cost.
(c) ``builtin``: LiteLLM's ``chatgpt/`` provider pointed at the emulator.
(d) ``ours``: the ``openai-codex`` provider.

Every call returns the reply text so the bench can check that all four saw the same reply.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import litellm
from litellm import CustomLLM
from litellm.types.utils import Delta, ModelResponse, ModelResponseStream, StreamingChoices

from kabot_codex.emulator.replies import split_text

__all__ = ["BENCH_TEXT", "CHUNKS", "MESSAGES", "MODEL_SLUG", "FloorLLM", "Impl", "build_impls", "floor_chunks"]

#: The one reply every implementation gets: the emulator splits it into CHUNKS text deltas.
BENCH_TEXT = ("The quick brown fox jumps over the lazy dog while the benchmark counts every "
              "delta, so each implementation parses exactly the same twenty pieces of text.")
CHUNKS = 20
MESSAGES = [{"role": "user", "content": "Say hello."}]
MODEL_SLUG = "gpt-5.5"
FLOOR_PROVIDER = "bench-floor"
FLOOR_WAIT_PROVIDER = "bench-floor-wait"
JOINT_PROVIDER = "bench-floor-raw"
_FLOOR_USAGE = {"prompt_tokens": 28, "completion_tokens": 34, "total_tokens": 62}

SyncCall = Callable[[bool], str]
AsyncCall = Callable[[bool], Awaitable[str]]


@dataclass
class Impl:
    """One implementation under test."""

    key: str
    label: str
    sync_call: SyncCall
    async_call: AsyncCall
    uses_network: bool = True


# -- (a) raw -----------------------------------------------------------------------------------
def _raw_body() -> dict[str, Any]:
    return {
        "model": MODEL_SLUG, "instructions": "You are a helpful assistant.", "store": False, "stream": True,
        "input": [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Say hello."}]}],
        **_RAW_REASONING,
    }


def _codex_reasoning() -> dict[str, Any]:
    """The reasoning fields our provider sends by default for MODEL_SLUG (Codex's defaults).

    The raw and joint requests ask for the same, so the emulator streams them the same
    reasoning-summary events it streams us: every row then reads the same bytes and events
    (see docs/performance.md, "Like with like").
    """
    from kabot_codex import catalog

    spec = catalog.get_spec(f"openai-codex/{MODEL_SLUG}")
    if not (spec and spec.efforts and spec.supports_reasoning_summaries):
        return {}
    reasoning: dict[str, Any] = {"summary": "auto"}
    if spec.default_effort:
        reasoning = {"effort": spec.default_effort, **reasoning}
    return {"reasoning": reasoning, "include": ["reasoning.encrypted_content"]}


_RAW_REASONING: dict[str, Any] = {}


class ReasoningPiece(str):
    """A reasoning-summary delta in a raw stream (the joint floor streams it as reasoning_content)."""


def _parse_line(line: str, out: list[str], reasoning: bool = False) -> None:
    if line.startswith("data: "):
        event = json.loads(line[6:])
        kind = event.get("type")
        if kind == "response.output_text.delta":
            out.append(event["delta"])
        elif reasoning and kind == "response.reasoning_summary_text.delta":
            out.append(ReasoningPiece(event["delta"]))


def _raw(codex_base: str, tokens: dict[str, Any]) -> Impl:
    url = codex_base.rstrip("/") + "/responses"
    headers = {"Authorization": f"Bearer {tokens['access_token']}", "ChatGPT-Account-Id": tokens["account_id"],
               "Accept": "text/event-stream"}
    # The same pool settings as our provider (kabot_codex.provider.transport), so the baseline
    # keeps its connections between rounds exactly as ours does.
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=32, keepalive_expiry=90.0)
    client = httpx.Client(timeout=30.0, trust_env=False, limits=limits)
    aclients: dict[int, httpx.AsyncClient] = {}  # one per event loop, like any real async client

    def sync_call(stream: bool) -> str:
        # A raw client streams either way: the backend only speaks SSE.
        pieces: list[str] = []
        with client.stream("POST", url, json=_raw_body(), headers=headers) as response:
            response.raise_for_status()
            for line in response.iter_lines():
                _parse_line(line, pieces)
        return "".join(pieces)

    async def async_call(stream: bool) -> str:
        import asyncio

        loop_id = id(asyncio.get_running_loop())
        aclient = aclients.get(loop_id)
        if aclient is None:
            aclient = aclients[loop_id] = httpx.AsyncClient(timeout=30.0, trust_env=False, limits=limits)
        pieces: list[str] = []
        async with aclient.stream("POST", url, json=_raw_body(), headers=headers) as response:
            response.raise_for_status()
            async for line in response.aiter_lines():
                _parse_line(line, pieces)
        return "".join(pieces)

    def stream_pieces() -> Iterator[str]:
        with client.stream("POST", url, json=_raw_body(), headers=headers) as response:
            response.raise_for_status()
            for line in response.iter_lines():
                pieces: list[str] = []
                _parse_line(line, pieces, reasoning=True)
                yield from pieces

    async def astream_pieces() -> AsyncIterator[str]:
        import asyncio

        loop_id = id(asyncio.get_running_loop())
        aclient = aclients.get(loop_id)
        if aclient is None:
            aclient = aclients[loop_id] = httpx.AsyncClient(timeout=30.0, trust_env=False, limits=limits)
        async with aclient.stream("POST", url, json=_raw_body(), headers=headers) as response:
            response.raise_for_status()
            async for line in response.aiter_lines():
                pieces: list[str] = []
                _parse_line(line, pieces, reasoning=True)
                for piece in pieces:
                    yield piece

    impl = Impl("raw", "(a) raw httpx + SSE", sync_call, async_call)
    impl.stream_pieces, impl.astream_pieces = stream_pieces, astream_pieces  # type: ignore[attr-defined]
    return impl


# -- (b) floor ---------------------------------------------------------------------------------
def floor_chunks(model: str) -> Iterator[ModelResponseStream]:
    """Yield what our provider yields for this reply: 20 text chunks, a usage chunk, a finish chunk."""
    # The emulator's own splitter, so the floor's pieces are exactly the deltas the others get.
    return _chunks_from(model, iter(split_text(BENCH_TEXT, CHUNKS)))


class FloorLLM(CustomLLM):
    """No I/O: returns the bench reply the way our provider would (same chunk type and count)."""

    def completion(self, model: str, messages: list, api_base: str, custom_prompt_dict: dict,
                   model_response: ModelResponse, *args: Any, **kwargs: Any) -> ModelResponse:
        model_response.choices = [litellm.Choices(index=0, finish_reason="stop",
                                                   message=litellm.Message(role="assistant", content=BENCH_TEXT))]
        model_response.usage = litellm.Usage(**_FLOOR_USAGE)  # type: ignore[attr-defined]
        model_response.model = model
        return model_response

    async def acompletion(self, model: str, messages: list, api_base: str, custom_prompt_dict: dict,
                          model_response: ModelResponse, *args: Any, **kwargs: Any) -> ModelResponse:
        return self.completion(model, messages, api_base, custom_prompt_dict, model_response)

    def streaming(self, model: str, *args: Any, **kwargs: Any) -> Iterator[ModelResponseStream]:
        return floor_chunks(model)

    async def astreaming(self, model: str, *args: Any, **kwargs: Any) -> AsyncIterator[ModelResponseStream]:
        for chunk in floor_chunks(model):
            yield chunk


class WaitingFloorLLM(FloorLLM):
    """The floor, but it waits like a network call would (GIL released, no CPU): ~2 ms per call,
    spread over the chunks when streaming. Shows what LiteLLM costs around any handler that waits."""

    WAIT_S = 0.002

    def completion(self, *args: Any, **kwargs: Any) -> ModelResponse:
        time.sleep(self.WAIT_S)
        return super().completion(*args, **kwargs)

    def streaming(self, model: str, *args: Any, **kwargs: Any) -> Iterator[ModelResponseStream]:
        def paced() -> Iterator[ModelResponseStream]:
            for chunk in floor_chunks(model):
                time.sleep(self.WAIT_S / (CHUNKS + 2))
                yield chunk
        return paced()


class JointFloorLLM(FloorLLM):
    """Floor and raw as ONE call: the raw request (same client, same parsing) runs inside the
    LiteLLM handler and every text or reasoning-summary delta becomes a floor chunk (the same
    chunks ours yields for the same events). This is the least any provider
    doing real I/O can cost, and it costs more than floor + raw measured apart: waiting on a
    socket inside LiteLLM's call interleaves with its logging thread on two cores."""

    def __init__(self, raw: Impl, raw_stream: Callable[[], Iterator[str]],
                 araw_stream: Callable[[], AsyncIterator[str]]) -> None:
        super().__init__()
        self._raw, self._raw_stream, self._araw_stream = raw, raw_stream, araw_stream

    def completion(self, *args: Any, **kwargs: Any) -> ModelResponse:
        self._raw.sync_call(False)
        return super().completion(*args, **kwargs)

    async def acompletion(self, *args: Any, **kwargs: Any) -> ModelResponse:
        await self._raw.async_call(False)
        return FloorLLM.completion(self, *args, **kwargs)

    def streaming(self, model: str, *args: Any, **kwargs: Any) -> Iterator[ModelResponseStream]:
        return _chunks_from(model, self._raw_stream())

    async def astreaming(self, model: str, *args: Any, **kwargs: Any) -> AsyncIterator[ModelResponseStream]:
        async for piece in self._araw_stream():
            yield _text_chunk(model, piece)
        for chunk in _closing_chunks(model):
            yield chunk


def _text_chunk(model: str, piece: str) -> ModelResponseStream:
    delta = (Delta(reasoning_content=str(piece), role="assistant") if isinstance(piece, ReasoningPiece)
             else Delta(content=piece, role="assistant"))
    return ModelResponseStream(id="chatcmpl-floor", model=model, choices=[
        StreamingChoices(index=0, delta=delta, finish_reason=None)])


def _closing_chunks(model: str) -> list[ModelResponseStream]:
    usage_chunk = ModelResponseStream(id="chatcmpl-floor", model=model,
                                      choices=[StreamingChoices(index=0, delta=Delta(), finish_reason=None)])
    usage_chunk.usage = litellm.Usage(**_FLOOR_USAGE)  # type: ignore[attr-defined]
    return [usage_chunk, ModelResponseStream(id="chatcmpl-floor", model=model,
                                             choices=[StreamingChoices(index=0, delta=Delta(), finish_reason="stop")])]


def _chunks_from(model: str, pieces: Iterator[str]) -> Iterator[ModelResponseStream]:
    for piece in pieces:
        yield _text_chunk(model, piece)
    yield from _closing_chunks(model)


def _register_floor(joint: JointFloorLLM) -> None:
    names = (FLOOR_PROVIDER, FLOOR_WAIT_PROVIDER, JOINT_PROVIDER)
    litellm.custom_provider_map = [p for p in litellm.custom_provider_map if p.get("provider") not in names]
    litellm.custom_provider_map.append({"provider": FLOOR_PROVIDER, "custom_handler": FloorLLM()})
    litellm.custom_provider_map.append({"provider": FLOOR_WAIT_PROVIDER, "custom_handler": WaitingFloorLLM()})
    litellm.custom_provider_map.append({"provider": JOINT_PROVIDER, "custom_handler": joint})
    litellm.utils.custom_llm_setup()


def _register_joint_metadata() -> None:
    """Give the joint floor's model the metadata ours registers (zero prices, context window).

    LiteLLM prices every call of a model it knows (its cost calculation runs after each call)
    and skips that for an unknown one; without this the joint would be spared LiteLLM work that
    any registered provider pays, and the ratio would charge it to our code.
    """
    from kabot_codex.catalog import litellm_model_metadata

    entry = litellm_model_metadata().get(f"openai-codex/{MODEL_SLUG}")
    if entry:
        litellm.register_model({f"{JOINT_PROVIDER}/{MODEL_SLUG}": {**entry, "litellm_provider": JOINT_PROVIDER}})


# -- (b), (c), (d) through litellm -------------------------------------------------------------
def _collect(response: Any) -> str:
    return response.choices[0].message.content or ""


def _litellm_impl(key: str, label: str, model: str, uses_network: bool = True) -> Impl:
    # Same options for everyone; include_usage is what real streaming clients ask for.
    stream_kwargs = {"stream": True, "stream_options": {"include_usage": True}}

    def sync_call(stream: bool) -> str:
        if not stream:
            return _collect(litellm.completion(model=model, messages=MESSAGES))
        pieces = []
        for chunk in litellm.completion(model=model, messages=MESSAGES, **stream_kwargs):
            if chunk.choices and chunk.choices[0].delta.content:
                pieces.append(chunk.choices[0].delta.content)
        return "".join(pieces)

    async def async_call(stream: bool) -> str:
        if not stream:
            return _collect(await litellm.acompletion(model=model, messages=MESSAGES))
        pieces = []
        async for chunk in await litellm.acompletion(model=model, messages=MESSAGES, **stream_kwargs):
            if chunk.choices and chunk.choices[0].delta.content:
                pieces.append(chunk.choices[0].delta.content)
        return "".join(pieces)

    return Impl(key, label, sync_call, async_call, uses_network)


def _setup_builtin(codex_base: str, tokens: dict[str, Any], token_dir: Path) -> None:
    # The built-in provider reads this file on every call (inside get_llm_provider).
    token_dir.mkdir(parents=True, exist_ok=True)
    (token_dir / "auth.json").write_text(json.dumps({
        "access_token": tokens["access_token"], "refresh_token": tokens["refresh_token"],
        "id_token": tokens["id_token"], "expires_at": time.time() + 3600, "account_id": tokens["account_id"],
    }))
    os.environ["CHATGPT_TOKEN_DIR"] = str(token_dir)
    os.environ["CHATGPT_API_BASE"] = codex_base


def _setup_ours(codex_base: str, auth_base: str, tokens: dict[str, Any]) -> None:
    from kabot_codex import catalog
    from kabot_codex.auth.login import save_token_login

    os.environ["OPENAI_CODEX_API_BASE"] = codex_base
    os.environ["OPENAI_CODEX_AUTH_BASE"] = auth_base
    save_token_login(tokens)
    catalog.reload()


def build_impls(codex_base: str, auth_base: str, tokens: dict[str, Any], scratch: Path) -> dict[str, Impl]:
    """Set up all four against the emulator (KABOT_HOME must already point at a scratch dir)."""
    import kabot_codex

    kabot_codex.register()
    raw = _raw(codex_base, tokens)
    # The joint floor gets its own raw client so its pool does not share state with (a).
    joint_raw = _raw(codex_base, tokens)
    _register_floor(JointFloorLLM(joint_raw, joint_raw.stream_pieces,  # type: ignore[attr-defined]
                                  joint_raw.astream_pieces))  # type: ignore[attr-defined]
    _setup_builtin(codex_base, tokens, scratch / "chatgpt")
    _setup_ours(codex_base, auth_base, tokens)
    _RAW_REASONING.clear()
    _RAW_REASONING.update(_codex_reasoning())
    _register_joint_metadata()
    impls = [
        raw,
        _litellm_impl("joint", "(b+a) floor + raw as one call (a CustomLLM doing the raw request)",
                      f"{JOINT_PROVIDER}/{MODEL_SLUG}"),
        _litellm_impl("floor", "(b) LiteLLM floor (no-I/O CustomLLM)", f"{FLOOR_PROVIDER}/{MODEL_SLUG}",
                      uses_network=False),
        _litellm_impl("floor_wait", "floor that waits 2 ms (decomposition only)",
                      f"{FLOOR_WAIT_PROVIDER}/{MODEL_SLUG}", uses_network=False),
        _litellm_impl("builtin", "(c) built-in chatgpt/", f"chatgpt/{MODEL_SLUG}"),
        _litellm_impl("ours", "(d) ours openai-codex/", f"openai-codex/{MODEL_SLUG}"),
    ]
    return {impl.key: impl for impl in impls}
