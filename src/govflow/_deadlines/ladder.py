"""Deadlines: the escalation ladder (临期提醒 → 催办 → 督办 → 约谈) and the sweep.

Each step the sweep takes is a ledger entry (trigger ``deadline``, the state
unchanged) and a ``govflow_deadline`` event delivered through the outbox. An
issue counts the ladder steps taken for its current due date, so sweeping
twice at the same moment takes nothing new, and a sweep after a gap takes
each missed step once, in order. A new due date (an approved extension, a
rejection with a new date) starts the ladder afresh.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from typing import Any, Final

import attrs

from .._core.errors import ConcurrentUpdateError, ValidationError
from .._core.events import DeadlineEvent
from .._core.model import Issue, LedgerEntry
from .._core.workdays import Calendar
from .._stores.protocol import IssueQuery, Store, UnitOfWork
from .calendar import CalendarError, add_working_days, working_days_between

__all__ = ["DEFAULT_LADDER", "STEP_LABELS", "Ladder", "Overdue", "Rung", "sweep"]

#: Plans one system step: (issue, trigger, data, hook, at) -> the new issue and its unit of work (the changes
#: to the issue follow from the data: govflow._lifecycle.replay.SYSTEM_STEPS).
PlanStep = Callable[[Issue, str, dict[str, Any], str, dt.datetime], tuple[Issue, UnitOfWork]]

_log = logging.getLogger("govflow")

#: The steps of the ladder and their labels.
STEP_LABELS: Final = {
    "due_soon": {"zh": "临期提醒", "en": "due soon"},
    "overdue": {"zh": "逾期", "en": "overdue"},
    "urge": {"zh": "催办", "en": "urge"},
    "supervise": {"zh": "督办", "en": "supervision notice"},
    "interview": {"zh": "约谈", "en": "interview"},
    # Not a rung: the sweep takes it once for an issue not accepted within its acceptance limit.
    "accept_overdue": {"zh": "超时未签收", "en": "not accepted in time"},
}
# Steps the sweep takes by rules of their own, never as rungs of the ladder.
_NOT_RUNGS: Final = ("interview", "accept_overdue")


@attrs.frozen
class Rung:
    """One step of the ladder, placed in working days relative to the due date.

    ``working_days`` < 0: that many working days before the due date; 0: the
    first day after it; > 0: that many working days after it. ``level`` is the
    issue's escalation level once the step is taken.
    """

    step: str
    working_days: int
    level: int

    def __attrs_post_init__(self) -> None:
        if self.step not in STEP_LABELS or self.step in _NOT_RUNGS:
            accepted = ", ".join(s for s in STEP_LABELS if s not in _NOT_RUNGS)
            raise ValidationError("ladder.step", f"got {self.step!r}", accepted)

    def date(self, calendar: Calendar, due: dt.date) -> dt.date:
        """The day this step falls due for an issue due on ``due``."""
        if self.working_days == 0:
            return due + dt.timedelta(days=1)
        return add_working_days(calendar, due, self.working_days)


@attrs.frozen
class Ladder:
    """The escalation ladder: per-issue rungs, and 约谈 for units that keep missing.

    ``interview_after`` 督办 (supervise steps) of one lead unit within
    ``interview_window`` lead to an ``interview`` step.
    """

    rungs: tuple[Rung, ...]
    interview_after: int = 3
    interview_window: dt.timedelta = dt.timedelta(days=91)
    interview_level: int = 4

    def __attrs_post_init__(self) -> None:
        if not self.rungs:
            raise ValidationError("ladder.rungs", "no rungs", "at least one Rung")
        days = [rung.working_days for rung in self.rungs]
        if days != sorted(days):
            raise ValidationError("ladder.rungs", f"out of order: {days}", "rungs in order of their day")
        if self.interview_after < 1:
            raise ValidationError("ladder.interview_after", f"got {self.interview_after}", "an integer >= 1")

    @property
    def lead_time(self) -> int:
        """How many working days before the due date the first rung falls."""
        return max(0, -self.rungs[0].working_days)


#: The default ladder: reminders 3 and 1 working days before, overdue the day after,
#: 催办 1 working day after, 督办 5 working days after; 约谈 after 3 督办 in a quarter.
DEFAULT_LADDER: Final = Ladder(
    rungs=(
        Rung("due_soon", -3, 0),
        Rung("due_soon", -1, 0),
        Rung("overdue", 0, 1),
        Rung("urge", 1, 2),
        Rung("supervise", 5, 3),
    )
)


@attrs.frozen
class Overdue:
    """An issue past its due date, and by how many working days."""

    issue: Issue
    working_days: int


def days_late(calendar: Calendar, issue: Issue, today: dt.date) -> int:
    """Working days from the due date to ``today`` (0 if not late)."""
    return max(0, working_days_between(calendar, issue.due, today)) if today > issue.due else 0


def sweep(
    store: Store,
    calendar: Calendar,
    ladder: Ladder,
    lead_states: tuple[str, ...],
    in_lead_state: Callable[[Issue], bool],
    now: dt.datetime,
    plan: PlanStep,
    commit: Callable[[Sequence[UnitOfWork]], list[LedgerEntry]],
) -> list[DeadlineEvent]:
    """Take every ladder step that has fallen due by ``now``; return the events, in order.

    ``lead_states`` are the lead states of every lifecycle (the query); ``in_lead_state`` holds
    each candidate to its own lifecycle's. Reads only candidates: issues in those states, due within
    the ladder's lead time, with rungs left (an index on state and due serves the query). The steps are
    written in batches, each batch one transaction.
    """
    today = now.date()
    horizon = add_working_days(calendar, today, ladder.lead_time) + dt.timedelta(days=1)
    candidates = store.query(IssueQuery(states=lead_states, due_before=horizon, escalation_below=len(ladder.rungs)))
    batch = _Batch(commit)
    for issue in candidates:
        if not in_lead_state(issue):
            continue  # its state is a lead state only in another lifecycle
        try:
            _climb(store, calendar, ladder, issue, now, plan, batch)
        except CalendarError as error:
            # One issue whose steps fall in a year without a schedule must not stop the others.
            _log.warning("govflow sweep: issue %s skipped: %s", issue.id, error)
        if len(batch.works) >= _BATCH:
            batch.flush()
    batch.flush()
    return batch.events


_BATCH: Final = 500


@attrs.define
class _Batch:
    """Steps planned but not written yet, and the events of those written."""

    commit: Callable[[Sequence[UnitOfWork]], list[LedgerEntry]]
    works: list[UnitOfWork] = attrs.field(factory=list)
    planned: list[DeadlineEvent] = attrs.field(factory=list)
    events: list[DeadlineEvent] = attrs.field(factory=list)

    def add(self, work: UnitOfWork, event: DeadlineEvent) -> None:
        self.works.append(work)
        self.planned.append(event)

    def flush(self) -> None:
        works, planned = self.works, self.planned
        self.works, self.planned = [], []
        if not works:
            return
        try:
            entries = self.commit(works)
            self.events.extend(_sealed(event, entry) for event, entry in zip(planned, entries, strict=True))
            return
        except ConcurrentUpdateError:
            pass
        # Something changed under us (a command, another sweeper): write issue by issue and
        # leave the issues that changed to the next sweep, which sees them afresh.
        lost: set[str] = set()
        for work, event in zip(works, planned, strict=True):
            if work.issue.id in lost:
                continue
            try:
                entries = self.commit([work])
            except ConcurrentUpdateError:
                lost.add(work.issue.id)
                continue
            self.events.append(_sealed(event, entries[0]))


def _sealed(event: DeadlineEvent, entry: LedgerEntry) -> DeadlineEvent:
    """The event with its ledger entry's seq: the same event the outbox delivers."""
    return attrs.evolve(event, seq=entry.seq)


