"""Deadlines (#4): extensions (延期), the escalation ladder and the sweep (临期提醒 → 逾期 → 催办 → 督办 → 约谈)
with a fake clock across the 2026 Spring Festival and National Day, idempotency and catch-up, and overdue()."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import govflow
from govflow import DeadlineEvent, Ladder, Rung, ValidationError
from govflow.testing import FakeClock, RecordingNotifier

from ..conftest import STORES, UNIT_ENTRIES, add_units, refused

D = dt.date
ZONE = govflow.DEFAULT_ZONE
FULL = ["due_soon", "due_soon", "overdue", "urge", "supervise"]


def days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


def at(day: dt.date, hour: int = 8) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=ZONE)


class Setup:
    """A flow on one store, its clock and a recorder of what was delivered."""

    def __init__(self, kind: str, tmp_path: Path, start: str = "2026-02-02T09:00:00+08:00", **options: Any) -> None:
        self.kind = kind
        self.clock = FakeClock(start, tick=dt.timedelta(minutes=1))
        self.notifier = RecordingNotifier()
        target = ":memory:" if kind == "memory" else str(tmp_path / f"flow-{id(self)}.sqlite3")
        options.setdefault("delivery", "inline")
        plugins = [self.notifier, *options.pop("plugins", [])]
        self.flow = govflow.open(target, clock=self.clock, plugins=plugins, **options)
        add_units(self.flow)

    def assign(self, lead: str = "XIANGYUN", due: Any = None, **kwargs: Any) -> govflow.Issue:
        """An issue assigned by OFFICE, due on Friday 13 February 2026 unless told otherwise."""
        due = D(2026, 2, 13) if due is None else due
        kwargs.setdefault("accept_limit", 0)  # the ladder alone (the acceptance limit: tests/flow/test_field_loop.py)
        return self.flow.assign("某村道路积水问题", lead=lead, due=due, by="OFFICE", **kwargs)

    def sweep_at(self, when: dt.datetime) -> list[DeadlineEvent]:
        """Move the clock to ``when`` and sweep (the outbox delivers what is due by the clock)."""
        self.clock.set(when)
        return self.flow.sweep()

    def sweep_daily(self, first: dt.date, last: dt.date) -> tuple[dict[dt.date, list[tuple[str, str, int]]],
                                                                   list[DeadlineEvent]]:
        """Sweep at 08:00 on every day from ``first`` to ``last``; the steps taken by day, and all events."""
        by_day: dict[dt.date, list[tuple[str, str, int]]] = {}
        every: list[DeadlineEvent] = []
        for day in days(first, last):
            self.clock.set(at(day))
            events = self.flow.sweep()
            assert all(e.at == at(day) for e in events)
            if events:
                by_day[day] = [(e.issue_id, e.step, e.level) for e in events]
            every.extend(events)
        return by_day, every


@pytest.fixture(params=STORES)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def setup(kind: str, tmp_path: Path) -> Iterator[Setup]:
    s = Setup(kind, tmp_path)
    yield s
    s.flow.close()


def check_steps(flow: govflow.Govflow, events: list[DeadlineEvent]) -> None:
    """Each event is a ledger entry: trigger deadline, actor govflow, the state unchanged, the step's data."""
    for event in events:
        issue_id, seq = event.idempotency_key.rsplit("#", 1)
        assert issue_id == event.issue_id
        entries = flow.ledger(event.issue_id)
        entry = entries[int(seq) - 1]
        previous = entries[int(seq) - 2]
        assert entry.issue_seq == int(seq)
        assert (entry.trigger, entry.actor, entry.person) == ("deadline", "govflow", None)
        assert entry.from_state == entry.to_state == previous.to_state
        assert entry.at == event.at
        assert entry.data["step"] == event.step
        assert entry.data["level"] == event.level
        assert entry.data["due"] == event.due.isoformat()
        assert entry.data["unit"] == flow.get(event.issue_id).lead
        assert DeadlineEvent.from_entry(entry) == event


# -- the ladder across the holidays -------------------------------------------------------------------------


