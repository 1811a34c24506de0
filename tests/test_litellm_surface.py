"""The LiteLLM plugin surface kabot_codex relies on, checked against the installed release.

CI runs this on both ends of the allowed range (.ci/run). When a LiteLLM release changes one of
these, this file fails with the reason and the place in kabot_codex that depends on it, so the
upgrade breaks here and not in a user's app. Why each item matters: docs/internals/litellm-surface.md.

Everything runs in-process against a probe provider that records what LiteLLM hands it and
returns fixed replies: no network, no emulator.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Iterator
from importlib.metadata import version
from typing import Any

import httpx
import litellm
import pytest
from litellm import CustomLLM
from litellm.types.utils import Delta, ModelResponse, ModelResponseStream, StreamingChoices

import kabot_codex  # noqa: F401 - registers openai-codex, as a user's import does
from kabot_codex.provider.handler import CodexLLM

LITELLM = version("litellm")
PROBE = "kabot-surface-probe"
CHAT_METHODS = ("completion", "acompletion", "streaming", "astreaming")
USAGE = {"prompt_tokens": 20, "completion_tokens": 9, "total_tokens": 29}


def changed(what: str, relied_on_by: str, detail: str) -> str:
    return (f"LiteLLM {LITELLM} changed {what}. kabot_codex relies on it in {relied_on_by}. {detail} "
            "Adapt the provider (docs/internals/litellm-surface.md) before admitting this release "
            "(docs/usage.md, 'Which LiteLLM releases').")


class Probe(CustomLLM):
    """Records the keyword arguments of every call and replies like our provider does."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.error: Exception | None = None

    def _record(self, name: str, kwargs: dict[str, Any]) -> None:
        self.calls.append((name, kwargs))
        if self.error is not None:
            raise self.error

    @staticmethod
    def _reply(model_response: ModelResponse) -> ModelResponse:
        model_response.choices = [litellm.Choices(index=0, finish_reason="stop",
                                                  message=litellm.Message(role="assistant", content="pong"))]
        model_response.usage = litellm.Usage(**USAGE)  # type: ignore[attr-defined]
        return model_response

    @staticmethod
    def _chunks() -> Iterator[ModelResponseStream]:
        # The shape kabot_codex/provider/handler.py (_ChunkMaker) yields: content, reasoning and
        # tool-call deltas, then usage on a usage-only chunk *before* the finish-only chunk.
        def chunk(delta: Delta, finish: str | None = None) -> ModelResponseStream:
            return ModelResponseStream(id="chatcmpl-probe", model="m",
                                       choices=[StreamingChoices(index=0, delta=delta, finish_reason=finish)])

        yield chunk(Delta(reasoning_content="thinking", role="assistant"))
        yield chunk(Delta(content="po", role="assistant"))
        yield chunk(Delta(content="ng", role="assistant"))
        for index, call_id in ((0, "call_a"), (1, "call_b")):
            yield chunk(Delta(role="assistant", tool_calls=[{
                "index": index, "id": call_id, "type": "function",
                "function": {"name": f"tool_{index}", "arguments": '{"x": 1}'}}]))
        usage = chunk(Delta())
        usage.usage = litellm.Usage(**USAGE)  # type: ignore[attr-defined]
        yield usage
        yield chunk(Delta(), finish="tool_calls")

    def completion(self, *args: Any, **kwargs: Any) -> ModelResponse:
        self._record("completion", kwargs)
        return self._reply(kwargs["model_response"])

    async def acompletion(self, *args: Any, **kwargs: Any) -> ModelResponse:
        self._record("acompletion", kwargs)
        return self._reply(kwargs["model_response"])

    def streaming(self, *args: Any, **kwargs: Any) -> Iterator[ModelResponseStream]:
        self._record("streaming", kwargs)
        return self._chunks()

    async def astreaming(self, *args: Any, **kwargs: Any) -> AsyncIterator[ModelResponseStream]:
        self._record("astreaming", kwargs)
        for chunk in self._chunks():
            yield chunk


