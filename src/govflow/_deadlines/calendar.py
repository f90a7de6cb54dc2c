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
import logging
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final, Literal

import attrs

from .._core.errors import ValidationError
from .._core.files import read_small_text
from .._core.workdays import (
    CalendarError,
    Weekdays,
    WorkingDays,
    YearCounts,
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
    "YearTurn",
    "add_working_days",
    "is_provisional",
    "resolve_due",
    "working_days",
    "working_days_between",
]

Fallback = Literal["refuse", "provisional"]

#: Days the ``chinese-calendar`` package has wrong, as the State Council's notices have them (True: a working day).
CORRECTIONS: Final[Mapping[dt.date, bool]] = {
    # 国务院办公厅关于2006年部分节假日安排的通知（国办发明电〔2005〕35号）: "元旦：1月1日至3日放假，
    # 共3天。12月31日（星期六）上班" — a make-up working day the package lists as a weekend day.
    dt.date(2005, 12, 31): True,
}


@attrs.define(eq=False)
class ChinaCalendar:
    """China's working days: weekends, public holidays and make-up working days (调休).

    ``closures`` are local days off (a county's own closures). Loaded
    schedules override the package's data for their years.
    """

    fallback: Fallback = attrs.field(default="refuse", on_setattr=lambda self, _, value: self._refallback(value))
    _schedules: dict[int, tuple[frozenset[dt.date], frozenset[dt.date]]] = attrs.field(factory=dict)
    # Make-up working days a year's notice places in the year before (2005-12-31 in the 2006 notice).
    _carried: dict[dt.date, bool] = attrs.field(factory=dict)
    _closures: set[dt.date] = attrs.field(factory=set)
    _statutory: dict[int, frozenset[dt.date]] = attrs.field(factory=dict)
    _package_years: frozenset[int] | None = None
    # Answers by day: the package's lookup scans its whole table on every call.
    _answers: dict[dt.date, bool] = attrs.field(factory=dict)
    # Running totals per year for counts between dates (overdue days of thousands of issues in a bulletin).
    _counts: YearCounts = attrs.field(
        default=attrs.Factory(lambda self: YearCounts(self.is_working_day, self.is_working_day), takes_self=True),
        init=False
    )
    name = "cn"

    def __attrs_post_init__(self) -> None:
        if self.fallback not in ("refuse", "provisional"):
            raise ValidationError("calendar_fallback", f"got {self.fallback!r}", "'refuse' or 'provisional'")

    def _refallback(self, value: Fallback) -> Fallback:
        if value not in ("refuse", "provisional"):
            raise ValidationError("calendar_fallback", f"got {value!r}", "'refuse' or 'provisional'")
        self._answers.clear()  # answers for uncovered years depended on the old fallback
        self._counts.forget()
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
        carried = self._carried.get(day)
        if carried is not None:
            return carried
        loaded = self._schedules.get(day.year)
        if loaded is not None:
            holidays, workdays = loaded
            if day in workdays:
                return True
            return day.weekday() < 5 and day not in holidays
        import chinese_calendar

        if day in CORRECTIONS:
            return CORRECTIONS[day]
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

    def provisional_working_day(self, day: dt.date) -> bool:
        """The guess for a day of a year without a schedule: not a weekend, a statutory holiday or a closure."""
        return day not in self._closures and day.weekday() < 5 and day not in self._statutory_days(day.year)

    # -- counting -----------------------------------------------------------------------------

    def add_working_days(self, start: dt.date, count: int) -> dt.date:
        """The ``count``-th working day after ``start`` (see :func:`add_working_days`)."""
        return add_working_days(self, start, count)

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days in ``(start, end]`` (see :func:`working_days_between`): from running totals per
        year, so a count costs the same for a day or for years."""
        return self._counts.between(start, end)

    # -- deployments' own data -----------------------------------------------------------------

    def add_closure(self, day: dt.date) -> None:
        """Make ``day`` a local day off (e.g. a county's own closure)."""
        self._closures.add(day)
        self._answers.pop(day, None)
        self._counts.forget(day.year)

    def load_schedule(self, source: str | os.PathLike[str] | Mapping[str, Any]) -> list[int]:
        """Load official schedules from a TOML file or a mapping; return the years loaded.

        The format, one table per year::

            [2027]
            holidays = ["2027-01-01", "2027-02-05..2027-02-11"]   # days off, ranges allowed
            workdays = ["2027-02-14", "2027-02-20"]               # make-up working days (调休)

        ``workdays`` may include days at the end of the year before, as the notices do
        (the 2006 notice makes Saturday 2005-12-31 a working day); they count as
        working days whatever the earlier year's own schedule says.
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
        carried: dict[dt.date, bool] = {}
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
            for day in [d for d in days["workdays"] if d.year == year - 1]:
                days["workdays"].discard(day)
                carried[day] = True
            loaded[year] = (frozenset(days["holidays"]), frozenset(days["workdays"]))
        self._schedules.update(loaded)
        self._carried.update(carried)
        self._answers.clear()
        self._counts.forget()
        return sorted(loaded)


@attrs.define(eq=False)
class YearTurn:
    """``calendar`` as the sweep and ``overdue()`` read it: a day of a year without an official schedule is
    counted provisionally (weekends and statutory holidays) instead of stopping them.

    At the turn of the year the next year's schedule is often not out yet, and a reminder due early
    in January must still be counted in late December. Due dates are different: a command counts
    them by the calendar's own ``fallback`` (refused by default), and provisional due dates are
    counted again when the schedule is loaded. ``guessed`` holds the years counted provisionally.
    """

    calendar: Any
    guessed: set[int] = attrs.field(factory=set)
    _counts: YearCounts = attrs.field(
        default=attrs.Factory(lambda self: YearCounts(self.calendar.is_working_day, self.is_working_day),
                              takes_self=True),
        init=False
    )

    def is_working_day(self, day: dt.date) -> bool:
        """The calendar's answer, or a provisional one for a year it has no schedule for."""
        try:
            return bool(self.calendar.is_working_day(day))
        except CalendarError:
            self.guessed.add(day.year)
            guess = getattr(self.calendar, "provisional_working_day", None)
            return bool(guess(day)) if guess is not None else day.weekday() < 5

    def is_provisional(self, day: dt.date) -> bool:
        """Whether the answer for ``day`` is a guess."""
        return is_provisional(self.calendar, day)

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days in ``(start, end]`` by these answers (running totals per year, kept for this reading)."""
        return self._counts.between(start, end)

    def warn(self, log: logging.Logger, what: str) -> None:
        """Log which years were counted provisionally, if any."""
        if self.guessed:
            years = ", ".join(str(y) for y in sorted(self.guessed))
            log.warning(
                "govflow %s: no official holiday schedule for %s: counted provisionally (weekends and "
                "statutory holidays); load the State Council's schedule with flow.load_schedule(...)", what, years,
            )


def _days(year: int, name: str, items: object) -> set[dt.date]:
    field = f"schedule.{year}.{name}"
    accepted = ("a list of 'YYYY-MM-DD' dates or 'YYYY-MM-DD..YYYY-MM-DD' ranges in that year "
                "(workdays: or in the December before)")
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
        # A notice may place make-up working days at the end of the year before (调休 across New Year).
        earliest = year - 1 if name == "workdays" else year
        if first > last or not earliest <= first.year <= last.year <= year:
            raise ValidationError(field, f"got {item!r}", accepted)
        if first.year == year - 1 and (first.month, first.day) < (12, 1):
            raise ValidationError(field, f"got {item!r}", f"{accepted}; of the year before only December days")
        while first <= last:
            days.add(first)
            first += dt.timedelta(days=1)
    return days
