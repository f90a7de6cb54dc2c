"""Plans, phases and targets as values, and how their ledger entries build them.

A plan or target is derived from its own ledger entries alone: :func:`apply_entry`
turns the current value and one entry into the next value, the commands use it to
build the row they write, and :func:`replay` rebuilds a value from its entries (what
``as_of`` answers and ledger verification rely on). ``progress`` and ``status`` of a
:class:`Target` are filled in when it is read (a target with children, or measured by
its linked issues, takes its progress from them); the stored row keeps ``reported``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final, Literal

import attrs

from .._core.errors import ValidationError
from .._core.ledger import canonical_json
from .._core.model import Issue, LedgerEntry, Responsible, Unit
from .._lifecycle.replay import SYSTEM_ACTOR as _SYSTEM_ACTOR
from .._stores.plans import PlanRow

__all__ = [
    "MEASURES",
    "PLAN_STATES",
    "Measure",
    "Phase",
    "Plan",
    "Target",
    "apply_entry",
    "as_issue",
    "from_row",
    "plan_actor_problem",
    "replay",
    "to_row",
]

#: How a target's progress is measured: reported by its unit, or the share of its linked issues verified.
Measure = Literal["reported", "issues"]
MEASURES: Final = ("reported", "issues")
#: A plan's states: 草案 (targets are being set), 执行中, 已结束.
PLAN_STATES: Final = ("draft", "active", "closed")


@attrs.frozen
class Phase:
    """One phase of a plan (阶段): its name and the day it ends."""

    name: str
    end: dt.date


@attrs.frozen
class Plan:
    """A work plan (工作方案) with its timetable of phases (时间表、路线图), as of one ``version``.

    ``owner`` is the supervisor unit that made it; ``start`` the day its first phase begins.
    """

    id: str
    title: str
    owner: str
    phases: tuple[Phase, ...]
    start: dt.date
    state: str
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    description: str = ""
    code: str | None = None

    def phase(self, name: str) -> Phase:
        """The phase called ``name``; :class:`ValidationError` naming the phases if there is none."""
        for phase in self.phases:
            if phase.name == name:
                return phase
        raise ValidationError("phase", f"plan {self.id} has no phase {name!r}", ", ".join(p.name for p in self.phases))

    def phase_start(self, name: str) -> dt.date:
        """The first day of phase ``name``: the plan's start, or the day after the phase before ends."""
        previous = self.start
        for phase in self.phases:
            if phase.name == name:
                return previous
            previous = phase.end + dt.timedelta(days=1)
        raise ValidationError("phase", f"plan {self.id} has no phase {name!r}", ", ".join(p.name for p in self.phases))


@attrs.frozen
class Target:
    """A target (目标任务) of a plan, held by one unit, as of one ``version``.

    ``parent`` is the target it decomposes (None for a top-level target). ``reported`` is
    the progress its unit last reported (0–100); ``progress`` is the target's progress as
    read (its own report, the share of its linked issues verified, or the weighted mean of
    its children's) and ``status`` what that means against the timetable (``on_track``,
    ``behind``, ``lagging`` 滞后, ``completed``, ``accepted``). ``state`` is the target's
    lifecycle state (``active``, ``completed``, ``accepted``; lifecycle ``plan-target``).
    ``milestones`` are (day, expected progress) points of the expected progress curve.
    """

    id: str
    plan_id: str
    title: str
    unit: str
    phase: str
    due: dt.date
    weight: float
    state: str
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    parent: str | None = None
    measure: str = "reported"
    description: str = ""
    cooperating: tuple[str, ...] = ()
    responsible: Responsible | None = None
    milestones: tuple[tuple[dt.date, float], ...] = ()
    reported: float = 0.0
    rejected: bool = False
    escalation_steps: int = 0
    escalation_level: int = 0
    progress: float = attrs.field(default=0.0, eq=False)
    status: str = attrs.field(default="", eq=False)


