"""Benchmark the one-time notice: one notice warm (HTML, Markdown), a bare Jinja render of the same
context, and a batch of 1,000 HTML notices on two worker processes (target: under 10 s).

    python benchmarks/bench_render.py [--notices 1000] [--jobs 2] [--repeat 60]

Prints a table and writes ``benchmarks/results/render.json``.  Not part of the test suite: tests
never assert wall-clock times.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import itertools
import json
import os
import platform
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flowmatch import render
from flowmatch.calendar import WorkCalendar
from flowmatch.cli_guide import run_batch
from flowmatch.flows import for_situation
from flowmatch.golden import GOLDEN
from flowmatch.matcher import matcher_for
from flowmatch.notice import _source, _template_context
from flowmatch.pictures import layout_engine
from flowmatch.render import render_guide, render_template
from flowmatch.ruleset import default_ruleset
from flowmatch.scheduler import schedule

RESULTS = Path(__file__).parent / "results" / "render.json"
START = dt.date(2026, 3, 2)
PROFILES: list[dict[str, str]] = [
    GOLDEN["F10"],
    GOLDEN["F22"],
    GOLDEN["F26"],
    {
        "kind": "building",
        "land_nature": "state_owned",
        "investor": "government",
        "acquisition": "allocation_new",
        "management": "self_built",
    },
    {"kind": "road_bridge"},
    {"kind": "station"},
]


def _cpu() -> float:
    """CPU seconds used so far by this process and its finished children (the batch workers)."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _stats(samples: list[float]) -> dict[str, float]:
    return {
        "median_ms": round(statistics.median(samples), 3),
        "min_ms": round(min(samples), 3),
        "mean_ms": round(statistics.fmean(samples), 3),
        "runs": len(samples),
    }


def _interleaved(funcs: dict[str, Callable[[], Any]], repeat: int) -> dict[str, dict[str, float]]:
    """Time each callable ``repeat`` times, one run of each in turn (a change in the machine's load
    — two shared cores — hits every case alike), after a warm-up run of each: templates compiled,
    diagrams laid out, the rule-set's derived parts filled."""
    for func in funcs.values():
        func()
    samples: dict[str, list[float]] = {name: [] for name in funcs}
    clock = time.perf_counter
    for _ in range(repeat):
        for name, func in funcs.items():
            t0 = clock()
            func()
            samples[name].append((clock() - t0) * 1000)
    return {name: _stats(times) for name, times in samples.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notices", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=60)
    args = parser.parse_args(argv)

    rs = default_ruleset()
    profile = GOLDEN["F10"]
    result = matcher_for(rs).match(profile)
    flow = for_situation(rs, result.situation or "", flags=result.flags, profile=profile)
    cal = WorkCalendar()
    plan = schedule(flow, START, cal, ruleset=rs)
    kw: dict[str, Any] = {"ruleset": rs, "project_name": "基准测试项目", "applicant": "某公司", "calendar": cal}

    # the bare peer renders exactly the context the notice renders: built by the notice's own functions
    # (notice._source, notice._template_context), so it cannot drift from what render_guide gives Jinja
    src_kw: dict[str, Any] = {
        "ruleset": rs,
        "name": "基准测试项目",
        "applicant": "某公司",
        "on_file": (),
        "generated": None,
        "calendar": cal,
        "compare": (),
    }
    ctx = _template_context(_source(result, plan, **src_kw), "html")
    bare = render_template("html", ctx)
    mine = render_guide(result, plan, "html", **kw)
    if bare != mine:
        raise SystemExit("the bare Jinja render differs from render_guide's notice: the peer is not comparable")
    # a notice with a start date not seen before: its Gantt chart and dates drawn afresh (more dates
    # than the pictures cache keeps, taken in turn)
    dated = [schedule(flow, cal.add(START, i), cal, ruleset=rs) for i in range(2 * render._PICTURES_LIMIT)]
    new_dates = itertools.cycle(dated)
    rows: dict[str, dict[str, Any]] = _interleaved(
        {
            "one notice, HTML (warm)": lambda: render_guide(result, plan, "html", **kw),
            "one notice, Markdown (warm)": lambda: render_guide(result, plan, "md", **kw),
            "one notice, HTML, a new start date each time": lambda: render_guide(result, next(new_dates), "html", **kw),
            "context only (HTML pictures)": lambda: _template_context(_source(result, plan, **src_kw), "html"),
            "bare Jinja render of the same context (HTML)": lambda: render_template("html", ctx),
        },
        args.repeat,
    )
    size = len(render_guide(result, plan, "html", **kw))

    load = [round(x, 2) for x in os.getloadavg()]
    with tempfile.TemporaryDirectory() as tmp:
        batch = Path(tmp) / "projects.csv"
        columns = sorted({k for p in PROFILES for k in p})
        with batch.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["id", "name", "applicant", "start", *columns])
            for i in range(args.notices):
                p = PROFILES[i % len(PROFILES)]
                start = cal.add(START, i % 40)
                cells = [p.get(c, "") for c in columns]
                writer.writerow([f"n{i:05d}", f"项目{i}", "某公司", start.isoformat(), *cells])
        out = Path(tmp) / "out"
        cpu0 = _cpu()
        t0 = time.perf_counter()
        report = run_batch(batch, out, "html", jobs=args.jobs)
        elapsed = time.perf_counter() - t0
        cpu = _cpu() - cpu0
        written = len(report.written)
        failed = report.failed[:3]
    rows[f"batch of {args.notices} HTML notices, {args.jobs} processes"] = {
        "seconds": round(elapsed, 3),
        "notices_per_second": round(written / elapsed, 1),
        "written": written,
        "failed": len(report.failed),
        "target_seconds": 10,
        "met": elapsed < 10 and not report.failed,
        "cpu_seconds": round(cpu, 3),
        "cpu_ms_per_notice": round(cpu / max(written, 1) * 1000, 2),
        "load_average_before": load,
    }

    data = {
        "when": dt.datetime.now().isoformat(timespec="seconds"),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "layout": layout_engine(),
        "flowchart": result.flowchart,
        "steps": len(flow.steps),
        "html_bytes": size,
        "results": rows,
        "first_failures": failed,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")

    print(
        f"flowmatch render benchmark — {result.flowchart}, {len(flow.steps)} steps, layout {layout_engine()}, "
        f"HTML {size / 1024:.0f} KiB, {os.cpu_count()} CPUs"
    )
    print(f"{'case':<48} {'median ms':>10} {'min ms':>10}")
    for name, row in rows.items():
        if "median_ms" in row:
            print(f"{name:<48} {row['median_ms']:>10.2f} {row['min_ms']:>10.2f}")
        else:
            print(
                f"{name:<48} {row['seconds']:>9.2f}s  ({row['notices_per_second']}/s, {row['written']} written, "
                f"{row['failed']} failed; target < 10 s: {'met' if row['met'] else 'NOT met'})"
            )
            print(
                f"{'':<48} CPU {row['cpu_seconds']:.2f}s in all = {row['cpu_ms_per_notice']:.1f} ms per notice; "
                f"load average before: {row['load_average_before']}"
            )
    print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