@pytest.fixture
def probe() -> Iterator[Probe]:
    handler = Probe()
    entries = litellm.custom_provider_map
    entries.append({"provider": PROBE, "custom_handler": handler})
    litellm.utils.custom_llm_setup()
    try:
        yield handler
    finally:
        entries[:] = [e for e in entries if e.get("provider") != PROBE]


def ask(stream: bool = False, **kwargs: Any) -> dict[str, Any]:
    params: dict[str, Any] = {"model": f"{PROBE}/m", "messages": [{"role": "user", "content": "ping"}],
                              "num_retries": 0}
    if stream:
        params.update(stream=True, stream_options={"include_usage": True})
    return {**params, **kwargs}


def collect(chunks: list[Any]) -> dict[str, Any]:
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    reasoning = "".join(getattr(c.choices[0].delta, "reasoning_content", None) or ""
                        for c in chunks if c.choices)
    calls = {tc.index: tc.id for c in chunks if c.choices for tc in (c.choices[0].delta.tool_calls or [])
             if tc.id}
    finish = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    usage = [c.usage for c in chunks if getattr(c, "usage", None)]
    return {"text": text, "reasoning": reasoning, "calls": calls, "finish": finish, "usage": usage}


# -- CustomLLM: the four chat methods and how LiteLLM calls them ------------------------------


@pytest.mark.parametrize("name", CHAT_METHODS)
def test_custom_llm_chat_method_parameters_are_ones_our_handler_accepts(name: str) -> None:
    base = inspect.signature(getattr(CustomLLM, name)).parameters
    ours = inspect.signature(getattr(CodexLLM, name)).parameters
    missing = [p for p in base if p not in ours]
    assert not missing, changed(f"CustomLLM.{name}'s parameters", f"CodexLLM.{name} (provider/handler.py)",
                                f"New parameters {missing}; LiteLLM passes them by keyword, so ours would "
                                "raise TypeError on every call.")
    required = [p for p, v in ours.items() if p != "self" and v.default is inspect.Parameter.empty]
    unknown = [p for p in required if p not in base]
    assert not unknown, changed(f"CustomLLM.{name}'s parameters", f"CodexLLM.{name}",
                                f"LiteLLM no longer declares {unknown}, which ours requires.")


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("mode", ["sync", "async"])
def test_litellm_calls_the_method_we_expect_with_keywords_our_handler_accepts(
        probe: Probe, mode: str, stream: bool) -> None:
    if mode == "sync":
        result = litellm.completion(**ask(stream))
        if stream:
            list(result)
    else:
        async def run() -> None:
            result = await litellm.acompletion(**ask(stream))
            if stream:
                async for _ in result:
                    pass
        asyncio.run(run())
    expected = {("sync", False): "completion", ("sync", True): "streaming",
                ("async", False): "acompletion", ("async", True): "astreaming"}[(mode, stream)]
    names = [name for name, _ in probe.calls]
    assert names == [expected], changed(
        "which CustomLLM method a call shape runs", "CodexLLM (provider/handler.py)",
        f"{mode} stream={stream} ran {names}, expected [{expected!r}].")
    accepted = inspect.signature(getattr(CodexLLM, expected)).parameters
    extra = sorted(set(probe.calls[0][1]) - set(accepted))
    assert not extra, changed(f"the keywords LiteLLM passes to CustomLLM.{expected}",
                              f"CodexLLM.{expected}", f"It now passes {extra}, which ours does not accept.")
    kwargs = probe.calls[0][1]
    for key in ("model", "messages", "optional_params", "litellm_params", "model_response", "api_key",
                "api_base", "headers", "timeout"):
        assert key in kwargs, changed(f"the keywords LiteLLM passes to CustomLLM.{expected}",
                                      "provider/call.py (prepare)", f"{key!r} is no longer passed.")
    assert kwargs["model"] == "m", changed("how the provider prefix is stripped", "provider/call.py",
                                           f"the handler got model={kwargs['model']!r}, expected 'm'.")


