"""Timing primitives for the benchmark suite: calibrated loops, warm-ups, gc off, medians.

Every in-process figure is the median of ``repeats`` repetitions; each repetition runs the
callable ``loops`` times (calibrated so that one repetition lasts about ``target_ms``) with the
garbage collector off, after a warm-up.  Process figures (CLI start, JSON Lines streams) are the
median of whole runs timed with ``perf_counter_ns`` around ``subprocess.run``.
"""

from __future__ import annotations

import gc
import itertools
import os
import platform
import statistics
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

# Set by run.py from --quick: fewer repetitions, shorter repetitions.
SETTINGS = {"repeats": 15, "target_ms": 25.0, "quick": False}


def configure(quick: bool) -> None:
    SETTINGS.update(repeats=5 if quick else 15, target_ms=10.0 if quick else 25.0, quick=quick)


@dataclass
class Timing:
    """Per-operation nanoseconds: median and spread over the repetitions."""

    median_ns: float
    min_ns: float
    q1_ns: float
    q3_ns: float
    repeats: int
    loops: int

    @property
    def us(self) -> float:
        return self.median_ns / 1e3

    @property
    def ms(self) -> float:
        return self.median_ns / 1e6


def _quartiles(samples: Sequence[float]) -> tuple[float, float]:
    if len(samples) < 2:
        return samples[0], samples[0]
    q = statistics.quantiles(samples, n=4)
    return q[0], q[2]


