"""The named steps of the default lifecycle on :class:`govflow.Govflow`: each is ``fire`` with its trigger.

A mixin of the facade, kept apart to keep each module readable.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from .._core.model import Actor, Issue
from .._core.workdays import WorkingDays

__all__ = ["ActorLike", "StepsMixin"]

#: Who fires a trigger: a unit id, ``"unit/person"``, or an :class:`govflow.Actor`.
ActorLike = str | Actor


class StepsMixin:
    """签收, 落实, 反馈, 验收销号 and the other steps of ``issue-list`` by name."""

    if TYPE_CHECKING:

        def fire(
            self, issue_id: str, trigger: str, *, by: ActorLike, expected_version: int | None = None,
            retries: int = 0, **data: Any,
        ) -> Issue: ...

    def accept(self, issue_id: str, *, by: ActorLike) -> Issue:
        """签收: the lead unit acknowledges the issue (records the acceptance time)."""
        return self.fire(issue_id, "accept", by=by)

    def implement(
        self, issue_id: str, *, by: ActorLike, note: str, evidence: str | list[str] | None = None
    ) -> Issue:
        """落实: the lead unit records the measures taken (assigned → implemented)."""
        return self.fire(issue_id, "implement", by=by, note=note, evidence=evidence)

    def report(
        self, issue_id: str, *, by: ActorLike, result: str, evidence: str | list[str] | None = None
    ) -> Issue:
        """反馈: the lead unit reports the result back (implemented → feedback)."""
        return self.fire(issue_id, "report", by=by, result=result, evidence=evidence)

    def verify(
        self, issue_id: str, *, by: ActorLike, rating: int | None = None, note: str | None = None
    ) -> Issue:
        """验收销号: a supervisor, never the lead unit, verifies and closes (feedback → verified)."""
        return self.fire(issue_id, "verify", by=by, rating=rating, note=note)

    def reject(
        self, issue_id: str, *, by: ActorLike, reason: str, due: dt.date | str | WorkingDays | None = None
    ) -> Issue:
        """退回重办: verification failed; back to assigned, counting a rework, maybe a new due date."""
        return self.fire(issue_id, "reject", by=by, reason=reason, due=due)

    def cancel(self, issue_id: str, *, by: ActorLike, reason: str) -> Issue:
        """撤销: a supervisor cancels an open issue."""
        return self.fire(issue_id, "cancel", by=by, reason=reason)

    def reassign(self, issue_id: str, *, by: ActorLike, new_lead: str, reason: str) -> Issue:
        """改派: a supervisor gives the issue to another lead unit."""
        return self.fire(issue_id, "reassign", by=by, new_lead=new_lead, reason=reason)

    def request_extension(
        self, issue_id: str, *, by: ActorLike, due: dt.date | str | WorkingDays, reason: str
    ) -> Issue:
        """申请延期: the lead unit asks for a later due date, before the current one passes."""
        return self.fire(issue_id, "request_extension", by=by, due=due, reason=reason)

    def approve_extension(self, issue_id: str, *, by: ActorLike, note: str | None = None) -> Issue:
        """批准延期: a supervisor grants the pending request; ``original_due`` stays."""
        return self.fire(issue_id, "approve_extension", by=by, note=note)

    def deny_extension(self, issue_id: str, *, by: ActorLike, reason: str) -> Issue:
        """驳回延期: a supervisor refuses the pending request."""
        return self.fire(issue_id, "deny_extension", by=by, reason=reason)
