"""Critical-path scheduling of a resolved flowchart, then dates on the working-day calendar.

Two clocks run over the same DAG of pre-construction steps (SPEC §6):

* the **government clock** (``es/ef/ls/lf/slack``, ``working_days``, ``critical_path``): counted
  steps weigh their duration, not-counted activities (tendering, auction, valuation, publicity,
  intermediary work) weigh 0;
* the **elapsed estimate** (``elapsed_es/elapsed_ef``, ``elapsed_working_days``): every step weighs
  its duration.  Calendar dates come from this clock, because that is when things really happen.

Stages are the topological generations.  Completion steps (national stage 4) follow construction
and are listed without dates.
"""

from __future__ import annotations

import datetime as dt
import math
import threading
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from itertools import compress
from operator import not_
from typing import Any, Literal

from .calendar import WorkCalendar, acceptance_day, plain_days
from .errors import InputError
from .flows import ResolvedFlow, resolve
from .ruleset import RuleSet, default_ruleset

Mode = Literal["standard", "commitment", "baseline"]
MODES: tuple[str, ...] = ("standard", "commitment", "baseline")
_EPS = 1e-9


@dataclass(slots=True)
class ScheduledStep:
    """One step of a schedule: its critical-path figures and (with a start date) its dates.

    Immutable by contract, not by ``frozen=True``: a schedule is built many thousand times a
    second, and a slotted plain dataclass is built ten times faster than a frozen one (whose
    ``__init__`` goes through ``object.__setattr__`` per field).  Nothing in flowmatch assigns
    to a step after building it, and callers must not either: the steps of a schedule without
    dates are shared between schedules of the same flow.  Build a changed copy with
    :func:`dataclasses.replace`."""

    id: str
    name: str
    item: str
    department: str
    duration: float
    counted: bool
    committed: bool
    stage: int
    es: float
    ef: float
    ls: float
    lf: float
    slack: float
    critical: bool
    elapsed_es: float
    elapsed_ef: float
    start: dt.date | None
    end: dt.date | None
    depends_on: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "item": self.item,
            "department": self.department,
            "duration": plain_days(self.duration),
            "counted": self.counted,
            "committed": self.committed,
            "stage": self.stage,
            "es": plain_days(self.es),
            "ef": plain_days(self.ef),
            "ls": plain_days(self.ls),
            "lf": plain_days(self.lf),
            "slack": plain_days(self.slack),
            "critical": self.critical,
            "elapsed_es": plain_days(self.elapsed_es),
            "elapsed_ef": plain_days(self.elapsed_ef),
            "start": _iso(self.start),
            "end": _iso(self.end),
            "depends_on": list(self.depends_on),
        }

    def estimated(self, since: dt.date | None) -> bool:
        """Whether a date of this step rests on an estimated calendar year (``since``: the
        schedule's :attr:`Schedule.estimated_from`)."""
        return since is not None and self.end is not None and self.end >= since


