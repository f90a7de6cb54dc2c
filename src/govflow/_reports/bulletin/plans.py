"""The bulletin's roll-up table and plan section (逐级汇总、工作方案进度), and the plans' timeline chart.

A roll-up row is a unit with units below it (a county with its townships), counted with them;
the plan section shows every work plan drawn up by the bulletin's ``as_of``: its progress
overall, by phase and by county, and its lagging targets (滞后) with their units and
responsible persons. The timeline is an inline SVG (no matplotlib): one bar per phase
on the plan's calendar, filled to the phase's progress, with a mark at its expected
progress and a line at ``as_of``.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import attrs

from ..._core.errors import NotFound
from ..._plans.progress import PlanProgress
from ..._stores.facts import UnitFacts
from ..scoring import UnitScore
from .labels import label

if TYPE_CHECKING:
    from ..._flow.facade import Govflow
    from .build import Bulletin
    from .tables import Cell, Table

__all__ = ["add_plan_section", "plan_tables", "timeline_svg"]


def add_plan_section(
    bulletin: Bulletin, rolled: Mapping[str, UnitFacts], rolled_scores: Sequence[UnitScore], flow: Govflow,
    as_of: dt.datetime, now: dt.datetime,
) -> Bulletin:
    """``bulletin`` with its roll-up (units that have units below them) and its plans' progress at ``as_of``."""
    units = flow.units()
    parents = {u.parent for u in units if u.parent is not None}
    keep = [u.id for u in units if u.id in parents and u.id in rolled and not u.supervisor]
    plans: list[PlanProgress] = []
    for plan in flow.plans():
        if plan.created_at > as_of:
            continue
        if as_of >= now:
            tree = attrs.evolve(flow.plan_progress(plan.id), as_of=as_of)
        else:
            try:
                tree = flow.plan_progress(plan.id, as_of=as_of)
            except NotFound:
                continue
        plans.append(tree)
    scores = tuple(s for s in rolled_scores if s.unit in keep)
    return attrs.evolve(bulletin, rollup={u: rolled[u] for u in keep}, rollup_scores=scores, plans=tuple(plans))


def _round(value: float) -> float:
    return round(value, 1)


def plan_tables(bulletin: Bulletin, lang: str) -> list[Table]:
    """The roll-up table (when some unit has units below it) and the plan tables (when there are plans)."""
    name = bulletin.unit_name
    tables: list[Table] = []
    if bulletin.rollup:
        from .tables import FACT_COLUMNS, _fact_heading, _fact_value

        scores = {s.unit: s for s in bulletin.rollup_scores}
        head = [label("unit", lang), label("total", lang)] + [_fact_heading(n, lang) for n in FACT_COLUMNS]
        head += [label(f"step_{s}", lang) for s in ("urge", "supervise", "interview")]
        rows: list[list[Cell]] = []
        for unit_id, facts in bulletin.rollup.items():
            found = scores.get(unit_id)
            row: list[Cell] = [name(unit_id), found.total if found is not None else None]
            row += [_fact_value(facts, n) for n in FACT_COLUMNS]
            row += [facts.escalations.get(s, 0) for s in ("urge", "supervise", "interview")]
            rows.append(row)
        tables.append(("rollup", label("rollup", lang), head, rows))
    if not bulletin.plans:
        return tables
    head = [label(k, lang) for k in ("plan", "scope", "progress", "expected", "lag", "targets", "lagging_count")]
    rows = []
    lagging: list[list[Cell]] = []
    for tree in bulletin.plans:
        title = tree.plan.title
        lagging_total = len(tree.lagging())
        rows.append([title, label("scope_overall", lang), _round(tree.progress), _round(tree.expected),
                     _round(tree.lag), len(tree.targets), lagging_total])
        for phase in tree.phases:
            rows.append([title, label("scope_phase", lang).format(name=phase.key), _round(phase.progress),
                         _round(phase.expected), _round(phase.lag), phase.targets, phase.lagging])
        for unit in tree.units:
            known = bulletin.units.get(unit.key)
            if known is None or known.level != "county":
                continue
            rows.append([title, label("scope_unit", lang).format(name=name(unit.key)), _round(unit.progress),
                         _round(unit.expected), _round(unit.lag), unit.targets, unit.lagging])
        for node in tree.lagging():
            people = node.target.responsible
            lagging.append([title, node.target.id, node.target.title, name(node.target.unit),
                            node.target.due.isoformat(), _round(node.progress), _round(node.expected),
                            _round(node.lag), people.first if people else None, people.direct if people else None])
    tables.append(("plans", label("plans", lang), head, rows))
    lag_head = [label(k, lang) for k in ("plan", "target", "target_title", "unit", "due", "progress", "expected",
                                         "lag", "responsible_first", "responsible_direct")]
    tables.append(("lagging", label("lagging", lang), lag_head, lagging))
    return tables


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def timeline_svg(tree: PlanProgress, lang: str) -> str:
    """One plan's timetable as an inline SVG: a bar per phase, filled to its progress, and the as-of line."""
    plan = tree.plan
    start, end = plan.start, plan.phases[-1].end
    days = max(1, (end - start).days + 1)
    left, width, row, top = 150, 540, 28, 30
    height = top + row * len(plan.phases) + 24

    def x(day: dt.date) -> float:
        return left + width * min(max((day - start).days, 0), days) / days

    by_phase = {p.key: p for p in tree.phases}
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 720 {height}" role="img" '
             f'aria-label="{_e(label("timeline", lang))}: {_e(plan.title)}" class="timeline">',
             f'<text x="0" y="16" class="plan-title">{_e(plan.title)}</text>']
    phase_start = start
    for i, phase in enumerate(plan.phases):
        y = top + i * row
        x0, x1 = x(phase_start), x(phase.end + dt.timedelta(days=1))
        rollup = by_phase.get(phase.name)
        done = 0.0 if rollup is None else rollup.progress
        parts.append(f'<text x="0" y="{y + 15}">{_e(phase.name)}</text>')
        parts.append(f'<rect x="{x0:.1f}" y="{y}" width="{x1 - x0:.1f}" height="18" fill="#e8eef5" stroke="#8aa"/>')
        parts.append(f'<rect x="{x0:.1f}" y="{y}" width="{(x1 - x0) * done / 100:.1f}" height="18" '
                     f'fill="{"#c0392b" if rollup is not None and rollup.lagging else "#2e7d32"}"/>')
        if rollup is not None:
            mark = x0 + (x1 - x0) * rollup.expected / 100
            parts.append(f'<line x1="{mark:.1f}" x2="{mark:.1f}" y1="{y - 2}" y2="{y + 20}" stroke="#333" '
                         'stroke-dasharray="2,2"/>')
            parts.append(f'<text x="{x1 + 4:.1f}" y="{y + 14}" font-size="11">{done:.1f}%</text>')
        parts.append(f'<text x="{x0:.1f}" y="{top + row * len(plan.phases) + 14}" font-size="10">'
                     f'{_e(phase_start.isoformat())}</text>')
        phase_start = phase.end + dt.timedelta(days=1)
    now = x(tree.as_of.date())
    parts.append(f'<line x1="{now:.1f}" x2="{now:.1f}" y1="{top - 8}" y2="{top + row * len(plan.phases)}" '
                 'stroke="#1565c0" stroke-width="2"/>')
    parts.append(f'<text x="{now + 3:.1f}" y="{top - 10}" font-size="10" fill="#1565c0">'
                 f'{_e(label("as_of_line", lang))} {_e(tree.as_of.date().isoformat())}</text>')
    parts.append("</svg>")
    return "".join(parts)