def test_default_ladder_across_spring_festival(setup: Setup) -> None:
    flow = setup.flow
    a = setup.assign(due=govflow.working_days(9))
    assert a.due == D(2026, 2, 13)  # Friday before the Spring Festival
    b = setup.assign(lead="BINCHUAN", due=D(2026, 2, 20))  # a Friday inside the holiday
    flow.implement(b.id, by="BINCHUAN", note="已组织施工")  # swept in whatever open state it is in

    by_day, events = setup.sweep_daily(D(2026, 2, 3), D(2026, 3, 6))
    assert by_day == {
        D(2026, 2, 10): [(a.id, "due_soon", 0)],  # 3 working days before Fri 13
        D(2026, 2, 12): [(a.id, "due_soon", 0), (b.id, "due_soon", 0)],  # b: 3 before Fri 20 = Thu 12
        D(2026, 2, 14): [  # the make-up Saturday
            (a.id, "overdue", 1), (a.id, "urge", 2),  # the day after, and 1 working day after
            (b.id, "due_soon", 0),  # b: 1 working day before Fri 20 = Sat 14
        ],
        D(2026, 2, 21): [(b.id, "overdue", 1)],  # the day after, a holiday Saturday
        D(2026, 2, 24): [(b.id, "urge", 2)],  # the first working day after the holiday
        D(2026, 2, 27): [(a.id, "supervise", 3)],  # 14, 24, 25, 26, 27
        D(2026, 2, 28): [(b.id, "supervise", 3)],  # 24, 25, 26, 27, Sat 28 (make-up)
    }
    assert all(e.due == a.due for e in events if e.issue_id == a.id)
    assert all(e.due == b.due for e in events if e.issue_id == b.id)
    check_steps(flow, events)
    assert setup.notifier.deadlines == events  # delivered, once each, in order
    assert setup.notifier.triggers == ["assign", "assign", "implement"]  # no deadline steps there
    for issue, state in ((a, "assigned"), (b, "implemented")):
        now = flow.get(issue.id)
        assert (now.state, now.escalation_steps, now.escalation_level) == (state, 5, 3)
        steps = [e for e in flow.ledger(issue.id) if e.trigger == "deadline"]
        assert [e.data["step"] for e in steps] == FULL
        assert [e.data["working_days"] for e in steps] == [-3, -1, 0, 1, 5]
    assert flow.sweep() == []
    assert flow.verify_ledger()


def test_default_ladder_across_national_day(kind: str, tmp_path: Path) -> None:
    s = Setup(kind, tmp_path, start="2026-09-14T09:00:00+08:00", delivery="manual")
    with s.flow as flow:
        c = s.assign(due=D(2026, 9, 30), cooperating=["BINCHUAN"])
        d = s.assign(lead="BINCHUAN", due=govflow.working_days(6))
        assert d.due == D(2026, 9, 21)  # 15-18, Sun 20 (make-up), Mon 21
        events: list[DeadlineEvent] = []
        by_day: dict[dt.date, list[tuple[str, str]]] = {}
        for day in days(D(2026, 9, 15), D(2026, 10, 16)):
            s.clock.set(at(day, 7))
            taken = flow.sweep(now=s.clock.now)
            assert all(e.at == at(day, 7) for e in taken)
            if taken:
                by_day[day] = [(e.issue_id, e.step) for e in taken]
            events.extend(taken)
        assert by_day == {
            D(2026, 9, 17): [(d.id, "due_soon")],  # 3 working days before Mon 21: Thu 17 (18, Sun 20)
            D(2026, 9, 20): [(d.id, "due_soon")],  # the make-up Sunday
            D(2026, 9, 22): [(d.id, "overdue"), (d.id, "urge")],
            D(2026, 9, 24): [(c.id, "due_soon")],  # before Wed 30: 29, 28, (Mid-Autumn 25-27), 24
            D(2026, 9, 29): [(c.id, "due_soon"), (d.id, "supervise")],  # d: 22, 23, 24, 28, 29
            D(2026, 10, 1): [(c.id, "overdue")],  # the day after: National Day itself
            D(2026, 10, 8): [(c.id, "urge")],  # the first working day after the holiday
            D(2026, 10, 13): [(c.id, "supervise")],  # 8, 9, Sat 10 (make-up), 12, 13
        }
        assert [e.level for e in events if e.issue_id == c.id] == [0, 0, 1, 2, 3]
        check_steps(flow, events)
        assert s.notifier.deadlines == []  # manual delivery: nothing until deliver()
        flow.deliver()
        assert s.notifier.deadlines == events
        assert flow.verify_ledger()


def test_a_deadline_plugin_receives_the_events(kind: str, tmp_path: Path) -> None:
    class DeadlineLog:
        name = "deadline-log"

        def __init__(self) -> None:
            self.seen: list[tuple[str, str, int, dt.date, str]] = []

        @govflow.hookimpl
        def govflow_deadline(self, event: DeadlineEvent) -> None:
            self.seen.append((event.issue_id, event.step, event.level, event.due, event.idempotency_key))

    log = DeadlineLog()
    s = Setup(kind, tmp_path, plugins=[log])
    with s.flow:
        a = s.assign()
        events = s.sweep_at(at(D(2026, 2, 14)))
        assert [e.step for e in events] == ["due_soon", "due_soon", "overdue", "urge"]
        assert log.seen == [(a.id, e.step, e.level, a.due, e.idempotency_key) for e in events]
        assert [e.idempotency_key for e in events] == [f"{a.id}#{n}" for n in (2, 3, 4, 5)]