def _phases(raw: Iterable[Any]) -> tuple[Phase, ...]:
    return tuple(Phase(str(name), dt.date.fromisoformat(end)) for name, end in raw)


def _responsible(raw: Mapping[str, Any] | None) -> Responsible | None:
    return None if raw is None else Responsible(first=raw.get("first"), direct=raw.get("direct"))


#: Plan steps only a supervisor unit takes.
_SUPERVISOR_STEPS: Final = frozenset({"add_plan", "activate_plan", "close_plan"})


def plan_actor_problem(
    entry: LedgerEntry, rows: Mapping[str, Plan | Target], units: Callable[[str], Unit | None]
) -> str | None:
    """Why the unit that took a plan's or a target's step may not have taken it, by the registry ``units``
    gives (rebuilt from the ledger when verifying); None when it may. ``rows`` are the plans and targets
    rebuilt so far. govflow's own steps (the roll-up's ``complete``, the sweep's 滞后 steps) are its own."""
    if entry.actor == _SYSTEM_ACTOR:
        return None
    unit = units(entry.actor)
    if unit is None:
        return f"its actor {entry.actor!r} is no registered unit"
    trigger, current = entry.trigger, rows.get(entry.issue_id)
    parent_id = entry.data.get("parent") if trigger == "add_target" else getattr(current, "parent", None)
    above = rows.get(parent_id) if isinstance(parent_id, str) else None
    above_unit = above.unit if isinstance(above, Target) else None
    if trigger in _SUPERVISOR_STEPS or trigger in ("add_target", "accept_target", "reject_target"):
        # The unit holding the target above supervises the targets decomposed from it.
        allowed = unit.supervisor or (trigger != "add_plan" and trigger not in _SUPERVISOR_STEPS
                                      and unit.id == above_unit)
    elif trigger in ("report_progress", "complete") and isinstance(current, Target):
        allowed = unit.id == current.unit
    else:
        return None  # any other step is the lifecycle's and the entry's own checks
    return None if allowed else f"{entry.actor} may not {trigger} it (by the unit registry in the ledger)"


def apply_entry(
    current: Plan | Target | None,
    subject_id: str,
    trigger: str,
    to_state: str,
    version: int,
    at: dt.datetime,
    data: Mapping[str, Any],
) -> Plan | Target:
    """The plan or target after one ledger entry (``current`` is None for the entry that creates it)."""
    if trigger == "add_plan":
        return Plan(
            id=subject_id, title=data["title"], owner=data["owner"], phases=_phases(data["phases"]),
            start=dt.date.fromisoformat(data["start"]), state=to_state, version=version, created_at=at,
            updated_at=at, description=data.get("description", ""), code=data.get("code"),
        )
    if trigger == "add_target":
        return Target(
            id=subject_id, plan_id=data["plan"], title=data["title"], unit=data["unit"], phase=data["phase"],
            due=dt.date.fromisoformat(data["due"]), weight=float(data["weight"]), state=to_state, version=version,
            created_at=at, updated_at=at, parent=data.get("parent"), measure=data["measure"],
            description=data.get("description", ""), cooperating=tuple(data.get("cooperating", ())),
            responsible=_responsible(data.get("responsible")),
            milestones=tuple((dt.date.fromisoformat(day), float(value)) for day, value in data.get("milestones", ())),
        )
    if current is None:
        raise ValueError(f"{subject_id}: {trigger!r} before the entry that creates it")
    changes: dict[str, Any] = {"state": to_state, "version": version, "updated_at": at}
    if isinstance(current, Target):
        if trigger in ("report_progress", "complete") and "progress" in data and not data.get("derived"):
            changes["reported"] = float(data["progress"])
        if trigger == "complete":
            changes["rejected"] = False
        elif trigger == "reject_target":
            changes["rejected"] = True
            if "progress" in data:
                changes["reported"] = float(data["progress"])
        elif trigger == "deadline" and data.get("step") != "interview":
            changes["escalation_steps"] = current.escalation_steps + 1
            changes["escalation_level"] = max(current.escalation_level, int(data.get("level", 0)))
        if trigger == "deadline" and data.get("step") == "interview":
            changes["escalation_level"] = max(current.escalation_level, int(data.get("level", 0)))
    return attrs.evolve(current, **changes)