@dataclass(frozen=True)
class Schedule:
    """A flowchart's schedule. ``steps`` are in topological order."""

    flowchart: str
    name: str
    mode: str
    working_days: float
    elapsed_working_days: float
    critical_path: tuple[str, ...]
    stages: tuple[tuple[str, ...], ...]
    steps: tuple[ScheduledStep, ...]
    completion_steps: tuple[str, ...]
    start: dt.date | None
    finish: dt.date | None
    counted_finish: dt.date | None
    warnings: tuple[str, ...] = ()
    flow: ResolvedFlow | None = field(default=None, repr=False, compare=False)
    # the first date of this schedule that rests on an estimated (or assumed) calendar year
    estimated_from: dt.date | None = None
    # the calendar the dates were counted on (a notice counts its other dates on the same one)
    calendar: WorkCalendar | None = field(default=None, repr=False, compare=False)

    def is_estimated(self, day: dt.date | None) -> bool:
        """Whether ``day`` (a date of this schedule) is an estimate rather than a count on
        published holiday data."""
        return day is not None and self.estimated_from is not None and day >= self.estimated_from

    def step(self, step_id: str) -> ScheduledStep:
        for s in self.steps:
            if s.id == step_id:
                return s
        from .errors import UnknownStepError

        raise UnknownStepError(step_id, [s.id for s in self.steps])

    def to_dict(self) -> dict[str, Any]:
        """SPEC §8 JSON."""
        return {
            "flowchart": self.flowchart,
            "name": self.name,
            "mode": self.mode,
            "working_days": plain_days(self.working_days),
            "elapsed_working_days": plain_days(self.elapsed_working_days),
            "critical_path": list(self.critical_path),
            "stages": [list(s) for s in self.stages],
            "steps": [{**s.to_dict(), "estimated": s.estimated(self.estimated_from)} for s in self.steps],
            "completion_steps": list(self.completion_steps),
            "start": _iso(self.start),
            "finish": _iso(self.finish),
            "finish_estimated": self.is_estimated(self.finish),
            "counted_finish": _iso(self.counted_finish),
            "counted_finish_estimated": self.is_estimated(self.counted_finish),
            "estimated": self.estimated_from is not None,
            "estimated_from": _iso(self.estimated_from),
            "warnings": list(self.warnings),
        }


def _iso(d: dt.date | None) -> str | None:
    return d.isoformat() if d else None


@dataclass(frozen=True)
class Passes:
    """Forward/backward pass results over indices in topological order."""

    es: list[float]
    ef: list[float]
    ls: list[float]
    lf: list[float]
    level: list[int]
    total: float


def critical_path_method(preds: Sequence[Sequence[int]], weights: Sequence[float]) -> Passes:
    """Forward and backward pass over a DAG given in topological order (``preds[i]`` < i).

    Linear in nodes + edges; plain lists, no graph objects on the hot path.
    """
    n = len(weights)
    es = [0.0] * n
    ef = [0.0] * n
    level = [0] * n
    for i in range(n):
        start = 0.0
        lv = 0
        for p in preds[i]:
            if ef[p] > start:
                start = ef[p]
            if level[p] >= lv:
                lv = level[p] + 1
        es[i] = start
        ef[i] = start + weights[i]
        level[i] = lv
    total = max(ef, default=0.0)
    lf = [total] * n
    ls = [0.0] * n
    for i in range(n - 1, -1, -1):
        ls_i = lf[i] - weights[i]
        ls[i] = ls_i
        for p in preds[i]:
            if ls_i < lf[p]:
                lf[p] = ls_i
    return Passes(es, ef, ls, lf, level, total)


_WALK_LIMIT = 10_000.0  # working days; beyond this (or for odd values) let WorkCalendar.add judge each one
_WALK_STARTS = 256  # start dates remembered per calendar
_WALKS_LOCK = threading.Lock()
# calendar -> start -> (date of the k-th working day by k, date by offset as asked)
_WALKS: weakref.WeakKeyDictionary[WorkCalendar, dict[dt.date, tuple[dict[int, dt.date], dict[float, dt.date]]]] = (
    weakref.WeakKeyDictionary()
)


def _dates(cal: WorkCalendar, start: dt.date, offsets: Sequence[float]) -> list[dt.date]:
    """``[cal.add(start, x) for x in offsets]``, walking the calendar at most once per day.

    ``add(start, x)`` is the ceil(x)-th working day after ``start``, so it equals
    ``add(add(start, j), k - j)`` for any known j < k: each new count continues from the nearest
    count already known for this calendar and start (kept, like the calendar's own per-day cache,
    for the calendar's lifetime).  Days are visited in the same order as before, so the same errors
    arise; odd offsets (NaN, infinite, negative, huge) go to ``cal.add`` one by one.
    """
    with _WALKS_LOCK:  # one calendar may be shared by many threads (a web server's workers)
        try:
            walks = _WALKS.get(cal)
            if walks is None:
                walks = _WALKS[cal] = {}
        except TypeError:  # a calendar-like object that cannot be weakly referenced: no memory
            walks = {}
        known = walks.get(start)
        if known is not None:
            try:
                by_offset = known[1]
                return [by_offset[x] for x in offsets]
            except KeyError:
                pass
        if not all(0.0 <= x <= _WALK_LIMIT for x in offsets):
            return [cal.add(start, x) for x in offsets]
        if known is None:
            if len(walks) >= _WALK_STARTS:
                walks.clear()
            known = walks[start] = ({}, {})
        by_count, by_offset = known
        counts = [math.ceil(x - 1e-9) for x in offsets]
        for k in sorted(set(counts).difference(by_count)):
            below = max((j for j in by_count if j < k), default=None)
            by_count[k] = cal.add(start, k) if below is None else cal.add(by_count[below], k - below)
        out = [by_count[k] for k in counts]
        by_offset.update(zip(offsets, out, strict=True))
        return out


