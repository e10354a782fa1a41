"""PDF notices typeset by Typst (the default PDF engine; ``docs/adr/0010-pdf-engine.md``).

The notice's context (:func:`flowmatch.render.build_context`, with its SVG pictures) renders
through the Jinja templates in ``guides/typst/`` (``guides/typst/en/`` for the English notice) —
the sections, tables and pictures of the HTML notice in the same order — and the Typst binding
(the ``[pdf]`` extra, one wheel, no browser) compiles that source and the two diagrams, in memory,
into a tagged PDF/UA-1 document: real headings, tables with their header rows, the diagrams as
figures with alt text on landscape pages, the document language (zh-CN or en) and title, and
``第 N 页 / 共 M 页`` in the footer.

Escaping: every ``{{ value }}`` a Typst template prints is escaped as Typst markup
(:func:`escape`), so a project called ``#import "x"`` or ``*_$@<>[]\\`` prints as exactly those
characters; ``|str`` writes a value as a Typst string literal, ``|lines`` keeps its line breaks,
``|official`` marks an official Chinese title in the English notice.  What a template itself
writes is Typst source (:class:`TypstCode` marks values that are already source).

One :class:`Typesetter` per process finds the fonts once (a CJK font is required: without one the
error names the Debian package) and compiles any number of notices; callers are serialised with a
lock.  Typst runs a Rust thread pool, so a process that has loaded it must not ``fork`` (the batch
starts its workers with ``spawn`` then).  After each notice the typesetter ages Typst's memo cache
with a few empty compiles (:data:`TRIM`), which keeps a long-running worker's memory bounded.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Mapping
from html import unescape
from pathlib import Path
from typing import Any

from .errors import RenderError

__all__ = ["INSTALL", "Typesetter", "TypstCode", "available", "escape", "typeset", "typesetter"]

INSTALL = (
    "PDF output needs Typst, which is not installed: pip install 'flowmatch[pdf]' "
    "(and a Chinese font: on Debian apt-get install fonts-wqy-microhei)"
)
FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", "~/.local/share/fonts", "~/.fonts")
STANDARDS = ["ua-1"]  # PDF/UA-1: Typst checks the structure (title, alt text, headings) and writes the marks
TRIM = 4
"""Empty compiles after each notice (≈0.02 ms each).  The binding evicts Typst's memo entries unused for
10 compiles; with 4 empty ones an entry no notice used for the last two notices goes, and what
consecutive notices share (the style, the same flow's paragraphs) stays cached.  Measured on F10
notices: a worker peaks at ≈185 MB (≈375 MB after 14 notices without trimming, still growing; ≈135 MB
with 10 empty compiles, which leave nothing cached and cost ≈15 % more time per notice)."""
PICTURE_WIDTH_MM = 273.0  # a landscape A4 page less its 12 mm margins
PICTURE_HEIGHT_MM = {"flowchart": 150.0, "gantt": 160.0}  # the flowchart shares its page with the heading
_SPECIAL = re.compile(r"""([\\#*_`$<>@=\-+/~\[\]"'.:;()])""")
_ZH_TERM = re.compile(r"(?<=[A-Za-z)] )\(([\u3400-\u9fff]+)\)")


class TypstCode(str):
    """Typst source that a template prints as it is (never escaped again)."""

    __slots__ = ()


# --- escaping (the Jinja side; flowmatch.templates uses these as finalizer and filters) -----------------
def escape(value: object) -> str:
    """``value`` as Typst markup that prints exactly its characters.

    Every character Typst markup gives a meaning (``#`` code, ``*``/``_`` emphasis, ``$`` maths,
    ``<label>``, ``@ref``, ``=``/``-``/``+``/``/`` at a line start, ``[ ]`` content, ``\\``, quotes
    that would turn smart, ``...``/``--``/``~`` shorthands, ``//`` comments; and ``( ) ; . :``, which
    right after a template's ``#f[...]`` would call, end or access it) is escaped with a backslash;
    line breaks become spaces (the HTML notice collapses them too)."""
    text = str(value).replace("\r\n", "\n").replace("\r", "\n")
    return _SPECIAL.sub(r"\\\1", text).replace("\n", " ")


def finalize(value: Any) -> str:
    """The Typst templates' finalizer: every printed value escaped, :class:`TypstCode` kept."""
    if value is None:
        return ""
    if isinstance(value, TypstCode):
        return str(value)
    text = str(value)
    out, last = [], 0
    for term in _ZH_TERM.finditer(text):  # "filing (备案)": the official Chinese term marked as Chinese
        out += [escape(text[last : term.start()]), _chinese(term.group(1))]
        last = term.end()
    return "".join([*out, escape(text[last:])])


def _chinese(text: str) -> str:
    """Chinese text in brackets inside an English notice, marked as Chinese (the HTML's ``<span lang="zh">``)."""
    return f'\\(#text(lang: "zh", region: "cn")[{escape(text)}]\\)'


def string(value: object) -> TypstCode:
    """``value`` as a Typst string literal (``|str``: a document title, alt text, a file name)."""
    text = str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\r", "").replace("\n", "\\n")
    return TypstCode(f'"{text}"')


def lines(value: object) -> TypstCode:
    """A multi-line text as escaped markup with its line breaks kept (``|lines``)."""
    if not value:
        return TypstCode("")
    return TypstCode("#linebreak()".join(escape(line) for line in str(value).strip().splitlines()))


def official(value: Any) -> TypstCode:
    """An official title in the English notice: ``english (官方名称)``, the Chinese marked as Chinese."""
    en, zh = getattr(value, "en", None), getattr(value, "zh", None)
    if not en or not zh:
        return TypstCode(finalize(str(value)))
    return TypstCode(f"{escape(en)} {_chinese(zh)}")


FILTERS = {"str": string, "lines": lines, "official": official}


# --- fonts and the compiler ---------------------------------------------------------------------------
def available() -> bool:
    """Whether the Typst binding is installed (cheap: nothing is imported)."""
    from importlib.util import find_spec

    try:
        return find_spec("typst") is not None
    except ValueError:  # a half-imported module without a spec
        return False


def _font_dirs() -> list[str]:
    return [d for d in (os.path.expanduser(p) for p in FONT_DIRS) if os.path.isdir(d)]


def _cjk_family(fonts: Any, path: str | None = None) -> tuple[str | None, bool]:
    """The CJK family to set the notice in (the HTML notice's order of preference), and whether it
    has a bold face; ``path``: a font file fontconfig named, when no known family was found."""
    from .render import CJK_FAMILIES

    infos = list(fonts.fonts())
    families = {i.family for i in infos}
    chosen = next((f for f in CJK_FAMILIES if f in families), None)
    if chosen is None and path is not None:  # the file's first face (a collection holds several)
        real = os.path.realpath(path)
        faces = sorted((i.index, i.family) for i in infos if i.path and os.path.realpath(i.path) == real)
        chosen = faces[0][1] if faces else None
    if chosen is None:
        return None, False
    return chosen, any(i.family == chosen and i.weight >= 600 for i in infos)


class Typesetter:
    """The Typst compiler of this process with the fonts it found; compiles notices to PDF bytes."""

    def __init__(self) -> None:
        try:
            import typst
        except ImportError as exc:
            if available():  # installed, but its compiled part does not load on this machine
                raise RenderError(
                    f"PDF output needs Typst, which is installed but does not load here ({exc}); reinstall it "
                    "with pip install --force-reinstall typst, or choose another engine with "
                    "FLOWMATCH_PDF_ENGINE=chromium"
                ) from None
            raise RenderError(INSTALL) from None
        from .render import NO_CJK_FONT, default_guides_path, find_cjk_font

        dirs = _font_dirs()
        fonts = typst.Fonts(font_paths=dirs)
        family, bold = _cjk_family(fonts)
        if family is None:  # fontconfig may know a font in a directory Typst does not search
            found = find_cjk_font()
            if found is not None and found[1]:
                dirs.append(str(Path(found[1]).parent))
                fonts = typst.Fonts(font_paths=dirs)
                family, bold = _cjk_family(fonts, found[1])
        if family is None:
            raise RenderError(NO_CJK_FONT)
        self.family = family
        self.bold = bold
        # the root is the packaged Typst templates: a template can read nothing else from disk.  (Any: the
        # binding's stub does not declare the in-memory files it accepts as input, a dict of name to bytes.)
        self._compiler: Any = typst.Compiler(root=str(default_guides_path() / "typst"), font_paths=fonts)
        self._error = typst.TypstError
        self._lock = threading.Lock()

    def compile(self, files: Mapping[str, bytes]) -> bytes:
        """The PDF of ``files`` (``main.typ`` and what it reads), in memory."""
        with self._lock:
            try:
                out = self._compiler.compile(input=dict(files), format="pdf", pdf_standards=STANDARDS)
            except self._error as exc:
                raise RenderError(_typst_message(exc)) from None
            finally:
                self._trim()
        if not isinstance(out, bytes):  # pragma: no cover - a PDF is one file
            raise RenderError("Typst returned no PDF")
        return out

    def _trim(self) -> None:
        for _ in range(TRIM):
            try:
                self._compiler.compile(input=b"", format="pdf")
            except self._error:  # pragma: no cover - an empty document always compiles
                break


def _typst_message(exc: Any) -> str:
    message = getattr(exc, "message", "") or str(exc)
    hints = "; ".join(getattr(exc, "hints", None) or ())
    where = re.search(r"main\.typ:(\d+):(\d+)", getattr(exc, "diagnostic", "") or "")
    text = f"PDF typesetting failed in Typst: {message}"
    if where:
        text += f" (generated source line {where.group(1)})"
    return text + (f"; hint: {hints}" if hints else "")


_SHARED: dict[int, Typesetter] = {}
_LOCK = threading.Lock()


def typesetter() -> Typesetter:
    """This process's typesetter (made on first use: the fonts are found once)."""
    pid = os.getpid()
    with _LOCK:
        found = _SHARED.get(pid)
        if found is None:
            found = _SHARED[pid] = Typesetter()
    return found


# --- the notice -------------------------------------------------------------------------------------
def _images(pictures: Mapping[str, Any], bold: bool = True) -> tuple[dict[str, dict[str, Any]], dict[str, bytes]]:
    """The diagrams as files beside ``main.typ``, with their alt text (the SVG's ``aria-label``, as in
    the HTML notice) and a width that keeps them inside their landscape page.  ``bold``: whether the
    font has a bold face; without one, bold labels (the critical path) get a hairline outline, as
    a browser makes bold text of a font that has none."""
    images: dict[str, dict[str, Any]] = {}
    files: dict[str, bytes] = {}
    for name in ("flowchart", "gantt"):
        svg = pictures.get(name)
        if svg is None:
            continue
        text = str(svg)
        if not bold:
            text = text.replace(' font-weight="bold"', ' font-weight="bold" stroke="#000" stroke-width="0.35"')
        head = text[: text.find(">") + 1]
        label = re.search(r'aria-label="([^"]*)"', head)
        size = re.search(r'width="([\d.]+)" height="([\d.]+)"', head)
        width = PICTURE_WIDTH_MM
        if size and float(size.group(1)) > 0:
            ratio = float(size.group(2)) / float(size.group(1))
            width = min(PICTURE_WIDTH_MM, PICTURE_HEIGHT_MM[name] / ratio) if ratio > 0 else width
        file = f"{name}.svg"
        files[file] = text.encode("utf-8")
        images[name] = {
            "file": file,
            "alt": unescape(label.group(1)) if label else name,
            "width": TypstCode(f"{width:.1f}mm"),
        }
    return images, files


def typeset(context: Mapping[str, Any], templates: Path | None = None, lang: str = "zh") -> bytes:
    """The notice of ``context`` (with its SVG pictures) as a tagged PDF, typeset by Typst.

    ``templates``: a directory whose ``typst/`` templates override the packaged ones by name.
    A missing binding or CJK font, or a template Typst refuses, is a :class:`RenderError`."""
    from .templates import render_template

    setter = typesetter()
    images, files = _images(context.get("pictures") or {}, setter.bold)
    fonts = TypstCode("(" + string(setter.family) + ",)")
    bold_stroke = TypstCode("none" if setter.bold else "0.03em")
    source = render_template(
        "typst", {**context, "images": images, "fonts": fonts, "bold_stroke": bold_stroke}, templates, lang=lang
    )
    return setter.compile({"main.typ": source.encode("utf-8"), **files})