def test_astreaming_must_stay_an_async_generator_function() -> None:
    # An `async def` that *returns* a generator is never awaited by LiteLLM's stream wrapper
    # (litellm-surface.md); ours yields, and so must any rewrite.
    assert inspect.isasyncgenfunction(CodexLLM.astreaming)
    assert not inspect.isgeneratorfunction(CodexLLM.streaming), \
        "streaming() must open the request eagerly (a plain function returning a generator)"


# -- Registration: custom_provider_map, custom_llm_setup, register_model -----------------------


def test_custom_provider_map_and_custom_llm_setup_make_a_provider_resolvable() -> None:
    assert isinstance(litellm.custom_provider_map, list), changed(
        "litellm.custom_provider_map", "provider/register.py", "It is no longer a plain module list.")
    setup = getattr(litellm.utils, "custom_llm_setup", None)
    assert callable(setup), changed("litellm.utils.custom_llm_setup", "provider/register.py",
                                    "It is gone; Router() would reject openai-codex/* models.")
    name = f"{PROBE}-setup"
    litellm.custom_provider_map.append({"provider": name, "custom_handler": Probe()})
    try:
        setup()
        assert name in litellm.provider_list and name in litellm._custom_providers, changed(
            "custom_llm_setup()", "provider/register.py",
            "It no longer copies the provider name into provider_list/_custom_providers.")
        resolved = litellm.get_llm_provider(f"{name}/gpt-x")
        assert resolved[:2] == ("gpt-x", name), changed("provider resolution", "provider/register.py",
                                                        f"get_llm_provider gave {resolved}.")
        router = litellm.Router(model_list=[{"model_name": "g", "litellm_params": {"model": f"{name}/gpt-x"}}])
        reply = router.completion(model="g", messages=[{"role": "user", "content": "ping"}])
        assert reply.choices[0].message.content == "pong"
    finally:
        litellm.custom_provider_map[:] = [e for e in litellm.custom_provider_map if e.get("provider") != name]


def test_our_registration_is_in_place_and_resolvable() -> None:
    entries = [e for e in litellm.custom_provider_map if e.get("provider") == "openai-codex"]
    assert len(entries) == 1 and isinstance(entries[0]["custom_handler"], CodexLLM)
    assert litellm.get_llm_provider("openai-codex/gpt-5.5")[:2] == ("gpt-5.5", "openai-codex")


def test_register_model_feeds_model_info_and_capabilities() -> None:
    key = f"{PROBE}/surface-model"
    litellm.register_model({key: {
        "litellm_provider": PROBE, "mode": "chat", "max_input_tokens": 123456, "max_output_tokens": 4321,
        "max_tokens": 4321, "input_cost_per_token": 0.0, "output_cost_per_token": 0.0,
        "supports_function_calling": True, "supports_reasoning": True}})
    info = litellm.get_model_info(key)
    assert info["max_input_tokens"] == 123456 and info["mode"] == "chat", changed(
        "register_model/get_model_info", "catalog/metadata.py + provider/register.py",
        f"get_model_info returned {dict(info)}.")
    assert litellm.supports_function_calling(key) and litellm.supports_reasoning(key)
    ours = litellm.get_model_info("openai-codex/gpt-5.5")
    assert ours["mode"] == "chat" and ours["max_input_tokens"], changed(
        "register_model", "catalog/metadata.py", f"openai-codex/gpt-5.5 info is {dict(ours)}.")


