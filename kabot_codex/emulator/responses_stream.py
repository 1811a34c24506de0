"""Rendering a ``Plan`` as a Responses-API event stream (and the faults that break it).

The ChatGPT backend quirk that matters most is reproduced: ``response.completed`` carries
``output: []``, so clients must assemble the answer from ``response.output_item.done``.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from typing import Any

from kabot_codex.emulator.replies import Plan, split_text
from kabot_codex.emulator.state import Fault
from kabot_codex.emulator.tokens import b64url
from kabot_codex.emulator.wire import Stream, dumps

__all__ = ["Render", "encrypted_blob", "new_id", "write_events"]

Event = tuple[str, dict[str, Any]]
#: Faults that cut a stream short fire after this many delta events.
CUT_AFTER_DELTAS = 3

CONTEXT_MESSAGE = ("Your input exceeds the context window of this model. "
                   "Please adjust your input and try again.")
GENERIC_MESSAGE = ("An error occurred while processing your request. You can retry your request, or contact "
                   "us through our help center at help.openai.com if the error persists.")


def new_id(prefix: str) -> str:
    """Return an id like the backend's (``prefix_`` + 48 hex digits)."""
    return f"{prefix}_{secrets.token_hex(24)}"


def encrypted_blob(model: str, account_id: str) -> str:
    """Return an opaque reasoning blob that remembers which model/account produced it."""
    inner = dumps({"v": 1, "model": model, "acct": account_id, "n": secrets.token_hex(16)})
    return "gAAAAAB" + b64url(inner.encode())


def _summary_text(plan: Plan, user_hint: str) -> str:
    if plan.reasoning is not None:
        return plan.reasoning
    goal = "call a tool" if plan.tool_calls else "answer directly"
    return (f"**Understanding the request**\n\nThe user wrote {user_hint!r}. "
            f"I should {goal} and keep the reply short.")


