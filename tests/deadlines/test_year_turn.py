"""The calendar's own edges: the turn of the year without next year's schedule, and make-up working days
that a notice places in the year before (2005-12-31 in the 2006 notice)."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import pytest

import govflow
from govflow import ChinaCalendar, ValidationError
from govflow.testing import FakeClock

from ..conftest import STORES, add_units, open_flow


def test_2005_12_31_was_a_working_day() -> None:
    # 国务院办公厅关于2006年部分节假日安排的通知（国办发明电〔2005〕35号）: "元旦：1月1日至3日放假，共3天。
    # 12月31日（星期六）上班". The chinese-calendar package lists the Saturday as a day off; govflow corrects it.
    calendar = ChinaCalendar()
    saturday = dt.date(2005, 12, 31)
    assert saturday.weekday() == 5
    assert calendar.is_working_day(saturday)
    assert not calendar.is_working_day(dt.date(2006, 1, 2))  # New Year's holiday, as the notice says
    assert calendar.add_working_days(dt.date(2005, 12, 30), 1) == saturday
    assert calendar.add_working_days(saturday, 1) == dt.date(2006, 1, 4)


def test_a_schedule_may_place_make_up_days_in_the_december_before() -> None:
    calendar = ChinaCalendar()
    saturday = dt.date(2026, 12, 26)
    assert saturday.weekday() == 5 and not calendar.is_working_day(saturday)
    calendar.load_schedule({"2027": {"holidays": ["2027-01-01..2027-01-03"], "workdays": ["2026-12-26"]}})
    assert calendar.is_working_day(saturday)
    assert not calendar.is_working_day(dt.date(2027, 1, 1))
    with pytest.raises(ValidationError) as info:
        calendar.load_schedule({"2027": {"workdays": ["2026-06-06"]}})  # only the December before
    assert info.value.field == "schedule.2027.workdays"
    with pytest.raises(ValidationError):
        calendar.load_schedule({"2027": {"holidays": ["2026-12-31"]}})  # days off stay in their own year
    with pytest.raises(ValidationError):
        calendar.load_schedule({"2027": {"workdays": ["2025-12-27"]}})  # two years back


@pytest.mark.parametrize("kind", STORES)
def test_a_sweep_in_late_december_counts_next_year_provisionally(
    kind: str, tmp_path: Path, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    year = max(ChinaCalendar().official_years())
    clock.set(f"{year}-12-01T09:00:00+08:00")
    with open_flow(kind, tmp_path, clock) as flow:
        add_units(flow)
        issue = flow.assign("年底的事项", lead="XIANGYUN", due=f"{year + 1}-01-05", by="OFFICE")
        late = flow.assign("年前到期", lead="BINCHUAN", due=f"{year}-12-28", by="OFFICE")
        clock.set(f"{year}-12-30T09:00:00+08:00")
        with caplog.at_level(logging.WARNING, logger="govflow"):
            events = flow.sweep()  # the ladder's horizon reaches into a year without a schedule
        steps = {(e.issue_id, e.step) for e in events}
        assert (issue.id, "due_soon") in steps and (late.id, "overdue") in steps
        assert f"no official holiday schedule for {year + 1}" in caplog.text
        clock.set(f"{year + 1}-01-08T09:00:00+08:00")
        overdue = {o.issue.id: o.working_days for o in flow.overdue()}  # counted across the new year
        assert overdue[late.id] > 0 and overdue[issue.id] > 0
        flow.verify_ledger()
        # Due dates themselves still follow the configured fallback: refused by default.
        with pytest.raises(govflow.CalendarError):
            flow.assign("新年的事项", lead="XIANGYUN", due=govflow.working_days(5), by="OFFICE")
