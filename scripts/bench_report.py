"""Turn ``scripts/bench.py`` results into ``docs/performance.md`` (and a console summary).

Ratios are computed inside each round (ours and the baselines measured minutes apart would
mix machine drift into the ratio) and the median of those per-round ratios is reported.
"""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass
from typing import Any

__all__ = ["analyse", "history_entry", "merge_history", "render", "summary_lines"]

#: The section that keeps one dated entry per run and LiteLLM version across re-renders.
HISTORY_HEADING = "## Results by LiteLLM version"

SHAPES = [("sync", False), ("sync", True), ("async", False), ("async", True)]
TARGET_VS_BASE = 1.15  # ours <= 1.15 x (floor + raw)
TARGET_VS_BUILTIN = {False: 0.25, True: 0.7}  # the same target restated against the built-in
#: The issue's orientation numbers for the built-in provider (wall, ms), used when it crashes.
REFERENCE_BUILTIN_MS = {False: 11.0, True: 26.0}
IMPLS = ("raw", "floor", "joint", "builtin", "ours")


def _key(impl: str, mode: str, stream: bool) -> str:
    return f"{impl}/{mode}/{'stream' if stream else 'nonstream'}"


def _shape(mode: str, stream: bool) -> str:
    return f"{mode} {'stream' if stream else 'non-stream'}"


@dataclass
class Row:
    """One shape, one metric."""

    shape: str
    stream: bool
    metric: str
    medians: dict[str, float]
    failed: dict[str, str]
    vs_base: float
    vs_builtin: float | None
    spread: dict[str, float]
    vs_joint: float | None = None

    @property
    def base_met(self) -> bool:
        return self.vs_base <= TARGET_VS_BASE

    @property
    def builtin_met(self) -> bool | None:
        return None if self.vs_builtin is None else self.vs_builtin <= TARGET_VS_BUILTIN[self.stream]


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def analyse(results: dict[str, Any]) -> list[Row]:
    """Return one row per (shape, metric) with medians and per-round ratios."""
    samples = results["samples"]
    rows = []
    for metric in ("cpu_ms", "wall_ms"):
        for mode, stream in SHAPES:
            keys = {impl: _key(impl, mode, stream) for impl in IMPLS if _key(impl, mode, stream) in samples}
            series = {impl: [s[metric] for s in samples[key]] for impl, key in keys.items()}
            failed = {impl: samples[key][0]["error"] or "failed" for impl, key in keys.items()
                      if samples[key] and any(s["errors"] for s in samples[key])}
            rounds = min(len(v) for v in series.values())
            base = [series["ours"][r] / (series["floor"][r] + series["raw"][r]) for r in range(rounds)]
            vs_builtin = None
            if "builtin" in series and "builtin" not in failed:
                vs_builtin = _median([series["ours"][r] / series["builtin"][r] for r in range(rounds)])
            spread = {}
            for impl, values in series.items():
                med = _median(values)
                spread[impl] = (max(values) - min(values)) / med if len(values) > 1 and med else 0.0
            vs_joint = None
            if "joint" in series and "joint" not in failed:
                vs_joint = _median([series["ours"][r] / series["joint"][r] for r in range(rounds)])
            rows.append(Row(_shape(mode, stream), stream, metric,
                            {impl: _median(v) for impl, v in series.items()}, failed, _median(base),
                            vs_builtin, spread, vs_joint))
    return rows


def _ms(value: float) -> str:
    return f"{value:.2f}" if value < 10 else f"{value:.1f}"


def _met(ok: bool | None) -> str:
    return "n/a" if ok is None else ("yes" if ok else "**no**")


def _table(rows: list[Row], metric: str) -> list[str]:
    out = ["| shape | (a) raw | (b) floor | (b+a) joint | (c) built-in | (d) ours | ours / (floor+raw) "
           "| met (≤ 1.15)? | ours / joint | met (≤ 1.15)? | ours / built-in | met? |",
           "|---|---:|---:|---:|---:|---:|---:|:---:|---:|:---:|---:|:---:|"]
    for row in (r for r in rows if r.metric == metric):
        m = row.medians
        builtin = _ms(m["builtin"]) if "builtin" not in row.failed else f"fails ({_ms(m['builtin'])} to crash)"
        if row.vs_builtin is None:
            # Crashed: compare with its time to the crash (same run, but it includes LiteLLM's failure
            # handling) and with the reference figure (another machine): both, labelled.
            ref = REFERENCE_BUILTIN_MS[row.stream]
            limit = TARGET_VS_BUILTIN[row.stream]
            vs_crash, vs_ref = m["ours"] / m["builtin"], m["ours"] / ref
            vs_builtin = f"{vs_crash:.2f} vs its time to crash; {vs_ref:.2f} vs the issue's {ref:g} ms"
            builtin_met = f"{_met(vs_crash <= limit)} / {_met(vs_ref <= limit)}"
        else:
            vs_builtin = f"{row.vs_builtin:.2f} (≤ {TARGET_VS_BUILTIN[row.stream]})"
            builtin_met = _met(row.builtin_met)
        joint = _ms(m["joint"]) if "joint" in m else "—"
        vs_joint = f"{row.vs_joint:.2f}" if row.vs_joint is not None else "—"
        joint_met = _met(None if row.vs_joint is None else row.vs_joint <= TARGET_VS_BASE)
        out.append(f"| {row.shape} | {_ms(m['raw'])} | {_ms(m['floor'])} | {joint} | {builtin} | {_ms(m['ours'])} "
                   f"| {row.vs_base:.2f} | {_met(row.base_met)} | {vs_joint} | {joint_met} "
                   f"| {vs_builtin} | {builtin_met} |")
    return out