# -- idempotency and catch-up ------------------------------------------------------------------------------


def test_sweeping_twice_at_one_moment_takes_nothing_new(setup: Setup) -> None:
    flow = setup.flow
    setup.assign()
    setup.assign(lead="BINCHUAN", due=D(2026, 2, 20))
    moment = at(D(2026, 2, 14), 9)
    first = setup.sweep_at(moment)
    assert [e.step for e in first] == ["due_soon", "due_soon", "overdue", "urge", "due_soon", "due_soon"]
    head, delivered = flow.store.chain_head(), len(setup.notifier.deadlines)
    assert flow.sweep(now=moment) == []
    with pytest.raises(ValidationError):
        flow.sweep(now=dt.datetime(2026, 2, 14, 9))  # a naive time is refused
    assert setup.sweep_at(moment + dt.timedelta(hours=8)) == []  # later the same day: nothing new either
    assert flow.store.chain_head() == head
    assert len(setup.notifier.deadlines) == delivered == 6
    assert flow.verify_ledger()


def test_a_sweep_after_a_gap_takes_each_missed_step_once_in_order(setup: Setup) -> None:
    flow = setup.flow
    a = setup.assign()
    b = setup.assign(lead="BINCHUAN", due=D(2026, 2, 20))
    c = setup.assign(lead="XIAZHUANG", due=D(2026, 2, 20))
    early = setup.sweep_at(at(D(2026, 2, 10)))
    assert [(e.issue_id, e.step) for e in early] == [(a.id, "due_soon")]
    # The worker is down over the whole Spring Festival.
    gap = at(D(2026, 3, 2))
    events = setup.sweep_at(gap)
    assert [(e.issue_id, e.step) for e in events] == (
        [(a.id, step) for step in FULL[1:]] + [(b.id, step) for step in FULL] + [(c.id, step) for step in FULL]
    )
    assert [e.level for e in events if e.issue_id == b.id] == [0, 0, 1, 2, 3]
    assert all(e.at == gap for e in events)
    check_steps(flow, events)
    for issue in (a, b, c):
        steps = [e.data["step"] for e in flow.ledger(issue.id) if e.trigger == "deadline"]
        assert steps == FULL
        assert flow.get(issue.id).escalation_steps == 5
    assert setup.sweep_at(gap) == []
    assert setup.sweep_at(at(D(2026, 6, 1))) == []  # the ladder is finished
    assert setup.notifier.deadlines == early + events
    assert flow.verify_ledger()


def test_verified_and_cancelled_issues_are_never_swept(setup: Setup) -> None:
    flow = setup.flow
    done = setup.assign()
    gone = setup.assign(lead="BINCHUAN")
    still = setup.assign(lead="XIAZHUANG")
    verified_early = setup.assign(lead="BINCHUAN", due=D(2026, 2, 20))
    assert len(setup.sweep_at(at(D(2026, 2, 10)))) == 3  # the first reminder of the three due on the 13th
    for issue in (done, verified_early):
        flow.implement(issue.id, by=issue.lead, note="已整改")
        flow.report(issue.id, by=issue.lead, result="已完成")
        flow.verify(issue.id, by="OFFICE", rating=5)
    flow.cancel(gone.id, by="OFFICE", reason="重复交办")
    versions = {i.id: flow.get(i.id).version for i in (done, gone, verified_early)}
    events = setup.sweep_at(at(D(2026, 3, 31)))
    assert {e.issue_id for e in events} == {still.id}
    assert [e.step for e in events] == FULL[1:]
    assert {i: flow.get(i).version for i in versions} == versions
    assert flow.ledger(done.id)[-1].trigger == "verify"
    assert flow.ledger(gone.id)[-1].trigger == "cancel"
    assert all(o.issue.id == still.id for o in flow.overdue())
    assert flow.verify_ledger()


