"""The deadline side of :class:`govflow.Govflow` (the sweep, overdue issues, recounted due dates) and the
steps govflow takes itself; a mixin of the facade, kept apart to keep each module readable."""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .._core.clock import in_zone
from .._core.errors import ConcurrentUpdateError, ValidationError
from .._core.events import DeadlineEvent
from .._core.ledger import LedgerDraft
from .._core.model import Issue, LedgerEntry
from .._deadlines.calendar import WorkingDays, YearTurn, resolve_due
from .._deadlines.ladder import Ladder, Overdue, days_late, sweep
from .._lifecycle.fields import iso_date
from .._lifecycle.replay import apply_system_step
from .._stores.protocol import IssueQuery, UnitOfWork

if TYPE_CHECKING:
    from .._lifecycle.machine import Lifecycle
    from .._plugins.manager import Plugins
    from .._plugins.outbox import Courier, Outbox
    from .._plugins.registries import Calendar
    from .._stores.protocol import Store

__all__ = ["SYSTEM_ACTOR", "DeadlinesMixin"]

_log = logging.getLogger("govflow")

#: The actor recorded on the steps govflow takes itself (deadline steps, recounted due dates).
SYSTEM_ACTOR = "govflow"


class DeadlinesMixin:
    """Deadlines (时限) and system steps of :class:`govflow.Govflow`, which supplies the attributes below."""

    ladder: Ladder
    outbox: Outbox
    _store: Store
    _calendar: Calendar
    _plugins: Plugins
    _lifecycles: dict[tuple[str, int], Lifecycle]
    _courier: Courier | None
    _delivery: str

    if TYPE_CHECKING:

        def now(self) -> dt.datetime: ...

        def _lifecycle_of(self, name: str, version: int) -> Lifecycle | None: ...

        def _reload_lifecycles(self) -> bool: ...

        def _sweep_targets(self, now: dt.datetime) -> list[DeadlineEvent]: ...

    def sweep(self, now: dt.datetime | None = None) -> list[DeadlineEvent]:
        """Take every deadline step that has fallen due (临期提醒, 逾期, 催办, 督办, 约谈).

        Each step is a ledger entry (trigger ``deadline``) and a
        ``govflow_deadline`` event through the outbox; the events are returned.
        Sweeping twice at one moment takes nothing new; after a gap, each missed
        step is taken once, in order. Run it from cron or a worker loop. Targets of active
        plans below 100 % climb the same ladder (滞后), and targets whose progress comes from
        their children or linked issues and has reached 100 are completed.
        """
        when = self.now() if now is None else in_zone("now", now)
        # At the turn of the year, next year's schedule may not be out: reminders are counted
        # provisionally for it (logged) rather than not at all.
        calendar = YearTurn(self._calendar)
        events = sweep(
            self._store, calendar, self.ladder, self._lead_states(), self._in_lead_state, when,
            self._plan_system_step, self._commit_many,
        )
        events += self._sweep_targets(when)
        calendar.warn(_log, "sweep")
        return events

    def overdue(self, unit: str | None = None) -> list[Overdue]:
        """Issues past their due date while the lead unit still has to act (of one unit, lead or
        cooperating), most late first."""
        today = self.now().date()
        late = self._store.query(IssueQuery(states=self._lead_states(), unit=unit, due_before=today))
        mine = [issue for issue in late if self._in_lead_state(issue)]
        calendar = YearTurn(self._calendar)
        found = [Overdue(issue, days_late(calendar, issue, today)) for issue in mine]
        calendar.warn(_log, "overdue")
        return sorted(found, key=lambda o: (-o.working_days, o.issue.id))

    def load_schedule(self, source: str | os.PathLike[str] | Mapping[str, Any]) -> list[Issue]:
        """Load an official holiday schedule (TOML file or mapping) into :attr:`calendar`, then
        count the provisional due dates again; return the issues whose due date was recounted."""
        load = getattr(self._calendar, "load_schedule", None)
        if load is None:
            raise ValidationError("calendar", f"{type(self._calendar).__name__} takes no schedules",
                                  "a calendar with load_schedule(), such as the built-in 'cn'")
        load(source)
        return self.recount_provisional_dues()

    def recount_provisional_dues(self) -> list[Issue]:
        """Count provisional due dates again (after loading an official schedule); return the changed issues.

        Issues closed in substance are left as they are: those in a final state, and those verified though a
        call-back or a reopening may still send them back (``issue-list`` v2; see ``Lifecycle.closed_states``).
        Each change is a ledger entry (trigger ``recount_due``) with the old and new date. An issue
        another writer changes meanwhile is read again and counted on its new state (three tries;
        one still contended is logged and left to the next call, and the others go on).
        """
        changed = []
        for found in self._store.query(IssueQuery(states=self._unsettled_states())):
            issue: Issue | None = found
            for attempt in range(3):
                try:
                    recounted = self._recount(issue) if issue is not None else None
                except ConcurrentUpdateError as error:
                    if attempt == 2:
                        _log.warning("govflow recount: issue %s left to the next recount: %s", found.id, error)
                    issue = self._store.load(found.id)  # as the other writer left it
                    continue
                if recounted is not None:
                    changed.append(recounted)
                break
        return changed

    def _recount(self, issue: Issue) -> Issue | None:
        """Count one issue's provisional due date again; the step written, or None if nothing changes."""
        if not issue.due_provisional or issue.due_basis is None or not self._is_unsettled(issue):
            return None
        due, provisional, _ = resolve_due(self._calendar, WorkingDays(issue.due_basis[1]), issue.due_basis[0])
        if due == issue.due and provisional:
            return None
        data: dict[str, Any] = {"due": iso_date(due), "previous_due": iso_date(issue.due),
                                "working_days": issue.due_basis[1], "due_provisional": provisional}
        if issue.original_due == issue.due and issue.extension_count == 0 and issue.rework_count == 0:
            # It was the assignment's own due date, counted again (the period facts read it from here).
            data["original_due"] = iso_date(due)
        # The changes to the issue follow from the data (replay.SYSTEM_STEPS["recount_due"]).
        return self._system_step(issue, "recount_due", data, "after_transition", self.now())

    def _lead_states(self) -> tuple[str, ...]:
        """States in which the lead unit has something to do in some lifecycle: what a store query
        selects; :meth:`_in_lead_state` then holds each issue to its own lifecycle.

        (In the default lifecycle ``assigned`` and ``implemented``; once reported back,
        the issue waits on the supervisor, and is neither late nor escalated.)
        """
        self._reload_lifecycles()  # another process may have registered one
        return tuple(sorted(set().union(*(lc.lead_states for lc in list(self._lifecycles.values())))))

    def _in_lead_state(self, issue: Issue) -> bool:
        """Whether the lead unit has something to do in ``issue``'s state, by its own lifecycle (a state
        of the same name in another lifecycle may mean something else)."""
        found = self._lifecycle_of(issue.lifecycle, issue.lifecycle_version)
        return found is not None and issue.state in found.lead_states

    def _unsettled_states(self) -> tuple[str, ...]:
        """States in which an issue of some lifecycle is not closed in substance (its due date matters)."""
        self._reload_lifecycles()
        lifecycles = list(self._lifecycles.values())
        return tuple(sorted(set().union(*(lc.open_states - lc.closed_states for lc in lifecycles))))

    def _is_unsettled(self, issue: Issue) -> bool:
        """Whether ``issue`` is not closed in substance by its own lifecycle (final, or verified: see
        ``Lifecycle.closed_states``)."""
        found = self._lifecycle_of(issue.lifecycle, issue.lifecycle_version)
        return found is not None and issue.state not in found.closed_states

    def _plan_system_step(
        self, issue: Issue, trigger: str, data: dict[str, Any], hook: str, at: dt.datetime
    ) -> tuple[Issue, UnitOfWork]:
        """A step govflow takes itself (actor ``govflow``): a ledger entry, no state change.

        What it changes follows from ``data`` by the step's registered function
        (:data:`govflow._lifecycle.replay.SYSTEM_STEPS`), which ``verify_ledger()`` replays too.
        """
        new = apply_system_step(issue, trigger, data, at)
        draft = LedgerDraft(
            issue_id=issue.id, issue_seq=new.version, trigger=trigger, from_state=issue.state,
            to_state=issue.state, actor=SYSTEM_ACTOR, person=None, at=at, data=data,
        )
        notify = tuple((hook, name) for name in self._plugins.subscribers(hook))
        return new, UnitOfWork(new, issue.version, draft, notify=notify)

    def _system_step(self, issue: Issue, trigger: str, data: dict[str, Any], hook: str, at: dt.datetime) -> Issue:
        """Plan and write one system step."""
        new, work = self._plan_system_step(issue, trigger, data, hook, at)
        self._commit_many([work])
        return new

    def _commit_many(self, works: Sequence[UnitOfWork]) -> list[LedgerEntry]:
        """Write units of work (with their outbox rows) in one transaction, then start delivery; the
        sealed entries."""
        written = self._store.commit_many(works)
        if any(work.notify for work in works):
            self._start_delivery()
        return [entry for _, entry in written]

    def _start_delivery(self) -> None:
        """After a commit that wrote outbox rows: wake the courier, or deliver now (``delivery="inline"``)."""
        if self._courier is not None:
            self._courier.wake()
        elif self._delivery == "inline":
            self.outbox.deliver()
