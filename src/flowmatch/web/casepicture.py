"""A case's flowchart as SVG, each box coloured by its task's state (no scripts, no style attributes).

Columns are the task's depth in the prerequisite graph, rows its order within the column; arrows
join a task to each prerequisite.  The colours are SVG presentation attributes, allowed under the
site's ``default-src 'self'`` policy; each box also carries the state in words (colour is never the
only signal) and the picture has a ``<title>`` for screen readers.
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup, escape

FILL = {
    "waiting": "#eeeeee",
    "ready": "#fff4c2",
    "accepted": "#d7e9ff",
    "handling": "#d7e9ff",
    "reviewing": "#c5dcff",
    "approved": "#d5f5d5",
    "rejected": "#ffd6d6",
    "suspended": "#f1d9ff",
    "done": "#b9e6b9",
}
W, H, GAP_X, GAP_Y = 180, 54, 40, 16


def case_svg(status: Any, labels: dict[str, str] | None = None) -> Markup:
    from ..tracking.states import LABELS

    labels = labels or dict(LABELS)
    tasks = list(status.tasks)
    depth: dict[str, int] = {}
    for t in tasks:  # tasks come in topological order
        depth[t.step] = 1 + max((depth.get(d, -1) for d in t.depends_on), default=-1)
    columns: dict[int, list[Any]] = {}
    for t in tasks:
        columns.setdefault(depth[t.step], []).append(t)
    pos: dict[str, tuple[int, int]] = {}
    for col, items in columns.items():
        for row, t in enumerate(items):
            pos[t.step] = (10 + col * (W + GAP_X), 10 + row * (H + GAP_Y))
    width = 20 + (max(columns, default=0) + 1) * (W + GAP_X)
    height = 20 + max((len(v) for v in columns.values()), default=1) * (H + GAP_Y)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {width} {height}" '
        f'class="casepic" aria-labelledby="casepic-title">',  # no width: it scales to the column
        f'<title id="casepic-title">{escape(status.flowchart_name)}</title>',
    ]
    for t in tasks:
        x, y = pos[t.step]
        for d in t.depends_on:
            if d in pos:
                px, py = pos[d]
                parts.append(
                    f'<line x1="{px + W}" y1="{py + H // 2}" x2="{x}" y2="{y + H // 2}" stroke="#777" '
                    'stroke-width="1.5"/>'
                )
    for t in tasks:
        x, y = pos[t.step]
        stroke = "#c00" if t.overdue else "#555"
        name = t.name if len(t.name) <= 12 else t.name[:11] + "…"
        parts.append(
            f'<g class="task state-{escape(t.state)}" data-step="{escape(t.step)}">'
            f'<rect x="{x}" y="{y}" width="{W}" height="{H}" rx="6" fill="{FILL.get(t.state, "#fff")}" '
            f'stroke="{stroke}" stroke-width="{3 if t.overdue else 1}"/>'
            f'<text x="{x + 8}" y="{y + 20}" font-size="13">{escape(name)}</text>'
            f'<text x="{x + 8}" y="{y + 40}" font-size="12">{escape(t.department_name)} · '
            f"{escape(labels.get(t.state, t.state))}{' · 超期' if t.overdue else ''}</text></g>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))
