"""Dates outside the known holiday data never silently become Mon–Fri working days (SPEC §6).

Past the published years the calendar estimates the statutory holidays and every date that rests
on the estimate is marked; a strict calendar refuses (:class:`CalendarError` naming the year and
the fix); with ``assume_weekends`` every schedule that relied on the guess says so.
"""

from __future__ import annotations

import datetime as dt

import pytest
from click.testing import CliRunner

from flowmatch.calendar import MAX_WORKING_DAYS, WorkCalendar, next_workday
from flowmatch.cli import main
from flowmatch.errors import CalendarError, InputError
from flowmatch.ruleset import load_ruleset
from flowmatch.scheduler import schedule

from ._support import BASE

D = dt.date
RS = load_ruleset(BASE, cache=False)


def _first_unknown_year() -> int:
    cal = WorkCalendar()
    return cal.last_year + 1


def _late_december(year: int) -> dt.date:
    """A working day in the last fortnight of the year before ``year``."""
    return next_workday(D(year - 1, 12, 20), WorkCalendar())


def test_past_the_data_a_strict_calendar_is_an_error_naming_year_and_fix() -> None:
    year = _first_unknown_year()
    with pytest.raises(CalendarError) as err:
        WorkCalendar(strict=True).add(D(year - 1, 12, 20), 30)
    message = str(err.value)
    assert message.startswith(f"no official working-day data for {year} (known: ")
    assert "--calendar FILE" in message and "--strict-calendar" in message


def test_past_the_data_the_default_calendar_estimates_and_marks_it() -> None:
    year = _first_unknown_year()
    plan = schedule("F01", _late_december(year) - dt.timedelta(days=7), ruleset=RS)
    assert plan.finish is not None and plan.finish.year == year
    assert plan.estimated_from is not None and plan.estimated_from.year == year
    assert all(not plan.is_estimated(s.end) for s in plan.steps if s.end is not None and s.end.year < year)
    assert plan.is_estimated(plan.finish)
    assert any(f"{year}年节假日安排尚未公布" in w for w in plan.warnings)
    data = plan.to_dict()
    assert data["estimated"] is True and data["finish_estimated"] is True
    assert data["estimated_from"] == plan.estimated_from.isoformat()
    assert {s["estimated"] for s in data["steps"]} == {True, False}


def test_before_the_data_is_an_error_too() -> None:
    cal = WorkCalendar()
    with pytest.raises(CalendarError, match=f"no official working-day data for {cal.first_year - 1} "):
        cal.add(D(cal.first_year - 1, 6, 1), 1)


def test_the_guess_is_always_named_in_the_warnings() -> None:
    year = _first_unknown_year()
    cal = WorkCalendar(assume_weekends=True)
    end = cal.add(D(year - 1, 12, 28), 10)
    assert end.year == year
    assert cal.assumptions(D(year - 1, 12, 28), end) == [
        f"{year}年无官方节假日数据，已按周一至周五为工作日估算（--assume-weekends）；"
        f"no holiday data for {year}: assumed Mon–Fri working days"
    ]


def test_a_datetime_start_still_sees_the_holidays() -> None:
    """A datetime never equals a holiday date: comparing it directly would silently skip every
    holiday (National Day 2020 fell on Thursday 1 October)."""
    cal = WorkCalendar()
    assert cal.add(dt.datetime(2020, 9, 30, 15, 30), 1) == D(2020, 10, 9) == cal.add(D(2020, 9, 30), 1)
    assert not cal.is_workday(dt.datetime(2020, 10, 1, 9))


@pytest.mark.parametrize("days", [float("inf"), float("nan"), -1, "3", None])
def test_nonsense_durations_are_input_errors(days: object) -> None:
    with pytest.raises(InputError, match="working days must be a finite number of at least 0"):
        WorkCalendar().add(D(2020, 1, 2), days)  # type: ignore[arg-type]


def test_absurd_durations_are_refused_before_they_loop() -> None:
    with pytest.raises(CalendarError, match=f"at most {MAX_WORKING_DAYS}"):
        WorkCalendar(assume_weekends=True).add(D(2020, 1, 2), 10**9)


def test_the_end_of_the_calendar_is_a_calendar_error() -> None:
    with pytest.raises(CalendarError, match="past the end of the calendar"):
        WorkCalendar(assume_weekends=True).add(D(9999, 12, 30), 5)


def test_schedule_past_the_data_fails_clearly_on_the_command_line_when_strict() -> None:
    year = _first_unknown_year()
    result = CliRunner().invoke(
        main,
        ["schedule", "F01", "--rules", str(BASE), "--start", _late_december(year).isoformat(), "--strict-calendar"],
    )
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: no official working-day data for {year} ")


def test_schedule_with_assumed_weekends_warns_on_the_command_line() -> None:
    year = _first_unknown_year()
    result = CliRunner().invoke(
        main,
        [
            "schedule",
            "F01",
            "--rules",
            str(BASE),
            "--start",
            _late_december(year).isoformat(),
            "--assume-weekends",
            "--json",
        ],
    )
    assert result.exit_code == 0
    assert f"warning: {year}年无官方节假日数据" in result.stderr


def test_every_schedule_on_a_shared_calendar_names_the_guess() -> None:
    year = _first_unknown_year()
    cal = WorkCalendar(assume_weekends=True)
    first = schedule("F01", _late_december(year), cal, ruleset=RS)
    second = schedule("F01", _late_december(year), cal, ruleset=RS)
    assert first.warnings and second.warnings == first.warnings


def test_compare_on_the_command_line_warns_too() -> None:
    year = _first_unknown_year()
    result = CliRunner().invoke(
        main,
        [
            "schedule",
            "F01",
            "--rules",
            str(BASE),
            "--start",
            _late_december(year).isoformat(),
            "--assume-weekends",
            "--compare",
        ],
    )
    assert result.exit_code == 0
    assert f"no holiday data for {year}" in result.stderr


def test_a_datetime_start_is_reported_as_a_date() -> None:
    plan = schedule("F01", dt.datetime(2020, 9, 30, 12), ruleset=RS)
    assert plan.to_dict()["start"] == "2020-09-30"
