"""The notice's Jinja templates (private): locating them, the environment, the filters, rendering.

The packaged templates live in the top-level ``guides/`` directory (shipped in the wheel).  A
user's template directory runs in Jinja's immutable sandbox and falls back to the packaged
templates for anything it does not define; every template path stays inside its directory
(symlinks resolved), is a regular file and at most :data:`MAX_TEMPLATE` bytes.  HTML is
autoescaped always; Markdown output escapes ``< > |`` in every value.  A template error becomes
:class:`~flowmatch.errors.RenderError` naming the template and line.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from jinja2 import pass_context
from markupsafe import Markup, escape

from .calendar import number_text
from .errors import RenderError
from .fileio import ReadError, read_limited

if TYPE_CHECKING:
    from jinja2 import Environment
    from jinja2.runtime import Context


__all__ = ["MAX_TEMPLATE", "TEMPLATES", "default_guides_path", "render_template"]

TEMPLATES = {"html": "notice.html.j2", "md": "notice.md.j2", "pdf": "notice.html.j2", "typst": "typst/notice.typ.j2"}
ENGLISH = "en/"  # the English templates mirror the Chinese ones under guides/en/ (Typst: guides/typst/en/)
MAX_TEMPLATE = 1_000_000  # bytes in one template file
WEEKDAYS = "一二三四五六日"


# --- locating the templates --------------------------------------------------------------------------
def default_guides_path() -> Path:
    """The packaged templates: inside the installed wheel, or the source tree's ``guides/``."""
    here = Path(__file__).resolve().parent
    for base in (here / "guides", here.parents[1] / "guides"):
        if (base / TEMPLATES["html"]).is_file():
            return base
    raise RenderError("the packaged guide templates are missing from this installation; reinstall flowmatch")


# --- small formatting helpers (also Jinja filters) ----------------------------------------------------
def cn_date(d: dt.date | None, weekday: bool = False) -> str:
    if d is None:
        return "—"
    text = f"{d.year}年{d.month}月{d.day}日"
    return f"{text}（周{WEEKDAYS[d.weekday()]}）" if weekday else text


@pass_context
def _plan_date(ctx: Context, d: dt.date | None, weekday: bool = False) -> str:
    """A date of the plan, marked 预计 right beside it when it rests on a year whose holiday
    arrangements are not yet published (the notice's ``estimated_from``)."""
    text = cn_date(d, weekday)
    since = ctx.get("estimated_from")
    if d is not None and isinstance(since, dt.date) and d >= since:
        return f"{text}（预计）"
    return text


def en_date(d: dt.date | None, weekday: bool = False) -> str:
    """A date in English: 14 Dec 2026, with the weekday: 14 Dec 2026 (Mon)."""
    if d is None:
        return "—"
    text = f"{d.day} {_MONTHS[d.month - 1]} {d.year}"
    return f"{text} ({_WEEKDAYS_EN[d.weekday()]})" if weekday else text


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_WEEKDAYS_EN = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@pass_context
def _plan_date_en(ctx: Context, d: dt.date | None, weekday: bool = False) -> str:
    """:func:`_plan_date` in English: "(estimated)" beside a date of a year not yet published."""
    text = en_date(d, weekday)
    since = ctx.get("estimated_from")
    if d is not None and isinstance(since, dt.date) and d >= since:
        return f"{text} (estimated)"
    return text


def en_css(css: str) -> Markup:
    """The notice's style sheet for the English notice: the printed page footer in English."""
    footer = '"第 " counter(page) " 页 / 共 " counter(pages) " 页"'
    return Markup(str(css).replace(footer, '"Page " counter(page) " of " counter(pages)'))


def within_text_en(x: float) -> str:
    """:func:`within_text` in English: "on the spot" or "within 5 working days"."""
    return "on the spot" if x == 0 else f"within {number_text(x)} working days"


def within_text(x: float) -> str:
    """A duration that templates follow with a verb (``…办结``): 0 reads 当场, not 即时办结."""
    return "当场" if x == 0 else f"{number_text(x)}个工作日"


def percent(x: float) -> str:
    return f"{x * 100:.1f}%"


def _md_escape(text: str) -> str:
    return (
        text.replace("\\", "\\\\")
        .replace("|", "\\|")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\r\n", " ")
        .replace("\n", " ")
    )


def _md_finalize(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, Markup):
        return str(value)
    return _md_escape(str(value))


def md_quote(text: str | None) -> Markup:
    """A multi-line text as a Markdown block quote (escaped)."""
    if not text:
        return Markup("")
    lines = [_md_escape(line) for line in str(text).strip().splitlines()]
    return Markup("\n".join("> " + line if line else ">" for line in lines))


def md_text(text: str | None) -> Markup:
    """A multi-line text as Markdown paragraphs (escaped, line breaks kept)."""
    if not text:
        return Markup("")
    return Markup("  \n".join(_md_escape(line) for line in str(text).strip().splitlines()))


def html_text(text: str | None) -> Markup:
    """A multi-line text as escaped HTML with ``<br>`` line breaks."""
    if not text:
        return Markup("")
    return Markup("<br>").join(escape(line) for line in str(text).strip().splitlines())


def official_md(value: Any) -> str:
    """An official title in the English Markdown notice: ``english (官方名称)`` (escaped by the finalizer)."""
    return str(value)


def official_html(value: Any) -> Markup:
    """An official title in the English HTML notice: ``english (<span lang="zh">官方名称</span>)``."""
    en, zh = getattr(value, "en", None), getattr(value, "zh", None)
    if not en or not zh:
        return escape(str(value))
    return Markup('{} (<span lang="zh">{}</span>)').format(en, zh)


