"""PDF notices (issue 18): the engines side by side on the same F10 notice, then the default engine
(Typst) as a whole process, in a worker's memory and in a batch, against the targets.

Engines, each printing the same notice in this process (warm: fonts and templates loaded):
WeasyPrint as shipped; WeasyPrint tuned (fixed table layout where the widths are known, tags on);
the system's headless Chromium over the DevTools pipe (``flowmatch.pdf``); Typst through its Python
binding (``flowmatch.typeset``: the Typst templates rendered and compiled, a different project name
each time, the memo cache trimmed after each notice as in a worker).

Whole process: ``flowmatch guide ... --format pdf`` beside ``--format html``, run in turn A B A B so
drift on a shared machine hits both (Typst: target ≤ 2.5×; Chromium and WeasyPrint for comparison).
Memory: a fresh worker process typesets F10 notices one after another (peak RSS and PSS; target
≤ 300 MB).  Batch: notices per second through ``run_batch`` on 2 processes, Typst beside WeasyPrint
(target ≥ 5× faster), Chromium for comparison; 1,000 notices estimated from the measured rate.

    python benchmarks/bench_pdf.py [--quick]     # or: python benchmarks/run.py --only pdf
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from timing import Figure

SECTION = "pdf"
HERE = Path(__file__).resolve().parent
START = dt.date(2026, 3, 2)
TUNED_CSS = """
table.kv, .step table.kv { table-layout: fixed; }
table.kv th { width: 26mm; } .step table.kv th { width: 19mm; }
"""
WORKER_NOTICES = 8  # the memo cache reaches its steady size after about three notices


def _median(samples: list[float]) -> float:
    return sorted(samples)[len(samples) // 2]


def _notice() -> tuple[str, dict[str, Any]]:
    """The F10 notice as HTML, and its context with the pictures (what the Typst templates get)."""
    from flowmatch.calendar import WorkCalendar
    from flowmatch.golden import GOLDEN
    from flowmatch.notice import build_notice, render
    from flowmatch.render import notice_pictures

    notice = build_notice(GOLDEN["F10"], start=START, calendar=WorkCalendar(), name="基准测试项目")
    html = render(notice, "html")
    assert isinstance(html, str)
    src = notice._source
    assert src is not None
    ctx = src.context
    pictures = notice_pictures(src.schedule, src.calendar, ctx["department_shorts"], ctx["joint_ids"], "svg")
    return html, {**ctx, "pictures": pictures, "format": "pdf"}


def _pages(pdf: bytes) -> int:
    try:
        import io

        import pikepdf
    except ImportError:
        return len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        return len(doc.pages)


def _time(fn: Callable[[], bytes], repeat: int) -> tuple[float, bytes]:
    out = fn()  # warm
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        samples.append(time.perf_counter() - t0)
    return _median(samples), out


def _weasyprint(html: str, tuned: bool) -> Callable[[], bytes]:
    import weasyprint  # type: ignore[import-untyped]

    from flowmatch.render import default_guides_path, find_cjk_font

    font = find_cjk_font()
    family = font[0] if font else "sans-serif"
    css = f"html, body, svg, svg text {{ font-family: '{family}', sans-serif; }}\n" + (TUNED_CSS if tuned else "")
    sheet = weasyprint.CSS(string=css)
    cache: dict[Any, Any] = {}
    opts: dict[str, Any] = {"pdf_tags": True, "cache": cache} if tuned else {}

    def run() -> bytes:
        doc = weasyprint.HTML(string=html, base_url=str(default_guides_path()))
        return bytes(doc.write_pdf(stylesheets=[sheet], **opts))

    return run


def _typst(ctx: dict[str, Any]) -> Callable[[], bytes]:
    from flowmatch.typeset import typeset

    count = [0]

    def run() -> bytes:  # a different project name each time: no compile is answered from the last one
        count[0] += 1
        header = {**ctx["header"], "project_name": f"基准测试项目{count[0]}"}
        return typeset({**ctx, "header": header})

    return run


def candidates(quick: bool) -> list[Figure]:
    from flowmatch.pdf import ChromiumPrinter, find_chromium

    html, ctx = _notice()
    repeat = 3 if quick else 5
    rows: dict[str, tuple[float, int, str]] = {}
    notes: dict[str, str] = {}
    try:
        t, pdf = _time(_weasyprint(html, tuned=False), max(1, repeat // 2))
        rows["WeasyPrint as shipped"] = (t, _pages(pdf), "untagged")
        t, pdf = _time(_weasyprint(html, tuned=True), max(1, repeat // 2))
        rows["WeasyPrint tuned (fixed tables, tags)"] = (t, _pages(pdf), "pdf_tags")
    except (ImportError, OSError) as exc:
        notes["weasyprint"] = f"not measured: {exc}"
    if find_chromium():
        with ChromiumPrinter() as printer:
            t, pdf = _time(lambda: printer.print_pdf(html), repeat)
        rows["Chromium print (flowmatch.pdf)"] = (t, _pages(pdf), "tagged")
    else:
        notes["chromium"] = "not measured: no Chromium on PATH"
    try:
        t, pdf = _time(_typst(ctx), repeat * 2)
        rows["Typst (flowmatch.typeset, the default)"] = (t, _pages(pdf), "tagged, PDF/UA-1")
    except ImportError as exc:
        notes["typst"] = f"not measured: {exc}"
    base = rows.get("WeasyPrint as shipped")
    out = []
    for name, (seconds, pages, tags) in rows.items():
        peer = base is not None and name != "WeasyPrint as shipped"
        out.append(
            Figure(
                SECTION,
                f"engine: {name}, one F10 notice, warm",
                seconds * 1000,
                "ms",
                "WeasyPrint as shipped" if peer else "",
                base[0] * 1000 if base and peer else None,
                base[0] / seconds if base and peer else None,
                "",
                None,
                f"{pages} pages, {tags}; median of {repeat * 2 if 'Typst' in name else repeat} prints in one process",
            )
        )
    for name, note in notes.items():
        out.append(Figure(SECTION, f"engine: {name}", None, "", note=note))
    return out


def _run(argv: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(argv, capture_output=True, check=True, env=env)
    return time.perf_counter() - t0


def whole_process(quick: bool) -> list[Figure]:
    from flowmatch.golden import GOLDEN
    from flowmatch.pdf import find_chromium
    from flowmatch.typeset import available

    exe = Path(sys.executable).with_name("flowmatch")
    pairs = [f"{k}={v}" for k, v in GOLDEN["F10"].items()]
    runs = {"typst": 3 if quick else 9, "chromium": 3 if quick else 5, "weasyprint": 2}
    engines = [
        e
        for e, ok in (("typst", available()), ("chromium", find_chromium() is not None), ("weasyprint", not quick))
        if ok
    ]
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        base = [str(exe), "guide", *pairs, "--start", START.isoformat(), "--force", "-o"]
        html_cmd = [*base, f"{tmp}/n.html"]
        pdf_cmd = [*base, f"{tmp}/n.pdf"]
        for engine in engines:
            env = dict(os.environ, FLOWMATCH_PDF_ENGINE=engine)
            try:
                _run(pdf_cmd, env)
                _run(html_cmd, env)
            except subprocess.CalledProcessError as exc:
                out.append(
                    Figure(
                        SECTION,
                        f"one F10 notice, PDF ({engine}) vs HTML, whole process",
                        None,
                        "",
                        note=f"not run: {exc.stderr.decode()[-200:]}",
                    )
                )
                continue
            mine, theirs, ratios = [], [], []
            for _ in range(runs[engine]):
                a = _run(pdf_cmd, env)
                b = _run(html_cmd, env)
                mine.append(a)
                theirs.append(b)
                ratios.append(a / b)
            ratio = _median(ratios)
            chosen = engine == "typst"
            out.append(
                Figure(
                    SECTION,
                    f"one F10 notice, PDF ({engine}) vs HTML, whole process",
                    _median(mine),
                    "s",
                    "same notice as HTML",
                    _median(theirs),
                    1 / ratio,
                    "≤2.5× slower" if chosen else "",
                    (ratio <= 2.5) if chosen else None,
                    f"median of {len(ratios)} pairs run in turn; ratio PDF ÷ HTML {ratio:.2f} (median of pair "
                    f"ratios, range {min(ratios):.2f}–{max(ratios):.2f})",
                )
            )
    return out


def _peak() -> int:
    """This process's peak resident set (bytes) since its exec (``VmHWM``; ``ru_maxrss`` would carry
    the forking parent's peak over)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def _memory_of(pid: int | str = "self") -> tuple[int, int]:
    """(PSS, USS) in bytes of one process (PSS shares library pages with the other processes using them)."""
    pss = uss = 0
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            pss += int(line.split()[1]) * 1024
        elif line.startswith(("Private_Clean:", "Private_Dirty:")):
            uss += int(line.split()[1]) * 1024
    return pss, uss


