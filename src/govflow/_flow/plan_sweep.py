"""The sweep's share of work plans: lagging targets (滞后) on the escalation ladder, and targets whose progress
comes from their children or linked issues completed at 100; a mixin of the facade (through ``PlansMixin``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import attrs

from .._core.errors import ConcurrentUpdateError
from .._core.events import DeadlineEvent
from .._core.model import LedgerEntry, Unit
from .._plans.lag import plan_sweep
from .._plans.model import Plan, Target, apply_entry
from .._plans.progress import compute_progress
from .._stores.plans import PlanWork

if TYPE_CHECKING:
    from .._deadlines.ladder import Ladder
    from .._plugins.manager import Plugins
    from .._plugins.registries import Calendar
    from .._stores.protocol import Store

__all__ = ["PlanSweepMixin"]


class PlanSweepMixin:
    """``_sweep_targets`` of :class:`govflow.Govflow` (``flow.sweep()`` calls it), which supplies the rest."""

    ladder: Ladder
    _store: Store
    _calendar: Calendar
    _plugins: Plugins

    if TYPE_CHECKING:

        def plans(self) -> list[Plan]: ...

        def _plan_targets(self, plan_id: str) -> list[Target]: ...

        def _unit_map(self) -> dict[str, Unit]: ...

        def _system_work(self, target: Target, trigger: str, to_state: str, data: dict[str, Any],
                         at: dt.datetime, notify: tuple[tuple[str, str], ...] = ()) -> PlanWork: ...

        def _commit_plan(self, works: Sequence[PlanWork]) -> list[LedgerEntry]: ...

    def _sweep_targets(self, now: dt.datetime) -> list[DeadlineEvent]:
        """The sweep's share: ladder steps of lagging targets, completion of derived targets at 100."""
        events: list[DeadlineEvent] = []
        hook = tuple(("deadline", name) for name in self._plugins.subscribers("deadline"))
        for plan in self.plans():
            if plan.state != "active":
                continue
            targets = {t.id: t for t in self._plan_targets(plan.id)}
            tree = compute_progress(plan, list(targets.values()), self._store.target_issue_states(plan.id), now,
                                    self._unit_map())
            works: list[PlanWork] = []
            planned: list[DeadlineEvent] = []
            for step in plan_sweep(tree, self.ladder, self._calendar, now):
                target = targets[step.target_id]
                notify = hook if step.trigger == "deadline" else ()
                work = self._system_work(target, step.trigger, step.to_state, step.data, now, notify)
                targets[target.id] = apply_entry(target, target.id, step.trigger, step.to_state, target.version + 1,
                                                 now, step.data)  # type: ignore[assignment]
                works.append(work)
                if step.trigger == "deadline":
                    planned.append(DeadlineEvent(
                        issue_id=target.id, step=step.data["step"], level=step.data["level"], due=target.due, at=now,
                        idempotency_key=f"{target.id}#{work.row.version}", unit=target.unit, seq=len(works)))
            sealed = self._commit_steps(works)
            events.extend(attrs.evolve(e, seq=sealed[e.seq - 1]) for e in planned if sealed.get(e.seq - 1))
        return events

    def _commit_steps(self, works: list[PlanWork]) -> dict[int, int]:
        """Write the sweep's steps of one plan: together, or (when a target changed meanwhile) one by one,
        leaving a target that changed to the next sweep; the seq of each step written, by its index."""
        try:
            return dict(enumerate(e.seq for e in self._commit_plan(works))) if works else {}
        except ConcurrentUpdateError:
            written: dict[int, int] = {}
            lost: set[str] = set()
            for index, work in enumerate(works):
                if work.row.id in lost:
                    continue
                try:
                    written[index] = self._commit_plan([work])[0].seq
                except ConcurrentUpdateError:
                    lost.add(work.row.id)
            return written
