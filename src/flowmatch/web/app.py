"""The ASGI application: the pages (:mod:`flowmatch.web.pages`) behind the request checks.

Hardening (see SECURITY.md): request bodies are read only by the console's forms, ``/track`` and
``/api/v1`` (when a case database is configured), and a declared body over
:data:`MAX_BODY` bytes (or one sent in chunks) is refused with 413, a URL over :data:`MAX_URL`
bytes with 414; security headers go on every response, errors and static files included; a
failure inside a page is logged and the client gets a plain 500 page, never a traceback; with
``allowed_hosts`` (``flowmatch serve`` sets it when bound to loopback) other Host headers are
refused, which stops DNS rebinding.  No JavaScript and no inline styles anywhere, so the pages
work with scripts off under ``Content-Security-Policy: default-src 'self'``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, MutableMapping, Sequence
from typing import Any
from urllib.parse import quote

from starlette.responses import Response

from ..calendar import WorkCalendar
from ..ruleset import RuleSet, default_ruleset
from .i18n import lang_of
from .pages import NOTICE_CSP, Pages, environment

__all__ = ["CSP", "MAX_BODY", "MAX_URL", "NOTICE_CSP", "SECURITY_HEADERS", "FlowmatchApp", "create_app"]

MAX_BODY = 16 * 1024
MAX_URL = 4096

CSP = (
    "default-src 'self'; script-src 'none'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'; img-src 'self' data:"
)
SECURITY_HEADERS: tuple[tuple[str, str], ...] = (
    ("content-security-policy", CSP),
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "no-referrer"),
    ("cross-origin-opener-policy", "same-origin"),
    ("cross-origin-resource-policy", "same-origin"),
    ("permissions-policy", "camera=(), microphone=(), geolocation=(), payment=()"),
)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


# --- the application ----------------------------------------------------------------------------------
class FlowmatchApp:
    """The ASGI application: size and host checks and security headers around the Starlette app,
    outermost, so that they cover every response — 404s, 500s and static files included."""

    def __init__(
        self,
        ruleset: RuleSet,
        allowed_hosts: Sequence[str] | None = None,
        calendar: WorkCalendar | None = None,
        db: str | None = None,
        store: Any = None,
        clock: Any = None,
        track_limit: int | None = None,
    ) -> None:
        self.ruleset = ruleset
        self.allowed_hosts = {h.lower() for h in allowed_hosts} if allowed_hosts else None
        self.env = environment()
        self.pages = Pages(ruleset, self.env, calendar, db=db)
        self.starlette = self.pages.app()
        self.store = store
        if store is not None:  # the staff console, /track and /api/v1 (issue 15) need the case database
            from .faces import faces_routes

            self.starlette.router.routes[0:0] = faces_routes(store, self.env, clock, calendar, track_limit)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.starlette(scope, receive, send)
            return
        headers = _headers(scope)
        lang = lang_of(scope.get("query_string", b""))
        refused = self._refuse(scope, headers)
        if refused is not None:
            status, key, help_key = refused
            response = self.pages.error(lang, status, key, help_key)
            await response(scope, receive, _secured(send))
            return
        path = scope.get("path", "/")
        if len(path) > 1 and path.endswith("/"):  # /ask/ → /ask, relative: the Host header never names the target
            target = "/" + path.strip("/\\")  # never "//host" or "/\\host", which browsers read as another site
            query = scope.get("query_string", b"")
            location = quote(target) + ("?" + query.decode("latin-1") if query else "")
            redirect = Response(status_code=307, headers={"location": location})
            await redirect(scope, receive, _secured(send))
            return
        await self.starlette(scope, receive, _secured(send))

    def _refuse(self, scope: Scope, headers: Mapping[str, str]) -> tuple[int, str, str] | None:
        length = headers.get("content-length")
        if length is not None:
            if not length.isdigit() or int(length) > MAX_BODY:
                return 413, "too_large", "too_large_help"
        elif "transfer-encoding" in headers:
            return 413, "too_large", "too_large_help"
        if len(scope.get("raw_path", b"")) + len(scope.get("query_string", b"")) > MAX_URL:
            return 414, "uri_too_long", "too_large_help"
        if self.allowed_hosts is not None:
            host = headers.get("host", "")
            name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
            if name.lower() not in self.allowed_hosts:
                return 400, "bad_request", "bad_request_help"
        return None


def _headers(scope: Scope) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in scope.get("headers", []):
        out[key.decode("latin-1").lower()] = value.decode("latin-1")
    return out


def _secured(send: Send) -> Send:
    """``send`` that adds the security headers a response does not set itself."""

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            present = {k.decode("latin-1").lower() for k, _ in headers}
            for key, value in SECURITY_HEADERS:
                if key not in present:
                    headers.append((key.encode("latin-1"), value.encode("latin-1")))
            message["headers"] = headers
        await send(message)

    return wrapped


def create_app(
    ruleset: RuleSet | None = None,
    *,
    allowed_hosts: Sequence[str] | None = None,
    calendar: WorkCalendar | None = None,
    db: str | None = None,
    store: Any = None,
    clock: Any = None,
    track_limit: int | None = None,
) -> FlowmatchApp:
    """The ASGI app for a rule-set (default: the packaged one).

    ``allowed_hosts``: when given, requests whose Host header names another host are refused
    (``flowmatch serve`` passes the loopback names when it binds to loopback).  ``calendar``: the
    working-day calendar of the notices' dates (default: official data, estimated past it).  ``db``:
    the case database URL: the notice then takes ``credit_code`` and spares what the applicant holds
    (证照数据库), and the staff console (``/console``), the applicant's lookup (``/track``) and the API
    (``/api/v1``) are served; ``store`` (an open :class:`~flowmatch.tracking.CaseStore`) does the same
    for the console faces.  ``clock`` (a function returning the current local time) is for tests;
    ``track_limit``: ``/track`` look-ups per client per minute (default 10).
    """
    rs = ruleset or default_ruleset()
    if store is None and db is not None:
        from ..tracking import open_store

        store = open_store(db, ruleset=rs, calendar=calendar)
    return FlowmatchApp(rs, allowed_hosts, calendar, db, store, clock, track_limit)