def bench(
    fn: Callable[[], Any],
    *,
    per: int = 1,
    repeats: int | None = None,
    target_ms: float | None = None,
    max_loops: int = 1_000_000,
) -> Timing:
    """Time ``fn()`` (which performs ``per`` operations) and return nanoseconds per operation."""
    repeats = repeats or int(SETTINGS["repeats"])
    target_ns = (target_ms or float(SETTINGS["target_ms"])) * 1e6
    enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        t0 = time.perf_counter_ns()
        fn()  # warm-up (and first calibration sample)
        once = max(time.perf_counter_ns() - t0, 1)
        if once < target_ns / 10:  # a second warm-up for fast callables: caches, branch predictors
            t0 = time.perf_counter_ns()
            fn()
            once = max(time.perf_counter_ns() - t0, 1)
        loops = int(max(1, min(max_loops, target_ns // once)))
        samples = []
        repeat = itertools.repeat
        for _ in range(repeats):
            t0 = time.perf_counter_ns()
            for _ in repeat(None, loops):
                fn()
            samples.append((time.perf_counter_ns() - t0) / (loops * per))
            gc.collect()
    finally:
        if enabled:
            gc.enable()
    q1, q3 = _quartiles(samples)
    return Timing(statistics.median(samples), min(samples), q1, q3, repeats, loops)


def bench_once(fn: Callable[[], Any], *, repeats: int | None = None, warmup: int = 1, per: int = 1) -> Timing:
    """Time slow callables (tens of ms and up): one call per repetition."""
    repeats = repeats or max(3, int(SETTINGS["repeats"]) // 2)
    enabled = gc.isenabled()
    try:
        for _ in range(warmup):
            fn()
        samples = []
        for _ in range(repeats):
            gc.collect()
            gc.disable()
            t0 = time.perf_counter_ns()
            fn()
            samples.append((time.perf_counter_ns() - t0) / per)
            gc.enable()
    finally:
        if enabled:
            gc.enable()
        else:
            gc.disable()
    q1, q3 = _quartiles(samples)
    return Timing(statistics.median(samples), min(samples), q1, q3, repeats, 1)


def bench_process(
    argv: Sequence[str],
    *,
    runs: int,
    env: dict[str, str] | None = None,
    stdin: bytes | None = None,
    warmup: int = 2,
    ok_codes: Sequence[int] = (0,),
) -> Timing:
    """Median wall time of a whole process (spawn, imports, work, exit)."""
    samples = []
    for i in range(warmup + runs):
        t0 = time.perf_counter_ns()
        done = subprocess.run(argv, input=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
        elapsed = time.perf_counter_ns() - t0
        if done.returncode not in ok_codes:
            raise RuntimeError(f"{' '.join(argv[:4])} ... exited {done.returncode}: {done.stderr.decode()[-400:]}")
        if i >= warmup:
            samples.append(float(elapsed))
    q1, q3 = _quartiles(samples)
    return Timing(statistics.median(samples), min(samples), q1, q3, runs, 1)


# --- figures -------------------------------------------------------------------------------------
@dataclass
class Figure:
    """One row of the results table.

    ``value``/``peer_value`` are in ``unit``.  ``ratio`` is the speed-up of flowmatch over the peer
    (peer time ÷ flowmatch time; > 1 means flowmatch is faster), or for throughput figures
    flowmatch ÷ peer.  ``met`` is None when the figure has no target.
    """

    section: str
    figure: str
    value: float | None
    unit: str
    peer: str = ""
    peer_value: float | None = None
    ratio: float | None = None
    target: str = ""
    met: bool | None = None
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def speedup(flowmatch_ns: float, peer_ns: float) -> float:
    return peer_ns / flowmatch_ns if flowmatch_ns else float("inf")


def ratio_text(ratio: float | None) -> str:
    if ratio is None:
        return "—"
    if ratio >= 1:
        return f"{ratio:,.1f}× faster" if ratio < 100 else f"{ratio:,.0f}× faster"
    return f"{1 / ratio:,.1f}× slower"


def fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit in ("µs", "ms", "s"):
        return f"{value:,.3g} {unit}" if value < 100 else f"{value:,.0f} {unit}"
    if unit in ("ops/s", "profiles/s"):
        return f"{value:,.0f} {unit}"
    if unit == "%":
        return f"{value:.1f} %"
    if unit == "ok":
        return "yes" if value else "NO"
    if float(value).is_integer() and abs(value) < 1e12:
        return f"{int(value):,} {unit}".strip()
    return f"{value:,.3g} {unit}".strip()


def best_unit(ns: float) -> tuple[float, str]:
    """A readable (value, unit) for a duration in nanoseconds."""
    if ns < 1e6:
        return ns / 1e3, "µs"
    if ns < 1e9:
        return ns / 1e6, "ms"
    return ns / 1e9, "s"


# --- machine -------------------------------------------------------------------------------------
def machine() -> dict[str, Any]:
    cpu = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        cpu = platform.processor()
    mem = ""
    try:
        with open("/proc/meminfo", encoding="utf-8") as fh:
            kb = int(fh.readline().split()[1])
            mem = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return {
        "cpu": cpu or "unknown",
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "memory": mem,
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "os": f"{platform.system()} {platform.release()}",
    }


def bench_interleaved(
    fns: dict[str, Callable[[], Any]], *, repeats: int | None = None, warmup: int = 1, per: int = 1
) -> dict[str, Timing]:
    """Time slow callables side by side: repetition k of every callable runs before repetition
    k + 1 of any, so a change in machine load hits all of them alike."""
    repeats = repeats or max(3, int(SETTINGS["repeats"]) // 2)
    samples: dict[str, list[float]] = {name: [] for name in fns}
    enabled = gc.isenabled()
    try:
        for _ in range(warmup):
            for fn in fns.values():
                fn()
        for _ in range(repeats):
            for name, fn in fns.items():
                gc.collect()
                gc.disable()
                t0 = time.perf_counter_ns()
                fn()
                samples[name].append((time.perf_counter_ns() - t0) / per)
                gc.enable()
    finally:
        if not enabled:
            gc.disable()
    out = {}
    for name, s in samples.items():
        q1, q3 = _quartiles(s)
        out[name] = Timing(statistics.median(s), min(s), q1, q3, repeats, 1)
    return out
