"""Concurrent bursts, each implementation in a fresh client process.

A fresh process per implementation keeps the results independent: connection pools,
LiteLLM's caches and the RSS belong to that implementation alone (measured in one shared
process, whichever burst ran first changed how the next one behaved).

    python scripts/bench_burst.py IMPL N BURSTS [--profile]   # child; prints one JSON line
"""

from __future__ import annotations

import os

os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"

import asyncio  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

__all__ = ["run_bursts"]

HERE = Path(__file__).resolve().parent
CHILD_TIMEOUT_S = 600


def run_bursts(url: str, tokens: dict[str, Any], impls: list[str], n: int, bursts: int,
               profile: bool = False) -> list[dict[str, Any]]:
    """Run ``bursts`` bursts of ``n`` streams for each implementation, one child process each."""
    out: list[dict[str, Any]] = []
    for key in impls:
        # Emulator-minted tokens only; the child inherits nothing else secret (bench.py scrubbed it).
        env = dict(os.environ, BENCH_EMU_URL=url, BENCH_TOKENS=json.dumps(tokens))
        cmd = [sys.executable, str(HERE / "bench_burst.py"), key, str(n), str(bursts)]
        if profile and key == "ours":
            cmd.append("--profile")
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=CHILD_TIMEOUT_S)
        lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
        if proc.returncode != 0 or not lines:
            out.append({"impl": key, "n": n, "error": f"child failed ({proc.returncode}): {proc.stderr[-500:]}",
                        "bursts": []})
            continue
        result = json.loads(lines[-1])
        for burst in result["bursts"]:
            print(f"burst {key}: {burst['throughput']:.0f} req/s, {burst['cpu_s'] / max(burst['ok'], 1) * 1000:.1f} "
                  f"ms CPU/request, {burst['new_connections']} new connections, peak RSS "
                  f"{burst['rss_peak_mb']:.0f} MB" + (f", {burst['error']}" if burst["error"] else ""),
                  file=sys.stderr)
        out.append(result)
    return out


def _child(key: str, n: int, bursts: int, profile: bool) -> dict[str, Any]:
    import cProfile
    import time

    sys.path.insert(0, str(HERE))
    from bench_impls import build_impls
    from bench_measure import measure_burst

    from kabot_codex.emulator import EmulatorControl

    warnings.filterwarnings("ignore", category=UserWarning, module="pydantic")
    scratch = Path(tempfile.mkdtemp(prefix="kabot-bench-burst-"))
    os.environ["KABOT_HOME"] = str(scratch / "home")
    tokens = json.loads(os.environ["BENCH_TOKENS"])
    with EmulatorControl(os.environ["BENCH_EMU_URL"]) as emu:
        import litellm

        litellm.suppress_debug_info = True
        impl = build_impls(emu.codex_base, emu.auth_base, tokens, scratch)[key]
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        for _ in range(5):  # warm-up: first-call costs and one pooled connection
            loop.run_until_complete(impl.async_call(True))
        results = []
        for i in range(bursts):
            burst = measure_burst(impl, n, loop, emu.stats)
            results.append(vars(burst) | {"throughput": burst.throughput, "index": i})
        summary = None
        if profile:
            # One extra, unreported burst under the profiler (it slows everything down). CPU of the
            # event-loop thread only, which is where the connection-pool bookkeeping runs.
            from bench_profile import summarise

            prof = cProfile.Profile(time.thread_time)
            prof.enable()
            measure_burst(impl, n, loop, emu.stats)
            prof.disable()
            summary = summarise(prof, n, top=10)
    return {"impl": key, "n": n, "bursts": results, "profile": summary}


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    print(json.dumps(_child(args[0], int(args[1]), int(args[2]), "--profile" in sys.argv)))
