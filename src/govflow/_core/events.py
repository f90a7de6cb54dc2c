"""The events plugins receive: frozen values built from ledger entries."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Mapping
from typing import Any

import attrs

from .model import Actor, Issue, LedgerEntry

__all__ = ["DeadlineEvent", "ProposedTransition", "TransitionEvent"]


@attrs.frozen
class ProposedTransition:
    """A transition the lifecycle allows, before it is written (for ``before_transition``).

    ``issue`` is the stored snapshot (None for ``assign``), ``new`` the
    snapshot that would be written (its ``id`` is ``""`` for ``assign``).
    """

    issue: Issue | None
    new: Issue
    trigger: str
    actor: Actor
    at: dt.datetime
    data: Mapping[str, Any]

    @property
    def from_state(self) -> str | None:
        """The state before (None for ``assign``)."""
        return None if self.issue is None else self.issue.state

    @property
    def to_state(self) -> str:
        """The state after."""
        return self.new.state


@attrs.frozen
class TransitionEvent:
    """A committed transition, as delivered to ``govflow_after_transition``.

    ``idempotency_key`` is the same on every delivery of the same step
    (``"{issue_id}#{issue_seq}"``): receivers use it to drop duplicates.
    ``merged`` lists the issues merged into this one (并案) by the time of the step, in the
    order they were merged: their subscribers are told of the issue's later steps through it
    (the outbox fills it in at delivery; empty for an issue nothing was merged into).
    """

    issue_id: str
    trigger: str
    from_state: str | None
    to_state: str
    actor: str
    at: dt.datetime
    data: Mapping[str, Any]
    idempotency_key: str
    person: str | None = None
    seq: int = 0
    merged: tuple[str, ...] = ()

    @classmethod
    def from_entry(cls, entry: LedgerEntry) -> TransitionEvent:
        """The event for a ledger entry."""
        return cls(
            issue_id=entry.issue_id, trigger=entry.trigger, from_state=entry.from_state,
            to_state=entry.to_state, actor=entry.actor, at=entry.at, data=copy.deepcopy(entry.data),
            idempotency_key=f"{entry.issue_id}#{entry.issue_seq}", person=entry.person, seq=entry.seq,
        )


@attrs.frozen
class DeadlineEvent:
    """A deadline step, as delivered to ``govflow_deadline``.

    ``step`` is ``due_soon``, ``overdue``, ``urge`` (催办), ``supervise`` (督办)
    or ``interview`` (约谈); ``level`` the issue's escalation level after it;
    ``unit`` the lead unit the step concerns (the lead at the time of the step);
    ``seq`` the step's ledger entry (0 on an event built by hand).
    """

    issue_id: str
    step: str
    level: int
    due: dt.date
    at: dt.datetime
    idempotency_key: str
    unit: str | None = None
    seq: int = 0

    @classmethod
    def from_entry(cls, entry: LedgerEntry) -> DeadlineEvent:
        """The event for a deadline ledger entry (data has ``step``, ``level``, ``due``)."""
        return cls(
            issue_id=entry.issue_id, step=str(entry.data["step"]), level=int(entry.data["level"]),
            due=dt.date.fromisoformat(str(entry.data["due"])), at=entry.at,
            idempotency_key=f"{entry.issue_id}#{entry.issue_seq}",
            unit=entry.data["unit"] if isinstance(entry.data.get("unit"), str) else None, seq=entry.seq,
        )
