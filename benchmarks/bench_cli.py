"""Figure 5 — CLI start: ``flowmatch match kind=road_bridge`` as a whole process vs the dependency floor.

The floor is ``python -c "import pydantic, yaml, jinja2, networkx"``: what any tool built on the
same libraries pays before doing anything.  Both are timed with hyperfine (``-N``, warm-ups, at
least 15 runs each) when it is installed, else with subprocess timing; the rule-set cache is primed
in a temporary ``FLOWMATCH_CACHE_DIR``.  ``python -X importtime`` then lists what the command
imports, so that anything a command does not need stands out.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from timing import Figure, bench_process

SECTION = "cli"
FLOOR = "import pydantic, yaml, jinja2, networkx"
# Modules a `match` never needs: their presence in the import list is a finding.
NOT_FOR_MATCH = (
    "networkx",
    "jinja2",
    "flowmatch.flows",
    "flowmatch.scheduler",
    "flowmatch.render",
    "flowmatch.checker",
    "flowmatch.calendar",
    "chinese_calendar",
    "markdown_it",
    "weasyprint",
    "starlette",
    "questionary",
)


def _argv_match() -> list[str]:
    script = Path(sys.executable).with_name("flowmatch")
    if script.exists():
        return [str(script), "match", "kind=road_bridge"]
    return [sys.executable, "-m", "flowmatch.cli", "match", "kind=road_bridge"]


def _hyperfine(commands: list[list[str]], runs: int, env: dict[str, str]) -> list[dict[str, Any]] | None:
    exe = shutil.which("hyperfine")
    if exe is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "hf.json"
        argv = [exe, "-N", "--warmup", "3", "--runs", str(runs), "--style", "none", "--export-json", str(out)]
        argv += [" ".join(_quote(a) for a in cmd) for cmd in commands]
        done = subprocess.run(argv, capture_output=True, text=True, env=env)
        if done.returncode != 0:
            print(f"  hyperfine failed ({done.stderr.strip()[-200:]}); timing with subprocess", file=sys.stderr)
            return None
        return list(json.loads(out.read_text())["results"])


def _quote(arg: str) -> str:
    return arg if re.fullmatch(r"[\w./=:,+-]+", arg) else "'" + arg.replace("'", "'\\''") + "'"


def importtime(argv: list[str], env: dict[str, str], runs: int = 5) -> tuple[list[tuple[str, float]], set[str]]:
    """What a command imports: self time summed by package (flowmatch by module), median of ``runs``
    runs, largest first; and the set of every module imported."""
    modules: set[str] = set()
    if argv[0].endswith("flowmatch"):
        argv = [sys.executable, "-X", "importtime", "-m", "flowmatch.cli", *argv[1:]]
    else:
        argv = [argv[0], "-X", "importtime", *argv[1:]]
    per_run: list[dict[str, float]] = []
    for _ in range(runs):
        done = subprocess.run(argv, capture_output=True, text=True, env=env)
        totals: dict[str, float] = {}
        for line in done.stderr.splitlines():
            m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", line)
            if not m:
                continue
            name = m.group(4)
            modules.add(name)
            group = name if name.startswith("flowmatch") else name.split(".")[0]
            totals[group] = totals.get(group, 0.0) + int(m.group(1)) / 1000
        per_run.append(totals)
    names = {n for r in per_run for n in r}
    top = sorted(((n, statistics.median(r.get(n, 0.0) for r in per_run)) for n in names), key=lambda kv: -kv[1])
    return top, modules


def run(quick: bool = False) -> list[Figure]:
    runs = 15 if quick else 25
    argv = _argv_match()
    floor = [sys.executable, "-c", FLOOR]
    figures = []
    # As installed by pip, flowmatch has its bytecode compiled; an editable install under
    # PYTHONDONTWRITEBYTECODE=1 would otherwise compile every module on every start.
    import flowmatch

    package = Path(flowmatch.__file__).parent
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(package)], check=False, capture_output=True)
    with tempfile.TemporaryDirectory(prefix="flowmatch-cache-") as cache:
        env = {**os.environ, "FLOWMATCH_CACHE_DIR": cache}
        done = subprocess.run(argv, capture_output=True, text=True, env=env)  # primes the cache
        if done.returncode != 0:
            return [
                Figure(
                    SECTION,
                    "flowmatch match kind=road_bridge",
                    None,
                    "",
                    met=False,
                    note=f"exit {done.returncode}: {done.stderr.strip()[-300:]}",
                )
            ]
        results = _hyperfine([argv, floor], runs, env)
        if results is not None:
            mine_s, floor_s = results[0]["median"], results[1]["median"]
            how = (
                f"hyperfine -N, {runs} runs each after 3 warm-ups, bytecode compiled (mean "
                f"{results[0]['mean'] * 1e3:.0f} vs "
                f"{results[1]['mean'] * 1e3:.0f} ms; user CPU {results[0]['user'] * 1e3:.0f} vs "
                f"{results[1]['user'] * 1e3:.0f} ms)"
            )
        else:
            mine_s = bench_process(argv, runs=runs, env=env).median_ns / 1e9
            floor_s = bench_process(floor, runs=runs, env=env).median_ns / 1e9
            how = f"subprocess timing, median of {runs} runs each after 2 warm-ups"
        top, modules = importtime(argv, env, runs=3 if quick else 5)
        needless = sorted(m for m in modules if m.split(".")[0] in NOT_FOR_MATCH or m in NOT_FOR_MATCH)
        listing = "\n".join(f"| `{name}` | {ms:.1f} |" for name, ms in top[:14])
        total = sum(ms for _, ms in top)
        appendix = (
            f"What `flowmatch match kind=road_bridge` imports (`python -X importtime`: {total:.0f} ms in all; "
            "self time by package, flowmatch by module, median of runs):\n\n| package | ms |\n|---|---|\n"
            + listing
            + (
                "\n\nImported but not needed by `match`: " + ", ".join(f"`{m}`" for m in needless[:20])
                if needless
                else "\n\nNothing a `match` does not need is imported (no networkx, jinja2, "
                "scheduler, calendar, renderer)."
            )
        )
    figures.append(
        Figure(
            SECTION,
            "`flowmatch match kind=road_bridge`, whole process",
            mine_s * 1e3,
            "ms",
            "python -c 'import pydantic, yaml, jinja2, networkx'",
            floor_s * 1e3,
            floor_s / mine_s,
            "no slower than the floor",
            mine_s <= floor_s,
            how,
            {"appendix": appendix, "needless_imports": needless, "top_imports": top[:20]},
        )
    )
    return figures
