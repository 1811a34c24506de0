"""Fixed prose of ``docs/performance.md`` (kept apart so the report code stays readable)."""

from __future__ import annotations

from typing import Any

__all__ = ["HOW_TO_RUN", "METHOD", "builtin_notes"]

HOW_TO_RUN = [
    "```bash",
    "python3 -m venv .venv && .venv/bin/pip install -q -c constraints.txt -e '.[test]'",
    ".venv/bin/python scripts/bench.py --output docs/performance.md   # default run, a few minutes",
    ".venv/bin/python scripts/bench.py --quick                        # sanity run, about a minute",
    ".venv/bin/python scripts/bench.py --profile --output docs/performance.md  # plus our hotspots",
    "```",
    "",
    "Flags: `--rounds N` (default 7), `--calls N` per cell per round (default 30), `--warmup N` (5), "
    "`--batch N` (5), `--concurrency N` (256), `--bursts N` (3), `--json results.json` (raw numbers), "
    "`--from-json results.json` (re-render this page without measuring). Nothing leaves the machine: "
    "every request goes to the emulator on 127.0.0.1, with a throw-away `KABOT_HOME` and token directory.",
]

METHOD = [
    "- **What is measured.** (a) `raw`: `httpx` POST to the emulator's `/responses` and a line-by-line "
    "SSE parse collecting the text deltas — no LiteLLM. (b) `floor`: a `CustomLLM` registered as "
    "`bench-floor/` that does no I/O and returns the same reply; for streams it yields the same chunks "
    "our provider yields (20 text chunks, a usage-only chunk, a finish chunk), as "
    "`litellm.types.utils.ModelResponseStream` — the type our provider uses — so LiteLLM's stream wrapper "
    "does the same work for both. (c) `builtin`: `litellm.completion(model=\"chatgpt/gpt-5.5\")` with "
    "`CHATGPT_API_BASE` and a token file in `CHATGPT_TOKEN_DIR` minted by the emulator. (d) `ours`: "
    "`litellm.completion(model=\"openai-codex/gpt-5.5\")` with a browser-login profile in a throw-away "
    "`KABOT_HOME`.",
    "- **Same work everywhere.** One message (`Say hello.`), the emulator's sticky reply (20 text deltas), "
    "`stream_options={\"include_usage\": True}` on every stream. Every measured call's text is compared "
    "with the expected reply; a cell that gives anything else is reported as failing.",
    "- **Like with like.** For a reasoning model our provider sends Codex's defaults (`reasoning: {effort: "
    "<the model's default>, summary: \"auto\"}` and `include: [\"reasoning.encrypted_content\"]`), so the "
    "emulator streams it a reasoning summary (~8 more events) and an encrypted reasoning item. The raw and "
    "joint requests ask for exactly the same fields (read from our catalog), the joint floor turns each "
    "reasoning-summary delta into a `reasoning_content` chunk as ours does, and its model is registered "
    "with the same zero-price metadata as ours, so LiteLLM prices both calls. We chose this over making "
    "every call pass knobs that switch reasoning off: the bench then measures the call a user actually "
    "makes by default, and the baseline reads the same bytes and yields the same chunks. The floor (b) "
    "and the built-in keep their own requests; compare ours with the joint.",
    "- **Clocks.** Client CPU = `time.process_time()` delta (all threads of the bench process, so LiteLLM's "
    "thread-pool hop in `acompletion` and its logging workers count); wall = `time.perf_counter()`. After "
    "each batch the bench waits until the process is idle (< 0.5 ms CPU in a 10 ms window, at most 1 s) "
    "before reading the CPU clock, so LiteLLM's background logging work is charged to the batch that caused "
    "it and cannot slow down the next cell. The emulator is a separate process: its CPU is never counted.",
    "- **Rounds.** Warm-up first, then every round measures every shape; within a shape the four cells "
    "take turns in small batches (`--batch`, rotating order) until each has made `--calls` calls. Each "
    "number is the median of the per-round means; each ratio is the median of ratios taken within a round.",
    "- **Async.** All async calls run on one long-lived event loop, as in a real application (clients "
    "are pooled per loop, so a fresh `asyncio.run` per call would measure connection set-up instead).",
    "- **Connections.** The emulator counts accepted TCP connections (control traffic excluded); the "
    "bench reads the counter before and after each batch and each burst.",
    "- **Peak RSS.** Sampled every 5 ms with `psutil` during a burst (lifetime `ru_maxrss` without it); "
    "it includes the ~200 MB LiteLLM import, so the growth column is the interesting one.",
]


def builtin_notes(results: dict[str, Any]) -> list[str]:
    """Say what happened with the built-in provider, honestly."""
    problems = results.get("problems") or {}
    crashed = {k: v for k, v in problems.items() if k.startswith("builtin/")}
    out = []
    if crashed:
        for key, problem in sorted(crashed.items()):
            out.append(f"- `{key}`: **fails** — `{problem}`")
        out.append(
            "- This is the known `output: []` crash (litellm issues #26179, #41009): the Codex backend sends "
            "`response.completed` with an empty `output` list, the emulator reproduces that, and the "
            "built-in non-stream path builds its answer from that list. Its non-stream number is therefore "
            "the time until the crash: it has read the whole stream by then, but the figure also includes "
            "LiteLLM's failure handling, so it is for orientation only. The ours/built-in column shows two "
            "comparisons for non-stream: against that time to the crash (same run), and against the issue's "
            "reference figure (≈ 11 ms, measured on another machine whose raw baseline was ≈ 1.05 ms — compare "
            "with the raw column here before reading much into it).")
    else:
        out.append(f"- The built-in provider answered every shape with litellm {results['environment']['litellm']}. "
                   "Where an entry under \"Results by LiteLLM version\" says \"built-in fails\", that release's "
                   "non-stream path crashed on the backend's empty `output` list (litellm issues #26179, #41009).")
    others = {k: v for k, v in problems.items() if not k.startswith("builtin/")}
    for key, problem in sorted(others.items()):
        out.append(f"- **Unexpected:** `{key}` did not give the expected reply: `{problem}`")
    out.append("- The built-in streams work. It prepends a ~7.6 KB Codex system prompt to every request "
               "(7,572 characters with litellm 1.103.7) and re-reads its token file several times per call "
               "(8 opens per streamed call, counted with 1.103.7); both are part of its measured cost.")
    return out
