"""Working days (工作日): China's official calendar of holidays and make-up working days (调休).

The official schedule comes from the ``chinese-calendar`` package for the
years it covers. The State Council publishes each year's schedule late in the
year before, and packages lag behind it: a deployment loads the published
schedule from a small TOML file (:meth:`ChinaCalendar.load_schedule`). For a
year neither covers, the calendar refuses with :class:`CalendarError` naming
the year, or, with ``fallback="provisional"``, counts weekends plus the
statutory holidays (from the ``holidays`` package) and says the result is
provisional.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import attrs

from .._core.errors import ValidationError
from .._core.files import read_small_text
from .._core.workdays import (
    CalendarError,
    Weekdays,
    WorkingDays,
    add_working_days,
    is_provisional,
    resolve_due,
    working_days,
    working_days_between,
)

__all__ = [
    "CalendarError",
    "ChinaCalendar",
    "Weekdays",
    "WorkingDays",
    "add_working_days",
    "is_provisional",
    "resolve_due",
    "working_days",
    "working_days_between",
]

Fallback = Literal["refuse", "provisional"]


@attrs.define(eq=False)
class ChinaCalendar:
    """China's working days: weekends, public holidays and make-up working days (调休).

    ``closures`` are local days off (a county's own closures). Loaded
    schedules override the package's data for their years.
    """

    fallback: Fallback = attrs.field(default="refuse", on_setattr=lambda self, _, value: self._refallback(value))
    _schedules: dict[int, tuple[frozenset[dt.date], frozenset[dt.date]]] = attrs.field(factory=dict)
    _closures: set[dt.date] = attrs.field(factory=set)
    _statutory: dict[int, frozenset[dt.date]] = attrs.field(factory=dict)
    _package_years: frozenset[int] | None = None
    # Answers by day: the package's lookup scans its whole table on every call.
    _answers: dict[dt.date, bool] = attrs.field(factory=dict)
    name = "cn"

    def __attrs_post_init__(self) -> None:
        if self.fallback not in ("refuse", "provisional"):
            raise ValidationError("calendar_fallback", f"got {self.fallback!r}", "'refuse' or 'provisional'")

    def _refallback(self, value: Fallback) -> Fallback:
        if value not in ("refuse", "provisional"):
            raise ValidationError("calendar_fallback", f"got {value!r}", "'refuse' or 'provisional'")
        self._answers.clear()  # answers for uncovered years depended on the old fallback
        return value

    # -- coverage --------------------------------------------------------------------------

    def official_years(self) -> list[int]:
        """The years with an official schedule (the package's and the loaded ones)."""
        return sorted(self._years() | set(self._schedules))

    def _years(self) -> frozenset[int]:
        if self._package_years is None:
            from chinese_calendar.constants import holidays

            self._package_years = frozenset(day.year for day in holidays)
        return self._package_years

    def covers(self, year: int) -> bool:
        """Whether ``year`` has an official schedule."""
        return year in self._schedules or year in self._years()

    def is_provisional(self, day: dt.date) -> bool:
        """Whether the answer for ``day`` is a guess (no official schedule for its year)."""
        return not self.covers(day.year)

    # -- the answer ---------------------------------------------------------------------------

    def is_working_day(self, day: dt.date) -> bool:
        """Whether ``day`` is a working day; raises :class:`CalendarError` for an uncovered year
        unless the fallback is ``provisional``."""
        answer = self._answers.get(day)
        if answer is None:
            answer = self._answers[day] = self._working(day)
        return answer

    def _working(self, day: dt.date) -> bool:
        if day in self._closures:
            return False
        loaded = self._schedules.get(day.year)
        if loaded is not None:
            holidays, workdays = loaded
            if day in workdays:
                return True
            return day.weekday() < 5 and day not in holidays
        import chinese_calendar

        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError:
            if self.fallback == "refuse":
                raise CalendarError(day.year, self.official_years()) from None
        return day.weekday() < 5 and day not in self._statutory_days(day.year)

    def _statutory_days(self, year: int) -> frozenset[dt.date]:
        found = self._statutory.get(year)
        if found is None:
            import holidays

            # The statutory days themselves; the package's "observed" days are its own guesses.
            china = holidays.country_holidays("CN", years=year, observed=False)
            found = frozenset(china)
            self._statutory[year] = found
        return found

    # -- counting -----------------------------------------------------------------------------

    def add_working_days(self, start: dt.date, count: int) -> dt.date:
        """The ``count``-th working day after ``start`` (see :func:`add_working_days`)."""
        return add_working_days(self, start, count)

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days in ``(start, end]`` (see :func:`working_days_between`)."""
        return working_days_between(self, start, end)

    # -- deployments' own data -----------------------------------------------------------------

    def add_closure(self, day: dt.date) -> None:
        """Make ``day`` a local day off (e.g. a county's own closure)."""
        self._closures.add(day)
        self._answers.pop(day, None)

    def load_schedule(self, source: str | os.PathLike[str] | Mapping[str, Any]) -> list[int]:
        """Load official schedules from a TOML file or a mapping; return the years loaded.

        The format, one table per year::

            [2027]
            holidays = ["2027-01-01", "2027-02-05..2027-02-11"]   # days off, ranges allowed
            workdays = ["2027-02-14", "2027-02-20"]               # make-up working days (调休)
        """
        if isinstance(source, Mapping):
            raw: Mapping[str, Any] = source
        else:
            if sys.version_info >= (3, 11):
                import tomllib
            else:  # pragma: no cover - Python 3.10
                import tomli as tomllib
            if not isinstance(source, str | os.PathLike):
                raise ValidationError("schedule", f"got {type(source).__name__}", "a TOML file path or a mapping")
            try:
                raw = tomllib.loads(read_small_text(Path(source)))
            except ValueError as exc:  # TOMLDecodeError is one too
                raise ValidationError("schedule", f"{os.fspath(source)}: {exc}",
                                      "a TOML file (UTF-8, at most 1 MB) with one table per year") from None
        loaded: dict[int, tuple[frozenset[dt.date], frozenset[dt.date]]] = {}
        for key, table in raw.items():
            if not isinstance(key, str | int) or isinstance(key, bool) or not str(key).isdigit() \
                    or not 1900 <= int(str(key)[:5]) <= 9000 or not isinstance(table, Mapping):
                shown = f"{key!r}"[:40]
                raise ValidationError("schedule", f"got the entry {shown}",
                                      "tables named by year (1900–9000), e.g. [2027]")
            year = int(key)
            unknown = set(table) - {"holidays", "workdays"}
            if unknown:
                raise ValidationError(f"schedule.{year}", f"unknown keys {sorted(unknown)}", "holidays, workdays")
            days = {name: _days(year, name, table.get(name, [])) for name in ("holidays", "workdays")}
            both = days["holidays"] & days["workdays"]
            if both:
                raise ValidationError(f"schedule.{year}", f"{sorted(both)[0]} is both a holiday and a workday",
                                      "each day in one list only")
            loaded[year] = (frozenset(days["holidays"]), frozenset(days["workdays"]))
        self._schedules.update(loaded)
        self._answers.clear()
        return sorted(loaded)


def _days(year: int, name: str, items: object) -> set[dt.date]:
    field = f"schedule.{year}.{name}"
    accepted = "a list of 'YYYY-MM-DD' dates or 'YYYY-MM-DD..YYYY-MM-DD' ranges in that year"
    if not isinstance(items, list):
        raise ValidationError(field, f"got {items!r}", accepted)
    days: set[dt.date] = set()
    for item in items:
        try:
            if isinstance(item, dt.datetime):
                raise ValueError  # a TOML datetime: a day is wanted
            if isinstance(item, dt.date):
                first = last = item
            elif isinstance(item, str) and ".." in item:
                a, b = item.split("..", 1)
                first, last = dt.date.fromisoformat(a.strip()), dt.date.fromisoformat(b.strip())
            elif isinstance(item, str):
                first = last = dt.date.fromisoformat(item.strip())
            else:
                raise ValueError
        except ValueError:
            raise ValidationError(field, f"got {item!r}", accepted) from None
        if first > last or first.year != year or last.year != year:
            raise ValidationError(field, f"got {item!r}", accepted)
        while first <= last:
            days.add(first)
            first += dt.timedelta(days=1)
    return days
