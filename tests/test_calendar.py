from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from flowmatch.calendar import WorkCalendar, acceptance_day, load_overrides, next_workday
from flowmatch.errors import CalendarError, InputError, RuleSetError

D = dt.date


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return WorkCalendar()


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (D(2014, 9, 26), 5, D(2014, 10, 9)),  # Sunday 9/28 was a make-up working day (BRIEF §6.1)
        (D(2014, 9, 26), 20, D(2014, 10, 29)),
        (D(2014, 1, 27), 10, D(2014, 2, 14)),  # Spring Festival 1/31–2/6, make-up 1/26 and 2/8
        (D(2014, 9, 30), 1, D(2014, 10, 8)),
        (D(2026, 9, 30), 0, D(2026, 9, 30)),  # day 0 is the acceptance day itself
        (D(2026, 12, 25), 3, D(2026, 12, 30)),
    ],
)
def test_hand_checked_examples(cal: WorkCalendar, start: dt.date, days: int, expected: dt.date) -> None:
    assert cal.add(start, days) == expected


def test_2014_has_250_working_days(cal: WorkCalendar) -> None:
    assert cal.between(D(2013, 12, 31), D(2014, 12, 31)) == 250


def test_2025_has_248_working_days(cal: WorkCalendar) -> None:
    assert cal.between(D(2024, 12, 31), D(2025, 12, 31)) == 248


def test_agrees_with_holidays_package_2014_to_2026(cal: WorkCalendar) -> None:
    holidays = pytest.importorskip("holidays")
    other = holidays.country_holidays("CN", years=range(2014, 2027))
    day = D(2014, 1, 1)
    mismatches = []
    while day <= D(2026, 12, 31):
        if cal.is_workday(day) != other.is_working_day(day):
            mismatches.append(day)
        day += dt.timedelta(days=1)
    assert mismatches == []


def test_2027_with_a_strict_calendar_is_a_clear_error() -> None:
    with pytest.raises(CalendarError) as err:
        WorkCalendar(strict=True).add(D(2026, 12, 28), 10)
    message = str(err.value)
    assert message.startswith(
        "no official working-day data for 2027 (known: 2004–2026); supply the State Council "
        "holiday notice for 2027 with --calendar FILE"
    )
    assert "--strict-calendar" in message


def test_assume_weekends_warns_and_names_the_assumption() -> None:
    cal = WorkCalendar(assume_weekends=True)
    assert cal.add(D(2026, 12, 31), 1) == D(2027, 1, 1)  # Friday, assumed a working day
    assert cal.assumptions(D(2026, 12, 31), D(2027, 1, 1)) == [
        "2027年无官方节假日数据，已按周一至周五为工作日估算（--assume-weekends）；"
        "no holiday data for 2027: assumed Mon–Fri working days"
    ]


def test_override_supplies_2027(tmp_path: Path) -> None:
    path = tmp_path / "2027.yaml"
    path.write_text("years: [2027]\nholidays: [2027-01-01]\nworkdays: [2027-01-03]\n", encoding="utf-8")
    cal = load_overrides(path)
    assert not cal.is_workday(D(2027, 1, 1))
    assert cal.is_workday(D(2027, 1, 3))  # a Sunday made a working day
    assert cal.add(D(2026, 12, 31), 2) == D(2027, 1, 4)
    assert cal.assumptions(D(2026, 12, 31), D(2027, 1, 4)) == []
    assert cal.estimated_from(D(2026, 12, 31)) == D(2028, 1, 1)


