"""Work plans through :class:`govflow.Govflow` (工作方案、目标任务): plans with phases, targets decomposed down
the unit hierarchy, progress, acceptance, the progress tree and the sweep's share; a mixin of the facade."""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from .._core.clock import DEFAULT_ZONE, require_aware
from .._core.errors import InvalidTransition, NotFound, PermissionDenied, ValidationError
from .._core.ledger import LedgerDraft
from .._core.model import Actor, LedgerEntry, Unit
from .._core.text import check_text
from .._lifecycle.fields import iso_date, parse_actor, parse_date, parse_field, parse_responsible
from .._lifecycle.machine import describe_roles
from .._plans import checks
from .._plans.model import MEASURES, Plan, Target, apply_entry, as_issue, from_row, replay, to_row
from .._plans.progress import PlanProgress, compute_progress
from .._stores.plans import PlanWork
from .plan_sweep import PlanSweepMixin
from .steps import ActorLike

if TYPE_CHECKING:
    from .._deadlines.ladder import Ladder
    from .._lifecycle.machine import Lifecycle
    from .._plugins.manager import Plugins
    from .._plugins.registries import Calendar
    from .._stores.protocol import Store

__all__ = ["PlansMixin"]

_TARGET_LIFECYCLE = "plan-target"
_SYSTEM = "govflow"


