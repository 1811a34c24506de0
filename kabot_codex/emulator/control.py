"""The ``/_emulator/*`` control API that tests, the smoke check and benchmarks drive."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from kabot_codex.emulator.app import App, Route
from kabot_codex.emulator.state import REPLY_FIELDS, Fault
from kabot_codex.emulator.tokens import Identity
from kabot_codex.emulator.wire import BadBody, Exchange

__all__ = ["ROUTES"]


def _ok(ex: Exchange, **extra: Any) -> None:
    ex.send_json(200, {"ok": True, **extra})


def _guard(fn: Route) -> Route:
    # Control-API misuse (bad kind, unknown field) is a 400 with the reason, not a 500.
    def wrapped(app: App, ex: Exchange) -> None:
        try:
            fn(app, ex)
        except KeyError as exc:
            ex.send_json(400, {"ok": False, "error": f"missing field {exc.args[0]!r} in the JSON body"})
        except (ValueError, TypeError, BadBody) as exc:
            ex.send_json(400, {"ok": False, "error": str(exc)})

    return wrapped


def _reset(app: App, ex: Exchange) -> None:
    app.reset()
    _ok(ex)


def _faults(app: App, ex: Exchange) -> None:
    data = ex.params()
    kind = data.pop("kind")
    count = int(data.pop("count", 1) or 0)
    target = data.pop("target", "codex") or "codex"
    model = data.pop("model", None)
    params = data.pop("params", None) or {}
    params.update(data)  # extra top-level keys are parameters too (`fault(kind, delay_ms=50)`)
    fault = Fault(kind=kind, count=count, target=target, model=model, params=params)
    app.state.add_fault(fault)
    _ok(ex, fault=asdict(fault))


def _reply_spec(data: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    target = data.pop("target", "codex") or "codex"
    unknown = set(data) - set(REPLY_FIELDS)
    if unknown:
        raise ValueError(f"unknown reply field(s) {sorted(unknown)}; known: {list(REPLY_FIELDS)}")
    for call in data.get("tool_calls") or []:
        if not isinstance(call, dict) or not isinstance(call.get("name"), str):
            raise ValueError("each tool call needs a string 'name' (and 'arguments' as a JSON string)")
    return target, {name: data.get(name) for name in REPLY_FIELDS}


def _replies(app: App, ex: Exchange) -> None:
    target, reply = _reply_spec(ex.params())
    app.state.push_reply(target, reply)
    _ok(ex)


def _default_reply(app: App, ex: Exchange) -> None:
    target, reply = _reply_spec(ex.params())
    empty = all(v is None for v in reply.values())
    app.state.set_default_reply(target, None if empty else reply)
    _ok(ex, cleared=empty)


def _account(app: App, ex: Exchange) -> None:
    if ex.method == "GET":
        ex.send_json(200, asdict(app.state.account_snapshot()))
        return
    ex.send_json(200, app.state.patch_account(ex.params()))


def _mint(app: App, ex: Exchange) -> None:
    data = ex.params()
    acct = app.state.account_snapshot()
    ident = Identity(
        account_id=data.get("account_id") or acct.account_id,
        email=data.get("email") or acct.email,
        plan=data.get("plan") or acct.plan,
        user_id=data.get("user_id") or acct.user_id,
    )
    ttl = data.get("ttl")
    ex.send_json(200, app.tokens.mint(ident, acct.token_ttl if ttl is None else float(ttl), ex.base_url))


def _revoke_refresh(app: App, ex: Exchange) -> None:
    _ok(ex, revoked=app.tokens.revoke_refresh())


def _expire_access(app: App, ex: Exchange) -> None:
    _ok(ex, expired=app.tokens.expire_access())


def _approve_device(app: App, ex: Exchange) -> None:
    _ok(ex, approved=app.tokens.approve_devices())


def _stats(app: App, ex: Exchange) -> None:
    ex.send_json(200, app.state.stats(app.tokens.refresh_successes, app.tokens.refresh_reuse_errors))


def _requests(app: App, ex: Exchange) -> None:
    limit = ex.query.get("limit")
    items = app.state.recorded_requests(int(limit) if limit not in (None, "") else None,
                                        ex.query.get("path_contains") or None)
    ex.send_json(200, items)


def _health(app: App, ex: Exchange) -> None:
    _ok(ex)


ROUTES: dict[tuple[str, str], Route] = {
    (method, "/_emulator/" + name): _guard(fn)
    for method, name, fn in [
        ("POST", "reset", _reset),
        ("POST", "faults", _faults),
        ("POST", "replies", _replies),
        ("POST", "default_reply", _default_reply),
        ("POST", "account", _account),
        ("GET", "account", _account),
        ("POST", "tokens/mint", _mint),
        ("POST", "tokens/revoke_refresh", _revoke_refresh),
        ("POST", "tokens/expire_access", _expire_access),
        ("POST", "device/approve", _approve_device),
        ("GET", "stats", _stats),
        ("GET", "requests", _requests),
        ("GET", "health", _health),
    ]
}
