"""Replaying the ledger (台账回放): each issue rebuilt from its entries by the code that wrote them.

An issue row is derived data: its lead, due date, counters and every other field
follow from its ledger entries. :class:`Replay` rebuilds each issue entry by entry
through the same functions the commands use: :func:`assigned_issue` (what ``assign``
stores), the lifecycle's own machine and effects (``Lifecycle.fire`` with the
entry's recorded data, so that a working-day count is not counted again), and the
registered system steps (:data:`SYSTEM_STEPS`, through which the deadline sweep and
the due-date recount make their changes too). A field a new effect or a new system
step sets is covered without new verification code; ``verify_ledger()`` compares
the rebuilt record with the stored one field by field.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable, Mapping
from typing import Any, Final

import attrs

from .._core.errors import GovflowError
from .._core.field import FieldState
from .._core.ledger import is_issue_subject
from .._core.model import Actor, Issue, LedgerEntry, Responsible, Unit
from .._core.workdays import Calendar
from .fields import iso_date, parse_date
from .machine import Lifecycle, LifecycleDefinition

__all__ = [
    "SYSTEM_STEPS",
    "Replay",
    "apply_system_step",
    "assign_data",
    "assigned_issue",
    "is_issue_subject",
    "register_system_step",
]

#: How a system step (a ledger entry govflow writes itself, the state unchanged) changes the issue:
#: ``changes(issue, data) -> {field: value}``, from the entry's data alone.
SystemStep = Callable[[Issue, Mapping[str, Any]], dict[str, Any]]

#: The actor of the steps govflow takes itself (deadline steps, recounts, an automatic resume).
SYSTEM_ACTOR: Final = "govflow"

#: The system steps by trigger. The command that writes one and the replay apply the same function.
SYSTEM_STEPS: dict[str, SystemStep] = {}


def register_system_step(trigger: str) -> Callable[[SystemStep], SystemStep]:
    """Register how the system step ``trigger`` changes an issue (a decorator)."""

    def register(changes: SystemStep) -> SystemStep:
        SYSTEM_STEPS[trigger] = changes
        return changes

    return register


def apply_system_step(issue: Issue, trigger: str, data: Mapping[str, Any], at: dt.datetime) -> Issue:
    """``issue`` after the system step ``trigger`` with ``data`` at ``at`` (its version one more)."""
    changes = SYSTEM_STEPS[trigger](issue, data)
    return attrs.evolve(issue, version=issue.version + 1, updated_at=at, **changes)


@register_system_step("deadline")
def _deadline(issue: Issue, data: Mapping[str, Any]) -> dict[str, Any]:
    """A ladder step: one more step taken for this due date (约谈 is not a rung), the level raised."""
    if data.get("step") == "accept_overdue":  # 签收超时: noted once for the current lead, no rung climbed
        return {"field": attrs.evolve(issue.field or FieldState(), accept_overdue=True)}
    level = max(issue.escalation_level, int(data["level"]))
    if data.get("step") == "interview":
        return {"escalation_level": level}
    return {"escalation_steps": issue.escalation_steps + 1, "escalation_level": level}


@register_system_step("recount_due")
def _recount_due(issue: Issue, data: Mapping[str, Any]) -> dict[str, Any]:
    """A provisional due date counted again: the date, its flag and basis; a moved date restarts the ladder."""
    due = dt.date.fromisoformat(str(data["due"]))
    base = issue.due_basis[0] if issue.due_basis is not None else issue.due
    changes: dict[str, Any] = {
        "due": due, "due_provisional": bool(data["due_provisional"]), "due_basis": (base, int(data["working_days"])),
    }
    if "original_due" in data:
        changes["original_due"] = dt.date.fromisoformat(str(data["original_due"]))
    if due != issue.due:
        changes.update(escalation_steps=0, escalation_level=0)
    return changes


def assign_data(
    definition: LifecycleDefinition,
    *,
    title: str,
    lead: str,
    due: dt.date,
    provisional: bool = False,
    basis: tuple[dt.date, int] | None = None,
    cooperating: tuple[str, ...] = (),
    description: str = "",
    category: str | None = None,
    responsible: Responsible | None = None,
    target: str | None = None,
) -> dict[str, Any]:
    """The data of an ``assign`` entry (checked values): what :func:`assigned_issue` builds the issue from.

    ``flow.assign`` and the spreadsheet import write the same entry through it.
    """
    data: dict[str, Any] = {
        "title": title, "lead": lead, "due": iso_date(due),
        "lifecycle": definition.name, "lifecycle_version": definition.version,
    }
    if basis is not None:
        data["working_days"] = basis[1]
    if provisional:
        data["due_provisional"] = True
    if cooperating:
        data["cooperating"] = list(cooperating)
    if description:
        data["description"] = description
    if category is not None:
        data["category"] = category
    if responsible is not None:
        data["responsible"] = responsible.as_dict()
    if target is not None:
        data["target"] = target  # the link the stores derive from the assign entry
    return data


def assigned_issue(issue_id: str, data: Mapping[str, Any], at: dt.datetime, initial: str) -> Issue:
    """The issue an ``assign`` entry with ``data`` at ``at`` creates (what the command stores, too)."""
    due = parse_date("due", data["due"])  # shared date objects: many issues fall due on the same few days
    days = data.get("working_days")
    responsible = data.get("responsible")
    countersign, accept_limit = data.get("countersign"), data.get("accept_limit")
    # The field loop's record starts from what the entry says (None when the issue uses none of it).
    field = None if countersign is None and accept_limit is None else FieldState(
        countersign=countersign, accept_limit=None if accept_limit is None else int(accept_limit))
    return Issue(
        id=issue_id, title=data["title"], description=data.get("description", ""), category=data.get("category"),
        lead=data["lead"], cooperating=tuple(data.get("cooperating", ())),
        responsible=None if responsible is None else Responsible(**responsible),
        due=due, original_due=due, state=initial, version=1, lifecycle=data["lifecycle"],
        lifecycle_version=int(data["lifecycle_version"]), created_at=at, updated_at=at,
        due_provisional=bool(data.get("due_provisional", False)),
        due_basis=None if days is None else (at.date(), int(days)),
        field=field,
    )


@attrs.define(eq=False)
class Replay:
    """Issues rebuilt from ledger entries fed in sequence order; the first entry that cannot be replayed."""

    lifecycle: Callable[[str, int], Lifecycle | None]
    units: Callable[[str], Unit | None]
    #: The flow's calendar: a step that counts working days (a resume) counts them as it did.
    calendar: Calendar | None = None
    issues: dict[str, Issue] = attrs.field(factory=dict)
    #: Issue id -> the target its assign entry links it to (work plans).
    links: dict[str, str] = attrs.field(factory=dict)
    #: (seq, issue id, problem) of the first entry that could not be replayed.
    problem: tuple[int, str, str] | None = None

    def feed(self, entry: LedgerEntry) -> None:
        """Apply one entry to its issue (entries of other subjects are left to their own checks)."""
        if self.problem is not None or not is_issue_subject(entry.issue_id):
            return
        try:
            self.issues[entry.issue_id] = self._step(entry)
        except (GovflowError, LookupError, TypeError, ValueError, AttributeError) as exc:
            self.problem = (entry.seq, entry.issue_id, f"the entry cannot be replayed: {exc}")

    def _step(self, entry: LedgerEntry) -> Issue:
        data = entry.data
        if entry.trigger == "assign":
            # Who assigned, and to whom, by the registry the ledger holds (an assign is not a lifecycle step).
            assigner = self.units(entry.actor)
            if assigner is None or not assigner.supervisor:
                raise ValueError(f"{entry.actor!r} may not assign: it is not a registered supervisor unit")
            for unit_id in (data["lead"], *data.get("cooperating", ())):
                if self.units(str(unit_id)) is None:
                    raise ValueError(f"it names the unit {unit_id!r}, which no entry registers")
            if isinstance(data.get("target"), str):
                self.links[entry.issue_id] = data["target"]
            lifecycle = self._lifecycle(str(data["lifecycle"]), int(data["lifecycle_version"]))
            return assigned_issue(entry.issue_id, data, entry.at, lifecycle.definition.initial)
        issue = self.issues[entry.issue_id]
        if entry.trigger in SYSTEM_STEPS:
            return apply_system_step(issue, entry.trigger, data, entry.at)
        lifecycle = self._lifecycle(issue.lifecycle, issue.lifecycle_version)
        spec = lifecycle.triggers_from(issue.state).get(entry.trigger)
        accepts = spec.accepts if spec is not None else ()
        given = {key: value for key, value in data.items() if key in accepts}
        # What happened is replayed, not judged again by today's settings: no cap on extensions.
        new, _ = lifecycle.fire(
            issue, entry.trigger, Actor(entry.actor, entry.person), given, entry.at, self.units, self.calendar,
            max_extensions=sys.maxsize, recorded=data, system=entry.actor == SYSTEM_ACTOR,
        )
        if new.state != entry.to_state:
            raise ValueError(f"the lifecycle leads to {new.state!r} where the entry says {entry.to_state!r}")
        return new

    def _lifecycle(self, name: str, version: int) -> Lifecycle:
        found = self.lifecycle(name, version)
        if found is None:
            raise LookupError(f"no lifecycle {name}@{version} is registered")
        return found


#: The fields of an issue the ledger determines: all of them.
ISSUE_FIELDS: Final = tuple(field.name for field in attrs.fields(Issue))


def difference(stored: Issue, replayed: Issue) -> str | None:
    """The first field in which ``stored`` differs from ``replayed``, in words; None if they agree."""
    for name in ISSUE_FIELDS:
        have, want = getattr(stored, name), getattr(replayed, name)
        if have != want:
            return f"its {name} is {have!r} where its ledger entries give {want!r}"
    return None
