"""govflow.testing: the fake clock, the recording notifier and the pytest fixtures (loaded via pytest11)."""

from __future__ import annotations

import datetime as dt

import pytest

import govflow
from govflow.testing import FakeClock, RecordingNotifier, memory_flow


def test_fake_clock_moves_only_when_told() -> None:
    clock = FakeClock("2026-03-02T09:00:00")  # naive: taken in Asia/Shanghai
    assert clock() == clock() == dt.datetime(2026, 3, 2, 9, tzinfo=govflow.DEFAULT_ZONE)
    assert clock.advance(days=1, hours=2).isoformat() == "2026-03-03T11:00:00+08:00"
    assert clock.set("2026-01-01T00:00:00+00:00").utcoffset() == dt.timedelta(0)
    ticking = FakeClock("2026-03-02T09:00:00+08:00", tick=dt.timedelta(seconds=5))
    assert [ticking().second for _ in range(3)] == [0, 5, 10]


def test_the_fixtures_are_registered_by_the_pytest_plugin(
    govflow_flow: govflow.Govflow, recording_notifier: RecordingNotifier, fake_clock: FakeClock
) -> None:
    issue = govflow_flow.assign("t", lead="COUNTY-A", due="2026-01-31", by="OFFICE")
    govflow_flow.accept(issue.id, by="COUNTY-A")
    assert recording_notifier.triggers == ["assign", "accept"]
    assert recording_notifier.wait_for(2, timeout=0)
    first = recording_notifier.transitions[0].at  # after the units' registrations, each a tick of the clock
    assert first == govflow_flow.ledger(issue.id)[0].at and first.date() == dt.date(2026, 1, 5)
    assert fake_clock.now > recording_notifier.transitions[1].at


def test_memory_flow_without_units() -> None:
    with memory_flow(units=False) as flow:
        assert flow.units() == []
        with pytest.raises(govflow.PermissionDenied):
            flow.assign("t", lead="X", due="2026-01-31", by="OFFICE")
