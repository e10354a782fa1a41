"""Cases end to end on both databases: open, walk every task, parallel start, due dates by hand count."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from flowmatch.calendar import WorkCalendar
from flowmatch.catalogue import ruleset_path
from flowmatch.cli import main
from flowmatch.errors import InputError, TrackingError, TransitionError
from flowmatch.flows import for_situation
from flowmatch.ruleset import RuleSet, default_rules_path, load_ruleset
from flowmatch.scheduler import schedule
from flowmatch.tracking import CaseStore, open_store

from .conftest import CREDIT, F10

WALK = ("accept", "handle", "review", "approve", "complete")
D = dt.date


def open_f10(store: CaseStore, at: str = "2026-02-10T09:00", **kw: object) -> str:
    opened = store.open_case(F10, applicant="哈东置业有限公司", credit_code=CREDIT, at=at, by="窗口01", **kw)  # type: ignore[arg-type]
    return opened.number


def walk(store: CaseStore, number: str, day: dt.date) -> dict[str, tuple[str, ...]]:
    """Complete every ready task, wave by wave, one calendar day per wave; returns releases by step."""
    released: dict[str, tuple[str, ...]] = {}
    for _ in range(100):
        status = store.status(number, as_of=day)
        if status.state != "open":
            return released
        ready = status.ready
        assert ready, "an open case always has a ready task"
        for step in ready:
            for event in WALK:
                rec = store.record(number, step, event, by="承办人", at=dt.datetime.combine(day, dt.time(10)))
            released[step] = rec.released
        day += dt.timedelta(days=1)
    raise AssertionError("the walk did not finish")


def test_f10_walks_through_every_task_by_library(store: CaseStore, ruleset: RuleSet) -> None:
    number = open_f10(store)
    flow = for_situation(ruleset, "S10", profile=F10)
    expected_steps = [s.id for s in flow.steps.values() if not s.completion]
    opened = store.status(number, as_of=D(2026, 2, 10))
    assert [t.step for t in opened.tasks] == expected_steps
    assert opened.ready == ("land_transfer_contract",)
    assert opened.tasks[0].owner == "applicant" and opened.tasks[0].department_name == "申请人"
    design = {t.step: t for t in opened.tasks}["design_review"]
    assert design.members == ("ghj", "xf", "rfb", "ylj", "jgj")  # the 5-department joint review
    assert design.to_dict()["members"] == list(design.members)

    released = walk(store, number, D(2026, 3, 2))
    final = store.status(number, as_of=D(2026, 6, 1))
    assert final.state == "done"
    assert all(t.state == "done" for t in final.tasks)
    assert final.closed_on is not None
    # parallel start: every task became ready the day its last prerequisite was done, together
    by_step = {t.step: t for t in final.tasks}
    for t in final.tasks:
        if t.depends_on:
            assert t.started_on == max(by_step[d].finished_on for d in t.depends_on)  # type: ignore[type-var]
    assert set(released["land_transfer_contract"]) == {
        s.id for s in flow.steps.values() if s.depends_on == ("land_transfer_contract",)
    }
    history = store.history(number)
    assert [e["what"] for e in history][:2] == ["open", "release"]
    assert history[-1]["what"] == "close" and history[-1]["to"] == "done"
    assert store.verify().ok


def test_parallel_tasks_become_ready_at_the_same_moment(store: CaseStore) -> None:
    number = open_f10(store)
    for event in WALK:
        rec = store.record(number, "land_transfer_contract", event, by="申请人", at="2026-02-12T15:30")
    assert rec.released == ("project", "joint_site_survey", "topographic_survey", "geotechnical_survey")
    status = store.status(number, as_of=D(2026, 2, 12))
    ready = {t.step: t for t in status.tasks if t.state == "ready"}
    assert set(ready) == set(rec.released)
    assert {t.started_on for t in ready.values()} == {D(2026, 2, 12)}
    events = [e for e in store.history(number) if e["what"] == "release" and e["step"] in ready]
    assert {e["at"] for e in events} == {"2026-02-12 15:30:00"}
    # every ready task shows up in its own department's queue
    for t in ready.values():
        dept = "applicant" if t.owner == "applicant" else t.department
        queue = store.tasks(as_of=D(2026, 2, 12), department=dept)
        assert (number, t.step) in {(r.number, r.step) for r in queue}


def test_due_dates_match_a_hand_count_across_spring_festival(store: CaseStore) -> None:
    number = open_f10(store)
    for event in WALK:
        store.record(number, "land_transfer_contract", event, by="申请人", at="2026-02-12T09:00")
    due = {t.step: t.due_on for t in store.status(number, as_of=D(2026, 2, 12)).tasks}
    # day 0 Thu Feb 12; 1 = Fri Feb 13; 2 = Sat Feb 14 (调休 make-up day); Feb 15–23 Spring Festival;
    # 3 = Tue Feb 24; 4 = Wed Feb 25 ...
    assert due["project"] == D(2026, 2, 13)  # 1 working day
    assert due["joint_site_survey"] == D(2026, 2, 24)  # 3 working days
    assert due["topographic_survey"] is None  # not counted: the applicant's (surveyor's) own time


def test_due_dates_match_a_hand_count_across_national_day(store: CaseStore) -> None:
    number = open_f10(store, at="2026-09-17T09:00")
    for event in WALK:
        store.record(number, "land_transfer_contract", event, by="申请人", at="2026-09-18T09:00")
    for event in WALK:
        store.record(number, "project", event, by="发改委", at="2026-09-18T11:00")
    for event in WALK:
        store.record(number, "joint_site_survey", event, by="服务中心", at="2026-09-18T16:00")
    status = store.status(number, as_of=D(2026, 9, 18))
    due = {t.step: t.due_on for t in status.tasks}
    # day 0 Fri Sep 18; 1 Sun Sep 20 (make-up); 2 Mon 21; 3 Tue 22; 4 Wed 23; 5 Thu 24; Sep 25–27 Mid-Autumn;
    # 6 Mon 28; 7 Tue 29; 8 Wed 30; Oct 1–7 National Day; 9 Thu Oct 8; 10 Fri Oct 9; 11 Sat Oct 10 (make-up)
    duration = {t.step: t.duration for t in status.tasks}
    assert (duration["soil_water_conservation"], duration["eia"], duration["geohazard_assessment"]) == (10, 5, 3)
    assert due["soil_water_conservation"] == D(2026, 10, 9)  # 10 working days: across both holidays
    assert due["eia"] == due["land_use_permit"] == D(2026, 9, 24)  # 5 working days, Sunday Sep 20 counted
    assert due["geohazard_assessment"] == D(2026, 9, 22)  # 3 working days
    assert due["development_manual"] == D(2026, 9, 21)  # 2 working days


def test_suspension_shifts_the_due_date_by_exactly_the_suspended_working_days(store: CaseStore) -> None:
    number = open_f10(store, at="2026-02-02T09:00")
    for event in WALK:
        store.record(number, "land_transfer_contract", event, by="申请人", at="2026-02-03T09:00")
    store.record(number, "joint_site_survey", "accept", by="中心", at="2026-02-03T10:00")
    before = {t.step: t for t in store.status(number, as_of=D(2026, 2, 3)).tasks}["joint_site_survey"]
    assert before.due_on == D(2026, 2, 6)  # Tue Feb 3 + 3 working days
    store.record(number, "joint_site_survey", "suspend", by="中心", at="2026-02-05T09:00", note="补正材料")
    suspended = {t.step: t for t in store.status(number, as_of=D(2026, 2, 26)).tasks}["joint_site_survey"]
    assert suspended.state == "suspended" and not suspended.overdue
    rec = store.record(number, "joint_site_survey", "resume", by="中心", at="2026-02-25T09:00")
    assert rec.to_state == "accepted"
    # suspended Thu Feb 5 → resumed Wed Feb 25: Feb 6, 9, 10, 11, 12, 13, 14 (Sat, make-up), 24, 25 = 9
    after = {t.step: t for t in store.status(number, as_of=D(2026, 2, 25)).tasks}["joint_site_survey"]
    assert after.suspended_days == 9
    # old due Fri Feb 6 + 9 working days: Feb 9, 10, 11, 12, 13, 14 (make-up), 24, 25, 26
    assert after.due_on == store.calendar.add(before.due_on, 9) == D(2026, 2, 26)  # type: ignore[arg-type]
    assert store.calendar.between(before.due_on, after.due_on) == 9  # type: ignore[arg-type]


def test_illegal_event_is_refused_with_the_allowed_ones(store: CaseStore) -> None:
    number = open_f10(store)
    with pytest.raises(TransitionError) as exc:
        store.record(number, "land_transfer_contract", "approve", by="x", at="2026-02-10T10:00")
    assert exc.value.allowed == ("accept",)
    assert str(exc.value) == (
        f"case {number} step 'land_transfer_contract' is ready: event 'approve' is not allowed; allowed next: accept"
    )
    with pytest.raises(TransitionError, match="allowed next: none until every prerequisite is done"):
        store.record(number, "project", "accept", by="x", at="2026-02-10T10:00")
    with pytest.raises(InputError, match="unknown event 'finish'; allowed: accept, handle"):
        store.record(number, "project", "finish", by="x", at="2026-02-10T10:00")
    with pytest.raises(InputError, match="has no step 'nope'; allowed: land_transfer_contract, project"):
        store.record(number, "nope", "accept", by="x", at="2026-02-10T10:00")
    with pytest.raises(InputError, match="no case numbered 'JS2026-999999'"):
        store.status("JS2026-999999", as_of=D(2026, 2, 10))
    store.record(number, "land_transfer_contract", "accept", by="x", at="2026-02-10T10:00")
    with pytest.raises(InputError, match="is before step 'land_transfer_contract' became ready"):
        store.record(number, "land_transfer_contract", "handle", by="x", at="2026-02-09T10:00")


def test_a_rejected_task_closes_the_case(store: CaseStore) -> None:
    number = open_f10(store)
    for event in WALK:
        store.record(number, "land_transfer_contract", event, by="申请人", at="2026-03-02")
    for event in ("accept", "handle", "review", "reject"):
        store.record(number, "project", event, by="发改委", at="2026-03-03")
    rec = store.record(number, "project", "complete", by="发改委", at="2026-03-03", note="不符合产业政策")
    assert rec.case_state == "rejected" and rec.released == ()
    with pytest.raises(TrackingError, match="is closed \\(rejected\\)"):
        store.record(number, "joint_site_survey", "accept", by="x", at="2026-03-04")
    # the closed case's other tasks are withdrawn: they leave the queues and are never warned
    status = store.status(number, as_of=D(2026, 3, 4))
    assert {t.state for t in status.tasks} == {"done", "cancelled"}
    assert {t.step: t.state for t in status.tasks}["project"] == "done"
    assert not any(t.overdue for t in store.status(number, as_of=D(2026, 4, 1)).tasks if t.state == "cancelled")
    withdrawn = [e for e in store.history(number) if e["what"] == "withdraw"]
    assert len(withdrawn) == sum(1 for t in status.tasks if t.state == "cancelled")
    assert store.verify().ok
    assert [r for r in store.tasks(as_of=D(2026, 3, 20)) if r.number == number] == []
    assert store.sweep(as_of=D(2026, 3, 20)).raised == ()


def test_open_checks_its_input(store: CaseStore) -> None:
    with pytest.raises(InputError, match="fails the GB 32100-2015 check: the last character should be '3'"):
        store.open_case(F10, applicant="x", credit_code="91350100M000100Y44", at="2026-03-02", by="w")
    with pytest.raises(InputError, match="the profile is incomplete; still needed: building_use"):
        store.open_case(
            {k: v for k, v in F10.items() if k != "building_use"},
            applicant="x",
            credit_code=CREDIT,
            at="2026-03-02",
            by="w",
        )
    first = open_f10(store, at="2026-03-02")
    second = open_f10(store, at="2026-03-02")
    assert (first, second) == ("JS2026-000001", "JS2026-000002")


def test_projected_finish_follows_actual_progress(store: CaseStore, ruleset: RuleSet) -> None:
    number = open_f10(store, at="2026-03-02T09:00")
    plan = schedule(for_situation(ruleset, "S10", profile=F10), D(2026, 3, 2), store.calendar, ruleset=ruleset)
    at_open = store.status(number, as_of=D(2026, 3, 2))
    assert at_open.promised_finish == at_open.projected_finish == plan.finish
    # the applicant's 20-day land contract takes 5 working days longer than planned: the finish moves by 5
    late = store.calendar.add(D(2026, 3, 2), 25)
    for event in WALK:
        store.record(number, "land_transfer_contract", event, by="申请人", at=late)
    moved = store.status(number, as_of=late)
    assert moved.projected_finish == store.calendar.add(plan.finish, 5)  # type: ignore[arg-type]
    assert moved.critical_path[0] == "land_transfer_contract"
    assert moved.critical_path[-1] == "construction_permit"


def test_query_code_is_stored_hashed_and_checked(store: CaseStore) -> None:
    opened = store.open_case(F10, applicant="x", credit_code=CREDIT, at="2026-03-02", by="w")
    assert (
        store.status(opened.number, as_of=D(2026, 3, 2), query_code=opened.query_code.lower()).number == opened.number
    )
    for number, code in ((opened.number, "WRONGCODE2"), ("JS2026-000099", opened.query_code)):
        with pytest.raises(InputError, match=r"^no case with this 受理编号 and query code$"):
            store.status(number, as_of=D(2026, 3, 2), query_code=code)
    with store.engine.connect() as conn:
        dump = " ".join(str(v) for v in conn.execute(text("SELECT * FROM cases")).one())
    assert opened.query_code not in dump


def test_the_case_keeps_its_pinned_rules_when_the_rules_move_on(db_url: str, rules_copy: Path) -> None:
    before = load_ruleset(rules_copy, cache=False)
    store = open_store(db_url, ruleset=before)
    number = open_f10(store, at="2026-03-02")
    assert not store.status(number, as_of=D(2026, 3, 2)).rules_moved_on
    items = rules_copy / "items.yaml"
    items.write_text(items.read_text(encoding="utf-8").replace("promised: 5\n", "promised: 4\n", 1), encoding="utf-8")
    after = open_store(db_url, ruleset=load_ruleset(rules_copy, cache=False))
    status = after.status(number, as_of=D(2026, 3, 2))
    assert status.rules_moved_on
    assert status.ruleset_digest == store.status(number, as_of=D(2026, 3, 2)).ruleset_digest
    durations_then = [t.duration for t in store.status(number, as_of=D(2026, 3, 2)).tasks]
    assert [t.duration for t in status.tasks] == durations_then
    store.engine.dispose()
    after.engine.dispose()


def test_commitment_mode_shortens_eligible_tasks(store: CaseStore, ruleset: RuleSet) -> None:
    standard = store.status(open_f10(store, at="2026-03-02"), as_of=D(2026, 3, 2))
    committed = store.status(open_f10(store, at="2026-03-02", commitment=True), as_of=D(2026, 3, 2))
    assert committed.commitment and not standard.commitment
    assert committed.promised_finish <= standard.promised_finish
    flow = for_situation(ruleset, "S10", profile=F10)
    for t in committed.tasks:
        step = flow.steps[t.step]
        assert t.duration == (step.commitment.duration if step.commitment else step.duration)


# --- the command line -----------------------------------------------------------------------------
def cli(db_url: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, [*args, "--db", db_url], catch_exceptions=False)
    return result.exit_code, result.stdout if "--json" in args else result.output


def test_f10_walks_through_every_task_by_the_cli(db_url: str) -> None:
    pairs = [f"{k}={v}" for k, v in F10.items()]
    code, out = cli(
        db_url,
        "case",
        "open",
        *pairs,
        "--applicant",
        "哈东置业",
        "--credit-code",
        CREDIT,
        "--by",
        "w1",
        "--at",
        "2026-03-02T09:00",
        "--project-name",
        "哈东华府二期",
        "--json",
    )
    assert code == 0, out
    opened = json.loads(out)
    number = opened["number"]
    assert opened["ready"] == ["land_transfer_contract"] and len(opened["query_code"]) == 10
    day = dt.date(2026, 3, 2)
    for _ in range(60):
        code, out = cli(db_url, "case", "status", number, "--as-of", day.isoformat(), "--json")
        assert code == 0, out
        status = json.loads(out)
        if status["state"] == "done":
            break
        for step in status["ready"]:
            for event in WALK:
                code, out = cli(
                    db_url, "case", "record", number, step, event, "--by", "承办人", "--at", f"{day.isoformat()}T10:00"
                )
                assert code == 0, out
        day += dt.timedelta(days=1)
    assert status["state"] == "done"
    assert {t["state"] for t in status["tasks"]} == {"done"}
    code, out = cli(db_url, "case", "status", number, "--as-of", day.isoformat())
    assert code == 0 and "✔construction_permit" in out and "阶段 1" in out
    code, out = cli(db_url, "audit", "verify")
    assert code == 0 and out.startswith("OK: ")
    code, out = cli(db_url, "case", "stats", "--json")
    assert code == 0 and json.loads(out)["cases"] == 1


def test_cli_exit_codes(db_url: str) -> None:
    pairs = [f"{k}={v}" for k, v in F10.items()]
    code, out = cli(db_url, "case", "open", *pairs, "--applicant", "x", "--credit-code", "123", "--by", "w")
    assert code == 2 and "has 3 characters; a code has 18" in out
    code, out = cli(
        db_url, "case", "open", *pairs, "--applicant", "x", "--credit-code", CREDIT, "--by", "w", "--at", "2026-03-02"
    )
    assert code == 0 and "JS2026-000001" in out
    code, out = cli(
        db_url,
        "case",
        "record",
        "JS2026-000001",
        "land_transfer_contract",
        "complete",
        "--by",
        "x",
        "--at",
        "2026-03-02",
    )
    assert code == 1
    assert "event 'complete' is not allowed; allowed next: accept" in out
    code, out = cli(db_url, "case", "record", "JS2026-000001", "land_transfer_contract", "teleport", "--by", "x")
    assert code == 2 and "allowed: accept, handle, review, approve, reject, complete, suspend, resume" in out
    code, out = cli(db_url, "case", "list", "--state", "lost")
    assert code == 2 and "unknown state 'lost'" in out
    code, out = cli(db_url, "case", "list", "--as-of", "2026-03-02", "--department", "applicant", "--json")
    assert code == 0 and [r["step"] for r in json.loads(out)] == ["land_transfer_contract"]
    code, out = cli(db_url, "case", "status", "JS2026-000001", "--as-of", "2026-03-02", "--code", "BADBADBAD2")
    assert code == 2 and "no case with this 受理编号 and query code" in out


def test_cli_sweep_exit_code_reports_raised_warnings(db_url: str) -> None:
    """``--exit-code``: 1 when the sweep raised a warning, 0 when it raised none; without it, 0."""
    pairs = [f"{k}={v}" for k, v in F10.items()]
    code, out = cli(
        db_url, "case", "open", *pairs, "--applicant", "x", "--credit-code", CREDIT, "--by", "w", "--at", "2026-03-02"
    )
    assert code == 0, out
    for event in WALK:  # the applicant's own first step; the government tasks it releases get due dates
        code, out = cli(
            db_url,
            "case",
            "record",
            "JS2026-000001",
            "land_transfer_contract",
            event,
            "--by",
            "w",
            "--at",
            "2026-03-02",
        )
        assert code == 0, out
    code, out = cli(db_url, "case", "sweep", "--as-of", "2026-06-01", "--exit-code", "--json")
    raised = json.loads(out)["raised"]
    assert code == 1 and raised and {w["level"] for w in raised} >= {"overdue"}
    # the same day again: each warning is raised once, so nothing new and exit 0
    code, out = cli(db_url, "case", "sweep", "--as-of", "2026-06-01", "--exit-code")
    assert code == 0 and "raised 0 warnings" in out
    code, out = cli(db_url, "case", "sweep", "--as-of", "2026-06-02")
    assert code == 0


def test_default_database_is_a_per_user_sqlite_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FLOWMATCH_DB", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    pairs = [f"{k}={v}" for k, v in F10.items()]
    result = CliRunner().invoke(
        main, ["case", "open", *pairs, "--applicant", "x", "--credit-code", CREDIT, "--by", "w", "--at", "2026-03-02"]
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "data" / "flowmatch" / "cases.sqlite").is_file()
    monkeypatch.setenv("FLOWMATCH_DB", str(tmp_path / "elsewhere.db"))
    result = CliRunner().invoke(main, ["audit", "verify", "--json"])
    assert result.exit_code == 0 and json.loads(result.output)["events"] == 0


def test_calendar_past_the_official_data_is_marked_estimated(store: CaseStore) -> None:
    assert isinstance(store.calendar, WorkCalendar) and store.calendar.policy == "estimate"
    number = open_f10(store, at="2026-12-01T09:00")
    status = store.status(number, as_of=D(2026, 12, 1))
    assert any("2027" in w for w in status.warnings)
    assert status.tasks[-1].estimated and not status.tasks[0].estimated
    assert status.tasks[-1].to_dict()["estimated"] is True


def test_cli_calendar_options_reach_the_store(db_url: str) -> None:
    pairs = [f"{k}={v}" for k, v in F10.items()]
    code, out = cli(
        db_url,
        "case",
        "open",
        *pairs,
        "--applicant",
        "x",
        "--credit-code",
        CREDIT,
        "--by",
        "w",
        "--at",
        "2026-12-01",
        "--strict-calendar",
    )
    assert code == 1 and "2027" in out  # no published notice for 2027: refused, not estimated
    code, out = cli(
        db_url,
        "case",
        "open",
        *pairs,
        "--applicant",
        "x",
        "--credit-code",
        CREDIT,
        "--by",
        "w",
        "--at",
        "2026-12-01",
        "--json",
    )
    assert code == 0 and any("2027" in w for w in json.loads(out)["warnings"])


def test_packaged_rules_path_is_used_by_default(tmp_path: Path) -> None:
    target = tmp_path / "r"
    shutil.copytree(default_rules_path(), target)
    assert load_ruleset(target, cache=False).manifest.tracking.warn_before == 2


def test_a_case_is_accepted_on_a_working_day(store: CaseStore) -> None:
    # Sunday 2026-03-01 is not a working day: refused, naming the next one (Monday)
    with pytest.raises(InputError, match="2026-03-02"):
        open_f10(store, at="2026-03-01T10:00")
    # Saturday 2026-02-14 is a make-up working day (调休): accepted
    assert store.status(open_f10(store, at="2026-02-14T10:00"), as_of=D(2026, 2, 14)).opened_on == D(2026, 2, 14)


def test_a_case_is_judged_against_its_own_rule_set(db_url: str) -> None:
    """A case opened under harbin-2019 is not "moved on" when the store's default is harbin-2014."""
    opened = open_store(db_url, ruleset=load_ruleset(ruleset_path("harbin-2019")))
    number = open_f10(opened, at="2026-03-02")
    default = open_store(db_url)
    status = default.status(number, as_of=D(2026, 3, 2))
    assert status.ruleset_id.startswith("harbin-2019@") and not status.rules_moved_on
    assert status.flowchart_name == load_ruleset(ruleset_path("harbin-2019")).flowcharts[status.flowchart].name
    opened.engine.dispose()
    default.engine.dispose()


