"""The warning ladder: 预警 / 超期 / 催办 at the right days, each once, even with concurrent sweeps."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import threading
from collections import Counter

import pytest
from sqlalchemy import func, select

from flowmatch.tracking import CaseStore, open_store
from flowmatch.tracking.schema import Event, TaskWarning

from .conftest import CREDIT, F10

WALK = ("accept", "handle", "review", "approve", "complete")
D = dt.date


def started_case(store: CaseStore, day: str = "2026-03-02") -> str:
    """An F10 case whose land contract is done on ``day``: project (1 wd) and joint survey (3 wd) run."""
    number = store.open_case(F10, applicant="x", credit_code=CREDIT, at=day, by="w").number
    for event in WALK:
        store.record(number, "land_transfer_contract", event, by="申请人", at=day)
    return number


def raised(store: CaseStore, day: dt.date) -> list[tuple[str, str]]:
    return [(w.step, w.level) for w in store.sweep(as_of=day).raised]


def test_the_ladder_day_by_day(store: CaseStore) -> None:
    number = started_case(store)
    due = {t.step: t.due_on for t in store.status(number, as_of=D(2026, 3, 2)).tasks}
    assert due["project"] == D(2026, 3, 3) and due["joint_site_survey"] == D(2026, 3, 5)
    assert raised(store, D(2026, 3, 2)) == [("project", "warning")]  # 1 working day left ≤ 2
    assert raised(store, D(2026, 3, 2)) == []  # idempotent
    assert raised(store, D(2026, 3, 3)) == [("joint_site_survey", "warning")]
    assert raised(store, D(2026, 3, 4)) == [("project", "overdue")]  # 1 working day late < urge_after 2
    assert raised(store, D(2026, 3, 5)) == [("project", "urge")]
    assert raised(store, D(2026, 3, 6)) == [("joint_site_survey", "overdue")]
    assert raised(store, D(2026, 3, 6)) == []
    urge = [e for e in store.history(number) if e["what"] == "urge"]
    assert len(urge) == 1
    assert urge[0]["note"] == "催办：发改委，到期 2026-03-03，已超 2 个工作日；通知 发改委、市政府行政服务中心督查室"
    overdue = store.tasks(as_of=D(2026, 3, 6), overdue=True)
    assert [(r.step, r.overdue_days) for r in overdue] == [("project", 3), ("joint_site_survey", 1)]
    assert store.verify().ok


def test_a_late_first_sweep_raises_every_level_that_applies_once(store: CaseStore) -> None:
    started_case(store)
    result = store.sweep(as_of=D(2026, 3, 9))
    assert sorted((w.step, w.level, w.working_days) for w in result.raised) == [
        ("joint_site_survey", "overdue", 2),
        ("joint_site_survey", "urge", 2),
        ("project", "overdue", 4),
        ("project", "urge", 4),
    ]
    assert store.sweep(as_of=D(2026, 3, 20)).raised == ()


def test_done_and_suspended_tasks_are_not_warned(store: CaseStore) -> None:
    number = started_case(store)
    for event in WALK:
        store.record(number, "project", event, by="发改委", at="2026-03-02")
    store.record(number, "joint_site_survey", "accept", by="中心", at="2026-03-02")
    store.record(number, "joint_site_survey", "suspend", by="中心", at="2026-03-03")
    assert [w for w in raised(store, D(2026, 3, 10)) if w[0] in ("project", "joint_site_survey")] == []


@pytest.mark.parametrize("workers", [4])
def test_concurrent_sweeps_raise_each_warning_once(db_url: str, ruleset: object, workers: int) -> None:
    setup = open_store(db_url, ruleset=ruleset)  # type: ignore[arg-type]
    numbers = [started_case(setup) for _ in range(12)]
    setup.engine.dispose()
    barrier = threading.Barrier(workers)
    results: list[list[tuple[str, str, str]]] = [[] for _ in range(workers)]
    errors: list[BaseException] = []

    def run(k: int) -> None:
        st = open_store(db_url, ruleset=ruleset)  # type: ignore[arg-type]
        try:
            barrier.wait()
            for day in (D(2026, 3, 2), D(2026, 3, 4), D(2026, 3, 9)):
                results[k] += [(w.number, w.step, w.level) for w in st.sweep(as_of=day, by=f"sweeper-{k}").raised]
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            st.engine.dispose()

    threads = [threading.Thread(target=run, args=(k,)) for k in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    everything = Counter(w for r in results for w in r)
    assert all(n == 1 for n in everything.values()), [w for w, n in everything.items() if n > 1]
    # each case: project warning/overdue/urge, joint survey warning/overdue/urge
    assert len(everything) == 6 * len(numbers)
    check = open_store(db_url, ruleset=ruleset)  # type: ignore[arg-type]
    with check.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(TaskWarning)).scalar_one() == len(everything)
        levels = ("warning", "overdue", "urge")
        assert conn.execute(select(func.count()).select_from(Event).where(Event.what.in_(levels))).scalar_one() == len(
            everything
        )
    assert check.verify().ok
    check.engine.dispose()


def test_concurrent_sweep_processes_raise_each_warning_once(db_url: str, ruleset: object) -> None:
    setup = open_store(db_url, ruleset=ruleset)  # type: ignore[arg-type]
    for _ in range(8):
        started_case(setup)
    setup.engine.dispose()
    argv = [sys.executable, "-m", "flowmatch.cli", "case", "sweep", "--db", db_url, "--as-of", "2026-03-09", "--json"]
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    procs = [
        subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) for _ in range(3)
    ]
    outputs = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1] for o in outputs]
    got = Counter((w["number"], w["step"], w["level"]) for out, _ in outputs for w in json.loads(out)["raised"])
    assert len(got) == 8 * 4 and set(got.values()) == {1}
