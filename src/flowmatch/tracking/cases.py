"""Live cases (全程实时监控): open, record, status, the panoramic list, look-up by query code.

Every write is one transaction that changes the current state (``cases``/``tasks``) and appends
the events that explain it (``events``), so the two never disagree.  Time is always an argument
(``at`` for what happened, ``as_of`` for the day a question is asked about); nothing here reads
the clock.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from ..calendar import WorkCalendar, plain_days
from ..errors import InputError, TrackingError
from ..materials import OnFile
from ..rulecache import _files
from ..ruleset import RuleSet, default_ruleset
from . import audit, certs, states
from .credit import validate_credit_code
from .progress import due_date, project, releasable, suspended_working_days
from .schema import Case, Counter, Task

NUMBER_PREFIX = "JS"
QUERY_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: read out over the phone
QUERY_LENGTH = 10
ROLES = ("window", "department", "applicant", "supervisor", "system")


def _as_datetime(value: dt.datetime | dt.date | str, what: str = "at") -> dt.datetime:
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            raise InputError(f"{what} {value!r} is not a date or time; allowed: YYYY-MM-DD[THH:MM]") from None
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None, microsecond=0)
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time())
    raise InputError(f"{what} must be a date or time, got {type(value).__name__}")


def _as_date(value: dt.date | str, what: str = "as_of") -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise InputError(f"{what} {value!r} is not a date; allowed: YYYY-MM-DD") from None
    raise InputError(f"{what} must be a date, got {type(value).__name__}")


def ruleset_identity(rs: RuleSet) -> tuple[str, str]:
    """``(id, digest)``: the directory name and version, and the sha256 of the rule files' content only."""
    h = hashlib.sha256()
    for path in _files(rs.path):
        h.update(path.name.encode() + b"\0")
        h.update(path.read_bytes() if path.is_file() else b"\0missing")
        h.update(b"\0")
    return f"{Path(rs.path).name}@{rs.manifest.version}", h.hexdigest()


def _hash_code(salt: str, code: str) -> str:
    return hashlib.sha256(f"{salt}:{code.strip().upper()}".encode()).hexdigest()


# --- results --------------------------------------------------------------------------------------
def _iso(d: dt.date | None) -> str | None:
    return d.isoformat() if d is not None else None


@dataclass(frozen=True)
class TaskView:
    step: str
    name: str
    item: str
    department: str
    department_name: str
    owner: str
    counted: bool
    duration: float
    depends_on: tuple[str, ...]
    state: str
    started_on: dt.date | None
    due_on: dt.date | None
    finished_on: dt.date | None
    suspended_days: int
    overdue: bool
    """Past its due date and not done, or done after it."""
    projected_end: dt.date | None
    estimated: bool
    """Its due or projected date lies in a year without a published holiday notice (an estimate)."""
    members: tuple[str, ...] = ()
    """Member departments of a joint procedure (联合审批), the lead department first."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "name": self.name,
            "item": self.item,
            "department": self.department,
            "department_name": self.department_name,
            "members": list(self.members),
            "owner": self.owner,
            "counted": self.counted,
            "duration": plain_days(self.duration),
            "depends_on": list(self.depends_on),
            "state": self.state,
            "started": _iso(self.started_on),
            "due": _iso(self.due_on),
            "finished": _iso(self.finished_on),
            "suspended_working_days": self.suspended_days,
            "overdue": self.overdue,
            "projected_end": _iso(self.projected_end),
            "estimated": self.estimated,
            "allowed_events": list(states.allowed(self.state)),
        }


@dataclass(frozen=True)
class CaseStatus:
    number: str
    applicant: str
    project_name: str | None
    situation: str
    flowchart: str
    flowchart_name: str
    state: str
    commitment: bool
    opened_on: dt.date
    closed_on: dt.date | None
    as_of: dt.date
    tasks: tuple[TaskView, ...]
    promised_finish: dt.date
    projected_finish: dt.date | None
    critical_path: tuple[str, ...]
    ruleset_id: str
    ruleset_digest: str
    rules_moved_on: bool
    """Today's version of the case's rule-set differs from the one pinned at acceptance, or can no
    longer be found (the case keeps its own tasks and limits either way)."""
    warnings: tuple[str, ...] = ()
    """Calendar assumptions the dates rest on."""

    @property
    def ready(self) -> tuple[str, ...]:
        return tuple(t.step for t in self.tasks if t.state == "ready")

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "applicant": self.applicant,
            "project_name": self.project_name,
            "situation": self.situation,
            "flowchart": self.flowchart,
            "flowchart_name": self.flowchart_name,
            "state": self.state,
            "commitment": self.commitment,
            "opened": self.opened_on.isoformat(),
            "closed": _iso(self.closed_on),
            "as_of": self.as_of.isoformat(),
            "ready": list(self.ready),
            "promised_finish": self.promised_finish.isoformat(),
            "projected_finish": _iso(self.projected_finish),
            "critical_path": list(self.critical_path),
            "ruleset": {"id": self.ruleset_id, "digest": self.ruleset_digest, "moved_on": self.rules_moved_on},
            "tasks": [t.to_dict() for t in self.tasks],
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True)
class OpenedCase:
    number: str
    query_code: str
    """Shown once, to the applicant; only its salted hash is stored."""
    status: CaseStatus
    on_file: tuple[OnFile, ...] = ()
    """The applicant's certificates in the database (证照数据库) on the acceptance day: materials the
    case's steps need not be given again, and expired or revoked ones that must be (with the reason)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "query_code": self.query_code,
            **self.status.to_dict(),
            "on_file": [
                {"material": e.material, "certificate": e.certificate, "issuer": e.issuer, "asked_again": e.asked_again}
                for e in self.on_file
            ],
        }