@dataclass(frozen=True)
class _Plan:
    """A resolved flow's schedule in one mode before any date: the same for every start date."""

    steps: tuple[ScheduledStep, ...]  # with start = end = None
    offsets: tuple[float, ...]  # elapsed es, ef of each step, then the elapsed and the counted total
    working_days: float
    elapsed_working_days: float
    critical_path: tuple[str, ...]
    stages: tuple[tuple[str, ...], ...]
    completion_steps: tuple[str, ...]


_PLAN_LIMIT = 1024  # resolved flows remembered (each by identity, while it lives)
_PLANS: dict[tuple[int, bool], tuple[weakref.ref[ResolvedFlow], _Plan]] = {}


def _plan(flow: ResolvedFlow, commitment: bool) -> _Plan:
    """The flow's plan, computed once per resolved flow and mode (resolved flows are immutable and
    cached by :func:`flowmatch.flows.resolve`)."""
    key = (id(flow), commitment)
    entry = _PLANS.get(key)
    if entry is not None and entry[0]() is flow:
        return entry[1]
    steps = flow.pre_construction
    index = {s.id: i for i, s in enumerate(steps)}
    preds = [[index[d] for d in s.depends_on if d in index] for s in steps]
    committed = [commitment and s.commitment is not None for s in steps]
    durations = [
        (s.commitment.duration if c and s.commitment is not None else s.duration)
        for s, c in zip(steps, committed, strict=True)
    ]
    counted = critical_path_method(preds, [d if s.counted else 0.0 for s, d in zip(steps, durations, strict=True)])
    elapsed = critical_path_method(preds, durations)
    out = []
    critical = []
    for i, s in enumerate(steps):
        slack = counted.ls[i] - counted.es[i]
        is_critical = abs(slack) < _EPS
        if is_critical:
            critical.append(s.id)
        out.append(
            _step(
                s.id,
                s.name,
                s.item.id,
                s.department,
                durations[i],
                s.counted,
                committed[i],
                counted.level[i],
                counted.es[i],
                counted.ef[i],
                counted.ls[i],
                counted.lf[i],
                max(slack, 0.0),
                is_critical,
                elapsed.es[i],
                elapsed.ef[i],
                None,
                None,
                s.depends_on,
            )
        )
    stage_count = max(counted.level, default=-1) + 1
    stages: list[list[str]] = [[] for _ in range(stage_count)]
    for i, s in enumerate(steps):
        stages[counted.level[i]].append(s.id)
    offsets = [x for i in range(len(steps)) for x in (elapsed.es[i], elapsed.ef[i])]
    plan = _Plan(
        tuple(out),
        (*offsets, elapsed.total, counted.total),
        counted.total,
        elapsed.total,
        tuple(critical),
        tuple(tuple(g) for g in stages),
        tuple(s.id for s in flow.steps.values() if s.completion),
    )
    if len(_PLANS) >= _PLAN_LIMIT:
        _PLANS.clear()
    _PLANS[key] = (weakref.ref(flow), plan)
    return plan


def _step(*values: Any) -> ScheduledStep:
    return ScheduledStep(*values)


