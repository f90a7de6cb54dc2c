"""Working-day arithmetic (工作日) over any calendar: due dates given in working days, counts between dates.

The calendar itself is pluggable (:class:`Calendar`); China's official one lives in the deadlines wing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Protocol, runtime_checkable

import attrs

from .errors import GovflowError, ValidationError

__all__ = [
    "Calendar",
    "CalendarError",
    "Weekdays",
    "WorkingDays",
    "YearCounts",
    "add_working_days",
    "count_day_by_day",
    "is_provisional",
    "resolve_due",
    "working_days",
    "working_days_between",
]


@runtime_checkable
class Calendar(Protocol):
    """A working-day calendar: says whether a date is a working day."""

    def is_working_day(self, day: dt.date) -> bool:
        """Whether ``day`` is a working day."""


class CalendarError(GovflowError):
    """The calendar has no official schedule for a year and may not guess."""

    def __init__(self, year: int, covered: Iterable[int]) -> None:
        self.year = year
        years = sorted(covered)
        span = f"{years[0]}–{years[-1]}" if years else "none"
        super().__init__(
            f"no official holiday schedule for {year} (covered: {span}); load the State Council's "
            f"schedule with calendar.load_schedule('schedule-{year}.toml'), or open the flow with "
            "calendar_fallback='provisional' to count weekends and statutory holidays until then"
        )


@attrs.frozen
class WorkingDays:
    """A due date given as a number of working days (``govflow.working_days(10)``)."""

    count: int

    def __attrs_post_init__(self) -> None:
        # Bounded before anything is counted: a count is walked day by day.
        if isinstance(self.count, bool) or not isinstance(self.count, int) or not 1 <= self.count <= MAX_WORKING_DAYS:
            shown = repr(self.count) if not isinstance(self.count, int) or abs(self.count) < 10**12 else "a huge count"
            raise ValidationError("working_days", f"got {shown}", f"an integer from 1 to {MAX_WORKING_DAYS}")


#: The most working days a due date may be counted in (about ten years).
MAX_WORKING_DAYS = 2500


def working_days(count: int) -> WorkingDays:
    """A due date ``count`` working days after the day it is counted from."""
    return WorkingDays(count)


class Weekdays:
    """A calendar of Monday to Friday, with no holidays."""

    name = "weekdays"

    def is_working_day(self, day: dt.date) -> bool:
        """Monday to Friday."""
        return day.weekday() < 5

    def is_provisional(self, day: dt.date) -> bool:
        """Never: weekdays are certain."""
        return False

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Weekdays in ``(start, end]``, counted in closed form; negative when ``end`` is before ``start``.
        (A subclass with days off of its own is asked day by day.)"""
        if type(self).is_working_day is not Weekdays.is_working_day:
            return count_day_by_day(self.is_working_day, start, end)

        def through(day: dt.date) -> int:  # weekdays from 0001-01-01 (a Monday, ordinal 1) through day
            weeks, rest = divmod(day.toordinal(), 7)
            return weeks * 5 + min(rest, 5)

        return through(end) - through(start)


def add_working_days(calendar: Calendar, start: dt.date, count: int) -> dt.date:
    """The ``count``-th working day after ``start`` (``start`` itself not counted).

    A negative ``count`` counts backwards: the ``-count``-th working day before ``start``.
    """
    step = 1 if count >= 0 else -1
    day, left = start, abs(count)
    try:
        while left:
            day += dt.timedelta(days=step)
            if calendar.is_working_day(day):
                left -= 1
    except OverflowError:
        raise ValidationError("working_days", f"{count} working days from {start.isoformat()} leave the calendar",
                              "a count that ends before the year 9999") from None
    return day


def working_days_between(calendar: Calendar, start: dt.date, end: dt.date) -> int:
    """Working days in ``(start, end]``; negative when ``end`` is before ``start``.

    A calendar with a ``working_days_between(start, end)`` method of its own counts (govflow's
    calendars count in constant time per year spanned); any other is asked day by day.
    """
    own = getattr(calendar, "working_days_between", None)
    if own is not None:
        return int(own(start, end))
    return count_day_by_day(calendar.is_working_day, start, end)


def count_day_by_day(is_working_day: Callable[[dt.date], bool], start: dt.date, end: dt.date) -> int:
    """Working days in ``(start, end]`` asked one day at a time (the reference the faster counts agree with)."""
    if end < start:
        return -count_day_by_day(is_working_day, end, start)
    count, day = 0, start
    while day < end:
        day += dt.timedelta(days=1)
        count += is_working_day(day)
    return count


@attrs.define(eq=False)
class YearCounts:
    """Working days in ``(start, end]`` from per-year running totals, each year asked once.

    ``is_working_day`` answers for whole years; a year it cannot answer (:class:`CalendarError`: no
    schedule) is counted day by day with ``day_by_day`` over the days asked only (the sweep's reading
    guesses for those days, and records that it did). :meth:`forget` drops a year whose answers changed.
    """

    is_working_day: Callable[[dt.date], bool]
    day_by_day: Callable[[dt.date], bool]
    _totals: dict[int, list[int] | None] = attrs.field(factory=dict)

    def _year(self, year: int) -> list[int] | None:
        if year in self._totals:
            return self._totals[year]
        day, seen, found = dt.date(year, 1, 1), 0, []
        try:
            while True:
                seen += self.is_working_day(day)
                found.append(seen)
                if day.month == 12 and day.day == 31:
                    break  # (not past 9999-12-31)
                day += dt.timedelta(days=1)
        except CalendarError:
            self._totals[year] = None
            return None
        self._totals[year] = found
        return found

    def between(self, start: dt.date, end: dt.date) -> int:
        """Working days in ``(start, end]``; negative when ``end`` is before ``start``."""
        if end < start:
            return -self.between(end, start)
        count = 0
        for year in range(start.year, end.year + 1):
            # The days (low, high] of this year: from start (or the year's first day) through end (or its last).
            low = start if year == start.year else dt.date(year - 1, 12, 31)
            high = end if year == end.year else dt.date(year, 12, 31)
            if high <= low:
                continue
            totals = self._year(year)
            if totals is None:
                count += count_day_by_day(self.day_by_day, low, high)
                continue
            before = totals[low.timetuple().tm_yday - 1] if low.year == year else 0
            count += totals[high.timetuple().tm_yday - 1] - before
        return count

    def forget(self, year: int | None = None) -> None:
        """Drop the totals of ``year`` (all years when None)."""
        if year is None:
            self._totals.clear()
        else:
            self._totals.pop(year, None)


def is_provisional(calendar: Calendar, day: dt.date) -> bool:
    """Whether ``calendar`` only guesses for ``day`` (calendars without ``is_provisional`` never do)."""
    check = getattr(calendar, "is_provisional", None)
    return bool(check(day)) if check is not None else False


def resolve_due(
    calendar: Calendar, value: dt.date | WorkingDays, base: dt.date
) -> tuple[dt.date, bool, tuple[dt.date, int] | None]:
    """A due date, whether it is provisional, and the working-day basis it was counted from."""
    if isinstance(value, WorkingDays):
        due = add_working_days(calendar, base, value.count)
        provisional = is_provisional(calendar, base) or is_provisional(calendar, due)
        return due, provisional, (base, value.count)
    return value, False, None