def test_concurrent_completions_release_the_joint_successor_exactly_once(db_url: str, ruleset: RuleSet) -> None:
    """The last two prerequisites of the design review finish at the same moment, in two sessions."""
    import threading

    setup = open_store(db_url, ruleset=ruleset)
    number = open_f10(setup, at="2026-03-02")
    for step in ("land_transfer_contract", "project"):
        for event in WALK:
            setup.record(number, step, event, by="x", at="2026-03-03")
    for step in ("joint_site_survey", "topographic_survey"):
        for event in WALK[:-1]:
            setup.record(number, step, event, by="x", at="2026-03-04")
    setup.engine.dispose()
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def finish(step: str) -> None:
        st = open_store(db_url, ruleset=ruleset)
        try:
            barrier.wait()
            st.record(number, step, "complete", by=step, at="2026-03-05T10:00")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            st.engine.dispose()

    threads = [threading.Thread(target=finish, args=(s,)) for s in ("joint_site_survey", "topographic_survey")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    check = open_store(db_url, ruleset=ruleset)
    released = [e for e in check.history(number) if e["what"] == "release" and e["step"] == "design_review"]
    assert len(released) == 1
    assert {t.step: t.state for t in check.status(number, as_of=D(2026, 3, 5)).tasks}["design_review"] == "ready"
    assert check.verify().ok
    check.engine.dispose()
