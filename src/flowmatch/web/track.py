"""The applicant's progress lookup (``/track``, 阳光审批): 受理编号 + query code → the case's progress.

* The number and the code are POSTed (never in the URL, so never in logs, history or a Referer).
* A wrong code and an unknown number give the very same page (the store compares the salted hash in
  constant time, and checks a dummy hash when the number is unknown).
* Each client may look up :data:`LIMIT` times per :data:`WINDOW` seconds (counted in the database,
  so every worker agrees); beyond that, 429 — 10 guesses a minute make enumerating numbers and codes
  hopeless (the code is random, stored only as a salted hash).
* The answer shows this case only: its steps, which department handles each, what comes next, the
  expected finish (marked as an estimate where the calendar is), no other applicant's data and not
  the applicant's credit code.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from ..auth import Accounts
from ..errors import InputError
from ..tracking import CaseStore
from ..tracking import states as task_states
from .casepicture import case_svg
from .console import _parse_form, client_of

LIMIT = 10
WINDOW = 60
MAX_NUMBER = 32
MAX_CODE = 64


class Track:
    def __init__(
        self,
        store: CaseStore,
        accounts: Accounts,
        render: Callable[..., HTMLResponse],
        clock: Callable[[], dt.datetime],
        limit: int = LIMIT,
    ) -> None:
        self.limit = limit
        self.store = store
        self.accounts = accounts
        self.render_page = render
        self.clock = clock

    def routes(self) -> list[Route]:
        return [Route("/track", self.form), Route("/track", self.lookup, methods=["POST"])]

    @staticmethod
    def _lang(request: Request) -> str:
        return "en" if request.query_params.get("lang") == "en" else "zh"

    async def form(self, request: Request) -> Response:
        return self._page(self._lang(request), 200)

    def _page(self, lang: str, http_status: int, **values: Any) -> HTMLResponse:
        values.setdefault("found", None)
        values.setdefault("not_found", False)
        values.setdefault("limited", False)
        response = self.render_page("track.html", lang, None, "", http_status, **values)
        response.headers["cache-control"] = "no-store"
        return response

    async def lookup(self, request: Request) -> Response:
        body = await request.body()
        return await anyio.to_thread.run_sync(self._lookup, request, body)

    def _lookup(self, request: Request, body: bytes) -> Response:
        lang = self._lang(request)
        now = self.clock()
        if not self.accounts.hit(f"track:{client_of(request)}", limit=self.limit, window=WINDOW, at=now):
            return self._page(lang, 429, limited=True)
        try:
            form = _parse_form(body)
        except InputError:
            form = {}
        number = form.get("number", "").strip()[:MAX_NUMBER]
        code = form.get("code", "").strip()[:MAX_CODE]
        try:
            if not number or not code:
                raise InputError("missing")
            status = self.store.status(number, as_of=now.date(), query_code=code)
        except InputError:
            return self._page(lang, 200, not_found=True)
        by_step = {t.step: t for t in status.tasks}
        current = [t for t in status.tasks if t.state in task_states.OPEN_STATES]
        upcoming = [t for t in status.tasks if t.state == "waiting"]
        nexts = [t for t in upcoming if all(by_step[d].state != "waiting" for d in t.depends_on if d in by_step)]
        estimated = bool(status.warnings) or any(t.estimated for t in status.tasks)
        return self._page(
            lang,
            200,
            found=status,
            current=current,
            nexts=nexts,
            estimated=estimated,
            picture=case_svg(status),
            labels=task_states.LABELS,
        )
