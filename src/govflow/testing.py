"""Test doubles for applications and plugin authors: a fake clock and ready flows.

    >>> from govflow.testing import FakeClock
    >>> clock = FakeClock("2026-03-02T09:00:00+08:00")
    >>> clock.advance(hours=2).isoformat()
    '2026-03-02T11:00:00+08:00'
"""

from __future__ import annotations

import datetime as dt

from ._clock import DEFAULT_ZONE, require_aware

__all__ = ["FakeClock"]


class FakeClock:
    """A settable clock: returns the same instant until moved.

    Give it an aware datetime or an ISO 8601 string; a naive value is taken
    in Asia/Shanghai. ``tick`` (a timedelta) is added after every reading so
    consecutive steps get distinct, increasing times.
    """

    def __init__(
        self,
        start: dt.datetime | str = "2026-01-05T09:00:00+08:00",
        *,
        tick: dt.timedelta = dt.timedelta(0),
    ) -> None:
        if isinstance(start, str):
            start = dt.datetime.fromisoformat(start)
        if start.tzinfo is None:
            start = start.replace(tzinfo=DEFAULT_ZONE)
        self.now = require_aware("start", start)
        self.tick = tick

    def __call__(self) -> dt.datetime:
        now = self.now
        self.now = now + self.tick
        return now

    def advance(self, delta: dt.timedelta | None = None, **kwargs: float) -> dt.datetime:
        """Move forward by ``delta`` or ``timedelta(**kwargs)``; return the new time."""
        self.now += delta if delta is not None else dt.timedelta(**kwargs)
        return self.now

    def set(self, when: dt.datetime | str) -> dt.datetime:
        """Jump to ``when`` (forward or back)."""
        if isinstance(when, str):
            when = dt.datetime.fromisoformat(when)
        if when.tzinfo is None:
            when = when.replace(tzinfo=DEFAULT_ZONE)
        self.now = require_aware("when", when)
        return self.now
