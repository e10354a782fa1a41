"""Figure 2 — critical-path scheduling: packaged flowcharts and random DAGs beside the peers.

* Every packaged flowchart that has steps, warm: ``flowmatch.schedule(fid)`` (both clocks, typed
  result) against networkx used directly, a plain-Python pass and the ``criticalpath`` package,
  each computing the government clock over the same pre-construction steps.
* Issue 3's figure: a 25-step flowchart with calendar dates, warm, under 0.3 ms.
* Random DAGs of 1,000 / 10,000 / 100,000 steps (seeded, about 3 prerequisites per step, ids in no
  topological order) through ``schedule_graph`` — the entry point a user with a big graph takes.
  ``criticalpath`` runs in a subprocess with a time limit.  Growth ratios are set beside networkx's on the same graphs
  (issue 18); their notes give the added time per node or edge and, from ``cache_misses.py``, cachegrind's
  instructions and cache misses per node or edge, which say why the ratios move with the machine.

Every implementation's totals (and slack, where it reports slack) are compared before timing.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import packaged
from peers import cpm
from timing import Figure, bench, bench_interleaved, speedup

import flowmatch.scheduler as scheduler
from flowmatch.calendar import WorkCalendar

SECTION = "schedule"
HERE = Path(__file__).resolve().parent
START = dt.date(2026, 3, 2)


def schedule_graph() -> Callable[..., Any]:
    """flowmatch's public entry point for a big graph."""
    return scheduler.schedule_graph


def _counted_graph(rs: Any, fid: str) -> tuple[dict[str, float], dict[str, list[str]]]:
    """The government-clock graph of a flowchart's default resolution (what schedule() uses)."""
    from flowmatch.flows import resolve

    flow = resolve(rs, fid)
    steps = flow.pre_construction
    ids = {s.id for s in steps}
    durations = {s.id: (s.duration if s.counted else 0.0) for s in steps}
    deps = {s.id: [d for d in s.depends_on if d in ids] for s in steps}
    return durations, deps


# --- criticalpath, time-boxed ------------------------------------------------------------------------
_CP_WORKER = """
import json, sys, time
sys.path.insert(0, {here!r})
from peers.cpm import criticalpath_package
graphs = json.load(sys.stdin)
reps = {reps}
out = []
for durations, deps in graphs:
    criticalpath_package(durations, deps)  # warm-up
out_ns = []
for _ in range(reps):
    t0 = time.perf_counter_ns()
    totals = [criticalpath_package(d, p)["total"] for d, p in graphs]
    out_ns.append(time.perf_counter_ns() - t0)
print(json.dumps({{"totals": totals, "ns": out_ns}}))
"""


