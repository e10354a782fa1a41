"""The staff console (``/console``): login, queues, case pages, the board, statistics, the audit log.

Each handler parses, authorises (one :mod:`flowmatch.auth` rule), calls the library, renders.
Sessions are server-side rows (:class:`flowmatch.auth.Accounts`); the cookie holds only a random id,
``HttpOnly; SameSite=Strict; Path=/`` and ``Secure`` (with the ``__Host-`` prefix) over HTTPS.  Every
POST carries the session's CSRF token, checked before anything else (missing or wrong → 403).
A refusal by role is a 403 page and an audit event.  Nothing is kept in process memory.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from .. import auth
from ..errors import FlowmatchError, InputError, TrackingError, TransitionError
from ..tracking import CaseStore
from ..tracking import states as task_states
from .casepicture import case_svg

COOKIE = "fm_session"
SECURE_COOKIE = "__Host-fm_session"
MAX_FIELD = 2000

Clock = Callable[[], dt.datetime]


class Refused(Exception):
    """403: the role rule said no (already audited)."""


class CsrfFailed(Exception):
    """403: the form's CSRF token is missing or wrong."""


@dataclass(frozen=True)
class Ctx:
    """What a console handler gets: the request, its form, the user (if logged in) and the CSRF token."""

    request: Request
    form: dict[str, str]
    user: auth.StaffUser | None
    csrf: str
    sid: str | None
    lang: str

    def t(self, zh: str, en: str) -> str:
        return en if self.lang == "en" else zh


def _parse_form(body: bytes) -> dict[str, str]:
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        raise InputError("the form is not UTF-8") from None
    out: dict[str, str] = {}
    for key, value in pairs:
        if key in out:
            raise InputError(f"form field {key!r} is repeated")
        out[key] = value[:MAX_FIELD]
    return out


def client_of(request: Request) -> str:
    return request.client.host if request.client is not None else "unknown"


