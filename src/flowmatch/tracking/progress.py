"""Dates of a live case: due dates, suspension shifts, the projected finish along the critical path.

Pure functions over task rows and a :class:`~flowmatch.calendar.WorkCalendar`; no database, no clock.

* A task's clock starts the day it becomes ready (day 0); it is due ``duration`` working days later.
* A suspension (行政许可法 §45) from day *s* to day *r* does not count: ``cal.between(s, r)``
  working days are added to the due date, so the due date moves by exactly the suspended working days.
* The projected finish walks the tasks in topological order: a finished task ends when it did; an
  open one at its due date (today at the earliest; a suspended one's due date moves with every day
  it stays suspended); a waiting one starts when its last prerequisite is projected to end.  The
  chain of latest prerequisites from the last end is the critical path of the remaining work.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from ..calendar import WorkCalendar


class TaskLike(Protocol):
    step: str
    position: int
    state: str
    counted: bool
    duration: float
    depends_on: list[str]
    started_on: dt.date | None
    due_on: dt.date | None
    suspended_on: dt.date | None
    finished_on: dt.date | None


class WorkdayCount:
    """``cal.between(a, b)`` in constant time, from per-year running counts of working days.

    Each year's table is built by asking ``cal.is_workday`` for each of its days, so the same errors
    (a year without data) and the same assumption notes arise as with ``cal.between``."""

    def __init__(self, cal: WorkCalendar) -> None:
        self.cal = cal
        self._years: dict[int, list[int]] = {}

    def _upto(self, day: dt.date) -> int:
        """Working days from 1 January of ``day``'s year up to and including ``day``."""
        table = self._years.get(day.year)
        if table is None:
            table = [0]
            current = dt.date(day.year, 1, 1)
            while current.year == day.year:
                table.append(table[-1] + self.cal.is_workday(current))
                current += dt.timedelta(days=1)
            self._years[day.year] = table
        return table[day.timetuple().tm_yday]

    def between(self, start: dt.date, end: dt.date) -> int:
        """Working days after ``start`` up to and including ``end`` (0 when ``end <= start``)."""
        if end <= start:
            return 0
        total = self._upto(end) - self._upto(start)
        for year in range(start.year, end.year):
            total += self._upto(dt.date(year, 12, 31))
        return total


def due_date(cal: WorkCalendar, start: dt.date, duration: float, suspended_days: int = 0) -> dt.date:
    """The promised limit counted from ``start`` (day 0), plus the suspended working days."""
    return cal.add(start, duration + suspended_days)


def suspended_working_days(cal: WorkCalendar, suspended_on: dt.date, resumed_on: dt.date) -> int:
    """Working days that do not count: after the suspension day, up to and including the resume day."""
    return cal.between(suspended_on, resumed_on) if resumed_on > suspended_on else 0


@dataclass(frozen=True)
class Projection:
    ends: dict[str, dt.date]
    """Projected (or actual) end of every task."""
    starts: dict[str, dt.date]
    finish: dt.date | None
    critical_path: tuple[str, ...]


def project(cal: WorkCalendar, tasks: Sequence[TaskLike], as_of: dt.date) -> Projection:
    """Projected end of every task and of the case, from actual progress up to ``as_of``."""
    ordered = sorted(tasks, key=lambda t: t.position)
    ends: dict[str, dt.date] = {}
    starts: dict[str, dt.date] = {}
    for t in ordered:
        if t.state == "done" and t.finished_on is not None:
            starts[t.step] = t.started_on or t.finished_on
            ends[t.step] = t.finished_on
            continue
        if t.started_on is not None:  # on someone's desk
            starts[t.step] = t.started_on
            expected = t.due_on if t.due_on is not None else cal.add(t.started_on, t.duration)
            if t.state == "suspended" and t.suspended_on is not None:
                expected = cal.add(expected, suspended_working_days(cal, t.suspended_on, as_of))
            ends[t.step] = max(expected, as_of)
            continue
        begin = max((ends[d] for d in t.depends_on if d in ends), default=as_of)
        starts[t.step] = begin
        ends[t.step] = cal.add(begin, t.duration)
    if not ordered:
        return Projection(ends, starts, None, ())
    by_step = {t.step: t for t in ordered}
    last = max(ordered, key=lambda t: (ends[t.step], -t.position))
    path = [last.step]
    current = last
    while current.depends_on:
        deps = [by_step[d] for d in current.depends_on if d in by_step]
        if not deps:
            break
        current = max(deps, key=lambda t: (ends[t.step], -t.position))
        path.append(current.step)
    return Projection(ends, starts, ends[last.step], tuple(reversed(path)))


def releasable(tasks: Mapping[str, TaskLike]) -> list[str]:
    """Waiting tasks whose prerequisites are all done (they all become ready at the same moment)."""
    return [
        t.step
        for t in sorted(tasks.values(), key=lambda t: t.position)
        if t.state == "waiting" and all(tasks[d].state == "done" for d in t.depends_on if d in tasks)
    ]
