#!/usr/bin/env python
"""Client CPU and wall per call: raw httpx, LiteLLM's floor, the built-in ``chatgpt/``, and ours.

Everything runs against the Codex emulator in a separate process (so its CPU is not counted),
with one sticky reply of 20 text deltas. Each round measures every cell once, in a rotating
order; the report uses per-round medians and ratios taken within a round, because absolute
numbers drift with the machine. See docs/performance.md.

    .venv/bin/python scripts/bench.py                       # default run (a few minutes)
    .venv/bin/python scripts/bench.py --quick               # sanity run (~1 min)
    .venv/bin/python scripts/bench.py --output docs/performance.md --profile
"""

from __future__ import annotations

import os

# Before anything imports litellm: otherwise its import fetches the cost map over the network.
os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"

import argparse  # noqa: E402
import asyncio  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))

from kabot_codex.config import CREDENTIAL_ENV  # noqa: E402

#: Never let a developer's real login or endpoints into the bench.
SCRUBBED_ENV = (*CREDENTIAL_ENV, "CHATGPT_TOKEN_DIR", "CHATGPT_API_BASE", "CHATGPT_AUTH_FILE")

SHAPES = [("sync", False), ("sync", True), ("async", False), ("async", True)]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="rounds; each measures every cell once (default 7)")
    parser.add_argument("--calls", type=int, default=30, help="sequential calls per cell per round (default 30)")
    parser.add_argument("--batch", type=int, default=5,
                        help="calls per turn when the cells of a shape take turns (default 5)")
    parser.add_argument("--warmup", type=int, default=5, help="warm-up calls per cell (default 5)")
    parser.add_argument("--concurrency", type=int, default=256, help="concurrent streams per burst (default 256)")
    parser.add_argument("--bursts", type=int, default=3, help="bursts per implementation (default 3)")
    parser.add_argument("--quick", action="store_true", help="fast sanity run: 2 rounds x 5 calls, 1 burst of 64")
    parser.add_argument("--output", type=Path, help="write the Markdown report here (e.g. docs/performance.md)")
    parser.add_argument("--json", type=Path, help="also write the raw results as JSON here")
    parser.add_argument("--profile", action="store_true", help="cProfile our provider and add the hotspots")
    parser.add_argument("--from-json", type=Path, metavar="PATH",
                        help="do not measure: re-render the report from a previous --json file")
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.calls, args.warmup, args.bursts = 2, 5, 2, 1
        args.concurrency = min(args.concurrency, 64)
    return args


def cells(impls: dict[str, Any]) -> list[Any]:
    from bench_measure import Cell

    # Raw is measured alongside every shape (a raw client streams either way), so each ratio
    # compares cells that ran interleaved, seconds apart.
    out = [Cell(key, mode, stream) for mode, stream in SHAPES for key in ("raw", "floor", "joint", "builtin", "ours")]
    return [c for c in out if c.impl in impls]


def verify(impls: dict[str, Any], loop: asyncio.AbstractEventLoop, expected: str) -> dict[str, str]:
    """Call every cell once; return ``{cell: problem}`` for the ones that do not give the reply."""
    problems: dict[str, str] = {}
    for cell in cells(impls):
        impl = impls[cell.impl]
        try:
            if cell.mode == "sync":
                text = impl.sync_call(cell.stream)
            else:
                text = loop.run_until_complete(impl.async_call(cell.stream))
            if text != expected:
                problems[cell.key] = f"different reply: {text[:80]!r}"
        except Exception as exc:  # noqa: BLE001 - recorded and reported, e.g. the output: [] crash
            problems[cell.key] = f"{type(exc).__name__}: {str(exc).strip()[:200]}"
    return problems


