"""The ``openai-codex`` LiteLLM handler: four thin shells over one request builder and reducer.

- ``completion`` / ``acompletion`` stream under the hood (the backend only streams) and
  assemble one choice.
- ``streaming`` is a plain function that sends the request and raises before returning its
  generator: a lazy sync generator sends LiteLLM's sync Router into endless mid-stream
  fallback recursion (litellm-plugin-facts.md §0.7).
- ``astreaming`` is an async generator function whose first action is the request.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import litellm
from litellm import CustomLLM
from litellm.types.utils import Delta, ModelResponse, ModelResponseStream, StreamingChoices

from kabot_codex.provider import watchdog
from kabot_codex.provider.call import PreparedCall, prepare
from kabot_codex.provider.deadline import AsyncDeadline
from kabot_codex.provider.errors import describe_transport
from kabot_codex.provider.events import ReducedResponse, ResponseReducer, UpstreamFailure
from kabot_codex.provider.send import aopen_stream, open_stream, raise_failure
from kabot_codex.provider.sse import EventTooLarge, SSEDecoder

__all__ = ["CodexLLM"]


# The shell that opened a response closes it (in its own ``finally``); these only read it.
# They feed the reducer and stop at the first terminal event, as Codex does: a connection that
# dies after response.completed must not cost the finished answer. The rest of the body
# (normally just the chunked-encoding terminator) is then drained so the keep-alive connection
# can be reused; anything that goes wrong while draining is ignored
# (docs/internals/codex-protocol.md). ``timeout=`` bounds the whole call, every byte included
# (docs/internals/network.md).
_DRAIN_LIMIT = 64 * 1024

# Events this large are cut and parsed in a worker thread in the async shells, so a huge
# (still under the cap) event cannot stall every other task on the loop.
_OFF_LOOP_BYTES = 1024 * 1024

_STILL_STREAMING = "the answer was still streaming"


class _Expired(Exception):
    """The call's deadline passed between two chunks."""


def _broken(exc: Exception, response: httpx.Response, call: PreparedCall) -> UpstreamFailure:
    if isinstance(exc, EventTooLarge):
        return UpstreamFailure("too_large", f"{exc} (the limit guards memory; a real Codex event is far smaller)")
    if call.remaining() <= 0:
        return UpstreamFailure("timeout", _STILL_STREAMING)
    if isinstance(exc, httpx.DecodingError):
        encoding = response.headers.get("content-encoding") or "compressed"
        return UpstreamFailure("malformed", f"the body could not be decompressed (it is marked {encoding!r} but "
                                            "the data is corrupt); a proxy may be mangling the traffic")
    return UpstreamFailure("truncated", f"{describe_transport(exc)} mid-stream")


def _deltas(response: httpx.Response, call: PreparedCall, reducer: ResponseReducer) -> Iterator[list[Any]]:
    """Feed the body to ``reducer``; yield its non-empty delta lists; stop at the terminal event."""
    decoder = SSEDecoder()
    deadline = call.deadline
    chunks = response.iter_bytes()
    guard = watchdog.arm(response, deadline)  # a read blocked past the deadline is ended, not waited out
    try:
        for chunk in chunks:
            # Socket timeouts restart with every byte; this makes timeout= bound the whole call.
            if time.monotonic() > deadline:
                raise _Expired
            for event, data in decoder.feed(chunk):
                deltas = reducer.feed_raw(event, data)
                if deltas:
                    yield deltas
                if reducer.finished:
                    _drain(chunks)
                    return
        if time.monotonic() > deadline:
            raise _Expired  # a body cut off by the watchdog can also end like a clean EOF
    except (_Expired, httpx.TimeoutException):
        raise UpstreamFailure("timeout", _STILL_STREAMING) from None
    except (httpx.TransportError, httpx.DecodingError, EventTooLarge) as exc:
        raise _broken(exc, response, call) from None
    finally:
        watchdog.disarm(guard)


def _drain(chunks: Iterator[bytes]) -> None:
    seen = 0
    try:
        for chunk in chunks:
            seen += len(chunk)
            if seen > _DRAIN_LIMIT:
                return
    except httpx.HTTPError:
        pass


