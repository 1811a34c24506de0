"""Measuring cells (one implementation in one shape) and concurrent bursts.

CPU is ``time.process_time()`` (all threads of this process: LiteLLM's executor hop and
logging workers are part of what a caller pays); the emulator is another process, so its CPU is
not counted. Wall is ``perf_counter``.
"""

from __future__ import annotations

import asyncio
import resource
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench_impls import Impl

__all__ = ["Burst", "Cell", "Sample", "aquiesce", "measure_burst", "measure_cell", "measure_group",
           "peak_rss_sampler", "quiesce"]

#: After a batch, wait until background work (LiteLLM's success-logging threads and tasks) has
#: finished, so it is charged to the batch that caused it and cannot slow the next cell down:
#: the process counts as quiet once it burns < QUIET_CPU_S of CPU in a QUIET_STEP_S window.
SETTLE_S = 0.03
QUIET_STEP_S = 0.01
QUIET_CPU_S = 0.0005
QUIET_MAX_S = 1.0


def quiesce() -> None:
    """Sleep until this process is idle (sync callers)."""
    time.sleep(SETTLE_S)
    deadline = time.perf_counter() + QUIET_MAX_S
    last = time.process_time()
    while time.perf_counter() < deadline:
        time.sleep(QUIET_STEP_S)
        now = time.process_time()
        if now - last < QUIET_CPU_S:
            return
        last = now


async def aquiesce() -> None:
    """Like ``quiesce`` but lets the event loop run pending tasks meanwhile."""
    await asyncio.sleep(SETTLE_S)
    deadline = time.perf_counter() + QUIET_MAX_S
    last = time.process_time()
    while time.perf_counter() < deadline:
        await asyncio.sleep(QUIET_STEP_S)
        now = time.process_time()
        if now - last < QUIET_CPU_S:
            return
        last = now


@dataclass(frozen=True)
class Cell:
    """One implementation in one shape."""

    impl: str
    mode: str  # "sync" | "async"
    stream: bool

    @property
    def key(self) -> str:
        """A stable name, e.g. ``ours/async/stream``."""
        return f"{self.impl}/{self.mode}/{'stream' if self.stream else 'nonstream'}"


@dataclass
class Sample:
    """Per-call means of one batch."""

    cpu_ms: float
    wall_ms: float
    new_connections: int
    calls: int
    errors: int
    error: str | None = None


@dataclass
class Burst:
    """One burst of concurrent ``acompletion(stream=True)`` calls."""

    impl: str
    n: int
    wall_s: float
    cpu_s: float
    ok: int
    new_connections: int
    rss_before_mb: float
    rss_peak_mb: float
    error: str | None = None

    @property
    def throughput(self) -> float:
        """Completed requests per second."""
        return self.ok / self.wall_s if self.wall_s else 0.0


@dataclass
class Stats:
    """Median and spread of several samples."""

    values: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.values) if self.values else float("nan")

    @property
    def spread(self) -> float:
        """(max - min) / median: how noisy the rounds were."""
        if len(self.values) < 2 or not self.median:
            return 0.0
        return (max(self.values) - min(self.values)) / self.median


def _connections(stats: Callable[[], dict[str, Any]]) -> int:
    return int(stats()["connections"])


def measure_cell(impl: Impl, cell: Cell, calls: int, loop: asyncio.AbstractEventLoop,
                 stats: Callable[[], dict[str, Any]], expected: str | None = None) -> Sample:
    """Run ``calls`` sequential calls and return per-call CPU and wall."""
    errors = 0
    first_error: str | None = None
    before = _connections(stats)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    if cell.mode == "sync":
        for _ in range(calls):
            try:
                text = impl.sync_call(cell.stream)
                if expected is not None and text != expected:
                    raise AssertionError(f"unexpected reply {text[:60]!r}")
            except Exception as exc:  # noqa: BLE001 - a failing implementation is a result, not a crash
                errors += 1
                first_error = first_error or f"{type(exc).__name__}: {exc}"
        wall1 = time.perf_counter()
        quiesce()
    else:
        async def run() -> tuple[int, str | None, float]:
            errs, first = 0, None
            for _ in range(calls):
                try:
                    text = await impl.async_call(cell.stream)
                    if expected is not None and text != expected:
                        raise AssertionError(f"unexpected reply {text[:60]!r}")
                except Exception as exc:  # noqa: BLE001
                    errs += 1
                    first = first or f"{type(exc).__name__}: {exc}"
            end = time.perf_counter()
            await aquiesce()
            return errs, first, end

        errors, first_error, wall1 = loop.run_until_complete(run())
    cpu1 = time.process_time()
    after = _connections(stats)
    return Sample(cpu_ms=(cpu1 - cpu0) / calls * 1000, wall_ms=(wall1 - wall0) / calls * 1000,
                  new_connections=after - before, calls=calls, errors=errors, error=first_error)