def _memory_of_group(pgid: int) -> tuple[int, int]:
    """(PSS, USS) in bytes of every process in a process group (a browser's)."""
    pss = uss = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.getpgid(int(entry.name)) != pgid:
                continue
            p, u = _memory_of(entry.name)
        except (OSError, ValueError):
            continue
        pss, uss = pss + p, uss + u
    return pss, uss


_TYPST_WORKER = f"""
import sys
sys.path.insert(0, sys.argv[1])
import bench_pdf
from flowmatch.typeset import typeset
_, ctx = bench_pdf._notice()
for i in range({WORKER_NOTICES}):
    typeset({{**ctx, "header": {{**ctx["header"], "project_name": f"项目{{i}}"}}}})
pss, uss = bench_pdf._memory_of()
print(pss, uss, bench_pdf._peak())
"""

_CHROMIUM_WORKER = """
import sys
sys.path.insert(0, sys.argv[1])
import bench_pdf
from flowmatch.pdf import ChromiumPrinter
html, _ = bench_pdf._notice()
with ChromiumPrinter() as printer:
    for _ in range(3):
        printer.print_pdf(html)
    browser, private = bench_pdf._memory_of_group(printer._proc.pid)
print(private, browser, bench_pdf._peak())
"""


def memory() -> list[Figure]:
    """A fresh worker process (as in a batch) typesets F10 notices one after another: its peak RSS and
    its PSS at the end; Chromium (the worker plus its browser) and WeasyPrint for comparison."""
    from flowmatch.pdf import find_chromium
    from flowmatch.typeset import available

    out = []
    peer = _weasyprint_peak()
    if available():
        done = subprocess.run(
            [sys.executable, "-c", _TYPST_WORKER, str(HERE)], capture_output=True, text=True, check=True
        )
        pss, uss, peak = (int(x) / 2**20 for x in done.stdout.split()[-3:])
        out.append(
            Figure(
                SECTION,
                "memory of one Typst worker (peak RSS; PSS after the notices)",
                peak,
                "MB",
                "WeasyPrint worker",
                peer,
                None,
                "≤300 MB",
                peak <= 300,
                f"after {WORKER_NOTICES} F10 notices in one process (the memo cache trimmed after each): "
                f"peak RSS {peak:.0f} MB, PSS {pss:.0f} MB, private {uss:.0f} MB; peer: a WeasyPrint "
                "worker's peak on one notice",
            )
        )
    if find_chromium():
        done = subprocess.run(
            [sys.executable, "-c", _CHROMIUM_WORKER, str(HERE)], capture_output=True, text=True, check=True
        )
        private, browser, me = (int(x) for x in done.stdout.split()[-3:])
        total = (browser + me) / 2**20
        out.append(
            Figure(
                SECTION,
                "memory of one Chromium worker with its browser (browser PSS + worker peak)",
                total,
                "MB",
                "WeasyPrint worker",
                peer,
                None,
                "",
                None,
                f"browser {browser / 2**20:.0f} MB PSS ({private / 2**20:.0f} MB private to it), worker "
                f"{me / 2**20:.0f} MB peak, after 3 F10 notices",
            )
        )
    return out


