"""From the rows of a sheet to the units of work an import commits: every row checked, every problem
collected (nothing is written unless there are none), existing issues found by their external id.

A new issue is an ``assign`` whose ledger data carries the row's ``external_id``: the id lives in the
hash-chained ledger, so it is replayed with the issue and checked by ``verify_ledger()``. A changed row
of an existing issue, with ``update``, becomes the lifecycle's own steps: 改派 (``reassign``) for a new
lead unit, and a request and approval of an extension for a later due date.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs

from .._core.errors import GovflowError, ImportProblem, ValidationError
from .._core.events import ProposedTransition
from .._core.ledger import LedgerDraft
from .._core.model import Actor, Issue, Responsible, Unit
from .._core.text import check_text
from .._core.workdays import Calendar, WorkingDays, resolve_due
from .._lifecycle.effects import EscalateTo
from .._lifecycle.fields import iso_date
from .._lifecycle.machine import Lifecycle, LifecycleDefinition
from .._lifecycle.replay import assign_data, assigned_issue
from .._stores.protocol import UnitOfWork
from .columns import COLUMNS, Column
from .sources import Sheet
from .values import BadValue, UnitNames, cell_text, fold, parse_due_cell, split_units

__all__ = ["ImportContext", "Plan", "external_id_of", "plan_import"]

_BY_KEY = {c.key: c for c in COLUMNS}
#: Called with (rows done, rows in all).
Progress = Callable[[int, int], None]


@attrs.frozen
class ImportContext:
    """What the plan needs from the flow: who imports, when, against which units, lifecycles and issues.

    ``known`` maps external ids (and the ids of issues assigned without one) to current issues;
    ``lifecycle_of`` finds an existing issue's own lifecycle; ``guard`` runs the plugins'
    ``before_transition`` hooks (None when there are none).
    """

    actor: Actor
    now: dt.datetime
    calendar: Calendar
    lifecycle: Lifecycle
    lifecycle_of: Callable[[Issue], Lifecycle]
    units: Sequence[Unit]
    find_unit: Callable[[str], Unit | None]
    known: Mapping[str, Issue]
    id_scope: str
    max_extensions: int
    guard: Callable[[ProposedTransition], None] | None
    source: str
    #: Checks a 目标 cell for a new issue with this lead and returns the target id to link (raises otherwise).
    link_target: Callable[[str, str], str] | None = None
    #: Adds to a new issue's assign data what the field loop starts it with (as ``flow.assign`` does by default).
    field_data: Callable[[LifecycleDefinition, tuple[str, ...], dict[str, Any]], object] | None = None
    #: Where 提级督办 takes an issue (the flow's ``escalate_to``).
    escalate_to: EscalateTo = None


@attrs.define
class Plan:
    """The checked sheet: units of work in order, what they do, and every problem and note."""

    sheet: str
    rows: int
    works: list[UnitOfWork] = attrs.Factory(list)
    created: list[str] = attrs.Factory(list)
    updated: list[str] = attrs.Factory(list)
    unchanged: list[str] = attrs.Factory(list)
    steps: list[tuple[str, str]] = attrs.Factory(list)
    problems: list[ImportProblem] = attrs.Factory(list)
    notes: list[ImportProblem] = attrs.Factory(list)
    #: Due dates resolved so far (a working-day count is counted from today once).
    resolved: dict[dt.date | WorkingDays, tuple[dt.date, bool, Any]] = attrs.Factory(dict)


@attrs.frozen
class _Row:
    external_id: str
    title: str
    description: str
    category: str | None
    lead: str
    cooperating: tuple[str, ...]
    due: dt.date | WorkingDays
    responsible: Responsible | None
    target: str | None = None


class _Checker:
    """Collects the problems of one row, each with the cell's sheet, row, header and value."""

    def __init__(self, plan: Plan, sheet: Sheet, number: int, cells: Mapping[str, Any]) -> None:
        self.plan, self.sheet, self.number, self.cells = plan, sheet, number, cells
        self.bad = False

    def header(self, key: str) -> str:
        return self.sheet.headers.get(key) or _BY_KEY[key].zh

    def problem(self, key: str, zh: str, en: str, accepted_zh: str | None = None, accepted_en: str | None = None,
                *, note: bool = False, value: object = None) -> None:
        column: Column = _BY_KEY[key]
        shown = cell_text(self.cells.get(key) if value is None else value)
        found = ImportProblem(self.sheet.name, self.number, self.header(key), shown, zh, en,
                              accepted_zh or column.accepts_zh, accepted_en or column.accepts_en)
        if note:
            self.plan.notes.append(found)
        else:
            self.plan.problems.append(found)
            self.bad = True


