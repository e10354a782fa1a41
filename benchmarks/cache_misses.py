"""Why the scheduler's growth figures move with the machine: cache misses per unit of work, counted.

    python benchmarks/cache_misses.py [--sizes 1000,10000,100000]     # about 25 minutes

``bench_schedule.py`` sets the growth of ``schedule_graph``'s time from 1,000 to 10,000 to 100,000
steps beside networkx's on the same random DAGs.  Time per unit of work (a step or a prerequisite
edge) grows with the graph for every implementation because the working set leaves the CPU's caches.
This script counts what that costs: each implementation runs once on each graph under Valgrind's
cachegrind (a simulated cache: hardware counters through ``perf stat`` are used instead when this
machine exposes them — virtual machines often do not), with the last-level cache set once to this
machine's L2 and once to its L3, and a run that only builds the graph is subtracted.  The figures
per unit of work go to ``results/schedule_cache_misses.json``; ``bench_schedule.py`` cites them in
its growth notes.  Not part of ``run.py`` (cachegrind runs Python about 50× slower).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "schedule_cache_misses.json"
IMPLS = ("flowmatch", "networkx", "bare pass")

_TARGET = """
import gc, sys
sys.path.insert(0, {here!r})
from peers import cpm
import networkx  # noqa: F401  (imported in every run: the baseline subtracts it)
from flowmatch.scheduler import schedule_graph
impl, n = sys.argv[1], int(sys.argv[2])
durations, deps, _ = cpm.random_dag(n)
fn = {{"flowmatch": schedule_graph, "networkx": cpm.networkx_direct, "bare pass": cpm.bare_pass,
       "none": lambda d, p: None}}[impl]
gc.collect()
gc.disable()  # as bench_schedule times it
fn(durations, deps)
import os
os._exit(0)  # no teardown: freeing the graph would count misses the call itself warmed away
"""


def _cache_sizes() -> dict[str, int]:
    """This CPU's data caches from sysfs: {"L1d": bytes, "L2": bytes, "L3": bytes} (those found)."""
    out: dict[str, int] = {}
    for index in sorted(Path("/sys/devices/system/cpu/cpu0/cache").glob("index*")):
        try:
            level = (index / "level").read_text().strip()
            kind = (index / "type").read_text().strip()
            size = (index / "size").read_text().strip()
        except OSError:
            continue
        if kind == "Instruction":
            continue
        number = int(size.rstrip("KMG"))
        scale = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(size[-1], 1)
        out["L1d" if level == "1" else f"L{level}"] = number * scale
    return out


def _pow2_floor(n: int) -> int:
    return 1 << (n.bit_length() - 1)


def perf_supported() -> bool:
    """Whether ``perf stat`` can count hardware cache misses here."""
    if shutil.which("perf") is None:
        return False
    done = subprocess.run(
        ["perf", "stat", "-x,", "-e", "cache-misses:u", sys.executable, "-c", "pass"],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.returncode == 0 and "<not supported>" not in done.stderr and "cache-misses" in done.stderr


def _cachegrind(impl: str, n: int, ll: int, l1: int) -> dict[str, int]:
    code = _TARGET.format(here=str(HERE))
    argv = [
        "valgrind",
        "--tool=cachegrind",
        "--cache-sim=yes",
        f"--D1={l1},{8 if l1 < 49152 else 12},64",
        f"--LL={ll},16,64",
        "--cachegrind-out-file=/dev/null",
        sys.executable,
        "-c",
        code,
        impl,
        str(n),
    ]
    env = dict(os.environ, PYTHONHASHSEED="0")  # the same dict layouts in every run: the baseline subtracts cleanly
    done = subprocess.run(argv, capture_output=True, text=True, check=True, env=env)

    def count(label: str) -> int:
        found = re.search(label + r":\s+([\d,]+)", done.stderr)
        if found is None:
            raise RuntimeError(f"cachegrind gave no {label!r}: {done.stderr[-500:]}")
        return int(found.group(1).replace(",", ""))

    return {
        "instructions": count(r"I\s+refs"),
        "data_refs": count(r"D\s+refs"),
        "d1_misses": count(r"D1\s+misses"),
        "ll_misses": count(r"LLd\s+misses"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    args = parser.parse_args(argv)
    sizes = [int(x) for x in args.sizes.split(",")]
    if shutil.which("valgrind") is None:
        print("valgrind is not installed (Debian: apt-get install valgrind)", file=sys.stderr)
        return 1
    sys.path.insert(0, str(HERE))
    from peers import cpm

    caches = _cache_sizes()
    # cachegrind's set counts must be powers of two: each level at the largest such size it holds
    l1 = caches.get("L1d", 48 << 10)
    levels = {name: _pow2_floor(caches[name]) for name in ("L2", "L3") if name in caches}
    units = {}
    for n in sizes:
        _, _, edges = cpm.random_dag(n)
        units[n] = n + edges
    # once without valgrind: every module compiled (a .pyc written during a measured run would count)
    env = dict(os.environ, PYTHONHASHSEED="0")
    subprocess.run([sys.executable, "-c", _TARGET.format(here=str(HERE)), "none", "10"], check=True, env=env)
    table: dict[str, Any] = {}
    for level, ll in levels.items():
        for n in sizes:
            base = _cachegrind("none", n, ll, l1)
            for impl in IMPLS:
                got = _cachegrind(impl, n, ll, l1)
                row = {k: round((got[k] - base[k]) / units[n], 2) for k in got}
                table.setdefault(level, {}).setdefault(impl, {})[str(n)] = row
                print(f"{level} {ll >> 10} KiB  {impl:<10} {n:>7,} steps: per unit {row}", flush=True)
    data = {
        "when": dt.datetime.now().isoformat(timespec="seconds"),
        "python": sys.version.split()[0],
        "cpu_caches": caches,
        "simulated_last_level": {k: v for k, v in levels.items()},
        "perf_stat_hardware_counters": perf_supported(),
        "units": {str(n): u for n, u in units.items()},
        "note": "per unit of work (step or prerequisite edge), the graph-building run subtracted; "
        "last-level misses are those of a cache the size of the named level",
        "per_unit": table,
        "cpus": os.cpu_count(),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
