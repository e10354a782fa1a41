"""The notice's diagrams as Chromium draws them, with the CJK font the notice is printed in: every
label of every flowchart box stays inside its box, no Gantt label runs off the chart, and the legend
entries do not overlap — for every flowchart of both packaged rule-sets, in Chinese and in English
(English names are two to four times as long as the Chinese ones).  Skipped, with the reason, where
Playwright or the system Chromium is absent."""

from __future__ import annotations

import itertools
import re
from typing import Any

import pytest

from flowmatch.golden import GOLDEN_START
from flowmatch.notice import build_notice, render
from flowmatch.ruleset import load_ruleset
from profiles import EVERY_FLOWCHART, RULES

pytestmark = pytest.mark.browser

MEASURE = """() => {
  const box = (e) => { const b = e.getBBox(); return [b.x, b.y, b.x + b.width, b.y + b.height]; };
  const out = {nodes: [], labels: [], legends: [], width: 0};
  for (const svg of document.querySelectorAll('svg')) {
    const width = svg.viewBox.baseVal.width;
    for (const g of svg.querySelectorAll('g.node')) {
      out.nodes.push({step: g.dataset.step, rect: box(g.querySelector('rect')),
                      texts: [...g.querySelectorAll('text')].map(t => [t.textContent, box(t)])});
    }
    if (svg.classList.contains('gantt')) {
      for (const t of svg.querySelectorAll(':scope > text[text-anchor=end]')) {
        out.labels.push([t.textContent, box(t), width]);
      }
    }
    for (const g of svg.querySelectorAll('g.legend')) {
      const m = g.transform.baseVal.consolidate();
      const dx = m ? m.matrix.e : 0;
      out.legends.push({width, items: [...g.querySelectorAll('text')].map(t => {
        const b = box(t); return [t.textContent, b[0] + dx, b[2] + dx]; })});
    }
  }
  return out;
}"""


def _diagrams(name: str, fid: str, profile: dict[str, str], lang: str) -> str:
    """The notice's two diagrams (flowchart and Gantt chart), as the HTML notice has them."""
    notice = build_notice(dict(profile), ruleset=load_ruleset(RULES / name), start=GOLDEN_START)
    assert notice.flowchart.id == fid
    html = render(notice, "html", lang=lang)
    assert isinstance(html, str)
    svgs = re.findall(r"<svg\b.*?</svg>", html, re.S)
    assert len(svgs) == 2, len(svgs)
    return "".join(svgs)


@pytest.fixture(scope="module")
def page(browser: Any) -> Any:
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    yield context.new_page()
    context.close()


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize(("name", "fid", "profile"), EVERY_FLOWCHART, ids=[f"{n}-{f}" for n, f, _ in EVERY_FLOWCHART])
def test_every_label_stays_inside_its_box(page: Any, name: str, fid: str, profile: dict[str, str], lang: str) -> None:
    page.set_content(f"<!doctype html><html><body>{_diagrams(name, fid, profile, lang)}</body></html>")
    found = page.evaluate(MEASURE)
    assert found["nodes"], "no flowchart boxes drawn"
    outside = []
    for node in found["nodes"]:
        x0, y0, x1, y1 = node["rect"]
        for text, (a, b, c, d) in node["texts"]:
            if a < x0 + 1 or c > x1 - 1 or b < y0 or d > y1:
                outside.append(f"{node['step']}: {text!r} spans x {a:.0f}–{c:.0f} in a box {x0:.0f}–{x1:.0f}")
    assert not outside, outside[:5]
    assert found["labels"], "no Gantt labels drawn"
    cut = [f"{t!r} starts at x {b[0]:.0f}" for t, b, _ in found["labels"] if b[0] < 0]
    assert not cut, cut[:5]
    for legend in found["legends"]:
        items = legend["items"]
        for (t1, _, right), (t2, left, _) in itertools.pairwise(items):
            assert right + 20 <= left, f"legend {t1!r} runs into {t2!r}"
        assert items[-1][2] <= legend["width"], f"legend {items[-1][0]!r} runs off the diagram"