def plan_import(sheet: Sheet, ctx: ImportContext, *, update: bool, progress: Progress | None = None) -> Plan:
    """Check every row of ``sheet`` and plan its writes; problems are collected, never raised."""
    plan = Plan(sheet.name, len(sheet.rows))
    names = UnitNames(ctx.units)
    seen: dict[str, int] = {}
    matched: dict[str, int] = {}  # issue id -> the row that names it
    total = len(sheet.rows)
    for done, (number, cells) in enumerate(sheet.rows, start=1):
        check = _Checker(plan, sheet, number, cells)
        external_id = external_id_of(sheet, number, cells)
        first = seen.setdefault(external_id, number)
        if first != number:
            check.problem("external_id", f"与第{first}行编号重复", f"the same id as row {first}",
                          "清单内唯一的编号", "an id unique in the list", value=external_id)
        row = _read_row(check, names, external_id, ctx)
        if row is not None:
            issue = ctx.known.get(row.external_id)
            if issue is not None and matched.setdefault(issue.id, number) != number:
                earlier = matched[issue.id]
                check.problem("external_id", f"与第{earlier}行是同一问题（{issue.id}）",
                              f"the same issue ({issue.id}) as row {earlier}", "每个问题一行", "one row per issue",
                              value=row.external_id)
            elif issue is not None:
                _existing(check, row, issue, ctx, names, update=update)
            else:
                _create(check, row, ctx)
        if progress is not None and (done % 1000 == 0 or done == total):
            progress(done, total)
    return plan


def external_id_of(sheet: Sheet, number: int, cells: Mapping[str, Any]) -> str:
    """A row's 编号 as compared (full-width digits and letters made plain, no spaces), or ``sheet#row``."""
    return fold(cell_text(cells.get("external_id"))) or f"{sheet.name}#{number}"


def _read_row(check: _Checker, names: UnitNames, external_id: str, ctx: ImportContext) -> _Row | None:
    cells = check.cells
    title = cell_text(cells.get("title"))
    if not title:
        check.problem("title", "问题为空", "the title is empty")
    lead = ""
    lead_text = cell_text(cells.get("lead"))
    try:
        lead = names.find(lead_text).id
    except BadValue as exc:
        check.problem("lead", exc.zh, exc.en)
    cooperating: list[str] = []
    for part in split_units(cells.get("cooperating")):
        try:
            unit = names.find(part)
        except BadValue as exc:
            check.problem("cooperating", f"「{part}」{exc.zh}", f"{part!r}: {exc.en}")
            continue
        if unit.id == lead:
            check.problem("cooperating", f"「{part}」是牵头单位", f"{part!r} is the lead unit",
                          "牵头单位以外的单位", "units other than the lead")
        elif unit.id not in cooperating:
            cooperating.append(unit.id)
    due: dt.date | WorkingDays = dt.date.min
    try:
        due = parse_due_cell(cells.get("due"))
    except BadValue as exc:
        check.problem("due", exc.zh, exc.en)
    target: str | None = None
    target_text = fold(cell_text(cells.get("target")))
    if target_text and ctx.link_target is None:
        check.problem("target", "工作方案的目标任务不可用", "work-plan targets are not available in this flow")
    elif target_text and lead and ctx.link_target is not None:
        try:
            target = ctx.link_target(target_text, lead)
        except GovflowError as exc:
            check.problem("target", f"目标任务不能关联：{exc}", f"the target cannot be linked: {exc}",
                          "按问题计量（issues）、牵头单位在其单位或以下的目标编号（TG-…）",
                          "the id (TG-…) of a target measured by issues, held by the lead unit or a unit above it")
    first, direct = cell_text(cells.get("first")) or None, cell_text(cells.get("direct")) or None
    description, category = cell_text(cells.get("description")), cell_text(cells.get("category")) or None
    # The text rule flow.assign applies at the door (NUL, lone surrogates, stray control characters, lengths).
    for key, value, kind, limit in (("title", title, "free", 1000), ("description", description, "free", None),
                                    ("category", category, "name", 200), ("first", first, "name", 200),
                                    ("direct", direct, "name", 200)):
        if value:
            try:
                check_text(key, value, kind=kind, max_len=limit)  # type: ignore[arg-type]
            except ValidationError as exc:
                check.problem(key, f"文字不可用：{exc}", f"the text cannot be kept: {exc}",
                              "不含控制字符的文字，长度适当", "text without control characters, of a sensible length")
    if check.bad:
        return None
    return _Row(
        external_id=external_id, title=title, description=description, category=category, lead=lead,
        cooperating=tuple(cooperating), due=due,
        responsible=Responsible(first, direct) if first or direct else None, target=target,
    )


