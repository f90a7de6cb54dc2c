"""The named effects a transition may have on an issue, and the working record they change."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any, Final

import attrs

from .._core.errors import ValidationError
from .._core.model import Actor, ExtensionRequest, Issue, Unit
from .._core.workdays import Calendar, Weekdays, resolve_due
from .fields import FIELD_HELP

__all__ = ["EFFECTS", "Effect", "EscalateTo", "Partner", "Refused", "Work", "set_due"]

#: Where 提级督办 (escalation one level) takes an issue: ``"parent"`` (None: the same), a unit id, or a
#: callable mapping the supervising office's :class:`~govflow.Unit` to a unit or a unit id.
EscalateTo = str | Callable[[Unit], "Unit | str"] | None


@attrs.define
class Work:
    """The throw-away record a transition runs on; the stored snapshot is untouched."""

    state: str
    issue: Issue
    actor: Actor
    now: dt.datetime
    units: Callable[[str], Unit | None]
    values: dict[str, Any]
    changes: dict[str, Any] = attrs.field(factory=dict)
    calendar: Calendar = attrs.field(factory=Weekdays)
    max_extensions: int = 2
    #: In a replay of the ledger: the entry's data, which says how the due date was counted.
    recorded: Mapping[str, Any] | None = None
    #: The lifecycle's ``settings`` (the field loop's limits) and its initial state.
    settings: Mapping[str, int] = attrs.field(factory=dict)
    initial: str = "assigned"
    #: A step govflow takes itself (an automatic resume): no role is checked.
    system: bool = False
    #: Where 提级督办 takes an issue (the deployment's ``escalate_to``): None or ``"parent"`` (the parent of the
    #: supervising office), a unit id, or a callable mapping the supervising office's unit to a unit (or id).
    escalate_to: EscalateTo = None

    def resolve_due(self, base: dt.date) -> dt.date:
        """The ``due`` keyword as a date (a working-day count is counted from ``base``).

        Records the provisional flag and basis in the changes and the date in the ledger data.
        """
        if self.recorded is None:
            due, provisional, basis = resolve_due(self.calendar, self.values["due"], base)
        else:
            # A replay takes the date as recorded: the calendar may know more now than it did then.
            due = self.values["due"]
            days = self.recorded.get("working_days")
            provisional = bool(self.recorded.get("due_provisional", False))
            basis = None if days is None else (base, int(days))
        if basis is not None:
            self.values["working_days"] = basis[1]
        if provisional:
            self.values["due_provisional"] = True
        self.values["due"] = due
        self.changes["due_provisional"] = provisional
        self.changes["due_basis"] = basis
        return due


class Refused(Exception):
    """Raised by an effect that refuses the step in the issue's present circumstances (the facade reports it
    as :class:`~govflow.InvalidTransition` with the reason)."""


@attrs.frozen
class Partner:
    """The step another issue takes with a transition, in the same transaction (并案: the issue merged into
    takes it in).

    The issue named by the step's data keyword ``key`` fires its own transition that has the effect
    ``effect`` (from its current state), with this issue's id as the keyword ``as_`` and the keywords
    ``carry`` passed on when given. Whoever fires the first step fires both; either refused, nothing is written.
    """

    key: str
    effect: str
    as_: str
    carry: tuple[str, ...] = ()


@attrs.frozen
class Effect:
    """A named change a transition makes to the issue beyond its state (and, with ``partner``, the step
    another issue takes with it)."""

    apply: Callable[[Work], None]
    guard: Callable[[Issue], str | None] = lambda issue: None
    needs: tuple[str, ...] = ()
    uses: str | None = None
    partner: Partner | None = None


def _record_acceptance(work: Work) -> None:
    work.changes["accepted_at"] = work.now


def _not_accepted(issue: Issue) -> str | None:
    if issue.accepted_at is None:
        return None
    return f"already accepted (签收) at {issue.accepted_at.isoformat()}"


def _change_lead(work: Work) -> None:
    new_lead = work.values["new_lead"]
    issue = work.issue
    if new_lead == issue.lead:
        raise ValidationError("new_lead", f"{new_lead!r} already leads this issue",
                              FIELD_HELP["new_lead"], issue.id)
    unit = work.units(new_lead)
    if unit is None:
        raise ValidationError("new_lead", f"no unit {new_lead!r}", FIELD_HELP["new_lead"], issue.id)
    work.changes["lead"] = new_lead
    work.changes["cooperating"] = tuple(u for u in issue.cooperating if u != new_lead)
    work.changes["accepted_at"] = None
    work.changes["extension"] = None  # the old lead's request does not pass to the new one
    work.changes["responsible"] = None  # the people named were the old lead's


def set_due(work: Work) -> None:
    """The ``due`` keyword, when given, becomes the issue's due date (not in the past)."""
    if work.values.get("due") is None:
        return
    due = work.resolve_due(work.now.date())
    if due < work.now.date():
        raise ValidationError(
            "due", f"{due.isoformat()} is in the past",
            f"a date on or after {work.now.date().isoformat()}", work.issue.id,
        )
    work.changes["due"] = due


