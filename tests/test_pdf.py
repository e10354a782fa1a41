"""The PDF notice printed by the system Chromium (flowmatch.pdf): the same notice as the HTML one —
its text, its sections and tables as PDF tags, its pictures with alt text, its page count — and a
tagged PDF in zh-CN for screen readers.  Skips, with the reason, where Chromium, a CJK font,
pikepdf or poppler-utils is missing."""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import shutil
import subprocess
from collections import Counter
from html import unescape
from pathlib import Path
from typing import Any

import pytest

from flowmatch import pdf as pdfmod
from flowmatch import render
from flowmatch.calendar import WorkCalendar
from flowmatch.errors import InputError, RenderError
from flowmatch.flows import for_situation
from flowmatch.golden import GOLDEN
from flowmatch.matcher import matcher_for
from flowmatch.render import render_guide
from flowmatch.ruleset import default_ruleset
from flowmatch.scheduler import schedule

START = dt.date(2026, 3, 2)
GENERATED = dt.date(2026, 2, 27)


@pytest.fixture(scope="module")
def chromium_pdf() -> None:
    if pdfmod.find_chromium() is None:
        pytest.skip("no system Chromium: apt-get install chromium (or set FLOWMATCH_CHROMIUM)")
    if render.find_cjk_font() is None:
        pytest.skip("no CJK font: apt-get install fonts-wqy-microhei")


@pytest.fixture(scope="module")
def notice(chromium_pdf: None) -> tuple[str, bytes]:
    """The packaged F10 notice (31 pages, the heaviest) as HTML and as PDF, from one context."""
    rs = default_ruleset()
    result = matcher_for(rs).match(GOLDEN["F10"])
    flow = for_situation(rs, result.situation or "", flags=result.flags, profile=GOLDEN["F10"])
    cal = WorkCalendar()
    plan = schedule(flow, START, cal, ruleset=rs)
    kw: dict[str, Any] = {"ruleset": rs, "project_name": "哈东华府二期", "generated": GENERATED, "calendar": cal}
    html = render_guide(result, plan, "html", **kw)
    pdf = render_guide(result, plan, "pdf", **kw)
    assert isinstance(html, str) and isinstance(pdf, bytes)
    return html, pdf


def _structure(pdf: bytes) -> tuple[Any, Counter[str], list[str | None]]:
    pikepdf = pytest.importorskip("pikepdf")
    doc = pikepdf.open(io.BytesIO(pdf))
    kinds: Counter[str] = Counter()
    alts: list[str | None] = []

    def walk(node: Any) -> None:
        if isinstance(node, pikepdf.Array):
            for kid in node:
                walk(kid)
            return
        if not isinstance(node, pikepdf.Dictionary):
            return
        kind = node.get("/S")
        if kind is not None:
            kinds[str(kind)] += 1
            if str(kind) == "/Figure":
                alt = node.get("/Alt")
                alts.append(str(alt) if alt is not None else None)
        if node.get("/K") is not None:
            walk(node.K)

    walk(doc.Root.StructTreeRoot.K)
    return doc, kinds, alts


def _text(pdf: bytes, tmp_path: Path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    path = tmp_path / "notice.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-raw", str(path), "-"], capture_output=True, text=True, check=True).stdout


def _tags(html: str, tag: str) -> list[str]:
    """The text of every ``<tag>`` element of the HTML notice (markup removed)."""
    found = re.findall(rf"<{tag}\b[^>]*>(.*?)</{tag}>", html, re.S)
    return [unescape(re.sub(r"<[^>]+>", "", x)).strip() for x in found]


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_pdf_is_tagged_in_chinese_with_the_notices_structure(notice: tuple[str, bytes]) -> None:
    html, pdf = notice
    doc, kinds, alts = _structure(pdf)
    assert doc.Root.MarkInfo.Marked is True
    assert str(doc.Root.Lang) == "zh-CN"
    assert str(doc.docinfo.Title).startswith("建设项目审批一次性告知书")
    # every heading of the HTML notice is a heading tag of the same level
    for level in (1, 2, 3):
        assert kinds[f"/H{level}"] == len(_tags(html, f"h{level}")), level
    # every table, with its header cells tagged TH (a table split over pages repeats its header row)
    assert kinds["/Table"] >= len(re.findall(r"<table[ >]", html))
    assert kinds["/TH"] >= len(re.findall(r"<th[ >]", html))
    # every picture is a Figure with its alt text; nothing is a Figure without one
    labels = re.findall(r'<svg[^>]*aria-label="([^"]+)"', html)
    assert labels and sorted(a for a in alts if a) == sorted(labels)
    assert None not in alts


