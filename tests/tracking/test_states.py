"""The transition table and the credit-code check (pure: no database)."""

from __future__ import annotations

import pytest

from flowmatch.errors import InputError, TransitionError
from flowmatch.tracking import EVENTS, STATES, TRANSITIONS, validate_credit_code
from flowmatch.tracking.credit import ALPHABET, check_character
from flowmatch.tracking.states import PREVIOUS, RELEASE, WITHDRAW, allowed, next_state


def test_the_table_walks_the_happy_path_and_both_outcomes() -> None:
    state = "waiting"
    for event in (RELEASE, "accept", "handle", "review", "approve", "complete"):
        state = next_state("C", "s", state, event)
    assert state == "done"
    assert next_state("C", "s", "reviewing", "reject") == "rejected"
    assert next_state("C", "s", "rejected", "complete") == "done"


def test_every_state_is_reachable_and_every_target_is_a_state() -> None:
    targets = {t for t in TRANSITIONS.values() if t != PREVIOUS}
    assert targets <= set(STATES)
    assert set(STATES) - targets == {"waiting"}
    assert {e for _, e in TRANSITIONS} == {*EVENTS, RELEASE, WITHDRAW}


@pytest.mark.parametrize("state", ["accepted", "handling", "reviewing"])
def test_suspend_and_resume_return_to_where_the_task_was(state: str) -> None:
    assert next_state("C", "s", state, "suspend") == "suspended"
    assert next_state("C", "s", "suspended", "resume", suspended_from=state) == state


def test_allowed_events_per_state() -> None:
    assert allowed("ready") == ("accept",)
    assert allowed("reviewing") == ("approve", "reject", "suspend")
    assert allowed("waiting") == ()
    assert allowed("done") == ()
    assert allowed("cancelled") == ()


def test_refusals_name_the_allowed_events() -> None:
    with pytest.raises(TransitionError) as exc:
        next_state("JS2026-000001", "eia", "handling", "approve")
    assert str(exc.value) == (
        "case JS2026-000001 step 'eia' is handling: event 'approve' is not allowed; allowed next: review, suspend"
    )
    with pytest.raises(TransitionError, match=r"allowed next: none: the task is done$"):
        next_state("C", "s", "done", "complete")
    with pytest.raises(InputError, match=r"^unknown event 'go'; allowed: accept, handle, review, approve, reject, "):
        next_state("C", "s", "ready", "go")


def test_credit_codes() -> None:
    assert validate_credit_code(" 91350100m000100y43 ") == "91350100M000100Y43"
    assert check_character("91110000600037341") == "L"  # 91110000600037341L: a published code
    with pytest.raises(InputError, match="contains 'I'; allowed: digits and capitals except I, O, Z, S, V"):
        validate_credit_code("91350100I000100Y43")
    with pytest.raises(InputError, match="has 17 characters; a code has 18"):
        validate_credit_code("91350100M000100Y4")
    with pytest.raises(InputError, match="the last character should be '3'"):
        validate_credit_code("91350100M000100Y4X")
    assert len(ALPHABET) == 31


def test_the_constant_time_working_day_count_agrees_with_the_calendar() -> None:
    import datetime as dt
    import random

    from flowmatch.calendar import WorkCalendar
    from flowmatch.tracking.progress import WorkdayCount

    cal = WorkCalendar()
    count = WorkdayCount(cal)
    rng = random.Random(14)
    days = [dt.date(2024, 1, 1) + dt.timedelta(days=k) for k in range(1096)]  # 2024–2026
    for _ in range(500):
        a, b = rng.choice(days), rng.choice(days)
        assert count.between(a, b) == (cal.between(a, b) if b > a else 0), (a, b)
    assert count.between(dt.date(2026, 2, 12), dt.date(2026, 2, 24)) == 3  # Feb 13, 14 (调休), 24