def run(args: argparse.Namespace) -> dict[str, Any]:
    # The built-in provider's stream makes pydantic warn about its usage type on every call.
    warnings.filterwarnings("ignore", category=UserWarning, module="pydantic")
    from bench_impls import BENCH_TEXT, CHUNKS, build_impls
    from bench_measure import measure_cell, measure_group

    from kabot_codex.emulator import run_emulator_process

    scratch = Path(tempfile.mkdtemp(prefix="kabot-bench-"))
    for name in SCRUBBED_ENV:
        os.environ.pop(name, None)
    os.environ["KABOT_HOME"] = str(scratch / "home")
    started = time.time()
    load_before = os.getloadavg()
    with run_emulator_process() as emu:
        emu.set_default_reply(text=BENCH_TEXT, chunks=CHUNKS)
        tokens = emu.mint_tokens(ttl=6 * 3600)
        import litellm

        litellm.suppress_debug_info = True  # its "Give Feedback" banner on every built-in crash
        impls = build_impls(emu.codex_base, emu.auth_base, tokens, scratch)
        # One long-lived loop, like a real async app: per-loop clients keep their connections.
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        problems = verify(impls, loop, BENCH_TEXT)
        for key, problem in problems.items():
            print(f"  note: {key}: {problem}", file=sys.stderr)
        all_cells = cells(impls)
        expected = {c.key: (None if c.key in problems else BENCH_TEXT) for c in all_cells}
        print(f"warm-up: {args.warmup} calls per cell", file=sys.stderr)
        for cell in all_cells:
            measure_cell(impls[cell.impl], cell, args.warmup, loop, emu.stats)
        samples: dict[str, list[dict[str, Any]]] = {c.key: [] for c in all_cells}
        groups = [[c for c in all_cells if (c.mode, c.stream) == shape] for shape in SHAPES]
        for rnd in range(args.rounds):
            for group in groups[rnd % len(groups):] + groups[:rnd % len(groups)]:
                measured = measure_group(impls, group, args.calls, args.batch, loop, emu.stats, expected)
                for key, sample in measured.items():
                    samples[key].append(vars(sample))
            print(f"round {rnd + 1}/{args.rounds} done ({time.time() - started:.0f}s)", file=sys.stderr)
        profile = decomposition = None
        if args.profile:
            from bench_profile import decompose, profile_ours

            print("profiling our provider...", file=sys.stderr)
            profile = profile_ours(impls["ours"], loop, calls=max(args.calls, 50))
            decomposition = decompose(impls, calls=max(args.calls, 50), rounds=min(args.rounds, 5))
        loop.close()
        from bench_burst import run_bursts

        bursts = run_bursts(emu.url, tokens, ["raw", "floor", "builtin", "ours"], args.concurrency, args.bursts,
                            profile=args.profile)
        emulator_stats = emu.stats()
    return {
        "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "started": started, "duration_s": time.time() - started, "problems": problems,
        "samples": samples, "bursts": bursts, "profile": profile, "decomposition": decomposition,
        "environment": environment(),
        # The shared 2-core machine's 1-minute load average before and after: other work on it
        # inflates wall time more than CPU (docs/performance.md, "Noise").
        "load": {"before": load_before[0], "after": os.getloadavg()[0]},
        "emulator_requests": emulator_stats.get("requests", {}),
    }


def environment() -> dict[str, Any]:
    import platform

    import httpx

    import kabot_codex

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        import psutil

        mem_gb = psutil.virtual_memory().total / 2**30
    except ImportError:
        mem_gb = float("nan")
    return {
        "python": platform.python_version(), "platform": platform.platform(), "cpu": cpu,
        "cpus": os.cpu_count(), "mem_gb": mem_gb, "litellm": _dist_version("litellm"),
        "httpx": httpx.__version__, "kabot_codex": kabot_codex.__version__,
    }


def _dist_version(name: str) -> str:
    from importlib.metadata import version

    return version(name)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    results = json.loads(args.from_json.read_text()) if args.from_json else run(args)
    from bench_report import render, summary_lines

    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=str))
    previous = args.output.read_text() if args.output and args.output.exists() else None
    report = render(results, previous=previous)
    if args.output:
        args.output.write_text(report)
        print(f"wrote {args.output}", file=sys.stderr)
    for line in summary_lines(results):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