def _resolve(check: _Checker, ctx: ImportContext, due: dt.date | WorkingDays) -> tuple[dt.date, bool, Any] | None:
    today = ctx.now.date()
    found = check.plan.resolved.get(due)
    if found is None:
        try:
            found = check.plan.resolved[due] = resolve_due(ctx.calendar, due, today)
        except GovflowError as exc:  # a year without an official holiday schedule
            check.problem("due", f"无法计算工作日：{exc}", f"cannot count the working days: {exc}")
            return None
    day, provisional, basis = found
    if day < today:
        check.problem("due", f"{iso_date(day)} 早于今天", f"{iso_date(day)} is before today",
                      f"{iso_date(today)} 或以后的日期", f"a date on or after {iso_date(today)}")
        return None
    return day, provisional, basis


def _create(check: _Checker, row: _Row, ctx: ImportContext) -> None:
    resolved = _resolve(check, ctx, row.due)
    if resolved is None:
        return
    due, provisional, basis = resolved
    definition = ctx.lifecycle.definition
    now = ctx.now
    # The data flow.assign writes (the same function), then the row's external id.
    data = assign_data(
        definition, title=row.title, lead=row.lead, due=due, provisional=provisional, basis=basis,
        cooperating=row.cooperating, description=row.description, category=row.category,
        responsible=row.responsible, target=row.target,
    )
    if ctx.field_data is not None:  # issue-list v2: the countersign a new issue with cooperating units needs
        ctx.field_data(definition, row.cooperating, data)
    data["external_id"] = row.external_id
    # The issue is what its ledger entry says, built as flow.assign builds it (and verify_ledger() rebuilds it).
    issue = assigned_issue("", data, now, definition.initial)
    if ctx.guard is not None:
        try:
            ctx.guard(ProposedTransition(None, issue, "assign", ctx.actor, now, copy.deepcopy(data)))
        except GovflowError as exc:
            check.problem("title", f"插件拒绝交办：{exc}", f"a plugin refused the assignment: {exc}")
            return
    draft = LedgerDraft(
        issue_id="", issue_seq=1, trigger="assign", from_state=None, to_state=definition.initial,
        actor=ctx.actor.unit, person=ctx.actor.person, at=now, data=data,
    )
    check.plan.works.append(UnitOfWork(issue, 0, draft, id_scope=ctx.id_scope))
    check.plan.created.append(row.external_id)


def _same_due(row: _Row, issue: Issue, ctx: ImportContext) -> bool:
    if isinstance(row.due, WorkingDays):
        if issue.due_basis is not None and issue.due_basis[1] == row.due.count:
            return True
        try:
            return resolve_due(ctx.calendar, row.due, ctx.now.date())[0] == issue.due
        except GovflowError:
            return False
    return row.due == issue.due