# --- Jinja --------------------------------------------------------------------------------------------
_ENVIRONMENTS: dict[tuple[str, str | None], Environment] = {}


def _environment(kind: str, templates: Path | None) -> Environment:
    key = (kind, str(templates) if templates else None)
    found = _ENVIRONMENTS.get(key)
    if found is not None:
        return found
    from jinja2 import ChoiceLoader, Environment, StrictUndefined
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    loaders = []
    if templates is not None:
        loaders.append(_confined_loader(templates))
    loaders.append(_confined_loader(default_guides_path()))
    # the immutable sandbox also refuses list.append, dict.update and the like on what it is given
    cls = ImmutableSandboxedEnvironment if templates is not None else Environment
    finalize: Callable[[Any], Any] | None = None
    if kind == "md":
        finalize = _md_finalize
    elif kind == "typst":  # every printed value escaped as Typst markup (flowmatch.typeset)
        from .typeset import finalize as typst_finalize

        finalize = typst_finalize
    env = cls(
        loader=ChoiceLoader(loaders),
        autoescape=kind == "html",
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=finalize,
        auto_reload=templates is not None,  # the packaged templates do not change under a running process
    )
    env.filters.update(
        {
            "cn_date": _plan_date,
            "plain_date": cn_date,
            "days": within_text,
            "num": number_text,
            "percent": percent,
            "md_quote": md_quote,
            "md_text": md_text,
            "html_text": html_text,
            "en_date": _plan_date_en,
            "en_plain_date": en_date,
            "en_days": within_text_en,
            "en_css": en_css,
            "official": official_html if kind == "html" else official_md,
        }
    )
    if kind == "typst":
        from .typeset import FILTERS

        env.filters.update(FILTERS)
    _ENVIRONMENTS[key] = env
    return env


def _confined_loader(root: Path) -> Any:
    """A Jinja loader for the templates under ``root`` that never leaves it.

    Every template path is resolved (symlinks included) and must stay inside ``root``; the file
    must be a regular file of at most :data:`MAX_TEMPLATE` bytes, read once (never a FIFO or a
    device).  A template outside is a :class:`RenderError`, not a fallback to another directory."""
    from jinja2 import BaseLoader, TemplateNotFound
    from jinja2.loaders import split_template_path

    base = Path(root).resolve()

    class ConfinedLoader(BaseLoader):
        def get_source(self, environment: Environment, template: str) -> tuple[str, str, Callable[[], bool]]:
            path = base.joinpath(*split_template_path(template))  # refuses '..' pieces
            if not os.path.lexists(path):
                raise TemplateNotFound(template)
            real = path.resolve()
            if real != base and base not in real.parents:
                raise RenderError(
                    f"template {template} leads outside the template directory {base} (a symbolic link?); refused"
                )
            try:
                source = read_limited(real, MAX_TEMPLATE).decode("utf-8")
            except ReadError as exc:
                raise RenderError(f"template {template}: {exc.reason}") from None
            except UnicodeDecodeError:
                raise RenderError(f"template {template} is not UTF-8 text") from None
            mtime = os.stat(real).st_mtime_ns

            def uptodate() -> bool:
                try:
                    return os.stat(real).st_mtime_ns == mtime
                except OSError:
                    return False

            return source, str(path), uptodate

    return ConfinedLoader()


def _template_line(tb: TracebackType | None) -> tuple[str | None, int | None]:
    """The innermost template frame of a traceback (Jinja rewrites frames to template lines)."""
    name = line = None
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.endswith(".j2") or "/guides/" in filename.replace(os.sep, "/"):
            name, line = filename, tb.tb_lineno
        tb = tb.tb_next
    return name, line


def _short_name(filename: str | None, fallback: str) -> str:
    return Path(filename).name if filename else fallback


def template_name(kind: str, lang: str = "zh") -> str:
    """The main template of a kind of output in a language (``en/notice.html.j2``, ``typst/en/notice.typ.j2``)."""
    if lang != "en":
        return TEMPLATES[kind]
    if kind == "typst":
        return TEMPLATES[kind].replace("typst/", "typst/" + ENGLISH, 1)
    return ENGLISH + TEMPLATES[kind]


def render_template(kind: str, context: Mapping[str, Any], templates: Path | None = None, lang: str = "zh") -> str:
    """Render the notice template for ``kind`` (``html``, ``md`` or ``typst``) with a prepared context
    (``lang="en"``: the English templates, ``en/notice.html.j2`` and so on)."""
    from jinja2 import TemplateNotFound, TemplateSyntaxError
    from jinja2.exceptions import SecurityError

    env = _environment(kind, templates)
    name = template_name(kind, lang)
    try:
        template = env.get_template(name)
        return template.render(context)
    except TemplateSyntaxError as exc:
        where = _short_name(exc.filename or exc.name, name)
        raise RenderError(f"template {where}, line {exc.lineno}: syntax error: {exc.message}") from None
    except TemplateNotFound as exc:
        places = ", ".join(str(p) for p in [*([templates] if templates else []), default_guides_path()])
        raise RenderError(f"template {exc.name} not found (looked in: {places})") from None
    except SecurityError as exc:
        filename, line = _template_line(exc.__traceback__)
        where = _short_name(filename, name)
        raise RenderError(f"template {where}, line {line}: not allowed in the sandbox: {exc}") from None
    except RenderError:
        raise
    except Exception as exc:
        filename, line = _template_line(exc.__traceback__)
        raise RenderError(f"template {_short_name(filename, name)}, line {line}: {type(exc).__name__}: {exc}") from None
