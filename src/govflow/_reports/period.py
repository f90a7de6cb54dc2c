"""Reporting periods: a month (``"2020-06"``), a quarter (``"2020-Q3"``) or a year (``"2020"``).

A period is the half-open interval ``[start, end)`` of aware datetimes in
Asia/Shanghai (:data:`govflow.DEFAULT_ZONE`): June 2020 runs from
2020-06-01 00:00 to 2020-07-01 00:00, both at +08:00.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Final, Literal

import attrs

from .._core.clock import DEFAULT_ZONE
from .._core.errors import ValidationError

__all__ = ["Period", "PeriodKind"]

#: What a period spans.
PeriodKind = Literal["month", "quarter", "year"]

_PATTERN: Final = re.compile(r"([0-9]{4})(?:-([0-9]{2})|-Q([0-9]))?")
_ACCEPTED: Final = "a month 'YYYY-MM' (2020-06), a quarter 'YYYY-Qn' (2020-Q3) or a year 'YYYY' (2020), years 1900-2999"
_FIRST_YEAR: Final = 1900
_LAST_YEAR: Final = 2999


def _check(period: Period, attribute: attrs.Attribute[int], value: int) -> None:
    top = {"month": 12, "quarter": 4, "year": 1}.get(period.kind, 1)
    if not 1 <= value <= top:
        raise ValidationError("period", f"{period.kind} index {value!r} is out of range", _ACCEPTED)


@attrs.frozen(order=True)
class Period:
    """A reporting period: ``kind`` (``month``, ``quarter``, ``year``), its ``year`` and ``index``.

    ``index`` is the month (1-12), the quarter (1-4), or 1 for a year. Make one
    with :meth:`parse`; ``str(period)`` gives the text back (``"2020-06"``).
    Periods order by (year, kind, index), which is meaningful within one kind.
    """

    year: int
    kind: PeriodKind
    index: int = attrs.field(default=1, validator=_check)

    def __attrs_post_init__(self) -> None:
        if self.kind not in ("month", "quarter", "year"):
            raise ValidationError("period", f"kind {self.kind!r}", "'month', 'quarter' or 'year'")
        if isinstance(self.year, bool) or not isinstance(self.year, int) or not _FIRST_YEAR <= self.year <= _LAST_YEAR:
            raise ValidationError("period", f"year {self.year!r} is out of range", _ACCEPTED)

    @classmethod
    def parse(cls, text: str | Period) -> Period:
        """The period named by ``text`` (a Period is returned unchanged).

        Raises :class:`ValidationError` naming the accepted forms for anything else.
        """
        if isinstance(text, Period):
            return text
        if not isinstance(text, str):
            raise ValidationError("period", f"got {text!r}", _ACCEPTED)
        match = _PATTERN.fullmatch(text)
        if match is None:
            raise ValidationError("period", f"got {text!r}", _ACCEPTED)
        year, month, quarter = match.groups()
        try:
            if month is not None:
                return cls(int(year), "month", int(month))
            if quarter is not None:
                return cls(int(year), "quarter", int(quarter))
            return cls(int(year), "year", 1)
        except ValidationError:
            raise ValidationError("period", f"got {text!r}", _ACCEPTED) from None

    def __str__(self) -> str:
        if self.kind == "month":
            return f"{self.year:04d}-{self.index:02d}"
        if self.kind == "quarter":
            return f"{self.year:04d}-Q{self.index}"
        return f"{self.year:04d}"

    @property
    def first_month(self) -> int:
        """The number of the period's first month (1-12)."""
        return {"month": self.index, "quarter": 3 * self.index - 2, "year": 1}[self.kind]

    @property
    def month_count(self) -> int:
        """How many months the period spans (1, 3 or 12)."""
        return {"month": 1, "quarter": 3, "year": 12}[self.kind]

    @property
    def start(self) -> dt.datetime:
        """The first instant of the period (midnight in Asia/Shanghai), inclusive."""
        return dt.datetime(self.year, self.first_month, 1, tzinfo=DEFAULT_ZONE)

    @property
    def end(self) -> dt.datetime:
        """The first instant after the period (midnight in Asia/Shanghai), exclusive."""
        month = self.first_month + self.month_count
        year = self.year + (month - 1) // 12
        return dt.datetime(year, (month - 1) % 12 + 1, 1, tzinfo=DEFAULT_ZONE)

    @property
    def first_day(self) -> dt.date:
        """The period's first day."""
        return self.start.date()

    @property
    def last_day(self) -> dt.date:
        """The period's last day (inclusive)."""
        return self.end.date() - dt.timedelta(days=1)

    def previous(self) -> Period:
        """The period of the same kind just before this one (``"2020-06"`` -> ``"2020-05"``)."""
        if self.kind == "year":
            return Period(self.year - 1, "year", 1)
        top = 12 if self.kind == "month" else 4
        if self.index == 1:
            return Period(self.year - 1, self.kind, top)
        return Period(self.year, self.kind, self.index - 1)

    def months(self) -> list[Period]:
        """The months in the period, in order."""
        return [Period(self.year, "month", self.first_month + i) for i in range(self.month_count)]

    def contains(self, when: dt.datetime | dt.date) -> bool:
        """Whether an instant (aware) or a day falls in the period."""
        if isinstance(when, dt.datetime):
            return self.start <= when < self.end
        return self.first_day <= when <= self.last_day
