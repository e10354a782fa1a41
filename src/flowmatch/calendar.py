"""Working days on the official calendar (State Council holiday notices, with 调休 make-up days).

``chinesecalendar`` supplies the official data (2004–2026 in version 1.11).  Years it does not
cover yet — today 2027 — come from an override YAML::

    years: [2027]                 # years this file describes completely
    holidays: [2027-01-01, ...]   # extra non-working days (may also add local days to covered years)
    workdays: [2027-02-07, ...]   # weekend make-up working days

A date outside every source raises :class:`CalendarError` naming the year and the fix; with
``assume_weekends=True`` it is treated as Mon–Fri and the assumption is recorded in ``warnings``.
Day 0 is the acceptance day; ``add(d, n)`` is the n-th working day after it.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from .errors import CalendarError, InputError

__all__ = ["WorkCalendar", "load_overrides", "number_text", "plain_days"]


@lru_cache(maxsize=1)
def _official() -> tuple[frozenset[dt.date], frozenset[dt.date], int, int]:
    from chinese_calendar import constants  # type: ignore[import-untyped]

    holidays = frozenset(constants.holidays)
    workdays = frozenset(constants.workdays)
    years = [d.year for d in holidays]
    return holidays, workdays, min(years), max(years)


class WorkCalendar:
    """Official working days plus optional overrides. Immutable once built."""

    def __init__(
        self,
        *,
        holidays: Iterable[dt.date] = (),
        workdays: Iterable[dt.date] = (),
        years: Iterable[int] = (),
        assume_weekends: bool = False,
        source: str | None = None,
    ) -> None:
        official_holidays, official_workdays, first, last = _official()
        self.first_year = first
        self.last_year = last
        self.extra_years = frozenset(years)
        self._holidays = (official_holidays | frozenset(holidays)) - frozenset(workdays)
        self._workdays = (official_workdays | frozenset(workdays)) - frozenset(holidays)
        self.assume_weekends = assume_weekends
        self.source = source
        self.warnings: list[str] = []
        self._cache: dict[dt.date, bool] = {}

    def covers(self, year: int) -> bool:
        return self.first_year <= year <= self.last_year or year in self.extra_years

    def is_workday(self, day: dt.date) -> bool:
        day = _as_date(day)
        found = self._cache.get(day)
        if found is not None:
            return found
        if not self.covers(day.year):
            if not self.assume_weekends:
                raise CalendarError(
                    f"no official working-day data for {day.year} (known: {self.first_year}–{self.last_year}"
                    f"{', ' + ', '.join(map(str, sorted(self.extra_years))) if self.extra_years else ''}); "
                    f"supply the State Council holiday notice for {day.year} with --calendar FILE "
                    f"(YAML: years: [{day.year}], holidays: [...], workdays: [...]) or pass --assume-weekends"
                )
            note = _assumed_note(day.year)
            if note not in self.warnings:
                self.warnings.append(note)
        result = day in self._workdays or (day.weekday() < 5 and day not in self._holidays)
        self._cache[day] = result
        return result

    def add(self, start: dt.date, days: float) -> dt.date:
        """The date of working day ``days`` counted from acceptance day ``start`` (day 0)."""
        start = _as_date(start)
        if isinstance(days, bool) or not isinstance(days, (int, float)) or not math.isfinite(days) or days < 0:
            raise InputError(f"working days must be a finite number of at least 0, got {days!r}")
        if days > MAX_WORKING_DAYS:
            raise CalendarError(f"{days:g} working days is beyond what the calendar counts "
                                f"(at most {MAX_WORKING_DAYS}); check the durations in the rule-set")
        remaining = math.ceil(days - 1e-9)
        current = start
        while remaining > 0:
            current = _next_day(current)
            if self.is_workday(current):
                remaining -= 1
        return current

    def between(self, start: dt.date, end: dt.date) -> int:
        """Working days after ``start`` up to and including ``end``."""
        start, end = _as_date(start), _as_date(end)
        count = 0
        current = start
        while current < end:
            current = _next_day(current)
            count += self.is_workday(current)
        return count

    def assumptions(self, start: dt.date, end: dt.date) -> list[str]:
        """The assumption notes that apply to the dates ``start``..``end`` — one per year without
        data when ``assume_weekends`` is on.  Unlike :attr:`warnings` (which collects each note
        once per calendar), this is a pure function of the range, so a caller that reuses one
        calendar for several schedules still reports the assumption for each of them."""
        start, end = _as_date(start), _as_date(end)
        if not self.assume_weekends:
            return []
        return [_assumed_note(year) for year in range(start.year, end.year + 1) if not self.covers(year)]


def plain_days(x: float) -> float | int:
    """A number of working days for output: ``5`` rather than ``5.0``; fractions to 3 places."""
    return int(x) if float(x).is_integer() else round(x, 3)


def number_text(x: float | None) -> str:
    """A number of days or months as text: ``5``, ``2.5`` (empty for none)."""
    return "" if x is None else str(plain_days(x))


MAX_WORKING_DAYS = 100_000  # about 400 years: far past any real time limit, short of date overflow


def _assumed_note(year: int) -> str:
    return (f"{year}年无官方节假日数据，已按周一至周五为工作日估算（--assume-weekends）；"
            f"no holiday data for {year}: assumed Mon–Fri working days")


def _as_date(day: object) -> dt.date:
    """A plain date: a ``datetime`` would never equal the holiday dates (silently Mon–Fri)."""
    if isinstance(day, dt.datetime):
        return day.date()
    if isinstance(day, dt.date):
        return day
    raise InputError(f"expected a date (YYYY-MM-DD), got {type(day).__name__}")


def _next_day(day: dt.date) -> dt.date:
    try:
        return day + dt.timedelta(days=1)
    except OverflowError:
        raise CalendarError(f"no working-day data after {day.isoformat()}: the date is past the end of the "
                            "calendar") from None


def _dates(value: object, file: str, key: str) -> list[dt.date]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise InputError(f"{file}: {key}: expected a list of dates (YYYY-MM-DD)")
    out = []
    for i, item in enumerate(value):
        if isinstance(item, dt.date) and not isinstance(item, dt.datetime):
            out.append(item)
        elif isinstance(item, str):
            try:
                out.append(dt.date.fromisoformat(item))
            except ValueError:
                raise InputError(f"{file}: {key}[{i}]: {item!r} is not a date; allowed: YYYY-MM-DD") from None
        else:
            raise InputError(f"{file}: {key}[{i}]: {item!r} is not a date; allowed: YYYY-MM-DD")
    return out


def load_overrides(path: str | Path, *, assume_weekends: bool = False) -> WorkCalendar:
    """A calendar with the overrides of a YAML file (see the module docstring)."""
    from .errors import Problem, RuleSetError
    from .yamlsrc import YamlError, read

    path = Path(path)
    try:
        doc = read(path)
    except YamlError as exc:
        raise RuleSetError([exc.problem]) from None
    data = doc.data
    if not isinstance(data, dict):
        raise RuleSetError([Problem(str(path), 1, 1, "", "expected a mapping with years, holidays, workdays")])
    unknown = set(data) - {"years", "holidays", "workdays", "source"}
    if unknown:
        key = sorted(unknown, key=str)[0]
        raise RuleSetError([doc.problem((key,), f"unknown key {key!r}; allowed: years, holidays, workdays, source")])
    years = data.get("years") or []
    if not isinstance(years, list) or not all(isinstance(y, int) and 1990 <= y <= 2100 for y in years):
        raise RuleSetError([doc.problem(("years",), "expected a list of years such as [2027]")])
    return WorkCalendar(
        holidays=_dates(data.get("holidays"), str(path), "holidays"),
        workdays=_dates(data.get("workdays"), str(path), "workdays"),
        years=years,
        assume_weekends=assume_weekends,
        source=str(data.get("source") or path),
    )
