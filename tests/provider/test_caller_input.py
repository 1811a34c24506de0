"""Caller mistakes are ``BadRequestError`` (not retried, no request sent) in all four shapes."""

from __future__ import annotations

import math

import litellm
import pytest

from kabot_codex.provider.request import RequestError, build_request
from tests.provider.shapes import SHAPES, run

BAD_INPUT = {
    "non-dict content part": {"messages": [{"role": "user", "content": ["hi", 42]}]},
    "none content part": {"messages": [{"role": "user", "content": [None]}]},
    # LiteLLM 1.10x empties a non-list tool_calls itself; a call whose function is not a dict
    # still reaches the provider (the pure checks below cover the rest).
    "tool call function not a dict": {"messages": [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "", "tool_calls": [{"id": "c1", "function": "get_weather"}]}]},
    "negative timeout": {"timeout": -1},
    "nan timeout": {"timeout": math.nan},
    "infinite timeout": {"timeout": math.inf},
}


def responses_sent(emu) -> int:
    return emu.stats()["requests"].get("codex.responses", 0)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_caller_mistakes_are_bad_requests(emu, logged_in, case, shape):
    outcome = run(shape, **BAD_INPUT[case])
    assert isinstance(outcome.original, litellm.BadRequestError), repr(outcome.error)
    message = str(outcome.original)
    assert "Traceback" not in message and "object has no attribute" not in message
    assert ("timeout=" in message) == ("timeout" in case)
    assert responses_sent(emu) == 0


def test_a_string_timeout_is_read_as_seconds(emu, logged_in):
    response = litellm.completion(model="openai-codex/gpt-5.5", messages=[{"role": "user", "content": "hi"}],
                                  timeout="30")
    assert response.choices[0].finish_reason == "stop"


@pytest.mark.parametrize("tool_calls", ["get_weather", {"id": "c1"}, [7], ["x"], [{"id": "c1", "function": "f"}]])
def test_request_builder_rejects_malformed_tool_calls(tool_calls):
    messages = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "", "tool_calls": tool_calls}]
    with pytest.raises(RequestError, match="tool"):
        build_request("gpt-5.5", messages, {})


@pytest.mark.parametrize("part", [42, None, 1.5, ["nested"]])
def test_request_builder_rejects_non_dict_content_parts(part):
    with pytest.raises(RequestError, match="content part"):
        build_request("gpt-5.5", [{"role": "user", "content": ["hi", part]}], {})
