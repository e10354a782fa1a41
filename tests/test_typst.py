"""The PDF notice typeset by Typst (flowmatch.typeset, the default engine) against the HTML notice of the
same project: every heading and table cell of the HTML notice in the PDF's text, the same structure as
PDF tags (headings by level, tables with their header rows, the diagrams as figures with alt text on
landscape pages), zh-CN or English throughout, user text printed literally, the page numbers; and which
engine prints (Typst, Chromium, WeasyPrint) from the CLI, the batch and the web page.

Fidelity to the HTML notice that is not asserted because it differs on purpose or by the engine
(docs/adr/0010-pdf-engine.md): the key–value tables' label column is tagged TD, not TH (Typst has no
row-header cell outside its a11y-extras feature); the page breaks fall elsewhere (the page count is
about Chromium's).  Skips, with the reason, where the Typst binding, a CJK font, pikepdf or
poppler-utils is missing."""

from __future__ import annotations

import importlib.machinery
import re
import sys
import types
from pathlib import Path

import pytest

from flowmatch import pdf as pdfmod
from flowmatch import render, typeset
from flowmatch.errors import InputError, RenderError
from flowmatch.golden import GOLDEN
from flowmatch.ruleset import default_ruleset
from pdf_support import (
    START,
    header_cells,
    html_tags,
    html_text,
    landscape_pages,
    pdf_text,
    print_notice,
    squash,
    structure,
)
from profiles import EVERY_FLOWCHART, RULES

SMALL = {"kind": "pipeline"}  # F26: three commitment-eligible steps
TRICKY = '#import "x" *_$@<>[]\\ = - + / ~ ... -- // /* `r` \\u{41} 1.5 a:b <h1>'


@pytest.fixture(scope="module")
def typst_pdf() -> None:
    if not typeset.available():
        pytest.skip("the Typst binding is not installed: pip install 'flowmatch[pdf]'")
    if render.find_cjk_font() is None:
        pytest.skip("no CJK font: apt-get install fonts-wqy-microhei")


@pytest.fixture(scope="module")
def f10(typst_pdf: None) -> tuple[str, bytes]:
    """The packaged F10 notice (the heaviest: 29 pages) as HTML and as Typst's PDF."""
    return print_notice("typst", GOLDEN["F10"])


@pytest.fixture(scope="module")
def small(typst_pdf: None) -> tuple[str, bytes]:
    """A small notice on commitment: the commitment letters are printed in its steps."""
    return print_notice("typst", SMALL, commitment=True)


@pytest.fixture(scope="module")
def f10_en(typst_pdf: None) -> tuple[str, bytes]:
    return print_notice("typst", GOLDEN["F10"], lang="en")


NOTICES = ["f10", "small", "f10_en"]


def _footer(lang: str) -> str:
    return r"第 (\d+) 页 / 共 (\d+) 页" if lang == "zh" else r"Page (\d+) of (\d+)"


def _missing(html: str, text: str, lang: str) -> list[str]:
    """What the HTML notice says that the PDF's text does not: every heading, table cell (materials,
    steps, fees, intermediaries, joint procedures, letters) and paragraph (a paragraph may run on over a
    page break: the footers are left out of the text first)."""
    flat = squash(re.sub(_footer(lang), "", text))
    said = [*(html_tags(html, f"h{level}") for level in (1, 2, 3)), html_tags(html, "td"), html_tags(html, "p")]
    return [x for part in said for x in part if squash(x) not in flat]