@dataclass(frozen=True)
class Recorded:
    number: str
    step: str
    event: str
    from_state: str
    to_state: str
    released: tuple[str, ...]
    """Tasks that became ready at this moment (their prerequisites are now all done)."""
    case_state: str
    due_on: dt.date | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "step": self.step,
            "event": self.event,
            "from": self.from_state,
            "to": self.to_state,
            "released": list(self.released),
            "case_state": self.case_state,
            "due": _iso(self.due_on),
        }


@dataclass(frozen=True)
class ListedTask:
    number: str
    project_name: str | None
    flowchart: str
    step: str
    name: str
    department: str
    department_name: str
    owner: str
    state: str
    started_on: dt.date | None
    due_on: dt.date | None
    overdue_days: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "project_name": self.project_name,
            "flowchart": self.flowchart,
            "step": self.step,
            "name": self.name,
            "department": self.department,
            "department_name": self.department_name,
            "owner": self.owner,
            "state": self.state,
            "started": _iso(self.started_on),
            "due": _iso(self.due_on),
            "overdue_working_days": self.overdue_days,
        }


# --- the store ------------------------------------------------------------------------------------
@dataclass
class CaseStore:
    """Cases in one database. Build it with :func:`open_store`."""

    engine: Engine
    ruleset: RuleSet
    calendar: WorkCalendar
    _identities: dict[str, tuple[str, str]] = field(default_factory=dict, repr=False)
    _case_rules: dict[str, RuleSet | None] = field(default_factory=dict, repr=False)

    @property
    def identity(self) -> tuple[str, str]:
        """``(id, digest)`` of the store's rule-set, the one new cases are opened under."""
        return self._identity_of(self.ruleset)

    def _identity_of(self, rs: RuleSet) -> tuple[str, str]:
        key = str(rs.path)
        found = self._identities.get(key)
        if found is None:
            found = self._identities[key] = ruleset_identity(rs)
        return found

    def _rules_of(self, ruleset_id: str) -> RuleSet | None:
        """Today's version of the rule-set a case was opened under: the store's own when the names
        agree, else the packaged rule-set of that name (``None`` when there is none)."""
        name = ruleset_id.rsplit("@", 1)[0]
        if name == Path(self.ruleset.path).name:
            return self.ruleset
        if name not in self._case_rules:
            from ..catalogue import ruleset_path
            from ..errors import FlowmatchError
            from ..ruleset import load_ruleset

            try:
                self._case_rules[name] = load_ruleset(ruleset_path(name))
            except (FlowmatchError, OSError):
                self._case_rules[name] = None
        return self._case_rules[name]

    def _department_name(self, dept: str, owner: str = "department", rs: RuleSet | None = None) -> str:
        if owner == "applicant":
            return "申请人"
        found = (rs or self.ruleset).departments.get(dept)
        return found.short if found is not None else dept

    # --- open -------------------------------------------------------------------------------------
    def open_case(
        self,
        profile: Mapping[str, Any],
        *,
        applicant: str,
        credit_code: str,
        at: dt.datetime | dt.date | str,
        by: str,
        project_name: str | None = None,
        start: dt.date | str | None = None,
        commitment: bool = False,
        role: str = "window",
    ) -> OpenedCase:
        """Accept an application (受理): match, pin the rules, create the tasks, start the first ones."""
        from ..flows import for_situation
        from ..matcher import matcher_for
        from ..scheduler import schedule

        at = _as_datetime(at)
        day = _as_date(start, "start") if start is not None else at.date()
        if not applicant.strip():
            raise InputError("the applicant's name is empty")
        if not by.strip():
            raise InputError("who records the event (--by) is empty")
        _check_role(role)
        code = validate_credit_code(credit_code)
        rs = self.ruleset
        matcher = matcher_for(rs)
        result = matcher.match(profile)
        if result.status != "matched" or result.situation is None:
            raise InputError(_not_matched(rs, result))
        answers, _, _ = matcher.validate(profile)
        flow = for_situation(rs, result.situation, flags=result.flags, profile=answers)
        mode = "commitment" if commitment else "standard"
        plan = schedule(flow, day, self.calendar, mode, ruleset=rs)
        ruleset_id, digest = self.identity
        settings = rs.manifest.tracking
        query_code = "".join(secrets.choice(QUERY_ALPHABET) for _ in range(QUERY_LENGTH))
        salt = secrets.token_hex(8)
        steps = [s for s in flow.steps.values() if not s.completion]
        durations = {s.id: (s.commitment.duration if commitment and s.commitment else s.duration) for s in steps}
        with self.engine.begin() as conn:
            number = _next_number(conn, day.year)
            case_values: dict[str, Any] = {
                "credit_code": code,
                "project_name": project_name,
                "profile": {k: v for k, v in profile.items()},
                "situation": result.situation,
                "flowchart": flow.id,
                "ruleset_id": ruleset_id,
                "ruleset_digest": digest,
                "commitment": commitment,
                "query_salt": salt,
                "query_hash": _hash_code(salt, query_code),
                "warn_before": settings.warn_before,
                "urge_after": settings.urge_after,
                "supervisor": settings.supervisor,
                "promised_days": plan.elapsed_working_days,
                "promised_counted_days": plan.working_days,
                "state": "open",
                "opened_at": at,
                "opened_on": day,
                "opened_by": by,
                "closed_on": None,
            }
            case_id = conn.execute(
                insert(Case).returning(Case.id),
                {"number": number, "applicant": applicant.strip(), **case_values},
            ).scalar_one()
            rows = []
            ready = []
            for position, s in enumerate(steps):
                is_ready = not s.depends_on
                if is_ready:
                    ready.append(s.id)
                rows.append(
                    {
                        "case_id": case_id,
                        "step": s.id,
                        "position": position,
                        "name": s.name,
                        "item": s.item.id,
                        "department": s.department,
                        "members": list(s.members),
                        "owner": "department" if s.counted else "applicant",
                        "counted": s.counted,
                        "duration": durations[s.id],
                        "depends_on": list(s.depends_on),
                        "state": "ready" if is_ready else "waiting",
                        "suspended_from": None,
                        "started_on": day if is_ready else None,
                        "due_on": due_date(self.calendar, day, durations[s.id]) if is_ready and s.counted else None,
                        "suspended_on": None,
                        "suspended_days": 0,
                        "finished_on": None,
                        "updated_at": at,
                    }
                )
            conn.execute(insert(Task), rows)
            mode_note = "；告知承诺" if commitment else ""
            events = [
                audit.NewEvent(
                    at,
                    by,
                    role,
                    "open",
                    number,
                    None,
                    None,
                    "open",
                    f"受理 {result.situation}/{flow.id}；{applicant.strip()}（{code}）；规则 {ruleset_id} "
                    f"{digest[:12]}{mode_note}",
                )
            ]
            events += [
                audit.NewEvent(at, "flowmatch", "system", states.RELEASE, number, sid, "waiting", "ready", "同步启动")
                for sid in ready
            ]
            audit.append(conn, events)
        # the status is built from what was just written (no read back)
        case_row = SimpleNamespace(id=case_id, number=number, applicant=applicant.strip(), **case_values)
        status = self._build_status(case_row, [SimpleNamespace(**r) for r in rows], day)
        on_file = certs.lookup(self.engine, rs, code, as_of=day)
        return OpenedCase(number, query_code, status, on_file)

    # --- record -----------------------------------------------------------------------------------
    def record(
        self,
        number: str,
        step: str,
        event: str,
        *,
        by: str,
        at: dt.datetime | dt.date | str,
        note: str = "",
        role: str | None = None,
        certificates: Mapping[str, str] | None = None,
    ) -> Recorded:
        """Record one event on one task (受理 承办 审核 批准/不予许可 办结, 中止/恢复).

        When a step is done (approved), the certificates it produces that the certificate database
        holds are stored for the applicant in the same transaction, each with an audit event;
        ``certificates`` gives their numbers by material id (default ``CASE/STEP``)."""
        at = _as_datetime(at)
        day = at.date()
        if event not in states.EVENTS:
            raise InputError(f"unknown event {event!r}", allowed=states.EVENTS)
        if not by.strip():
            raise InputError("who records the event (--by) is empty")
        if role is not None:
            _check_role(role)
        with self.engine.begin() as conn:
            case = _case_row(conn, number, lock=True)
            tasks = {t.step: t for t in _task_rows(conn, case.id)}
            task = tasks.get(step)
            if task is None:
                raise InputError(
                    f"case {number} has no step {step!r}", allowed=sorted(tasks, key=lambda s: tasks[s].position)
                )
            if case.state != "open":
                raise TrackingError(f"case {number} is closed ({case.state}); no further events can be recorded")
            target = states.next_state(number, step, task.state, event, task.suspended_from)
            if task.started_on is not None and day < task.started_on:
                raise InputError(
                    f"{at.isoformat(sep=' ')} is before step {step!r} became ready ({task.started_on.isoformat()})"
                )
            if task.suspended_on is not None and day < task.suspended_on:
                raise InputError(f"{day.isoformat()} is before step {step!r} was suspended ({task.suspended_on})")
            source = task.state
            role = role or ("applicant" if task.owner == "applicant" else "department")
            changes: dict[str, Any] = {"state": target, "updated_at": at}
            if event == "suspend":
                changes.update(suspended_from=source, suspended_on=day)
            elif event == "resume":
                shift = suspended_working_days(self.calendar, task.suspended_on or day, day)
                changes.update(suspended_from=None, suspended_on=None, suspended_days=task.suspended_days + shift)
                if task.due_on is not None:
                    changes["due_on"] = self.calendar.add(task.due_on, shift)
            elif target == "done":
                changes["finished_on"] = day
            conn.execute(update(Task).where(Task.id == task.id).values(**changes))
            for key, value in changes.items():
                setattr(task, key, value)
            events = [audit.NewEvent(at, by, role, event, number, step, source, target, note)]
            released: list[str] = []
            case_state = "open"
            if target == "done":
                if source == "rejected":
                    case_state = "rejected"
                    for t in tasks.values():
                        if t.state in ("done", "cancelled"):
                            continue
                        cancelled = states.next_state(number, t.step, t.state, states.WITHDRAW)
                        conn.execute(update(Task).where(Task.id == t.id).values(state=cancelled, updated_at=at))
                        events.append(
                            audit.NewEvent(
                                at,
                                "flowmatch",
                                "system",
                                states.WITHDRAW,
                                number,
                                t.step,
                                t.state,
                                cancelled,
                                f"案件不予许可（{step}），撤销",
                            )
                        )
                else:
                    events += certs.issue_for_step(
                        conn,
                        self._rules_of(case.ruleset_id) or self.ruleset,
                        credit_code=case.credit_code,
                        case_number=case.number,
                        step=step,
                        item=task.item,
                        day=day,
                        at=at,
                        by="flowmatch",
                        numbers=certificates,
                    )
                    released = releasable(tasks)
                    for sid in released:
                        t = tasks[sid]
                        due = due_date(self.calendar, day, t.duration) if t.counted else None
                        conn.execute(
                            update(Task)
                            .where(Task.id == t.id)
                            .values(state="ready", started_on=day, due_on=due, updated_at=at)
                        )
                        events.append(
                            audit.NewEvent(
                                at,
                                "flowmatch",
                                "system",
                                states.RELEASE,
                                number,
                                sid,
                                "waiting",
                                "ready",
                                f"前置办结（{step}），同步启动",
                            )
                        )
                    if all(t.state == "done" for t in tasks.values()):
                        case_state = "done"
                if case_state != "open":
                    conn.execute(update(Case).where(Case.id == case.id).values(state=case_state, closed_on=day))
                    label = "办结" if case_state == "done" else "不予许可，案件终止"
                    events.append(
                        audit.NewEvent(at, "flowmatch", "system", "close", number, None, "open", case_state, label)
                    )
            audit.append(conn, events)
        return Recorded(
            number, step, event, source, target, tuple(released), case_state, changes.get("due_on", task.due_on)
        )

    # --- status -----------------------------------------------------------------------------------
    def status(self, number: str, *, as_of: dt.date | str, query_code: str | None = None) -> CaseStatus:
        """Every task with state, department, started, due, finished, overdue; projected finish.

        With ``query_code`` (the applicant's look-up) a wrong code and an unknown number give the
        same error, and the comparison takes constant time."""
        day = _as_date(as_of)
        with self.engine.connect() as conn:
            if query_code is not None:
                _check_code(conn, number, query_code)
            return self._status(conn, number, day)

    def _status(self, conn: Connection, number: str, as_of: dt.date) -> CaseStatus:
        case = _case_row(conn, number)
        return self._build_status(case, _task_rows(conn, case.id), as_of)

    def _build_status(self, case: Any, tasks: list[Any], as_of: dt.date) -> CaseStatus:
        cal = self.calendar
        rules = self._rules_of(case.ruleset_id)
        labels = rules or self.ruleset
        proj = project(cal, tasks, as_of)
        views = []
        for t in tasks:
            overdue = t.due_on is not None and (
                (t.state in states.CLOCK_STATES and as_of > t.due_on)
                or (t.finished_on is not None and t.finished_on > t.due_on)
            )
            end = proj.ends.get(t.step)
            views.append(
                TaskView(
                    t.step,
                    t.name,
                    t.item,
                    t.department,
                    self._department_name(t.department, t.owner, labels),
                    t.owner,
                    t.counted,
                    t.duration,
                    tuple(t.depends_on),
                    t.state,
                    t.started_on,
                    t.due_on,
                    t.finished_on,
                    t.suspended_days,
                    overdue,
                    end,
                    any(d is not None and bool(cal.unpublished_years(d, d)) for d in (t.due_on, end)),
                    tuple(t.members),
                )
            )
        promised = cal.add(case.opened_on, case.promised_days)
        last = max([promised, *(d for d in proj.ends.values())])
        flow = labels.flowcharts.get(case.flowchart)
        return CaseStatus(
            number=case.number,
            applicant=case.applicant,
            project_name=case.project_name,
            situation=case.situation,
            flowchart=case.flowchart,
            flowchart_name=flow.name if flow is not None else case.flowchart,
            state=case.state,
            commitment=case.commitment,
            opened_on=case.opened_on,
            closed_on=case.closed_on,
            as_of=as_of,
            tasks=tuple(views),
            promised_finish=promised,
            projected_finish=proj.finish,
            critical_path=proj.critical_path,
            ruleset_id=case.ruleset_id,
            ruleset_digest=case.ruleset_digest,
            rules_moved_on=rules is None or (case.ruleset_id, case.ruleset_digest) != self._identity_of(rules),
            warnings=tuple(cal.assumptions(min(case.opened_on, as_of), max(last, as_of))),
        )

    # --- panoramic list ---------------------------------------------------------------------------
    def tasks(
        self,
        *,
        as_of: dt.date | str,
        department: str | None = None,
        state: str | None = None,
        overdue: bool = False,
        limit: int | None = None,
    ) -> list[ListedTask]:
        """Open tasks of open cases (全景: which department handles what, how far it has got)."""
        day = _as_date(as_of)
        if department is not None and department not in self.ruleset.departments and department != "applicant":
            raise InputError(f"unknown department {department!r}", allowed=[*self.ruleset.departments, "applicant"])
        if state is not None and state not in states.STATES:
            raise InputError(f"unknown state {state!r}", allowed=states.STATES)
        query = (
            select(*_TASKS.c, Case.number, Case.project_name, Case.flowchart)
            .join(Case, Case.id == Task.case_id)
            .order_by(Task.due_on, Case.number, Task.position)
        )
        query = query.where(Task.state.in_([state] if state else states.OPEN_STATES))
        if department == "applicant":
            query = query.where(Task.owner == "applicant")
        elif department is not None:
            query = query.where(Task.department == department, Task.owner == "department")
        if overdue:
            query = query.where(Task.state.in_(states.CLOCK_STATES), Task.due_on < day)
        if limit is not None:
            query = query.limit(limit)
        out = []
        with self.engine.connect() as conn:
            for task in conn.execute(query):
                late = self.calendar.between(task.due_on, day) if task.due_on is not None and day > task.due_on else 0
                if task.state in ("done", "suspended", "waiting"):
                    late = 0
                out.append(
                    ListedTask(
                        task.number,
                        task.project_name,
                        task.flowchart,
                        task.step,
                        task.name,
                        task.department,
                        self._department_name(task.department, task.owner),
                        task.owner,
                        task.state,
                        task.started_on,
                        task.due_on,
                        late,
                    )
                )
        return out

    def cases(self) -> list[tuple[str, str, str]]:
        """``(number, flowchart, state)`` of every case, oldest first."""
        with self.engine.connect() as conn:
            return [
                (r.number, r.flowchart, r.state)
                for r in conn.execute(select(Case.number, Case.flowchart, Case.state).order_by(Case.id))
            ]

    # --- sweep, audit, statistics (their own modules) ---------------------------------------------
    def sweep(self, *, as_of: dt.date | str, by: str = "sweep") -> Any:
        """Raise the warnings due on ``as_of`` (预警, 超期, 催办), each once per task and level."""
        from .sweep import sweep

        return sweep(self, _as_date(as_of), by=by)

    def verify(self, *, anchors: Mapping[int, str] | None = None) -> audit.AuditReport:
        """Walk the audit chain; the report names the first edited, deleted or reordered event, and
        with ``anchors`` ({event number: hash} kept outside the database, from ``report.anchor`` of an
        earlier verify) the first anchored event that was rewritten."""
        with self.engine.connect() as conn:
            return audit.verify(conn, anchors=anchors)

    def stats(self, *, since: dt.date | str | None = None, until: dt.date | str | None = None) -> Any:
        """Actual vs promised working days per flowchart, department and item, over a period."""
        from .report import stats

        return stats(self, _as_date(since, "since") if since else None, _as_date(until, "until") if until else None)

    # --- certificate database (证照数据库) -------------------------------------------------------
    def certificates(self, credit_code: str) -> list[certs.Certificate]:
        """Every certificate the holder (统一社会信用代码) has on file, oldest first."""
        return certs.list_for(self.engine, self.ruleset, credit_code)

    def import_certificates(
        self, source: str | Path, *, at: dt.datetime | dt.date | str, by: str
    ) -> certs.CertificateImport:
        """Import ``credit_code, material, number, issued, expires`` rows from a CSV file."""
        if not by.strip():
            raise InputError("who imports the certificates (--by) is empty")
        return certs.import_csv(self.engine, self.ruleset, source, at=_as_datetime(at), by=by)

    def revoke_certificate(
        self,
        number: str,
        *,
        reason: str,
        by: str,
        at: dt.datetime | dt.date | str,
        material: str | None = None,
    ) -> certs.Certificate:
        """Revoke (注销) a certificate, with the reason; its material is asked again from then on."""
        return certs.revoke(
            self.engine, self.ruleset, number, reason=reason, by=by, at=_as_datetime(at), material=material
        )

    def on_file(self, credit_code: str, *, as_of: dt.date | str, ruleset: RuleSet | None = None) -> tuple[OnFile, ...]:
        """The holder's certificates as on-file entries for the notice (see :func:`certs.lookup`)."""
        return certs.lookup(self.engine, ruleset or self.ruleset, credit_code, as_of=_as_date(as_of))

    def history(self, number: str) -> list[dict[str, Any]]:
        """A case's events in order (who, role, when, what, from/to state, note)."""
        from .schema import Event

        with self.engine.connect() as conn:
            _case_row(conn, number)
            rows = conn.execute(
                select(*Event.__table__.c).where(Event.case_number == number.strip().upper()).order_by(Event.seq)
            )
            return [
                {
                    "seq": e.seq,
                    "at": e.at.isoformat(sep=" "),
                    "actor": e.actor,
                    "role": e.role,
                    "step": e.step,
                    "what": e.what,
                    "from": e.from_state,
                    "to": e.to_state,
                    "note": e.note,
                }
                for e in rows
            ]