def test_pdf_has_the_html_notices_text_and_page_numbers(notice: tuple[str, bytes], tmp_path: Path) -> None:
    html, pdf = notice
    text = _text(pdf, tmp_path)
    flat = _squash(text)
    for heading in [*_tags(html, "h1"), *_tags(html, "h2"), *_tags(html, "h3")]:
        assert _squash(heading) in flat, heading
    for cell in _tags(html, "td"):  # every table cell's text: materials, steps, fees
        assert _squash(cell) in flat, cell
    doc, _, _ = _structure(pdf)
    pages = len(doc.pages)
    # the page numbers printed in the footer agree with the file, on every page
    assert re.findall(r"第 (\d+) 页 / 共 (\d+) 页", text) == [(str(n), str(pages)) for n in range(1, pages + 1)]


def test_pdf_pages_follow_the_html_print_stylesheet(notice: tuple[str, bytes]) -> None:
    html, pdf = notice
    doc, _, _ = _structure(pdf)
    landscape = [i for i, page in enumerate(doc.pages) if float(page.mediabox[2]) > float(page.mediabox[3])]
    pictures = html.count('<figure class="picture"')
    # the diagrams sit on landscape pages of their own, one each, right after the overview
    assert pictures == 2 and len(landscape) == pictures
    assert landscape == list(range(landscape[0], landscape[0] + pictures)) and landscape[0] >= 1
    # the notice breaks before each section of class "page": at least one page each, and A4 throughout
    assert len(doc.pages) >= html.count('class="page') + 1
    for page in doc.pages:
        w, h = sorted((float(page.mediabox[2]), float(page.mediabox[3])))
        assert abs(w - 595) < 2 and abs(h - 842) < 2


def test_one_browser_prints_many_notices(chromium_pdf: None) -> None:
    page = "<!DOCTYPE html><html lang='zh-CN'><body><h1>{}</h1></body></html>"
    with pdfmod.ChromiumPrinter() as printer:
        first = printer.print_pdf(page.format("第一份"))
        second = printer.print_pdf(page.format("第二份"))
        proc = printer._proc
    assert first.startswith(b"%PDF") and second.startswith(b"%PDF") and first != second
    assert proc.poll() is not None  # closed: the browser is gone
    printer.close()  # idempotent


def test_html_to_pdf_keeps_the_browser_for_the_next_notice(chromium_pdf: None) -> None:
    page = "<!DOCTYPE html><html lang='zh-CN'><body><p>告知书</p></body></html>"
    assert pdfmod.html_to_pdf(page).startswith(b"%PDF")
    printer = pdfmod._SHARED[os.getpid()]
    assert pdfmod.html_to_pdf(page).startswith(b"%PDF")
    assert pdfmod._SHARED[os.getpid()] is printer


