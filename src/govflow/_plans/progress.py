"""Progress of a plan's targets, expected progress against the timetable, lag and roll-ups.

The rules (docs/plans.md):

* a leaf measured ``reported`` has the progress its unit last reported; one measured
  ``issues`` has the share of its linked issues that are verified (cancelled issues left
  out; 0 while none is linked);
* a target with children has the weighted mean of its children's progress (Decidim's
  accountability rule);
* expected progress runs linearly from the start of the target's phase (0) to its due
  date (100), through its milestones if it has any;
* lag is expected minus actual progress, in points (0 when ahead); status is
  ``accepted``/``completed`` by state or progress, ``lagging`` (滞后) past the due date
  below 100, ``behind`` (进度落后) when the lag is at least :data:`BEHIND_POINTS`, else
  ``on_track``;
* roll-ups weigh each target by its share of the plan (its weight among its siblings
  times its parent's share), so a unit's roll-up over its own and its descendants' targets
  and the plan's total are the same weighted means.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from typing import Final

import attrs

from .._core.model import Unit
from .model import Plan, Target

__all__ = [
    "BEHIND_POINTS",
    "PlanProgress",
    "Rollup",
    "TargetProgress",
    "compute_progress",
    "expected_progress",
    "issue_share",
]

#: Lag (points) from which a target not yet due counts as ``behind`` (进度落后).
BEHIND_POINTS: Final = 10.0


@attrs.frozen
class TargetProgress:
    """One target in a plan's progress tree: its progress, expected progress, lag (points) and status."""

    target: Target
    progress: float
    expected: float
    lag: float
    status: str
    share: float
    children: tuple[TargetProgress, ...] = ()

    def walk(self) -> Iterator[TargetProgress]:
        """This target and every target below it, depth first."""
        yield self
        for child in self.children:
            yield from child.walk()


@attrs.frozen
class Rollup:
    """A weighted roll-up of targets: of one phase, or of one unit with the units below it.

    ``key`` is the phase name or the unit id; ``targets`` how many targets count in it,
    ``lagging`` how many of every target under it are 滞后.
    """

    key: str
    progress: float
    expected: float
    lag: float
    targets: int
    lagging: int


@attrs.frozen
class PlanProgress:
    """A plan's progress tree at ``as_of`` (:meth:`govflow.Govflow.plan_progress`)."""

    plan: Plan
    as_of: dt.datetime
    progress: float
    expected: float
    lag: float
    targets: tuple[TargetProgress, ...]
    phases: tuple[Rollup, ...]
    units: tuple[Rollup, ...]

    def walk(self) -> Iterator[TargetProgress]:
        """Every target of the tree, depth first, top-level targets in id order."""
        for root in self.targets:
            yield from root.walk()

    def target(self, target_id: str) -> TargetProgress:
        """One target's node; KeyError if the plan has no such target (at ``as_of``)."""
        for node in self.walk():
            if node.target.id == target_id:
                return node
        raise KeyError(target_id)

    def lagging(self) -> list[TargetProgress]:
        """The targets that are 滞后 (past their due date below 100), most lag first."""
        return sorted((n for n in self.walk() if n.status == "lagging"), key=lambda n: (-n.lag, n.target.id))

    def unit(self, unit_id: str) -> Rollup:
        """The roll-up of one unit and the units below it; KeyError if it holds no target."""
        for rollup in self.units:
            if rollup.key == unit_id:
                return rollup
        raise KeyError(unit_id)


def issue_share(states: Mapping[str, int]) -> float:
    """Progress from linked issues' states: verified over all but cancelled, in percent (0 with none)."""
    counted = sum(n for state, n in states.items() if state != "cancelled")
    return 100.0 * states.get("verified", 0) / counted if counted else 0.0


def expected_progress(plan: Plan, target: Target, day: dt.date) -> float:
    """Expected progress of ``target`` on ``day``: linear from its phase's start to its due date, via milestones."""
    start = plan.phase_start(target.phase) if any(p.name == target.phase for p in plan.phases) else plan.start
    points = [(start, 0.0), *sorted((d, v) for d, v in target.milestones if start < d < target.due),
              (target.due, 100.0)]
    if day >= target.due:
        return 100.0
    if day <= start:
        return 0.0
    for (d0, v0), (d1, v1) in itertools.pairwise(points):
        if d0 <= day <= d1:
            span = (d1 - d0).days
            return v0 + (v1 - v0) * ((day - d0).days / span if span else 1.0)
    return 100.0  # pragma: no cover - the points cover [start, due]