# --- helpers --------------------------------------------------------------------------------------
def _check_role(role: str) -> None:
    if role not in ROLES:
        raise InputError(f"unknown role {role!r}", allowed=ROLES)


def _not_matched(rs: RuleSet, result: Any) -> str:
    if result.status == "incomplete":
        parts = [f"{a} ({rs.attributes[a].label}): {', '.join(rs.attributes[a].values)}" for a in result.missing]
        return "the profile is incomplete; still needed: " + "; ".join(parts)
    if result.status == "not_applicable":
        return f"the project is not applicable ({result.rule}): {result.reason}"
    return "the profile is invalid: " + "; ".join(i.text() for i in result.invalid)


def _next_number(conn: Connection, year: int) -> str:
    """The next 受理编号 of the year, e.g. ``JS2026-000042`` (a counter row, locked by its update)."""
    name = f"case-{year}"
    ins = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(Counter)
    conn.execute(ins.values(name=name, value=0).on_conflict_do_nothing(index_elements=["name"]))
    value = conn.execute(
        update(Counter).where(Counter.name == name).values(value=Counter.value + 1).returning(Counter.value)
    ).scalar_one()
    return f"{NUMBER_PREFIX}{year}-{value:06d}"


_TASKS = Task.__table__
_CASES = Case.__table__


