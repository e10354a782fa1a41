"""The pages: each handler validates its query, makes one library call and renders a template.

Every page is a GET whose whole state is in the URL: the answers so far are query parameters
(``/ask?kind=building&land_nature=state_owned``), so a page can be bookmarked, the back button
works and nothing is kept on the server.  Every query parameter is checked against the rule-set:
an unknown, repeated or invalid one raises :class:`BadRequest`, shown as a friendly 400 page that
names each problem.  Templates autoescape everything; the only markup passed through is the
pictures :mod:`flowmatch.pictures` draws and the ``<mark>`` highlights built here from escaped text.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import threading
import weakref
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import anyio
import anyio.to_thread
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ..calendar import WorkCalendar, acceptance_day, next_workday
from ..errors import CalendarError, FlowmatchError, InputError, RenderError
from ..matcher import Invalid, as_bool
from ..ruleset import RuleSet
from ..search import KINDS, Hit, index_for
from ..wizard import UNSURE, Option, Outcome, Question, next_question, plan, wizard_for
from . import i18n

__all__ = ["MAX_NAME", "MAX_RENDERS", "NOTICE_CSP", "BadRequest", "Page", "Pages", "Unavailable", "environment"]

log = logging.getLogger("flowmatch.web")

HERE = Path(__file__).resolve().parent
MAX_NAME = 100
MAX_RENDERS = 4  # pages (PDF notices above all) rendered at once, each in a worker thread
# The printable notice is one self-contained file with its own <style>: inline styles (never
# scripts) are allowed on that response only.
_TOOLBAR_CSS = (
    ".web-toolbar{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center;padding:.5rem 0;"
    "margin-bottom:1rem;border-bottom:1px solid #999}@media print{.web-toolbar{display:none}}"
)
NOTICE_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


class BadRequest(Exception):
    """Turned into the friendly 400 page; ``problems`` are shown as a list."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = tuple(problems)


class Unavailable(Exception):
    """A feature this installation lacks (notice renderer, PDF): a 503 page with the message."""


# --- the pages' helpers ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Page:
    """What every template gets: the language, the rule-set and URL helpers."""

    ruleset: RuleSet
    lang: str
    path: str
    query: tuple[tuple[str, str], ...]

    def t(self, key: str, **values: Any) -> str:
        return i18n.text(key, self.lang, **values)

    def label(self, obj: Any) -> str:
        return i18n.label(obj, self.lang)

    def other(self, obj: Any) -> str:
        return i18n.other(obj, self.lang)

    def text(self, obj: Any, field: str) -> str:
        """A free text of a rule-set object in the page's language (its ``*_en`` twin in English)."""
        return i18n.free_text(obj, field, self.lang)[0]

    def text_lang(self, obj: Any, field: str) -> str:
        """The ``lang`` attribute of :meth:`text` (``zh-CN`` where the rule-set has no English)."""
        return i18n.free_text(obj, field, self.lang)[1]

    def help(self, obj: Any) -> str:
        return i18n.help_text(obj, self.lang)[0]

    def help_lang(self, obj: Any) -> str:
        """The ``lang`` attribute of :meth:`help` (``zh-CN`` where the rule-set has no English)."""
        return i18n.help_text(obj, self.lang)[1]

    def url(self, path: str, pairs: Iterable[tuple[str, str]] = ()) -> str:
        items = [(k, v) for k, v in pairs if k != "lang"]
        if self.lang == "en":
            items.append(("lang", "en"))
        return path + ("?" + urlencode(items) if items else "")

    @property
    def lang_url(self) -> str:
        items = [(k, v) for k, v in self.query if k != "lang"]
        if self.lang != "en":
            items.append(("lang", "en"))
        return self.path + ("?" + urlencode(items) if items else "")

    @property
    def html_lang(self) -> str:
        return "en" if self.lang == "en" else "zh-CN"

    @property
    def other_html_lang(self) -> str:
        return "zh-CN" if self.lang == "en" else "en"


def _marked(text: str, spans: Sequence[tuple[int, int]]) -> Markup:
    out = []
    last = 0
    for start, end in spans:
        out.append(str(escape(text[last:start])))
        out.append(f"<mark>{escape(text[start:end])}</mark>")
        last = end
    out.append(str(escape(text[last:])))
    return Markup("".join(out))


def _num(x: float | None) -> str:
    if x is None:
        return "—"
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(HERE / "templates")),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["marked"] = _marked
    env.filters["num"] = _num
    return env