def criticalpath_timed(
    graphs: Sequence[tuple[Mapping[str, float], Mapping[str, Sequence[str]]]], *, reps: int, timeout: float
) -> dict[str, Any] | None:
    """Median ns for scheduling all ``graphs`` once with ``criticalpath``; None if it ran out of time."""
    code = _CP_WORKER.format(here=str(HERE), reps=reps)
    try:
        done = subprocess.run(
            [sys.executable, "-c", code], input=json.dumps(graphs), capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return None
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"}
    data = json.loads(done.stdout)
    ns = sorted(data["ns"])
    return {"totals": data["totals"], "median_ns": ns[len(ns) // 2]}


# --- figures -------------------------------------------------------------------------------------------
def _agree(mine: Any, peer: Mapping[str, Any], what: str) -> None:
    if abs(mine.total - peer["total"]) > 1e-6:
        raise AssertionError(f"{what}: totals differ: flowmatch {mine.total}, peer {peer['total']}")
    if "slack" in peer:
        slack = dict(zip(mine.order, mine.slack, strict=True))
        bad = [s for s, v in peer["slack"].items() if abs(max(v, 0.0) - slack[s]) > 1e-6]
        if bad:
            raise AssertionError(f"{what}: slack differs on {len(bad)} steps, e.g. {bad[0]}")


def flowcharts(quick: bool) -> list[Figure]:
    rs, fids, note = packaged.scheduling()
    graphs = {fid: _counted_graph(rs, fid) for fid in fids}
    sg = schedule_graph()
    for fid, (d, p) in graphs.items():  # independent passes agree with flowmatch.schedule
        s = scheduler.schedule(fid, ruleset=rs)
        ref = cpm.plain_python(d, p)
        if abs(s.working_days - ref["total"]) > 1e-6:
            raise AssertionError(f"{fid}: flowmatch {s.working_days} working days, plain pass {ref['total']}")
        _agree(sg(d, p), cpm.networkx_direct(d, p), fid)
    sizes = {fid: len(rs.flowcharts[fid].steps) for fid in fids}
    k = len(fids)

    def each(fn: Callable[..., Any]) -> Callable[[], None]:
        items = list(graphs.values())

        def loop() -> None:
            for d, p in items:
                fn(d, p)

        return loop

    plans = getattr(scheduler, "_PLANS", {})

    def first() -> None:  # every schedule computed from the resolved flow: passes, slack, stages, typed steps
        for fid in fids:
            plans.clear()
            scheduler.schedule(fid, ruleset=rs)

    def again() -> None:  # what a warm service does: the flow's date-free plan is remembered
        for fid in fids:
            scheduler.schedule(fid, ruleset=rs)

    t_first = bench(first, per=k)
    t_again = bench(again, per=k)
    figures = []
    biggest = max(fids, key=lambda f: sizes[f])
    what = f"{k} flowcharts" if k > 1 else f"{biggest}"
    base = (
        f"{what} ({min(sizes.values())}–{max(sizes.values())} steps); flowmatch.schedule computes both "
        "clocks and typed steps, the peers only the government clock" + (f"; {note}" if note else "")
    )
    peers = {"networkx": bench(each(cpm.networkx_direct), per=k), "plain Python": bench(each(cpm.plain_python), per=k)}
    for label, mine, how in (
        ("", t_first, "plan computed on every call (resolved flow cached, as in any warm process)"),
        (", repeated", t_again, "repeated call: the flow's date-free plan is remembered"),
    ):
        for name, target in (("networkx", "≤2× slower"), ("plain Python", "")):
            t = peers[name]
            s = speedup(mine.median_ns, t.median_ns)
            figures.append(
                Figure(
                    SECTION,
                    f"schedule a packaged flowchart{label} vs {name} (mean per flowchart)",
                    mine.us,
                    "µs",
                    name,
                    t.us,
                    s,
                    target,
                    (s >= 0.5) if target else None,
                    f"{base}; {how}",
                )
            )
    t_mine = t_first
    cp = criticalpath_timed(list(graphs.values()), reps=5 if quick else 15, timeout=60)
    if cp is None or "error" in cp:
        figures.append(
            Figure(
                SECTION,
                "schedule a packaged flowchart vs criticalpath",
                t_mine.us,
                "µs",
                "criticalpath",
                None,
                None,
                "faster",
                True if cp is None else None,
                "criticalpath did not finish within 60 s" if cp is None else f"criticalpath failed: {cp['error']}",
            )
        )
    else:
        bad = [fid for fid, t in zip(fids, cp["totals"], strict=True) if abs(t - graphs_total(graphs[fid])) > 1e-6]
        per = cp["median_ns"] / k
        s = speedup(t_mine.median_ns, per)
        figures.append(
            Figure(
                SECTION,
                "schedule a packaged flowchart vs criticalpath (mean per flowchart)",
                t_mine.us,
                "µs",
                "criticalpath",
                per / 1e3,
                s,
                "faster",
                s > 1 and not bad,
                base + (f"; criticalpath totals differ on {bad}" if bad else ""),
            )
        )

    # Issue 3: a 25-step flowchart with dates.
    target_fid = min(fids, key=lambda f: (abs(sizes[f] - 25), -sizes[f]))
    cal = WorkCalendar()
    scheduler.schedule(target_fid, start=START, calendar=cal, ruleset=rs)
    dated = bench(lambda: scheduler.schedule(target_fid, start=START, calendar=cal, ruleset=rs))
    undated = bench(lambda: scheduler.schedule(target_fid, ruleset=rs))

    def dated_first() -> None:
        plans.clear()
        scheduler.schedule(target_fid, start=START, calendar=cal, ruleset=rs)

    first_dated = bench(dated_first)
    figures.append(
        Figure(
            SECTION,
            f"schedule {target_fid} ({sizes[target_fid]} steps) with calendar dates, warm",
            dated.ms,
            "ms",
            "",
            None,
            None,
            "<0.3 ms",
            dated.ms < 0.3,
            f"start {START}, official calendar, repeated call; with the date-free plan recomputed "
            f"{first_dated.ms:.3f} ms; without dates {undated.ms:.3f} ms" + (f"; {note}" if note else ""),
        )
    )
    return figures


def graphs_total(graph: tuple[Mapping[str, float], Mapping[str, Sequence[str]]]) -> float:
    return float(cpm.plain_python(*graph)["total"])


def random_dags(quick: bool) -> list[Figure]:
    sizes = (1_000, 10_000) if quick else (1_000, 10_000, 100_000)
    sg = schedule_graph()
    figures: list[Figure] = []
    times: dict[int, dict[str, float]] = {}
    work: dict[int, int] = {}
    cp_gave_up = False
    for n in sizes:
        durations, deps, edges = cpm.random_dag(n)
        work[n] = n + edges
        mine = sg(durations, deps)
        _agree(mine, cpm.networkx_direct(durations, deps), f"random DAG {n}")
        _agree(mine, cpm.plain_python(durations, deps), f"random DAG {n}")
        big = n >= 100_000
        repeats = 3 if big else (7 if quick else 21)  # growth is a ratio of best times: many runs of the small
        t = bench_interleaved(
            {
                "flowmatch": lambda d=durations, p=deps: sg(d, p),
                "networkx": lambda d=durations, p=deps: cpm.networkx_direct(d, p),
                "plain Python": lambda d=durations, p=deps: cpm.plain_python(d, p),
                "bare pass": lambda d=durations, p=deps: cpm.bare_pass(d, p),
            },
            repeats=repeats,
            warmup=0 if big else 1,
        )  # (the agreement check above warmed them up)
        times[n] = {k: v.min_ns for k, v in t.items()}
        label = f"random DAG {n:,} steps / {edges:,} edges"
        f_ms = t["flowmatch"].ms
        figures.append(
            Figure(
                SECTION,
                f"{label} vs networkx",
                f_ms,
                "ms",
                "networkx",
                t["networkx"].ms,
                speedup(t["flowmatch"].median_ns, t["networkx"].median_ns),
                "≤2× slower",
                t["flowmatch"].median_ns <= 2 * t["networkx"].median_ns,
                "schedule_graph: ids → topological order → forward/backward pass; networkx: DiGraph, "
                "topological_generations, passes over g.pred/g.succ, dag_longest_path",
            )
        )
        figures.append(
            Figure(
                SECTION,
                f"{label} vs plain Python",
                f_ms,
                "ms",
                "plain Python",
                t["plain Python"].ms,
                speedup(t["flowmatch"].median_ns, t["plain Python"].median_ns),
                "",
                None,
                "plain Python: dicts, Kahn's algorithm, forward/backward pass",
            )
        )
        if n == 10_000:
            figures.append(Figure(SECTION, f"{label} (issue 3)", f_ms, "ms", "", None, None, "<150 ms", f_ms < 150))
        if cp_gave_up:
            figures.append(
                Figure(
                    SECTION,
                    f"{label} vs criticalpath",
                    f_ms,
                    "ms",
                    "criticalpath",
                    None,
                    None,
                    "faster",
                    True,
                    "not run: criticalpath did not finish the smaller graph",
                )
            )
            continue
        limit = 10 if quick else 15
        t0 = time.perf_counter()
        cp = criticalpath_timed([(durations, deps)], reps=1, timeout=limit)
        if cp is None or "error" in cp:
            cp_gave_up = True
            figures.append(
                Figure(
                    SECTION,
                    f"{label} vs criticalpath",
                    f_ms,
                    "ms",
                    "criticalpath",
                    None,
                    None,
                    "faster",
                    True if cp is None else None,
                    f"criticalpath did not finish in {limit} s (its critical path enumerates every path)"
                    if cp is None
                    else f"criticalpath failed: {cp['error']}",
                )
            )
        else:
            ok = abs(cp["totals"][0] - mine.total) < 1e-6
            figures.append(
                Figure(
                    SECTION,
                    f"{label} vs criticalpath",
                    f_ms,
                    "ms",
                    "criticalpath",
                    cp["median_ns"] / 1e6,
                    speedup(t["flowmatch"].median_ns, cp["median_ns"]),
                    "faster",
                    ok and cp["median_ns"] > t["flowmatch"].median_ns,
                    f"one run after a warm-up ({time.perf_counter() - t0:.0f} s)",
                )
            )
    steps = list(itertools.pairwise(sizes))
    misses = _cache_misses()
    for a, b in steps:
        grow = work[b] / work[a]
        parts = {k: times[b][k] / times[a][k] for k in times[a]}
        norm = parts["flowmatch"] / grow
        per_unit = {k: (times[a][k] / work[a], times[b][k] / work[b]) for k in times[a]}  # ns per node or edge
        added = {k: v[1] - v[0] for k, v in per_unit.items()}
        met = norm <= parts["networkx"] / grow
        note = (
            f"nodes + edges grow {grow:.2f}×; best-of-repetitions time grows: flowmatch {parts['flowmatch']:.1f}×, "
            f"networkx {parts['networkx']:.1f}×, plain Python {parts['plain Python']:.1f}×, and the bare pass "
            f"(id → index dict + one lookup per edge, nothing else) {parts['bare pass']:.1f}× — "
            f"{parts['bare pass'] / grow:.2f} per unit of work: the memory hierarchy's share. "
            f"Per node or edge: flowmatch {per_unit['flowmatch'][0]:.0f} → {per_unit['flowmatch'][1]:.0f} ns "
            f"(+{added['flowmatch']:.0f}), networkx {per_unit['networkx'][0]:.0f} → {per_unit['networkx'][1]:.0f} ns "
            f"(+{added['networkx']:.0f}): networkx pays {added['networkx'] / max(added['flowmatch'], 1e-9):.1f}× "
            "flowmatch's added cost per unit; as a ratio it weighs less on networkx's "
            f"{per_unit['networkx'][0] / per_unit['flowmatch'][0]:.1f}× larger base"
        )
        note += _misses_note(misses, a, b)
        if not met:
            note += (
                ". NOT met, measured reason: the added cost per unit is cache misses (see the cachegrind "
                "figures), not more work — flowmatch's instructions per unit stay flat; a faster pass has a "
                "smaller base for the same misses to weigh on"
            )
        figures.append(
            Figure(
                SECTION,
                f"growth {a:,} → {b:,} steps (time ratio ÷ size ratio)",
                norm,
                "×",
                "networkx",
                parts["networkx"] / grow,
                None,
                "no worse than networkx",
                met,
                note,
            )
        )
    return figures


def _cache_misses() -> dict[str, Any] | None:
    """``results/schedule_cache_misses.json`` from ``cache_misses.py``, if it has been run."""
    path = HERE / "results" / "schedule_cache_misses.json"
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data


def _misses_note(data: dict[str, Any] | None, a: int, b: int) -> str:
    """Cachegrind's counts per unit of work at sizes ``a`` and ``b``, for the level the step crosses."""
    if data is None:
        return "; run benchmarks/cache_misses.py for cache-miss counts"
    level = "L2" if b <= 10_000 else "L3"
    table = data.get("per_unit", {}).get(level, {})
    try:
        fm, nx_, bare = (table[k] for k in ("flowmatch", "networkx", "bare pass"))
        rows = {k: (t[str(a)], t[str(b)]) for k, t in (("flowmatch", fm), ("networkx", nx_), ("bare", bare))}
    except KeyError:
        return "; cachegrind figures for these sizes are missing: run benchmarks/cache_misses.py"
    size = data.get("simulated_last_level", {}).get(level, 0) >> 20
    hw = "" if data.get("perf_stat_hardware_counters") else " (perf stat has no hardware counters on this machine)"
    return (
        f"; cachegrind{hw}, per node or edge, {a:,} → {b:,}, misses of a {size} MiB {level}: "
        f"flowmatch {rows['flowmatch'][0]['ll_misses']:.1f} → {rows['flowmatch'][1]['ll_misses']:.1f} "
        f"({rows['flowmatch'][0]['instructions']:.0f} → {rows['flowmatch'][1]['instructions']:.0f} instructions), "
        f"networkx {rows['networkx'][0]['ll_misses']:.1f} → {rows['networkx'][1]['ll_misses']:.1f} "
        f"({rows['networkx'][0]['instructions']:.0f} → {rows['networkx'][1]['instructions']:.0f} instructions), "
        f"bare pass {rows['bare'][0]['ll_misses']:.1f} → {rows['bare'][1]['ll_misses']:.1f} "
        f"(results/schedule_cache_misses.json, {str(data.get('when', ''))[:10]})"
    )


def run(quick: bool = False) -> list[Figure]:
    return flowcharts(quick) + random_dags(quick)
