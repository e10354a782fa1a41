from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from flowmatch.calendar import WorkCalendar, load_overrides
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


def test_2027_without_override_is_a_clear_error(cal: WorkCalendar) -> None:
    with pytest.raises(CalendarError) as err:
        cal.add(D(2026, 12, 28), 10)
    message = str(err.value)
    assert message.startswith(
        "no official working-day data for 2027 (known: 2004–2026); supply the State Council "
        "holiday notice for 2027 with --calendar FILE"
    )
    assert "--assume-weekends" in message


def test_assume_weekends_warns_and_names_the_assumption() -> None:
    cal = WorkCalendar(assume_weekends=True)
    assert cal.add(D(2026, 12, 31), 1) == D(2027, 1, 1)  # Friday, assumed a working day
    assert cal.warnings == [
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
    assert cal.warnings == []


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
