"""Pure SSE decoding and reduction of Codex Responses events (codex-protocol.md §9).

``ResponseReducer`` folds the ``(event, data)`` pairs that ``provider.sse.SSEDecoder`` cuts
from the bytes into stream deltas and a final result. The final output is assembled from
``response.output_item.done`` items, never from ``response.completed.response.output``,
which the real backend sends as ``[]``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

try:  # several times faster on the ~300-byte payloads every delta carries
    from orjson import JSONDecodeError as _JSONError
    from orjson import loads as _loads
except ImportError:  # pragma: no cover - orjson is a dependency, but stay usable without it
    from json import JSONDecodeError as _JSONError
    from json import loads as _loads

__all__ = [
    "Delta",
    "ReducedResponse",
    "ResponseReducer",
    "UpstreamFailure",
    "retry_after_from",
    "usage_from",
]

log = logging.getLogger("kabot_codex")


class UpstreamFailure(Exception):
    """The stream reported a failure, broke off, or was not valid SSE.

    ``kind`` is ``failed`` (response.failed), ``error`` (an error event), ``incomplete``
    (an incomplete reason with no finish_reason), ``truncated`` (no terminal event),
    ``malformed`` (backend data of the wrong shape) or ``unsupported_tool`` (the model called a
    tool kind a chat-completions tool call cannot carry).
    """

    def __init__(self, kind: str, message: str, *, code: str | None = None,
                 retry_after: float | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.code = code
        self.message = message
        self.retry_after = retry_after


_TRY_AGAIN = re.compile(r"(?i)try again in\s*(\d+(?:\.\d+)?)\s*(ms|s|seconds?)")


def retry_after_from(message: str) -> float | None:
    match = _TRY_AGAIN.search(message or "")
    if not match:
        return None
    value = float(match.group(1))
    return value / 1000 if match.group(2).lower() == "ms" else value


@dataclass(frozen=True, slots=True)
class Delta:
    """One streamable change: ``kind`` is ``text``, ``reasoning`` or ``tool``."""

    kind: str
    text: str = ""
    index: int = 0
    call_id: str | None = None
    name: str | None = None


@dataclass
class ReducedResponse:
    """The assembled answer: one choice with text and tool calls together."""

    response_id: str | None
    text: str
    reasoning: str
    tool_calls: list[dict[str, Any]]
    finish_reason: str
    usage: dict[str, Any] | None
    reasoning_items: list[dict[str, Any]] = field(default_factory=list)


# -- typed access to backend data ---------------------------------------------------------------
# Backend data is never trusted to have the documented shape: every field the reducer uses is
# read through one of these, and a wrong type becomes a "malformed" UpstreamFailure with a
# one-line message (never an AttributeError/TypeError deep inside the provider).

def _malformed(where: str, name: str, value: Any, expected: str) -> UpstreamFailure:
    return UpstreamFailure(
        "malformed", f"the backend sent {where} whose {name!r} is {type(value).__name__}, not {expected}")


def _obj(container: dict[str, Any], name: str, where: str) -> dict[str, Any]:
    value = container.get(name)
    if value is None:
        return {}
    if type(value) is not dict:
        raise _malformed(where, name, value, "an object")
    return value


def _str(container: dict[str, Any], name: str, where: str) -> str | None:
    value = container.get(name)
    if value is None or type(value) is str:
        return value
    raise _malformed(where, name, value, "a string")


def _list(container: dict[str, Any], name: str, where: str) -> list[Any]:
    value = container.get(name)
    if value is None:
        return []
    if type(value) is not list:
        raise _malformed(where, name, value, "a list")
    return value


def _index(payload: dict[str, Any], where: str) -> int | None:
    value = payload.get("output_index")
    if value is None or type(value) is int:
        return value
    raise _malformed(where, "output_index", value, "an integer")


def _count(container: dict[str, Any], name: str) -> int | None:
    value = container.get(name)
    if value is None or type(value) is int:
        return value
    if type(value) is float and value.is_integer():
        return int(value)
    raise _malformed("usage", name, value, "an integer")


def usage_from(raw: Any) -> dict[str, Any] | None:
    """Map Responses usage to Chat Completions usage (cached and reasoning tokens kept).

    Raises ``UpstreamFailure("malformed")`` for usage of the wrong shape.
    """
    if raw is None:
        return None
    if type(raw) is not dict:
        raise _malformed("usage", "usage", raw, "an object")
    prompt = _count(raw, "input_tokens") or 0
    completion = _count(raw, "output_tokens") or 0
    usage: dict[str, Any] = {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": _count(raw, "total_tokens") or prompt + completion,
    }
    cached = _count(_obj(raw, "input_tokens_details", "usage"), "cached_tokens")
    if cached is not None:
        usage["prompt_tokens_details"] = {"cached_tokens": cached}
    reasoning = _count(_obj(raw, "output_tokens_details", "usage"), "reasoning_tokens")
    if reasoning is not None:
        usage["completion_tokens_details"] = {"reasoning_tokens": reasoning}
    return usage


_INCOMPLETE_FINISH = {"max_output_tokens": "length", "content_filter": "content_filter"}
_KINDS = frozenset({"message", "function_call", "reasoning"})
# Tools the model asks the *client* to run that a Chat Completions tool call cannot carry; the
# request refuses them up front, so seeing one means the backend (or an extra_body) went around
# that check, and dropping the call silently would lose it.
_CLIENT_TOOL_CALLS = {"custom_tool_call": "custom", "local_shell_call": "local_shell"}
# Fields Codex sends back when it replays a reasoning item (docs/internals/codex-protocol.md).
REPLAYED_REASONING_FIELDS = ("type", "summary", "encrypted_content")


def _unsupported_tool(kind: str, name: str | None) -> UpstreamFailure:
    label = f" {name!r}" if name else ""
    return UpstreamFailure(
        "unsupported_tool",
        f"the model called a {_CLIENT_TOOL_CALLS.get(kind, kind)} tool{label}, which a chat-completions tool call "
        "cannot carry; declare only function tools (see docs/usage.md#tools)", code=kind)


@dataclass
class _Item:
    kind: str  # message | function_call | reasoning | other
    parts: list[str] = field(default_factory=list)
    final: str | None = None  # text, summary or arguments from output_item.done (authoritative)
    replay: dict[str, Any] | None = None  # reasoning item to hand back for the next turn
    tool_index: int = -1
    call_id: str | None = None
    name: str | None = None


class ResponseReducer:
    """Fold Codex SSE events into deltas (for streaming) and a final ``ReducedResponse``.

    Stops at the first terminal event: once ``finished`` is True, further events are ignored,
    so the shells may return the answer at once (docs/internals/codex-protocol.md).
    """

    def __init__(self) -> None:
        self._items: dict[int, _Item] = {}
        self._by_id: dict[str, int] = {}
        self._tool_count = 0
        self._text_started = False
        self._reasoning_started = False
        self._skipped_logged = False
        self.response_id: str | None = None
        self.usage: dict[str, Any] | None = None
        self.finish_reason: str | None = None

    @property
    def finished(self) -> bool:
        """True once a terminal event (completed / incomplete) was seen."""
        return self.finish_reason is not None

    def feed_raw(self, event: str | None, data: bytes | str) -> list[Delta]:
        """Parse one SSE data payload and fold it in.

        A payload that is not a JSON object is skipped (Codex does the same): gateways inject
        keep-alive text and recorders garble lines, and one bad line must not lose the answer.
        """
        if self.finish_reason is not None or event in _IGNORED or data == b"[DONE]" or data == "[DONE]":
            return []  # nothing in these is used, so their JSON is not even parsed
        try:
            payload = _loads(data)
        except (_JSONError, ValueError):
            payload = None
        if type(payload) is not dict:
            if not self._skipped_logged:
                self._skipped_logged = True
                log.debug("openai-codex: skipped an SSE data line that is not a JSON object (event %r, %d bytes)",
                          event, len(data))
            return []
        kind = payload.get("type") or event or ""
        if type(kind) is not str:
            raise _malformed("an SSE event", "type", kind, "a string")
        return self.feed(kind, payload)

    def feed(self, kind: str, payload: dict[str, Any]) -> list[Delta]:
        """Fold one event in; return the deltas it produces."""
        handler = _HANDLERS.get(kind)
        return handler(self, payload, kind) if handler is not None else []

    # -- item lookup -------------------------------------------------------------------------
    def _lookup(self, payload: dict[str, Any], where: str) -> _Item | None:
        index = payload.get("output_index")
        if type(index) is int:  # the common case, checked inline: this runs for every delta
            return self._items.get(index)
        index = _index(payload, where)
        if index is None:
            item_id = _str(payload, "item_id", where)
            index = self._by_id.get(item_id) if item_id else None
        return self._items.get(index) if index is not None else None

    def _next_index(self) -> int:
        return max(self._items, default=-1) + 1

    def _delta(self, payload: dict[str, Any], where: str, kind: str) -> list[Delta]:
        """A text or reasoning delta: kept on its item (for incomplete replies) and streamed."""
        delta = payload.get("delta")
        if type(delta) is not str:
            delta = _str(payload, "delta", where) or ""
        item = self._lookup(payload, where)
        if item is None:
            # A delta before (or without) its output_item.added: keep it on an implicit item so
            # the text is not lost if no done event follows.
            item = self._open(payload, where, "message" if kind == "text" else "reasoning")
        item.parts.append(delta)
        return [Delta(kind, delta)] if delta else []

    def _open(self, payload: dict[str, Any], where: str, kind: str) -> _Item:
        index = _index(payload, where)
        if index is None:
            index = self._next_index()
        item = _Item(kind)
        self._items[index] = item
        item_id = _str(payload, "item_id", where)
        if item_id:
            self._by_id[item_id] = index
        return item

    def _arguments(self, payload: dict[str, Any], where: str) -> list[Delta]:
        delta = _str(payload, "delta", where) or ""
        item = self._lookup(payload, where)
        if item is None or not delta or item.kind != "function_call":
            return []  # the done event will carry the arguments
        item.parts.append(delta)
        return [Delta("tool", delta, index=item.tool_index)]

    def _custom_input(self, payload: dict[str, Any], where: str) -> list[Delta]:
        _str(payload, "delta", where)
        raise _unsupported_tool("custom_tool_call", None)

    def _summary_part(self, payload: dict[str, Any], where: str) -> list[Delta]:
        item = self._lookup(payload, where)
        if item is not None and item.parts:
            item.parts.append("\n\n")
            return [Delta("reasoning", "\n\n")]
        return []

    # -- lifecycle ---------------------------------------------------------------------------
    def _created(self, payload: dict[str, Any], where: str) -> list[Delta]:
        self.response_id = _str(_obj(payload, "response", where), "id", where)
        return []

    def _completed(self, payload: dict[str, Any], where: str) -> list[Delta]:
        response = _obj(payload, "response", where)
        self.usage = usage_from(response.get("usage"))
        self.response_id = self.response_id or _str(response, "id", where)
        self.finish_reason = "tool_calls" if self._tool_count else "stop"
        return []

    def _incomplete(self, payload: dict[str, Any], where: str) -> list[Delta]:
        response = _obj(payload, "response", where)
        reason = _str(_obj(response, "incomplete_details", where), "reason", where) or "unknown"
        self.usage = usage_from(response.get("usage"))
        if reason not in _INCOMPLETE_FINISH:
            raise UpstreamFailure("incomplete", f"the backend stopped the response early ({reason})",
                                  code=reason)
        self.finish_reason = _INCOMPLETE_FINISH[reason]
        return []

    @staticmethod
    def _failure(kind: str, error: dict[str, Any], where: str, fallback: str) -> UpstreamFailure:
        message = _str(error, "message", where) or fallback
        code = _str(error, "code", where) or _str(error, "type", where)
        return UpstreamFailure(kind, message, code=code, retry_after=retry_after_from(message))

    def _failed(self, payload: dict[str, Any], where: str) -> list[Delta]:
        error = _obj(_obj(payload, "response", where), "error", where)
        raise self._failure("failed", error, where, "the backend reported response.failed")

    def _error(self, payload: dict[str, Any], where: str) -> list[Delta]:
        # Both shapes occur: {"type":"error","code","message"} and {"type":"error","error":{...}}.
        error = _obj(payload, "error", where) if "error" in payload else payload
        raise self._failure("error", error, where, "the backend sent an error event")

    # -- output items ------------------------------------------------------------------------
    def _added(self, payload: dict[str, Any], where: str) -> list[Delta]:
        raw = _obj(payload, "item", where)
        return self._start(raw, _index(payload, where), where)[1]

    def _start(self, raw: dict[str, Any], index: int | None, where: str) -> tuple[_Item, list[Delta]]:
        kind = _str(raw, "type", where)
        if kind in _CLIENT_TOOL_CALLS:
            raise _unsupported_tool(kind, _str(raw, "name", where))
        item = _Item(kind if kind in _KINDS else "other")
        if index is None:
            index = self._next_index()
        self._items[index] = item
        item_id = _str(raw, "id", where)
        if item_id:
            self._by_id[item_id] = index
        if item.kind == "message":
            separator = self._text_started
            self._text_started = True
            return item, [Delta("text", "\n\n")] if separator else []
        if item.kind == "reasoning":
            separator = self._reasoning_started
            self._reasoning_started = True
            return item, [Delta("reasoning", "\n\n")] if separator else []
        if item.kind == "function_call":
            item.tool_index = self._tool_count
            self._tool_count += 1
            item.call_id = _str(raw, "call_id", where)
            item.name = _str(raw, "name", where)
            return item, [Delta("tool", "", index=item.tool_index, call_id=item.call_id, name=item.name)]
        return item, []

    def _done(self, payload: dict[str, Any], where: str) -> list[Delta]:
        raw = _obj(payload, "item", where)
        index = _index(payload, where)
        if index is not None:
            item = self._items.get(index)
        else:
            # Done events name their item by item.id (they carry no item_id); gateways and
            # recorders also drop output_index, so this is the lookup that must work.
            item_id = _str(raw, "id", where)
            found = self._by_id.get(item_id) if item_id else None
            item = self._items.get(found) if found is not None else None
        deltas: list[Delta] = []
        if item is None:  # done without added: treat it as both
            item, deltas = self._start(raw, index, where)
        elif _str(raw, "type", where) in _CLIENT_TOOL_CALLS:
            raise _unsupported_tool(raw["type"], _str(raw, "name", where))
        if item.kind == "function_call":
            item.call_id = _str(raw, "call_id", where) or item.call_id
            item.name = _str(raw, "name", where) or item.name
            arguments = _str(raw, "arguments", where) or ""
            item.final = arguments or None
            if arguments and not item.parts:  # arguments arrived only with the done event
                item.parts.append(arguments)
                deltas.append(Delta("tool", arguments, index=item.tool_index))
        elif item.kind == "message":
            text = _message_text(raw, where)
            item.final = text
            if text and not "".join(item.parts):
                item.parts.append(text)
                deltas.append(Delta("text", text))
        elif item.kind == "reasoning":
            item.final = _reasoning_text(raw, where)
            encrypted = _str(raw, "encrypted_content", where)
            if encrypted:
                item.replay = {k: raw[k] for k in REPLAYED_REASONING_FIELDS if k in raw}
        return deltas

    def result(self) -> ReducedResponse:
        """Return the assembled answer; raise ``UpstreamFailure`` if the stream never finished."""
        if self.finish_reason is None:
            raise UpstreamFailure("truncated", "the stream closed before response.completed")
        texts: list[str] = []
        reasoning: list[str] = []
        tool_calls: list[dict[str, Any]] = []
        reasoning_items: list[dict[str, Any]] = []
        for index in sorted(self._items):
            item = self._items[index]
            joined = item.final if item.final is not None else "".join(item.parts)
            if item.kind == "message":
                if joined:
                    texts.append(joined)
            elif item.kind == "function_call":
                tool_calls.append({"id": item.call_id, "type": "function",
                                   "function": {"name": item.name or "", "arguments": joined or "{}"}})
            elif item.kind == "reasoning":
                if joined:
                    reasoning.append(joined)
                if item.replay is not None:
                    reasoning_items.append(item.replay)
        return ReducedResponse(
            response_id=self.response_id,
            text="\n\n".join(texts),
            reasoning="\n\n".join(reasoning),
            tool_calls=tool_calls,
            finish_reason=self.finish_reason,
            usage=self.usage,
            reasoning_items=reasoning_items,
        )


# Events whose payload is never used: the final item arrives again with output_item.done.
_IGNORED = frozenset({
    "response.in_progress", "response.content_part.added", "response.content_part.done",
    "response.output_text.done", "response.refusal.done", "response.function_call_arguments.done",
    "response.reasoning_summary_text.done", "response.reasoning_summary_part.done",
    "response.reasoning_text.done", "response.custom_tool_call_input.done",
})

_Handler = Callable[[ResponseReducer, dict[str, Any], str], list[Delta]]
_HANDLERS: dict[str, _Handler] = {
    "response.output_text.delta": lambda reducer, payload, where: reducer._delta(payload, where, "text"),
    "response.refusal.delta": lambda reducer, payload, where: reducer._delta(payload, where, "text"),
    "response.function_call_arguments.delta": ResponseReducer._arguments,
    "response.custom_tool_call_input.delta": ResponseReducer._custom_input,
    "response.reasoning_summary_text.delta": lambda reducer, payload, where: reducer._delta(
        payload, where, "reasoning"),
    "response.reasoning_text.delta": lambda reducer, payload, where: reducer._delta(payload, where, "reasoning"),
    "response.reasoning_summary_part.added": ResponseReducer._summary_part,
    "response.output_item.added": ResponseReducer._added,
    "response.output_item.done": ResponseReducer._done,
    "response.created": ResponseReducer._created,
    "response.completed": ResponseReducer._completed,
    "response.done": ResponseReducer._completed,
    "response.incomplete": ResponseReducer._incomplete,
    "response.failed": ResponseReducer._failed,
    "error": ResponseReducer._error,
}


def _message_text(item: dict[str, Any], where: str) -> str:
    texts: list[str] = []
    for part in _list(item, "content", where):
        if type(part) is not dict:
            raise _malformed(where, "content part", part, "an object")
        if part.get("type") in ("output_text", "refusal"):
            texts.append(_str(part, "text", where) or _str(part, "refusal", where) or "")
    return "".join(texts)


def _reasoning_text(item: dict[str, Any], where: str) -> str:
    summary: list[str] = []
    for part in _list(item, "summary", where):
        if type(part) is not dict:
            raise _malformed(where, "summary part", part, "an object")
        text = _str(part, "text", where)
        if text:
            summary.append(text)
    if summary:
        return "\n\n".join(summary)
    content: list[str] = []
    for part in _list(item, "content", where):
        if type(part) is not dict:
            raise _malformed(where, "content part", part, "an object")
        content.append(_str(part, "text", where) or "")
    return "".join(content)
