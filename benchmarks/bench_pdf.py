"""PDF notices (issue 18): the candidate engines side by side on the same F10 notice, then the whole
process and the batch against the targets.

Candidates, each printing the same notice in this process (warm: fonts and templates loaded):
WeasyPrint as shipped; WeasyPrint tuned (fixed table layout where the widths are known, tags on);
Typst through its Python binding with a Jinja-rendered prototype template (``benchmarks/typst``:
header, landscape pictures, materials tables, step blocks — the bulk of the pages, not the whole
notice); the system's headless Chromium over the DevTools pipe (``flowmatch.pdf``, the default).

Whole process: ``flowmatch guide ... --format pdf`` beside ``--format html``, run in turn A B A B
so drift on a shared machine hits both (target ≤ 2.5×).  Batch: notices per second through
``run_batch`` on 2 processes, Chromium beside WeasyPrint (target ≥ 5×), and the memory of one
worker with its browser (target ≤ 300 MB).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
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


def _median(samples: list[float]) -> float:
    return sorted(samples)[len(samples) // 2]


def _notice() -> tuple[Any, str, dict[str, Any]]:
    from flowmatch.calendar import WorkCalendar
    from flowmatch.flows import for_situation
    from flowmatch.matcher import matcher_for
    from flowmatch.render import GOLDEN, build_context, render_guide
    from flowmatch.ruleset import default_ruleset
    from flowmatch.scheduler import schedule

    rs = default_ruleset()
    profile = GOLDEN["F10"]
    result = matcher_for(rs).match(profile)
    flow = for_situation(rs, result.situation or "", flags=result.flags, profile=profile)
    cal = WorkCalendar()
    plan = schedule(flow, START, cal, ruleset=rs)
    html = render_guide(result, plan, "html", ruleset=rs, project_name="基准测试项目", calendar=cal)
    assert isinstance(html, str)
    ctx = build_context(result, plan, ruleset=rs, project_name="基准测试项目", calendar=cal)
    return rs, html, ctx


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


def _weasyprint(html: str, tuned: bool, full_fonts: bool = False) -> Callable[[], bytes]:
    import weasyprint  # type: ignore[import-untyped]

    from flowmatch.render import default_guides_path, find_cjk_font

    font = find_cjk_font()
    family = font[0] if font else "sans-serif"
    css = f"html, body, svg, svg text {{ font-family: '{family}', sans-serif; }}\n" + (TUNED_CSS if tuned else "")
    sheet = weasyprint.CSS(string=css)
    cache: dict[Any, Any] = {}
    opts: dict[str, Any] = {"pdf_tags": True, "cache": cache} if tuned else {}
    if full_fonts:
        opts["full_fonts"] = True  # no subsetting: the whole CJK font goes into the file

    def run() -> bytes:
        doc = weasyprint.HTML(string=html, base_url=str(default_guides_path()))
        return bytes(doc.write_pdf(stylesheets=[sheet], **opts))

    return run


def _typst(ctx: dict[str, Any]) -> Callable[[], bytes]:
    import typst
    from jinja2 import Environment, FileSystemLoader

    from flowmatch.render import cn_date

    def t(value: Any) -> str:  # Typst markup escaping
        return re.sub(r"([\\#\[\]*_`$<>@=~/\"])", r"\\\1", str(value))

    env = Environment(loader=FileSystemLoader(str(HERE / "typst")), autoescape=False)
    env.filters.update(t=t, cn_date=lambda d, weekday=False: t(cn_date(d, weekday)))
    root = Path(tempfile.mkdtemp(prefix="flowmatch-typst-"))
    (root / "flowchart.svg").write_text(str(ctx["pictures"]["flowchart"]), encoding="utf-8")
    (root / "gantt.svg").write_text(str(ctx["pictures"]["gantt"]), encoding="utf-8")
    fonts = [p for p in ("/usr/share/fonts/truetype/wqy", "/usr/share/fonts/opentype/noto") if Path(p).is_dir()]
    template = env.get_template("notice.typ.j2")

    count = [0]

    def run() -> bytes:  # a different project name each time: no compile is answered from the last one
        count[0] += 1
        header = {**ctx["header"], "project_name": f"基准测试项目{count[0]}"}
        (root / "main.typ").write_text(template.render({**ctx, "header": header}), encoding="utf-8")
        return bytes(typst.compile(str(root / "main.typ"), root=str(root), font_paths=fonts))

    return run


def candidates(quick: bool) -> list[Figure]:
    from flowmatch.pdf import ChromiumPrinter, find_chromium

    _, html, ctx = _notice()
    repeat = 3 if quick else 5
    rows: dict[str, tuple[float, int, str]] = {}
    notes: dict[str, str] = {}
    try:
        t, pdf = _time(_weasyprint(html, tuned=False), max(1, repeat // 2))
        rows["WeasyPrint as shipped"] = (t, _pages(pdf), "untagged")
        t, pdf = _time(_weasyprint(html, tuned=True), max(1, repeat // 2))
        rows["WeasyPrint tuned (fixed tables, tags)"] = (t, _pages(pdf), "pdf_tags")
        t, pdf = _time(_weasyprint(html, tuned=True, full_fonts=True), 1)
        rows["WeasyPrint tuned + full fonts (no subsetting)"] = (t, _pages(pdf), f"pdf_tags, {len(pdf) >> 20} MB")
    except (ImportError, OSError) as exc:
        notes["weasyprint"] = f"not measured: {exc}"
    try:
        t, pdf = _time(_typst(ctx), repeat)
        rows["Typst prototype (part of the notice)"] = (t, _pages(pdf), "tagged by default")
    except ImportError as exc:
        notes["typst"] = f"not measured: {exc}"
    if find_chromium():
        with ChromiumPrinter() as printer:
            t, pdf = _time(lambda: printer.print_pdf(html), repeat)
        rows["Chromium print (flowmatch.pdf)"] = (t, _pages(pdf), "tagged")
    else:
        notes["chromium"] = "not measured: no Chromium on PATH"
    base = rows.get("WeasyPrint as shipped")
    out = []
    for name, (seconds, pages, tags) in rows.items():
        out.append(
            Figure(
                SECTION,
                f"engine: {name}, one F10 notice, warm",
                seconds * 1000,
                "ms",
                "WeasyPrint as shipped" if base and name != "WeasyPrint as shipped" else "",
                base[0] * 1000 if base and name != "WeasyPrint as shipped" else None,
                base[0] / seconds if base and name != "WeasyPrint as shipped" else None,
                "",
                None,
                f"{pages} pages, {tags}; median of {repeat} prints in one process",
            )
        )
    for name, note in notes.items():
        out.append(Figure(SECTION, f"engine: {name}", None, "", note=note))
    return out


def _run(argv: list[str], env: dict[str, str]) -> tuple[float, int]:
    t0 = time.perf_counter()
    subprocess.run(argv, capture_output=True, check=True, env=env)
    return time.perf_counter() - t0, 0


def whole_process(quick: bool) -> list[Figure]:
    exe = Path(sys.executable).with_name("flowmatch")
    from flowmatch.render import GOLDEN

    pairs = [f"{k}={v}" for k, v in GOLDEN["F10"].items()]
    runs = 3 if quick else 7
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        base = [str(exe), "guide", *pairs, "--start", START.isoformat(), "--force", "-o"]
        html_cmd = [*base, f"{tmp}/n.html"]
        engines = {
            "chromium": dict(os.environ, FLOWMATCH_PDF_ENGINE="chromium"),
            "weasyprint": dict(os.environ, FLOWMATCH_PDF_ENGINE="weasyprint"),
        }
        for engine, env in engines.items():
            if engine == "weasyprint" and quick:
                continue
            pdf_cmd = [*base, f"{tmp}/n.pdf"]
            try:
                _run(pdf_cmd, env)
                _run(html_cmd, env)
            except subprocess.CalledProcessError as exc:
                out.append(
                    Figure(
                        SECTION,
                        f"one notice, PDF ({engine}), whole process",
                        None,
                        "",
                        note=f"not run: {exc.stderr.decode()[-200:]}",
                    )
                )
                continue
            mine, theirs, ratios = [], [], []
            for _ in range(runs if engine == "chromium" else 2):
                a, _ = _run(pdf_cmd, env)
                b, _ = _run(html_cmd, env)
                mine.append(a)
                theirs.append(b)
                ratios.append(a / b)
            ratio = _median(ratios)
            chosen = engine == "chromium"
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
                    f"median of {len(ratios)} pairs run in turn; ratio PDF ÷ HTML {ratio:.2f} (median of pair ratios)",
                )
            )
    return out


def _rss_of_group(pgid: int) -> int:
    """Proportional set size (bytes) of every process in a process group (the browser's)."""
    return _memory_of_group(pgid)[0]


def _peak() -> int:
    """This process's peak resident set (bytes) since its exec (``VmHWM``; ``ru_maxrss`` would carry
    the forking parent's peak over)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def _memory_of_group(pgid: int) -> tuple[int, int]:
    """(PSS, USS) in bytes of every process in a process group: PSS shares the browser binary's pages
    with any other Chromium on the machine, USS (private pages only) leaves them out."""
    pss = uss = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.getpgid(int(entry.name)) != pgid:
                continue
            for line in (entry / "smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    pss += int(line.split()[1]) * 1024
                elif line.startswith(("Private_Clean:", "Private_Dirty:")):
                    uss += int(line.split()[1]) * 1024
        except (OSError, ValueError):
            continue
    return pss, uss


_WORKER = """
import sys
sys.path.insert(0, sys.argv[1])
import bench_pdf
from flowmatch.pdf import ChromiumPrinter
_, html, _ = bench_pdf._notice()
with ChromiumPrinter() as printer:
    for _ in range(3):
        printer.print_pdf(html)
    browser, private = bench_pdf._memory_of_group(printer._proc.pid)
print(private, browser, bench_pdf._peak())
"""


def memory() -> list[Figure]:
    """A fresh worker process (as in a batch) prints three F10 notices; its peak plus its browser's PSS."""
    from flowmatch.pdf import find_chromium

    if not find_chromium():
        return []
    done = subprocess.run([sys.executable, "-c", _WORKER, str(HERE)], capture_output=True, text=True, check=True)
    private, browser, me = (int(x) for x in done.stdout.split()[-3:])
    total = (browser + me) / 2**20
    return [
        Figure(
            SECTION,
            "memory of one worker with its browser (PSS of the browser's processes + worker peak)",
            total,
            "MB",
            "WeasyPrint worker (today's engine)",
            _weasyprint_peak(),
            None,
            "≤300 MB",
            total <= 300,
            f"browser {browser / 2**20:.0f} MB PSS ({private / 2**20:.0f} MB private to it), worker "
            f"{me / 2**20:.0f} MB peak, after 3 F10 notices; peer: a WeasyPrint worker's peak on the same notice",
        )
    ]


_WEASY_WORKER = """
import os, sys
os.environ["FLOWMATCH_PDF_ENGINE"] = "weasyprint"
sys.path.insert(0, sys.argv[1])
import bench_pdf
from flowmatch.render import _weasyprint
_, html, _ = bench_pdf._notice()
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
    from flowmatch.cli_guide import run_batch
    from flowmatch.render import GOLDEN

    counts = {"chromium": 20 if quick else 60, "weasyprint": 4 if quick else 8}
    rates: dict[str, float] = {}
    out = []
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
    os.environ.pop("FLOWMATCH_PDF_ENGINE", None)
    if "chromium" in rates:
        hours = {e: 1000 / r / 60 for e, r in rates.items()}
        speed = rates["chromium"] / rates["weasyprint"] if "weasyprint" in rates else None
        out.append(
            Figure(
                SECTION,
                "batch of 1,000 F10 PDF notices, 2 processes (minutes, from the measured rate)",
                hours["chromium"],
                "min",
                "WeasyPrint (today's engine)",
                hours.get("weasyprint"),
                speed,
                "≥5× faster",
                None if speed is None else speed >= 5,
                f"Chromium {counts['chromium']} notices at {rates['chromium']:.2f}/s; "
                f"WeasyPrint {counts['weasyprint']} notices at {rates.get('weasyprint', 0):.3f}/s "
                "(the 29-page F10, the heaviest notice)",
            )
        )
    return out


def run(quick: bool = False) -> list[Figure]:
    if shutil.which("chromium") is None and not os.environ.get("FLOWMATCH_CHROMIUM"):
        return [Figure(SECTION, "pdf: no Chromium installed", None, "", note="apt-get install chromium")]
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
