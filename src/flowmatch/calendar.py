"""Working days on the official calendar (State Council holiday notices, with 调休 make-up days).

``chinesecalendar`` supplies the official data (2004–2026 in version 1.11).  For a later year,
until the State Council publishes its notice, the calendar *estimates*: the statutory holidays of
the 全国年节及纪念日放假办法 (New Year 1 day, Spring Festival 4 days from 2025 including 除夕,
Qingming, Labour Day 2, Dragon Boat, Mid-Autumn, National Day 3; lunar dates and the Qingming
solar term from the ``holidays`` package), a weekday off for a statutory day that falls on a
weekend (补休, the practice of every notice since 2008), and no 调休 make-up working days, which
only the notice can tell.  Every date that depends on an estimated year is marked as an estimate
(:meth:`WorkCalendar.estimated_from`, :meth:`WorkCalendar.assumptions`).

An override YAML replaces the estimate for the years it lists (the official notice, once it is
published; an example ships as ``flowmatch/calendars/example-2027.yaml``)::

    years: [2027]                 # years this file describes completely
    holidays: [2027-01-01, ...]   # extra non-working days (may also add local days to covered years)
    workdays: [2027-02-07, ...]   # weekend make-up working days
    source: 国务院办公厅关于2027年部分节假日安排的通知   # optional, shown with the dates

``strict=True`` refuses a year without published data (:class:`CalendarError` naming the year and
the fix) instead of estimating; ``assume_weekends=True`` treats such a year as plain Mon–Fri.
Day 0 is the acceptance day; ``add(d, n)`` is the n-th working day after it.  A calendar is
immutable and safe to share between threads.
"""

from __future__ import annotations

import datetime as dt
import math
import threading
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Literal

from .errors import CalendarError, InputError

__all__ = [
    "EXAMPLE",
    "WorkCalendar",
    "acceptance_day",
    "load_overrides",
    "make_calendar",
    "next_workday",
    "number_text",
    "plain_days",
]

Policy = Literal["estimate", "strict", "assume_weekends"]
EXAMPLE = Path(__file__).parent / "calendars" / "example-2027.yaml"  # the override format, by example
ESTIMATE_LAST_YEAR = 2099  # the lunar tables behind the estimate end here


@lru_cache(maxsize=1)
def _official() -> tuple[frozenset[dt.date], frozenset[dt.date], int, int]:
    from chinese_calendar import constants  # type: ignore[import-untyped]

    holidays = frozenset(constants.holidays)
    workdays = frozenset(constants.workdays)
    years = [d.year for d in holidays]
    return holidays, workdays, min(years), max(years)


@lru_cache(maxsize=256)
def statutory_holidays(year: int) -> frozenset[dt.date]:
    """The estimated days off of ``year``: statutory holidays and the weekday 补休 for those falling
    on a weekend, without 调休 (which needs the State Council notice of that year)."""
    import holidays as holidays_pkg

    china = holidays_pkg.country_holidays("CN", years=year, observed=True)
    # The package also lists the 调休 swaps of years whose notice it knows; those come paired with
    # make-up working days we would not have, so a year it knows better is not estimated here.
    swapped = _swaps(year)
    return frozenset(d for d in china if d.year == year and d not in swapped)


def _swaps(year: int) -> frozenset[dt.date]:
    """The 调休 days off the ``holidays`` package lists for ``year`` (each swapped with a weekend
    working day); empty when it knows none or its table moves (a test cross-checks 2025–2026)."""
    try:
        from holidays.countries.china import ChinaStaticHolidays
    except ImportError:  # pragma: no cover - a later layout of the package
        return frozenset()
    entries = getattr(ChinaStaticHolidays, "special_public_holidays", {}).get(year, ())
    if entries and not isinstance(entries[0], tuple):
        entries = (entries,)
    return frozenset(
        dt.date(year, e[0], e[1])
        for e in entries
        if len(e) >= 4 and all(isinstance(x, int) for x in e[:4])  # (month, day, from month, from day)
    )


