"""flowmatch's benchmark suite: every hot path beside the tools a user would otherwise reach for.

    python benchmarks/run.py                    # everything (under five minutes on 2 cores)
    python benchmarks/run.py --quick            # fewer repetitions, smaller inputs (about a minute)
    python benchmarks/run.py --only match,load  # some sections: match, schedule, render, pdf, load, cli, wizard,
                                                # web, tracking

Prints one table (figure, flowmatch, peer, ratio, target, met?) and writes
``benchmarks/results/latest.json`` and ``benchmarks/results/latest.md`` (with the machine it ran
on, for the README).  Never part of the test run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import os
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import timing  # noqa: E402  (after the path set-up above)
from timing import Figure, fmt, ratio_text  # noqa: E402

SECTIONS = ("match", "schedule", "render", "pdf", "load", "cli", "wizard", "web", "tracking")


def _own(module: str) -> Callable[[bool], list[Figure]]:
    def run(quick: bool) -> list[Figure]:
        return importlib.import_module(module).run(quick)  # type: ignore[no-any-return]

    return run


def _helper(section: str, module: str) -> Callable[[bool], list[Figure]]:
    """Run a benchmark written by another helper: its ``run(quick)`` (a list of rows as dicts or
    Figures) if it has one, else the script with ``--json`` (rows in its JSON output)."""

    def run(quick: bool) -> list[Figure]:
        path = HERE / f"{module}.py"
        if not path.exists():
            return [
                Figure(
                    section,
                    f"{section}: benchmarks/{module}.py not present",
                    None,
                    "",
                    note="not run: the module is missing",
                )
            ]
        mod = importlib.import_module(module)
        fn = getattr(mod, "run", None)
        if callable(fn):
            try:
                raw = fn(quick=quick)
            except SystemExit as exc:  # a script's argparse must not end the suite
                raise RuntimeError(f"{module}.run exited ({exc.code})") from None
        else:
            argv = [sys.executable, str(path), "--json", *(["--quick"] if quick else [])]
            done = subprocess.run(argv, capture_output=True, text=True, timeout=240)
            try:
                raw = json.loads(done.stdout)
            except ValueError:
                return [
                    Figure(
                        section,
                        f"{section} ({module})",
                        None,
                        "",
                        note=(done.stdout.strip() or done.stderr.strip())[-300:],
                    )
                ]
        return [_as_figure(section, row) for row in _rows(raw)]

    return run


def _render(quick: bool) -> list[Figure]:
    """The guide helper's ``bench_render.py`` (a script writing results/render.json), in a subprocess."""
    path = HERE / "bench_render.py"
    if not path.exists():
        return [
            Figure(
                "render",
                "render: benchmarks/bench_render.py not present",
                None,
                "",
                note="not run: the module is missing",
            )
        ]
    argv = [sys.executable, str(path), *(["--notices", "300", "--repeat", "10"] if quick else [])]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=280)
    if done.returncode != 0:
        raise RuntimeError(f"bench_render.py exited {done.returncode}: {done.stderr.strip()[-300:]}")
    data = json.loads((RESULTS / "render.json").read_text(encoding="utf-8"))
    rows = data["results"]
    bare_key = next(k for k in rows if k.startswith("bare Jinja"))
    bare = rows[bare_key]["median_ms"]
    out = []
    for key, label, targeted in (
        ("one notice, HTML (warm)", "one notice, HTML, warm", True),
        ("one notice, Markdown (warm)", "one notice, Markdown, warm", True),
        ("one notice, HTML, a new start date each time", "one notice, HTML, a start date not seen before", False),
    ):
        if key not in rows:
            continue
        mine = rows[key]["median_ms"]
        out.append(
            Figure(
                "render",
                f"{label} vs bare Jinja render of the same context",
                mine,
                "ms",
                "bare Jinja (HTML template)",
                bare,
                bare / mine,
                "≤2× slower" if targeted else "",
                mine <= 2 * bare if targeted else None,
                f"{data.get('flowchart')} ({data.get('steps')} steps), {rows[key].get('runs')} runs timed in turn "
                "with the bare render; flowmatch = build the context + render; the bare render reuses the "
                "notice's own prepared context (notice._template_context, checked to give the same HTML)"
                + ("" if targeted else "; its pictures (Gantt chart, dates) are drawn afresh, not cached"),
            )
        )
    batch = next((v for k, v in rows.items() if k.startswith("batch of")), None)
    if batch is not None:
        name = next(k for k in rows if k.startswith("batch of"))
        cores = batch.get("cpu_seconds", 0) / batch["seconds"] if batch.get("seconds") else 0
        serial = bare * batch["written"] / 1e3
        out.append(
            Figure(
                "render",
                name,
                batch["seconds"],
                "s",
                f"{batch['written']} × bare Jinja, one process",
                serial,
                serial / batch["seconds"],
                "uses both cores",
                bool(cores >= 1.5 and not batch["failed"]),
                f"{batch['notices_per_second']} notices/s, {batch['failed']} failed; CPU {cores:.2f} cores "
                "busy "
                f"on average (cpu {batch.get('cpu_seconds')} s ÷ wall {batch['seconds']} s); the batch also "
                f"matches, schedules and writes each notice; the guide helper's own target < 10 s: "
                f"{'met' if batch.get('met') else 'not met'}",
            )
        )
    return out