# --- the same notice as the HTML one -------------------------------------------------------------------
@pytest.mark.parametrize("which", NOTICES)
def test_pdf_has_every_heading_and_table_cell_of_the_html_notice(
    which: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    html, pdf = request.getfixturevalue(which)
    lang = "en" if which.endswith("_en") else "zh"
    text = pdf_text(pdf, tmp_path)
    assert _missing(html, text, lang) == []
    assert len(html_tags(html, "td")) > 100
    doc, _, _ = structure(pdf)
    pages = len(doc.pages)
    # the footer's page numbers agree with the file, on every page
    assert re.findall(_footer(lang), text) == [(str(n), str(pages)) for n in range(1, pages + 1)]


def test_commitment_letters_are_printed_as_in_the_html(small: tuple[str, bytes], tmp_path: Path) -> None:
    html, pdf = small
    letters = re.findall(r'<div class="letter">(.*?)</div>', html, re.S)
    assert len(letters) == 3
    flat = squash(pdf_text(pdf, tmp_path))
    for letter in letters:
        for line in letter.split("<br>"):
            assert squash(line) in flat


@pytest.mark.slow
@pytest.mark.parametrize(("name", "fid", "profile"), EVERY_FLOWCHART, ids=[f"{n}-{f}" for n, f, _ in EVERY_FLOWCHART])
def test_every_flowchart_typesets_in_chinese_and_english(
    typst_pdf: None, name: str, fid: str, profile: dict[str, str], tmp_path: Path
) -> None:
    """Every flowchart of both packaged rule-sets, every flag on: the rule-set's words all compile as
    Typst and all reach the PDF — in Chinese on commitment (the letters), in English without."""
    from flowmatch.notice import build_notice
    from flowmatch.notice import render as render_notice
    from flowmatch.ruleset import load_ruleset

    notice = build_notice(dict(profile), ruleset=load_ruleset(RULES / name), start=START, commitment=True)
    for lang in ("zh", "en"):
        html = render_notice(notice, "html", lang=lang)
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("FLOWMATCH_PDF_ENGINE", "typst")
            pdf = render_notice(notice, "pdf", lang=lang)
        assert isinstance(html, str) and isinstance(pdf, bytes)
        assert _missing(html, pdf_text(pdf, tmp_path), lang) == [], lang


@pytest.mark.parametrize("which", NOTICES)
def test_pdf_is_tagged_like_the_html_notice(which: str, request: pytest.FixtureRequest) -> None:
    html, pdf = request.getfixturevalue(which)
    doc, kinds, alts = structure(pdf)
    en = which.endswith("_en")
    assert doc.Root.MarkInfo.Marked is True
    assert str(doc.Root.Lang) == ("en" if en else "zh-CN")
    title = re.search(r"<title>(.*?)</title>", html, re.S)
    assert title and str(doc.docinfo.Title) == title.group(1)
    assert str(doc.docinfo.Creator).startswith("Typst ")
    # requested as PDF/UA-1: Typst checked it and says so in the metadata
    assert "<pdfuaid:part>1</pdfuaid:part>" in str(doc.open_metadata())
    # every heading of the HTML notice is a heading of the same level (and the PDF's outline)
    for level in (1, 2, 3):
        assert kinds[f"/H{level}"] == len(html_tags(html, f"h{level}")), level
    # every table; the header row of each table that has one as TH (once, not again on later pages);
    # the label column of the key–value tables stays TD (no row-header cell in Typst yet)
    assert kinds["/Table"] == len(re.findall(r"<table[ >]", html))
    assert kinds["/THead"] == html.count("<thead>")
    assert kinds["/TH"] == header_cells(html) > 0
    assert kinds["/TD"] == len(re.findall(r"<td[ >]", html)) + len(re.findall(r"<th[ >]", html)) - header_cells(html)
    # every picture is a Figure with the alt text of its diagram; nothing is a Figure without one
    labels = re.findall(r'<svg[^>]*aria-label="([^"]+)"', html)
    assert len(labels) == 2 and alts == labels


def test_diagrams_sit_on_landscape_pages_of_their_own(f10: tuple[str, bytes]) -> None:
    html, pdf = f10
    doc, _, _ = structure(pdf)
    landscape = landscape_pages(doc)
    pictures = html.count('<figure class="picture"')
    # one landscape page each, consecutive, right after the header and overview
    assert pictures == 2 and len(landscape) == pictures
    assert landscape == list(range(landscape[0], landscape[0] + pictures)) and landscape[0] >= 1
    for page in doc.pages:  # A4 throughout
        w, h = sorted((float(page.mediabox[2]), float(page.mediabox[3])))
        assert abs(w - 595) < 2 and abs(h - 842) < 2


def test_page_count_against_the_html_print(f10: tuple[str, bytes]) -> None:
    """Typst sets the notice with the HTML print stylesheet's sizes (line height 1.5, the same cell
    padding and widths), so it takes about as many pages as Chromium's print of the HTML notice (F10:
    29 and 29; in English 39 and 38; the small notice 22 and 22), not the same page breaks.  Asserted:
    every page break of the HTML notice is kept — a page or more for each section that starts a page,
    besides the two diagram pages — and, where Chromium is installed, the count is within 15 % of its."""
    html, pdf = f10
    doc, _, _ = structure(pdf)
    pages = len(doc.pages)
    sections = html.count('class="page"')  # materials, steps, completion, fees, closing
    assert sections == 5 and pages >= 1 + 2 + sections
    if pdfmod.find_chromium() is None:
        return
    _, printed = print_notice("chromium", GOLDEN["F10"])
    chromium = len(structure(printed)[0].pages)
    assert abs(pages - chromium) <= 0.15 * chromium, (pages, chromium)


def test_english_notice_keeps_no_chinese_but_what_the_html_keeps(f10_en: tuple[str, bytes], tmp_path: Path) -> None:
    html, pdf = f10_en
    flat = squash(pdf_text(pdf, tmp_path))
    kept = squash(html_text(html))
    runs = re.findall(r"[\u3400-\u9fff]+", flat)
    # the official titles beside their translations (and the diagrams' labels the HTML has too)
    assert runs and [r for r in runs if r not in kept] == []
    assert "告知书" not in flat and "第1页" not in flat


# --- escaping ----------------------------------------------------------------------------------------------
def test_user_text_prints_literally(typst_pdf: None, tmp_path: Path) -> None:
    _, pdf = print_notice("typst", SMALL, name=TRICKY, applicant=f"申请人 {TRICKY}")
    text = pdf_text(pdf, tmp_path)
    lines = text.splitlines()
    assert f"项目名称 {TRICKY}" in lines
    assert f"申请单位 申请人 {TRICKY}" in lines
    doc, kinds, _ = structure(pdf)
    assert str(doc.docinfo.Title) == f"建设项目审批一次性告知书：{TRICKY}"
    assert kinds["/H1"] == 1  # the name made no heading, label, reference or import


def test_escape_covers_every_markup_character() -> None:
    assert typeset.escape("#a *b* _c_ $d$ <e> @f = - + / ~ [g] \\ \" ' . : `h` (i); 甲") == (
        "\\#a \\*b\\* \\_c\\_ \\$d\\$ \\<e\\> \\@f \\= \\- \\+ \\/ \\~ \\[g\\] \\\\ \\\" \\' \\. \\: \\`h\\` \\(i\\)\\; 甲"
    )
    assert typeset.escape("一\n二\r\n三") == "一 二 三"
    assert typeset.finalize(typeset.TypstCode("#linebreak()")) == "#linebreak()"
    assert typeset.finalize(None) == ""
    assert typeset.finalize("filing (备案)") == 'filing \\(#text(lang: "zh", region: "cn")[备案]\\)'
    assert typeset.string('a "b" \\ c\nd') == '"a \\"b\\" \\\\ c\\nd"'


# --- fonts, errors and templates --------------------------------------------------------------------------
def test_missing_binding_says_what_to_install(typst_pdf: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOWMATCH_PDF_ENGINE", "typst")
    monkeypatch.setitem(sys.modules, "typst", None)  # as if the binding were not installed
    monkeypatch.setattr(typeset, "_SHARED", {})
    assert render.pdf_available() is False
    with pytest.raises(RenderError) as err:
        print_notice("typst", SMALL)
    assert str(err.value) == (
        "PDF output needs Typst, which is not installed: pip install 'flowmatch[pdf]' "
        "(and a Chinese font: on Debian apt-get install fonts-wqy-microhei)"
    )


def test_binding_that_does_not_load_is_not_called_missing(typst_pdf: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Installed but broken (say a wheel for another libc): the error says so and names the way out."""
    monkeypatch.setitem(sys.modules, "typst", None)  # the import fails ...
    monkeypatch.setattr(typeset, "available", lambda: True)  # ... though the package is there
    monkeypatch.setattr(typeset, "_SHARED", {})
    with pytest.raises(RenderError) as err:
        print_notice("typst", SMALL)
    assert "installed but does not load here" in str(err.value)
    assert "FLOWMATCH_PDF_ENGINE=chromium" in str(err.value)
    assert "is not installed" not in str(err.value)


def test_missing_cjk_font_names_the_debian_package(typst_pdf: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(typeset, "_SHARED", {})
    monkeypatch.setattr(typeset, "_cjk_family", lambda fonts, path=None: (None, False))
    monkeypatch.setattr(render, "find_cjk_font", lambda: None)
    with pytest.raises(RenderError) as err:
        print_notice("typst", SMALL)
    assert str(err.value) == (
        "PDF output needs a Chinese (CJK) font and none was found; install one, e.g. on Debian "
        "apt-get install fonts-noto-cjk (or fonts-wqy-microhei), then try again"
    )


def test_a_cjk_font_of_an_unknown_family_is_found_through_fontconfig(
    typst_pdf: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    found = render.find_cjk_font()
    assert found is not None
    if not found[1]:
        pytest.skip("fontconfig names no font file")
    import typst

    monkeypatch.setattr(render, "CJK_FAMILIES", ())  # no family flowmatch knows by name
    setter = typeset.Typesetter()
    faces = sorted((f.index, f.family) for f in typst.Fonts().fonts() if f.path == found[1])
    assert faces and setter.family == faces[0][1]


def test_typst_errors_and_file_access_from_user_templates(typst_pdf: None, tmp_path: Path) -> None:
    from flowmatch.notice import build_notice
    from flowmatch.notice import render as render_notice

    partial = tmp_path / "typst" / "partials" / "closing.typ.j2"
    partial.parent.mkdir(parents=True)
    notice = build_notice(SMALL, start=START)
    # an overridden partial takes the packaged one's place
    partial.write_text("== 自定义结尾 {{ header.situation.id }}\n", encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FLOWMATCH_PDF_ENGINE", "typst")
        pdf = render_notice(notice, "pdf", templates=tmp_path)
        assert isinstance(pdf, bytes)
        text = pdf_text(pdf, tmp_path)
        assert "自定义结尾 S32" in text and "告知声明" not in text
        # Typst's own error, located in the generated source
        partial.write_text("#no-such-function()\n", encoding="utf-8")
        with pytest.raises(RenderError, match=r"^PDF typesetting failed in Typst: .*generated source line \d+"):
            render_notice(notice, "pdf", templates=tmp_path)
        # the typesetter's root is the packaged Typst templates: nothing else on disk can be read
        partial.write_text('#read("../../pyproject.toml")\n', encoding="utf-8")
        with pytest.raises(RenderError, match=r"^PDF typesetting failed in Typst: "):
            render_notice(notice, "pdf", templates=tmp_path)


# --- which engine prints -----------------------------------------------------------------------------------
def _fake_module(name: str) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__spec__ = importlib.machinery.ModuleSpec(name, None)
    return module


def test_engine_is_typst_then_chromium_then_weasyprint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FLOWMATCH_PDF_ENGINE", raising=False)
    monkeypatch.setitem(sys.modules, "typst", _fake_module("typst"))
    assert pdfmod.engine() == "typst"
    monkeypatch.setitem(sys.modules, "typst", None)  # the binding missing: the next engine installed
    monkeypatch.setattr(pdfmod, "find_chromium", lambda: "/usr/bin/chromium")
    assert pdfmod.engine() == "chromium"
    monkeypatch.setattr(pdfmod, "find_chromium", lambda: None)
    monkeypatch.setitem(sys.modules, "weasyprint", _fake_module("weasyprint"))
    assert pdfmod.engine() == "weasyprint"
    monkeypatch.setitem(sys.modules, "weasyprint", None)  # none at all: Typst, whose error says what to install
    assert pdfmod.engine() == "typst"


def test_engine_is_chosen_by_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert pdfmod.ENGINES == ("typst", "chromium", "weasyprint")
    for name in pdfmod.ENGINES:
        monkeypatch.setenv("FLOWMATCH_PDF_ENGINE", f" {name.upper()} ")
        assert pdfmod.engine() == render.pdf_engine() == name
    monkeypatch.setenv("FLOWMATCH_PDF_ENGINE", "latex")
    with pytest.raises(InputError) as err:
        pdfmod.engine()
    assert str(err.value) == "unknown PDF engine 'latex' in FLOWMATCH_PDF_ENGINE; allowed: typst, chromium, weasyprint"
    assert render.pdf_available() is False


def test_batch_workers_are_spawned_once_typst_is_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    from flowmatch import batch

    monkeypatch.setattr(batch.sys, "platform", "linux")
    monkeypatch.delitem(sys.modules, "typst", raising=False)
    assert batch._start_method() == "fork"
    monkeypatch.setitem(sys.modules, "typst", _fake_module("typst"))
    assert batch._start_method() == "spawn"


def _typst_pdf(data: bytes) -> bool:
    doc, kinds, _ = structure(data)
    return str(doc.docinfo.Creator).startswith("Typst ") and str(doc.Root.Lang) == "zh-CN" and kinds["/H1"] == 1


def test_cli_and_batch_print_with_typst_by_default(
    typst_pdf: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from flowmatch.cli import main

    monkeypatch.delenv("FLOWMATCH_PDF_ENGINE", raising=False)
    out = tmp_path / "one.pdf"
    done = CliRunner().invoke(main, ["guide", "kind=pipeline", "--start", START.isoformat(), "-o", str(out)])
    assert done.exit_code == 0, done.output
    assert _typst_pdf(out.read_bytes())
    done = CliRunner().invoke(
        main, ["guide", "kind=pipeline", "--format", "pdf", "--lang", "en", "-o", str(out), "--force"]
    )
    assert done.exit_code == 0, done.output
    assert str(structure(out.read_bytes())[0].Root.Lang) == "en"
    rows = tmp_path / "batch.csv"
    rows.write_text("id,name,start,kind\na,甲,2026-03-02,pipeline\nb,乙,2026-03-03,road_bridge\n", encoding="utf-8")
    done = CliRunner().invoke(
        main, ["guide", "--batch", str(rows), "-o", str(tmp_path / "out"), "--format", "pdf", "--jobs", "2"]
    )
    assert done.exit_code == 0, done.output
    for name in ("a.pdf", "b.pdf"):
        assert _typst_pdf((tmp_path / "out" / name).read_bytes())


def test_web_notice_pdf_is_typeset_by_typst(typst_pdf: None, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("starlette")
    from starlette.testclient import TestClient

    from flowmatch.web import create_app

    monkeypatch.delenv("FLOWMATCH_PDF_ENGINE", raising=False)
    with TestClient(create_app(default_ruleset())) as client:
        page = client.get("/notice?kind=pipeline&start=2026-03-02")
        assert 'id="print-pdf"' in page.text and "format=pdf" in page.text  # the toolbar offers the PDF
        r = client.get("/notice?kind=pipeline&format=pdf&start=2026-03-02")
        english = client.get("/notice?kind=pipeline&format=pdf&start=2026-03-02&lang=en")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert _typst_pdf(r.content)
    assert english.status_code == 200 and str(structure(english.content)[0].Root.Lang) == "en"
