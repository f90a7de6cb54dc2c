"""The problem list as a sheet (台账): the columns the import reads, then state, overdue days and the last step
in words; an ``.xlsx`` people can print, or a ``.csv`` with a BOM for Excel."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import attrs

from .._core.clock import DEFAULT_ZONE
from .._core.model import Issue, LedgerEntry
from .._deadlines.ladder import STEP_LABELS
from .._reports.sheets import fit_columns, print_setup, put_row, style_header
from .columns import COLUMNS, EXPORT_ONLY, Column
from .sources import require_openpyxl, writable
from .values import UnitNames

__all__ = ["ExportData", "export_columns", "step_words", "write_issues"]

#: Labels of the data a step carries: key -> (Chinese, English).
_DATA_LABELS: Final = {
    "note": ("说明", "note"), "result": ("反馈结果", "result"), "reason": ("理由", "reason"),
    "evidence": ("佐证材料", "evidence"), "rating": ("满意度", "rating"), "due": ("时限", "due"),
    "new_lead": ("新牵头单位", "new lead"), "title": ("问题", "title"), "lead": ("牵头单位", "lead"),
    "cooperating": ("配合单位", "cooperating"), "description": ("问题描述", "description"),
    "category": ("问题类别", "category"), "external_id": ("编号", "external id"),
    "working_days": ("工作日", "working days"), "previous_due": ("原时限", "previous due"),
    "original_due": ("原定时限", "original due"), "step": ("措施", "step"), "level": ("级别", "level"),
    "unit": ("单位", "unit"), "first": ("第一责任人", "first responsible"),
    "direct": ("直接责任人", "directly responsible"),
}
#: Keys of an assignment that the other columns show already.
_SKIP: Final = frozenset({"lifecycle", "lifecycle_version", "due_provisional", "responsible", "hash"})
_UNIT_KEYS: Final = frozenset({"lead", "new_lead", "unit", "cooperating"})


@attrs.frozen
class ExportData:
    """What the export shows besides the issues: external ids, last steps, ratings, overdue working days,
    unit names and labels (``label(issue, name)`` in the export's language)."""

    external: Mapping[str, str]
    last: Mapping[str, LedgerEntry]
    ratings: Mapping[str, int]
    overdue: Mapping[str, int]
    names: UnitNames
    label: Callable[[Issue, str], str]
    title: str


def export_columns() -> tuple[Column, ...]:
    """The export's columns in order: the import's (without the work-plan target), then the export's own."""
    return (*(c for c in COLUMNS if c.key != "target"), *EXPORT_ONLY)


def _value(key: str, value: Any, lang: str, names: UnitNames) -> str:
    if isinstance(value, list | tuple):
        return "、".join(_value(key, v, lang, names) for v in value)
    if isinstance(value, Mapping):
        return "；".join(f"{_label(k, lang)}：{_value(k, v, lang, names)}" for k, v in value.items() if v is not None)
    if isinstance(value, bool):
        return ("是" if value else "否") if lang == "zh" else ("yes" if value else "no")
    if key in _UNIT_KEYS and isinstance(value, str):
        return names.shown(value)
    if key == "step" and isinstance(value, str) and value in STEP_LABELS:
        return STEP_LABELS[value][lang]
    return str(value)


def _label(key: str, lang: str) -> str:
    found = _DATA_LABELS.get(key)
    return key if found is None else found[0 if lang == "zh" else 1]


def step_words(entry: LedgerEntry, lang: str, names: UnitNames) -> str:
    """A step's data in words with labels (``说明：…；佐证材料：a.pdf、b.pdf``), not JSON."""
    sep, colon = ("；", "：") if lang == "zh" else ("; ", ": ")
    parts = [f"{_label(k, lang)}{colon}{_value(k, v, lang, names)}"
             for k, v in entry.data.items() if k not in _SKIP and v is not None and v != ""]
    return sep.join(parts)


def _row(issue: Issue, data: ExportData, lang: str) -> list[Any]:
    names = data.names
    last = data.last.get(issue.id)
    persons = issue.responsible
    values: dict[str, Any] = {
        "external_id": data.external.get(issue.id, issue.id), "title": issue.title,
        "description": issue.description, "category": issue.category, "lead": names.shown(issue.lead),
        "cooperating": "、".join(names.shown(u) for u in issue.cooperating), "due": issue.due,
        "first": persons.first if persons else None, "direct": persons.direct if persons else None,
        "state": data.label(issue, issue.state), "original_due": issue.original_due,
        "overdue_days": data.overdue.get(issue.id), "extensions": issue.extension_count,
        "reworks": issue.rework_count, "rating": data.ratings.get(issue.id),
        "last_step": data.label(issue, last.trigger) if last else None,
        "last_at": last.at.astimezone(DEFAULT_ZONE) if last else None,
        "last_content": step_words(last, lang, names) if last else None, "issue_id": issue.id,
    }
    return [values[c.key] for c in export_columns()]


def write_issues(path: str | os.PathLike[str], issues: Sequence[Issue], data: ExportData, lang: str) -> Path:
    """Write ``issues`` to ``path`` (``.xlsx`` or ``.csv``); return the path."""
    target = writable(path, (".xlsx", ".csv"))
    suffix = target.suffix.lower()
    head = [c.header(lang) for c in export_columns()]
    rows = [_row(issue, data, lang) for issue in issues]
    if suffix == ".csv":
        target.write_bytes(_csv(head, rows).encode("utf-8-sig"))
        return target
    require_openpyxl("path")
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.title = "问题清单" if lang == "zh" else "Problem list"
    ws.cell(row=1, column=1, value=data.title).font = Font(bold=True, size=14)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(head))
    ws.cell(row=1, column=1).alignment = Alignment(horizontal="center")
    put_row(ws, 2, head)
    style_header(ws, 2, len(head))
    for offset, row in enumerate(rows, start=3):
        put_row(ws, offset, row)
    fit_columns(ws)
    wrap = Alignment(wrap_text=True, vertical="top")
    long = [i for i, c in enumerate(export_columns(), start=1) if c.key in ("title", "description", "last_content")]
    for number in range(3, len(rows) + 3):
        for col in long:
            ws.cell(row=number, column=col).alignment = wrap
    print_setup(ws, 2, len(head), len(rows))
    book.properties.creator = "govflow"
    book.properties.title = data.title
    book.save(target)
    return target


def _csv(head: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(head)
    for row in rows:
        writer.writerow([_csv_cell(v) for v in row])
    return buffer.getvalue()


def _csv_cell(value: Any) -> str:
    """A CSV cell; text a spreadsheet would take for a formula gets a leading apostrophe (the import drops it)."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value)
    if isinstance(value, str) and text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text
