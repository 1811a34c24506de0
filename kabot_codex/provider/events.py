"""Pure SSE decoding and reduction of Codex Responses events (codex-protocol.md §9).

``ResponseReducer`` folds the ``(event, data)`` pairs that ``provider.sse.SSEDecoder`` cuts
from the bytes into stream deltas and a final result. The final output is assembled from
``response.output_item.done`` items, never from ``response.completed.response.output``,
which the real backend sends as ``[]``.
"""

from __future__ import annotations

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


class UpstreamFailure(Exception):
    """The stream reported a failure, broke off, or was not valid SSE.

    ``kind`` is ``failed`` (response.failed), ``error`` (an error event), ``incomplete``,
    ``truncated`` (no terminal event) or ``malformed``.
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


def usage_from(raw: Any) -> dict[str, Any] | None:
    """Map Responses usage to Chat Completions usage (cached and reasoning tokens kept)."""
    if not isinstance(raw, dict):
        return None
    prompt = int(raw.get("input_tokens") or 0)
    completion = int(raw.get("output_tokens") or 0)
    usage: dict[str, Any] = {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": int(raw.get("total_tokens") or prompt + completion),
    }
    cached = (raw.get("input_tokens_details") or {}).get("cached_tokens")
    if cached is not None:
        usage["prompt_tokens_details"] = {"cached_tokens": int(cached)}
    reasoning = (raw.get("output_tokens_details") or {}).get("reasoning_tokens")
    if reasoning is not None:
        usage["completion_tokens_details"] = {"reasoning_tokens": int(reasoning)}
    return usage


_INCOMPLETE_FINISH = {"max_output_tokens": "length", "content_filter": "content_filter"}


@dataclass
class _Item:
    kind: str  # message | function_call | reasoning | other
    parts: list[str] = field(default_factory=list)
    done: dict[str, Any] | None = None
    tool_index: int = -1
    call_id: str | None = None
    name: str | None = None


class ResponseReducer:
    """Fold Codex SSE events into deltas (for streaming) and a final ``ReducedResponse``."""

    def __init__(self) -> None:
        self._items: dict[int, _Item] = {}
        self._by_id: dict[str, int] = {}
        self._tool_count = 0
        self._text_started = False
        self._reasoning_started = False
        self.response_id: str | None = None
        self.usage: dict[str, Any] | None = None
        self.finish_reason: str | None = None

    @property
    def finished(self) -> bool:
        """True once a terminal event (completed / incomplete) was seen."""
        return self.finish_reason is not None

    def feed_raw(self, event: str | None, data: bytes | str) -> list[Delta]:
        """Parse one SSE data payload and fold it in."""
        if event in _IGNORED or data == b"[DONE]" or data == "[DONE]":
            return []  # nothing in these is used, so their JSON is not even parsed
        try:
            payload = _loads(data)
        except (_JSONError, ValueError) as exc:
            raise UpstreamFailure("malformed", f"the backend sent an SSE event that is not JSON ({exc})") from exc
        if not isinstance(payload, dict):
            raise UpstreamFailure("malformed", "the backend sent an SSE event that is not a JSON object")
        return self.feed(payload.get("type") or event or "", payload)

    def _item(self, payload: dict[str, Any]) -> _Item | None:
        index = payload.get("output_index")
        if index is None:
            index = self._by_id.get(payload.get("item_id", ""))
        return self._items.get(index) if index is not None else None

    def feed(self, kind: str, payload: dict[str, Any]) -> list[Delta]:
        """Fold one event in; return the deltas it produces."""
        handler = _HANDLERS.get(kind)
        return handler(self, payload) if handler is not None else []

    def _delta(self, payload: dict[str, Any], kind: str) -> list[Delta]:
        """A text or reasoning delta: kept on its item (for incomplete replies) and streamed."""
        item = self._item(payload)
        delta = payload.get("delta") or ""
        if item is not None:
            item.parts.append(delta)
        return [Delta(kind, delta)] if delta else []

    def _arguments(self, payload: dict[str, Any]) -> list[Delta]:
        item = self._item(payload)
        delta = payload.get("delta") or ""
        if item is None or not delta:
            return []
        item.parts.append(delta)
        return [Delta("tool", delta, index=item.tool_index)]

    def _summary_part(self, payload: dict[str, Any]) -> list[Delta]:
        item = self._item(payload)
        if item is not None and item.parts:
            item.parts.append("\n\n")
            return [Delta("reasoning", "\n\n")]
        return []

    def _created(self, payload: dict[str, Any]) -> list[Delta]:
        self.response_id = (payload.get("response") or {}).get("id")
        return []

    def _completed(self, payload: dict[str, Any]) -> list[Delta]:
        response = payload.get("response") or {}
        self.usage = usage_from(response.get("usage"))
        self.finish_reason = "tool_calls" if self._tool_count else "stop"
        return []

    def _incomplete(self, payload: dict[str, Any]) -> list[Delta]:
        response = payload.get("response") or {}
        reason = (response.get("incomplete_details") or {}).get("reason") or "unknown"
        self.usage = usage_from(response.get("usage"))
        if reason not in _INCOMPLETE_FINISH:
            raise UpstreamFailure("incomplete", f"the backend returned an incomplete response ({reason})",
                                  code=reason)
        self.finish_reason = _INCOMPLETE_FINISH[reason]
        return []

    @staticmethod
    def _failed(payload: dict[str, Any]) -> list[Delta]:
        error = (payload.get("response") or {}).get("error") or {}
        message = error.get("message") or "the backend reported response.failed"
        raise UpstreamFailure("failed", message, code=error.get("code"), retry_after=retry_after_from(message))

    @staticmethod
    def _error(payload: dict[str, Any]) -> list[Delta]:
        error = payload.get("error") if isinstance(payload.get("error"), dict) else payload
        message = error.get("message") or "the backend sent an error event"
        raise UpstreamFailure("error", message, code=error.get("code") or error.get("type"),
                              retry_after=retry_after_from(message))

    def _added(self, payload: dict[str, Any]) -> list[Delta]:
        raw = payload.get("item") or {}
        kind = raw.get("type")
        index = payload.get("output_index", len(self._items))
        item = _Item(kind if kind in ("message", "function_call", "reasoning") else "other")
        self._items[index] = item
        if raw.get("id"):
            self._by_id[raw["id"]] = index
        if item.kind == "message":
            separator = self._text_started
            self._text_started = True
            return [Delta("text", "\n\n")] if separator else []
        if item.kind == "reasoning":
            separator = self._reasoning_started
            self._reasoning_started = True
            return [Delta("reasoning", "\n\n")] if separator else []
        if item.kind == "function_call":
            item.tool_index = self._tool_count
            self._tool_count += 1
            item.call_id = raw.get("call_id")
            item.name = raw.get("name")
            return [Delta("tool", "", index=item.tool_index, call_id=item.call_id, name=item.name)]
        return []

    def _done(self, payload: dict[str, Any]) -> list[Delta]:
        raw = payload.get("item") or {}
        item = self._item(payload)
        if item is None:  # done without added: treat it as both
            deltas = self._added(payload)
            item = self._item(payload)
            assert item is not None
        else:
            deltas = []
        item.done = raw
        if item.kind == "function_call":
            item.call_id = raw.get("call_id") or item.call_id
            item.name = raw.get("name") or item.name
            arguments = raw.get("arguments") or ""
            if arguments and not item.parts:  # arguments arrived only with the done event
                item.parts.append(arguments)
                deltas.append(Delta("tool", arguments, index=item.tool_index))
        elif item.kind == "message" and not item.parts:
            text = _message_text(raw)
            if text:
                item.parts.append(text)
                deltas.append(Delta("text", text))
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
            if item.kind == "message":
                text = _message_text(item.done) if item.done else "".join(item.parts)
                if text:
                    texts.append(text)
            elif item.kind == "function_call":
                arguments = (item.done or {}).get("arguments") or "".join(item.parts)
                tool_calls.append({"id": item.call_id, "type": "function",
                                   "function": {"name": item.name or "", "arguments": arguments or "{}"}})
            elif item.kind == "reasoning":
                summary = _reasoning_text(item.done) if item.done else "".join(item.parts)
                if summary:
                    reasoning.append(summary)
                if item.done and item.done.get("encrypted_content"):
                    reasoning_items.append({k: v for k, v in item.done.items() if k != "id"})
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
    "response.reasoning_text.done",
})

_HANDLERS: dict[str, Callable[[ResponseReducer, dict[str, Any]], list[Delta]]] = {
    "response.output_text.delta": lambda reducer, payload: reducer._delta(payload, "text"),
    "response.refusal.delta": lambda reducer, payload: reducer._delta(payload, "text"),
    "response.function_call_arguments.delta": ResponseReducer._arguments,
    "response.reasoning_summary_text.delta": lambda reducer, payload: reducer._delta(payload, "reasoning"),
    "response.reasoning_text.delta": lambda reducer, payload: reducer._delta(payload, "reasoning"),
    "response.reasoning_summary_part.added": ResponseReducer._summary_part,
    "response.output_item.added": ResponseReducer._added,
    "response.output_item.done": ResponseReducer._done,
    "response.created": ResponseReducer._created,
    "response.completed": ResponseReducer._completed,
    "response.done": ResponseReducer._completed,
    "response.incomplete": ResponseReducer._incomplete,
    "response.failed": lambda _reducer, payload: ResponseReducer._failed(payload),
    "error": lambda _reducer, payload: ResponseReducer._error(payload),
}


def _message_text(item: dict[str, Any] | None) -> str:
    if not item:
        return ""
    return "".join(
        part.get("text") or part.get("refusal") or ""
        for part in item.get("content") or []
        if part.get("type") in ("output_text", "refusal")
    )


def _reasoning_text(item: dict[str, Any] | None) -> str:
    if not item:
        return ""
    summary = [p.get("text", "") for p in item.get("summary") or [] if p.get("text")]
    if summary:
        return "\n\n".join(summary)
    return "".join(p.get("text", "") for p in item.get("content") or [] if p.get("text"))
