"""The versioned HTTP API, ``/api/v1`` (FastAPI mounted under the site's Starlette app).

* ``POST /match``, ``POST /schedule``, ``POST /notice``, ``GET /search``: the library calls, public.
* ``POST /cases``, ``GET /cases/{number}``, ``POST /cases/{number}/tasks/{step}/events``,
  ``GET /tasks``: case operations for staff, with ``Authorization: Bearer <token>``
  (``flowmatch tokens create --user U``) and the same role rules as the console (:mod:`flowmatch.auth`).
* The OpenAPI document is ``/api/v1/openapi.json``, generated from the pydantic models below.
* Every error is RFC 9457 ``application/problem+json`` (``type``, ``title``, ``status``, ``detail``).
* The version is in the path: a breaking change is ``/api/v2``, served beside this one.
"""

import datetime as dt
from collections.abc import Callable
from importlib.util import find_spec
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse

from .. import auth
from ..errors import FlowmatchError, InputError, TrackingError, TransitionError
from ..ruleset import RuleSet
from ..tracking import CaseStore

PROBLEM = "application/problem+json"
PROBLEM_BASE = "https://flowmatch.invalid/problems/"
Scalar = str | bool


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MatchIn(_In):
    profile: dict[str, Scalar] = Field(description='Attribute and flag values, e.g. {"kind": "building"}')


class ScheduleIn(_In):
    profile: dict[str, Scalar]
    start: dt.date | None = Field(None, description="Acceptance day (a working day); default the next one.")
    mode: str = Field("standard", description="standard or commitment")


class NoticeIn(_In):
    profile: dict[str, Scalar]
    start: dt.date | None = None
    project_name: str | None = Field(None, max_length=100)


class OpenCaseIn(_In):
    profile: dict[str, Scalar]
    applicant: str = Field(max_length=200)
    credit_code: str = Field(max_length=18)
    project_name: str | None = Field(None, max_length=200)
    commitment: bool = False


class EventIn(_In):
    event: str = Field(description="accept, handle, review, approve, reject, complete, suspend or resume")
    note: str = Field("", max_length=2000)


class MatchOut(BaseModel):
    status: str
    situation: str | None
    flowchart: str | None
    name: str | None
    missing: list[str]
    explanation: list[str]
    reason: str | None
    invalid: list[dict[str, Any]]


class ScheduleOut(BaseModel):
    flowchart: str
    name: str
    mode: str
    working_days: float
    start: str | None
    finish: str | None
    finish_estimated: bool
    critical_path: list[str]
    steps: list[dict[str, Any]]
    warnings: list[str]


class SearchHitOut(BaseModel):
    kind: str
    id: str
    title: str
    score: float


class TaskOut(BaseModel):
    step: str
    name: str
    department: str
    department_name: str
    owner: str
    state: str
    due: str | None
    overdue: bool
    allowed_events: list[str]


class CaseOut(BaseModel):
    number: str
    flowchart: str
    flowchart_name: str
    state: str
    opened: str
    promised_finish: str
    projected_finish: str | None
    tasks: list[TaskOut]


class OpenedOut(CaseOut):
    query_code: str = Field(description="Shown once: the applicant's code for /track; only its hash is stored.")


class RecordedOut(BaseModel):
    number: str
    step: str
    event: str
    from_: str = Field(alias="from")
    to: str
    released: list[str]
    case_state: str
    due: str | None


class QueueItemOut(BaseModel):
    number: str
    step: str
    name: str
    department: str
    state: str
    due: str | None
    overdue_working_days: int


class Problem(BaseModel):
    type: str
    title: str
    status: int
    detail: str


def problem(status: int, title: str, detail: str, kind: str | None = None) -> JSONResponse:
    slug = kind or title.lower().replace(" ", "-")
    body = {"type": PROBLEM_BASE + slug, "title": title, "status": status, "detail": detail}
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers={"cache-control": "no-store"})