def _bursts(results: dict[str, Any]) -> list[str]:
    per_impl = results["bursts"]
    if not per_impl:
        return ["(not run)"]
    n = per_impl[0]["n"]
    out = [f"{n} concurrent `acompletion(stream=True)` calls (raw: {n} concurrent httpx streams), fully "
           f"consumed, on one event loop. Each implementation runs in its own fresh client process (5 warm-up "
           f"calls, then {results['args']['bursts']} burst(s)), so pools, caches and RSS are its own. req/s and "
           "CPU: median over bursts (range in brackets).", "",
           "| implementation | req/s | client CPU per request (ms) | peak RSS (MB) | RSS growth in burst (MB) "
           "| new TCP connections, 1st burst | later bursts | failures |",
           "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for entry in per_impl:
        mine = entry["bursts"]
        if not mine:
            out.append(f"| {entry['impl']} | — | — | — | — | — | — | {entry.get('error', 'no data')[:120]} |")
            continue
        rates = [b["throughput"] for b in mine]
        cpus = [b["cpu_s"] / max(b["ok"], 1) * 1000 for b in mine]
        later = [b["new_connections"] for b in mine[1:]]
        fails = sum(b["n"] - b["ok"] for b in mine)
        error = next((b["error"] for b in mine if b["error"]), None)
        out.append(
            f"| {entry['impl']} | {_median(rates):.0f} [{min(rates):.0f}–{max(rates):.0f}] "
            f"| {_ms(_median(cpus))} [{_ms(min(cpus))}–{_ms(max(cpus))}] "
            f"| {max(b['rss_peak_mb'] for b in mine):.0f} "
            f"| {_median([b['rss_peak_mb'] - b['rss_before_mb'] for b in mine]):.0f} "
            f"| {mine[0]['new_connections']} | {', '.join(map(str, later)) or '—'} | {fails}"
            + (f" ({error[:80]})" if error else "") + " |")
    ours = next((e for e in per_impl if e["impl"] == "ours" and e.get("profile")), None)
    if ours:
        prof = ours["profile"]
        groups = dict(prof["groups"])
        share = groups.get("httpx/httpcore", 0.0) / max(prof["total_ms"], 1e-9)
        out += ["", "`--profile`: the last burst of ours under cProfile (event-loop thread CPU, ms per request, "
                "profiler-inflated). Self time by package: "
                + ", ".join(f"{g} {t:.1f}" for g, t in prof["groups"][:6]) + ". Top functions by self time:",
                "", "```"]
        out += [f"{own:7.3f}  {where}" for own, where in prof["top_self"]]
        out += ["```"]
        if share > 0.15:
            out += ["", f"httpx/httpcore takes {share * 100:.0f}% of the event-loop thread here. httpcore 1.0's "
                    "pool re-scans every request and connection on each request start and each response close "
                    "(`AsyncConnectionPool._assign_requests_to_connections`), so its cost grows with the number of "
                    "streams in flight and of connections kept alive."]
    return out


def _reuse(results: dict[str, Any]) -> list[str]:
    out = ["| cell | calls | new TCP connections |", "|---|---:|---:|"]
    for key, samples in results["samples"].items():
        if key.startswith("floor/") or (key.startswith("raw/") and not key.endswith("/stream")):
            continue  # the floor does no I/O; raw is the same request in every row, list it once per mode
        calls = sum(s["calls"] for s in samples)
        conns = sum(s["new_connections"] for s in samples)
        out.append(f"| {key} | {calls} | {conns} |")
    return out


def _targets(rows: list[Row]) -> list[str]:
    out = []
    cpu_floor = {r.shape: r.medians["floor"] for r in rows if r.metric == "cpu_ms"}
    for row in rows:
        metric = "CPU" if row.metric == "cpu_ms" else "wall"
        pct = (row.vs_base / TARGET_VS_BASE - 1) * 100
        if row.base_met:
            verdict = "met"
        elif pct >= 1:
            verdict = f"**missed by {pct:.0f}%**"
        else:
            verdict = f"**missed by {pct:.1f}%** ({row.vs_base:.3f})"  # 1.15 after rounding, still over
        line = f"- {row.shape}, {metric}: ours = {row.vs_base:.2f} × (floor + raw) — {verdict}"
        if metric == "wall" and not row.base_met and row.medians["floor"] < 0.8 * cpu_floor[row.shape]:
            line += (f" (the floor's wall, {_ms(row.medians['floor'])} ms, is below its CPU, "
                     f"{_ms(cpu_floor[row.shape])} ms: LiteLLM's sync stream wrapper runs per-chunk work on a "
                     "second thread in parallel. With real I/O, ours shares the machine's cores with that thread "
                     "and with the emulator, so on this 2-core machine its wall ratio overstates the gap; the CPU "
                     "ratio is the fairer one here)")
        out.append(line)
    return out


def summary_lines(results: dict[str, Any]) -> list[str]:
    """Short console summary."""
    lines = []
    for row in analyse(results):
        m = row.medians
        lines.append(f"{row.metric:7} {row.shape:17} raw {_ms(m['raw']):>6} floor {_ms(m['floor']):>6} "
                     f"builtin {_ms(m['builtin']) + ('!' if 'builtin' in row.failed else ''):>7} "
                     f"ours {_ms(m['ours']):>6}  ours/(floor+raw) {row.vs_base:.2f} "
                     f"{'ok' if row.base_met else 'MISS'}"
                     + (f"  ours/builtin {row.vs_builtin:.2f}" if row.vs_builtin is not None else ""))
    return lines


def history_entry(results: dict[str, Any]) -> list[str]:
    """This run's dated entry for the per-version history: the ratios, which compare across runs."""
    env = results["environment"]
    args = results["args"]
    when = dt.datetime.fromtimestamp(results["started"], dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    load = results.get("load")
    load_text = (f"load average {load['before']:.1f} before, {load['after']:.1f} after"
                 if load else "load not recorded")
    out = [f"### litellm {env['litellm']} — {when}", "",
           f"{args['rounds']} rounds × {args['calls']} calls"
           + (" (`--quick`: rough)" if args.get("quick") else "")
           + f"; Python {env['python']}, httpx {env['httpx']}, kabot-codex {env['kabot_codex']}; "
           f"{env['cpus']} CPUs, {load_text}.", "",
           "| shape | CPU ours / (floor+raw) | CPU ours / joint | CPU ours / built-in "
           "| wall ours / (floor+raw) | wall ours / joint |",
           "|---|---:|---:|---:|---:|---:|"]
    rows = analyse(results)
    wall = {r.shape: r for r in rows if r.metric == "wall_ms"}

    def ratio(value: float | None) -> str:
        return "—" if value is None else f"{value:.2f}"

    for row in (r for r in rows if r.metric == "cpu_ms"):
        builtin = ratio(row.vs_builtin) if row.vs_builtin is not None else "built-in fails"
        out.append(f"| {row.shape} | {row.vs_base:.2f} | {ratio(row.vs_joint)} | {builtin} "
                   f"| {wall[row.shape].vs_base:.2f} | {ratio(wall[row.shape].vs_joint)} |")
    rates = {entry["impl"]: _median([b["throughput"] for b in entry["bursts"]])
             for entry in results.get("bursts") or [] if entry.get("bursts")}
    if "ours" in rates and "floor" in rates:
        n = results["bursts"][0]["n"]
        out += ["", f"Concurrency ({n} streams): ours {rates['ours']:.0f} req/s = "
                f"{rates['ours'] / rates['floor']:.2f} × the floor's {rates['floor']:.0f} req/s"
                + (f", {rates['ours'] / rates['builtin']:.2f} × the built-in's" if rates.get("builtin") else "")
                + "."]
    return out


def merge_history(previous: str | None, entry: list[str]) -> list[str]:
    """The history section of ``previous`` (a former performance.md) with ``entry`` on top.

    An entry with the same heading (same version, same minute) is replaced, so re-rendering a
    run from ``--from-json`` does not duplicate it.
    """
    kept: list[list[str]] = []
    if previous and HISTORY_HEADING in previous:
        section = previous.split(HISTORY_HEADING, 1)[1]
        body = section.split("\n## ", 1)[0]
        for chunk in body.split("\n### ")[1:]:
            lines = ("### " + chunk).rstrip("\n").splitlines()
            if lines[0] != entry[0]:
                kept.append(lines)
    out = list(entry)
    for lines in kept:
        out += ["", *lines]
    return out


def render(results: dict[str, Any], previous: str | None = None) -> str:
    """Return the whole ``docs/performance.md``; ``previous`` (the page it replaces) keeps the history."""
    from bench_text import HOW_TO_RUN, METHOD, builtin_notes

    rows = analyse(results)
    env = results["environment"]
    args = results["args"]
    when = dt.datetime.fromtimestamp(results["started"], dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    misses = [r for r in rows if not r.base_met]
    noisy = max(((impl, r.shape, r.metric, s) for r in rows for impl, s in r.spread.items()),
                key=lambda t: t[3])
    parts = [
        "# Performance", "",
        "How much client CPU and wall time the `openai-codex` provider adds per call, compared with a raw "
        "HTTP client, LiteLLM's own floor and LiteLLM's built-in `chatgpt/` provider. Generated by "
        "`scripts/bench.py` — rerun it rather than editing the numbers by hand.", "",
        "## How to run", "", *HOW_TO_RUN, "",
        "## This run", "",
        f"- Date: {when}; duration {results['duration_s']:.0f} s; "
        f"{args['rounds']} rounds × {args['calls']} calls per cell (after {args['warmup']} warm-up calls)"
        + (" — **`--quick` run: numbers are rough**" if args.get("quick") else ""),
        f"- Machine: {env['cpu']}, {env['cpus']} CPUs, {env['mem_gb']:.0f} GiB RAM; {env['platform']}",
        f"- Versions: Python {env['python']}, litellm {env['litellm']}, httpx {env['httpx']}, "
        f"kabot-codex {env['kabot_codex']}",
        "- Reply: the emulator's sticky default reply, 20 text deltas (same text for all four)", "",
        HISTORY_HEADING, "",
        "One dated entry per run, newest first; CI tests the newest and the oldest LiteLLM the package "
        "allows (docs/usage.md, \"Which LiteLLM releases\"), and each is benchmarked when admitted. "
        "Ratios are taken within a run, so they compare across runs where absolute times do not. The "
        "sections after this one are the newest run's.", "",
        *merge_history(previous, history_entry(results)), "",
        "## Per-call cost", "",
        "Median of the per-round means, in milliseconds per call. Ratios are medians of per-round ratios. "
        "Raw is the same streaming request in every row (the backend only speaks SSE), measured alongside "
        "that row's cells: within a round the cells of a shape take turns in batches of "
        f"{args.get('batch', 5)} calls, so outside load hits them alike. "
        "Targets: ours ≤ 1.15 × (floor + raw); against the built-in that is ≈ 0.25× non-stream and ≈ 0.7× "
        "stream.", "",
        "**Two readings of \"floor + raw\".** The target's sum adds two costs measured apart. The *joint* "
        "column measures them as one call: a CustomLLM that makes the raw request itself (same client, same "
        "parsing) and turns each delta into a floor chunk — the least any provider doing real I/O can cost "
        "inside LiteLLM. It is consistently above the sum, because waiting on a socket inside LiteLLM's call "
        "interleaves with LiteLLM's logging thread on two cores; that part is not ours to remove, so "
        "`ours / joint` is the ratio that isolates our own overhead. Both are reported.", "",
        "### Client CPU per call (ms)", "", *_table(rows, "cpu_ms"), "",
        "### Wall per call (ms)", "", *_table(rows, "wall_ms"), "",
        "### Targets", "", *_targets(rows), "",
        ("All shapes meet the target in both CPU and wall." if not misses else
         f"{len(misses)} of {len(rows)} shape/metric combinations miss the target; see the notes below."), "",
        "## Concurrency", "", *_bursts(results), "",
        "## Connection reuse (sequential calls, after warm-up)", "",
        "New TCP connections the emulator saw while each cell ran its measured calls. 0 means every call "
        "reused a kept-alive connection.", "", *_reuse(results), "",
        "## The built-in `chatgpt/` provider", "", *builtin_notes(results), "",
        "## Noise", "",
        f"Round-to-round spread ((max − min) / median) was largest for {noisy[0]} {noisy[1]} "
        f"({'CPU' if noisy[2] == 'cpu_ms' else 'wall'}): {noisy[3] * 100:.0f}%. "
        "The machine is shared and small: the emulator (a threaded Python server) competes with the "
        "client for the same cores, which inflates wall time more than CPU, and most of all in the "
        "concurrency bursts. Compare ratios from one run, not absolute numbers across runs.", "",
    ]
    if results.get("decomposition"):
        from bench_profile import decomposition_markdown

        parts += ["## Where our time goes", "", *decomposition_markdown(results["decomposition"]), ""]
    if results.get("profile"):
        parts += ["### cProfile of our provider", "", *results["profile"]["markdown"], ""]
    parts += ["## Method", "", *METHOD, ""]
    return "\n".join(parts)
