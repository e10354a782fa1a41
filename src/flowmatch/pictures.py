"""The notice's pictures as inline SVG: the flowchart diagram and the Gantt chart.

Both print in black and white: the critical path is drawn thick and solid, not-counted activities
(tendering, auctions, valuation, publicity, intermediary work) are hatched with dashed outlines,
joint procedures get a double border — colour is never the only cue.

The diagram is laid out by Graphviz (``dot``, through the ``graphviz`` package, used for layout
only: positions and edge splines come back in ``plain`` format and are drawn here, so both layouts
look alike) when the ``dot`` program is installed, and otherwise by a built-in layout in stage
columns, ordered by the barycentre of each step's prerequisites to keep edges short.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape

from .calendar import number_text
from .scheduler import Schedule, ScheduledStep

__all__ = ["Diagram", "flowchart_mermaid", "flowchart_svg", "gantt_svg", "layout_engine"]

FONT = "'Noto Sans CJK SC','Source Han Sans SC','WenQuanYi Micro Hei','WenQuanYi Zen Hei','Microsoft YaHei',sans-serif"
FONT_SIZE = 12
LINE = 15
NODE_CHARS = 9
NODE_W = NODE_CHARS * FONT_SIZE + 18
PAD = 12
HEADER = 22
ARROW = 9


NODE_W_EN = 172
"""English names are longer than Chinese ones: wider boxes, up to four lines, words kept whole."""
_HUNDREDTHS = (
    "a53 b59 c46 d59 e54 f33 g52 h59 i26 j26 k50 l26 m90 n59 o58 p59 q59 r40 s45 t34 u59 v48 w75 x50 y49 "
    "z44 A61 B62 C60 D68 E53 F49 G69 H70 I34 J27 K58 L49 M87 N73 O74 P58 Q74 R59 S52 T52 U70 V57 W88 X55 "
    "Y53 Z54 .27 ,25 ;27 :27 (30 )30 -32 /37 &70 '23 ·27"
)
_LATIN_EM: dict[str, float] = {" ": 0.25} | {pair[0]: int(pair[1:]) / 100 for pair in _HUNDREDTHS.split()}
"""Advance widths (em) of WenQuanYi Micro Hei's Latin glyphs, the CJK font CI and the Debian install
print the notice with (measured in Chromium).  Any other character counts 0.6 (digits measure 0.55),
a CJK one 1."""


def _text_width(text: str, size: float = FONT_SIZE) -> float:
    return sum(size if ord(ch) > 0x2E80 else size * 0.58 for ch in text)


def _latin_width(text: str, size: float = FONT_SIZE, *, bold: bool = False) -> float:
    """The width of ``text`` as printed (see :data:`_LATIN_EM`); bold 6 % wider."""
    em = sum(1.0 if ord(ch) > 0x2E80 else _LATIN_EM.get(ch, 0.6) for ch in text)
    return em * size * (1.06 if bold else 1.0)


def _fit(text: str, width: float, size: float = FONT_SIZE, *, bold: bool = False) -> str:
    """``text`` cut with an ellipsis to at most ``width`` (by :func:`_latin_width`)."""
    if _latin_width(text, size, bold=bold) <= width:
        return text
    while text and _latin_width(text + "…", size, bold=bold) > width:
        text = text[:-1]
    return text.rstrip(" ,;(-/") + "…"


def _wrap_words(text: str, width: float, lines: int, size: float = FONT_SIZE, *, bold: bool = False) -> list[str]:
    """Wrap English ``text`` to at most ``lines`` lines of ``width``: breaks between words (and after
    a hyphen or slash), a word longer than a line is split, the last line ends in … if cut."""
    words = re.findall(r"[^\s/-]*[/-]|[^\s/-]+", text)
    out: list[str] = []
    current = ""
    for word in words:
        joined = current + ("" if not current or current.endswith(("-", "/")) else " ") + word
        if _latin_width(joined, size, bold=bold) <= width or not current:
            current = joined
        else:
            out.append(current)
            current = word
        while _latin_width(current, size, bold=bold) > width:  # one word wider than the line
            cut = len(current) - 1
            while cut > 1 and _latin_width(current[:cut] + "-", size, bold=bold) > width:
                cut -= 1
            out.append(current[:cut] + "-")
            current = current[cut:]
    if current:
        out.append(current)
    if len(out) > lines:
        out = out[:lines]
        out[-1] = _fit(out[-1] + "…", width, size, bold=bold)
    return out


def _wrap(text: str, chars: int, lines: int) -> list[str]:
    """Wrap ``text`` to at most ``lines`` lines of about ``chars`` CJK characters (ASCII counts half)."""
    out: list[str] = []
    current = ""
    width = 0.0
    for ch in text:
        w = 1.0 if ord(ch) > 0x2E80 else 0.58
        if width + w > chars + 1e-9 and current:
            out.append(current)
            current, width = "", 0.0
        current += ch
        width += w
    if current:
        out.append(current)
    if len(out) > lines:
        out = out[:lines]
        out[-1] = out[-1][:-1] + "…"
    return out


def _legend_x(labels: Sequence[str], size: float) -> tuple[int, ...]:
    """Where each legend entry (a 26-wide swatch, then its label) starts, one after another."""
    xs, x = [], 0.0
    for label in labels:
        xs.append(round(x))
        x += 32 + _latin_width(label, size) + 22
    return tuple(xs)


# --- flowchart diagram ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Node:
    id: str
    lines: tuple[str, ...]
    sub: str
    stage: int
    critical: bool
    counted: bool
    joint: bool
    width: float
    height: float


@dataclass(frozen=True)
class Diagram:
    """A laid-out flowchart: the SVG markup and which layout produced it."""

    svg: str
    layout: str


def layout_engine() -> str:
    """``graphviz`` when the ``graphviz`` package and the ``dot`` program are both present, else ``builtin``."""
    if shutil.which("dot") is None:
        return "builtin"
    try:
        import graphviz  # type: ignore[import-untyped,import-not-found,unused-ignore]  # noqa: F401
    except ImportError:
        return "builtin"
    return "graphviz"


WORDS: Mapping[str, Mapping[str, str]] = {
    "zh": {
        "flowchart": "审批流程图",
        "batch": "第{n}批",
        "critical": "关键路径",
        "counted": "计时审批",
        "loose": "不计时环节",
        "joint": "联合办理",
        "gantt": "进度横道图",
        "wd": "工作日",
        "date": "日期",
        "finish": "预计办结 {y}年{m}月{d}日",
        "critical_counted": "关键路径（计时）",
        "other": "其他计时审批",
        "loose_long": "不计时环节（招标、公示、评估等）",
        "finish_legend": "预计办结",
        "days": "{n}日",
        "days_loose": "{n}日，不计时",
    },
    "en": {
        "flowchart": "Approval flowchart",
        "batch": "Batch {n}",
        "critical": "Critical path",
        "counted": "Counted",
        "loose": "Not counted",
        "joint": "Joint",
        "gantt": "Schedule",
        "wd": "Working day",
        "date": "Date",
        "finish": "Expected completion {y}-{m:02d}-{d:02d}",
        "critical_counted": "Critical path (counted)",
        "other": "Other counted approvals",
        "loose_long": "Not counted (tendering, notice, assessment)",
        "finish_legend": "Expected completion",
        "days": "{n} d",
        "days_loose": "{n} d, not counted",
    },
}
"""The words of the diagrams in each language of the notice."""


def _nodes(schedule: Schedule, short: Mapping[str, str], joint: Mapping[str, bool], lang: str = "zh") -> list[Node]:
    out = []
    w = WORDS[lang]
    for s in schedule.steps:
        days = w["days"].format(n=number_text(s.duration))
        department = short.get(s.department, s.department)
        if lang == "en":
            node_w = NODE_W_EN
            lines = tuple(_wrap_words(s.name, node_w - 14, 4, bold=s.critical and s.counted))
            sub = f"{_fit(department, node_w - 12 - _latin_width('·' + days, FONT_SIZE - 2), FONT_SIZE - 2)}·{days}"
        else:
            node_w = NODE_W
            lines = tuple(_wrap(s.name, NODE_CHARS, 3))
            sub = f"{department}·{days}"
            if _text_width(sub, FONT_SIZE - 2) > NODE_W - 8:
                sub = f"{department[:4]}·{days}"
        height = len(lines) * LINE + LINE + 12
        out.append(
            Node(s.id, lines, sub, s.stage, s.critical and s.counted, s.counted, joint.get(s.id, False), node_w, height)
        )
    return out


def _tight_edges(schedule: Schedule) -> set[tuple[str, str]]:
    """Edges on the critical path: both ends critical and no gap between them on the counted clock."""
    by_id = {s.id: s for s in schedule.steps}
    out = set()
    for s in schedule.steps:
        for dep in s.depends_on:
            d = by_id.get(dep)
            if d is not None and d.critical and s.critical and abs(d.ef - s.es) < 1e-9:
                out.add((dep, s.id))
    return out


Point = tuple[float, float]
Layout = tuple[dict[str, Point], dict[tuple[str, str], list[Point]], float, float]


def _layout_builtin(nodes: Sequence[Node], edges: Sequence[tuple[str, str]]) -> Layout:
    """Stage columns; within a column, steps ordered by the barycentre of their prerequisites."""
    columns: dict[int, list[Node]] = {}
    for n in nodes:
        columns.setdefault(n.stage, []).append(n)
    preds: dict[str, list[str]] = {}
    for a, b in edges:
        preds.setdefault(b, []).append(a)
    gap_x, gap_y = 36.0, 9.0
    rank: dict[str, float] = {}
    pos: dict[str, Point] = {}
    heights = [sum(n.height for n in col) + gap_y * (len(col) - 1) for col in columns.values()]
    total_h = max(heights, default=0.0)
    x = float(PAD)
    for stage in sorted(columns):
        col = columns[stage]
        original = {n.id: i for i, n in enumerate(col)}

        def bary(n: Node, original: Mapping[str, int] = original) -> tuple[float, int]:
            ps = [rank[p] for p in preds.get(n.id, ()) if p in rank]
            return (sum(ps) / len(ps) if ps else float(original[n.id]), original[n.id])

        col.sort(key=bary)
        h = sum(n.height for n in col) + gap_y * (len(col) - 1)
        y = HEADER + PAD + (total_h - h) / 2
        for i, n in enumerate(col):
            rank[n.id] = float(i)
            pos[n.id] = (x + n.width / 2, y + n.height / 2)
            y += n.height + gap_y
        x += max((n.width for n in col), default=NODE_W) + gap_x
    by_id = {n.id: n for n in nodes}
    splines: dict[tuple[str, str], list[Point]] = {}
    for a, b in edges:
        (ax, ay), (bx, by) = pos[a], pos[b]
        x0 = ax + by_id[a].width / 2
        x1 = bx - by_id[b].width / 2 - ARROW
        mid = (x0 + x1) / 2
        splines[(a, b)] = [(x0, ay), (mid, ay), (mid, by), (x1, by)]
    return pos, splines, x - gap_x + PAD, total_h + HEADER + 2 * PAD


def _layout_graphviz(
    nodes: Sequence[Node], edges: Sequence[tuple[str, str]], tight: set[tuple[str, str]]
) -> Layout | None:
    """Graphviz ``dot`` positions and splines, or None when ``dot`` fails (the caller falls back)."""
    import graphviz  # type: ignore[import-untyped,import-not-found,unused-ignore]

    g = graphviz.Digraph(
        graph_attr={"rankdir": "LR", "ranksep": "0.42", "nodesep": "0.12", "splines": "spline", "margin": "0"},
        node_attr={"shape": "box", "fixedsize": "true", "label": ""},
        edge_attr={"arrowsize": "0.9"},
    )
    columns: dict[int, list[Node]] = {}
    for n in nodes:
        columns.setdefault(n.stage, []).append(n)
    for stage in sorted(columns):
        with g.subgraph() as sub:
            sub.attr(rank="same")
            for n in columns[stage]:
                sub.node("n_" + n.id, width=f"{n.width / 72:.4f}", height=f"{n.height / 72:.4f}")
    for a, b in edges:
        g.edge("n_" + a, "n_" + b, weight="8" if (a, b) in tight else "1")
    try:
        plain = g.pipe(format="plain", engine="dot").decode("utf-8")
    except (graphviz.ExecutableNotFound, graphviz.CalledProcessError, subprocess.SubprocessError, OSError):
        return None
    pos: dict[str, Point] = {}
    splines: dict[tuple[str, str], list[Point]] = {}
    height = width = 0.0
    for line in plain.splitlines():
        t = line.split()
        if not t:
            continue
        if t[0] == "graph":
            width, height = float(t[2]) * 72, float(t[3]) * 72
        elif t[0] == "node":
            pos[t[1][2:]] = (float(t[2]) * 72 + PAD, (height - float(t[3]) * 72) + HEADER + PAD)
        elif t[0] == "edge":
            count = int(t[3])
            pts = [
                (float(t[4 + 2 * i]) * 72 + PAD, (height - float(t[5 + 2 * i]) * 72) + HEADER + PAD)
                for i in range(count)
            ]
            splines[(t[1][2:], t[2][2:])] = pts
    if len(pos) != len(nodes):
        return None
    return pos, splines, width + 2 * PAD, height + HEADER + 2 * PAD


def _path(points: Sequence[Point]) -> str:
    if len(points) == 4 or ((len(points) - 1) % 3 == 0 and len(points) > 1):
        d = f"M{points[0][0]:.1f},{points[0][1]:.1f}"
        for i in range(1, len(points), 3):
            (x1, y1), (x2, y2), (x3, y3) = points[i : i + 3]
            d += f" C{x1:.1f},{y1:.1f} {x2:.1f},{y2:.1f} {x3:.1f},{y3:.1f}"
        return d
    return "M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in points)


def _defs(prefix: str) -> str:
    return (
        f'<defs><pattern id="{prefix}-hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
        f'patternTransform="rotate(45)"><rect width="6" height="6" fill="#fff"/>'
        f'<line x1="0" y1="0" x2="0" y2="6" stroke="#777" stroke-width="1.6"/></pattern>'
        f'<marker id="{prefix}-arrow" viewBox="0 0 10 10" refX="0" refY="5" markerWidth="{ARROW}" '
        f'markerHeight="{ARROW}" markerUnits="userSpaceOnUse" orient="auto">'
        f'<path d="M0,0 L10,5 L0,10 z" fill="#444"/></marker>'
        f'<marker id="{prefix}-arrow-crit" viewBox="0 0 10 10" refX="0" refY="5" markerWidth="{ARROW + 2}" '
        f'markerHeight="{ARROW + 2}" markerUnits="userSpaceOnUse" orient="auto">'
        f'<path d="M0,0 L10,5 L0,10 z" fill="#000"/></marker></defs>'
    )


def flowchart_svg(
    schedule: Schedule,
    short_names: Mapping[str, str],
    joint: Mapping[str, bool] | None = None,
    *,
    prefix: str = "fc",
    engine: str | None = None,
    lang: str = "zh",
) -> Diagram:
    """The pre-construction steps as a left-to-right diagram by stage, critical path in bold.

    ``short_names`` maps department ids to short names; ``joint`` marks joint procedures.
    ``engine`` forces ``graphviz`` or ``builtin`` (default: :func:`layout_engine`).
    """
    key = (
        tuple(
            (s.id, s.name, s.department, s.duration, s.counted, s.critical, s.stage, s.depends_on, s.es, s.ef)
            for s in schedule.steps
        ),
        tuple(sorted(short_names.items())),
        tuple(sorted((joint or {}).items())),
        prefix,
        engine or layout_engine(),
        lang,
    )
    return _flowchart_cached(key, schedule, short_names, joint or {}, prefix, engine or layout_engine(), lang)


_DIAGRAM_CACHE: dict[object, Diagram] = {}


def _flowchart_cached(
    key: object,
    schedule: Schedule,
    short: Mapping[str, str],
    joint: Mapping[str, bool],
    prefix: str,
    engine: str,
    lang: str = "zh",
) -> Diagram:
    found = _DIAGRAM_CACHE.get(key)
    if found is not None:
        return found
    w = WORDS[lang]
    nodes = _nodes(schedule, short, joint, lang)
    ids = {n.id for n in nodes}
    edges = [(d, s.id) for s in schedule.steps for d in s.depends_on if d in ids]
    tight = _tight_edges(schedule)
    used = engine
    if engine == "graphviz":
        laid = _layout_graphviz(nodes, edges, tight)
        if laid is None:
            used = "builtin"
            laid = _layout_builtin(nodes, edges)
    else:
        laid = _layout_builtin(nodes, edges)
    pos, splines, width, height = laid
    legend_h = 30
    total_h = height + legend_h
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="diagram flowchart" viewBox="0 0 {width:.0f} {total_h:.0f}" '
        f'width="{width:.0f}" height="{total_h:.0f}" role="img" aria-label="{w["flowchart"]}" '
        f'font-family="{FONT}" font-size="{FONT_SIZE}">',
        _defs(prefix),
    ]
    # stage headers
    columns: dict[int, list[float]] = {}
    for n in nodes:
        columns.setdefault(n.stage, []).append(pos[n.id][0])
    for stage, xs in sorted(columns.items()):
        cx = sum(xs) / len(xs)
        out.append(
            f'<text x="{cx:.1f}" y="{PAD + 10}" text-anchor="middle" font-size="11" fill="#333">'
            f"{w['batch'].format(n=stage + 1)}</text>"
        )
    for (a, b), pts in splines.items():
        crit = (a, b) in tight
        style = (
            f'stroke="#000" stroke-width="2.6" marker-end="url(#{prefix}-arrow-crit)"'
            if crit
            else f'stroke="#555" stroke-width="1" marker-end="url(#{prefix}-arrow)"'
        )
        out.append(f'<path d="{_path(pts)}" fill="none" {style}/>')
    for n in nodes:
        cx, cy = pos[n.id]
        x, y = cx - n.width / 2, cy - n.height / 2
        if n.critical:
            rect = 'fill="#fff" stroke="#000" stroke-width="2.8"'
        elif n.counted:
            rect = 'fill="#fff" stroke="#333" stroke-width="1"'
        else:
            rect = f'fill="url(#{prefix}-hatch)" stroke="#333" stroke-width="1" stroke-dasharray="4 3"'
        out.append(
            f'<g class="node" data-step="{escape(n.id)}"><rect x="{x:.1f}" y="{y:.1f}" width="{n.width:.1f}" '
            f'height="{n.height:.1f}" rx="4" {rect}/>'
        )
        if not n.counted:
            out.append(
                f'<rect x="{x + 5:.1f}" y="{y + 5:.1f}" width="{n.width - 10:.1f}" height="{n.height - 10:.1f}" '
                f'fill="#fff"/>'
            )
        if n.joint:
            out.append(
                f'<rect x="{x + 3:.1f}" y="{y + 3:.1f}" width="{n.width - 6:.1f}" height="{n.height - 6:.1f}" '
                f'rx="2" fill="none" stroke="#333" stroke-width="0.8"/>'
            )
        weight = ' font-weight="bold"' if n.critical else ""
        ty = y + 6 + LINE - 3
        for line in n.lines:
            out.append(f'<text x="{cx:.1f}" y="{ty:.1f}" text-anchor="middle"{weight}>{escape(line)}</text>')
            ty += LINE
        out.append(
            f'<text x="{cx:.1f}" y="{ty + 1:.1f}" text-anchor="middle" font-size="{FONT_SIZE - 2}" '
            f'fill="#333">{escape(n.sub)}</text></g>'
        )
    ly = height + 8
    x0, x1, x2, x3 = _legend_x((w["critical"], w["counted"], w["loose"], w["joint"]), 11)
    out.append(
        f'<g class="legend" font-size="11" transform="translate({PAD},{ly:.0f})">'
        f'<rect x="{x0}" y="0" width="26" height="14" fill="#fff" stroke="#000" stroke-width="2.8"/>'
        f'<text x="{x0 + 32}" y="11">{w["critical"]}</text>'
        f'<rect x="{x1}" y="0" width="26" height="14" fill="#fff" stroke="#333"/>'
        f'<text x="{x1 + 32}" y="11">{w["counted"]}</text>'
        f'<rect x="{x2}" y="0" width="26" height="14" fill="url(#{prefix}-hatch)" stroke="#333" '
        f'stroke-dasharray="4 3"/>'
        f'<text x="{x2 + 32}" y="11">{w["loose"]}</text>'
        f'<rect x="{x3}" y="0" width="26" height="14" fill="#fff" stroke="#333"/>'
        f'<rect x="{x3 + 3}" y="3" width="20" height="8" fill="none" stroke="#333" stroke-width="0.8"/>'
        f'<text x="{x3 + 32}" y="11">{w["joint"]}</text></g>'
    )
    out.append("</svg>")
    diagram = Diagram("".join(out), used)
    if len(_DIAGRAM_CACHE) > 512:
        _DIAGRAM_CACHE.clear()
    _DIAGRAM_CACHE[key] = diagram
    return diagram


# --- Gantt chart ------------------------------------------------------------------------------------
def _tick_step(total: float, most: int = 12) -> int:
    for step in (1, 2, 5, 10, 15, 20, 30, 50, 100):
        if total / step <= most:
            return step
    return 200


def gantt_svg(
    schedule: Schedule, *, dates: Mapping[int, dt.date] | None = None, prefix: str = "gt", lang: str = "zh"
) -> str:
    """The pre-construction steps on the working-day axis (elapsed clock), with dates under the ticks.

    ``dates`` maps a working-day index to its calendar date (from the schedule's start); without it
    ticks are labelled by working day only.
    """
    words = WORDS[lang]
    steps = sorted(schedule.steps, key=lambda s: (s.elapsed_es, s.elapsed_ef))
    total = max(schedule.elapsed_working_days, 1.0)
    label_w = 280.0 if lang == "en" else 200.0
    chart_w = 720.0
    row = 20.0
    top = 40.0
    scale = chart_w / total
    height = top + row * len(steps) + 58
    width = label_w + chart_w + 30
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="diagram gantt" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'width="{width:.0f}" height="{height:.0f}" role="img" aria-label="{words["gantt"]}" '
        f'font-family="{FONT}" font-size="11">',
        _defs(prefix),
    ]
    step = _tick_step(total)
    t = 0
    while t <= total + 1e-9:
        x = label_w + t * scale
        out.append(
            f'<line x1="{x:.1f}" y1="{top - 4:.0f}" x2="{x:.1f}" y2="{top + row * len(steps):.0f}" '
            f'stroke="#bbb" stroke-width="0.6" stroke-dasharray="2 2"/>'
        )
        anchor = "start" if t == 0 else "middle"
        out.append(f'<text x="{x:.1f}" y="{top - 22:.0f}" text-anchor="{anchor}" fill="#333">{t}</text>')
        if dates and t in dates:
            d = dates[t]
            out.append(
                f'<text x="{x:.1f}" y="{top - 9:.0f}" text-anchor="{anchor}" font-size="9.5" fill="#333">'
                f"{d.month}/{d.day}</text>"
            )
        t += step
    out.append(f'<text x="{label_w - 8:.0f}" y="{top - 22:.0f}" text-anchor="end" fill="#333">{words["wd"]}</text>')
    if dates:
        out.append(
            f'<text x="{label_w - 8:.0f}" y="{top - 9:.0f}" text-anchor="end" font-size="9.5" '
            f'fill="#333">{words["date"]}</text>'
        )
    for i, s in enumerate(steps):
        y = top + i * row
        if i % 2 == 0:
            out.append(f'<rect x="0" y="{y:.1f}" width="{width:.0f}" height="{row:.0f}" fill="#f4f4f4"/>')
        if lang == "en":
            label = _fit(s.name, label_w - 14, 11, bold=s.critical and s.counted)
        else:
            label = s.name if _text_width(s.name, 11) <= label_w - 14 else _wrap(s.name, int((label_w - 14) / 11), 1)[0]
        weight = ' font-weight="bold"' if s.critical and s.counted else ""
        out.append(f'<text x="{label_w - 8:.0f}" y="{y + 14:.1f}" text-anchor="end"{weight}>{escape(label)}</text>')
        x0 = label_w + s.elapsed_es * scale
        w = (s.elapsed_ef - s.elapsed_es) * scale
        if w <= 0:
            cx, cy = x0, y + row / 2
            out.append(
                f'<path d="M{cx:.1f},{cy - 6:.1f} L{cx + 6:.1f},{cy:.1f} L{cx:.1f},{cy + 6:.1f} '
                f'L{cx - 6:.1f},{cy:.1f} z" fill="#000"/>'
            )
            continue
        out.append(
            f'<rect x="{x0:.1f}" y="{y + 4:.1f}" width="{w:.1f}" height="{row - 8:.0f}" {_bar_style(s, prefix)}/>'
        )
        duration = number_text(s.duration)
        out.append(f'<text x="{x0 + w + 4:.1f}" y="{y + 14:.1f}" font-size="10" fill="#333">{duration}</text>')
    finish_x = label_w + schedule.elapsed_working_days * scale
    bottom = top + row * len(steps)
    out.append(
        f'<line x1="{finish_x:.1f}" y1="{top - 4:.0f}" x2="{finish_x:.1f}" y2="{bottom + 6:.0f}" stroke="#000" '
        f'stroke-width="1.2" stroke-dasharray="6 3"/>'
    )
    end = round(schedule.elapsed_working_days)
    if dates and end in dates:
        d = dates[end]
        out.append(
            f'<text x="{finish_x:.1f}" y="{bottom + 17:.0f}" text-anchor="end" font-size="10" '
            f'font-weight="bold">'
            f"{words['finish'].format(y=d.year, m=d.month, d=d.day)}</text>"
        )
    ly = bottom + 24
    labels = (words["critical_counted"], words["other"], words["loose_long"], words["finish_legend"])
    x0, x1, x2, x3 = _legend_x(labels, 12)
    lx = max(0.0, min(label_w, width - (x3 + 32 + _latin_width(labels[3], 12)) - 8))
    out.append(
        f'<g class="legend" transform="translate({lx:.0f},{ly:.0f})">'
        f'<rect x="{x0}" y="0" width="26" height="12" fill="#000"/><text x="{x0 + 32}" y="10">{labels[0]}</text>'
        f'<rect x="{x1}" y="0" width="26" height="12" fill="#9a9a9a" stroke="#333" stroke-width="0.6"/>'
        f'<text x="{x1 + 32}" y="10">{labels[1]}</text>'
        f'<rect x="{x2}" y="0" width="26" height="12" fill="url(#{prefix}-hatch)" stroke="#333" '
        f'stroke-dasharray="3 2"/>'
        f'<text x="{x2 + 32}" y="10">{labels[2]}</text>'
        f'<line x1="{x3}" y1="6" x2="{x3 + 26}" y2="6" stroke="#000" stroke-width="1.2" stroke-dasharray="6 3"/>'
        f'<text x="{x3 + 32}" y="10">{labels[3]}</text></g>'
    )
    out.append("</svg>")
    return "".join(out)


def _bar_style(s: ScheduledStep, prefix: str) -> str:
    if not s.counted:
        return f'fill="url(#{prefix}-hatch)" stroke="#333" stroke-width="0.8" stroke-dasharray="3 2"'
    if s.critical:
        return 'fill="#000"'
    return 'fill="#9a9a9a" stroke="#333" stroke-width="0.6"'


# --- Markdown ---------------------------------------------------------------------------------------
def _mermaid_text(text: str) -> str:
    return text.replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")


def flowchart_mermaid(schedule: Schedule, short_names: Mapping[str, str], lang: str = "zh") -> str:
    """The same diagram as Mermaid ``flowchart LR`` source, for Markdown notices."""
    w = WORDS[lang]
    lines = ["flowchart LR"]
    for s in schedule.steps:
        clock = w["days" if s.counted else "days_loose"].format(n=number_text(s.duration))
        dept = short_names.get(s.department, s.department)
        lines.append(f'  {s.id}["{_mermaid_text(s.name)}<br/>{_mermaid_text(dept)}·{clock}"]')
    tight = _tight_edges(schedule)
    for s in schedule.steps:
        for dep in s.depends_on:
            arrow = "==>" if (dep, s.id) in tight else "-->"
            lines.append(f"  {dep} {arrow} {s.id}")
    crit = [s.id for s in schedule.steps if s.critical and s.counted]
    loose = [s.id for s in schedule.steps if not s.counted]
    lines.append("  classDef critical stroke-width:3px,font-weight:bold")
    lines.append("  classDef notcounted stroke-dasharray:4 3")
    if crit:
        lines.append(f"  class {','.join(crit)} critical")
    if loose:
        lines.append(f"  class {','.join(loose)} notcounted")
    return "\n".join(lines)
