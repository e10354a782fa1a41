"""The warning sweep (预警 · 超期 · 催办): idempotent, safe to run on several servers at once.

For every counted task on a department's desk whose clock runs (not suspended, not done):

* ``warning`` (预警) when at most ``warn_before`` working days are left (the case's pinned setting);
* ``overdue`` (超期) when the day is past its due date;
* ``urge`` (催办, to the department and the supervisor) when it is ``urge_after`` working days past due.

Each is inserted into ``warnings`` with ``ON CONFLICT (task_id, level) DO NOTHING``: the unique
key decides, inside the database, which sweep raises a warning; only rows actually inserted get an
audit event, in the same transaction.  Levels already raised are skipped before anything is
written, so a repeat sweep writes nothing.  On PostgreSQL the tasks that still need a warning are also claimed with
``SELECT ... FOR UPDATE SKIP LOCKED`` so concurrent sweepers share the work instead of queueing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, select
from sqlalchemy.dialects import postgresql, sqlite

from . import audit, states
from .progress import WorkdayCount
from .schema import Case, Task, TaskWarning

if TYPE_CHECKING:
    from .cases import CaseStore

LEVELS = ("warning", "overdue", "urge")
LEVEL_LABELS = {"warning": "预警", "overdue": "超期", "urge": "催办"}


@dataclass(frozen=True)
class RaisedWarning:
    number: str
    step: str
    name: str
    department: str
    level: str
    due_on: dt.date
    working_days: int
    """Working days left (预警) or past due (超期, 催办)."""
    notify: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "step": self.step,
            "name": self.name,
            "department": self.department,
            "level": self.level,
            "label": LEVEL_LABELS[self.level],
            "due": self.due_on.isoformat(),
            "working_days": self.working_days,
            "notify": list(self.notify),
        }


@dataclass(frozen=True)
class SweepResult:
    as_of: dt.date
    examined: int
    raised: tuple[RaisedWarning, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "examined": self.examined,
            "raised": [w.to_dict() for w in self.raised],
        }


def levels_for(count: WorkdayCount, due: dt.date, as_of: dt.date, warn_before: float, urge_after: float) -> list[str]:
    """The levels that apply on ``as_of`` to a task due on ``due``."""
    if as_of > due:
        late = count.between(due, as_of)
        return ["overdue", "urge"] if late >= urge_after else ["overdue"]
    return ["warning"] if count.between(as_of, due) <= warn_before else []


def sweep(store: CaseStore, as_of: dt.date, *, by: str = "sweep") -> SweepResult:
    cal = store.calendar
    count = WorkdayCount(cal)
    tasks, cases, warnings = Task.__table__, Case.__table__, TaskWarning.__table__
    with store.engine.begin() as conn:
        windows = [
            float(w) for (w,) in conn.execute(select(cases.c.warn_before).where(cases.c.state == "open").distinct())
        ]
        horizon = cal.add(as_of, max(windows, default=0.0))
        due_soon = and_(
            tasks.c.state.in_(states.CLOCK_STATES),
            tasks.c.owner == "department",
            tasks.c.due_on.is_not(None),
            tasks.c.due_on <= horizon,
        )
        query = (
            select(
                tasks.c.id,
                tasks.c.case_id,
                tasks.c.step,
                tasks.c.name,
                tasks.c.department,
                tasks.c.due_on,
                cases.c.number,
                cases.c.warn_before,
                cases.c.urge_after,
                cases.c.supervisor,
            )
            .join(cases, cases.c.id == tasks.c.case_id)
            .where(due_soon)
            .order_by(tasks.c.due_on, tasks.c.id)
        )
        candidates = list(conn.execute(query))
        raised_before = select(warnings.c.task_id, warnings.c.level).join(tasks, tasks.c.id == warnings.c.task_id)
        done = {(int(r.task_id), str(r.level)) for r in conn.execute(raised_before.where(due_soon))}
        wanted: list[dict[str, Any]] = []
        info: dict[tuple[int, str], RaisedWarning] = {}
        for row in candidates:
            for level in levels_for(count, row.due_on, as_of, row.warn_before, row.urge_after):
                if (row.id, level) in done:
                    continue
                dept = store._department_name(row.department)
                notify = (dept, row.supervisor) if level == "urge" else (dept,)
                days = count.between(row.due_on, as_of) if level != "warning" else count.between(as_of, row.due_on)
                wanted.append(
                    {
                        "task_id": row.id,
                        "case_id": row.case_id,
                        "level": level,
                        "raised_on": as_of,
                        "due_on": row.due_on,
                        "notify": list(notify),
                    }
                )
                info[(row.id, level)] = RaisedWarning(
                    row.number, row.step, row.name, dept, level, row.due_on, days, notify
                )
        if wanted and conn.dialect.name == "postgresql":
            # claim the tasks that still need a warning; another sweeper holding one raises it instead
            ids = sorted({w["task_id"] for w in wanted})
            claimed: set[int] = set()
            for chunk in range(0, len(ids), 5000):
                claimed.update(
                    conn.execute(
                        select(tasks.c.id)
                        .where(tasks.c.id.in_(ids[chunk : chunk + 5000]))
                        .with_for_update(skip_locked=True)
                    ).scalars()
                )
            wanted = [w for w in wanted if w["task_id"] in claimed]
        raised: list[RaisedWarning] = []
        if wanted:
            ins = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(TaskWarning)
            stmt = ins.on_conflict_do_nothing(index_elements=["task_id", "level"]).returning(
                TaskWarning.task_id, TaskWarning.level
            )
            inserted: set[tuple[int, str]] = set()
            for chunk in range(0, len(wanted), 5000):
                result = conn.execute(stmt, wanted[chunk : chunk + 5000])
                inserted.update((r.task_id, r.level) for r in result)
            raised = [info[(w["task_id"], w["level"])] for w in wanted if (w["task_id"], w["level"]) in inserted]
        at = dt.datetime.combine(as_of, dt.time())
        audit.append(
            conn,
            [
                audit.NewEvent(
                    at,
                    by,
                    "system",
                    w.level,
                    w.number,
                    w.step,
                    None,
                    None,
                    f"{LEVEL_LABELS[w.level]}：{w.department}，到期 {w.due_on.isoformat()}"
                    f"{'，已超 ' + str(w.working_days) + ' 个工作日' if w.level != 'warning' else ''}"
                    f"；通知 {'、'.join(w.notify)}",
                )
                for w in raised
            ],
        )
    return SweepResult(as_of, len(candidates), tuple(raised))
