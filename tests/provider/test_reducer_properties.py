"""Property tests for the reducer: backend data of any wrong shape gives a typed failure.

Whatever a backend, gateway or recorder puts into an event's fields, folding the events in
ends in an answer or an ``UpstreamFailure`` whose mapped LiteLLM exception has a one-line
message — never an AttributeError, TypeError, KeyError or AssertionError from inside the
provider (issue 8, item 7).
"""

from __future__ import annotations

import copy
from typing import Any

import httpx
import litellm
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kabot_codex.provider.errors import from_failure
from kabot_codex.provider.events import ResponseReducer, UpstreamFailure
from tests.provider.test_events import conversation

REQUEST = httpx.Request("POST", "http://127.0.0.1:9/responses")
EVENTS = conversation()
FAILURE_EVENTS = [
    {"type": "response.failed", "response": {"error": {"code": "server_error", "message": "boom"}}},
    {"type": "error", "code": "server_error", "message": "boom"},
    {"type": "response.incomplete", "response": {"incomplete_details": {"reason": "max_output_tokens"},
                                                 "usage": {"input_tokens": 1}}},
]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside an event (dict keys and list indexes), except ``type``."""
    out: list[tuple[Any, ...]] = []
    if isinstance(value, dict):
        for key, inner in value.items():
            if prefix == () and key == "type":
                continue
            out.append((*prefix, key))
            out.extend(_paths(inner, (*prefix, key)))
    elif isinstance(value, list):
        for i, inner in enumerate(value):
            out.append((*prefix, i))
            out.extend(_paths(inner, (*prefix, i)))
    return out


def _replace(event: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    event = copy.deepcopy(event)
    target: Any = event
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return event


def _fold(events: list[dict[str, Any]]) -> None:
    reducer = ResponseReducer()
    try:
        for event in events:
            reducer.feed(event["type"], event)
        reducer.result()
    except UpstreamFailure as failure:
        mapped = from_failure(failure, model="m", request=REQUEST).exception
        assert isinstance(mapped, litellm.exceptions.APIError | litellm.APIConnectionError
                          | litellm.BadRequestError | litellm.RateLimitError | litellm.Timeout
                          | litellm.ContextWindowExceededError | litellm.ContentPolicyViolationError
                          | litellm.PermissionDeniedError | litellm.NotFoundError
                          | litellm.ServiceUnavailableError | litellm.InternalServerError), type(mapped)
        assert "\n" not in str(mapped) and "Traceback" not in str(mapped)
        if failure.kind == "malformed":
            assert isinstance(mapped, litellm.APIConnectionError)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_wrong_typed_field_of_any_event_gives_a_typed_error(data: st.DataObject) -> None:
    events = EVENTS + [data.draw(st.sampled_from(FAILURE_EVENTS))] if data.draw(st.booleans()) else EVENTS
    index = data.draw(st.integers(0, len(events) - 1))
    paths = _paths(events[index])
    if not paths:
        return
    path = data.draw(st.sampled_from(paths))
    mutated = list(events)
    mutated[index] = _replace(events[index], path, data.draw(json_values))
    _fold(mutated)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(sorted({e["type"] for e in EVENTS + FAILURE_EVENTS})),
       st.dictionaries(st.sampled_from(["response", "item", "output_index", "item_id", "delta", "usage",
                                        "error", "code", "message", "summary_index"]), json_values, max_size=5))
def test_any_payload_for_a_known_event_gives_a_typed_error(kind: str, payload: dict[str, Any]) -> None:
    _fold([{**payload, "type": kind}, {"type": "response.completed", "response": {}}])


def test_an_integer_delta_is_the_same_error_whether_streamed_or_not() -> None:
    event = {"type": "response.output_text.delta", "output_index": 0, "item_id": "m", "delta": 7}
    reducer = ResponseReducer()
    try:
        reducer.feed(event["type"], event)
    except UpstreamFailure as failure:
        assert failure.kind == "malformed" and "'delta' is int" in failure.message
    else:
        raise AssertionError("an integer delta was accepted")
