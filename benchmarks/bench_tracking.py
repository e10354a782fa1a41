"""Case tracking (issue 14): open 10,000 cases, sweep them (~200,000 tasks), on SQLite and PostgreSQL.

For each database: open ``N`` cases through the library (one transaction each, as the window would:
match, pin the rules, create the tasks, append the audit events), spread over the first 30 working
days of 2026 and over the 33 situations; then sweep on a day when many first-stage tasks are due or late
(first sweep raises the warnings, the repeat raises none: the idempotent path), list one
department's queue, and walk the whole audit chain.  The query plans of the sweep's due-date query
and the department queue are checked with EXPLAIN: they must use ``ix_tasks_state_due`` and
``ix_tasks_department_state``.

PostgreSQL comes from ``FLOWMATCH_TEST_PG_URL`` or a throwaway server (``tests/tracking/pgserver``);
without one its rows say why.  ``python benchmarks/bench_tracking.py [--quick]`` runs it alone.
"""

from __future__ import annotations

import datetime as dt
import itertools
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from timing import Figure

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "tracking"))

import pgserver  # noqa: E402  (tests/tracking/pgserver.py, put on the path above)

SECTION = "tracking"
CREDIT = "91350100M000100Y43"


def _profiles() -> list[dict[str, Any]]:
    """One complete profile per situation (the first complete profile the matcher maps to it)."""
    from flowmatch.checker import check
    from flowmatch.matcher import matcher_for
    from flowmatch.ruleset import default_ruleset

    rs = default_ruleset()
    matcher = matcher_for(rs)
    names = list(rs.attributes)
    found: dict[str, dict[str, Any]] = {}
    for combo in itertools.product(*(list(rs.attributes[a].values) for a in names)):
        profile = dict(zip(names, combo, strict=True))
        result = matcher.match(profile)
        if result.status == "matched" and result.situation not in found:
            found[result.situation or ""] = profile
        if len(found) == len(rs.situations):
            break
    del check
    return [found[s] for s in sorted(found)]


def _explain(conn: Any, sql: str, params: dict[str, Any]) -> str:
    from sqlalchemy import text

    prefix = "EXPLAIN QUERY PLAN " if conn.dialect.name == "sqlite" else "EXPLAIN "
    rows = conn.execute(text(prefix + sql), params).all()
    return "\n".join(" ".join(str(c) for c in r) for r in rows)


SWEEP_SQL = (  # the sweep's candidate query (flowmatch.tracking.sweep), as SQL
    "SELECT tasks.id, cases.number FROM tasks JOIN cases ON cases.id = tasks.case_id "
    "WHERE tasks.state IN ('ready', 'accepted', 'handling', 'reviewing', 'approved', 'rejected') "
    "AND tasks.owner = 'department' AND tasks.due_on IS NOT NULL AND tasks.due_on <= :horizon "
    "ORDER BY tasks.due_on, tasks.id"
)
DEPT_SQL = "SELECT tasks.id FROM tasks WHERE tasks.department = :dept AND tasks.state IN ('ready', 'accepted')"


def _one(label: str, url: str, n: int) -> list[Figure]:
    from sqlalchemy import func, select, text

    from flowmatch.tracking import open_store
    from flowmatch.tracking.schema import Event, Task

    store = open_store(url)
    profiles = _profiles()
    start = dt.date(2026, 1, 5)
    workdays = [store.calendar.add(start, k) for k in range(30)]  # acceptance happens on working days
    t0 = time.perf_counter()
    for k in range(n):
        day = workdays[k % len(workdays)]
        store.open_case(
            profiles[k % len(profiles)],
            applicant=f"企业{k}",
            credit_code=CREDIT,
            at=dt.datetime.combine(day, dt.time(9)),
            by="bench",
        )
    opened = time.perf_counter() - t0
    with store.engine.connect() as conn:
        tasks = conn.execute(select(func.count()).select_from(Task)).scalar_one()
        if conn.dialect.name == "postgresql":
            conn.execute(text("ANALYZE"))
        else:
            conn.execute(text("ANALYZE"))
        conn.commit()
    as_of = dt.date(2026, 2, 27)
    t0 = time.perf_counter()
    first = store.sweep(as_of=as_of)
    swept = time.perf_counter() - t0
    t0 = time.perf_counter()
    again = store.sweep(as_of=as_of)
    swept_again = time.perf_counter() - t0
    t0 = time.perf_counter()
    queue = store.tasks(as_of=as_of, department="ghj")
    listed = time.perf_counter() - t0
    t0 = time.perf_counter()
    report = store.verify()
    verified = time.perf_counter() - t0
    with store.engine.connect() as conn:
        events = conn.execute(select(func.count()).select_from(Event)).scalar_one()
        sweep_plan = _explain(conn, SWEEP_SQL, {"horizon": as_of})
        dept_plan = _explain(conn, DEPT_SQL, {"dept": "ghj"})
    store.engine.dispose()
    sweep_ok = "ix_tasks_state_due" in sweep_plan
    dept_ok = "ix_tasks_department_state" in dept_plan
    return [
        Figure(
            SECTION,
            f"{label}: open {n:,} cases (one transaction each)",
            opened,
            "s",
            target="—",
            note=f"{n / opened:,.0f} cases/s; {tasks:,} tasks created; 33 situations in turn",
        ),
        Figure(
            SECTION,
            f"{label}: sweep {n:,} open cases / {tasks:,} tasks, first",
            swept,
            "s",
            note=f"{first.examined:,} candidate tasks, {len(first.raised):,} warnings raised and audited",
        ),
        Figure(
            SECTION,
            f"{label}: sweep again (nothing new: idempotent)",
            swept_again,
            "s",
            target="0 raised",
            met=len(again.raised) == 0,
            note=f"{len(again.raised)} raised",
        ),
        Figure(
            SECTION, f"{label}: one department's queue (规划局)", listed * 1e3, "ms", note=f"{len(queue):,} open tasks"
        ),
        Figure(SECTION, f"{label}: audit verify ({events:,} events)", verified, "s", target="intact", met=report.ok),
        Figure(
            SECTION,
            f"{label}: due-date query plan uses ix_tasks_state_due",
            1.0 if sweep_ok else 0.0,
            "ok",
            target="index",
            met=sweep_ok,
            extra={"appendix": f"```\n{sweep_plan}\n```"},
        ),
        Figure(
            SECTION,
            f"{label}: department query plan uses ix_tasks_department_state",
            1.0 if dept_ok else 0.0,
            "ok",
            target="index",
            met=dept_ok,
            extra={"appendix": f"```\n{dept_plan}\n```"},
        ),
    ]


def run(quick: bool = False) -> list[Figure]:
    n = 1_000 if quick else 10_000
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory() as tmp:
        figures += _one("SQLite", f"sqlite:///{tmp}/bench.sqlite", n)
    server = pgserver.start()
    if isinstance(server, str):
        figures.append(Figure(SECTION, "PostgreSQL", None, "", note=f"not run: {server}"))
        return figures
    try:
        url = pgserver.create_database(server.url)
        try:
            figures += _one("PostgreSQL", url, n)
        finally:
            pgserver.drop_database(server.url, url)
    finally:
        server.stop()
    return figures


if __name__ == "__main__":
    from timing import fmt

    for f in run(quick="--quick" in sys.argv):
        print(
            f"{f.figure}: {fmt(f.value, f.unit)}  {'' if f.met is None else ('met' if f.met else 'NOT MET')}  {f.note}"
        )
        if f.extra.get("appendix"):
            print(f.extra["appendix"])
