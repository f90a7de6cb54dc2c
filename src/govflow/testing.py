"""Test doubles for applications and plugin authors, and a pytest plugin.

    >>> from govflow.testing import FakeClock
    >>> clock = FakeClock("2026-03-02T09:00:00+08:00")
    >>> clock.advance(hours=2).isoformat()
    '2026-03-02T11:00:00+08:00'

Installed with govflow, this module is also a pytest plugin (entry point
``pytest11``) that provides the fixtures ``fake_clock``,
``recording_notifier`` and ``govflow_flow``.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator, Sequence

from ._core.clock import DEFAULT_ZONE, require_aware
from ._core.events import DeadlineEvent, TransitionEvent
from ._flow.facade import Govflow
from ._flow.open import open
from ._plugins.manager import hookimpl

__all__ = ["FakeClock", "RecordingNotifier", "fake_clock", "govflow_flow", "memory_flow", "recording_notifier"]


class FakeClock:
    """A settable clock: returns the same instant until moved.

    Background delivery (``delivery="background"``) reads the clock from its
    own thread; with a ``tick``, use ``delivery="inline"`` or ``"manual"``
    for reproducible times.

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


class RecordingNotifier:
    """A notifier plugin that keeps every event delivered to it, in order.

    ``name`` is what the outbox records; give two recorders different names.
    """

    def __init__(self, name: str = "recorder") -> None:
        self.name = name
        self.transitions: list[TransitionEvent] = []
        self.deadlines: list[DeadlineEvent] = []
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)

    @hookimpl
    def govflow_after_transition(self, event: TransitionEvent) -> None:
        """Record a transition event."""
        with self._arrived:
            self.transitions.append(event)
            self._arrived.notify_all()

    @hookimpl
    def govflow_deadline(self, event: DeadlineEvent) -> None:
        """Record a deadline event."""
        with self._arrived:
            self.deadlines.append(event)
            self._arrived.notify_all()

    @property
    def triggers(self) -> list[str]:
        """The triggers received, in order."""
        return [event.trigger for event in self.transitions]

    def wait_for(self, count: int, timeout: float = 10.0) -> bool:
        """Wait until ``count`` transition events have arrived (for background delivery)."""
        with self._arrived:
            return self._arrived.wait_for(lambda: len(self.transitions) >= count, timeout)


def memory_flow(
    clock: FakeClock | None = None, plugins: Sequence[object] = (), *, units: bool = True
) -> Govflow:
    """An in-memory flow with inline delivery; with ``units``, a supervisor
    office ``OFFICE`` and two counties ``COUNTY-A`` and ``COUNTY-B``."""
    flow = open(":memory:", clock=clock or FakeClock(), plugins=plugins, delivery="inline")
    if units:
        flow.add_unit("OFFICE", "领导小组办公室", level="prefecture", supervisor=True)
        flow.add_unit("COUNTY-A", "甲县", level="county", parent="OFFICE")
        flow.add_unit("COUNTY-B", "乙县", level="county", parent="OFFICE")
    return flow


try:  # the fixtures need pytest; the helpers above do not
    import pytest
except ImportError:  # pragma: no cover - pytest is not installed
    pass
else:

    @pytest.fixture
    def fake_clock() -> FakeClock:
        """A :class:`FakeClock` at Monday 2026-01-05 09:00 Asia/Shanghai that ticks a minute per reading."""
        return FakeClock(tick=dt.timedelta(minutes=1))


    @pytest.fixture
    def recording_notifier() -> RecordingNotifier:
        """A fresh :class:`RecordingNotifier`."""
        return RecordingNotifier()


    @pytest.fixture
    def govflow_flow(fake_clock: FakeClock, recording_notifier: RecordingNotifier) -> Iterator[Govflow]:
        """An in-memory flow (see :func:`memory_flow`) with ``recording_notifier`` registered."""
        with memory_flow(fake_clock, [recording_notifier]) as flow:
            yield flow