def test_missing_chromium_says_what_to_install(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FLOWMATCH_CHROMIUM", str(tmp_path / "no-such-browser"))
    assert pdfmod.find_chromium() is None
    with pytest.raises(RenderError) as err:
        pdfmod.ChromiumPrinter()
    assert str(err.value) == (
        "PDF output needs Chromium, which was not found: on Debian apt-get install chromium "
        "fonts-wqy-microhei (or set FLOWMATCH_CHROMIUM to a Chromium/Chrome executable)"
    )


def test_a_browser_that_dies_is_a_render_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake = tmp_path / "chromium"
    fake.write_text("#!/bin/sh\nexit 3\n", encoding="utf-8")
    fake.chmod(0o755)
    with pytest.raises(RenderError, match=r"^Chromium stopped unexpectedly"), pdfmod.ChromiumPrinter(str(fake)) as p:
        p.print_pdf("<p>x</p>")


def test_pdf_engine_is_chosen_by_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FLOWMATCH_PDF_ENGINE", "weasyprint")
    assert render.pdf_engine() == "weasyprint"
    monkeypatch.setenv("FLOWMATCH_PDF_ENGINE", "typst")
    with pytest.raises(InputError) as err:
        render.pdf_engine()
    assert str(err.value) == "unknown PDF engine 'typst' in FLOWMATCH_PDF_ENGINE; allowed: chromium, weasyprint"
    assert render.pdf_available() is False
    monkeypatch.delenv("FLOWMATCH_PDF_ENGINE")
    monkeypatch.setenv("FLOWMATCH_CHROMIUM", str(tmp_path / "none"))
    assert render.pdf_engine() in ("weasyprint", "chromium")  # WeasyPrint where installed, else Chromium's message


def test_cli_and_batch_print_with_chromium_by_default(
    chromium_pdf: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from flowmatch.cli import main

    monkeypatch.delenv("FLOWMATCH_PDF_ENGINE", raising=False)
    pairs = [f"{k}={v}" for k, v in {"kind": "pipeline"}.items()]
    out = tmp_path / "one.pdf"
    done = CliRunner().invoke(main, ["guide", *pairs, "--start", START.isoformat(), "-o", str(out)])
    assert done.exit_code == 0, done.output
    assert b"Skia/PDF" in out.read_bytes() and b"/StructTreeRoot" in out.read_bytes()
    batch = tmp_path / "batch.csv"
    batch.write_text("id,name,start,kind\na,甲,2026-03-02,pipeline\nb,乙,2026-03-03,road_bridge\n", encoding="utf-8")
    done = CliRunner().invoke(
        main, ["guide", "--batch", str(batch), "-o", str(tmp_path / "out"), "--format", "pdf", "--jobs", "2"]
    )
    assert done.exit_code == 0, done.output
    for name in ("a.pdf", "b.pdf"):
        data = (tmp_path / "out" / name).read_bytes()
        assert b"Skia/PDF" in data and b"/StructTreeRoot" in data


def test_pdf_available_follows_the_engine(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FLOWMATCH_PDF_ENGINE", "chromium")
    monkeypatch.setenv("FLOWMATCH_CHROMIUM", str(tmp_path / "none"))
    assert render.pdf_available() is False


def test_web_notice_pdf_is_printed_by_chromium(chromium_pdf: None, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("starlette")
    from starlette.testclient import TestClient

    from flowmatch.web import create_app

    monkeypatch.delenv("FLOWMATCH_PDF_ENGINE", raising=False)
    with TestClient(create_app(default_ruleset())) as client:
        links = client.get("/ask?kind=pipeline")
        assert "format=pdf" in links.text  # the PDF link is offered: an engine and a CJK font are here
        r = client.get("/notice?kind=pipeline&format=pdf&start=2026-03-02")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    doc, kinds, _ = _structure(r.content)
    assert str(doc.Root.Lang) == "zh-CN" and kinds["/H1"] == 1 and kinds["/TH"] > 0


def test_a_browser_that_hangs_is_a_render_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake = tmp_path / "chromium"
    fake.write_text("#!/bin/sh\nexec sleep 30\n", encoding="utf-8")
    fake.chmod(0o755)
    monkeypatch.setattr(pdfmod, "TIMEOUT", 0.5)
    with pytest.raises(RenderError) as err, pdfmod.ChromiumPrinter(str(fake)) as p:
        p.print_pdf("<p>x</p>")
    assert str(err.value) == "Chromium did not answer within 0.5 s"
