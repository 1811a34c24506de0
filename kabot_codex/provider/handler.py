"""The ``openai-codex`` LiteLLM handler: four thin shells over one request builder and reducer.

- ``completion`` / ``acompletion`` stream under the hood (the backend only streams) and
  assemble one choice.
- ``streaming`` is a plain function that sends the request and raises before returning its
  generator: a lazy sync generator sends LiteLLM's sync Router into endless mid-stream
  fallback recursion (litellm-plugin-facts.md §0.7).
- ``astreaming`` is an async generator function whose first action is the request.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import litellm
from litellm import CustomLLM
from litellm.types.utils import Delta, ModelResponse, ModelResponseStream, StreamingChoices

from kabot_codex.provider.call import PreparedCall, prepare
from kabot_codex.provider.events import ReducedResponse, ResponseReducer, SSEDecoder, UpstreamFailure
from kabot_codex.provider.send import aopen_stream, open_stream, raise_failure

__all__ = ["CodexLLM"]


# The shell that opened a response closes it (in its own ``finally``); these only read it.
# They stop at the first terminal event, as Codex does: a connection that dies after
# response.completed must not cost the finished answer. The rest of the body (normally just
# the chunked-encoding terminator) is then drained so the keep-alive connection can be reused;
# anything that goes wrong while draining is ignored (docs/internals/codex-protocol.md).
_DRAIN_LIMIT = 64 * 1024


def _truncated(exc: httpx.TransportError) -> UpstreamFailure:
    return UpstreamFailure("truncated", f"the connection broke mid-stream ({type(exc).__name__})")


def _deltas(response: httpx.Response, reducer: ResponseReducer) -> Iterator[list[Any]]:
    """Feed the body to ``reducer``; yield its non-empty delta lists; stop at the terminal event."""
    decoder = SSEDecoder()
    chunks = response.iter_bytes()
    try:
        for chunk in chunks:
            for event, data in decoder.feed(chunk):
                deltas = reducer.feed_raw(event, data)
                if deltas:
                    yield deltas
                if reducer.finished:
                    _drain(chunks)
                    return
    except httpx.TransportError as exc:
        raise _truncated(exc) from None


def _drain(chunks: Iterator[bytes]) -> None:
    seen = 0
    try:
        for chunk in chunks:
            seen += len(chunk)
            if seen > _DRAIN_LIMIT:
                return
    except httpx.HTTPError:
        pass


async def _adeltas(response: httpx.Response, reducer: ResponseReducer) -> AsyncIterator[list[Any]]:
    """Async twin of ``_deltas``."""
    decoder = SSEDecoder()
    chunks = response.aiter_bytes()
    try:
        async for chunk in chunks:
            for event, data in decoder.feed(chunk):
                deltas = reducer.feed_raw(event, data)
                if deltas:
                    yield deltas
                if reducer.finished:
                    await _adrain(chunks)
                    return
    except httpx.TransportError as exc:
        raise _truncated(exc) from None


async def _adrain(chunks: AsyncIterator[bytes]) -> None:
    seen = 0
    try:
        async for chunk in chunks:
            seen += len(chunk)
            if seen > _DRAIN_LIMIT:
                return
    except httpx.HTTPError:
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
        for _ in _deltas(response, reducer):
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
        response = await aopen_stream(call)
        reducer = ResponseReducer()
        try:
            async for _ in _adeltas(response, reducer):
                pass
            reduced = reducer.result()
        except UpstreamFailure as failure:
            raise_failure(failure, call)
        finally:
            await response.aclose()
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
            for deltas in _deltas(response, reducer):
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
        response = await aopen_stream(call)
        maker = _ChunkMaker(call)
        reducer = ResponseReducer()
        try:
            async for deltas in _adeltas(response, reducer):
                for chunk in maker.convert(deltas):
                    yield chunk
            reducer.result()
        except UpstreamFailure as failure:
            raise_failure(failure, call)
        finally:
            await response.aclose()
        call.note_success()
        for chunk in maker.closing(reducer):
            yield chunk