async def _adeltas(response: httpx.Response, call: PreparedCall, reducer: ResponseReducer,
                   watch: AsyncDeadline) -> AsyncIterator[list[Any]]:
    """Async twin of ``_deltas``; multi-megabyte events are cut and parsed off the event loop."""
    decoder = SSEDecoder()
    chunks = response.aiter_bytes()
    try:
        while True:
            try:
                chunk = await watch.wait(anext(chunks))
            except StopAsyncIteration:
                break
            if decoder.buffered < _OFF_LOOP_BYTES:
                items = decoder.feed(chunk)
            else:  # finishing a multi-megabyte event copies it: not on the event loop
                items = await asyncio.to_thread(decoder.feed, chunk)
            for event, data in items:
                deltas = (reducer.feed_raw(event, data) if len(data) < _OFF_LOOP_BYTES
                          else await asyncio.to_thread(reducer.feed_raw, event, data))
                if deltas:
                    yield deltas
                if reducer.finished:
                    await _adrain(chunks, watch)
                    return
    except (TimeoutError, httpx.TimeoutException):
        raise UpstreamFailure("timeout", _STILL_STREAMING) from None
    except (httpx.TransportError, httpx.DecodingError, EventTooLarge) as exc:
        raise _broken(exc, response, call) from None


async def _adrain(chunks: AsyncIterator[bytes], watch: AsyncDeadline) -> None:
    seen = 0
    try:
        while seen <= _DRAIN_LIMIT:
            seen += len(await watch.wait(anext(chunks)))
    except (StopAsyncIteration, TimeoutError, httpx.HTTPError):
        pass


def _fill(model_response: ModelResponse, reduced: ReducedResponse, call: PreparedCall) -> ModelResponse:
    message: dict[str, Any] = {"role": "assistant", "content": reduced.text or None}
    if reduced.tool_calls:
        message["tool_calls"] = reduced.tool_calls
    if reduced.reasoning:
        message["reasoning_content"] = reduced.reasoning
    if reduced.reasoning_items:
        # Lets the next turn replay the encrypted reasoning (same model only; see request.py).
        message["provider_specific_fields"] = {
            "codex_reasoning": {"model": call.model, "items": reduced.reasoning_items}}
    model_response.choices = [litellm.Choices(index=0, finish_reason=reduced.finish_reason,
                                              message=litellm.Message(**message))]
    if reduced.usage:
        model_response.usage = litellm.Usage(**reduced.usage)  # type: ignore[attr-defined]
    model_response.model = call.model
    call.attach_metadata(model_response)
    return model_response


def _reduce(response: httpx.Response, call: PreparedCall) -> ReducedResponse:
    reducer = ResponseReducer()
    try:
        for _ in _deltas(response, call, reducer):
            pass
        return reducer.result()
    except UpstreamFailure as failure:
        raise_failure(failure, call)


class _ChunkMaker:
    """Turns reducer deltas into ``ModelResponseStream`` chunks (the only type that carries
    ``reasoning_content``, several tool calls and their ids through LiteLLM's stream wrapper)."""

    def __init__(self, call: PreparedCall) -> None:
        self.call = call
        self.id = f"chatcmpl-{call.session_id[:8]}"
        self.first = True

    def chunk(self, delta: Delta, finish_reason: str | None = None, usage: Any = None) -> ModelResponseStream:
        chunk = ModelResponseStream(id=self.id, model=self.call.model,
                                    choices=[StreamingChoices(index=0, delta=delta, finish_reason=finish_reason)])
        if usage is not None:
            chunk.usage = usage  # type: ignore[attr-defined]
        if self.first:
            self.first = False
            self.call.attach_stream_metadata(chunk)
        return chunk

    def convert(self, deltas: list[Any]) -> Iterator[ModelResponseStream]:
        for d in deltas:
            if d.kind == "text":
                yield self.chunk(Delta(content=d.text, role="assistant"))
            elif d.kind == "reasoning":
                yield self.chunk(Delta(reasoning_content=d.text, role="assistant"))
            else:
                call: dict[str, Any] = {"index": d.index, "type": "function",
                                        "function": {"arguments": d.text}}
                if d.call_id is not None:
                    call["id"] = d.call_id
                    call["function"]["name"] = d.name or ""
                yield self.chunk(Delta(tool_calls=[call], role="assistant"))

    def closing(self, reducer: ResponseReducer) -> Iterator[ModelResponseStream]:
        if reducer.usage:
            # Usage must ride a usage-only chunk *before* the finish chunk, or LiteLLM's wrapper
            # drops it and substitutes its own token estimate (litellm-plugin-facts.md §0.5).
            yield self.chunk(Delta(), usage=litellm.Usage(**reducer.usage))
        yield self.chunk(Delta(), finish_reason=reducer.finish_reason)