def _climb(
    store: Store, calendar: Calendar, ladder: Ladder, issue: Issue, now: dt.datetime, plan: PlanStep, batch: _Batch
) -> None:
    today = now.date()
    while issue.escalation_steps < len(ladder.rungs):
        rung = ladder.rungs[issue.escalation_steps]
        if today < rung.date(calendar, issue.due):
            break
        data = {"step": rung.step, "level": rung.level, "due": issue.due.isoformat(),
                "working_days": rung.working_days, "unit": issue.lead}
        issue, work = plan(issue, "deadline", data, "deadline", now)
        batch.add(work, _event(issue, data, now))
        if rung.step == "supervise":
            batch.flush()  # the 约谈 rule reads the ledger: this sweep's 督办 must be in it
            if issue.version != store_version(store, issue.id):
                return  # the step was not written (the issue changed): leave it to the next sweep
            interview = _interview(store, calendar, ladder, issue, now)
            if interview is not None:
                data = interview
                issue, work = plan(issue, "deadline", data, "deadline", now)
                batch.add(work, _event(issue, data, now))


def store_version(store: Store, issue_id: str) -> int | None:
    """The stored version of an issue (None if there is none)."""
    found = store.load(issue_id)
    return None if found is None else found.version


def _interview(
    store: Store, calendar: Calendar, ladder: Ladder, issue: Issue, now: dt.datetime
) -> dict[str, Any] | None:
    """约谈 when the lead unit has had ``interview_after`` 督办 in the window and no 约谈 in it yet.

    A 督办 counts by the day it fell due, not the day a late sweep took it, so a
    catch-up after a long gap does not crowd old steps into one window.
    Returns the step's ledger data.
    """
    since = now - ladder.interview_window
    supervised: list[str] = []
    # A step is taken on or after the day it falls due, so filtering on the time taken loses none.
    for entry in store.ledger(since=since, trigger="deadline"):
        if entry.data.get("unit") != issue.lead:
            continue
        if entry.data.get("step") == "interview":
            return None
        if entry.data.get("step") == "supervise":
            fell_due = add_working_days(
                calendar, dt.date.fromisoformat(str(entry.data["due"])), int(entry.data["working_days"])
            )
            if fell_due >= since.date():
                supervised.append(entry.issue_id)
    if len(supervised) < ladder.interview_after:
        return None
    return {"step": "interview", "level": ladder.interview_level, "due": issue.due.isoformat(),
            "unit": issue.lead, "supervised": supervised}


def _event(issue: Issue, data: dict[str, Any], at: dt.datetime) -> DeadlineEvent:
    return DeadlineEvent(
        issue_id=issue.id, step=data["step"], level=data["level"], due=issue.due, at=at,
        idempotency_key=f"{issue.id}#{issue.version}", unit=issue.lead,
    )