def _task_rows(conn: Connection, case_id: int) -> list[Any]:
    """A case's tasks as mutable records, in topological order."""
    query = select(*_TASKS.c).where(_TASKS.c.case_id == case_id).order_by(_TASKS.c.position)
    return [SimpleNamespace(**row._mapping) for row in conn.execute(query)]


def _case_row(conn: Connection, number: str, *, lock: bool = False) -> Any:
    query = select(*_CASES.c).where(_CASES.c.number == number.strip().upper())
    if lock:
        query = query.with_for_update()
    found = conn.execute(query).one_or_none()
    if found is None:
        raise InputError(f"no case numbered {number!r} (受理编号 look like {NUMBER_PREFIX}2026-000001)")
    return found


def _check_code(conn: Connection, number: str, code: str) -> None:
    row = conn.execute(
        select(Case.query_salt, Case.query_hash).where(Case.number == number.strip().upper())
    ).one_or_none()
    salt, stored = (row.query_salt, row.query_hash) if row is not None else ("-", "0" * 64)
    if not hmac.compare_digest(_hash_code(salt, code), stored) or row is None:
        raise InputError("no case with this 受理编号 and query code")


def open_store(
    url: str | None = None,
    *,
    ruleset: RuleSet | None = None,
    calendar: WorkCalendar | None = None,
    migrate: bool = True,
) -> CaseStore:
    """The case store at ``url`` (default ``$FLOWMATCH_DB`` or the per-user SQLite file), migrated.

    ``calendar`` defaults to the official calendar, estimated past the published years like every
    schedule (see :mod:`flowmatch.calendar`): the estimate is named in every status (``warnings``) and
    each such date is marked ``estimated``."""
    from .store import engine

    return CaseStore(
        engine(url, migrate=migrate),
        ruleset if ruleset is not None else default_ruleset(),
        calendar if calendar is not None else WorkCalendar(),
    )