def test_supported_openai_params_for_a_custom_provider(probe: Probe) -> None:
    params = litellm.get_supported_openai_params(model="m", custom_llm_provider=PROBE) or []
    needed = {"tools", "tool_choice", "max_tokens", "max_completion_tokens", "temperature", "top_p",
              "response_format", "parallel_tool_calls", "stop", "stream_options"}
    missing = sorted(needed - set(params))
    assert not missing, changed("the OpenAI params a custom provider accepts", "provider/request.py",
                                f"{missing} are no longer accepted; callers would get UnsupportedParamsError.")
    # reasoning_effort needs allowed_openai_params (docs/usage.md says so) and then reaches us.
    litellm.completion(**ask(reasoning_effort="high", allowed_openai_params=["reasoning_effort"]))
    optional = probe.calls[-1][1]["optional_params"]
    assert optional.get("reasoning_effort") == "high", changed(
        "allowed_openai_params", "provider/request.py (reasoning)",
        f"reasoning_effort did not arrive in optional_params: {optional}.")


# -- Streaming: ModelResponseStream pass-through and usage-only chunks ---------------------------


def test_stream_types_have_the_fields_we_set() -> None:
    delta = Delta(content="a", role="assistant", reasoning_content="r",
                  tool_calls=[{"index": 1, "id": "call_x", "type": "function",
                               "function": {"name": "f", "arguments": "{}"}}])
    chunk = ModelResponseStream(id="chatcmpl-x", model="m",
                                choices=[StreamingChoices(index=0, delta=delta, finish_reason=None)])
    chunk.usage = litellm.Usage(**USAGE)  # type: ignore[attr-defined]
    assert (chunk.id, chunk.model) == ("chatcmpl-x", "m")
    got = chunk.choices[0].delta
    assert (got.content, got.role, got.reasoning_content) == ("a", "assistant", "r"), changed(
        "Delta's fields", "provider/handler.py (_ChunkMaker.convert)", f"Delta kept {got}.")
    assert got.tool_calls[0].id == "call_x" and got.tool_calls[0].index == 1
    assert chunk.usage.total_tokens == 29


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_stream_wrapper_keeps_our_chunks_and_the_usage_only_chunk(probe: Probe, mode: str) -> None:
    if mode == "sync":
        chunks = list(litellm.completion(**ask(stream=True)))
    else:
        async def run() -> list[Any]:
            return [c async for c in await litellm.acompletion(**ask(stream=True))]
        chunks = asyncio.run(run())
    got = collect(chunks)
    assert got["text"] == "pong" and got["reasoning"] == "thinking", changed(
        "how CustomStreamWrapper passes ModelResponseStream chunks through", "provider/handler.py",
        f"text/reasoning came out as {got['text']!r}/{got['reasoning']!r}.")
    assert got["calls"] == {0: "call_a", 1: "call_b"}, changed(
        "tool-call deltas in ModelResponseStream", "provider/handler.py", f"tool calls: {got['calls']}.")
    assert got["finish"] == ["tool_calls"], changed("finish chunks", "provider/handler.py (closing)",
                                                   f"finish reasons: {got['finish']}.")
    usage = got["usage"][-1] if got["usage"] else None
    assert usage is not None and (usage.prompt_tokens, usage.completion_tokens) == (20, 9), changed(
        "the stream wrapper's handling of a usage-only chunk before the finish chunk",
        "provider/handler.py (_ChunkMaker.closing)",
        f"The caller saw usage {usage}; LiteLLM dropped ours and substituted its own estimate. Move "
        "usage to where this release keeps it.")
    rebuilt = litellm.stream_chunk_builder(chunks)
    assert rebuilt.usage.prompt_tokens == 20 and rebuilt.choices[0].message.content == "pong"


# -- Exceptions: the constructors provider/errors.py calls, and their pass-through ----------------

REQUEST = httpx.Request("POST", "http://127.0.0.1:9/codex/responses")


def response(status: int, **headers: str) -> httpx.Response:
    return httpx.Response(status, headers=headers, request=REQUEST)


