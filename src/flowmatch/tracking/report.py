"""Statistics from real progress: actual vs promised working days (the reform's own monitoring).

A task counts in the period when it was finished (办结) in it.  Its actual working days are those
from the day it became ready to the day it was finished, less its suspended working days (they do
not count, 行政许可法 §45); promised is its pinned limit.  Cases count per flowchart when they
closed in the period: actual working days from acceptance to the last task, promised the pinned
plan's.  Only counted tasks (the government clock) enter the department and item figures.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from .schema import Case, Task

if TYPE_CHECKING:
    from .cases import CaseStore


@dataclass
class _Acc:
    count: int = 0
    actual: float = 0.0
    promised: float = 0.0
    late: int = 0

    def add(self, actual: float, promised: float) -> None:
        self.count += 1
        self.actual += actual
        self.promised += promised
        self.late += actual > promised + 1e-9

    def to_dict(self, key: str, label: str) -> dict[str, Any]:
        n = max(self.count, 1)
        return {
            "id": key,
            "label": label,
            "count": self.count,
            "avg_actual_working_days": round(self.actual / n, 2),
            "avg_promised_working_days": round(self.promised / n, 2),
            "late": self.late,
            "on_time_share": round((self.count - self.late) / n, 3),
        }


@dataclass(frozen=True)
class TrackingStats:
    since: dt.date | None
    until: dt.date | None
    by_flowchart: list[dict[str, Any]]
    by_department: list[dict[str, Any]]
    by_item: list[dict[str, Any]]
    tasks: int
    cases: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "tasks": self.tasks,
            "cases": self.cases,
            "by_flowchart": self.by_flowchart,
            "by_department": self.by_department,
            "by_item": self.by_item,
        }


def stats(store: CaseStore, since: dt.date | None, until: dt.date | None) -> TrackingStats:
    cal = store.calendar
    rs = store.ruleset
    tasks, cases = Task.__table__, Case.__table__
    tq = select(
        tasks.c.item,
        tasks.c.department,
        tasks.c.duration,
        tasks.c.started_on,
        tasks.c.finished_on,
        tasks.c.suspended_days,
    ).where(tasks.c.state == "done", tasks.c.counted.is_(True), tasks.c.finished_on.is_not(None))
    cq = select(cases.c.flowchart, cases.c.opened_on, cases.c.closed_on, cases.c.promised_days).where(
        cases.c.state == "done", cases.c.closed_on.is_not(None)
    )
    if since is not None:
        tq = tq.where(tasks.c.finished_on >= since)
        cq = cq.where(cases.c.closed_on >= since)
    if until is not None:
        tq = tq.where(tasks.c.finished_on <= until)
        cq = cq.where(cases.c.closed_on <= until)
    by_dept: dict[str, _Acc] = defaultdict(_Acc)
    by_item: dict[str, _Acc] = defaultdict(_Acc)
    by_flow: dict[str, _Acc] = defaultdict(_Acc)
    n_tasks = n_cases = 0
    with store.engine.connect() as conn:
        for row in conn.execute(tq):
            actual = max(cal.between(row.started_on, row.finished_on) - row.suspended_days, 0)
            by_dept[row.department].add(actual, row.duration)
            by_item[row.item].add(actual, row.duration)
            n_tasks += 1
        for case in conn.execute(cq):
            by_flow[case.flowchart].add(cal.between(case.opened_on, case.closed_on), case.promised_days)
            n_cases += 1

    def label_dept(key: str) -> str:
        found = rs.departments.get(key)
        return found.short if found else key

    def label_item(key: str) -> str:
        found = rs.items.get(key)
        return found.name if found else key

    def label_flow(key: str) -> str:
        found = rs.flowcharts.get(key)
        return found.name if found else key

    return TrackingStats(
        since,
        until,
        [acc.to_dict(k, label_flow(k)) for k, acc in sorted(by_flow.items())],
        [acc.to_dict(k, label_dept(k)) for k, acc in sorted(by_dept.items())],
        [acc.to_dict(k, label_item(k)) for k, acc in sorted(by_item.items())],
        n_tasks,
        n_cases,
    )
