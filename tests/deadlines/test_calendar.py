"""Working days (#4): China's official calendar with its make-up days, closures, the Weekdays
calendar, years without official data (refuse / provisional), TOML schedules and recounting."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import chinese_calendar
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import govflow
from govflow import CalendarError, ChinaCalendar, ValidationError, Weekdays, add_working_days, working_days_between
from govflow.testing import FakeClock

from ..conftest import STORES, add_units, refused

D = dt.date


def days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


@pytest.fixture(scope="module")
def cal() -> ChinaCalendar:
    """A calendar nobody adds closures or schedules to (those tests make their own)."""
    return ChinaCalendar()


def december_flow(kind: str, tmp_path: Path, fallback: str | None) -> govflow.Govflow:
    """A flow whose clock stands on Sunday 2026-12-20: ten working days reach into 2027."""
    clock = FakeClock("2026-12-20T09:00:00+08:00", tick=dt.timedelta(minutes=1))
    target = ":memory:" if kind == "memory" else str(tmp_path / "flow.sqlite3")
    flow = govflow.open(target, clock=clock, calendar_fallback=fallback)  # type: ignore[arg-type]
    add_units(flow)
    return flow


@pytest.fixture(params=STORES)
def store_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def provisional_flow(store_kind: str, tmp_path: Path) -> Iterator[govflow.Govflow]:
    with december_flow(store_kind, tmp_path, "provisional") as flow:
        yield flow


@pytest.fixture
def refusing_flow(store_kind: str, tmp_path: Path) -> Iterator[govflow.Govflow]:
    with december_flow(store_kind, tmp_path, None) as flow:
        yield flow


# -- the official calendar, checked against chinese_calendar ------------------------------------------------


def test_package_data_is_what_these_tests_assume() -> None:
    """The dates below come from chinese_calendar 1.11; if the package changes them, this says so first."""
    off = {d for d in days(D(2026, 2, 10), D(2026, 3, 5)) if not chinese_calendar.is_workday(d)}
    weekend_work = {
        d for d in days(D(2026, 2, 10), D(2026, 3, 5)) if d.weekday() >= 5 and chinese_calendar.is_workday(d)
    }
    assert {d for d in off if d.weekday() < 5} == set(days(D(2026, 2, 16), D(2026, 2, 20))) | {D(2026, 2, 23)}
    assert weekend_work == {D(2026, 2, 14), D(2026, 2, 28)}
    national = days(D(2026, 9, 15), D(2026, 10, 15))
    assert {d for d in national if d.weekday() >= 5 and chinese_calendar.is_workday(d)} == {
        D(2026, 9, 20), D(2026, 10, 10),
    }
    assert {d for d in national if d.weekday() < 5 and not chinese_calendar.is_workday(d)} == {
        D(2026, 9, 25), *days(D(2026, 10, 1), D(2026, 10, 2)), *days(D(2026, 10, 5), D(2026, 10, 7)),
    }


def test_spring_festival_2026(cal: ChinaCalendar) -> None:
    assert all(not cal.is_working_day(d) for d in days(D(2026, 2, 15), D(2026, 2, 23)))
    assert cal.is_working_day(D(2026, 2, 14))  # Saturday, make-up working day (调休上班)
    assert cal.is_working_day(D(2026, 2, 28))  # Saturday, make-up working day
    assert cal.is_working_day(D(2026, 2, 13))  # Friday before
    assert cal.is_working_day(D(2026, 2, 24))  # Tuesday after
    assert not cal.is_working_day(D(2026, 3, 1))  # an ordinary Sunday
    assert not cal.is_working_day(D(2026, 2, 7))  # an ordinary Saturday
    assert cal.is_provisional(D(2026, 2, 16)) is False
    assert 2004 in cal.official_years() and 2026 in cal.official_years()
    assert cal.covers(2026) and not cal.covers(2027)


def test_national_day_2026(cal: ChinaCalendar) -> None:
    assert all(not cal.is_working_day(d) for d in days(D(2026, 10, 1), D(2026, 10, 7)))
    assert cal.is_working_day(D(2026, 9, 20))  # Sunday, make-up working day
    assert cal.is_working_day(D(2026, 10, 10))  # Saturday, make-up working day
    assert not cal.is_working_day(D(2026, 9, 25))  # Mid-Autumn Festival (a Friday)
    assert cal.is_working_day(D(2026, 10, 8)) and cal.is_working_day(D(2026, 9, 30))
    assert not cal.is_working_day(D(2026, 10, 11))  # Sunday after


@pytest.mark.parametrize(
    ("start", "count", "expected"),
    [
        (D(2026, 2, 13), 1, D(2026, 2, 14)),  # Friday -> the make-up Saturday
        (D(2026, 2, 13), 2, D(2026, 2, 24)),  # then straight over the nine days off
        (D(2026, 2, 13), 5, D(2026, 2, 27)),
        (D(2026, 2, 13), 6, D(2026, 2, 28)),  # the second make-up Saturday
        (D(2026, 2, 13), 7, D(2026, 3, 2)),
        (D(2026, 2, 18), 1, D(2026, 2, 24)),  # from inside the holiday
        (D(2026, 2, 24), -1, D(2026, 2, 14)),  # backwards
        (D(2026, 2, 24), -2, D(2026, 2, 13)),
        (D(2026, 3, 2), -7, D(2026, 2, 13)),
        (D(2026, 9, 18), 1, D(2026, 9, 20)),  # Friday -> the make-up Sunday
        (D(2026, 9, 18), 5, D(2026, 9, 24)),
        (D(2026, 9, 18), 6, D(2026, 9, 28)),  # over Mid-Autumn and its weekend
        (D(2026, 9, 18), 8, D(2026, 9, 30)),
        (D(2026, 9, 18), 9, D(2026, 10, 8)),  # over National Day
        (D(2026, 9, 18), 11, D(2026, 10, 10)),  # the make-up Saturday
        (D(2026, 9, 18), 12, D(2026, 10, 12)),
        (D(2026, 10, 8), -1, D(2026, 9, 30)),
        (D(2026, 2, 13), 0, D(2026, 2, 13)),
    ],
)
def test_add_working_days_across_holidays(cal: ChinaCalendar, start: dt.date, count: int, expected: dt.date) -> None:
    assert add_working_days(cal, start, count) == expected
    assert cal.add_working_days(start, count) == expected


def test_working_days_between(cal: ChinaCalendar) -> None:
    assert working_days_between(cal, D(2026, 2, 13), D(2026, 2, 27)) == 5  # 14, 24, 25, 26, 27
    assert working_days_between(cal, D(2026, 2, 27), D(2026, 2, 13)) == -5
    assert working_days_between(cal, D(2026, 2, 14), D(2026, 2, 23)) == 0  # (14, 23]: all days off
    assert working_days_between(cal, D(2026, 2, 13), D(2026, 2, 14)) == 1
    assert working_days_between(cal, D(2026, 2, 20), D(2026, 2, 20)) == 0
    assert cal.working_days_between(D(2026, 9, 18), D(2026, 10, 12)) == 12
    assert working_days_between(cal, D(2026, 9, 30), D(2026, 10, 8)) == 1
    # A whole month of February 2026: 20 weekdays - 6 holiday weekdays + 2 make-up Saturdays.
    assert working_days_between(cal, D(2026, 1, 31), D(2026, 2, 28)) == 16


SPANS = st.tuples(st.dates(D(2004, 1, 1), D(2028, 12, 31)), st.dates(D(2004, 1, 1), D(2028, 12, 31)))


@settings(max_examples=300, deadline=None)
@given(SPANS)
def test_counts_between_dates_agree_with_asking_day_by_day(span: tuple[dt.date, dt.date]) -> None:
    """The running totals per year (China's calendar, the sweep's YearTurn) and the closed form (Weekdays) give
    the count the day-by-day reference gives, over holidays, make-up days, year ends and both directions."""
    from govflow._core.workdays import count_day_by_day  # Private on purpose: the reference count
    from govflow._deadlines.calendar import YearTurn  # Private on purpose: the sweep's reading of the calendar

    start, end = span
    for calendar in (PROVISIONAL, YearTurn(STRICT), Weekdays()):
        expected = count_day_by_day(calendar.is_working_day, start, end)
        assert working_days_between(calendar, start, end) == expected, calendar


PROVISIONAL = ChinaCalendar(fallback="provisional")
STRICT = ChinaCalendar()


def test_a_count_follows_closures_and_loaded_schedules() -> None:
    cal = ChinaCalendar(fallback="provisional")
    assert cal.working_days_between(D(2026, 4, 27), D(2026, 4, 30)) == 3
    cal.add_closure(D(2026, 4, 29))
    assert cal.working_days_between(D(2026, 4, 27), D(2026, 4, 30)) == 2
    guessed = cal.working_days_between(D(2031, 1, 31), D(2031, 2, 28))  # provisional: weekdays of February
    assert guessed == 20
    # 3-7 February 2031 (Monday to Friday) off, Saturday 8 February worked.
    cal.load_schedule({2031: {"holidays": ["2031-02-03..2031-02-07"], "workdays": ["2031-02-08"]}})
    assert cal.working_days_between(D(2031, 1, 31), D(2031, 2, 28)) == guessed - 5 + 1
    with pytest.raises(CalendarError):  # a refusing calendar still refuses a year it has no schedule for
        ChinaCalendar().working_days_between(D(2031, 1, 1), D(2031, 1, 5))
    assert ChinaCalendar().working_days_between(D(2031, 12, 31), D(2031, 12, 31)) == 0


def test_a_weekdays_subclass_with_days_off_of_its_own_is_asked_day_by_day() -> None:
    class OfficeWeek(Weekdays):
        def is_working_day(self, day: dt.date) -> bool:
            return super().is_working_day(day) and day != D(2026, 3, 4)

    assert working_days_between(OfficeWeek(), D(2026, 3, 2), D(2026, 3, 6)) == 3
    assert working_days_between(Weekdays(), D(2026, 3, 2), D(2026, 3, 6)) == 4


def test_a_count_asks_only_the_days_in_its_span_of_a_year_without_a_schedule() -> None:
    """2031's notice carries a make-up working day into 31 December 2030, a year with no schedule: a count
    over (30 December 2030, 5 January 2031] asks only that day of 2030, answered; nothing is refused or
    guessed."""
    from govflow._deadlines.calendar import YearTurn  # Private on purpose: the sweep's reading of the calendar

    cal = ChinaCalendar()
    cal.load_schedule({2031: {"holidays": ["2031-01-01"], "workdays": ["2030-12-31"]}})
    expected = 1 + 2  # 31 December (worked), 2 and 3 January 2031 (Thursday, Friday)
    assert cal.working_days_between(D(2030, 12, 30), D(2031, 1, 5)) == expected
    turn = YearTurn(cal)
    assert turn.working_days_between(D(2030, 12, 30), D(2031, 1, 5)) == expected and turn.guessed == set()
    assert turn.working_days_between(D(2030, 12, 1), D(2031, 1, 5)) > expected and turn.guessed == {2030}
    with pytest.raises(CalendarError):
        cal.working_days_between(D(2030, 12, 29), D(2031, 1, 5))  # 30 December 2030 is not answered


def test_closures() -> None:
    cal = ChinaCalendar()
    before = add_working_days(cal, D(2026, 4, 28), 2)
    assert before == D(2026, 4, 30)
    cal.add_closure(D(2026, 4, 30))
    assert not cal.is_working_day(D(2026, 4, 30))
    # 1 to 5 May is the Labour Day holiday: the next working day is Wednesday 6 May.
    assert add_working_days(cal, D(2026, 4, 28), 2) == D(2026, 5, 6)
    assert working_days_between(cal, D(2026, 4, 28), D(2026, 5, 6)) == 2
    # A closure beats a make-up working day.
    cal.add_closure(D(2026, 2, 14))
    assert not cal.is_working_day(D(2026, 2, 14))
    assert add_working_days(cal, D(2026, 2, 13), 1) == D(2026, 2, 24)
    # Another calendar object knows nothing of these closures.
    assert ChinaCalendar().is_working_day(D(2026, 4, 30))


@pytest.mark.parametrize("kind", STORES)
def test_closures_live_on_the_flow_calendar(kind: str, tmp_path: Path) -> None:
    clock = FakeClock("2026-04-27T09:00:00+08:00")  # Monday
    target = ":memory:" if kind == "memory" else str(tmp_path / "flow.sqlite3")
    with govflow.open(target, clock=clock) as flow, govflow.open(":memory:", clock=clock) as other:
        add_units(flow)
        assert flow.calendar is flow.calendars()["cn"]
        flow.calendar.add_closure(D(2026, 4, 29))  # type: ignore[attr-defined]
        issue = flow.assign("路灯维修", lead="XIANGYUN", due=govflow.working_days(3), by="OFFICE")
        # 28 Apr, (29 closed), 30 Apr, (1-5 May Labour Day), 6 May
        assert issue.due == D(2026, 5, 6)
        assert issue.due_basis == (D(2026, 4, 27), 3)
        assert other.calendar.is_working_day(D(2026, 4, 29))  # each flow has its own calendar


def test_weekdays_calendar() -> None:
    week = Weekdays()
    assert week.is_working_day(D(2026, 2, 16))  # a Spring Festival Monday is a weekday
    assert not week.is_working_day(D(2026, 2, 14))  # a make-up Saturday is not
    assert add_working_days(week, D(2026, 2, 13), 1) == D(2026, 2, 16)
    assert add_working_days(week, D(2026, 2, 16), -1) == D(2026, 2, 13)
    assert working_days_between(week, D(2026, 2, 13), D(2026, 2, 27)) == 10
    assert not week.is_provisional(D(2031, 1, 1))
    assert week.is_working_day(D(2031, 1, 2))  # any year: no CalendarError


@pytest.mark.parametrize("kind", STORES)
def test_weekdays_flow(kind: str, tmp_path: Path) -> None:
    clock = FakeClock("2026-12-28T09:00:00+08:00")
    target = ":memory:" if kind == "memory" else str(tmp_path / "flow.sqlite3")
    with govflow.open(target, clock=clock, calendar="weekdays") as flow:
        add_units(flow)
        assert isinstance(flow.calendar, Weekdays)
        issue = flow.assign("跨年事项", lead="XIANGYUN", due=govflow.working_days(5), by="OFFICE")
        assert issue.due == D(2027, 1, 4)  # 29, 30, 31 Dec, 1 Jan (a weekday here), 4 Jan
        assert issue.due_provisional is False
        assert flow.get(issue.id).due_basis == (D(2026, 12, 28), 5)
    with pytest.raises(ValidationError) as info:
        govflow.open(":memory:", calendar="weekdays", calendar_fallback="provisional")
    assert info.value.field == "calendar_fallback"
    with pytest.raises(ValidationError) as info:
        govflow.open(":memory:", calendar="lunar")
    assert info.value.field == "calendar"


# -- a year without official data ---------------------------------------------------------------------------


def test_uncovered_year_refused_by_default(cal: ChinaCalendar) -> None:
    with pytest.raises(CalendarError) as info:
        cal.is_working_day(D(2027, 1, 4))
    assert info.value.year == 2027
    assert "2027" in str(info.value)
    assert "2004–2026" in str(info.value)
    with pytest.raises(CalendarError, match="2027"):
        add_working_days(cal, D(2026, 12, 30), 3)
    with pytest.raises(CalendarError, match="2027"):
        working_days_between(cal, D(2026, 12, 30), D(2027, 1, 8))
    assert cal.is_provisional(D(2027, 1, 4))
    with pytest.raises(ValidationError) as bad:
        ChinaCalendar(fallback="guess")  # type: ignore[arg-type]
    assert bad.value.field == "calendar_fallback"


def test_assign_refused_for_an_uncovered_year_writes_nothing(refusing_flow: govflow.Govflow) -> None:
    flow = refusing_flow
    kept = flow.assign("年内事项", lead="XIANGYUN", due=govflow.working_days(5), by="OFFICE")
    assert kept.due == D(2026, 12, 25) and kept.due_provisional is False
    error = refused(
        flow, CalendarError,
        lambda: flow.assign("跨年事项", lead="XIANGYUN", due=govflow.working_days(10), by="OFFICE"),
    )
    assert isinstance(error, CalendarError) and error.year == 2027
    assert "2027" in str(error)
    assert [i.id for i in flow.issues()] == [kept.id]
    # A plain date in 2027 needs no counting and is accepted as given.
    dated = flow.assign("定日事项", lead="XIANGYUN", due=D(2027, 1, 15), by="OFFICE")
    assert dated.due == D(2027, 1, 15) and dated.due_provisional is False
    assert flow.verify_ledger()


def test_provisional_fallback_counts_weekends_and_statutory_days(provisional_flow: govflow.Govflow) -> None:
    flow = provisional_flow
    cal = flow.calendar
    assert isinstance(cal, ChinaCalendar) and cal.fallback == "provisional"
    # The statutory days of 2027 (holidays package), the package's own "observed" guesses left out.
    assert not cal.is_working_day(D(2027, 1, 1))  # New Year's Day, a Friday
    assert not cal.is_working_day(D(2027, 2, 5))  # Chinese New Year's Eve, a Friday
    assert not cal.is_working_day(D(2027, 2, 8))  # Spring Festival, a Monday
    assert cal.is_working_day(D(2027, 2, 9))  # only "observed" in the holidays package
    assert cal.is_working_day(D(2027, 1, 4))
    assert not cal.is_working_day(D(2027, 1, 9))  # Saturday
    assert cal.is_provisional(D(2027, 1, 4)) and not cal.is_provisional(D(2026, 12, 31))

    issue = flow.assign("跨年事项", lead="XIANGYUN", due=govflow.working_days(10), by="OFFICE")
    # 21-25, 28-31 Dec (9), 1 Jan statutory, 4 Jan (10)
    assert issue.due == D(2027, 1, 4)
    assert issue.due_provisional is True
    assert issue.due_basis == (D(2026, 12, 20), 10)
    assert issue.original_due == issue.due
    stored = flow.get(issue.id)
    assert (stored.due, stored.due_provisional, stored.due_basis) == (issue.due, True, issue.due_basis)
    assert flow.ledger(issue.id)[0].data["working_days"] == 10
    assert flow.ledger(issue.id)[0].data["due_provisional"] is True

    inside = flow.assign("年内事项", lead="BINCHUAN", due=govflow.working_days(5), by="OFFICE")
    assert inside.due == D(2026, 12, 25) and inside.due_provisional is False
    assert "due_provisional" not in flow.ledger(inside.id)[0].data
    assert flow.verify_ledger()


SCHEDULE_2027 = """\
# test data only: the shape of a State Council notice, not the real 2027 dates
[2027]
holidays = [
    "2027-01-01..2027-01-04",
    "2027-02-05..2027-02-13",
    "2027-04-05",
]
workdays = ["2027-02-20", 2027-02-21]   # a quoted date and a TOML date literal
"""


def test_load_schedule_from_toml(tmp_path: Path) -> None:
    path = tmp_path / "schedule-2027.toml"
    path.write_text(SCHEDULE_2027, encoding="utf-8")
    cal = ChinaCalendar()
    assert cal.load_schedule(path) == [2027]
    assert cal.covers(2027) and 2027 in cal.official_years()
    assert not cal.is_provisional(D(2027, 1, 4))
    assert not cal.is_working_day(D(2027, 1, 4))  # a Monday inside a range
    assert not cal.is_working_day(D(2027, 2, 9))
    assert cal.is_working_day(D(2027, 2, 20)) and cal.is_working_day(D(2027, 2, 21))  # make-up weekend
    assert cal.is_working_day(D(2027, 1, 5))
    assert not cal.is_working_day(D(2027, 3, 6))  # an ordinary Saturday
    assert add_working_days(cal, D(2026, 12, 31), 1) == D(2027, 1, 5)
    assert add_working_days(cal, D(2027, 2, 4), 1) == D(2027, 2, 15)
    assert add_working_days(cal, D(2027, 2, 19), 2) == D(2027, 2, 21)
    with pytest.raises(CalendarError, match="2028"):
        cal.is_working_day(D(2028, 1, 3))


def test_loaded_schedule_replaces_package_data_for_its_year() -> None:
    cal = ChinaCalendar()
    assert cal.load_schedule({"2026": {"holidays": ["2026-03-02"]}}) == [2026]
    assert not cal.is_working_day(D(2026, 3, 2))
    assert cal.is_working_day(D(2026, 2, 16))  # the package's Spring Festival is gone for this calendar
    assert not cal.is_working_day(D(2026, 2, 14))  # and so are its make-up days


def test_recount_provisional_dues(provisional_flow: govflow.Govflow, tmp_path: Path) -> None:
    flow = provisional_flow
    a = flow.assign("跨年事项", lead="XIANGYUN", due=govflow.working_days(10), by="OFFICE")
    b = flow.assign("春节前事项", lead="BINCHUAN", due=govflow.working_days(35), by="OFFICE")
    inside = flow.assign("年内事项", lead="XIANGYUN", due=govflow.working_days(3), by="OFFICE")
    dated = flow.assign("定日事项", lead="XIANGYUN", due=D(2027, 1, 6), by="OFFICE")
    # A rework moved this one: its original due date is its own and must stay.
    rework = flow.assign("退回事项", lead="BINCHUAN", due=D(2026, 12, 22), by="OFFICE")
    flow.implement(rework.id, by="BINCHUAN", note="已整改")
    flow.report(rework.id, by="BINCHUAN", result="已完成")
    rework = flow.reject(rework.id, by="OFFICE", reason="未达标", due=govflow.working_days(10))  # type: ignore[arg-type]
    assert (rework.due, rework.due_provisional, rework.original_due) == (D(2027, 1, 4), True, D(2026, 12, 22))
    # Closed issues are not recounted.
    closed = flow.assign("撤销事项", lead="XIANGYUN", due=govflow.working_days(10), by="OFFICE")
    flow.cancel(closed.id, by="OFFICE", reason="重复交办")
    assert a.due == D(2027, 1, 4) and a.due_provisional
    assert b.due_provisional and b.due == D(2027, 2, 10)  # provisional: only 5 and 8 Feb are off
    assert not inside.due_provisional and not dated.due_provisional

    assert flow.recount_provisional_dues() == []  # nothing official yet: nothing moves
    path = tmp_path / "schedule-2027.toml"
    path.write_text(SCHEDULE_2027, encoding="utf-8")
    assert flow.calendar.load_schedule(path) == [2027]  # type: ignore[attr-defined]
    seq_before = flow.store.chain_head()[0]

    changed = flow.recount_provisional_dues()
    assert [i.id for i in changed] == [a.id, b.id, rework.id]
    new = {i.id: i for i in changed}
    assert new[a.id].due == D(2027, 1, 5)  # 1-4 Jan are off in the official schedule
    assert new[b.id].due == D(2027, 2, 17)  # 5-13 Feb off, not only 5 and 8
    assert new[rework.id].due == D(2027, 1, 5)
    for issue in changed:
        assert issue.due_provisional is False
        assert flow.get(issue.id) == issue
        entry = flow.ledger(issue.id)[-1]
        assert entry.seq > seq_before
        assert (entry.trigger, entry.actor, entry.from_state, entry.to_state) == (
            "recount_due", "govflow", issue.state, issue.state,
        )
        assert entry.data["due"] == issue.due.isoformat()
        assert entry.data["due_provisional"] is False
    assert flow.ledger(a.id)[-1].data["previous_due"] == "2027-01-04"
    assert flow.ledger(a.id)[-1].data["working_days"] == 10
    # original_due follows a recount only when nothing else had moved the due date.
    assert new[a.id].original_due == D(2027, 1, 5)
    assert new[b.id].original_due == D(2027, 2, 17)
    assert new[rework.id].original_due == D(2026, 12, 22)
    assert flow.get(inside.id).version == flow.get(dated.id).version == 1
    assert flow.get(closed.id).version == 2
    assert flow.get(closed.id).state == "cancelled" and flow.get(closed.id).due_provisional is True
    # A second recount has nothing left to do and writes nothing.
    head = flow.store.chain_head()
    assert flow.recount_provisional_dues() == []
    assert flow.store.chain_head() == head
    assert flow.verify_ledger()


def test_recount_leaves_issues_closed_in_substance(provisional_flow: govflow.Govflow, tmp_path: Path) -> None:
    """issue-list v2: verified is not final (a call-back or a reopening may send it back), yet closed in
    substance like merged and cancelled; a recount leaves them as they are and counts the others."""
    flow = provisional_flow

    def provisional(title: str, lead: str = "XIANGYUN") -> str:
        issue = flow.assign(title, lead=lead, due=govflow.working_days(10), by="OFFICE")
        assert issue.lifecycle_version == 2 and issue.due_provisional
        return issue.id

    verified, reopened, merged, into, cancelled, reported = (provisional(t) for t in "ABCDEF")
    for issue_id in (verified, reopened, reported):
        flow.accept(issue_id, by="XIANGYUN")
        flow.implement(issue_id, by="XIANGYUN", note="已整改")
        flow.report(issue_id, by="XIANGYUN", result="已完成")
    for issue_id in (verified, reopened):
        flow.verify(issue_id, by="OFFICE")
    flow.reopen(reopened, by="OFFICE", reason="效果未巩固")  # back to assigned, its due date unchanged
    flow.merge(merged, into=into, by="OFFICE", reason="重复")
    flow.cancel(cancelled, by="OFFICE", reason="撤销")
    before = {i.id: i for i in flow.issues()}
    path = tmp_path / "schedule-2027.toml"
    path.write_text(SCHEDULE_2027, encoding="utf-8")
    changed = flow.load_schedule(path)
    assert sorted(i.id for i in changed) == sorted([reopened, into, reported])
    for issue_id in (verified, merged, cancelled):
        assert flow.get(issue_id) == before[issue_id]
        assert flow.ledger(issue_id)[-1].trigger != "recount_due"
    assert {flow.get(i).state for i in (verified, merged, cancelled)} == {"verified", "merged", "cancelled"}
    assert all(flow.get(i).due == D(2027, 1, 5) and not flow.get(i).due_provisional for i in (reopened, reported))
    assert flow.verify_ledger()


def test_closed_states_come_from_the_definition() -> None:
    from govflow._lifecycle.issue_list import ISSUE_LIST, ISSUE_LIST_V2
    from govflow._lifecycle.machine import Lifecycle, LifecycleDefinition

    def closed(raw: dict[str, Any]) -> frozenset[str]:
        return Lifecycle(LifecycleDefinition.from_dict(raw)).closed_states

    assert closed(ISSUE_LIST) == {"verified", "cancelled"}
    assert closed(ISSUE_LIST_V2) == {"verified", "cancelled", "merged"}
    # A deployment whose verification records nothing: its verified state is open in substance too.
    plain = [{**t, "effects": [e for e in t.get("effects", []) if e != "record_verification"]}
             for t in ISSUE_LIST_V2["transitions"]]
    assert closed({**ISSUE_LIST_V2, "name": "plain", "transitions": plain}) == {"cancelled", "merged"}


# -- malformed schedules ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "field", "words"),
    [
        ('[2027]\nholidays = ["2027-02-20"]\nworkdays = ["2027-02-20"]\n', "schedule.2027", "both"),
        ('[2027]\nholidays = ["2027-02-01..2027-02-10"]\nworkdays = ["2027-02-07"]\n', "schedule.2027", "2027-02-07"),
        ('[2027]\nholidays = ["2028-01-01"]\n', "schedule.2027.holidays", "2028-01-01"),
        ('[2027]\nholidays = ["2027-12-30..2028-01-02"]\n', "schedule.2027.holidays", "2028-01-02"),
        ('[2027]\nworkdays = ["2027-02-30"]\n', "schedule.2027.workdays", "2027-02-30"),
        ('[2027]\nworkdays = ["2027/02/20"]\n', "schedule.2027.workdays", "2027/02/20"),
        ('[2027]\nholidays = ["2027-02-13..2027-02-05"]\n', "schedule.2027.holidays", "2027-02-13"),
        ("[2027]\nholidays = [20270101]\n", "schedule.2027.holidays", "20270101"),
        ('[2027]\nholidays = "2027-01-01"\n', "schedule.2027.holidays", "2027-01-01"),
        ('[2027]\nholidays = []\nmakeup = ["2027-02-20"]\n', "schedule.2027", "makeup"),
        ('[year2027]\nholidays = ["2027-01-01"]\n', "schedule", "year2027"),
        ('holidays = ["2027-01-01"]\n', "schedule", "holidays"),
    ],
)
def test_malformed_schedule(tmp_path: Path, text: str, field: str, words: str) -> None:
    path = tmp_path / "schedule.toml"
    path.write_text(text, encoding="utf-8")
    cal = ChinaCalendar()
    with pytest.raises(ValidationError) as info:
        cal.load_schedule(path)
    assert info.value.field == field
    assert words in str(info.value)
    assert not cal.covers(2027)


def test_a_bad_table_loads_nothing(tmp_path: Path) -> None:
    path = tmp_path / "schedule.toml"
    path.write_text('[2027]\nholidays = ["2027-01-01"]\n\n[2028]\nholidays = ["2027-01-01"]\n', encoding="utf-8")
    cal = ChinaCalendar()
    with pytest.raises(ValidationError) as info:
        cal.load_schedule(path)
    assert info.value.field == "schedule.2028.holidays"
    assert not cal.covers(2027) and not cal.covers(2028)
    assert cal.load_schedule({}) == []


@pytest.mark.parametrize("count", [0, -1, True, 1.5, "3"])
def test_working_days_must_be_a_positive_integer(count: Any) -> None:
    with pytest.raises(ValidationError) as info:
        govflow.working_days(count)
    assert info.value.field == "working_days"
    with pytest.raises(ValidationError):
        govflow.WorkingDays(count)


def test_working_days_value() -> None:
    assert govflow.working_days(10) == govflow.WorkingDays(10)
    assert govflow.working_days(10).count == 10


# -- adding and counting back agree -------------------------------------------------------------------------

COVERED = ChinaCalendar()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    day=st.dates(min_value=D(2005, 1, 1), max_value=D(2026, 12, 31)),
    count=st.integers(min_value=1, max_value=60),
)
def test_adding_and_counting_back_agree(day: dt.date, count: int) -> None:
    # Stay inside the official data: 60 working days from late 2026 would reach into 2027.
    if add_working_days(Weekdays(), day, count) > D(2026, 12, 1):
        day = day - dt.timedelta(days=200)
    later = add_working_days(COVERED, day, count)
    assert later > day
    assert COVERED.is_working_day(later)
    assert working_days_between(COVERED, day, later) == count
    assert working_days_between(COVERED, later, day) == -count
    # Nothing in between is skipped: one working day fewer falls short.
    assert add_working_days(COVERED, day, count - 1) < later

    earlier = add_working_days(COVERED, day, -count)
    assert earlier < day
    assert COVERED.is_working_day(earlier)
    # earlier is the count-th working day before day: [earlier, day) holds count working days.
    assert working_days_between(COVERED, earlier, day) == count - 1 + COVERED.is_working_day(day)
    if COVERED.is_working_day(day):
        assert add_working_days(COVERED, earlier, count) == day
        assert add_working_days(COVERED, later, -count) == day


# -- known bugs (see the report of the #4 test pass) --------------------------------------------------------


def test_a_datetime_in_a_schedule_is_refused(tmp_path: Path) -> None:
    """A TOML datetime is not a day: it must be refused, not loaded as a "holiday" that never matches."""
    path = tmp_path / "schedule.toml"
    path.write_text("[2027]\nholidays = [2027-01-04T00:00:00]\n", encoding="utf-8")
    cal = ChinaCalendar()
    with pytest.raises(ValidationError) as info:
        cal.load_schedule(path)
    assert info.value.field == "schedule.2027.holidays"


def test_open_refuses_an_unknown_fallback() -> None:
    """A mistyped ``calendar_fallback`` must not silently turn guessing on (issue #4: never a silent guess)."""
    with pytest.raises(ValidationError) as info:
        govflow.open(":memory:", calendar_fallback="guess")  # type: ignore[arg-type]
    assert info.value.field == "calendar_fallback"


def test_extension_counted_into_an_uncovered_year_stays_provisional(provisional_flow: govflow.Govflow) -> None:
    """A working-day extension counted with the provisional fallback is a provisional due date, and is
    recounted once the official schedule is loaded (issue #4, item 1)."""
    flow = provisional_flow
    issue = flow.assign("跨年延期", lead="XIANGYUN", due=D(2026, 12, 28), by="OFFICE")
    issue = flow.request_extension(issue.id, by="XIANGYUN", due=govflow.working_days(10), reason="材料未到")  # type: ignore[arg-type]
    assert issue.extension is not None and issue.extension.due == D(2027, 1, 12)  # 1 Jan statutory
    issue = flow.approve_extension(issue.id, by="OFFICE")
    assert issue.due == D(2027, 1, 12)
    assert issue.due_provisional is True, "a due date counted in a year without official data is a guess"
    flow.calendar.load_schedule({"2027": {"holidays": ["2027-01-01..2027-01-04"]}})  # type: ignore[attr-defined]
    [recounted] = flow.recount_provisional_dues()
    assert recounted.due == D(2027, 1, 13)
    assert recounted.original_due == D(2026, 12, 28)
    assert recounted.due_provisional is False


def test_changing_the_fallback_forgets_answers_counted_under_the_old_one() -> None:
    calendar = govflow.ChinaCalendar(fallback="provisional")
    assert calendar.is_working_day(dt.date(2027, 1, 4)) is True  # a Monday, counted provisionally
    calendar.fallback = "refuse"
    with pytest.raises(govflow.CalendarError, match="2027"):
        calendar.is_working_day(dt.date(2027, 1, 4))
    with pytest.raises(govflow.ValidationError, match="calendar_fallback"):
        calendar.fallback = "guess"  # type: ignore[assignment]


def test_loading_a_schedule_replaces_answers_already_given() -> None:
    calendar = govflow.ChinaCalendar(fallback="provisional")
    assert calendar.is_working_day(dt.date(2027, 2, 20)) is False  # a Saturday
    calendar.load_schedule({"2027": {"holidays": [], "workdays": ["2027-02-20"]}})
    assert calendar.is_working_day(dt.date(2027, 2, 20)) is True
    calendar.add_closure(dt.date(2027, 2, 20))
    assert calendar.is_working_day(dt.date(2027, 2, 20)) is False


def test_recount_reads_again_an_issue_another_writer_changed(
    provisional_flow: govflow.Govflow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A step committed on an issue between the recount's read and its write costs that issue one more
    read, not the recount of the issues after it."""
    flow = provisional_flow
    first = flow.assign("跨年事项", lead="XIANGYUN", due=govflow.working_days(10), by="OFFICE")
    second = flow.assign("又一个跨年事项", lead="BINCHUAN", due=govflow.working_days(10), by="OFFICE")
    path = tmp_path / "schedule-2027.toml"
    path.write_text(SCHEDULE_2027, encoding="utf-8")
    flow.calendar.load_schedule(path)  # type: ignore[attr-defined]
    commit_many = flow.store.commit_many
    interrupted: list[str] = []

    def another_writer_first(works: Any) -> Any:
        if not interrupted:  # the lead acts on the first issue just before the recount's write
            interrupted.append(works[0].issue.id)
            flow.implement(first.id, by="XIANGYUN", note="已整改")
        return commit_many(works)

    monkeypatch.setattr(flow.store, "commit_many", another_writer_first)
    changed = flow.recount_provisional_dues()
    assert interrupted == [first.id]
    assert [(i.id, i.state, i.due) for i in changed] == [
        (first.id, "implemented", D(2027, 1, 5)), (second.id, "assigned", D(2027, 1, 5)),
    ]
    assert [e.trigger for e in flow.ledger(first.id)] == ["assign", "implement", "recount_due"]
    assert flow.verify_ledger()