def _rows(raw: Any) -> list[Any]:
    if isinstance(raw, dict):
        for key in ("figures", "rows", "results"):
            if isinstance(raw.get(key), list):
                return list(raw[key])
        return [{"figure": k, **v} if isinstance(v, dict) else {"figure": k, "value": v} for k, v in raw.items()]
    return list(raw or [])


def _as_figure(section: str, row: Any) -> Figure:
    if isinstance(row, Figure):
        return row
    if hasattr(row, "to_dict"):
        row = row.to_dict()
    if not isinstance(row, dict):
        return Figure(section, str(row), None, "")
    value = row.get("value", row.get("flowmatch"))
    peer_value = row.get("peer_value")
    peer = row.get("peer", "")
    if isinstance(peer, (int, float)) and peer_value is None:
        peer_value, peer = peer, row.get("peer_name", "")
    known = {
        "section",
        "figure",
        "name",
        "value",
        "flowmatch",
        "unit",
        "peer",
        "peer_name",
        "peer_value",
        "ratio",
        "target",
        "met",
        "note",
    }
    return Figure(
        section=str(row.get("section", section)),
        figure=str(row.get("figure", row.get("name", "?"))),
        value=value if isinstance(value, (int, float)) else None,
        unit=str(row.get("unit", "")),
        peer=str(peer or ""),
        peer_value=peer_value if isinstance(peer_value, (int, float)) else None,
        ratio=row.get("ratio") if isinstance(row.get("ratio"), (int, float)) else None,
        target=str(row.get("target", "") or ""),
        met=row.get("met") if isinstance(row.get("met"), bool) else None,
        note=str(row.get("note", "") or "") + ("" if isinstance(value, (int, float)) or value is None else f" {value}"),
        extra={k: v for k, v in row.items() if k not in known},
    )


def _web(quick: bool) -> list[Figure]:
    path = RESULTS / "load_web.json"
    if not path.exists():
        return [
            Figure(
                "web",
                "web load test (benchmarks/load_web.py)",
                None,
                "",
                note="not run here: benchmarks/results/load_web.json is absent",
            )
        ]
    data = json.loads(path.read_text(encoding="utf-8"))
    rows = [_as_figure("web", r) for r in _rows(data)]
    for r in rows:
        r.note = (r.note + " " if r.note else "") + f"(from results/load_web.json, {_mtime(path)})"
    return rows


def _mtime(path: Path) -> str:
    return dt.datetime.fromtimestamp(path.stat().st_mtime).strftime("%Y-%m-%d %H:%M")


RUNNERS: dict[str, Callable[[bool], list[Figure]]] = {
    "match": _own("bench_match"),
    "schedule": _own("bench_schedule"),
    "render": _render,
    "pdf": _own("bench_pdf"),
    "load": _own("bench_load"),
    "cli": _own("bench_cli"),
    "wizard": _helper("wizard", "bench_wizard"),
    "web": _web,
    "tracking": _own("bench_tracking"),
}


# --- output ----------------------------------------------------------------------------------------
def _met(f: Figure) -> str:
    return "—" if f.met is None else ("yes" if f.met else "NO")


TIMED = ("ns", "µs", "ms", "s", "profiles/s", "req/s", "ops/s", "notices/s")


def _cells(f: Figure) -> list[str]:
    ratio = "—" if f.ratio is None else (ratio_text(f.ratio) if f.unit in TIMED else f"{f.ratio:.3g}×")
    return [
        f.section,
        f.figure,
        fmt(f.value, f.unit),
        f"{f.peer} {fmt(f.peer_value, f.unit)}".strip() if f.peer_value is not None else (f.peer or "—"),
        ratio,
        f.target or "—",
        _met(f),
    ]


HEAD = ["section", "figure", "flowmatch", "peer", "ratio", "target", "met?"]