def replay(entries: Iterable[LedgerEntry]) -> Plan | Target | None:
    """Rebuild a plan or target from its own ledger entries, in order (None without any)."""
    current: Plan | Target | None = None
    for entry in entries:
        current = apply_entry(
            current, entry.issue_id, entry.trigger, entry.to_state, entry.issue_seq, entry.at, entry.data
        )
    return current


def to_row(value: Plan | Target) -> PlanRow:
    """The stored row of a plan or target."""
    if isinstance(value, Plan):
        body: dict[str, Any] = {
            "title": value.title, "owner": value.owner, "start": value.start.isoformat(),
            "phases": [[p.name, p.end.isoformat()] for p in value.phases], "description": value.description,
            "code": value.code, "created_at": value.created_at.isoformat(), "updated_at": value.updated_at.isoformat(),
        }
        return PlanRow(value.id, "plan", value.id, value.version, value.state, canonical_json(body))
    body = {
        "title": value.title, "unit": value.unit, "phase": value.phase, "due": value.due.isoformat(),
        "weight": value.weight, "parent": value.parent, "measure": value.measure, "description": value.description,
        "cooperating": list(value.cooperating),
        "responsible": None if value.responsible is None else value.responsible.as_dict(),
        "milestones": [[d.isoformat(), v] for d, v in value.milestones], "reported": value.reported,
        "rejected": value.rejected, "escalation_steps": value.escalation_steps,
        "escalation_level": value.escalation_level, "created_at": value.created_at.isoformat(),
        "updated_at": value.updated_at.isoformat(),
    }
    return PlanRow(value.id, "target", value.plan_id, value.version, value.state, canonical_json(body), value.parent)


def from_row(row: PlanRow) -> Plan | Target:
    """The plan or target a stored row holds."""
    body = json.loads(row.body)
    created, updated = dt.datetime.fromisoformat(body["created_at"]), dt.datetime.fromisoformat(body["updated_at"])
    if row.kind == "plan":
        return Plan(
            id=row.id, title=body["title"], owner=body["owner"], phases=_phases(body["phases"]),
            start=dt.date.fromisoformat(body["start"]), state=row.state, version=row.version, created_at=created,
            updated_at=updated, description=body["description"], code=body["code"],
        )
    reported = float(body["reported"])
    return Target(
        id=row.id, plan_id=row.plan_id, title=body["title"], unit=body["unit"], phase=body["phase"],
        due=dt.date.fromisoformat(body["due"]), weight=float(body["weight"]), state=row.state, version=row.version,
        created_at=created, updated_at=updated, parent=body["parent"], measure=body["measure"],
        description=body["description"], cooperating=tuple(body["cooperating"]),
        responsible=_responsible(body["responsible"]),
        milestones=tuple((dt.date.fromisoformat(d), float(v)) for d, v in body["milestones"]), reported=reported,
        rejected=bool(body["rejected"]), escalation_steps=int(body["escalation_steps"]),
        escalation_level=int(body["escalation_level"]), progress=reported,
    )


def as_issue(target: Target, lifecycle: str, version: int) -> Issue:
    """The target as an issue-shaped record of its lifecycle (its unit as the lead), for the shared machine:
    permissions, states and data checks work on it as on an issue; it is never stored."""
    return Issue(
        id=target.id, title=target.title, lead=target.unit, due=target.due, original_due=target.due,
        state=target.state, version=target.version, lifecycle=lifecycle, lifecycle_version=version,
        created_at=target.created_at, updated_at=target.updated_at, cooperating=target.cooperating,
        responsible=target.responsible,
    )
