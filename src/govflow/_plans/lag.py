"""Lagging targets (滞后) on the escalation ladder, and targets whose derived progress reached 100.

The sweep holds each active target of an active plan below 100 % to the same ladder as
an overdue issue: each rung that has fallen due for the target's due date is a ``deadline``
step of the target (its ``data["unit"]`` the target's unit, so the period facts count it
among the unit's escalations) and a ``govflow_deadline`` event. A target whose progress
comes from its children or linked issues and has reached 100 is completed by govflow
(trigger ``complete``, ``data["derived"]``); one reopened because a target below it was
sent back waits until every target below it is completed again.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs

from .._core.workdays import Calendar
from .._deadlines.calendar import CalendarError
from .._deadlines.ladder import Ladder
from .progress import PlanProgress

__all__ = ["PlannedStep", "plan_sweep"]


@attrs.frozen
class PlannedStep:
    """A step the sweep takes on one target: its trigger, new state and ledger data."""

    target_id: str
    trigger: str
    to_state: str
    data: dict[str, Any]


def plan_sweep(progress: PlanProgress, ladder: Ladder, calendar: Calendar, now: dt.datetime) -> list[PlannedStep]:
    """The steps that have fallen due for the targets of one plan's progress tree, target by target in order."""
    today = now.date()
    steps: list[PlannedStep] = []
    for node in progress.walk():
        target = node.target
        if target.state != "active":
            continue
        derived = bool(node.children) or target.measure == "issues"
        if node.progress >= 100.0:
            # sent back with a target below it: completed again once everything below is
            redone = all(c.target.state in ("completed", "accepted") for c in node.children)
            if derived and (not target.rejected or (node.children and redone)):
                steps.append(PlannedStep(target.id, "complete", "completed",
                                         {"progress": round(node.progress, 4), "derived": True}))
            continue
        taken = target.escalation_steps
        while taken < len(ladder.rungs):
            rung = ladder.rungs[taken]
            try:
                falls = rung.date(calendar, target.due)
            except CalendarError:
                break  # a year without a schedule: the next sweep tries again
            if today < falls:
                break
            steps.append(PlannedStep(target.id, "deadline", target.state, {
                "step": rung.step, "level": rung.level, "due": target.due.isoformat(),
                "working_days": rung.working_days, "unit": target.unit, "progress": round(node.progress, 4),
            }))
            taken += 1
    return steps