class ApiError(Exception):
    def __init__(self, status: int, title: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail = status, title, detail


ERRORS: dict[int | str, dict[str, Any]] = {
    s: {"model": Problem, "content": {PROBLEM: {}}} for s in (400, 401, 403, 404, 422, 429)
}


def _case_out(status: Any) -> dict[str, Any]:
    d = status.to_dict()
    return {**d, "tasks": [TaskOut(**{k: t[k] for k in TaskOut.model_fields}) for t in d["tasks"]]}


def create_api(
    ruleset: RuleSet, store: CaseStore, accounts: auth.Accounts, clock: Callable[[], dt.datetime], calendar: Any = None
) -> FastAPI:
    api = FastAPI(
        title="flowmatch API",
        version="1",
        openapi_url="/openapi.json",
        docs_url=None,
        redoc_url=None,
        description="Match a construction project to its approval flowchart, schedule it, "
        "compose the one-time notice, and track accepted cases (staff, with API tokens).",
    )

    @api.exception_handler(ApiError)
    async def _api_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        return problem(exc.status, exc.title, exc.detail)

    @api.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        parts = ["/".join(str(p) for p in e.get("loc", ())) + ": " + str(e.get("msg", "")) for e in exc.errors()]
        return problem(422, "Invalid request", "; ".join(parts)[:2000], "invalid-request")

    @api.exception_handler(HTTPException)
    async def _http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HTTPException)
        return problem(exc.status_code, "HTTP error", str(exc.detail), f"http-{exc.status_code}")

    @api.exception_handler(InputError)
    async def _input(request: Request, exc: Exception) -> JSONResponse:
        return problem(400, "Bad input", str(exc), "bad-input")

    @api.exception_handler(FlowmatchError)
    async def _flowmatch(request: Request, exc: Exception) -> JSONResponse:
        status = 409 if isinstance(exc, (TransitionError, TrackingError)) else 400
        return problem(status, "Refused", str(exc), "refused")

    def staff(authorization: Annotated[str | None, Header()] = None) -> auth.StaffUser:
        scheme, _, token = (authorization or "").partition(" ")
        user = accounts.user_for_token(token.strip()) if scheme.lower() == "bearer" else None
        if user is None:
            raise ApiError(401, "Unauthorized", "a valid API token is needed: Authorization: Bearer <token>")
        return user

    def refuse(user: auth.StaffUser, what: str, number: str | None = None, step: str | None = None) -> ApiError:
        accounts.refused(user, f"api: {what}", at=clock(), case_number=number, step=step)
        return ApiError(403, "Forbidden", f"role {user.role!r} may not {what}")

    Staff = Annotated[auth.StaffUser, Depends(staff)]

    @api.post("/match", response_model=MatchOut, responses=ERRORS, summary="Match a profile to its flowchart")
    def match(body: MatchIn) -> dict[str, Any]:
        from ..matcher import matcher_for

        return matcher_for(ruleset).match(body.profile).to_dict()

    def _flow(profile: dict[str, Scalar]) -> Any:
        from ..flows import for_situation
        from ..matcher import matcher_for

        m = matcher_for(ruleset)
        result = m.match(profile)
        if result.status != "matched" or result.situation is None:
            raise ApiError(400, "Not matched", f"the profile is {result.status}: " + "; ".join(result.explanation))
        answers, _, _ = m.validate(profile)
        return result, for_situation(ruleset, result.situation, flags=result.flags, profile=answers)

    @api.post("/schedule", response_model=ScheduleOut, responses=ERRORS, summary="Schedule a matched profile")
    def schedule(body: ScheduleIn) -> dict[str, Any]:
        from ..calendar import acceptance_day
        from ..scheduler import schedule as run

        if body.mode not in ("standard", "commitment"):
            raise ApiError(400, "Bad input", "mode must be standard or commitment")
        _, flow = _flow(body.profile)
        start = acceptance_day(body.start.isoformat() if body.start else None, calendar)
        return run(flow, start, calendar, body.mode, ruleset=ruleset).to_dict()

    @api.post("/notice", responses=ERRORS, summary="The one-time notice (一次性告知书) as JSON")
    def notice(body: NoticeIn) -> dict[str, Any]:
        from ..calendar import acceptance_day

        start = acceptance_day(body.start.isoformat() if body.start else None, calendar)
        if find_spec("flowmatch.notice") is not None:  # the notice pipeline (issue 13) when present
            from importlib import import_module

            build = import_module("flowmatch.notice").build_notice
            built = build(dict(body.profile), ruleset=ruleset, start=start, calendar=calendar, name=body.project_name)
            return dict(built.model_dump(mode="json"))
        import json

        from ..render import build_context
        from ..scheduler import schedule as run

        result, flow = _flow(body.profile)
        sched = run(flow, start, calendar, "standard", ruleset=ruleset)
        ctx = build_context(
            result, sched, ruleset=ruleset, project_name=body.project_name, calendar=calendar, pictures="none"
        )
        keep = {k: v for k, v in ctx.items() if not callable(v)}
        return dict(json.loads(json.dumps(keep, default=_plain, ensure_ascii=False)))

    @api.get("/search", response_model=list[SearchHitOut], responses=ERRORS, summary="Search items, materials")
    def search(
        q: Annotated[str, Query(max_length=100)],
        kind: str | None = None,
        limit: Annotated[int, Query(ge=1, le=50)] = 20,
    ) -> list[dict[str, Any]]:
        from ..search import index_for

        out = []
        for hit in index_for(ruleset).search(q, kind=kind, limit=limit):
            d = hit.to_dict()
            out.append(
                {
                    "kind": d.get("kind", ""),
                    "id": d.get("id", ""),
                    "title": d.get("title") or d.get("name", ""),
                    "score": float(d.get("score", 0)),
                }
            )
        return out

    @api.post("/cases", response_model=OpenedOut, status_code=201, responses=ERRORS, summary="Open a case (受理)")
    def open_case(body: OpenCaseIn, user: Staff) -> dict[str, Any]:
        if not auth.can_open_case(user):
            raise refuse(user, "open a case")
        opened = store.open_case(
            dict(body.profile),
            applicant=body.applicant,
            credit_code=body.credit_code,
            project_name=body.project_name,
            commitment=body.commitment,
            at=clock(),
            by=user.name,
            role="window",
        )
        return {**_case_out(opened.status), "query_code": opened.query_code}

    @api.get("/cases/{number}", response_model=CaseOut, responses=ERRORS, summary="A case's status")
    def case_status(number: str, user: Staff) -> dict[str, Any]:
        status = _status(number)
        if not auth.can_view_case(user, [t.department for t in status.tasks if t.owner == "department"]):
            raise refuse(user, "view this case", status.number)
        return _case_out(status)

    def _status(number: str) -> Any:
        try:
            return store.status(number[:32], as_of=clock().date())
        except InputError:
            raise ApiError(404, "Not found", "no such case") from None

    @api.post(
        "/cases/{number}/tasks/{step}/events",
        response_model=RecordedOut,
        responses=ERRORS,
        summary="Record an event on a task",
    )
    def record(number: str, step: str, body: EventIn, user: Staff) -> dict[str, Any]:
        status = _status(number)
        task = next((t for t in status.tasks if t.step == step), None)
        if task is None:
            raise ApiError(404, "Not found", "no such task")
        if not auth.can_act_on_task(user, task.department, task.owner):
            raise refuse(user, "record on this task", status.number, step)
        role = "window" if task.owner == "applicant" else "department"
        return store.record(
            status.number, step, body.event, by=user.name, at=clock(), note=body.note, role=role
        ).to_dict()

    @api.get("/tasks", response_model=list[QueueItemOut], responses=ERRORS, summary="A department's queue")
    def tasks(user: Staff, department: str | None = None) -> list[dict[str, Any]]:
        dept = department or user.department
        allowed = auth.can_see_queue(user, dept) if dept else user.role == "supervisor"
        if not allowed:
            raise refuse(user, f"see the queue of {dept or 'every department'}")
        return [t.to_dict() for t in store.tasks(as_of=clock().date(), department=dept)]

    return api


def _plain(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if hasattr(value, "__dataclass_fields__"):
        import dataclasses

        return dataclasses.asdict(value)
    return str(value)


__all__ = ["PROBLEM", "ApiError", "create_api", "problem"]