def test_override_errors_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("years: [2027]\nholiday: [2027-01-01]\n", encoding="utf-8")
    with pytest.raises(
        RuleSetError, match=r"bad\.yaml:2:1: holiday: unknown key 'holiday'; allowed: years, holidays, workdays, source"
    ):
        load_overrides(path)
    path.write_text("years: [2027]\nholidays: [not-a-date]\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"holidays\[0\]: 'not-a-date' is not a date; allowed: YYYY-MM-DD"):
        load_overrides(path)


def test_2027_is_estimated_from_the_statutory_holidays(cal: WorkCalendar) -> None:
    """No make-up days; the statutory days off and a weekday 补休 for each that falls on a weekend."""
    assert cal.covers(2026) and not cal.covers(2027)
    assert not cal.is_workday(D(2027, 1, 1))  # New Year, a Friday
    assert not cal.is_workday(D(2027, 2, 5))  # 除夕 (Spring Festival 2027 is 6 February)
    assert not cal.is_workday(D(2027, 2, 8))  # 初三
    assert not cal.is_workday(D(2027, 10, 1))  # National Day
    assert cal.is_workday(D(2027, 1, 4))
    assert not cal.is_workday(D(2027, 2, 7))  # a Sunday stays off: no make-up days are guessed
    assert cal.estimated_from(D(2026, 12, 14)) == D(2027, 1, 1)
    assert cal.estimated_from(D(2026, 3, 2)) == D(2027, 1, 1)
    assert cal.estimated_from(D(2027, 3, 1)) == D(2027, 3, 1)
    # hand count from Monday 2026-12-28: 29, 30, 31 Dec, (1 Jan off), 4, 5 Jan
    assert cal.add(D(2026, 12, 28), 5) == D(2027, 1, 5)
    assert cal.assumptions(D(2026, 12, 28), D(2027, 1, 5)) == [
        "2027年节假日安排尚未公布，相关日期为预计（按法定节假日推算，未计调休），以届时公布为准；the 2027 holiday "
        "arrangements are not yet published: dates are estimated from the statutory holidays, without make-up "
        "working days"
    ]


@pytest.mark.parametrize("year", [2015, 2019, 2023, 2024, 2025, 2026])
def test_the_estimate_rule_reproduces_published_years_but_for_the_swaps(year: int) -> None:
    """Cross-check of the estimate on years whose notice is known: the estimated weekday days off
    are all official ones, and the official ones it misses are exactly the 调休 swaps (one weekday
    off for each weekend make-up working day)."""
    from flowmatch.calendar import _official, statutory_holidays

    official_off, official_on, _, _ = _official()
    estimated = {d for d in statutory_holidays(year) if d.weekday() < 5}
    official = {d for d in official_off if d.year == year and d.weekday() < 5}
    assert estimated <= official
    assert len(official - estimated) == len({d for d in official_on if d.year == year})


def test_between_counts_arithmetically_and_agrees_with_the_walk(cal: WorkCalendar) -> None:
    start = D(2025, 12, 1)
    for span in (0, 1, 6, 45, 200, 400, 700):
        end = start + dt.timedelta(days=span)
        walked = sum(cal.is_workday(start + dt.timedelta(days=k)) for k in range(1, span + 1))
        assert cal.between(start, end) == walked
    # a huge range is counted, not walked (it used to take minutes)
    assert WorkCalendar(assume_weekends=True).between(D(1, 1, 1), D(9999, 12, 31)) > 2_500_000


def test_a_calendar_shared_by_threads_gives_the_same_dates() -> None:
    from concurrent.futures import ThreadPoolExecutor

    from flowmatch.scheduler import schedule

    shared = WorkCalendar()
    starts = [next_workday(D(2026, 1, 5) + dt.timedelta(days=k), shared) for k in range(0, 360, 3)]
    expected = [schedule("F10", s, WorkCalendar()).finish for s in starts]
    with ThreadPoolExecutor(8) as pool:
        got = list(pool.map(lambda s: schedule("F10", s, shared).finish, starts))
    assert got == expected


@pytest.mark.parametrize(("start", "suggested"), [("2026-03-01", "2026-03-02"), ("2026-10-01", "2026-10-08")])
def test_a_start_on_a_day_off_is_refused_with_the_next_working_day(start: str, suggested: str) -> None:
    with pytest.raises(InputError, match=f"is not a working day.*next working day: {suggested}"):
        acceptance_day(start, WorkCalendar())
    from flowmatch.scheduler import schedule

    with pytest.raises(InputError, match=f"next working day: {suggested}"):
        schedule("F10", start)


def test_the_default_acceptance_day_is_the_first_working_day_from_today(cal: WorkCalendar) -> None:
    assert acceptance_day(None, cal, today=D(2026, 12, 2)) == D(2026, 12, 2)  # a Wednesday
    assert acceptance_day(None, cal, today=D(2026, 12, 5)) == D(2026, 12, 7)  # Saturday → Monday
    assert acceptance_day(None, cal, today=D(2026, 9, 30)) == D(2026, 9, 30)
    assert acceptance_day(None, cal, today=D(2026, 10, 1)) == D(2026, 10, 8)


def test_the_shipped_example_override_is_applied_day_by_day() -> None:
    """The example file's days off and make-up days replace the estimate, and nothing it covers is
    marked as an estimate any more."""
    from flowmatch.calendar import EXAMPLE

    example = load_overrides(EXAMPLE)
    assert example.covers(2027) and example.estimated_from(D(2027, 1, 4)) == D(2028, 1, 1)
    assert example.assumptions(D(2026, 12, 28), D(2027, 12, 31)) == []
    assert example.is_workday(D(2027, 2, 20))  # a Saturday made a working day
    assert not example.is_workday(D(2027, 2, 11))  # a Thursday given off
    assert WorkCalendar().is_workday(D(2027, 2, 11)) and not WorkCalendar().is_workday(D(2027, 2, 20))
    # hand count from Wednesday 2027-02-03: 4 Feb (Thu); 5, 8–11 Feb off; 12 (Fri), 15, 16, 17, 18, 19,
    # then Saturday 20 Feb worked: the 8th working day
    assert example.add(D(2027, 2, 3), 8) == D(2027, 2, 20)
    assert WorkCalendar().add(D(2027, 2, 3), 8) == D(2027, 2, 19)  # estimate: 5–10 Feb off, 11 Feb worked