def _existing(check: _Checker, row: _Row, issue: Issue, ctx: ImportContext, names: UnitNames, *,
              update: bool) -> None:
    """Compare the row with the issue; plan the lifecycle's steps for a changed lead or due date."""
    fixed = "系统中的值（导入不能修改此列）", "the value in govflow (an import cannot change this column)"
    lead_changed = row.lead != issue.lead
    texts = (("title", row.title, cell_text(issue.title)), ("description", row.description,
                                                            cell_text(issue.description)),
             ("category", row.category or "", cell_text(issue.category)))
    for key, mine, theirs in texts:
        if mine != theirs:
            check.problem(key, f"与系统中的「{theirs}」不同", f"differs from {theirs!r} in govflow", *fixed)
    coop_now = set(issue.cooperating) - ({row.lead} if lead_changed else set())
    if set(row.cooperating) != coop_now:
        shown = "、".join(names.shown(u) for u in issue.cooperating) or "（无）"
        check.problem("cooperating", f"与系统中的「{shown}」不同", f"differs from {shown!r} in govflow", *fixed)
    persons = issue.responsible or Responsible()
    given = row.responsible or Responsible()
    for key in ("first", "direct"):
        mine, theirs = getattr(given, key), getattr(persons, key)
        # As a sheet shows it (stray spaces stripped), as the titles are compared: an export reads back the same.
        if mine == (cell_text(theirs) or None) or lead_changed:
            continue  # 改派 clears the persons: they were the old lead's
        if theirs is None:
            check.problem(key, "系统中未记录此人，导入不能补记",
                          "govflow has no name here and an import cannot add one", note=True)
        else:
            check.problem(key, f"与系统中的「{theirs}」不同", f"differs from {theirs!r} in govflow", *fixed)
    due_changed = not _same_due(row, issue, ctx)
    if check.bad or not (lead_changed or due_changed):
        if not check.bad:
            check.plan.unchanged.append(issue.id)
        return
    if not update:
        if lead_changed:
            shown = names.shown(issue.lead)
            check.problem("lead", f"与系统中的「{shown}」不同", f"differs from {shown!r} in govflow",
                          "系统中的值，或以 update=True 导入（按改派办理）",
                          "the value in govflow, or import with update=True (a 改派 reassign step)")
        if due_changed:
            day = iso_date(issue.due)
            check.problem("due", f"与系统中的 {day} 不同", f"differs from {day} in govflow",
                          "系统中的值，或以 update=True 导入（按批准延期办理）",
                          "the value in govflow, or import with update=True (an approved extension)")
        return
    _update(check, row, issue, ctx, lead_changed=lead_changed, due_changed=due_changed)


def _update(check: _Checker, row: _Row, issue: Issue, ctx: ImportContext, *, lead_changed: bool,
            due_changed: bool) -> None:
    reason = f"按导入的清单办理 / as imported: {ctx.source} {check.sheet.name} 第{check.number}行"
    steps: list[tuple[str, Actor, dict[str, Any], str]] = []
    if lead_changed:
        steps.append(("reassign", ctx.actor, {"new_lead": row.lead, "reason": reason}, "lead"))
    if due_changed:
        resolved = _resolve(check, ctx, row.due)
        if resolved is None:
            return
        due = resolved[0]
        if due < issue.due:
            check.problem("due", f"早于系统中的 {iso_date(issue.due)}：时限只能经批准延期推后",
                          f"earlier than {iso_date(issue.due)} in govflow: a due date only moves later, by extension",
                          f"{iso_date(issue.due)} 之后的日期", f"a date after {iso_date(issue.due)}")
            return
        # The lead unit asks and the importing office approves: the ledger shows both steps.
        steps.append(("request_extension", Actor(row.lead), {"due": due, "reason": reason}, "due"))
        steps.append(("approve_extension", ctx.actor, {"note": reason}, "due"))
    lifecycle = ctx.lifecycle_of(issue)
    current = issue
    works: list[UnitOfWork] = []
    for trigger, actor, data, key in steps:
        try:
            new, ledger_data = lifecycle.fire(current, trigger, actor, data, ctx.now, ctx.find_unit, ctx.calendar,
                                              ctx.max_extensions, escalate_to=ctx.escalate_to)
            if ctx.guard is not None:
                ctx.guard(ProposedTransition(current, new, trigger, actor, ctx.now, copy.deepcopy(ledger_data)))
        except GovflowError as exc:
            check.problem(key, f"无法按生命周期办理：{exc}", f"the lifecycle refuses the change: {exc}",
                          "系统中的值，或先在系统中办理", "the value in govflow, or make the change in govflow first")
            return
        draft = LedgerDraft(
            issue_id=issue.id, issue_seq=new.version, trigger=trigger, from_state=current.state, to_state=new.state,
            actor=actor.unit, person=actor.person, at=ctx.now, data=ledger_data,
        )
        units_changed = new.lead != current.lead or new.cooperating != current.cooperating
        works.append(UnitOfWork(new, current.version, draft, units_changed=units_changed))
        current = new
    check.plan.works.extend(works)
    check.plan.updated.append(issue.id)
    check.plan.steps.extend((issue.id, w.entry.trigger) for w in works)