class PlansMixin(PlanSweepMixin):
    """Work plans of :class:`govflow.Govflow`, which supplies the attributes below."""

    ladder: Ladder
    _store: Store
    _calendar: Calendar
    _plugins: Plugins

    if TYPE_CHECKING:

        def now(self) -> dt.datetime: ...

        def units(self) -> list[Unit]: ...

        def _find_unit(self, unit_id: str) -> Unit | None: ...

        def _lifecycle(self, name: str, version: int | None = None) -> Lifecycle: ...

        def _start_delivery(self) -> None: ...

    # -- plans ----------------------------------------------------------------------------

    def add_plan(
        self,
        title: str,
        *,
        by: ActorLike,
        phases: Iterable[tuple[str, dt.date | str]],
        description: str = "",
        code: str | None = None,
        start: dt.date | str | None = None,
    ) -> Plan:
        """Draw up a work plan (工作方案) with its phases (时间表): ``[("建机制", "2020-12-31"), ...]``.

        ``by`` is a supervisor unit, the plan's owner. The plan starts as ``draft``: add its
        targets, then :meth:`activate_plan`. ``start`` (default today) is the first day of the first phase.
        """
        actor = self._supervisor(by, "(new plan)", "add_plan")
        now = self.now()
        checks.text("title", title)
        check_text("description", description, kind="free", empty=True)
        if code is not None:
            checks.text("code", code, kind="name", max_len=64)
        first = now.date() if start is None else parse_date("start", start)
        try:
            raw = [tuple(p) for p in phases]
        except TypeError:
            raise ValidationError("phases", f"got {phases!r}", "a list of (name, end date) pairs") from None
        if not raw or any(len(p) != 2 for p in raw):
            raise ValidationError("phases", f"got {raw!r}", "a non-empty list of (name, end date) pairs")
        parsed: list[list[str]] = []
        last = first - dt.timedelta(days=1)
        for name, end in raw:
            checks.text("phases", name, kind="name", max_len=200)
            day = parse_date("phases", end)
            if day <= last:
                raise ValidationError("phases", f"phase {name!r} ends {day} (not after {last})",
                                      "phases in order, each ending after the one before and after the start")
            if any(name == p[0] for p in parsed):
                raise ValidationError("phases", f"phase {name!r} appears twice", "distinct phase names")
            parsed.append([str(name), iso_date(day)])
            last = day
        data: dict[str, Any] = {"title": title, "owner": actor.unit, "phases": parsed, "start": iso_date(first)}
        if description:
            data["description"] = description
        if code is not None:
            data["code"] = code
        plan = apply_entry(None, "", "add_plan", "draft", 1, now, data)
        draft = LedgerDraft(issue_id="", issue_seq=1, trigger="add_plan", from_state=None, to_state="draft",
                            actor=actor.unit, person=actor.person, at=now, data=data)
        row, _ = self._store.commit_plan([PlanWork(to_row(plan), 0, draft, id_scope=f"PL-{now.year}-")])[0]
        assert isinstance(plan, Plan)
        return attrs.evolve(plan, id=row.id)

    def activate_plan(self, plan_id: str, *, by: ActorLike, note: str | None = None) -> Plan:
        """Start a draft plan (启动): its targets can be reported on and the sweep watches them."""
        return self._plan_step(plan_id, by, "activate_plan", ("draft",), "active", note=note)

    def close_plan(self, plan_id: str, *, by: ActorLike, reason: str) -> Plan:
        """Close a plan (结束): nothing more is reported and the sweep leaves its targets alone."""
        checks.text("reason", reason)
        return self._plan_step(plan_id, by, "close_plan", ("draft", "active"), "closed", reason=reason)

    def _plan_step(self, plan_id: str, by: ActorLike, trigger: str, sources: tuple[str, ...], dest: str,
                   **data: str | None) -> Plan:
        plan = self.plan(plan_id)
        actor = self._supervisor(by, plan.id, trigger)
        if plan.state not in sources:
            raise InvalidTransition(plan.id, plan.state, trigger, checks.plan_triggers(plan.state))
        given = {k: v for k, v in data.items() if v is not None}
        for name, value in given.items():
            checks.text(name, value)
        now = self.now()
        new = apply_entry(plan, plan.id, trigger, dest, plan.version + 1, now, given)
        draft = LedgerDraft(issue_id=plan.id, issue_seq=new.version, trigger=trigger, from_state=plan.state,
                            to_state=dest, actor=actor.unit, person=actor.person, at=now, data=given)
        self._store.commit_plan([PlanWork(to_row(new), plan.version, draft)])
        assert isinstance(new, Plan)
        return new

    def plan(self, plan_id: str) -> Plan:
        """One plan as it stands; :class:`NotFound` if there is none."""
        rows = self._store.plan_rows(ids=[plan_id]) if isinstance(plan_id, str) else []
        found = from_row(rows[0]) if rows and rows[0].kind == "plan" else None
        if not isinstance(found, Plan):
            raise NotFound("plan", plan_id)
        return found

    def plans(self) -> list[Plan]:
        """Every plan, by id."""
        return [p for p in (from_row(r) for r in self._store.plan_rows() if r.kind == "plan") if isinstance(p, Plan)]

    # -- targets --------------------------------------------------------------------------

    def add_target(
        self,
        plan_id: str,
        title: str,
        *,
        unit: str,
        phase: str,
        by: ActorLike,
        weight: float = 1,
        parent: str | None = None,
        measure: str = "reported",
        cooperating: Iterable[str] | str = (),
        responsible: Any = None,
        due: dt.date | str | None = None,
        milestones: Iterable[tuple[dt.date | str, float]] = (),
        description: str = "",
    ) -> Target:
        """Set a target (目标任务) of a plan, held by ``unit`` (分解落实).

        A supervisor sets top-level targets; the unit holding a target decomposes it
        (``parent=``) to itself or to units below it, never to another branch. ``due``
        defaults to the phase's end; ``weight`` (> 0) is its weight among its siblings;
        ``measure`` is ``"reported"`` (its unit reports progress) or ``"issues"`` (the share
        of the issues linked with ``assign(..., target=...)`` that are verified).
        """
        plan = self.plan(plan_id)
        actor = parse_actor(by)
        now = self.now()
        parent_target = None if parent is None else self._target_row(parent)
        if parent_target is not None and parent_target.plan_id != plan.id:
            raise ValidationError("parent", f"target {parent} belongs to plan {parent_target.plan_id}",
                                  f"a target of plan {plan.id}")
        actor_unit = self._find_unit(actor.unit)
        if parent_target is None:
            if actor_unit is None or not actor_unit.supervisor:
                raise PermissionDenied(plan.id, "add_target", actor.unit, describe_roles(("supervisor",), (), None),
                                       "top-level targets are set by supervisor units")
        elif actor.unit != parent_target.unit and (actor_unit is None or not actor_unit.supervisor):
            raise PermissionDenied(parent_target.id, "add_target", actor.unit,
                                   f"the unit holding target {parent_target.id} ({parent_target.unit}) or supervisor "
                                   "units", "a target is decomposed by the unit that holds it")
        if plan.state == "closed":
            raise InvalidTransition(plan.id, plan.state, "add_target", checks.plan_triggers(plan.state))
        if parent_target is not None and parent_target.state != "active":
            raise InvalidTransition(parent_target.id, parent_target.state, "add_target", [],
                                    "only an active target is decomposed")
        checks.text("title", title)
        check_text("description", description, kind="free", empty=True)
        if not isinstance(unit, str) or self._find_unit(unit) is None:
            raise ValidationError("unit", f"no unit {unit!r}", "the id of a registered unit")
        if parent_target is not None and parent_target.unit not in self._chain(unit):
            raise ValidationError(
                "unit", f"{unit!r} is neither {parent_target.unit!r} (the unit of {parent_target.id}) nor below it",
                f"{parent_target.unit!r} or a unit below it in the hierarchy")
        plan.phase(phase) if isinstance(phase, str) else plan.phase(str(phase))
        due_day = plan.phase(phase).end if due is None else parse_date("due", due)
        if isinstance(weight, bool) or not isinstance(weight, int | float) or not math.isfinite(weight) or weight <= 0:
            raise ValidationError("weight", f"got {weight!r}", "a positive number")
        if measure not in MEASURES:
            raise ValidationError("measure", f"got {measure!r}", ", ".join(repr(m) for m in MEASURES))
        coop = checks.units_list(cooperating)
        for unit_id in coop:
            if self._find_unit(unit_id) is None or unit_id == unit:
                raise ValidationError("cooperating", f"got {unit_id!r}", "ids of registered units other than unit")
        persons = parse_responsible(responsible)
        points = checks.milestones(milestones, due_day)
        data: dict[str, Any] = {"plan": plan.id, "title": title, "unit": unit, "phase": phase,
                                "due": iso_date(due_day), "weight": weight, "measure": measure}
        for key, value in (("parent", parent), ("description", description or None),
                           ("cooperating", list(coop) or None),
                           ("responsible", None if persons is None else persons.as_dict()),
                           ("milestones", [[iso_date(d), v] for d, v in points] or None)):
            if value is not None:
                data[key] = value
        target = apply_entry(None, "", "add_target", "active", 1, now, data)
        draft = LedgerDraft(issue_id="", issue_seq=1, trigger="add_target", from_state=None, to_state="active",
                            actor=actor.unit, person=actor.person, at=now, data=data)
        row, _ = self._store.commit_plan([PlanWork(to_row(target), 0, draft, id_scope=f"TG-{now.year}-")])[0]
        assert isinstance(target, Target)
        return attrs.evolve(target, id=row.id, progress=0.0, status="on_track")

    def target(self, target_id: str) -> Target:
        """One target with its progress and status as of now; :class:`NotFound` if there is none."""
        found = self._target_row(target_id)
        below = self._subtree(found)
        tree = compute_progress(self.plan(found.plan_id), below, self._links(found.plan_id, below), self.now(),
                                self._unit_map())
        return tree.target(found.id).target

    def _subtree(self, root: Target) -> list[Target]:
        """``root`` and every target below it (read level by level: a subtree, not the whole plan)."""
        found = [root]
        level = [root.id]
        while level:
            rows = [r for parent in level for r in self._store.plan_rows(root.plan_id, parent=parent)]
            below = [t for t in map(from_row, rows) if isinstance(t, Target)]
            found += below
            level = [t.id for t in below]
        return found

    def _links(self, plan_id: str, targets: Sequence[Target]) -> Mapping[str, Mapping[str, int]]:
        """The linked issues' states, read only when some of ``targets`` is measured by issues."""
        return self._store.target_issue_states(plan_id) if any(t.measure == "issues" for t in targets) else {}

    def targets(self, plan_id: str, *, unit: str | None = None) -> list[Target]:
        """The targets of a plan (of one unit, if given), with progress and status, by id."""
        tree = self.plan_progress(plan_id)
        return sorted((n.target for n in tree.walk() if unit is None or n.target.unit == unit), key=lambda t: t.id)

    def _target_row(self, target_id: str) -> Target:
        rows = self._store.plan_rows(ids=[target_id]) if isinstance(target_id, str) else []
        found = from_row(rows[0]) if rows and rows[0].kind == "target" else None
        if not isinstance(found, Target):
            raise NotFound("target", target_id)
        return found

    # -- progress and acceptance ---------------------------------------------------------------

    def report_progress(
        self, target_id: str, *, by: ActorLike, progress: float, note: str, evidence: Any = None,
        reason: str | None = None,
    ) -> Target:
        """The target's unit reports its progress (0-100; 进度报告). Lower than before only with a ``reason``.

        Reaching 100 completes the target (step ``complete``), for its supervisor to accept or send back; a
        target above it whose progress reaches 100 with it is completed in the same transaction.
        """
        target = self._target_row(target_id)
        plan = self.plan(target.plan_id)
        if isinstance(progress, bool) or not isinstance(progress, int | float) or not math.isfinite(progress) \
                or not 0 <= progress <= 100:
            raise ValidationError("progress", f"got {progress!r}", "a number from 0 to 100", target.id)
        if progress < target.reported and (reason is None or not str(reason).strip()):
            raise ValidationError("reason", f"progress goes down from {target.reported:g} to {progress:g}",
                                  "a non-empty reason when progress goes down", target.id)
        trigger = "complete" if progress >= 100 else "report_progress"
        data = {"progress": progress, "note": note, "evidence": evidence, "reason": reason}
        new, draft, _ledger_data = self._fire_target(target, trigger, by, data)
        if plan.state != "active":
            raise InvalidTransition(plan.id, plan.state, "report_progress", checks.plan_triggers(plan.state),
                                    "progress is reported on active plans")
        self._derived_only(target, "report_progress")
        works = [PlanWork(to_row(new), target.version, draft)]
        if trigger == "complete" and target.parent is not None:
            works.extend(self._completed_above(plan, new, draft.at))
        self._commit_plan(works)
        return self.target(target.id)

    def accept_target(self, target_id: str, *, by: ActorLike, note: str | None = None) -> Target:
        """The supervisor accepts a completed target (验收): the unit above it, or a supervisor unit."""
        target = self._target_row(target_id)
        new, draft, _ = self._fire_target(target, "accept_target", by, {"note": note})
        self._commit_plan([PlanWork(to_row(new), target.version, draft)])
        return self.target(target.id)

    def reject_target(self, target_id: str, *, by: ActorLike, reason: str, progress: float | None = None) -> Target:
        """The supervisor sends a completed target back (退回) with a reason; ``progress`` sets its reported
        progress back below 100. Only a target its unit reports on is sent back (one with children: send back
        the targets below it); the completed targets above it go back to active in the same step."""
        target = self._target_row(target_id)
        new, draft, _ = self._fire_target(target, "reject_target", by, {"reason": reason, "progress": progress})
        if progress is not None and (isinstance(progress, bool) or not isinstance(progress, int | float)
                                     or not 0 <= progress < 100):
            raise ValidationError("progress", f"got {progress!r}", "a number from 0 to below 100", target.id)
        if target.measure == "issues" or self._store.plan_rows(target.plan_id, parent=target.id):
            raise ValidationError("target", f"the progress of {target.id} comes from its children or linked issues",
                                  "a target its unit reports on (send back the targets below it)", target.id)
        works = [PlanWork(to_row(new), target.version, draft)]
        above = target.parent
        while above is not None:  # the work below is not done: neither is the work above
            parent = self._target_row(above)
            if parent.state != "completed":
                break
            works.append(self._system_work(parent, "reject_target", "active",
                                           {"reason": f"{target.id} was sent back", "derived": True}, draft.at))
            above = parent.parent
        self._commit_plan(works)
        return self.target(target.id)

    def _derived_only(self, target: Target, trigger: str) -> None:
        """Refuse reported progress for a target whose progress comes from its children or linked issues."""
        if target.measure == "issues":
            raise ValidationError("progress", f"target {target.id} is measured by its linked issues",
                                  "a target measured 'reported'", target.id)
        if self._store.plan_rows(target.plan_id, parent=target.id):
            raise ValidationError("progress", f"target {target.id} takes its progress from its children",
                                  "a target without children", target.id)

    def _fire_target(
        self, target: Target, trigger: str, by: ActorLike, data: Mapping[str, Any]
    ) -> tuple[Target, LedgerDraft, dict[str, Any]]:
        """Run ``trigger`` on the target through the ``plan-target`` lifecycle (permissions, states, data)."""
        actor = parse_actor(by)
        lifecycle = self._lifecycle(_TARGET_LIFECYCLE)
        above = None if target.parent is None else self._target_row(target.parent).unit

        def units(unit_id: str) -> Unit | None:
            found = self._find_unit(unit_id)
            if found is not None and unit_id == above:  # the unit above decomposed it: it supervises it
                return attrs.evolve(found, supervisor=True)
            return found

        now = self.now()
        given = {k: v for k, v in data.items() if v is not None}
        for name, value in list(given.items()):
            if name == "note" and trigger in ("accept_target",):
                checks.text(name, value)
            given[name] = parse_field(name, value, target.id) if name != "progress" else value
        shadow = as_issue(target, lifecycle.name, lifecycle.version)
        moved, ledger_data = lifecycle.fire(shadow, trigger, actor, given, now, units)
        new = apply_entry(target, target.id, trigger, moved.state, target.version + 1, now, ledger_data)
        assert isinstance(new, Target)
        draft = LedgerDraft(issue_id=target.id, issue_seq=new.version, trigger=trigger, from_state=target.state,
                            to_state=moved.state, actor=actor.unit, person=actor.person, at=now, data=ledger_data)
        return new, draft, ledger_data

    def _completed_above(self, plan: Plan, leaf: Target, at: dt.datetime) -> list[PlanWork]:
        """``complete`` steps for the targets above ``leaf`` whose progress reaches 100 with it."""
        top = leaf
        while top.parent is not None:
            top = self._target_row(top.parent)
        targets = {t.id: t for t in self._subtree(top)}  # the subtree of its top-level target
        targets[leaf.id] = leaf
        tree = compute_progress(plan, list(targets.values()), self._links(plan.id, list(targets.values())), at,
                                self._unit_map())
        works = []
        current = targets[leaf.id].parent
        while current is not None:
            above = targets[current]
            node = tree.target(current)
            if above.state != "active" or node.progress < 100.0:
                break
            works.append(self._system_work(above, "complete", "completed",
                                           {"progress": round(node.progress, 4), "derived": True}, at))
            current = above.parent
        return works

    def _system_work(self, target: Target, trigger: str, to_state: str, data: dict[str, Any],
                     at: dt.datetime, notify: tuple[tuple[str, str], ...] = ()) -> PlanWork:
        new = apply_entry(target, target.id, trigger, to_state, target.version + 1, at, data)
        draft = LedgerDraft(issue_id=target.id, issue_seq=new.version, trigger=trigger, from_state=target.state,
                            to_state=to_state, actor=_SYSTEM, person=None, at=at, data=data)
        return PlanWork(to_row(new), target.version, draft, notify=notify)

    def _commit_plan(self, works: Sequence[PlanWork]) -> list[LedgerEntry]:
        written = self._store.commit_plan(works)
        if any(work.notify for work in works):
            self._start_delivery()
        return [entry for _, entry in written]

    # -- the tree -------------------------------------------------------------------------

    def plan_progress(self, plan_id: str, as_of: dt.datetime | None = None) -> PlanProgress:
        """The plan's progress tree (目标进度): per target its progress, expected progress, lag and status; per
        phase and per unit (with the units below it) the weighted roll-up.

        ``as_of`` replays the ledger up to that instant: the answer is the one given at that time.
        """
        if as_of is None:
            plan = self.plan(plan_id)
            return compute_progress(plan, self._plan_targets(plan.id), self._store.target_issue_states(plan.id),
                                    self.now(), self._unit_map())
        when = require_aware("as_of", as_of).astimezone(DEFAULT_ZONE)
        self.plan(plan_id)
        by_subject: dict[str, list[LedgerEntry]] = defaultdict(list)
        for entry in self._store.plan_ledger(plan_id, until=when):
            by_subject[entry.issue_id].append(entry)
        found = [replay(entries) for entries in by_subject.values()]
        plans = [p for p in found if isinstance(p, Plan)]
        if not plans:
            raise NotFound("plan", plan_id, f"it did not exist at {when.isoformat()}")
        targets = [t for t in found if isinstance(t, Target)]
        return compute_progress(plans[0], targets, self._store.target_issue_states(plan_id, when), when,
                                self._unit_map())

    def _plan_targets(self, plan_id: str) -> list[Target]:
        return [t for t in (from_row(r) for r in self._store.plan_rows(plan_id) if r.kind == "target")
                if isinstance(t, Target)]

    def _unit_map(self) -> dict[str, Unit]:
        return {unit.id: unit for unit in self.units()}

    def _chain(self, unit_id: str) -> list[str]:
        """``unit_id`` and the units above it."""
        return checks.chain(unit_id, self._find_unit)

    def _supervisor(self, by: ActorLike, subject: str, trigger: str) -> Actor:
        actor = parse_actor(by)
        unit = self._find_unit(actor.unit)
        if unit is None or not unit.supervisor:
            raise PermissionDenied(subject, trigger, actor.unit, describe_roles(("supervisor",), (), None),
                                   "no such unit is registered" if unit is None else "")
        return actor

    # -- links and the sweep ------------------------------------------------------------------

    def _link_data(self, target_id: object, lead: str) -> str:
        """Check ``assign(..., target=...)``: an active target measured by issues, held by the lead or above it."""
        if not isinstance(target_id, str):
            raise ValidationError("target", f"got {target_id!r}", "the id of a target measured 'issues'")
        target = self._target_row(target_id)
        if target.measure != "issues":
            raise ValidationError("target", f"target {target.id} is measured {target.measure!r}",
                                  "a target measured 'issues'")
        if target.unit not in self._chain(lead):
            raise ValidationError("target", f"the lead {lead!r} is neither {target.unit!r} nor below it",
                                  f"a lead unit at or below {target.unit!r}, the target's unit")
        if self.plan(target.plan_id).state == "closed":
            raise ValidationError("target", f"plan {target.plan_id} is closed", "a target of an open plan")
        return target.id