class Console:
    def __init__(
        self, store: CaseStore, accounts: auth.Accounts, render: Callable[..., HTMLResponse], clock: Clock
    ) -> None:
        self.store = store
        self.accounts = accounts
        self.render_page = render
        self.clock = clock

    # -- plumbing -----------------------------------------------------------------------------------
    def routes(self) -> list[Route]:
        w = self._wrap
        return [
            Route("/console", w(self.home)),
            Route("/console/login", w(self.login_form, anonymous=True)),
            Route("/console/login", w(self.login, anonymous=True), methods=["POST"]),
            Route("/console/logout", w(self.logout), methods=["POST"]),
            Route("/console/queue", w(self.queue)),
            Route("/console/open", w(self.open_form)),
            Route("/console/open", w(self.open_case), methods=["POST"]),
            Route("/console/case/{number}", w(self.case)),
            Route("/console/case/{number}/slip", w(self.slip)),
            Route("/console/case/{number}/task/{step}", w(self.record), methods=["POST"]),
            Route("/console/board", w(self.board)),
            Route("/console/sweep", w(self.sweep), methods=["POST"]),
            Route("/console/stats", w(self.stats)),
            Route("/console/audit", w(self.audit)),
        ]

    def _cookie_name(self, request: Request) -> str:
        return SECURE_COOKIE if request.url.scheme == "https" else COOKIE

    def set_cookie(self, response: Response, request: Request, sid: str) -> None:
        secure = request.url.scheme == "https"
        response.set_cookie(
            self._cookie_name(request),
            sid,
            httponly=True,
            samesite="strict",
            secure=secure,
            path="/",
            max_age=int(auth.SESSION_FOR.total_seconds()),
        )

    def _wrap(
        self, handler: Callable[[Ctx], Response], *, anonymous: bool = False
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            body = await request.body() if request.method == "POST" else b""
            return await anyio.to_thread.run_sync(self._run, handler, request, body, anonymous)

        endpoint.__name__ = handler.__name__
        return endpoint

    def _run(self, handler: Callable[[Ctx], Response], request: Request, body: bytes, anonymous: bool) -> Response:
        lang = "en" if request.query_params.get("lang") == "en" else "zh"
        now = self.clock()
        sid = request.cookies.get(self._cookie_name(request))
        found = self.accounts.session(sid, now) if sid else None
        new_sid: str | None = None
        if found is None:
            if not anonymous:
                return RedirectResponse("/console/login", status_code=303)
            new_sid, csrf = self.accounts.new_session(now)
            user = None
            sid = new_sid
        else:
            user, csrf = found
            if user is None and not anonymous:
                return RedirectResponse("/console/login", status_code=303)
        try:
            form = _parse_form(body) if body else {}
            if request.method == "POST":
                sent = form.get("csrf", "")
                if new_sid is not None or not sent or not auth.constant_equal(sent, csrf):
                    raise CsrfFailed()
            ctx = Ctx(request, form, user, csrf, sid, lang)
            response = handler(ctx)
        except CsrfFailed:
            response = self._message(
                lang,
                403,
                "请求已失效（CSRF 校验失败），请刷新页面后重试。",
                "The form has expired or is forged (CSRF): reload and try again.",
            )
        except Refused:
            response = self._message(
                lang, 403, "无权访问。此次访问已记录。", "Forbidden. This attempt has been recorded."
            )
        except (InputError, TransitionError, TrackingError) as exc:
            response = self._message(lang, 400, str(exc), str(exc))
        if new_sid is not None:
            self.set_cookie(response, request, new_sid)
        response.headers["cache-control"] = "no-store"
        return response

    def _message(self, lang: str, status: int, zh: str, en: str) -> HTMLResponse:
        return self.render_page(
            "console/message.html", lang, None, "", status, message=en if lang == "en" else zh, status=status
        )

    def _render(self, ctx: Ctx, template: str, http_status: int = 200, **values: Any) -> HTMLResponse:
        return self.render_page(template, ctx.lang, ctx.user, ctx.csrf, http_status, **values)

    def _need(
        self, ctx: Ctx, allowed: bool, what: str, case_number: str | None = None, step: str | None = None
    ) -> auth.StaffUser:
        user = ctx.user
        assert user is not None
        if not allowed:
            self.accounts.refused(user, what, at=self.clock(), case_number=case_number, step=step)
            raise Refused()
        return user

    # -- login --------------------------------------------------------------------------------------
    def login_form(self, ctx: Ctx, error: str = "", status: int = 200) -> Response:
        if ctx.user is not None:
            return RedirectResponse("/console", status_code=303)
        return self._render(ctx, "console/login.html", status, error=error)

    def login(self, ctx: Ctx) -> Response:
        now = self.clock()
        client = client_of(ctx.request)
        if not self.accounts.hit(f"login:{client}", limit=20, window=60, at=now):
            return self._render(
                ctx,
                "console/login.html",
                429,
                error=ctx.t("尝试过于频繁，请稍后再试。", "Too many attempts; try again later."),
            )
        try:
            _, sid, _ = self.accounts.login(
                ctx.form.get("name", ""), ctx.form.get("password", ""), at=now, client=client, old_sid=ctx.sid
            )
        except auth.LoginFailed:
            return self._render(
                ctx,
                "console/login.html",
                401,
                error=ctx.t("用户名或密码错误，或账户已锁定。", "Wrong name or password, or the account is locked."),
            )
        response = RedirectResponse("/console", status_code=303)
        self.set_cookie(response, ctx.request, sid)
        return response

    def logout(self, ctx: Ctx) -> Response:
        if ctx.sid:
            self.accounts.end_session(ctx.sid, at=self.clock(), user=ctx.user)
        response = RedirectResponse("/console/login", status_code=303)
        response.delete_cookie(
            self._cookie_name(ctx.request),
            path="/",
            httponly=True,
            samesite="strict",
            secure=ctx.request.url.scheme == "https",
        )
        return response

    def home(self, ctx: Ctx) -> Response:
        assert ctx.user is not None
        target = {"window": "/console/open", "department": "/console/queue"}.get(ctx.user.role, "/console/board")
        return RedirectResponse(target, status_code=303)

    # -- queue --------------------------------------------------------------------------------------
    def queue(self, ctx: Ctx) -> Response:
        user = ctx.user
        assert user is not None
        q = ctx.request.query_params
        department = q.get("department") or user.department or ""
        if user.role == "supervisor" and not q.get("department"):
            department = ""
        self._need(
            ctx,
            auth.can_see_queue(user, department) if department else user.role == "supervisor",
            f"queue {department or 'all'}",
        )
        state = q.get("state") or None
        sort = q.get("sort", "due")
        if sort not in ("due", "number", "state", "overdue"):
            raise InputError(f"unknown sort {sort!r}", allowed=["due", "number", "state", "overdue"])
        view = q.get("view", "all")
        if view not in ("all", "ready", "progress", "due_soon", "overdue"):
            raise InputError(f"unknown view {view!r}", allowed=["all", "ready", "progress", "due_soon", "overdue"])
        today = self.clock().date()
        rows = self.store.tasks(as_of=today, department=department or None, state=state)
        soon = self.store.calendar.add(today, 3)
        if view == "ready":
            rows = [r for r in rows if r.state == "ready"]
        elif view == "progress":
            rows = [r for r in rows if r.state in ("accepted", "handling", "reviewing", "approved", "rejected")]
        elif view == "due_soon":
            rows = [r for r in rows if r.due_on is not None and today <= r.due_on <= soon and not r.overdue_days]
        elif view == "overdue":
            rows = [r for r in rows if r.overdue_days > 0]
        keys: dict[str, Callable[[Any], Any]] = {
            "due": lambda r: (r.due_on or dt.date.max, r.number),
            "number": lambda r: (r.number, r.step),
            "state": lambda r: (task_states.STATES.index(r.state), r.number),
            "overdue": lambda r: (-r.overdue_days, r.number),
        }
        rows = sorted(rows, key=keys[sort])
        return self._render(
            ctx,
            "console/queue.html",
            rows=rows,
            department=department,
            view=view,
            sort=sort,
            state=state or "",
            today=today,
            soon=soon,
            labels=task_states.LABELS,
            departments=self.store.ruleset.departments,
        )

    # -- open a case (受理) ---------------------------------------------------------------------------
    def open_form(self, ctx: Ctx, error: str = "", status: int = 200) -> Response:
        assert ctx.user is not None
        self._need(ctx, auth.can_open_case(ctx.user), "open a case")
        profile = "\n".join(f"{k}={v}" for k, v in ctx.request.query_params.multi_items() if k != "lang")
        return self._render(
            ctx,
            "console/open.html",
            status,
            error=error,
            profile=ctx.form.get("profile", profile),
            form=ctx.form,
            attributes=self.store.ruleset.attributes,
        )

    def open_case(self, ctx: Ctx) -> Response:
        user = self._need(ctx, auth.can_open_case(ctx.user) if ctx.user else False, "open a case")
        profile: dict[str, str] = {}
        for line in ctx.form.get("profile", "").splitlines():
            if line.strip():
                key, sep, value = line.partition("=")
                if not sep:
                    return self.open_form(ctx, f"expected attribute=value, got {line.strip()!r}", 400)
                profile[key.strip()] = value.strip()
        try:
            opened = self.store.open_case(
                profile,
                applicant=ctx.form.get("applicant", ""),
                credit_code=ctx.form.get("credit_code", ""),
                project_name=ctx.form.get("project_name") or None,
                at=self.clock(),
                by=user.name,
                role="window",
                commitment=ctx.form.get("commitment") == "on",
            )
        except InputError as exc:
            return self.open_form(ctx, str(exc), 400)
        return self._render(
            ctx, "console/slip.html", status=opened.status, code=opened.query_code, labels=task_states.LABELS
        )

    def slip(self, ctx: Ctx) -> Response:
        number = ctx.request.path_params["number"]
        assert ctx.user is not None
        self._need(ctx, ctx.user.role in ("window", "supervisor"), "acceptance slip", number)
        status = self.store.status(number, as_of=self.clock().date())
        return self._render(ctx, "console/slip.html", status=status, code=None, labels=task_states.LABELS)

    # -- a case ---------------------------------------------------------------------------------------
    def case(self, ctx: Ctx) -> Response:
        number = ctx.request.path_params["number"]
        user = ctx.user
        assert user is not None
        status = self.store.status(number, as_of=self.clock().date())
        departments = [t.department for t in status.tasks if t.owner == "department"]
        self._need(ctx, auth.can_view_case(user, departments), "case page", status.number)
        actionable = {t.step for t in status.tasks if auth.can_act_on_task(user, t.department, t.owner)}
        history = self.store.history(number)
        return self._render(
            ctx,
            "console/case.html",
            status=status,
            history=history,
            actionable=actionable,
            picture=case_svg(status),
            labels=task_states.LABELS,
            allowed=task_states.allowed,
        )

    def record(self, ctx: Ctx) -> Response:
        number = ctx.request.path_params["number"]
        step = ctx.request.path_params["step"]
        user = ctx.user
        assert user is not None
        status = self.store.status(number, as_of=self.clock().date())
        task = next((t for t in status.tasks if t.step == step), None)
        if task is None:
            raise InputError(f"case {status.number} has no step {step!r}")
        self._need(ctx, auth.can_act_on_task(user, task.department, task.owner), "record an event", status.number, step)
        event = ctx.form.get("event", "")
        self.store.record(
            status.number,
            step,
            event,
            by=user.name,
            at=self.clock(),
            note=ctx.form.get("note", ""),
            role="window" if task.owner == "applicant" else "department",
        )
        return RedirectResponse(f"/console/case/{status.number}", status_code=303)

    # -- supervisor and auditor ---------------------------------------------------------------------
    def board(self, ctx: Ctx) -> Response:
        assert ctx.user is not None
        self._need(ctx, auth.can_see_board(ctx.user), "board")
        today = self.clock().date()
        rows = self.store.tasks(as_of=today)
        warnings = _warnings(self.store)
        return self._render(
            ctx, "console/board.html", rows=rows, warnings=warnings, today=today, labels=task_states.LABELS
        )

    def sweep(self, ctx: Ctx) -> Response:
        assert ctx.user is not None
        self._need(ctx, ctx.user.role == "supervisor", "sweep")
        self.store.sweep(as_of=self.clock().date(), by=ctx.user.name)
        return RedirectResponse("/console/board", status_code=303)

    def stats(self, ctx: Ctx) -> Response:
        assert ctx.user is not None
        self._need(ctx, auth.can_see_board(ctx.user), "statistics")
        data = self.store.stats().to_dict()
        return self._render(ctx, "console/stats.html", data=data)

    def audit(self, ctx: Ctx) -> Response:
        assert ctx.user is not None
        self._need(ctx, auth.can_audit(ctx.user), "audit log")
        report = self.store.verify()
        return self._render(ctx, "console/audit.html", report=report, events=_recent_events(self.store))


def _warnings(store: CaseStore) -> list[dict[str, Any]]:
    from sqlalchemy import select

    from ..tracking.schema import Case, Task, TaskWarning
    from ..tracking.sweep import LEVEL_LABELS

    query = (
        select(
            Case.number,
            Task.step,
            Task.name,
            Task.department,
            TaskWarning.level,
            TaskWarning.raised_on,
            TaskWarning.due_on,
        )
        .join(Task, Task.id == TaskWarning.task_id)
        .join(Case, Case.id == TaskWarning.case_id)
        .where(Task.state != "done")
        .order_by(TaskWarning.raised_on.desc(), Case.number)
        .limit(500)
    )
    with store.engine.connect() as conn:
        return [{**r._mapping, "label": LEVEL_LABELS.get(r.level, r.level)} for r in conn.execute(query)]


def _recent_events(store: CaseStore, limit: int = 200) -> list[Any]:
    from sqlalchemy import select

    from ..tracking.schema import Event

    with store.engine.connect() as conn:
        return list(conn.execute(select(*Event.__table__.c).order_by(Event.seq.desc()).limit(limit)))


def query(**values: str) -> str:
    return urlencode({k: v for k, v in values.items() if v})


__all__ = ["COOKIE", "SECURE_COOKIE", "Console", "CsrfFailed", "Refused", "client_of"]
_ = FlowmatchError
