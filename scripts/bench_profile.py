"""cProfile our provider's path so a missed target comes with its hotspots.

cProfile sees only the thread it runs in, so it profiles the sync shapes (the whole call runs
on the calling thread there) and the async stream on the bench's event loop (where everything
but LiteLLM's executor hop runs).
"""

from __future__ import annotations

import asyncio
import cProfile
import pstats
import time
from collections import defaultdict
from typing import Any

from bench_impls import Impl

__all__ = ["decompose", "decomposition_markdown", "profile_ours", "summarise"]

_GROUPS = (
    ("kabot_codex", "kabot_codex/"), ("litellm", "litellm/"), ("httpx/httpcore", "httpx/"),
    ("httpx/httpcore", "httpcore/"), ("pydantic", "pydantic"), ("json", "json/"),
    ("ssl/socket/selectors", "socket.py"), ("ssl/socket/selectors", "selectors.py"),
    ("asyncio", "asyncio/"), ("threading/concurrent", "threading.py"),
    ("threading/concurrent", "concurrent/"),
)


def _group(filename: str) -> str:
    if filename.startswith(("~", "<")):
        return "builtins (C)"
    for name, needle in _GROUPS:
        if needle in filename:
            return name
    return "other"


def _short(filename: str) -> str:
    for marker in ("site-packages/", "/work/main/", "/lib/python3"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


def summarise(profile: cProfile.Profile, calls: int, top: int = 12) -> dict[str, Any]:
    """Return self-time per package and the top kabot_codex functions, per call, in ms."""
    stats = pstats.Stats(profile)
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    by_group: dict[str, float] = defaultdict(float)
    ours: list[tuple[float, float, str]] = []
    everyone: list[tuple[float, str]] = []
    total = 0.0
    for (filename, line, func), (_cc, _nc, tottime, cumtime, _callers) in raw.items():
        total += tottime
        by_group[_group(filename)] += tottime
        where = f"{_short(filename)}:{line} {func}"
        everyone.append((tottime, where))
        if "kabot_codex/" in filename:
            ours.append((cumtime, tottime, where))
    ours.sort(reverse=True)
    everyone.sort(reverse=True)
    per = 1000.0 / calls
    return {
        "total_ms": total * per,
        "groups": sorted(((g, t * per) for g, t in by_group.items()), key=lambda x: -x[1]),
        "ours_cumulative": [(c * per, t * per, w) for c, t, w in ours[:top]],
        "top_self": [(t * per, w) for t, w in everyone[:top]],
    }


def _profile(run: Any, calls: int) -> dict[str, Any]:
    # CPU of this thread, not wall: with wall, waiting for the emulator shows up as "send"/"poll".
    profile = cProfile.Profile(time.thread_time)
    profile.enable()
    run(calls)
    profile.disable()
    return summarise(profile, calls)


def profile_ours(impl: Impl, loop: asyncio.AbstractEventLoop, calls: int = 50) -> dict[str, Any]:
    """Profile sync non-stream, sync stream and async stream; return data plus Markdown lines."""
    def sync(stream: bool) -> Any:
        def run(n: int) -> None:
            for _ in range(n):
                impl.sync_call(stream)
        return run

    def astream(n: int) -> None:
        async def go() -> None:
            for _ in range(n):
                await impl.async_call(True)
        loop.run_until_complete(go())

    shapes = {"sync non-stream": sync(False), "sync stream": sync(True), "async stream (event-loop thread)": astream}
    results = {name: _profile(run, calls) for name, run in shapes.items()}
    return {"shapes": results, "markdown": _markdown(results, calls)}


def _markdown(results: dict[str, dict[str, Any]], calls: int) -> list[str]:
    out = [f"`--profile`: cProfile over {calls} calls per shape (profiler overhead inflates every number "
           "roughly 2×; read the shares, not the absolute values). Thread CPU time (`time.thread_time`), "
           "self time per call by package, ms:", "",
           "| package | " + " | ".join(results) + " |", "|---|" + "---:|" * len(results)]
    groups = sorted({g for r in results.values() for g, _ in r["groups"]},
                    key=lambda g: -sum(dict(r["groups"]).get(g, 0.0) for r in results.values()))
    for group in groups:
        out.append(f"| {group} | " + " | ".join(f"{dict(r['groups']).get(group, 0.0):.2f}"
                                                for r in results.values()) + " |")
    out.append("| **total** | " + " | ".join(f"{r['total_ms']:.2f}" for r in results.values()) + " |")
    for name, result in results.items():
        out += ["", f"Top `kabot_codex` functions by cumulative time, {name} (ms per call: cumulative / self):",
                "", "```"]
        out += [f"{cum:7.3f} {own:7.3f}  {where}" for cum, own, where in result["ours_cumulative"]]
        out += ["```"]
    return out


def _direct_call(handler: Any, stream: bool) -> None:
    from bench_impls import MESSAGES, MODEL_SLUG
    from litellm import ModelResponse

    kwargs: dict[str, Any] = dict(
        model=MODEL_SLUG, messages=MESSAGES, api_base=None, custom_prompt_dict={}, model_response=ModelResponse(),
        print_verbose=None, encoding=None, api_key=None, logging_obj=None, optional_params={}, litellm_params={},
        headers={}, timeout=None)
    if stream:
        for _ in handler.streaming(**kwargs):
            pass
    else:
        handler.completion(**kwargs)


def decompose(impls: dict[str, Impl], calls: int = 100, rounds: int = 5) -> dict[str, Any]:
    """Split ours (sync) into: raw HTTP, our handler's own code, and LiteLLM around it.

    The handler is also called directly (no LiteLLM), so "handler − raw" is the provider's own
    per-call code and "ours − handler" is what LiteLLM spends around it (compare with floor).
    """
    import statistics

    from bench_impls import FloorLLM
    from bench_measure import quiesce

    import kabot_codex

    handler = kabot_codex.register()
    floor = FloorLLM()
    out: dict[str, Any] = {}
    for stream in (False, True):
        cases = {
            "raw": lambda s=stream: impls["raw"].sync_call(s),
            "handler": lambda s=stream: _direct_call(handler, s),
            "floor_handler": lambda s=stream: _direct_call(floor, s),
            "floor": lambda s=stream: impls["floor"].sync_call(s),
            "floor_wait": lambda s=stream: impls["floor_wait"].sync_call(s),
            "ours": lambda s=stream: impls["ours"].sync_call(s),
        }
        values: dict[str, list[float]] = {k: [] for k in cases}
        for fn in cases.values():
            for _ in range(5):
                fn()
        for _ in range(rounds):
            for key, fn in cases.items():
                start = time.process_time()
                for _ in range(calls):
                    fn()
                quiesce()  # LiteLLM's logging threads finish inside the window
                values[key].append((time.process_time() - start) / calls * 1000)
        out["stream" if stream else "nonstream"] = {k: statistics.median(v) for k, v in values.items()}
    return out


def decomposition_markdown(data: dict[str, Any]) -> list[str]:
    """Render ``decompose`` output."""
    out = ["Sync calls, client CPU per call (ms), medians of interleaved rounds. \"Handler alone\" calls our "
           "`CodexLLM` method directly, without LiteLLM; \"LiteLLM around X\" is X via `litellm.completion` "
           "minus X's handler alone. \"Waiting floor\" is the floor handler plus a 2 ms sleep (no CPU, GIL "
           "released), i.e. what LiteLLM costs around *any* handler that waits for the network. The floor's handler "
           f"alone costs {data['nonstream']['floor_handler']:.2f} / {data['stream']['floor_handler']:.2f} ms "
           "(non-stream / stream: building the 22 stream chunks, which ours builds too).", "",
           "| shape | raw | our handler alone | our code over raw | LiteLLM around floor "
           "| LiteLLM around waiting floor | LiteLLM around ours | ours via LiteLLM |",
           "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for shape, d in data.items():
        out.append(f"| sync {'stream' if shape == 'stream' else 'non-stream'} | {d['raw']:.2f} | {d['handler']:.2f} "
                   f"| {d['handler'] - d['raw']:+.2f} | {d['floor'] - d['floor_handler']:.2f} "
                   f"| {d['floor_wait'] - d['floor_handler']:.2f} | {d['ours'] - d['handler']:.2f} "
                   f"| {d['ours']:.2f} |")
    ns = data["nonstream"]
    ours_code = ns["handler"] - ns["raw"]
    waiting = (ns["floor_wait"] - ns["floor"])
    rest = (ns["ours"] - ns["handler"]) - (ns["floor_wait"] - ns["floor_handler"])
    out += ["", f"Reading (non-stream): of ours − (floor + raw) = {ns['ours'] - ns['floor'] - ns['raw']:.2f} ms, "
            f"{ours_code:.2f} ms is our handler's own code (request building, credentials, SSE decoding into the "
            f"reducer, rate-limit headers, the response object), {waiting:.2f} ms is what LiteLLM costs extra "
            "around any handler that waits (its logging thread interleaves with the wait), and "
            f"{rest:.2f} ms is LiteLLM doing more around ours than around the waiting floor.",
            "", f"Measured this way (long batches, the built-in not in the rotation) ours / (floor + raw) is "
            f"{ns['ours'] / (ns['floor'] + ns['raw']):.2f} for sync non-stream and "
            f"{data['stream']['ours'] / (data['stream']['floor'] + data['stream']['raw']):.2f} for sync stream. "
            "Where this differs from the per-call table above, the difference is the measurement pattern "
            "(there the four take turns in short batches with idle gaps), which shows how soft a 15 % "
            "margin is on a shared 2-core machine."]
    return out