class CodexLLM(CustomLLM):
    """The ``openai-codex`` provider (ChatGPT Codex backend, or OpenAI API-key mode)."""

    def completion(self, model: str, messages: list, api_base: str, custom_prompt_dict: dict,
                   model_response: ModelResponse, print_verbose: Any, encoding: Any, api_key: Any,
                   logging_obj: Any, optional_params: dict, acompletion: Any = None,
                   litellm_params: Any = None, logger_fn: Any = None, headers: dict | None = None,
                   timeout: Any = None, client: Any = None) -> ModelResponse:
        call = prepare(model, messages, optional_params, litellm_params, api_base=api_base,
                       api_key=api_key, headers=headers, timeout=timeout)
        response = open_stream(call)
        try:
            reduced = _reduce(response, call)
        finally:
            response.close()
        call.note_success()
        return _fill(model_response, reduced, call)

    async def acompletion(self, model: str, messages: list, api_base: str, custom_prompt_dict: dict,
                          model_response: ModelResponse, print_verbose: Any, encoding: Any, api_key: Any,
                          logging_obj: Any, optional_params: dict, acompletion: Any = None,
                          litellm_params: Any = None, logger_fn: Any = None, headers: dict | None = None,
                          timeout: Any = None, client: Any = None) -> ModelResponse:
        call = prepare(model, messages, optional_params, litellm_params, api_base=api_base,
                       api_key=api_key, headers=headers, timeout=timeout)
        watch = AsyncDeadline(call.deadline)
        try:
            response = await aopen_stream(call, watch)
            reducer = ResponseReducer()
            try:
                async for _ in _adeltas(response, call, reducer, watch):
                    pass
                reduced = reducer.result()
            except UpstreamFailure as failure:
                raise_failure(failure, call)
            finally:
                await response.aclose()
        finally:
            watch.close()
        call.note_success()
        return _fill(model_response, reduced, call)

    def streaming(self, model: str, messages: list, api_base: str, custom_prompt_dict: dict,
                  model_response: ModelResponse, print_verbose: Any, encoding: Any, api_key: Any,
                  logging_obj: Any, optional_params: dict, acompletion: Any = None,
                  litellm_params: Any = None, logger_fn: Any = None, headers: dict | None = None,
                  timeout: Any = None, client: Any = None) -> Iterator[ModelResponseStream]:
        call = prepare(model, messages, optional_params, litellm_params, api_base=api_base,
                       api_key=api_key, headers=headers, timeout=timeout)
        response = open_stream(call)  # eager: errors surface here, before the generator exists
        return self._stream(response, call)

    @staticmethod
    def _stream(response: httpx.Response, call: PreparedCall) -> Iterator[ModelResponseStream]:
        maker = _ChunkMaker(call)
        reducer = ResponseReducer()
        try:
            for deltas in _deltas(response, call, reducer):
                yield from maker.convert(deltas)
            reducer.result()  # raises if the stream never finished
        except UpstreamFailure as failure:
            raise_failure(failure, call)
        finally:
            response.close()
        call.note_success()
        yield from maker.closing(reducer)

    async def astreaming(self, model: str, messages: list, api_base: str, custom_prompt_dict: dict,
                         model_response: ModelResponse, print_verbose: Any, encoding: Any, api_key: Any,
                         logging_obj: Any, optional_params: dict, acompletion: Any = None,
                         litellm_params: Any = None, logger_fn: Any = None, headers: dict | None = None,
                         timeout: Any = None, client: Any = None) -> AsyncIterator[ModelResponseStream]:
        call = prepare(model, messages, optional_params, litellm_params, api_base=api_base,
                       api_key=api_key, headers=headers, timeout=timeout)
        watch = AsyncDeadline(call.deadline)
        try:
            response = await aopen_stream(call, watch)
            maker = _ChunkMaker(call)
            reducer = ResponseReducer()
            try:
                async for deltas in _adeltas(response, call, reducer, watch):
                    for chunk in maker.convert(deltas):
                        yield chunk
                reducer.result()
            except UpstreamFailure as failure:
                raise_failure(failure, call)
            finally:
                await response.aclose()
        finally:
            watch.close()
        call.note_success()
        for chunk in maker.closing(reducer):
            yield chunk
