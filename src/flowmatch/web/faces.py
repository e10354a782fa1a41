"""The centre's faces (issue 15) wired onto the site: the staff console, ``/track`` and ``/api/v1``.

They need the case database; :func:`faces_routes` is called by :func:`flowmatch.web.create_app` only
when it is given one (``flowmatch serve --db URL``).  Every worker builds the same objects from the
same URL: sessions, lockouts and rate limits live in the database, never in process memory.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from jinja2 import Environment
from starlette.responses import HTMLResponse
from starlette.routing import BaseRoute, Mount

from ..auth import Accounts, StaffUser
from ..tracking import CaseStore
from .api import create_api
from .console import Console
from .track import LIMIT, Track


def now() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)


def renderer(env: Environment) -> Callable[..., HTMLResponse]:
    def render(
        template: str, lang: str, user: StaffUser | None, csrf: str, http_status: int = 200, **values: Any
    ) -> HTMLResponse:
        def T(zh: str, en: str) -> str:  # the templates' translation call
            return en if lang == "en" else zh

        home = "/console" if user is not None else "/"
        html = env.get_template(template).render(
            T=T,
            lang=lang,
            user=user,
            csrf=csrf,
            home=home,
            other_lang_url="?lang=zh" if lang == "en" else "?lang=en",
            **values,
        )
        return HTMLResponse(html, status_code=http_status)

    return render


def faces_routes(
    store: CaseStore,
    env: Environment,
    clock: Callable[[], dt.datetime] | None = None,
    calendar: Any = None,
    track_limit: int | None = None,
) -> list[BaseRoute]:
    clock = clock or now
    accounts = Accounts(store.engine, tuple(store.ruleset.departments))
    render = renderer(env)
    console = Console(store, accounts, render, clock)
    track = Track(store, accounts, render, clock, track_limit or LIMIT)
    api = create_api(store.ruleset, store, accounts, clock, calendar if calendar is not None else store.calendar)
    return [*console.routes(), *track.routes(), Mount("/api/v1", app=api)]