class WorkCalendar:
    """Official working days plus optional overrides, estimated past the published years.
    Immutable once built (estimates are computed once per year, under a lock)."""

    def __init__(
        self,
        *,
        holidays: Iterable[dt.date] = (),
        workdays: Iterable[dt.date] = (),
        years: Iterable[int] = (),
        assume_weekends: bool = False,
        strict: bool = False,
        source: str | None = None,
    ) -> None:
        if assume_weekends and strict:
            raise InputError("a calendar is either strict or assumes weekends, not both")
        official_holidays, official_workdays, first, last = _official()
        self.first_year = first
        self.last_year = last
        self.extra_years = frozenset(years)
        extra_holidays, extra_workdays = frozenset(holidays), frozenset(workdays)
        self._holidays = (official_holidays | extra_holidays) - extra_workdays
        self._workdays = (official_workdays | extra_workdays) - extra_holidays
        self.policy: Policy = "strict" if strict else "assume_weekends" if assume_weekends else "estimate"
        self.source = source
        self._estimates: dict[int, frozenset[dt.date]] = {}
        self._lock = threading.Lock()

    @property
    def assume_weekends(self) -> bool:
        return self.policy == "assume_weekends"

    @property
    def strict(self) -> bool:
        return self.policy == "strict"

    def covers(self, year: int) -> bool:
        """Whether ``year`` has published data (official, or an override file's ``years``)."""
        return self.first_year <= year <= self.last_year or year in self.extra_years

    def _guessed_holidays(self, year: int) -> frozenset[dt.date]:
        """The days off of a year without published data, or :class:`CalendarError`."""
        if self.policy == "assume_weekends":
            return frozenset()
        if self.policy == "strict" or year < self.first_year or year > ESTIMATE_LAST_YEAR:
            known = f"{self.first_year}–{self.last_year}"
            if self.extra_years:
                known += ", " + ", ".join(map(str, sorted(self.extra_years)))
            if self.policy == "strict":
                alternative = "or let flowmatch estimate it (leave out --strict-calendar; strict=False)"
            else:
                alternative = "or pass --assume-weekends (no estimate is made that far from the published years)"
            raise CalendarError(
                f"no official working-day data for {year} (known: {known}); supply the State Council holiday "
                f"notice for {year} with --calendar FILE (YAML: years: [{year}], holidays: [...], workdays: [...]) "
                + alternative
            )
        found = self._estimates.get(year)
        if found is None:
            with self._lock:
                found = self._estimates.get(year)
                if found is None:
                    found = self._estimates[year] = statutory_holidays(year)
        return found

    def is_workday(self, day: dt.date) -> bool:
        day = _as_date(day)
        if day in self._workdays:
            return True
        if day.weekday() >= 5 or day in self._holidays:
            return False
        return self.covers(day.year) or day not in self._guessed_holidays(day.year)

    def add(self, start: dt.date, days: float) -> dt.date:
        """The date of working day ``days`` counted from acceptance day ``start`` (day 0)."""
        start = _as_date(start)
        if isinstance(days, bool) or not isinstance(days, (int, float)) or not math.isfinite(days) or days < 0:
            raise InputError(f"working days must be a finite number of at least 0, got {days!r}")
        if days > MAX_WORKING_DAYS:
            raise CalendarError(
                f"{days:g} working days is beyond what the calendar counts "
                f"(at most {MAX_WORKING_DAYS}); check the durations in the rule-set"
            )
        remaining = math.ceil(days - 1e-9)
        current = start
        while remaining > 0:
            current = _next_day(current)
            if self.is_workday(current):
                remaining -= 1
        return current

    def between(self, start: dt.date, end: dt.date) -> int:
        """Working days after ``start`` up to and including ``end`` (counted arithmetically: the
        weekdays of the range, less the days off among them, plus the make-up days)."""
        start, end = _as_date(start), _as_date(end)
        if end <= start:
            return 0
        first, last = start + dt.timedelta(days=1), end
        off = {d for d in self._holidays if first <= d <= last}
        for year in range(first.year, last.year + 1):
            if not self.covers(year):
                off.update(d for d in self._guessed_holidays(year) if first <= d <= last)
        on = {d for d in self._workdays if first <= d <= last}
        off -= on
        weekday_off = sum(1 for d in off if d.weekday() < 5)
        weekend_on = sum(1 for d in on if d.weekday() >= 5)
        return _weekdays(first, last) - weekday_off + weekend_on

    def estimated_from(self, start: dt.date) -> dt.date | None:
        """The first day after ``start`` from which dates counted from ``start`` rest on an estimate
        (or on the Mon–Fri assumption): 1 January of the first year without published data, or
        ``start`` itself when its own year has none.  ``None`` when that is past every date."""
        start = _as_date(start)
        year = start.year
        while self.covers(year):
            year += 1
        if year > dt.MAXYEAR:
            return None
        return start if year == start.year else dt.date(year, 1, 1)

    def unpublished_years(self, start: dt.date, end: dt.date) -> list[int]:
        """The years of ``start``..``end`` whose working days are estimated or assumed."""
        start, end = _as_date(start), _as_date(end)
        if self.policy == "strict":
            return []
        years = range(start.year, end.year + 1)
        if self.policy == "estimate":
            return [y for y in years if not self.covers(y) and self.first_year <= y <= ESTIMATE_LAST_YEAR]
        return [y for y in years if not self.covers(y)]

    def assumptions(self, start: dt.date, end: dt.date) -> list[str]:
        """One note per year of ``start``..``end`` whose working days are estimated or assumed
        (empty when every year has published data).  A pure function of the range."""
        note = _assumed_note if self.policy == "assume_weekends" else estimate_note
        return [note(year) for year in self.unpublished_years(start, end)]