def compute_progress(
    plan: Plan,
    targets: Sequence[Target],
    links: Mapping[str, Mapping[str, int]],
    as_of: dt.datetime,
    units: Mapping[str, Unit],
) -> PlanProgress:
    """The progress tree of ``plan`` from its targets and the states of their linked issues."""
    day = as_of.date()
    children: dict[str | None, list[Target]] = defaultdict(list)
    known = {t.id for t in targets}
    for target in sorted(targets, key=lambda t: t.id):
        children[target.parent if target.parent in known else None].append(target)

    def node(target: Target, share: float) -> TargetProgress:
        below = children.get(target.id, [])
        total = sum(c.weight for c in below)
        kids = tuple(node(c, share * c.weight / total) for c in below)
        if kids:
            progress = sum(k.progress * k.target.weight for k in kids) / total
        elif target.measure == "issues":
            progress = issue_share(links.get(target.id, {}))
        else:
            progress = target.reported
        progress = min(100.0, max(0.0, progress))
        expected = expected_progress(plan, target, day)
        lag = max(0.0, expected - progress)
        if target.state == "accepted":
            status = "accepted"
        elif progress >= 100.0 or target.state == "completed":
            status = "completed"
        elif day > target.due:
            status = "lagging"
        elif lag >= BEHIND_POINTS:
            status = "behind"
        else:
            status = "on_track"
        shown = attrs.evolve(target, progress=progress, status=status)
        return TargetProgress(shown, progress, expected, lag, status, share, kids)

    roots_raw = children.get(None, [])
    total = sum(t.weight for t in roots_raw)
    roots = tuple(node(t, t.weight / total) for t in roots_raw)
    progress, expected = _mean(roots)
    phases = []
    for phase in plan.phases:
        mine = [r for r in roots if r.target.phase == phase.name]
        if mine:
            p, e = _mean(mine)
            lagging = sum(n.status == "lagging" for r in mine for n in r.walk())
            phases.append(Rollup(phase.name, p, e, max(0.0, e - p), len(mine), lagging))
    return PlanProgress(plan, as_of, progress, expected, max(0.0, expected - progress), roots, tuple(phases),
                        _unit_rollups(roots, units))


def _mean(nodes: Sequence[TargetProgress]) -> tuple[float, float]:
    """Share-weighted mean progress and expected progress of ``nodes`` (0, 0 without any)."""
    total = sum(n.share for n in nodes)
    if not total:
        return 0.0, 0.0
    # Rounded: shares are products of fractions, and a roll-up of one target should read as that target.
    return (round(sum(n.progress * n.share for n in nodes) / total, 6),
            round(sum(n.expected * n.share for n in nodes) / total, 6))


def _ancestors(unit_id: str, units: Mapping[str, Unit]) -> list[str]:
    """``unit_id`` and the units above it, nearest first."""
    found: list[str] = []
    current: str | None = unit_id
    while current is not None and current not in found:
        found.append(current)
        above = units.get(current)
        current = None if above is None else above.parent
    return found


def _unit_rollups(roots: Sequence[TargetProgress], units: Mapping[str, Unit]) -> tuple[Rollup, ...]:
    """Per unit, the roll-up of the highest targets held by it or a unit below it (each counted once)."""
    chains: dict[str, list[str]] = {}

    def chain(unit_id: str) -> list[str]:
        if unit_id not in chains:
            chains[unit_id] = _ancestors(unit_id, units)
        return chains[unit_id]

    tops: dict[str, list[TargetProgress]] = defaultdict(list)
    lagging: dict[str, int] = defaultdict(int)
    stack: list[tuple[TargetProgress, frozenset[str]]] = [(r, frozenset()) for r in roots]
    while stack:
        current, covered = stack.pop()
        mine = chain(current.target.unit)
        for unit_id in mine:
            if unit_id not in covered:
                tops[unit_id].append(current)
            if current.status == "lagging":
                lagging[unit_id] += 1
        stack.extend((c, frozenset(mine)) for c in current.children)
    order = {unit_id: i for i, unit_id in enumerate(units)}
    found = []
    for unit_id in sorted(tops, key=lambda u: (order.get(u, len(order)), u)):
        p, e = _mean(tops[unit_id])
        found.append(Rollup(unit_id, p, e, max(0.0, e - p), len(tops[unit_id]), lagging[unit_id]))
    return tuple(found)