class Render:
    """Turn one plan into Responses events for one request."""

    def __init__(self, body: dict[str, Any], plan: Plan, usage: dict[str, Any], *, account_id: str,
                 effort: str | None, backend: bool) -> None:
        self.body = body
        self.plan = plan
        self.usage = usage
        self.model = str(body.get("model"))
        self.account_id = account_id
        self.effort = effort
        self.backend = backend
        self.resp_id = new_id("resp")
        self.created_at = int(time.time())
        reasoning = body.get("reasoning") if isinstance(body.get("reasoning"), dict) else None
        self.want_summary = bool(reasoning and reasoning.get("summary") not in (None, "none"))
        include = body.get("include") or []
        self.want_blob = "reasoning.encrypted_content" in include
        ran = effort is not None and effort != "none"
        self.emit_reasoning = plan.reasoning is not None or (ran and (self.want_summary or self.want_blob))
        self.final_items: list[dict[str, Any]] = []

    # -- response object -------------------------------------------------------------------
    def response(self, status: str, **extra: Any) -> dict[str, Any]:
        """Return the ``response`` object for lifecycle events."""
        body = self.body
        reasoning: dict[str, Any] = body["reasoning"] if isinstance(body.get("reasoning"), dict) else {}
        obj: dict[str, Any] = {
            "id": self.resp_id, "object": "response", "created_at": self.created_at, "status": status,
            "background": False, "error": None, "incomplete_details": None,
            "instructions": body.get("instructions"), "max_output_tokens": body.get("max_output_tokens"),
            "max_tool_calls": None,
            "model": self.model, "output": [], "parallel_tool_calls": bool(body.get("parallel_tool_calls", True)),
            "previous_response_id": None, "prompt_cache_key": body.get("prompt_cache_key"),
            "reasoning": {"effort": self.effort, "summary": reasoning.get("summary")},
            "safety_identifier": None, "service_tier": body.get("service_tier") or "auto",
            "store": bool(body.get("store", not self.backend)), "temperature": body.get("temperature", 1.0),
            "text": body.get("text") or {"format": {"type": "text"}, "verbosity": "medium"},
            "tool_choice": body.get("tool_choice", "auto"), "tools": body.get("tools") or [],
            "top_p": body.get("top_p", 1.0),
            "truncation": "disabled", "usage": None, "user": None, "metadata": {},
        }
        obj.update(extra)
        return obj

    # -- output items ----------------------------------------------------------------------
    def _reasoning(self, index: int) -> Iterator[Event]:
        rid = new_id("rs")
        yield "response.output_item.added", {"output_index": index, "item": {
            "id": rid, "type": "reasoning", "summary": []}}
        summary: list[dict[str, str]] = []
        if self.want_summary or self.plan.reasoning is not None:
            text = _summary_text(self.plan, self._user_hint())
            base = {"item_id": rid, "output_index": index, "summary_index": 0}
            yield "response.reasoning_summary_part.added", {**base, "part": {"type": "summary_text", "text": ""}}
            for piece in split_text(text, max(2, min(8, len(text) // 12))):
                yield "response.reasoning_summary_text.delta", {**base, "delta": piece}
            yield "response.reasoning_summary_text.done", {**base, "text": text}
            yield "response.reasoning_summary_part.done", {**base, "part": {"type": "summary_text", "text": text}}
            summary = [{"type": "summary_text", "text": text}]
        item: dict[str, Any] = {"id": rid, "type": "reasoning", "summary": summary}
        if self.want_blob:
            item["encrypted_content"] = encrypted_blob(self.model, self.account_id)
        self.final_items.append(item)
        yield "response.output_item.done", {"output_index": index, "item": item}

    def _message(self, index: int, deltas: list[str], status: str = "completed") -> Iterator[Event]:
        mid = new_id("msg")
        base = {"item_id": mid, "output_index": index, "content_index": 0}
        phase = "commentary" if self.plan.tool_calls else "final_answer"
        yield "response.output_item.added", {"output_index": index, "item": {
            "id": mid, "type": "message", "status": "in_progress", "content": [], "role": "assistant",
            "phase": phase}}
        yield "response.content_part.added", {**base, "part": {
            "type": "output_text", "annotations": [], "logprobs": [], "text": ""}}
        for piece in deltas:
            yield "response.output_text.delta", {**base, "delta": piece, "logprobs": []}
        text = "".join(deltas)
        part = {"type": "output_text", "annotations": [], "logprobs": [], "text": text}
        yield "response.output_text.done", {**base, "text": text, "logprobs": []}
        yield "response.content_part.done", {**base, "part": part}
        item = {"id": mid, "type": "message", "status": status, "content": [part], "role": "assistant",
                "phase": phase}
        self.final_items.append(item)
        yield "response.output_item.done", {"output_index": index, "item": item}

    def _call(self, index: int, name: str, arguments: str, call_id: str) -> Iterator[Event]:
        fid = new_id("fc")
        yield "response.output_item.added", {"output_index": index, "item": {
            "id": fid, "type": "function_call", "status": "in_progress", "arguments": "",
            "call_id": call_id, "name": name}}
        for piece in split_text(arguments, max(1, min(4, len(arguments) // 4))):
            yield "response.function_call_arguments.delta", {"item_id": fid, "output_index": index, "delta": piece}
        yield "response.function_call_arguments.done", {
            "item_id": fid, "output_index": index, "name": name, "arguments": arguments}
        item = {"id": fid, "type": "function_call", "status": "completed", "arguments": arguments,
                "call_id": call_id, "name": name}
        self.final_items.append(item)
        yield "response.output_item.done", {"output_index": index, "item": item}

    def _user_hint(self) -> str:
        items = self.body.get("input")
        if isinstance(items, str):
            return items[:80]
        for item in reversed(items or []):
            if isinstance(item, dict) and item.get("role") == "user":
                content = item.get("content")
                if isinstance(content, str):
                    return content[:80]
                texts = [p.get("text", "") for p in content or [] if isinstance(p, dict)]
                return "".join(texts)[:80]
        return ""

    def items(self) -> Iterator[Event]:
        """Yield every output-item event, in output_index order."""
        index = 0
        if self.emit_reasoning:
            yield from self._reasoning(index)
            index += 1
        if self.plan.text is not None:
            yield from self._message(index, self.plan.deltas or [self.plan.text])
            index += 1
        for call in self.plan.tool_calls:
            yield from self._call(index, call.name, call.arguments, call.call_id)
            index += 1

    def events(self) -> Iterator[Event]:
        """Yield the full successful stream."""
        yield "response.created", {"response": self.response("in_progress")}
        yield "response.in_progress", {"response": self.response("in_progress")}
        yield from self.items()
        output = [] if self.backend else list(self.final_items)
        yield "response.completed", {"response": self.response("completed", output=output, usage=self.usage)}

    def failed_events(self, code: str, message: str) -> Iterator[Event]:
        """Yield a stream that starts and then fails with ``response.failed``."""
        yield "response.created", {"response": self.response("in_progress")}
        yield "response.in_progress", {"response": self.response("in_progress")}
        yield "response.failed", {"response": self.response(
            "failed", error={"code": code, "message": message}, usage=None)}

    def incomplete_events(self, reason: str) -> Iterator[Event]:
        """Yield some text and then ``response.incomplete`` with ``reason``."""
        yield "response.created", {"response": self.response("in_progress")}
        yield "response.in_progress", {"response": self.response("in_progress")}
        deltas = self.plan.deltas or split_text(self.plan.text or "This answer was cut short")
        kept = deltas[: max(1, len(deltas) // 2)]
        yield from self._message(0, kept, status="incomplete")
        usage = dict(self.usage)
        usage["output_tokens"] = max(1, len("".join(kept)) // 4)
        usage["output_tokens_details"] = {"reasoning_tokens": 0}
        usage["total_tokens"] = usage["input_tokens"] + usage["output_tokens"]
        output = [] if self.backend else list(self.final_items)
        yield "response.incomplete", {"response": self.response(
            "incomplete", incomplete_details={"reason": reason}, usage=usage, output=output)}


def events_for(render: Render, fault: Fault) -> Iterator[Event]:
    """The event sequence a reply takes under ``fault`` (failed, incomplete, or the normal one)."""
    if fault.kind == "context_length":
        return render.failed_events("context_length_exceeded", fault.param("message", CONTEXT_MESSAGE))
    if fault.kind == "response_failed":
        return render.failed_events(fault.param("code", "server_error"), fault.param("message", GENERIC_MESSAGE))
    if fault.kind == "incomplete":
        return render.incomplete_events(fault.param("reason", "max_output_tokens"))
    return render.events()


def write_transcript(stream: Stream, fault: Fault) -> None:
    """Play a scripted SSE body verbatim (the conformance corpus): ``frames`` are written one
    chunk each, exactly as given; ``end`` is ``finish`` (clean end) or ``abort`` (the
    connection dies after the last frame)."""
    frames = fault.param("frames", [])
    if not isinstance(frames, list) or not all(isinstance(f, str) for f in frames):
        raise ValueError("a transcript fault needs 'frames': a list of strings")
    for frame in frames:
        stream.write(frame.encode("utf-8"))
    if fault.param("end", "finish") == "abort":
        stream.abort()
    else:
        stream.finish()


def write_events(stream: Stream, render: Render, fault: Fault | None) -> None:
    """Write the plan's events to ``stream``, applying a stream fault if one was drawn."""
    fault = fault or Fault.none()
    kind = fault.kind
    if kind == "transcript":
        write_transcript(stream, fault)
        return
    events = events_for(render, fault)
    delay = float(fault.param("delay_ms", 200)) / 1000 if kind == "slow" else 0.0
    deltas = 0
    for seq, (name, payload) in enumerate(events):
        if kind == "error_event" and name not in ("response.created", "response.in_progress"):
            stream.event("error", {"type": "error", "sequence_number": seq,
                                   "code": fault.param("code", "server_error"),
                                   "message": fault.param("message", GENERIC_MESSAGE), "param": None})
            stream.finish()
            return
        if kind in ("drop_stream", "reset_stream") and (deltas >= CUT_AFTER_DELTAS or name.startswith(
                ("response.completed", "response.incomplete"))):
            if kind == "drop_stream":
                stream.finish()
            else:
                stream.abort()
            return
        if delay:
            time.sleep(delay)
        stream.event(name, {"type": name, "sequence_number": seq, **payload})
        if name.endswith(".delta"):
            deltas += 1
            if kind == "malformed_sse" and deltas == 1:
                stream.write(b'event: response.output_text.delta\ndata: {"type":"response.output_text.delta",'
                             b'"delta":"unterminated\n\n')
    stream.finish()