def _dated(s: ScheduledStep, begin: dt.date, end: dt.date) -> ScheduledStep:
    """``dataclasses.replace(step, start=begin, end=end)`` at a tenth of its cost."""
    return ScheduledStep(
        s.id,
        s.name,
        s.item,
        s.department,
        s.duration,
        s.counted,
        s.committed,
        s.stage,
        s.es,
        s.ef,
        s.ls,
        s.lf,
        s.slack,
        s.critical,
        s.elapsed_es,
        s.elapsed_ef,
        begin,
        end,
        s.depends_on,
    )


def _check_arguments(flowchart: Any, start: Any, calendar: Any, ruleset: Any) -> None:
    """Wrong kinds of argument are an :class:`InputError` naming what is expected, never an
    ``AttributeError`` deep inside (nor a start that is silently ignored)."""
    if not isinstance(flowchart, (str, ResolvedFlow)):
        raise InputError(f"flowchart must be a flowchart id or a resolved flow, got {type(flowchart).__name__}")
    if start is not None and not isinstance(start, (str, dt.date)):
        raise InputError(f"start must be a date or YYYY-MM-DD text, got {type(start).__name__}")
    if calendar is not None and not isinstance(calendar, WorkCalendar):
        raise InputError(f"calendar must be a WorkCalendar, got {type(calendar).__name__}")
    if ruleset is not None and not isinstance(ruleset, RuleSet):
        raise InputError(f"ruleset must be a RuleSet, got {type(ruleset).__name__}")


def schedule(
    flowchart: str | ResolvedFlow,
    start: dt.date | str | None = None,
    calendar: WorkCalendar | None = None,
    mode: str = "standard",
    *,
    ruleset: RuleSet | None = None,
    variants: Mapping[str, str] | None = None,
    flags: Mapping[str, bool] | None = None,
) -> Schedule:
    """Schedule a flowchart (id or resolved flow) from acceptance day ``start``.

    ``mode``: ``standard``; ``commitment`` (告知承诺-eligible steps shrink to their committed
    duration); ``baseline`` (the rule-set's pre-reform flow, whatever ``flowchart`` says).
    """
    _check_arguments(flowchart, start, calendar, ruleset)
    if mode not in MODES:
        raise InputError(f"unknown mode {mode!r}", allowed=MODES)
    if calendar is not None and not isinstance(calendar, WorkCalendar):
        raise InputError(f"calendar must be a WorkCalendar, got {type(calendar).__name__}")
    cal = calendar if calendar is not None else (WorkCalendar() if start is not None else None)
    if start is not None:
        assert cal is not None
        start = acceptance_day(start, cal)  # the one rule: a working day, or refused with the next one
    if isinstance(flowchart, ResolvedFlow):
        flow = flowchart
        rs = ruleset
    else:
        rs = ruleset or default_ruleset()
        target = "baseline" if mode == "baseline" else flowchart
        flow = resolve(rs, target, variants=variants, flags=flags)
    if mode == "baseline" and isinstance(flowchart, ResolvedFlow):
        if rs is None:
            raise InputError("baseline mode with a resolved flow needs the rule-set")
        flow = resolve(rs, "baseline")
    plan = _plan(flow, mode == "commitment")
    steps = plan.steps
    finish = counted_finish = estimated_from = None
    warnings: tuple[str, ...] = ()
    if cal is not None and isinstance(start, dt.date):
        dates = _dates(cal, start, plan.offsets)
        steps = tuple([_dated(s, dates[2 * i], dates[2 * i + 1]) for i, s in enumerate(plan.steps)])
        finish, counted_finish = dates[-2], dates[-1]
        # every schedule names the estimates its own dates rest on, and the first estimated date
        last = max(dates, default=start)
        warnings = tuple(cal.assumptions(start, last))
        boundary = cal.estimated_from(start)
        if boundary is not None and last >= boundary:
            estimated_from = min(d for d in dates if d >= boundary)
    return Schedule(
        flowchart=flow.id,
        name=flow.flowchart.name,
        mode=mode,
        working_days=plan.working_days,
        elapsed_working_days=plan.elapsed_working_days,
        critical_path=plan.critical_path,
        stages=plan.stages,
        steps=steps,
        completion_steps=plan.completion_steps,
        start=start if isinstance(start, dt.date) else None,
        finish=finish,
        counted_finish=counted_finish,
        warnings=warnings,
        flow=flow,
        estimated_from=estimated_from,
        calendar=cal if isinstance(start, dt.date) else None,
    )