def test_the_sweep_counts_next_year_provisionally_at_the_turn_of_the_year(
    kind: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """From late December the ladder counts into a year without official data: provisionally, with a
    warning naming the year, rather than failing the whole sweep (issue #12)."""
    s = Setup(kind, tmp_path, start="2026-12-21T09:00:00+08:00")
    with s.flow as flow:
        issue = s.assign(due=D(2026, 12, 31))
        assert [e.step for e in s.sweep_at(at(D(2026, 12, 28)))] == ["due_soon"]  # 28, 29, 30 | 31
        head = flow.store.chain_head()
        s.clock.set(at(D(2026, 12, 29)))
        with caplog.at_level("WARNING", logger="govflow"):
            assert flow.sweep() == []  # three working days ahead of the 29th reach into 2027
        assert "no official holiday schedule for 2027: counted provisionally" in caplog.text
        assert flow.store.chain_head() == head
        flow.calendar.load_schedule({"2027": {"holidays": ["2027-01-01..2027-01-03"]}})  # type: ignore[attr-defined]
        assert [e.step for e in s.sweep_at(at(D(2026, 12, 30)))] == ["due_soon"]
        assert [e.step for e in s.sweep_at(at(D(2027, 1, 4)))] == ["overdue", "urge"]
        assert flow.get(issue.id).escalation_steps == 4
        assert flow.verify_ledger()


# -- extensions (延期) ---------------------------------------------------------------------------------------


def test_extension_in_working_days_counts_from_the_due_date_across_spring_festival(setup: Setup) -> None:
    flow = setup.flow
    issue = setup.assign()
    setup.clock.set("2026-02-10T10:00:00+08:00")
    issue = flow.request_extension(issue.id, by="XIANGYUN", due=govflow.working_days(3),  # type: ignore[arg-type]
                                   reason="春节期间无法施工")
    assert issue.extension is not None
    assert issue.extension.due == D(2026, 2, 25)  # from Fri 13: Sat 14 (make-up), Tue 24, Wed 25
    assert issue.extension.requested_by == "XIANGYUN"
    assert issue.due == D(2026, 2, 13) and issue.extension_count == 0
    entry = flow.ledger(issue.id)[-1]
    assert entry.trigger == "request_extension"
    assert (entry.data["due"], entry.data["working_days"]) == ("2026-02-25", 3)
    issue = flow.approve_extension(issue.id, by="OFFICE", note="同意")
    assert (issue.due, issue.original_due, issue.extension_count, issue.extension) == (
        D(2026, 2, 25), D(2026, 2, 13), 1, None,
    )
    assert issue.due_provisional is False
    assert flow.get(issue.id) == issue
    assert flow.verify_ledger()


def test_extension_cap(kind: str, tmp_path: Path) -> None:
    s = Setup(kind, tmp_path, max_extensions=1)
    with s.flow as flow:
        issue = s.assign()
        flow.request_extension(issue.id, by="XIANGYUN", due=D(2026, 2, 27), reason="材料未到")
        flow.deny_extension(issue.id, by="OFFICE", reason="理由不足")
        assert flow.get(issue.id).extension_count == 0  # a denied request does not count
        flow.request_extension(issue.id, by="XIANGYUN", due=D(2026, 2, 27), reason="材料未到")
        issue = flow.approve_extension(issue.id, by="OFFICE")
        assert issue.extension_count == 1
        error = refused(flow, ValidationError, lambda: flow.request_extension(
            issue.id, by="XIANGYUN", due=govflow.working_days(5), reason="仍未完成"))  # type: ignore[arg-type]
        assert isinstance(error, ValidationError) and error.field == "due"
        assert "at most 1 extension" in str(error)
        assert "1 extension" in error.problem
        assert flow.verify_ledger()


def test_default_cap_is_two(setup: Setup) -> None:
    flow = setup.flow
    issue = setup.assign()
    for new_due in (D(2026, 2, 27), D(2026, 3, 13)):
        flow.request_extension(issue.id, by="XIANGYUN", due=new_due, reason="材料未到")
        issue = flow.approve_extension(issue.id, by="OFFICE")
    assert (issue.due, issue.original_due, issue.extension_count) == (D(2026, 3, 13), D(2026, 2, 13), 2)
    error = refused(flow, ValidationError, lambda: flow.request_extension(
        issue.id, by="XIANGYUN", due=D(2026, 3, 31), reason="仍未完成"))
    assert "at most 2 extensions" in str(error)


def test_no_extensions_at_all_and_bad_caps(kind: str, tmp_path: Path) -> None:
    s = Setup(kind, tmp_path, max_extensions=0)
    with s.flow as flow:
        issue = s.assign()
        error = refused(flow, ValidationError, lambda: flow.request_extension(
            issue.id, by="XIANGYUN", due=D(2026, 2, 27), reason="材料未到"))
        assert "at most 0 extensions" in str(error)
    for bad in (-1, True, 1.5):
        with pytest.raises(ValidationError) as info:
            govflow.open(":memory:", max_extensions=bad)  # type: ignore[arg-type]
        assert info.value.field == "max_extensions"


def test_extension_requested_after_the_due_date_is_refused(setup: Setup) -> None:
    flow = setup.flow
    issue = setup.assign()
    setup.clock.set("2026-02-14T09:00:00+08:00")  # the day after the due date (a working Saturday)
    error = refused(flow, ValidationError, lambda: flow.request_extension(
        issue.id, by="XIANGYUN", due=D(2026, 2, 27), reason="春节耽误"))
    assert "after the due date 2026-02-13" in str(error)
    error = refused(flow, ValidationError, lambda: flow.request_extension(
        issue.id, by="XIANGYUN", due=govflow.working_days(3), reason="春节耽误"))  # type: ignore[arg-type]
    assert "after the due date" in str(error)
    # On the due date itself it is still in time; a date not later than the due date is not an extension.
    setup.clock.set("2026-02-13T17:00:00+08:00")
    refused(flow, ValidationError, lambda: flow.request_extension(
        issue.id, by="XIANGYUN", due=D(2026, 2, 13), reason="同日"))
    issue = flow.request_extension(issue.id, by="XIANGYUN", due=D(2026, 2, 27), reason="春节耽误")
    assert issue.extension is not None and issue.extension.due == D(2026, 2, 27)


def test_an_approved_extension_restarts_the_ladder(setup: Setup) -> None:
    flow = setup.flow
    issue = setup.assign()
    assert [e.step for e in setup.sweep_at(at(D(2026, 2, 12)))] == ["due_soon", "due_soon"]
    setup.clock.set(at(D(2026, 2, 12), 10))
    flow.request_extension(issue.id, by="XIANGYUN", due=govflow.working_days(5),  # type: ignore[arg-type]
                           reason="春节期间无法施工")
    assert flow.get(issue.id).escalation_steps == 2  # a pending request changes nothing yet
    issue = flow.approve_extension(issue.id, by="OFFICE")
    assert issue.due == D(2026, 2, 27)  # Sat 14, 24, 25, 26, 27
    assert (issue.escalation_steps, issue.escalation_level) == (0, 0)
    by_day, events = setup.sweep_daily(D(2026, 2, 12), D(2026, 3, 9))
    assert by_day == {
        D(2026, 2, 24): [(issue.id, "due_soon", 0)],
        D(2026, 2, 26): [(issue.id, "due_soon", 0)],
        D(2026, 2, 28): [(issue.id, "overdue", 1), (issue.id, "urge", 2)],  # the make-up Saturday
        D(2026, 3, 5): [(issue.id, "supervise", 3)],  # Sat 28, 2, 3, 4, 5 March
    }
    assert all(e.due == D(2026, 2, 27) for e in events)
    check_steps(flow, events)
    steps = [e.data["step"] for e in flow.ledger(issue.id) if e.trigger == "deadline"]
    assert steps == ["due_soon", "due_soon", *FULL]  # the first ladder's steps stay in the ledger
    assert flow.verify_ledger()


def test_a_rejection_with_a_new_due_date_restarts_the_ladder(setup: Setup) -> None:
    flow = setup.flow
    issue = setup.assign()
    flow.implement(issue.id, by="XIANGYUN", note="已整改")
    assert len(setup.sweep_at(at(D(2026, 2, 27)))) == 5
    setup.clock.set(at(D(2026, 3, 2), 9))
    flow.report(issue.id, by="XIANGYUN", result="已完成")
    setup.clock.set(at(D(2026, 3, 2), 10))
    issue = flow.reject(issue.id, by="OFFICE", reason="未达标", due=govflow.working_days(5))  # type: ignore[arg-type]
    assert (issue.state, issue.due, issue.escalation_steps, issue.escalation_level) == (
        "assigned", D(2026, 3, 9), 0, 0,
    )
    assert [e.step for e in setup.sweep_at(at(D(2026, 3, 4)))] == ["due_soon"]


# -- 约谈 (interview) ---------------------------------------------------------------------------------------


def test_interview_after_three_supervise_steps_in_a_quarter(setup: Setup) -> None:
    flow = setup.flow
    b1 = setup.assign(lead="BINCHUAN")
    b2 = setup.assign(lead="BINCHUAN")
    x1 = setup.assign(lead="XIANGYUN")
    b3 = setup.assign(lead="BINCHUAN", due=D(2026, 2, 20))
    x2 = setup.assign(lead="XIANGYUN", due=D(2026, 2, 20))
    by_day, events = setup.sweep_daily(D(2026, 2, 3), D(2026, 3, 2))
    assert by_day[D(2026, 2, 27)] == [(b1.id, "supervise", 3), (b2.id, "supervise", 3), (x1.id, "supervise", 3)]
    # b3's 督办 is BINCHUAN's third: the 约谈 is taken on b3, right after it. XIANGYUN has had two.
    assert by_day[D(2026, 2, 28)] == [(b3.id, "supervise", 3), (b3.id, "interview", 4), (x2.id, "supervise", 3)]
    interviews = [e for e in events if e.step == "interview"]
    assert len(interviews) == 1
    check_steps(flow, events)
    entry = flow.ledger(b3.id)[-1]
    assert entry.data["step"] == "interview" and entry.data["unit"] == "BINCHUAN"
    assert entry.data["supervised"] == [b1.id, b2.id, b3.id]
    assert entry.data["level"] == 4 and entry.data["due"] == "2026-02-20"
    assert (flow.get(b3.id).escalation_level, flow.get(b3.id).escalation_steps) == (4, 5)
    assert flow.get(b1.id).escalation_level == 3

    # A fourth 督办 inside the window: no second 约谈 while one is in it.
    b4 = setup.assign(lead="BINCHUAN", due=D(2026, 3, 6))
    more = setup.sweep_at(at(D(2026, 3, 13)))
    assert [(e.issue_id, e.step) for e in more] == [(b4.id, step) for step in FULL]

    # More than 91 days after the 约谈, a rolling quarter with three 督办 again (b4's and two new ones).
    setup.clock.set("2026-05-25T09:00:00+08:00")
    b5 = setup.assign(lead="BINCHUAN", due=D(2026, 6, 1))
    b6 = setup.assign(lead="BINCHUAN", due=D(2026, 6, 1))
    june = setup.sweep_at(at(D(2026, 6, 8)))  # 2, 3, 4, 5, 8 June: both 督办 today
    assert [(e.issue_id, e.step) for e in june] == (
        [(b5.id, step) for step in FULL] + [(b6.id, step) for step in FULL] + [(b6.id, "interview")]
    )
    assert flow.ledger(b6.id)[-1].data["supervised"] == [b4.id, b5.id, b6.id]
    assert setup.notifier.deadlines == [*events, *more, *june]
    assert flow.verify_ledger()


# -- what is late --------------------------------------------------------------------------------------------


def test_overdue_in_working_days_most_late_first(setup: Setup) -> None:
    flow = setup.flow
    e1 = setup.assign(lead="XIANGYUN", due=D(2026, 2, 13))
    e2 = setup.assign(lead="BINCHUAN", due=D(2026, 2, 20), cooperating=["XIANGYUN"])
    e3 = setup.assign(lead="BINCHUAN", due=D(2026, 2, 24))
    e4 = setup.assign(lead="XIANGYUN", due=D(2026, 2, 25))
    e5 = setup.assign(lead="XIAZHUANG", due=D(2026, 2, 13))
    e6 = setup.assign(lead="BINCHUAN", due=D(2026, 2, 21))
    e7 = setup.assign(lead="XIAZHUANG", due=D(2026, 3, 6))
    flow.implement(e5.id, by="XIAZHUANG", note="已整改")
    flow.report(e5.id, by="XIAZHUANG", result="已完成")
    flow.verify(e5.id, by="OFFICE")
    setup.clock.set("2026-02-25T10:00:00+08:00")
    head = flow.store.chain_head()
    late = [(o.issue.id, o.working_days) for o in flow.overdue()]
    # (13 Feb, 25 Feb]: Sat 14, 24, 25; (20 Feb, 25 Feb] and (21 Feb, 25 Feb]: 24, 25; (24 Feb, 25 Feb]: 25
    assert late == [(e1.id, 3), (e2.id, 2), (e6.id, 2), (e3.id, 1)]
    assert e4.id not in dict(late) and e5.id not in dict(late) and e7.id not in dict(late)
    assert [(o.issue.id, o.working_days) for o in flow.overdue(unit="XIANGYUN")] == [(e1.id, 3), (e2.id, 2)]
    assert [(o.issue.id, o.working_days) for o in flow.overdue(unit="BINCHUAN")] == [
        (e2.id, 2), (e6.id, 2), (e3.id, 1),
    ]
    assert flow.overdue(unit="XIAZHUANG") == []
    assert all(isinstance(o, govflow.Overdue) and o.issue == flow.get(o.issue.id) for o in flow.overdue())
    assert flow.store.chain_head() == head  # reading writes nothing
    # Due on a Friday, listed on the Saturday after: late, by no working day yet.
    setup.clock.set("2026-03-07T10:00:00+08:00")
    assert [(o.issue.id, o.working_days) for o in flow.overdue(unit="XIAZHUANG")] == [(e7.id, 0)]
    assert dict((o.issue.id, o.working_days) for o in flow.overdue())[e1.id] == 11


# -- other ladders ------------------------------------------------------------------------------------------


def test_a_custom_ladder_is_honoured(kind: str, tmp_path: Path) -> None:
    only_urge = Ladder(rungs=(Rung("urge", 2, 1),))
    assert only_urge.lead_time == 0
    s = Setup(kind, tmp_path, ladder=only_urge)
    with s.flow as flow:
        assert flow.ladder is only_urge
        issue = s.assign()
        by_day, events = s.sweep_daily(D(2026, 2, 3), D(2026, 3, 13))
        assert by_day == {D(2026, 2, 24): [(issue.id, "urge", 1)]}  # Sat 14, Tue 24
        check_steps(flow, events)
        assert (flow.get(issue.id).escalation_steps, flow.get(issue.id).escalation_level) == (1, 1)
        assert flow.ledger(issue.id)[-1].data["working_days"] == 2
        assert flow.verify_ledger()


def test_a_custom_interview_rule(kind: str, tmp_path: Path) -> None:
    eager = Ladder(rungs=(Rung("supervise", 1, 2),), interview_after=1, interview_level=7)
    s = Setup(kind, tmp_path, ladder=eager)
    with s.flow as flow:
        first = s.assign(lead="BINCHUAN")
        second = s.assign(lead="BINCHUAN", due=D(2026, 2, 20))
        other = s.assign(lead="XIANGYUN", due=D(2026, 2, 20))
        by_day, events = s.sweep_daily(D(2026, 2, 3), D(2026, 3, 2))
        assert by_day == {
            D(2026, 2, 14): [(first.id, "supervise", 2), (first.id, "interview", 7)],
            D(2026, 2, 24): [(second.id, "supervise", 2), (other.id, "supervise", 2), (other.id, "interview", 7)],
        }
        assert flow.get(first.id).escalation_level == 7
        check_steps(flow, events)


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: Ladder(rungs=(Rung("urge", 1, 2), Rung("due_soon", -1, 0))), "ladder.rungs"),
        (lambda: Ladder(rungs=(Rung("supervise", 5, 3), Rung("urge", 1, 2))), "ladder.rungs"),
        (lambda: Ladder(rungs=()), "ladder.rungs"),
        (lambda: Rung("remind", 1, 1), "ladder.step"),
        (lambda: Rung("interview", 10, 4), "ladder.step"),
        (lambda: Ladder(rungs=(Rung("urge", 1, 2),), interview_after=0), "ladder.interview_after"),
    ],
)
def test_bad_ladders(make: Callable[[], object], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        make()
    assert info.value.field == field


def test_default_ladder() -> None:
    ladder = govflow.DEFAULT_LADDER
    assert [(r.step, r.working_days, r.level) for r in ladder.rungs] == [
        ("due_soon", -3, 0), ("due_soon", -1, 0), ("overdue", 0, 1), ("urge", 1, 2), ("supervise", 5, 3),
    ]
    assert (ladder.interview_after, ladder.interview_window, ladder.interview_level) == (
        3, dt.timedelta(days=91), 4,
    )
    assert ladder.lead_time == 3
    assert govflow.STEP_LABELS["urge"]["zh"] == "催办" and govflow.STEP_LABELS["interview"]["zh"] == "约谈"
    with govflow.open(":memory:") as flow:
        assert flow.ladder is ladder


def test_a_catch_up_does_not_crowd_old_supervisions_into_one_interview_window(clock: FakeClock) -> None:
    """督办 count by the day they fell due: three a quarter apart are no 约谈, even when swept together."""
    clock.set("2026-02-02T09:00:00+08:00")
    with govflow.open(":memory:", clock=clock, delivery="manual") as flow:
        add_units(flow)
        for due in ("2026-02-20", "2026-05-29", "2026-08-28"):
            flow.assign("t", lead="XIANGYUN", due=due, by="OFFICE")
        clock.set("2026-09-10T09:00:00+08:00")
        steps = [event.step for event in flow.sweep()]
        assert steps.count("supervise") == 3 and "interview" not in steps



def test_an_issue_reported_back_waits_on_the_supervisor_and_is_not_escalated(setup: Setup) -> None:
    """Once the lead unit has reported back (反馈), the clock is the supervisor's: no steps, not overdue."""
    flow = setup.flow
    issue = setup.assign()
    flow.implement(issue.id, by="XIANGYUN", note="已整改")
    flow.report(issue.id, by="XIANGYUN", result="已完成")
    assert setup.sweep_at(at(D(2026, 2, 27))) == []
    assert flow.overdue() == []
    assert flow.get(issue.id).escalation_steps == 0


def test_an_issue_changed_during_a_sweep_is_left_to_the_next_one(clock: FakeClock) -> None:
    """The batch loses its version check on one issue: the others are written, that one waits."""
    clock.set("2026-03-02T09:00:00+08:00")
    with govflow.open(":memory:", clock=clock, delivery="manual") as flow:
        add_units(flow)
        a = flow.assign("甲", lead="XIANGYUN", due="2026-03-04", by="OFFICE")
        b = flow.assign("乙", lead="BINCHUAN", due="2026-03-04", by="OFFICE")
        store = flow.store
        original = store.commit_many
        calls: list[int] = []

        def meddling(works: Any) -> Any:
            calls.append(len(works))
            if len(calls) == 1:
                flow.accept(a.id, by="XIANGYUN")  # a command lands between the sweep's read and write
            return original(works)

        store.commit_many = meddling  # type: ignore[method-assign]
        events = flow.sweep()
        assert [(e.issue_id, e.step) for e in events] == [(b.id, "due_soon")]
        assert flow.get(a.id).escalation_steps == 0 and flow.get(b.id).escalation_steps == 1
        assert [(e.issue_id, e.step) for e in flow.sweep()] == [(a.id, "due_soon")]
        assert flow.verify_ledger().entries == UNIT_ENTRIES + 5


def test_load_schedule_on_the_flow_recounts_provisional_due_dates(clock: FakeClock) -> None:
    clock.set("2026-12-21T09:00:00+08:00")
    with govflow.open(":memory:", clock=clock, delivery="manual", calendar_fallback="provisional") as flow:
        add_units(flow)
        issue = flow.assign("跨年问题", lead="XIANGYUN", due=govflow.working_days(10), by="OFFICE")
        assert issue.due_provisional and issue.due == dt.date(2027, 1, 5)  # 1 January off, no other guess
        recounted = flow.load_schedule({"2027": {"holidays": ["2027-01-01..2027-01-03", "2027-01-04"]}})
        assert [(i.id, i.due, i.due_provisional) for i in recounted] == [(issue.id, dt.date(2027, 1, 6), False)]
        assert flow.ledger(issue.id)[-1].trigger == "recount_due"
    with govflow.open(":memory:", calendar="weekdays") as flow, pytest.raises(ValidationError, match="schedules"):
        flow.load_schedule({})


# A lifecycle whose lead acts in a state named like the default lifecycle's "feedback", where a default
# issue waits on the supervisor.
REVIEW = {
    "name": "self-review", "version": 1, "initial": "feedback", "states": ["feedback", "done", "cancelled"],
    "final": ["done", "cancelled"], "roles": ["supervisor", "lead"],
    "transitions": [
        {"trigger": "finish", "source": "feedback", "dest": "done", "roles": ["lead"], "requires": ["result"]},
        {"trigger": "cancel", "source": "*", "dest": "cancelled", "roles": ["supervisor"], "requires": ["reason"]},
    ],
}


def test_each_issue_is_held_to_its_own_lifecycles_lead_states(setup: Setup) -> None:
    """A state name shared by two lifecycles counts by each issue's own lifecycle: the deadline
    clock runs for the custom issue in 'feedback' and not for the default one waiting on the office."""
    flow = setup.flow
    flow.register_lifecycle(REVIEW)
    waiting = setup.assign(due=D(2026, 2, 13))
    flow.implement(waiting.id, by="XIANGYUN", note="已整改")
    flow.report(waiting.id, by="XIANGYUN", result="已完成")
    custom = setup.assign(due=D(2026, 2, 13), lifecycle="self-review")
    assert flow.get(waiting.id).state == flow.get(custom.id).state == "feedback"
    setup.clock.set("2026-02-25T10:00:00+08:00")
    assert [o.issue.id for o in flow.overdue()] == [custom.id]
    events = setup.sweep_at(at(D(2026, 2, 25)))
    assert {e.issue_id for e in events} == {custom.id}
    assert [e.trigger for e in flow.ledger(waiting.id)] == ["assign", "implement", "report"]
    assert flow.get(waiting.id).escalation_steps == 0 < flow.get(custom.id).escalation_steps
    # The period facts and the bulletin hold each issue to its lifecycle too (SQL stores and the reference).
    assert flow.facts("2026-02")["XIANGYUN"].overdue_at_end == 1
    assert [row.issue_id for row in flow.bulletin("2026-02").overdue_issues()] == [custom.id]