class Pages:
    """The routes. Each handler validates its query, makes one library call and renders."""

    def __init__(
        self, ruleset: RuleSet, env: Environment, calendar: WorkCalendar | None = None, *, db: str | None = None
    ) -> None:
        self.rs = ruleset
        self.env = env
        self.calendar = calendar or WorkCalendar()
        self.db = db
        """The certificate database (证照数据库) the notice looks the applicant up in, if configured."""
        reserved = {"lang", "change", "format", "name", "start", "applicant", "credit_code"}
        clash = reserved & (set(ruleset.attributes) | set(ruleset.flags))
        if clash:
            names = ", ".join(sorted(clash))
            raise FlowmatchError(f"attribute or flag ids clash with the web page's parameters: {names}")
        self.limiters: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, anyio.CapacityLimiter] = (
            weakref.WeakKeyDictionary()
        )
        self._peers: dict[str, Any] | None = None  # the packaged predecessor and successor (see peers)
        self._peers_lock = threading.Lock()
        index_for(ruleset)  # build the search index and the wizard before the first request
        next_question({}, ruleset=ruleset)
        wizard_for(ruleset).remaining({})  # and the question counts of every sure path

    def app(self) -> Starlette:
        off = self._off_the_loop
        routes = [
            Route("/", off(self.home)),
            Route("/ask", off(self.ask)),
            Route("/notice", off(self.notice)),
            Route("/search", off(self.search)),
            Route("/browse", off(self.browse)),
            Route("/browse/{category}", off(self.category)),
            Route("/flowchart/{flowchart}", off(self.flowchart)),
            Route("/item/{item}", off(self.item)),
            Route("/material/{material}", off(self.material)),
            Route("/compare", off(self.compare)),
            Mount("/static", app=StaticFiles(directory=str(HERE / "static")), name="static"),
        ]
        handlers: dict[Any, Any] = {
            HTTPException: self._http_error,
            BadRequest: self._bad_request,
            Unavailable: self._unavailable,
            Exception: self._server_error,
        }
        app = Starlette(routes=routes, exception_handlers=handlers)
        app.router.redirect_slashes = False  # FlowmatchApp redirects, with a relative Location
        return app

    def _off_the_loop(self, handler: Callable[[Request], Response]) -> Callable[[Request], Awaitable[Response]]:
        """``handler`` run in a worker thread, at most :data:`MAX_RENDERS` at a time: a slow page (a PDF
        notice) never blocks the event loop, so other requests and static files are answered meanwhile;
        requests beyond the bound wait their turn without holding a thread."""

        async def endpoint(request: Request) -> Response:
            return await anyio.to_thread.run_sync(handler, request, limiter=self._limiter())

        endpoint.__name__ = getattr(handler, "__name__", "endpoint")
        return endpoint

    def _limiter(self) -> anyio.CapacityLimiter:
        """The bound of the running event loop (one per loop: a limiter belongs to its loop)."""
        loop = asyncio.get_running_loop()
        found = self.limiters.get(loop)
        if found is None:
            found = self.limiters[loop] = anyio.CapacityLimiter(MAX_RENDERS)
        return found

    # -- rendering ---------------------------------------------------------------------------------------
    def page(self, request: Request, lang: str | None = None) -> Page:
        query = tuple(request.query_params.multi_items())
        chosen = lang or ("en" if dict(query).get("lang") == "en" else "zh")
        return Page(self.rs, chosen, request.url.path, query)

    def render(self, page: Page, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        html = self.env.get_template(template).render(p=page, rs=self.rs, UNSURE=UNSURE, **context)
        return HTMLResponse(html, status_code=status_code)

    def error(self, lang: str, status: int, key: str, help_key: str, problems: Sequence[str] = ()) -> HTMLResponse:
        page = Page(self.rs, lang, "/", ())
        try:
            return self.render(
                page, "error.html", status, status=status, title=page.t(key), help=page.t(help_key), problems=problems
            )
        except Exception:  # the error page itself must not fail: fall back to a fixed one
            log.exception("error page failed")
            return HTMLResponse(_FALLBACK.format(status=status), status_code=status)

    async def _http_error(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        lang = self._lang(request)
        if exc.status_code == 404:
            return self.error(lang, 404, "not_found", "not_found_help")
        if exc.status_code == 405:
            return self.error(lang, 405, "method_not_allowed", "bad_request_help")
        return self.error(lang, exc.status_code, "error_title", "bad_request_help")

    async def _bad_request(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, BadRequest)
        return self.error(self._lang(request), 400, "bad_request", "bad_request_help", exc.problems)

    async def _unavailable(self, request: Request, exc: Exception) -> Response:
        return self.error(self._lang(request), 503, "unavailable", "notice_unavailable", (str(exc),))

    async def _server_error(self, request: Request, exc: Exception) -> Response:
        log.exception("error while serving %s", request.url.path, exc_info=exc)
        return self.error(self._lang(request), 500, "server_error", "server_error_help")

    @staticmethod
    def _lang(request: Request) -> str:
        return "en" if request.query_params.get("lang") == "en" else "zh"

    # -- query validation ----------------------------------------------------------------------------------
    def params(
        self, request: Request, allowed: set[str], *, answers: bool = False
    ) -> tuple[dict[str, str], dict[str, str]]:
        """Split the query into answers (attributes and flags) and the other allowed parameters.

        This is the one place a query is checked: an empty answer counts as not given (the question
        is asked again), an answer must be one of the question's options (or 不确定) and a flag
        true or false.  Raises :class:`BadRequest` naming every unknown, repeated or invalid
        parameter, never anything else."""
        lang = self._lang(request)
        problems: list[str] = []
        found: dict[str, str] = {}
        other: dict[str, str] = {}
        seen: set[str] = set()
        for key, value in request.query_params.multi_items():
            if key in seen:
                problems.append(_msg(lang, f"参数“{key[:40]}”出现了多次", f"parameter “{key[:40]}” is repeated"))
                continue
            seen.add(key)
            if answers and (key in self.rs.attributes or key in self.rs.flags):
                if not value.strip():
                    continue  # not answered yet
                problem = self._answer_problem(key, value, lang)
                if problem is not None:
                    problems.append(problem)
                else:
                    found[key] = value
            elif key in allowed:
                other[key] = value
            else:
                problems.append(_msg(lang, f"未知参数“{key[:40]}”", f"unknown parameter “{key[:40]}”"))
        if other.get("lang", "zh") not in i18n.LANGS:
            problems.append(_msg(lang, "语言只能是 zh 或 en", "the language must be zh or en"))
        if problems:
            raise BadRequest(problems)
        return found, other

    def _answer_problem(self, key: str, value: str, lang: str) -> str | None:
        """Why ``value`` is not an answer to ``key`` (an attribute or a flag), or None."""
        attr = self.rs.attributes.get(key)
        if attr is not None:
            if value in attr.values or value == UNSURE:
                return None
            return self._invalid_text(Invalid(key, value, "unknown value", tuple(attr.values)), lang)
        if as_bool(value) is not None:  # the matcher's own reading of a flag
            return None
        return self._invalid_text(Invalid(key, value, "not true or false", ("true", "false")), lang)

    def outcome(self, answers: Mapping[str, str], lang: str) -> Question | Outcome:
        step = next_question(answers, ruleset=self.rs)
        if isinstance(step, Outcome) and step.status == "invalid":
            raise BadRequest([self._invalid_text(bad, lang) for bad in step.invalid])
        return step

    def _invalid_text(self, bad: Invalid, lang: str) -> str:
        attr = self.rs.attributes.get(bad.attribute)
        shown = str(bad.value)[:40]
        if attr is not None:
            allowed = (
                "、".join(v.label for v in attr.values.values())
                if lang != "en"
                else ", ".join(v.gloss for v in attr.values.values())
            )
            return _msg(
                lang,
                f"“{attr.label}”没有“{shown}”这个选项；可选：{allowed}、不确定",
                f"“{attr.gloss}” has no option “{shown}”; allowed: {allowed}, not sure",
            )
        flag = self.rs.flags.get(bad.attribute)
        if flag is not None:
            return _msg(
                lang,
                f"“{flag.label}”只能是 true 或 false，收到“{shown}”",
                f"“{flag.gloss}” takes true or false, got “{shown}”",
            )
        return _msg(lang, f"未知参数“{bad.attribute[:40]}”", f"unknown parameter “{bad.attribute[:40]}”")

    # -- pages -------------------------------------------------------------------------------------------
    def home(self, request: Request) -> Response:
        self.params(request, {"lang"})
        page = self.page(request)
        cats = self._categories()
        return self.render(page, "home.html", categories=cats)

    def ask(self, request: Request) -> Response:
        answers, other = self.params(request, {"lang", "change"}, answers=True)
        page = self.page(request)
        change = other.get("change")
        if change is not None and change not in self.rs.attributes:
            raise BadRequest([_msg(page.lang, f"没有“{change[:40]}”这个问题", f"there is no question “{change[:40]}”")])
        step = self.outcome(answers, page.lang)
        if change is not None:
            return self._question(page, self._question_for(change, answers), answers, current=answers.get(change))
        if isinstance(step, Question):
            return self._question(page, step, answers, current=None)
        return self._result(page, step, answers)

    def _question_for(self, attribute: str, answers: Mapping[str, str]) -> Question:
        attr = self.rs.attributes[attribute]
        keys = [k for k in answers if k in self.rs.attributes]
        number = keys.index(attribute) + 1 if attribute in keys else len(keys) + 1
        options: tuple[Option, ...] = wizard_for(self.rs).options(answers, attribute)
        return Question(attribute, attr.label, attr.gloss, attr.help, options, number, 0.0, ())

    def _answer_rows(self, page: Page, answers: Mapping[str, str]) -> list[dict[str, Any]]:
        rows = []
        pairs = list(answers.items())
        for key, value in pairs:
            attr = self.rs.attributes.get(key)
            if attr is None:
                continue
            shown = page.t("unsure") if value == UNSURE else page.label(attr.values[value])
            rows.append(
                {
                    "attribute": key,
                    "label": page.label(attr),
                    "value": shown,
                    "change_url": page.url("/ask", [*pairs, ("change", key)]),
                }
            )
        return rows

    def _question(self, page: Page, q: Question, answers: Mapping[str, str], current: str | None) -> Response:
        hidden = [(k, v) for k, v in answers.items() if k != q.attribute]
        attribute_keys = [k for k in answers if k in self.rs.attributes and k != q.attribute]
        back_pairs = [(k, v) for k, v in answers.items() if k != q.attribute]
        if current is not None:  # changing an answer: going back cancels the change
            back_url = page.url("/ask", list(answers.items()))
        elif attribute_keys:  # the previous question, its answer kept and shown checked
            back_url = page.url("/ask", [*back_pairs, ("change", attribute_keys[-1])])
        else:
            back_url = page.url("/")
        attr = self.rs.attributes[q.attribute]
        options = [self._option_view(page, attr, o) for o in q.options]
        remaining = None
        if current is None:
            remaining = wizard_for(self.rs).remaining({k: v for k, v in answers.items() if k in self.rs.attributes})
        return self.render(
            page,
            "question.html",
            q=q,
            attr=attr,
            options=[o for o in options if not o["dead"]],
            dead_options=[o for o in options if o["dead"]],
            hidden=hidden,
            current=current,
            back_url=back_url,
            answers=self._answer_rows(page, answers),
            remaining=remaining,
        )

    def _option_view(self, page: Page, attr: Any, o: Option) -> dict[str, Any]:
        reason = ""
        if o.not_applicable:
            rule = self.rs.not_applicable[o.not_applicable[0]]
            reason = rule.reason if page.lang != "en" else (rule.reason_en or page.t("option_na_en"))
        return {
            "value": o.value,
            "label": page.label(attr.values[o.value]),
            "other": page.other(attr.values[o.value]) if page.lang == "en" else "",
            "help": page.help(attr.values[o.value]),
            "help_lang": page.help_lang(attr.values[o.value]),
            "dead": bool(o.not_applicable),
            "reason": reason,
        }

    def _result(
        self,
        page: Page,
        outcome: Outcome,
        answers: Mapping[str, str],
        *,
        notice_form: Mapping[str, str] | None = None,
        notice_problems: Sequence[str] = (),
    ) -> Response:
        pairs = list(answers.items())
        context: dict[str, Any] = {
            "outcome": outcome,
            "answers": self._answer_rows(page, answers),
            "notice_form": dict(notice_form or {}),
            "notice_problems": list(notice_problems),
        }
        if outcome.status == "matched":
            assert outcome.result is not None
            schedule = plan(outcome, None, ruleset=self.rs)
            context.update(self._schedule_view(schedule, page.lang))
            context.update(self._answer_first(page, outcome))
            context["notice"] = self._notice_links(page, pairs)
            attribute_pairs = [(k, v) for k, v in pairs if k in self.rs.attributes]
            context["flag_rows"] = [
                {
                    "id": fid,
                    "label": page.label(f),
                    "help": page.help(f),
                    "help_lang": page.help_lang(f),
                    "checked": outcome.flags.get(fid, False),
                }
                for fid, f in self.rs.flags.items()
            ]
            context["flag_hidden"] = attribute_pairs
            context["compare"] = self.compare_links(page, pairs)
        elif outcome.status == "undetermined":
            from ..provisional import provisional

            found = provisional(outcome, answers, self.rs)
            context["provisional"] = found
            context["to_answer"] = [
                {
                    "label": page.label(self.rs.attributes[a]),
                    "left": left,
                    "url": page.url("/ask", [*pairs, ("change", a)]),
                }
                for a, left in found.settling
            ]
            context["provisional_url"] = page.url("/notice", pairs)
        elif outcome.status == "not_applicable":
            context["alternatives"] = self._alternatives(page, outcome, answers)
        return self.render(page, "result.html", 400 if notice_problems else 200, **context)

    def _answer_first(self, page: Page, outcome: Outcome) -> dict[str, Any]:
        """The answer before the why: finish date from the next acceptance day, what to prepare, and
        the reasons in plain words (the codes and the exclusions of other categories kept aside)."""
        from ..materials import consolidate

        assert outcome.result is not None and outcome.result.situation is not None
        finish = None
        estimated = False
        try:
            dated = plan(outcome, acceptance_day(None, self.calendar), ruleset=self.rs, calendar=self.calendar)
            finish = dated.counted_finish or dated.finish
            estimated = dated.is_estimated(finish)
        except (CalendarError, InputError):
            pass
        flow = self.rs.flowcharts[outcome.result.flowchart or ""]
        resolved = plan(outcome, None, ruleset=self.rs).flow
        prepare = []
        if resolved is not None:
            listed = consolidate(resolved, self.rs)
            prepare = [
                page.label(self.rs.materials[m.id]) if m.id in self.rs.materials else m.name
                for m in listed.before_construction
            ]
        why = []
        for key, value in outcome.answered:
            attr = self.rs.attributes.get(key)
            if attr is not None and key not in outcome.ignored:
                why.append({"label": page.label(attr), "value": page.label(attr.values[value])})
        siblings = {
            sid for sid, s in self.rs.situations.items() if self.rs.flowcharts[s.flowchart].category == flow.category
        }
        excluded = []
        for line in outcome.result.explanation:
            if line.startswith("排除 "):
                sid = line[3:].split(" ", 1)[0]
                if sid in siblings and sid in self.rs.situations:
                    text = line if page.lang != "en" else f"{sid} {self.rs.situations[sid].name_en}"
                    excluded.append(text)
        return {
            "finish": finish,
            "finish_estimated": estimated,
            "prepare": prepare,
            "why": why,
            "excluded": excluded,
            "explanation_en": self._explanation_en(outcome) if page.lang == "en" else [],
        }

    def _explanation_en(self, outcome: Outcome) -> list[str]:
        """The matcher's explanation (the "details" list) in English, from its structured parts."""
        result = outcome.result
        assert result is not None and result.situation is not None
        rs = self.rs

        def gloss(attribute: str, value: str) -> str:
            return rs.attributes[attribute].values[value].gloss

        sit = rs.situations[result.situation]
        lines = [f"Selected {result.situation} {sit.name_en} → flowchart {result.flowchart}"]
        lines += [
            f"Because: {rs.attributes[a.attribute].gloss} = {gloss(a.attribute, a.value)} ({a.attribute}={a.value})"
            for a in result.selected_by
        ]
        for r in result.ruled_out:
            need = " or ".join(gloss(r.attribute, v) for v in r.needed)
            lines.append(
                f"Excluded {r.situation} {rs.situations[r.situation].name_en}: "
                f"{rs.attributes[r.attribute].gloss} is “{gloss(r.attribute, r.value)}”, that situation needs “{need}”"
            )
        answered = dict(outcome.answered)
        lines += [
            f"Ignored {a}={answered[a]}: it does not change which flow applies to this project"
            for a in result.ignored
            if a in answered
        ]
        return lines

    def _alternatives(self, page: Page, outcome: Outcome, answers: Mapping[str, str]) -> list[dict[str, Any]]:
        """One changed answer that leads to a flow: the rule's suggestion first, each a link that
        changes the answer in place (the rest of the answers kept)."""
        assert outcome.result is not None
        rule = self.rs.not_applicable[outcome.result.rule or ""]
        reads = set(rule.when.attributes())
        found: list[dict[str, Any]] = []
        for key, value in answers.items():
            attr = self.rs.attributes.get(key)
            if attr is None or key not in reads:
                continue
            for other in attr.values:
                if other == value:
                    continue
                changed = {**answers, key: other}
                step = next_question(changed, ruleset=self.rs)
                if isinstance(step, Outcome) and step.status != "matched":
                    continue
                if isinstance(step, Question) and all(o.not_applicable for o in step.options):
                    continue
                target = step.result.situation if isinstance(step, Outcome) and step.result else None
                pairs = [(k, other if k == key else v) for k, v in answers.items()]
                found.append(
                    {
                        "label": page.label(attr),
                        "value": page.label(attr.values[other]),
                        "situation": target,
                        "suggested": target == rule.consider,
                        "name": page.label(self.rs.situations[target]) if target else "",
                        "url": page.url("/ask", pairs),
                    }
                )
        if rule.consider in self.rs.situations:  # plausible ones: the suggestion's own category
            near = self.rs.flowcharts[self.rs.situations[rule.consider].flowchart].category
            found = [
                a
                for a in found
                if a["situation"] is None
                or self.rs.flowcharts[self.rs.situations[a["situation"]].flowchart].category == near
            ]
        found.sort(key=lambda a: (not a["suggested"], a["situation"] is None))
        return found[:4]

    def _schedule_view(self, schedule: Any, lang: str = "zh") -> dict[str, Any]:
        """The steps table and the two diagrams; in English with the items' and departments' English names."""
        from ..render import _dept

        en = lang == "en"
        shorts = {d: _dept(self.rs, d, lang)[1] for d in self.rs.departments}
        if en:  # the step names the English notice uses: its item's English name
            from dataclasses import replace

            names = {s.id: getattr(self.rs.items.get(s.item), "name_en", None) or s.name for s in schedule.steps}
            schedule = replace(schedule, steps=tuple(replace(s, name=names[s.id]) for s in schedule.steps))
        rows = []
        for s in schedule.steps:
            rows.append(
                {
                    "stage": s.stage + 1,
                    "name": s.name,
                    "item": s.item,
                    "department": shorts.get(s.department, s.department),
                    "duration": _num(s.duration),
                    "counted": s.counted,
                    "critical": s.critical and s.counted,
                }
            )
        gantt = diagram = None
        if schedule.steps and find_spec("flowmatch.pictures") is not None:
            from ..pictures import flowchart_svg, gantt_svg

            gantt = Markup(gantt_svg(schedule, lang=lang))
            flow = schedule.flow
            joint = {sid: bool(step.members) for sid, step in flow.steps.items()} if flow is not None else {}
            diagram = Markup(flowchart_svg(schedule, shorts, joint, lang=lang).svg)
        return {"schedule": schedule, "steps": rows, "gantt": gantt, "diagram": diagram}

    @staticmethod
    def _pdf_available() -> bool:
        from ..render import pdf_available

        return pdf_available()

    def _notice_links(self, page: Page, pairs: list[tuple[str, str]]) -> dict[str, Any]:
        available = find_spec("flowmatch.render") is not None
        pdf = available and self._pdf_available()
        return {
            "available": available,
            "pdf": pdf,
            "hidden": pairs,
            "html_url": page.url("/notice", [*pairs, ("format", "html")]),
            "pdf_url": page.url("/notice", [*pairs, ("format", "pdf")]),
            "md_url": page.url("/notice", [*pairs, ("format", "md")]),
        }

    def notice(self, request: Request) -> Response:
        answers, other = self.params(
            request, {"lang", "format", "name", "start", "applicant", "credit_code"}, answers=True
        )
        page = self.page(request)
        lang = page.lang
        fmt = other.get("format") or "html"
        problems = []
        if fmt not in ("html", "pdf", "md"):
            problems.append(_msg(lang, "格式只能是 html、pdf 或 md", "the format must be html, pdf or md"))
        name = (other.get("name") or "").strip() or None
        if name is not None and len(name) > MAX_NAME:
            problems.append(
                _msg(
                    lang,
                    f"项目名称太长（最多 {MAX_NAME} 个字）",
                    f"the project name is longer than {MAX_NAME} characters",
                )
            )
        applicant = (other.get("applicant") or "").strip() or None
        if applicant is not None and len(applicant) > MAX_NAME:
            problems.append(
                _msg(
                    lang,
                    f"申请单位名称太长（最多 {MAX_NAME} 个字）",
                    f"the applicant's name is longer than {MAX_NAME} characters",
                )
            )
        if problems:
            raise BadRequest(problems)
        step = self.outcome(answers, lang)
        if isinstance(step, Outcome) and step.status == "undetermined" and fmt == "html":
            from ..provisional import provisional

            found = provisional(step, answers, self.rs)
            html = self.env.get_template("provisional.html").render(
                p=page,
                rs=self.rs,
                UNSURE=UNSURE,
                provisional=found,
                answers=self._answer_rows(page, answers),
                back_url=page.url("/ask", list(answers.items())),
                name=name,
                applicant=applicant,
                settling=[{"label": page.label(self.rs.attributes[a]), "left": left} for a, left in found.settling],
            )
            return HTMLResponse(html)
        if not isinstance(step, Outcome) or step.status != "matched" or step.result is None:
            raise BadRequest(
                [
                    _msg(
                        lang,
                        "只有确定了唯一流程才能生成告知书，请先回答完问题",
                        "a notice needs one certain flow: answer the questions first",
                    )
                ]
            )
        if find_spec("flowmatch.render") is None:
            raise Unavailable(page.t("notice_unavailable"))
        from ..notice import build_notice, render

        credit_code = (other.get("credit_code") or "").strip() or None
        if credit_code:
            if self.db is None:
                raise BadRequest(
                    [
                        _msg(
                            lang,
                            "本服务未接入证照数据库，不能按统一社会信用代码查询",
                            "this server has no certificate database to look the credit code up in",
                        )
                    ]
                )
            from ..tracking.credit import validate_credit_code

            try:
                validate_credit_code(credit_code)
            except InputError as exc:
                raise BadRequest([str(exc)]) from None
        try:  # the one rule for the acceptance day; a date it refuses comes back on the same form
            notice = build_notice(
                step,
                ruleset=self.rs,
                start=other.get("start") or None,
                calendar=self.calendar,
                name=name,
                applicant=applicant,
                credit_code=credit_code,
                db=self.db,
            )
        except (CalendarError, InputError) as exc:
            form = {"name": name or "", "applicant": applicant or "", "start": other.get("start") or "", "format": fmt}
            return self._result(
                page,
                step,
                answers,
                notice_form=form,
                notice_problems=[self._date_problem(lang, other.get("start") or "", exc)],
            )
        try:
            data = render(notice, fmt, lang=lang)
        except (CalendarError, InputError) as exc:
            raise BadRequest([str(exc)]) from None
        except RenderError as exc:
            raise Unavailable(str(exc)) from None
        filename = f"notice-{step.result.flowchart}"
        if fmt == "pdf":
            assert isinstance(data, bytes)
            return Response(
                data,
                media_type="application/pdf",
                headers={
                    "content-disposition": f'inline; filename="{filename}.pdf"',
                    "content-security-policy": NOTICE_CSP,
                },
            )
        assert isinstance(data, str)
        if fmt == "md":
            return PlainTextResponse(
                data,
                media_type="text/markdown; charset=utf-8",
                headers={"content-disposition": f'inline; filename="{filename}.md"'},
            )
        back = page.url("/ask", list(answers.items()))
        pdf_url = None
        if self._pdf_available():
            pdf_url = page.url(
                "/notice",
                [*((k, v) for k, v in request.query_params.multi_items() if k != "format"), ("format", "pdf")],
            )
        return HTMLResponse(_with_toolbar(data, back, pdf_url, lang), headers={"content-security-policy": NOTICE_CSP})

    def _date_problem(self, lang: str, text: str, exc: Exception) -> str:
        """The acceptance-date problem in the applicant's words (no program options)."""
        try:
            day = dt.date.fromisoformat(text.strip()) if text.strip() else dt.date.today()
        except ValueError:
            return _msg(
                lang, "受理日期格式应为 YYYY-MM-DD（例如 2026-12-14）", "the acceptance date must be YYYY-MM-DD"
            )
        if isinstance(exc, CalendarError):
            return _msg(
                lang,
                f"{day.year}年的工作日安排无法推算，请选择更近的受理日期",
                f"working days of {day.year} cannot be counted; choose a nearer acceptance date",
            )
        try:
            following = next_workday(day, self.calendar).isoformat()
        except CalendarError:
            following = ""
        hint_zh = f"，下一个工作日是 {following}" if following else ""
        hint_en = f"; the next working day is {following}" if following else ""
        return _msg(
            lang,
            f"{day.isoformat()} 不是工作日，受理日期须为工作日{hint_zh}",
            f"{day.isoformat()} is not a working day; the acceptance day must be one{hint_en}",
        )

    def search(self, request: Request) -> Response:
        _, other = self.params(request, {"lang", "q", "kind"})
        page = self.page(request)
        query = (other.get("q") or "").strip()
        kind = other.get("kind") or None
        if kind is not None and kind not in KINDS:
            raise BadRequest(
                [
                    _msg(
                        page.lang,
                        "搜索范围只能是情形、流程图、审批事项或申请材料",
                        "the scope must be situation, flowchart, item or material",
                    )
                ]
            )
        hits: list[dict[str, Any]] = []
        if query:
            try:
                found = index_for(self.rs).search(query, kind=kind, limit=50)
            except InputError as exc:
                raise BadRequest([str(exc)]) from None
            hits = [self._hit_view(page, h) for h in found]
        kinds = [{"value": k, "label": page.t(f"kind_{k}")} for k in KINDS]
        return self.render(page, "search.html", query=query, kind=kind or "", kinds=kinds, hits=hits)

    def _hit_view(self, page: Page, hit: Hit) -> dict[str, Any]:
        if hit.kind == "situation":
            url = page.url(f"/flowchart/{hit.flowchart}", [("situation", hit.id)])
        elif hit.kind == "flowchart":
            url = page.url(f"/flowchart/{hit.id}")
        else:
            url = page.url(f"/{hit.kind}/{hit.id}")
        title, spans, sub, sub_spans = hit.title, hit.title_spans, hit.subtitle, hit.subtitle_spans
        if page.lang == "en" and hit.subtitle:
            title, spans, sub, sub_spans = sub, sub_spans, title, spans
        return {
            "kind": page.t(f"kind_{hit.kind}"),
            "id": hit.id,
            "url": url,
            "title": _marked(title, spans),
            "subtitle": _marked(sub, sub_spans),
            "snippet": _marked(hit.snippet, hit.snippet_spans),
        }

    def _categories(self) -> list[dict[str, Any]]:
        out = []
        for cid, cat in self.rs.manifest.categories.items():
            flows = [f for f in self.rs.flowcharts.values() if f.category == cid]
            sits = [s for s in self.rs.situations.values() if s.flowchart in {f.id for f in flows}]
            out.append(
                {
                    "id": cid,
                    "cat": cat,
                    "flows": flows,
                    "situations": sits,
                    "by_flow": {f.id: [s for s in sits if s.flowchart == f.id] for f in flows},
                }
            )
        return out

    def browse(self, request: Request) -> Response:
        self.params(request, {"lang"})
        return self.render(self.page(request), "browse.html", categories=self._categories(), only=None)

    def category(self, request: Request) -> Response:
        self.params(request, {"lang"})
        cid = request.path_params["category"]
        if cid not in self.rs.manifest.categories:
            raise HTTPException(404)
        cats = [c for c in self._categories() if c["id"] == cid]
        return self.render(self.page(request), "browse.html", categories=cats, only=cats[0])

    def flowchart(self, request: Request) -> Response:
        _, other = self.params(request, {"lang", "situation"})
        fid = request.path_params["flowchart"]
        flow = self.rs.flowcharts.get(fid)
        if flow is None:
            raise HTTPException(404)
        page = self.page(request)
        situation = other.get("situation") or None
        if situation is not None:
            sit = self.rs.situations.get(situation)
            if sit is None or sit.flowchart != fid:
                raise BadRequest(
                    [
                        _msg(
                            page.lang,
                            f"情形“{situation[:40]}”不使用流程图 {fid}",
                            f"situation “{situation[:40]}” does not use flowchart {fid}",
                        )
                    ]
                )
        from ..flows import for_situation, resolve
        from ..scheduler import schedule

        resolved = for_situation(self.rs, situation) if situation else resolve(self.rs, fid)
        view = self._schedule_view(schedule(resolved, ruleset=self.rs), page.lang)
        sits = [s for s in self.rs.situations.values() if s.flowchart == fid]
        cat = self.rs.manifest.categories.get(flow.category or "")
        return self.render(page, "flowchart.html", flow=flow, cat=cat, situations=sits, situation=situation, **view)

    def item(self, request: Request) -> Response:
        self.params(request, {"lang"})
        iid = request.path_params["item"]
        item = self.rs.items.get(iid)
        if item is None:
            raise HTTPException(404)
        flows = [
            f
            for f in self.rs.flowcharts.values()
            if any(iid in (s.item, *(v.item for v in s.variants.values())) for s in f.steps.values())
        ]
        mats = [self.rs.materials[m] for m in item.materials if m in self.rs.materials]
        return self.render(
            self.page(request),
            "item.html",
            item=item,
            dept=self.rs.departments.get(item.department),
            flows=flows,
            materials=mats,
        )

    # -- the same project under the rule-set before or after this one (issue 19) -------------------------
    def peers(self) -> dict[str, Any]:
        """The packaged rule-sets this one supersedes or is superseded by, {name: RuleSetInfo}; empty
        for a rule-set outside the catalogue.  Read once (manifests only); loaded when first compared."""
        with self._peers_lock:
            if self._peers is None:
                from ..catalogue import rulesets

                try:
                    infos = {i.name: i for i in rulesets()}
                except FlowmatchError:  # a broken catalogue must not take the other pages down
                    log.exception("rule-set catalogue unreadable")
                    infos = {}
                me = next((i for i in infos.values() if i.path.resolve() == self.rs.path.resolve()), None)
                self._peers = (
                    {}
                    if me is None
                    else {
                        name: info
                        for name, info in infos.items()
                        if name != me.name and (name in me.supersedes or me.name in info.supersedes)
                    }
                )
            return self._peers

    def compare_links(self, page: Page, pairs: Sequence[tuple[str, str]]) -> list[dict[str, str]]:
        """A link to :meth:`compare` for each related packaged rule-set, named by its title."""
        return [
            {
                "url": page.url("/compare", [*pairs, ("with", name)]),
                "name": info.title_en if page.lang == "en" and info.title_en else info.title,
            }
            for name, info in sorted(self.peers().items())
        ]

    def compare(self, request: Request) -> Response:
        from ..diff import diff_rulesets, under_each
        from ..ruleset import load_ruleset

        answers, other = self.params(request, {"lang", "with"}, answers=True)
        page = self.page(request)
        peers = self.peers()
        chosen = other.get("with") or (sorted(peers)[0] if len(peers) == 1 else "")
        if chosen not in peers:
            allowed = "、".join(sorted(peers)) if peers else _msg(page.lang, "（无）", "(none)")
            raise BadRequest(
                [
                    _msg(
                        page.lang,
                        f"没有可比较的规则集“{chosen[:40]}”；可选：{allowed}",
                        f"no rule-set “{chosen[:40]}” to compare with; allowed: {allowed}",
                    )
                ]
            )
        outcome = self.outcome(answers, page.lang)
        if not isinstance(outcome, Outcome) or outcome.status != "matched":
            raise BadRequest(
                [
                    _msg(
                        page.lang,
                        "请先答完问题、得到适用的审批流程，再比较规则集",
                        "answer the questions until one approval flow applies, then compare the rule-sets",
                    )
                ]
            )
        peer = load_ruleset(peers[chosen].path)
        me_first = chosen in (self.rs.manifest.supersedes or ())
        old, new = (peer, self.rs) if me_first else (self.rs, peer)
        try:
            start: dt.date | None = acceptance_day(None, self.calendar)
            compared = under_each([old, new], answers, start=start, calendar=self.calendar)
        except CalendarError:  # a strict calendar without this year's data: the figures, no dates
            start = None
            compared = under_each([old, new], answers)
        rows = []
        for rs, row in zip((old, new), compared, strict=True):
            view: dict[str, Any] = {"rs": rs, "status": row["status"], "missing": []}
            if row["status"] == "matched":
                sched = row["schedule"]
                view.update(
                    flowchart=rs.flowcharts[row["flowchart"]],
                    situation=row["situation"],
                    steps=row["steps"],
                    requisites=row["requisites"],
                    working_days=_num(sched["working_days"]),
                    elapsed=_num(sched["elapsed_working_days"]),
                    finish=sched.get("counted_finish") or sched.get("finish"),
                    estimated=bool(sched.get("counted_finish_estimated") or sched.get("finish_estimated")),
                )
            elif row["status"] == "incomplete":
                view["missing"] = [page.label(rs.attributes[a]) for a in row.get("missing", []) if a in rs.attributes]
            rows.append(view)
        report = diff_rulesets(old, new, profile={**answers, **{k: str(v).lower() for k, v in outcome.flags.items()}})
        changes = [self._change_view(page, old, new, g) for g in report.groups]
        return self.render(
            page,
            "compare.html",
            old=old,
            new=new,
            rows=rows,
            changes=changes,
            explained=report.ok,
            mapped=report.item_map,
            start=start,
            back_url=page.url("/ask", list(answers.items())),
        )

    @staticmethod
    def _change_view(page: Page, old: RuleSet, new: RuleSet, group: Any) -> dict[str, Any]:
        """One group of :func:`flowmatch.diff.diff_rulesets` in the page's words: item and material
        names from the rule-set that has them, the answers that lead to it when the newer rule-set
        asks something the older did not."""

        def item(rs: RuleSet, iid: str) -> str:
            found = rs.items.get(iid)
            return page.label(found) if found is not None else iid

        def material(mid: str) -> str:
            found = new.materials.get(mid) or old.materials.get(mid)
            return page.label(found) if found is not None else mid

        fees = {f.name: f for rs in (old, new) for i in rs.items.values() for f in i.fees}

        def fee(name: str) -> str:
            found = fees.get(name)
            return page.label(found) if found is not None else name

        c = group.change
        extra = [
            f"{page.label(new.attributes[a])}: {page.label(new.attributes[a].values[v])}"
            for a, v in group.example.items()
            if a in new.attributes and a not in old.attributes and v in new.attributes[a].values
        ]

        def how(text: str) -> str:
            for prefix, zh, en in _HOW:
                if text.startswith(prefix):
                    return _msg(page.lang, zh, en)
            return text

        return {
            "when": extra,
            "removed": [(item(old, i), how(h)) for i, h in c.removed],
            "merged": [(item(old, i), "、".join(item(new, t) for t in into.split("+"))) for i, into in c.merged],
            "added": [(item(new, i), how(h)) for i, h in c.added],
            "commitments": [item(new, i) for i in c.commitments],
            "dropped_materials": sorted(material(m) for m in c.before.materials - c.after.materials),
            "new_materials": sorted(material(m) for m in c.after.materials - c.before.materials),
            "fees_removed": sorted(fee(f) for f in set(c.before.fees) - set(c.after.fees)),
            "fees_added": sorted(fee(f) for f in set(c.after.fees) - set(c.before.fees)),
            "unexplained": list(c.unexplained),
        }

    def material(self, request: Request) -> Response:
        self.params(request, {"lang"})
        mid = request.path_params["material"]
        mat = self.rs.materials.get(mid)
        if mat is None:
            raise HTTPException(404)
        items = [i for i in self.rs.items.values() if mid in i.materials]
        issuer = self.rs.departments.get(mat.issuer or "")
        return self.render(self.page(request), "material.html", mat=mat, items=items, issuer=issuer)


_FALLBACK = (
    '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>{status}</title></head>'
    '<body><h1>{status} 出错了 / Something went wrong</h1><p><a href="/">首页 / Home</a></p></body></html>'
)


# why an item left or joined the flow, as diff.py words it (prefix) -> the page's words
_HOW = (
    ("abolished", "已取消", "abolished"),
    ("dropped from", "不再列入该流程图", "no longer in this flowchart"),
    ("switched off by", "按您的回答不再需要", "not needed with your answers"),
    ("not in the new flowchart", "新流程图不含此项", "not in the new flowchart"),
    ("new", "新设事项", "new item"),
    ("merge of", "由原有事项合并而成", "formed by merging earlier items"),
    ("added to", "新列入该流程图", "added to this flowchart"),
    ("in the new flowchart", "新流程图包含此项", "in the new flowchart"),
    ("unexplained", "变更对照表未说明原因", "not explained by the item map"),
)


def _msg(lang: str, zh: str, en: str) -> str:
    return en if lang == "en" else zh


def _with_toolbar(html: str, back_url: str, pdf_url: str | None, lang: str) -> str:
    """The web notice with a bar on top (hidden in print): back to the result, and printing — the
    PDF (the browser's viewer prints it) where this server makes PDFs, and the browser's own print
    command (the notice runs no script: its CSP allows none)."""
    back = _msg(lang, "← 返回结果页", "← Back to the result")
    hint = _msg(lang, "打印：按 Ctrl+P（Mac 为 ⌘+P）", "To print: press Ctrl+P (⌘+P on a Mac)")
    pdf = _msg(lang, "打印版 PDF", "Printable PDF")
    pdf_link = f'<a href="{escape(pdf_url)}" id="print-pdf">{escape(pdf)}</a> ' if pdf_url else ""
    bar = (
        f"<style>{_TOOLBAR_CSS}</style>"
        f'<nav class="web-toolbar" aria-label="{escape(_msg(lang, "告知书操作", "Notice actions"))}">'
        f'<a href="{escape(back_url)}" id="back-to-result">{escape(back)}</a> {pdf_link}'
        f'<span class="print-hint">{escape(hint)}</span></nav>'
    )
    head = html.find("</head>")
    if head >= 0:  # the site's icon (a notice saved from the CLI has none: it needs no server)
        html = html[:head] + '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">\n' + html[head:]
    marker = "<body>"
    at = html.find(marker)
    if at < 0:
        return html
    at += len(marker)
    return html[:at] + "\n" + bar + html[at:]