# Each built exactly as kabot_codex/provider/errors.py (and send.py / call.py) build them.
ERRORS: dict[str, tuple[Any, int]] = {
    "RateLimitError": (lambda: litellm.RateLimitError(message="m", llm_provider=PROBE, model="m",
                                                      response=response(429, **{"retry-after": "7"}),
                                                      num_retries=0), 429),
    "PermissionDeniedError": (lambda: litellm.PermissionDeniedError(message="m", llm_provider=PROBE, model="m",
                                                                    response=response(403)), 403),
    "AuthenticationError": (lambda: litellm.AuthenticationError(message="m", llm_provider=PROBE, model="m",
                                                                response=response(401)), 401),
    "NotFoundError": (lambda: litellm.NotFoundError(message="m", model="m", llm_provider=PROBE,
                                                    response=response(404)), 404),
    "ContextWindowExceededError": (lambda: litellm.ContextWindowExceededError(
        message="m", model="m", llm_provider=PROBE, response=response(400)), 400),
    "ContentPolicyViolationError": (lambda: litellm.ContentPolicyViolationError(
        message="m", model="m", llm_provider=PROBE, response=response(400)), 400),
    "BadRequestError": (lambda: litellm.BadRequestError(message="m", model="m", llm_provider=PROBE,
                                                        response=response(400)), 400),
    "BadGatewayError": (lambda: litellm.BadGatewayError(message="m", llm_provider=PROBE, model="m",
                                                        response=response(502)), 502),
    "ServiceUnavailableError": (lambda: litellm.ServiceUnavailableError(
        message="m", llm_provider=PROBE, model="m", response=response(503, **{"retry-after": "3"})), 503),
    "Timeout": (lambda: litellm.Timeout(message="m", model="m", llm_provider=PROBE, response=response(504),
                                        exception_status_code=504), 504),
    "Timeout (transport)": (lambda: litellm.Timeout(message="m", model="m", llm_provider=PROBE), 408),
    "InternalServerError": (lambda: litellm.InternalServerError(message="m", llm_provider=PROBE, model="m",
                                                                response=response(500)), 500),
    "APIConnectionError": (lambda: litellm.APIConnectionError(message="m", llm_provider=PROBE, model="m",
                                                              request=REQUEST), 500),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_exception_constructors_we_call(name: str) -> None:
    build, status = ERRORS[name]
    try:
        exc = build()
    except TypeError as error:
        pytest.fail(changed(f"the litellm.{name.split()[0]} constructor", "provider/errors.py",
                            f"Building it as we do raised {error}."))
    assert exc.status_code == status, changed(f"litellm.{name}'s status", "provider/errors.py",
                                              f"status_code is {exc.status_code}, expected {status}.")


def test_context_and_policy_errors_stay_bad_requests() -> None:
    # Router's context_window_fallbacks / content_policy_fallbacks key on these types.
    assert issubclass(litellm.ContextWindowExceededError, litellm.BadRequestError)
    assert issubclass(litellm.ContentPolicyViolationError, litellm.BadRequestError)


@pytest.mark.parametrize("name", ["RateLimitError", "ServiceUnavailableError", "ContextWindowExceededError",
                                  "AuthenticationError"])
def test_our_exceptions_reach_the_caller_unchanged(probe: Probe, name: str) -> None:
    probe.error = ERRORS[name][0]()
    with pytest.raises(Exception) as caught:
        litellm.completion(**ask())
    assert type(caught.value) is type(probe.error), changed(
        "exception_type()'s pass-through of litellm exceptions", "provider/errors.py",
        f"A {name} raised by the handler reached the caller as {type(caught.value).__name__}.")
    if name == "RateLimitError":
        assert caught.value.num_retries == 0, changed(
            "RateLimitError.num_retries", "provider/errors.py (usage_limit_error)",
            "num_retries=0 no longer survives; the Router would retry a usage limit before falling back.")
        headers = getattr(caught.value.response, "headers", {})
        assert headers.get("retry-after") == "7", changed(
            "RateLimitError's response headers", "provider/errors.py (_synthetic)",
            f"retry-after did not survive (headers: {dict(headers)}); Router cooldowns would ignore the reset.")