def table_text(figures: list[Figure]) -> str:
    rows = [HEAD, *(_cells(f) for f in figures)]
    cap = [8, 58, 16, 40, 16, 14, 4]

    def cut(s: str, n: int) -> str:
        return s if len(s) <= n else s[: n - 1] + "…"

    widths = [min(cap[i], max(len(r[i]) for r in rows)) for i in range(len(HEAD))]
    lines = []
    for k, r in enumerate(rows):
        lines.append("  ".join(cut(c, widths[i]).ljust(widths[i]) for i, c in enumerate(r)).rstrip())
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def table_md(figures: list[Figure], meta: dict[str, Any]) -> str:
    m = meta["machine"]
    out = [
        "# flowmatch benchmark results",
        "",
        f"Run {meta['date']} with `python benchmarks/run.py{' ' + ' '.join(meta['argv']) if meta['argv'] else ''}` "
        f"in {meta['seconds']:.0f} s on {m['cpu']} ({m['cores']} cores, {m['memory']}), "
        f"{m['implementation']} {m['python']}, {m['os']}. Each figure is a median over many repetitions; "
        "ratio = how many times faster flowmatch is than the peer (peer time ÷ flowmatch time).",
        "",
        "| " + " | ".join(HEAD) + " |",
        "|" + "|".join("---" for _ in HEAD) + "|",
    ]
    for f in figures:
        out.append("| " + " | ".join(c.replace("|", "\\|") for c in _cells(f)) + " |")
    notes = [(i, f) for i, f in enumerate(figures, 1) if f.note]
    if notes:
        out += ["", "Notes:", ""]
        out += [f"- {f.section} / {f.figure}: {f.note}" for _, f in notes]
    for section, text in meta.get("appendix", {}).items():
        out += ["", f"## {section}", "", text]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions and smaller inputs (a smoke run)")
    parser.add_argument("--only", default="", help=f"comma-separated sections: {','.join(SECTIONS)}")
    parser.add_argument("--no-write", action="store_true", help="print the table but do not write results/")
    args = parser.parse_args(argv)
    chosen = [s.strip() for s in args.only.split(",") if s.strip()] or list(SECTIONS)
    unknown = [s for s in chosen if s not in SECTIONS]
    if unknown:
        parser.error(f"unknown section(s) {', '.join(unknown)}; allowed: {', '.join(SECTIONS)}")
    timing.configure(args.quick)
    started = time.perf_counter()
    # Process figures should see flowmatch as pip installs it: bytecode compiled.  (An editable install
    # under PYTHONDONTWRITEBYTECODE=1 would compile every module on every start.)
    import flowmatch

    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(Path(flowmatch.__file__).parent)],
        capture_output=True,
        check=False,
    )
    figures: list[Figure] = []
    seconds: dict[str, float] = {}
    for section in chosen:
        print(f"[{section}] ...", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        try:
            got = RUNNERS[section](args.quick)
        except Exception as exc:  # one broken section must not lose the others
            traceback.print_exc()
            got = [
                Figure(section, f"{section}: failed", None, "", met=False, note=f"{type(exc).__name__}: {exc}"[:400])
            ]
        seconds[section] = time.perf_counter() - t0
        print(f"[{section}] {seconds[section]:.1f} s", file=sys.stderr, flush=True)
        figures.extend(got)
    total = time.perf_counter() - started
    print(table_text(figures))
    targets = [f for f in figures if f.met is not None]
    print(f"\n{sum(1 for f in targets if f.met)}/{len(targets)} targets met; suite ran in {total:.0f} s")
    meta = {
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "argv": argv if argv is not None else sys.argv[1:],
        "seconds": total,
        "section_seconds": seconds,
        "machine": timing.machine(),
        "quick": args.quick,
        "appendix": {},
    }
    for f in figures:
        appendix = f.extra.pop("appendix", None)
        if appendix:
            meta["appendix"][f"{f.section}: {f.figure}"] = appendix
    if not args.no_write:
        RESULTS.mkdir(exist_ok=True)
        name = "latest" if set(chosen) == set(SECTIONS) and not args.quick else "partial"
        payload = {**meta, "figures": [f.to_dict() for f in figures]}
        tmp = RESULTS / f"{name}.json.tmp"
        tmp.write_text(json.dumps(payload, ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8")
        os.replace(tmp, RESULTS / f"{name}.json")
        (RESULTS / f"{name}.md").write_text(table_md(figures, meta), encoding="utf-8")
        print(f"wrote {RESULTS / (name + '.json')} and {name}.md", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