_WEASY_WORKER = """
import sys
sys.path.insert(0, sys.argv[1])
import bench_pdf
from flowmatch.render import _weasyprint
html, _ = bench_pdf._notice()
_weasyprint(html)
print(bench_pdf._peak())
"""


def _weasyprint_peak() -> float | None:
    try:
        done = subprocess.run(
            [sys.executable, "-c", _WEASY_WORKER, str(HERE)], capture_output=True, text=True, check=True
        )
    except subprocess.CalledProcessError:
        return None
    return int(done.stdout.split()[-1]) / 2**20


def batch(quick: bool) -> list[Figure]:
    from flowmatch.batch import run_batch
    from flowmatch.golden import GOLDEN
    from flowmatch.pdf import find_chromium
    from flowmatch.typeset import available

    counts = {"typst": 24 if quick else 80, "chromium": 10 if quick else 30, "weasyprint": 4 if quick else 8}
    if not available():
        counts.pop("typst")
    if find_chromium() is None:
        counts.pop("chromium")
    rates: dict[str, float] = {}
    out = []
    previous = os.environ.get("FLOWMATCH_PDF_ENGINE")
    try:
        for engine, count in counts.items():
            os.environ["FLOWMATCH_PDF_ENGINE"] = engine
            with tempfile.TemporaryDirectory() as tmp:
                src = Path(tmp) / "batch.csv"
                cols = sorted(GOLDEN["F10"])
                lines = ["id,name,start," + ",".join(cols)]
                for i in range(count):
                    lines.append(f"n{i:04d},项目{i},{START.isoformat()}," + ",".join(GOLDEN["F10"][c] for c in cols))
                src.write_text("\n".join(lines) + "\n", encoding="utf-8")
                t0 = time.perf_counter()
                report = run_batch(src, Path(tmp) / "out", "pdf", jobs=2)
                seconds = time.perf_counter() - t0
            if report.failed:
                out.append(
                    Figure(
                        SECTION,
                        f"batch of PDF notices ({engine})",
                        None,
                        "",
                        note=f"failed: {report.failed[0]['error'][:200]}",
                    )
                )
                continue
            rates[engine] = len(report.written) / seconds
    finally:
        if previous is None:
            os.environ.pop("FLOWMATCH_PDF_ENGINE", None)
        else:
            os.environ["FLOWMATCH_PDF_ENGINE"] = previous
    minutes = {e: 1000 / r / 60 for e, r in rates.items()}
    slow = rates.get("weasyprint")
    for engine in ("typst", "chromium"):
        if engine not in rates:
            continue
        chosen = engine == "typst"
        speed = rates[engine] / slow if slow else None
        out.append(
            Figure(
                SECTION,
                f"batch of 1,000 F10 PDF notices ({engine}), 2 processes (minutes, from the measured rate)",
                minutes[engine],
                "min",
                "WeasyPrint",
                minutes.get("weasyprint"),
                speed,
                "≥5× faster" if chosen else "",
                (None if speed is None else speed >= 5) if chosen else None,
                f"{engine}: {counts[engine]} notices at {rates[engine]:.2f}/s (worker start-up included); "
                f"WeasyPrint: {counts.get('weasyprint', 0)} notices at {rates.get('weasyprint', 0):.3f}/s "
                "(F10, the heaviest notice)",
            )
        )
    return out


def run(quick: bool = False) -> list[Figure]:
    return [*candidates(quick), *whole_process(quick), *memory(), *batch(quick)]


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    for f in run(quick="--quick" in sys.argv):
        ratio = f"{f.ratio:.2f}×" if f.ratio else ""
        peer = f"{f.peer_value:.3g}" if f.peer_value is not None else ""
        print(
            f"{f.figure:<95} {f.value if f.value is None else round(f.value, 3)!s:>9} {f.unit:<4} "
            f"{peer:>8} {ratio:>7} {f.target} {f.met} {f.note}"
        )
