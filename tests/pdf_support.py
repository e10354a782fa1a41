"""Reading PDF notices against the HTML notice of the same project (tests/test_pdf.py for Chromium,
tests/test_typst.py for Typst): the notice printed by a chosen engine, the PDF's structure tree, its
text as ``pdftotext`` extracts it, and the headings and cells of the HTML notice.  Helpers skip the
test, with the reason, where pikepdf or poppler-utils is missing."""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import subprocess
from collections import Counter
from collections.abc import Mapping
from html import unescape
from pathlib import Path
from typing import Any

import pytest

from flowmatch.calendar import WorkCalendar
from flowmatch.notice import build_notice, render

START = dt.date(2026, 3, 2)
GENERATED = dt.date(2026, 2, 27)
NAME = "哈东华府二期"
APPLICANT = "哈尔滨示例建设有限公司"


def print_notice(
    engine: str,
    profile: Mapping[str, Any],
    *,
    lang: str = "zh",
    name: str | None = NAME,
    applicant: str | None = APPLICANT,
    commitment: bool = False,
) -> tuple[str, bytes]:
    """One notice as HTML and as PDF printed by ``engine`` (``FLOWMATCH_PDF_ENGINE``), from one notice."""
    notice = build_notice(
        profile,
        start=START,
        calendar=WorkCalendar(),
        name=name,
        applicant=applicant,
        generated=GENERATED,
        commitment=commitment,
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FLOWMATCH_PDF_ENGINE", engine)
        html = render(notice, "html", lang=lang)
        pdf = render(notice, "pdf", lang=lang)
    assert isinstance(html, str) and isinstance(pdf, bytes)
    return html, pdf


def structure(pdf: bytes) -> tuple[Any, Counter[str], list[str | None]]:
    """The open document, how many structure elements of each kind it has, and every Figure's alt text."""
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


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    """The PDF's text in content order (``pdftotext -raw``)."""
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    path = tmp_path / "notice.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-raw", str(path), "-"], capture_output=True, text=True, check=True).stdout


def html_tags(html: str, tag: str) -> list[str]:
    """The text of every ``<tag>`` element of the HTML notice (markup removed)."""
    found = re.findall(rf"<{tag}\b[^>]*>(.*?)</{tag}>", html, re.S)
    return [unescape(re.sub(r"<[^>]+>", "", x)).strip() for x in found]


def html_text(html: str) -> str:
    """Everything the HTML notice's body says (markup removed, the diagrams' labels included)."""
    body = html[html.index("<body") :]
    return unescape(re.sub(r"<[^>]+>", " ", body))


def header_cells(html: str) -> int:
    """The column header cells of the HTML notice (``<th>`` inside ``<thead>``)."""
    return sum(len(re.findall(r"<th[ >]", head)) for head in re.findall(r"<thead>(.*?)</thead>", html, re.S))


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def landscape_pages(doc: Any) -> list[int]:
    return [i for i, page in enumerate(doc.pages) if float(page.mediabox[2]) > float(page.mediabox[3])]
