"""Spreadsheets in and out of :class:`govflow.Govflow` (import_issues, import_template, export_issues); a mixin
of the facade, kept apart to keep each module readable. The work is done in ``govflow._interop``."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from .._core.errors import ConcurrentUpdateError, ImportRejected, PermissionDenied, ValidationError
from .._core.model import Issue, LedgerEntry, Unit
from .._interop.export import ExportData, write_issues
from .._interop.plan import ImportContext, external_id_of, plan_import
from .._interop.report import ImportReport
from .._interop.sources import read_sheet
from .._interop.template import write_template
from .._interop.values import UnitNames
from .._lifecycle.fields import parse_actor
from .._lifecycle.machine import describe_roles
from .._reports.period import Period
from .._stores.protocol import IssueQuery

if TYPE_CHECKING:
    from .._core.field import FieldState
    from .._core.workdays import Calendar
    from .._deadlines.ladder import Overdue
    from .._lifecycle.effects import EscalateTo
    from .._lifecycle.machine import Lifecycle, LifecycleDefinition
    from .._plugins.manager import Plugins
    from .._stores.protocol import Store
    from .steps import ActorLike

__all__ = ["SheetsMixin"]

_LANGS = ("zh", "en")
#: Up to how many issues an import loads one by one (more: every issue in one query).
_LOAD_ONE_BY_ONE = 500


class SheetsMixin:
    """Problem lists to and from ``.xlsx`` and ``.csv`` sheets, for :class:`govflow.Govflow`."""

    _store: Store
    _plugins: Plugins
    _calendar: Calendar
    _max_extensions: int
    _escalate_to: EscalateTo
    _id_prefix: str

    if TYPE_CHECKING:

        def now(self) -> dt.datetime: ...
        def units(self) -> list[Unit]: ...
        def _find_unit(self, unit_id: str) -> Unit | None: ...
        def _lifecycle(self, name: str, version: int | None = None) -> Lifecycle: ...
        def _start_delivery(self) -> None: ...
        def label(self, name: str, lang: str = "zh", lifecycle: str = "issue-list",
                  version: int | None = None) -> str: ...
        def overdue(self, unit: str | None = None) -> list[Overdue]: ...
        def _link_data(self, target_id: object, lead: str) -> str: ...
        @staticmethod
        def _field_at_assign(definition: LifecycleDefinition, cooperating: tuple[str, ...], countersign: str | None,
                             accept_limit: int | None, data: dict[str, Any]) -> FieldState | None: ...
        def _accept_by_at_assign(self, definition: LifecycleDefinition, data: dict[str, Any],
                                 today: dt.date) -> None: ...

    def _field_data_at_import(self, definition: LifecycleDefinition, cooperating: tuple[str, ...],
                              data: dict[str, Any], today: dt.date) -> None:
        """What ``flow.assign`` adds to a new issue's entry for the field loop, with the deployment's defaults."""
        self._field_at_assign(definition, cooperating, None, None, data)
        self._accept_by_at_assign(definition, data, today)

    def import_issues(
        self,
        source: str | os.PathLike[str],
        *,
        by: ActorLike,
        sheet: str | None = None,
        dry_run: bool = False,
        update: bool = False,
        progress: Callable[[int, int], None] | None = None,
    ) -> ImportReport:
        """Assign one issue per row of an office's problem list (``.xlsx``, or ``.csv`` in UTF-8 or GB18030), as ``by``.

        Headers in Chinese or English in any order, under title rows and notes; units by id, full name or
        unique short name; due dates as date cells, ``2020-07-31``, ``2020/7/31``, ``2020.7.31``,
        ``2020年7月31日`` or ``10个工作日``. All or nothing: if any row is bad, :class:`ImportRejected`
        lists every problem and nothing is written; ``dry_run`` returns the same report (problems
        included) without writing. Rows are matched to issues by their 编号 (external id, kept in the
        assign entry of the ledger; a row without one gets ``sheet#row``): a row imported before is left
        alone, a changed one is a problem unless ``update``, which fires 改派 (reassign) for a new lead
        unit and a request and approval of an extension for a later due date. ``progress(done, total)``
        is called as rows are checked. docs/spreadsheets.md has the details.

        Two imports of one list at once give its rows one issue each: the second finds, when it writes,
        the issues the first gave them, writes nothing, and reads the list again (once).
        """
        try:
            return self._import_once(source, by, sheet, dry_run, update, progress)
        except ConcurrentUpdateError:
            # Written since the list was read (another import, another step on an issue it updates).
            return self._import_once(source, by, sheet, dry_run, update, progress)

    def _import_once(
        self, source: str | os.PathLike[str], by: ActorLike, sheet: str | None, dry_run: bool, update: bool,
        progress: Callable[[int, int], None] | None,
    ) -> ImportReport:
        actor = parse_actor(by)
        for name, flag in (("dry_run", dry_run), ("update", update)):
            if not isinstance(flag, bool):
                raise ValidationError(name, f"got {flag!r}", "True or False")
        if progress is not None and not callable(progress):
            raise ValidationError("progress", f"got {progress!r}", "a callable progress(done, total), or None")
        if sheet is not None and not isinstance(sheet, str):
            raise ValidationError("sheet", f"got {sheet!r}", "a sheet name or None")
        actor_unit = self._find_unit(actor.unit)
        if actor_unit is None or not actor_unit.supervisor:
            raise PermissionDenied("(new)", "assign", actor.unit, describe_roles(("supervisor",), (), None),
                                   "no such unit is registered" if actor_unit is None else "")
        name = Path(source).name
        found, problems = read_sheet(source, sheet)
        if found is None or problems:  # no header row, or one the rows cannot be read by
            if dry_run:
                shown = found.name if found else sheet or ""
                return ImportReport(name, shown, 0, problems=tuple(problems), dry_run=True)
            raise ImportRejected(name, problems)
        lifecycle = self._lifecycle("issue-list")
        now = self.now()
        ctx = ImportContext(
            actor=actor, now=now, calendar=self._calendar, lifecycle=lifecycle,
            lifecycle_of=lambda issue: self._lifecycle(issue.lifecycle, issue.lifecycle_version),
            units=self.units(), find_unit=self._find_unit,
            known=self._known(external_id_of(found, n, cells) for n, cells in found.rows),
            id_scope=f"{self._id_prefix}{now.year}-", max_extensions=self._max_extensions,
            guard=self._plugins.before_transition if self._plugins.has_guards else None, source=name,
            link_target=self._link_data,
            escalate_to=self._escalate_to,
            field_data=lambda definition, cooperating, data: self._field_data_at_import(
                definition, cooperating, data, now.date()),
        )
        plan = plan_import(found, ctx, update=update, progress=progress)
        problems += plan.problems
        report = ImportReport(
            name, found.name, plan.rows, created=tuple(plan.created), updated=tuple(plan.updated),
            unchanged=tuple(plan.unchanged), steps=tuple(plan.steps), problems=tuple(problems),
            notes=tuple(plan.notes), dry_run=dry_run,
        )
        if dry_run:
            return report
        if problems:
            raise ImportRejected(name, problems)
        if not plan.works:
            return report
        subscribers = self._plugins.subscribers("after_transition")
        works = plan.works
        if subscribers:
            notify = tuple(("after_transition", plugin) for plugin in subscribers)
            works = [attrs.evolve(work, notify=notify) for work in works]
        written = self._store.commit_many(works)
        if subscribers:
            self._start_delivery()
        created = tuple(issue.id for work, (issue, _) in zip(works, written, strict=True) if work.id_scope)
        return attrs.evolve(report, created=created)

    def _known(self, wanted: Iterable[str]) -> dict[str, Issue]:
        """The current issues the sheet's ids name: by external id (from the ledger's assign entries), else by id."""
        wanted = set(wanted)
        external = {
            entry.data["external_id"]: entry.issue_id
            for entry in self._store.ledger(trigger="assign")
            if isinstance(entry.data.get("external_id"), str) and entry.data["external_id"] in wanted
        }
        # Keys that are neither an external id nor an issue id of this flow name no issue.
        keys = [k for k in wanted if k in external or not self._id_prefix or k.startswith(self._id_prefix)]
        if len(keys) > _LOAD_ONE_BY_ONE:  # a large sheet imported again: one query beats a load per row
            issues = {issue.id: issue for issue in self._store.query(IssueQuery())}
            found = {key: issues.get(external.get(key, key)) for key in keys}
        else:
            found = {key: self._store.load(external.get(key, key)) for key in keys}
        return {key: issue for key, issue in found.items() if issue is not None}

    def export_issues(
        self,
        path: str | os.PathLike[str],
        *,
        state: str | None = None,
        unit: str | None = None,
        period: Period | str | None = None,
        lang: str = "zh",
    ) -> Path:
        """Write the problem list (台账) to ``path`` (``.xlsx``, or ``.csv`` with a BOM); return the path.

        The columns are those :meth:`import_issues` reads (so the sheet imports back as nothing to do),
        then the state, original due date, overdue working days, extensions, reworks, rating and the
        last step in words. ``state`` and ``unit`` (lead or cooperating) narrow the list; ``period``
        (``"2026-06"``, ``"2026-Q2"``, ``"2026"`` or a :class:`Period`) keeps the issues open at some
        time in it. Headers in ``lang`` (``zh`` or ``en``).
        """
        if lang not in _LANGS:
            raise ValidationError("lang", f"got {lang!r}", "'zh' or 'en'")
        if state is not None and not isinstance(state, str):
            raise ValidationError("state", f"got {state!r}", "a state name or None")
        if unit is not None and self._find_unit(unit) is None:
            raise ValidationError("unit", f"no unit {unit!r}", "the id of a registered unit, or None")
        span = Period.parse(period) if period is not None else None
        issues = self._store.query(IssueQuery(state=state, unit=unit))
        if span is not None:
            # Open: in a state where its lead still works on it (a verified issue of issue-list v2 is closed,
            # though a call-back may still reopen it).
            issues = [i for i in issues if i.created_at < span.end and (
                i.state in self._lifecycle(i.lifecycle, i.lifecycle_version).lead_states
                or i.updated_at >= span.start)]
        external: dict[str, str] = {}
        last: dict[str, LedgerEntry] = {}
        ratings: dict[str, int] = {}
        wanted = {i.id for i in issues}
        for entry in self._store.ledger():
            if entry.issue_id not in wanted:
                continue
            last[entry.issue_id] = entry
            if entry.trigger == "assign" and isinstance(entry.data.get("external_id"), str):
                external[entry.issue_id] = entry.data["external_id"]
            rating = entry.data.get("rating")
            if entry.trigger == "verify" and isinstance(rating, int):
                ratings[entry.issue_id] = rating
        names = UnitNames(self.units())
        today = self.now().date()
        title = _title(lang, today, state and self.label(state, lang), unit and names.shown(unit), span)
        data = ExportData(
            external=external, last=last, ratings=ratings,
            overdue={o.issue.id: o.working_days for o in self.overdue()}, names=names,
            label=lambda issue, name: self.label(name, lang, issue.lifecycle, issue.lifecycle_version), title=title,
        )
        return write_issues(path, issues, data, lang)

    def import_template(self, path: str | os.PathLike[str], lang: str = "zh") -> Path:
        """Write an ``.xlsx`` template for :meth:`import_issues`: the headers, an instructions sheet, and
        drop-down lists of this flow's units and the categories its issues use; return the path."""
        if lang not in _LANGS:
            raise ValidationError("lang", f"got {lang!r}", "'zh' or 'en'")
        units = self.units()
        names = UnitNames(units)
        categories = sorted({i.category for i in self._store.query(IssueQuery()) if i.category})
        return write_template(path, lang, [names.shown(u.id) for u in units], categories)


def _title(lang: str, today: dt.date, state: str | None, unit: str | None, period: Period | None) -> str:
    if lang == "zh":
        parts = [p for p in (unit, period and f"{period}", state) if p]
        scope = f"（{'，'.join(parts)}）" if parts else ""
        return f"问题清单台账{scope} 导出于{today.year}年{today.month}月{today.day}日"
    parts = [p for p in (unit, period and str(period), state) if p]
    scope = f" ({', '.join(parts)})" if parts else ""
    return f"Problem list{scope}, exported {today.isoformat()}"

