"""The PDF notice printed by the system Chromium (flowmatch.pdf, ``FLOWMATCH_PDF_ENGINE=chromium``): the
same notice as the HTML one — its text, its sections and tables as PDF tags, its pictures with alt
text, its page count — and a tagged PDF in zh-CN for screen readers.  Skips, with the reason, where
Chromium, a CJK font, pikepdf or poppler-utils is missing.  (Typst, the default engine: test_typst.py.)"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from flowmatch import pdf as pdfmod
from flowmatch import render
from flowmatch.errors import RenderError
from flowmatch.golden import GOLDEN
from flowmatch.ruleset import default_ruleset
from pdf_support import START, html_tags, landscape_pages, pdf_text, print_notice, squash, structure


@pytest.fixture(scope="module")
def chromium_pdf() -> None:
    if pdfmod.find_chromium() is None:
        pytest.skip("no system Chromium: apt-get install chromium (or set FLOWMATCH_CHROMIUM)")
    if render.find_cjk_font() is None:
        pytest.skip("no CJK font: apt-get install fonts-wqy-microhei")


@pytest.fixture(scope="module")
def notice(chromium_pdf: None) -> tuple[str, bytes]:
    """The packaged F10 notice (29–31 pages, the heaviest) as HTML and as Chromium's PDF, from one notice."""
    return print_notice("chromium", GOLDEN["F10"])


def test_pdf_is_tagged_in_chinese_with_the_notices_structure(notice: tuple[str, bytes]) -> None:
    html, pdf = notice
    doc, kinds, alts = structure(pdf)
    assert doc.Root.MarkInfo.Marked is True
    assert str(doc.Root.Lang) == "zh-CN"
    assert str(doc.docinfo.Title).startswith("建设项目审批一次性告知书")
    # every heading of the HTML notice is a heading tag of the same level
    for level in (1, 2, 3):
        assert kinds[f"/H{level}"] == len(html_tags(html, f"h{level}")), level
    # every table, with its header cells tagged TH (a table split over pages repeats its header row)
    assert kinds["/Table"] >= len(re.findall(r"<table[ >]", html))
    assert kinds["/TH"] >= len(re.findall(r"<th[ >]", html))
    # every picture is a Figure with its alt text; nothing is a Figure without one
    labels = re.findall(r'<svg[^>]*aria-label="([^"]+)"', html)
    assert labels and sorted(a for a in alts if a) == sorted(labels)
    assert None not in alts


def test_pdf_has_the_html_notices_text_and_page_numbers(notice: tuple[str, bytes], tmp_path: Path) -> None:
    html, pdf = notice
    text = pdf_text(pdf, tmp_path)
    flat = squash(text)
    for heading in [*html_tags(html, "h1"), *html_tags(html, "h2"), *html_tags(html, "h3")]:
        assert squash(heading) in flat, heading
    for cell in html_tags(html, "td"):  # every table cell's text: materials, steps, fees
        assert squash(cell) in flat, cell
    doc, _, _ = structure(pdf)
    pages = len(doc.pages)
    # the page numbers printed in the footer agree with the file, on every page
    assert re.findall(r"第 (\d+) 页 / 共 (\d+) 页", text) == [(str(n), str(pages)) for n in range(1, pages + 1)]


def test_pdf_pages_follow_the_html_print_stylesheet(notice: tuple[str, bytes]) -> None:
    html, pdf = notice
    doc, _, _ = structure(pdf)
    landscape = landscape_pages(doc)
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


def test_cli_and_batch_print_with_chromium_when_chosen(
    chromium_pdf: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from flowmatch.cli import main

    monkeypatch.setenv("FLOWMATCH_PDF_ENGINE", "chromium")
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


def test_web_notice_pdf_is_printed_by_chromium_when_chosen(chromium_pdf: None, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("starlette")
    from starlette.testclient import TestClient

    from flowmatch.web import create_app

    monkeypatch.setenv("FLOWMATCH_PDF_ENGINE", "chromium")
    with TestClient(create_app(default_ruleset())) as client:
        links = client.get("/ask?kind=pipeline")
        assert "format=pdf" in links.text  # the PDF link is offered: an engine and a CJK font are here
        r = client.get("/notice?kind=pipeline&format=pdf&start=2026-03-02")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert b"Skia/PDF" in r.content
    doc, kinds, _ = structure(r.content)
    assert str(doc.Root.Lang) == "zh-CN" and kinds["/H1"] == 1 and kinds["/TH"] > 0


def test_a_browser_that_hangs_is_a_render_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake = tmp_path / "chromium"
    fake.write_text("#!/bin/sh\nexec sleep 30\n", encoding="utf-8")
    fake.chmod(0o755)
    monkeypatch.setattr(pdfmod, "TIMEOUT", 0.5)
    with pytest.raises(RenderError) as err, pdfmod.ChromiumPrinter(str(fake)) as p:
        p.print_pdf("<p>x</p>")
    assert str(err.value) == "Chromium did not answer within 0.5 s"
