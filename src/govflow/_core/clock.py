"""Time: the default zone (Asia/Shanghai) and the default clock.

govflow never calls ``datetime.now()`` on its own: every flow takes a clock,
a zero-argument callable returning a timezone-aware datetime.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Final

from .errors import ValidationError

__all__ = ["DEFAULT_ZONE", "Clock", "default_clock", "in_zone", "require_aware"]

#: A clock: a zero-argument callable that returns a timezone-aware datetime.
Clock = Callable[[], dt.datetime]


def _shanghai() -> dt.tzinfo:
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo("Asia/Shanghai")
    except Exception:  # no tz database on this machine (e.g. Windows without tzdata)
        # China has kept UTC+8 without daylight saving since 1991.
        return dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")


#: The default time zone of govflow: Asia/Shanghai (UTC+8).
DEFAULT_ZONE: Final = _shanghai()


def default_clock() -> dt.datetime:
    """The current time in Asia/Shanghai."""
    return dt.datetime.now(DEFAULT_ZONE)


def require_aware(field: str, value: object) -> dt.datetime:
    """``value`` if it is a timezone-aware datetime, else a :class:`ValidationError`."""
    if not isinstance(value, dt.datetime) or value.utcoffset() is None:
        raise ValidationError(
            field, f"got {value!r}", "a timezone-aware datetime (e.g. with tzinfo=DEFAULT_ZONE)"
        )
    return value


def in_zone(field: str, value: object) -> dt.datetime:
    """``value`` (aware) in :data:`DEFAULT_ZONE`, refused when it lies outside the years 1900–9000.

    Due dates and ladder steps are counted from it: a time near the ends of ``datetime``
    would overflow the calendar instead of being refused at the door.
    """
    if type(value) is dt.datetime and value.tzinfo is DEFAULT_ZONE and 1992 <= value.year <= 9000:
        # Already in the zone (every default clock reading; a step reads the clock once): nothing to convert.
        # From 1992 on, Asia/Shanghai has one offset, so no wall time there is skipped or repeated.
        return value
    when = require_aware(field, value)
    if not 1900 <= when.year <= 9000:
        raise ValidationError(field, f"got {when.isoformat()}", "a time in the years 1900–9000")
    try:
        return when.astimezone(DEFAULT_ZONE)
    except (OverflowError, ValueError):  # pragma: no cover - the year bound keeps clear of the edges
        raise ValidationError(field, f"got {when.isoformat()}", "a time in the years 1900–9000") from None