def _count_rework(work: Work) -> None:
    work.changes["rework_count"] = work.issue.rework_count + 1
    set_due(work)


def _no_extension_pending(issue: Issue) -> str | None:
    if issue.extension is None:
        return None
    return f"an extension to {issue.extension.due.isoformat()} is already pending"


def _extension_pending(issue: Issue) -> str | None:
    return None if issue.extension is not None else "no extension request is pending"


def _request_extension(work: Work) -> None:
    issue = work.issue
    if issue.extension_count >= work.max_extensions:
        raise ValidationError(
            "due", f"the issue has had {issue.extension_count} extensions already",
            f"at most {work.max_extensions} extensions per issue", issue.id,
        )
    # A working-day count is counted from the current due date.
    due = work.resolve_due(issue.due)
    # The issue's own due date does not change yet: the request carries the count.
    provisional = work.changes.pop("due_provisional", False)
    basis = work.changes.pop("due_basis", None)
    if work.now.date() > issue.due:
        raise ValidationError(
            "due", f"the request comes after the due date {issue.due.isoformat()}",
            "a request made on or before the current due date", issue.id,
        )
    if due <= issue.due:
        raise ValidationError(
            "due", f"{due.isoformat()} is not later than the current due date {issue.due.isoformat()}",
            f"a date after {issue.due.isoformat()}", issue.id,
        )
    work.changes["extension"] = ExtensionRequest(
        due=due, reason=work.values["reason"], requested_by=work.actor.unit, requested_at=work.now,
        due_provisional=provisional, due_basis=basis,
    )


def _approve_extension(work: Work) -> None:
    request = work.issue.extension
    assert request is not None  # guarded
    if request.due < work.now.date():
        raise ValidationError(
            "due", f"the requested date {request.due.isoformat()} has already passed",
            "approval on or before the requested date; deny it and let the unit ask again", work.issue.id,
        )
    work.changes["due"] = request.due
    work.changes["due_provisional"] = request.due_provisional
    work.changes["due_basis"] = request.due_basis
    work.changes["extension"] = None
    work.changes["extension_count"] = work.issue.extension_count + 1


def _deny_extension(work: Work) -> None:
    work.changes["extension"] = None


_BASE: Final[Mapping[str, Effect]] = {
    "record_acceptance": Effect(_record_acceptance, _not_accepted),
    "change_lead": Effect(_change_lead, needs=("new_lead",)),
    "count_rework": Effect(_count_rework),
    "set_due": Effect(set_due, uses="due"),
    "request_extension": Effect(_request_extension, _no_extension_pending, needs=("due", "reason")),
    "approve_extension": Effect(_approve_extension, _extension_pending),
    "deny_extension": Effect(_deny_extension, _extension_pending),
}



# The field loop's effects build on Work and Effect above.
from .field_effects import FIELD_EFFECTS  # noqa: E402

#: The effects a transition may name, by name.
EFFECTS: Final[Mapping[str, Effect]] = {**_BASE, **FIELD_EFFECTS}