class peak_rss_sampler:  # noqa: N801 - used like a function in a with statement
    """Sample this process's RSS every few ms; ``peak_mb`` after the block."""

    def __init__(self, interval: float = 0.005) -> None:
        self.interval = interval
        self.peak_mb = 0.0
        self.before_mb = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        try:
            import psutil

            self._proc: Any = psutil.Process()
        except ImportError:  # psutil is a test extra; fall back to the lifetime peak
            self._proc = None

    def _rss_mb(self) -> float:
        if self._proc is None:
            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        return float(self._proc.memory_info().rss) / 2**20

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.peak_mb = max(self.peak_mb, self._rss_mb())

    def __enter__(self) -> peak_rss_sampler:
        self.before_mb = self.peak_mb = self._rss_mb()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.peak_mb = max(self.peak_mb, self._rss_mb())


def measure_burst(impl: Impl, n: int, loop: asyncio.AbstractEventLoop, stats: Callable[[], dict[str, Any]],
                  timeout: float = 180.0) -> Burst:
    """Run ``n`` concurrent streaming calls to completion on ``loop``."""
    async def run() -> tuple[list[Any], float]:
        results = await asyncio.wait_for(
            asyncio.gather(*(impl.async_call(True) for _ in range(n)), return_exceptions=True), timeout)
        end = time.perf_counter()
        await aquiesce()
        return results, end

    before = _connections(stats)
    with peak_rss_sampler() as rss:
        cpu0, wall0 = time.process_time(), time.perf_counter()
        try:
            results, wall1 = loop.run_until_complete(run())
        except asyncio.TimeoutError:
            return Burst(impl.key, n, timeout, time.process_time() - cpu0, 0, _connections(stats) - before,
                         rss.before_mb, rss.peak_mb, error=f"timed out after {timeout:.0f}s")
        cpu1 = time.process_time()
    failures = [r for r in results if isinstance(r, BaseException)]
    error = f"{type(failures[0]).__name__}: {failures[0]}" if failures else None
    return Burst(impl.key, n, wall1 - wall0, cpu1 - cpu0, n - len(failures), _connections(stats) - before,
                 rss.before_mb, rss.peak_mb, error=error)


def measure_group(impls: dict[str, Impl], group: list[Cell], calls: int, batch: int,
                  loop: asyncio.AbstractEventLoop, stats: Callable[[], dict[str, Any]],
                  expected: dict[str, str | None]) -> dict[str, Sample]:
    """Measure the cells of one shape in alternating small batches (A B C D A B C D ...).

    The machine is shared: a burst of outside load lands on every implementation of the shape
    alike instead of on whichever cell happened to run then, which keeps the ratios honest.
    """
    totals = {c.key: Sample(0.0, 0.0, 0, 0, 0) for c in group}
    done = 0
    turn = 0
    while done < calls:
        n = min(batch, calls - done)
        order = group[turn % len(group):] + group[:turn % len(group)]  # no fixed neighbour
        for cell in order:
            s = measure_cell(impls[cell.impl], cell, n, loop, stats, expected.get(cell.key))
            t = totals[cell.key]
            t.cpu_ms += s.cpu_ms * n
            t.wall_ms += s.wall_ms * n
            t.new_connections += s.new_connections
            t.calls += n
            t.errors += s.errors
            t.error = t.error or s.error
        done += n
        turn += 1
    for t in totals.values():
        t.cpu_ms /= t.calls
        t.wall_ms /= t.calls
    return totals
