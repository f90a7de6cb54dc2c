"""Who an email goes to: the units an event concerns, with the lead unit as it was at the step.

Emails go out later than the step, from the outbox: by then the issue may
have another lead unit (改派 ``reassign``). So the lead is replayed from the
issue's ledger up to the event's own entry, never read from the issue as it
is at delivery.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import govflow

from ._config import Mailbox

__all__ = ["StepUnits", "step_units", "subject_issue", "unique"]


def subject_issue(flow: govflow.Govflow, issue_id: str) -> govflow.Issue:
    """The issue an event is about; for a work plan's target (the sweep's 滞后 steps), the target as an
    issue-shaped record: its unit as the lead, its title, due date and state."""
    try:
        return flow.get(issue_id)
    except govflow.NotFound:
        try:
            target = flow.target(issue_id)
        except govflow.NotFound:
            raise govflow.NotFound("issue", issue_id) from None
    return govflow.Issue(
        id=target.id, title=target.title, lead=target.unit, due=target.due, original_due=target.due,
        state=target.state, version=target.version, lifecycle="plan-target", lifecycle_version=1,
        created_at=target.created_at, updated_at=target.updated_at, cooperating=target.cooperating,
        responsible=target.responsible,
    )


class StepUnits(NamedTuple):
    """The units an event concerns, and what the email says about the issue as of the step."""

    #: The units concerned, in order, without duplicates.
    units: list[str]
    #: The lead unit after the step (for a reassignment, the new one).
    lead: str
    #: The issue's state after the step (for a deadline step, the state it was in).
    state: str


def step_units(flow: govflow.Govflow, event: govflow.TransitionEvent | govflow.DeadlineEvent) -> StepUnits:
    """The units ``event`` concerns, read from the ledger as it was at the event's step.

    A transition: the lead unit before it, the lead unit after it (they
    differ for a reassignment), the actor's unit, and the lead unit of each
    issue merged into this one by then (并案, ``event.merged``: the duplicate's
    unit hears of the issue it was merged into). A deadline step: the issue's
    lead unit at that step.
    """
    issue = subject_issue(flow, event.issue_id)  # NotFound for an issue the flow does not have
    if issue.lifecycle == "plan-target":  # a lagging target (滞后): its own unit
        return StepUnits([issue.lead], issue.lead, issue.state)
    before, after, entry = _leads(flow, event, issue)
    state = issue.state if entry is None else entry.to_state
    if isinstance(event, govflow.DeadlineEvent):
        return StepUnits([after], after, state)
    found = [before, after, event.actor, *(_lead_of(flow, merged) for merged in event.merged)]
    units = [unit for unit in found if unit]
    return StepUnits(list(dict.fromkeys(units)), after, state)


def _lead_of(flow: govflow.Govflow, issue_id: str) -> str | None:
    """The lead unit of a merged issue (final once merged, so its lead is the one it had then); None if gone."""
    try:
        return flow.get(issue_id).lead
    except govflow.NotFound:
        return None


def _leads(
    flow: govflow.Govflow, event: govflow.TransitionEvent | govflow.DeadlineEvent, issue: govflow.Issue
) -> tuple[str | None, str, govflow.LedgerEntry | None]:
    """The lead unit before and after the event's step, replayed from the ledger, and the step's entry.

    An event no entry matches (one built by hand) gets the lead as of its
    time, and no entry.
    """
    lead: str | None = None
    as_of: str | None = None
    for entry in flow.ledger(event.issue_id):
        before = lead
        if entry.from_state is None and isinstance(entry.data.get("lead"), str):
            lead = entry.data["lead"]
        # ``new_lead`` is what the change_lead effect (reassign, or a custom lifecycle's trigger) reads.
        if isinstance(entry.data.get("new_lead"), str):
            lead = entry.data["new_lead"]
        if event.seq and entry.seq == event.seq:  # the entry the event was delivered for
            return before, lead or issue.lead, entry
        if entry.at <= event.at:
            as_of = lead
    lead = as_of or issue.lead
    return lead, lead, None


def unique(boxes: Sequence[Mailbox]) -> list[Mailbox]:
    """The mailboxes without repeated addresses (compared case-insensitively), first one kept."""
    seen: dict[str, Mailbox] = {}
    for box in boxes:
        seen.setdefault(box.address.casefold(), box)
    return list(seen.values())