# --- any DAG ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GraphSchedule:
    """Per-step results aligned with ``order`` (a topological order); ``index`` maps id → position."""

    order: tuple[str, ...]
    es: list[float]
    ef: list[float]
    ls: list[float]
    lf: list[float]
    stage: list[int]
    total: float

    @cached_property
    def index(self) -> dict[str, int]:
        return {s: k for k, s in enumerate(self.order)}

    @property
    def slack(self) -> list[float]:
        return [max(b - a, 0.0) for a, b in zip(self.es, self.ls, strict=True)]

    @property
    def critical(self) -> tuple[str, ...]:
        """Zero-slack steps, in topological order."""
        return tuple(s for s, a, b in zip(self.order, self.es, self.ls, strict=True) if abs(b - a) < _EPS)

    @property
    def stages(self) -> tuple[tuple[str, ...], ...]:
        """Topological generations (steps that can run side by side)."""
        out: list[list[str]] = [[] for _ in range(max(self.stage, default=-1) + 1)]
        for s, k in zip(self.order, self.stage, strict=True):
            out[k].append(s)
        return tuple(tuple(g) for g in out)


def schedule_graph(durations: Mapping[str, float], depends_on: Mapping[str, Sequence[str]]) -> GraphSchedule:
    """Schedule any DAG: ``durations`` step → working days, ``depends_on`` step → prerequisites.

    Raises :class:`InputError` for an unknown prerequisite or a cycle.

    One pass maps ids to indices (C-level ``map`` over the prerequisite lists), then Kahn's
    algorithm and the forward pass run together: a step leaves the queue with its start final and
    pushes its finish to its successors.  The backward pass runs over the same order reversed.
    Steps come back in Kahn's order (sources in input order, then each step as its last
    prerequisite is done).  What limits a graph of 100,000 steps is the memory hierarchy, not the
    work: see ``benchmarks/README.md``.
    """
    ids = list(durations)
    n = len(ids)
    get = dict(zip(ids, range(n), strict=True)).__getitem__
    requires = depends_on.get
    try:
        preds = [list(map(get, requires(s, ()))) for s in ids]
    except KeyError as exc:
        raise InputError(f"unknown prerequisite {exc.args[0]!r}") from None
    indegree = list(map(len, preds))
    successors: list[list[int]] = [[] for _ in range(n)]
    for i, ps in enumerate(preds):
        for p in ps:
            successors[p].append(i)
    weights = list(map(float, durations.values()))
    es = [0.0] * n
    ef = [0.0] * n
    level = [0] * n
    order = list(compress(range(n), map(not_, indegree)))
    for i in order:  # Kahn's algorithm (the list is its own queue) and the forward pass
        finish = es[i] + weights[i]
        ef[i] = finish
        next_level = level[i] + 1
        for c in successors[i]:
            if finish > es[c]:
                es[c] = finish
            if next_level > level[c]:
                level[c] = next_level
            left = indegree[c] - 1
            indegree[c] = left
            if not left:
                order.append(c)
    if len(order) != n:
        stuck = next(ids[i] for i in range(n) if indegree[i])
        raise InputError(f"the steps form a cycle (through {stuck!r})")
    ef_out = list(map(ef.__getitem__, order))
    total = max(ef_out, default=0.0)
    lf = [total] * n
    ls = [0.0] * n
    for i in reversed(order):  # the backward pass
        late = lf[i] - weights[i]
        ls[i] = late
        for p in preds[i]:
            if late < lf[p]:
                lf[p] = late
    return GraphSchedule(
        tuple(map(ids.__getitem__, order)),
        list(map(es.__getitem__, order)),
        ef_out,
        list(map(ls.__getitem__, order)),
        list(map(lf.__getitem__, order)),
        list(map(level.__getitem__, order)),
        total,
    )