def next_workday(day: dt.date, calendar: WorkCalendar) -> dt.date:
    """``day`` if it is a working day, else the first working day after it."""
    day = _as_date(day)
    while not calendar.is_workday(day):
        day = _next_day(day)
    return day


def acceptance_day(start: dt.date | str | None, calendar: WorkCalendar, *, today: dt.date | None = None) -> dt.date:
    """The one rule for the acceptance day (day 0) everywhere — guide, schedule, ask, web, library.

    ``None`` (or an empty string): the first working day on or after ``today`` (default: the system
    date).  A given date (``YYYY-MM-DD`` or a ``date``) must be a working day; otherwise it is
    refused with the next working day suggested.
    """
    if start is None or (isinstance(start, str) and not start.strip()):
        return next_workday(today or dt.date.today(), calendar)
    if isinstance(start, str):
        try:
            day = dt.date.fromisoformat(start.strip())
        except ValueError:
            raise InputError(f"start date {start!r} is not a date; allowed: YYYY-MM-DD") from None
    elif isinstance(start, dt.date):
        day = _as_date(start)
    else:
        raise InputError(f"start date must be a date or YYYY-MM-DD text, got {type(start).__name__}")
    if not calendar.is_workday(day):
        raise InputError(
            f"start date {day.isoformat()} is not a working day; the acceptance day must be one "
            f"(next working day: {next_workday(day, calendar).isoformat()})"
        )
    return day


def make_calendar(
    file: str | Path | None = None, *, assume_weekends: bool = False, strict: bool = False
) -> WorkCalendar:
    """The calendar every face builds from its options: an override file (``--calendar``) or the
    official data, estimating past it unless ``strict`` (or assuming Mon–Fri)."""
    if file:
        return load_overrides(file, assume_weekends=assume_weekends, strict=strict)
    return WorkCalendar(assume_weekends=assume_weekends, strict=strict)


def plain_days(x: float) -> float | int:
    """A number of working days for output: ``5`` rather than ``5.0``; fractions to 3 places."""
    return int(x) if float(x).is_integer() else round(x, 3)


def number_text(x: float | None) -> str:
    """A number of days or months as text: ``5``, ``2.5`` (empty for none)."""
    return "" if x is None else str(plain_days(x))


MAX_WORKING_DAYS = 100_000  # about 400 years: far past any real time limit, short of date overflow


def _assumed_note(year: int) -> str:
    return (
        f"{year}年无官方节假日数据，已按周一至周五为工作日估算（--assume-weekends）；"
        f"no holiday data for {year}: assumed Mon–Fri working days"
    )


def estimate_note(year: int) -> str:
    """The words that go with every date resting on an estimated year."""
    return (
        f"{year}年节假日安排尚未公布，相关日期为预计（按法定节假日推算，未计调休），以届时公布为准；"
        f"the {year} holiday arrangements are not yet published: dates are estimated from the statutory "
        "holidays, without make-up working days"
    )


def _weekdays(first: dt.date, last: dt.date) -> int:
    """Mon–Fri days in ``first``..``last`` inclusive, arithmetically."""
    days = (last - first).days + 1
    weeks, extra = divmod(days, 7)
    start = first.weekday()
    return weeks * 5 + sum(1 for k in range(extra) if (start + k) % 7 < 5)


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
        raise CalendarError(
            f"no working-day data after {day.isoformat()}: the date is past the end of the calendar"
        ) from None


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


def load_overrides(path: str | Path, *, assume_weekends: bool = False, strict: bool = False) -> WorkCalendar:
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
        strict=strict,
        source=str(data.get("source") or path),
    )
