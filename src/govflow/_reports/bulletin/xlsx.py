"""The bulletin as an Excel workbook (xlsx), written with openpyxl (``pip install 'govflow[bulletin]'``).

Sheets, in order, titled in the bulletin's language:

* the summary: the title, the period, when it was produced, and every figure added up;
* one sheet per table of :func:`govflow._reports.bulletin.tables.bulletin_tables` (the ranking,
  the figures by unit, the red list, the black list, the issues overdue at the period's
  end and the changes since the previous period); the figures-by-unit sheet also carries
  the unit ids, the rating counts and every escalation step, so each of
  ``flow.facts(period)``'s figures is in it;
* the score breakdown: one row per unit and indicator (rate, weight, points);
* the ledger (台账): every step, up to the period's end, of every issue the bulletin covers.

Numbers are stored as numbers (shown with two decimals where they have any); dates and
times are date cells (times in the wall time of Asia/Shanghai: Excel holds no time zone;
the summary also gives the exact ISO 8601 instant the bulletin was produced). Each table
has a bold, frozen header row with a filter, and every column is as wide as what it
holds (the summary's title rows included).
The same bulletin gives the same bytes: the file's timestamps are the bulletin's
``produced_at``.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import zipfile
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Final

from ..._core.clock import DEFAULT_ZONE
from ..._core.errors import ValidationError
from ..._deadlines.ladder import STEP_LABELS
from ..._stores.facts import UnitFacts
from ..ledger_export import labeller
from ..sheets import fit_columns, put_row, text_width
from .labels import label
from .tables import FACT_COLUMNS, Cell, bulletin_tables, level_name, requested

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

    from ..._flow.facade import Govflow
    from .build import Bulletin

__all__ = ["bulletin_xlsx", "sheet_title"]

#: The widest a column is made, in characters.
MAX_WIDTH: Final = 66
#: The narrowest a column is made, in characters.
MIN_WIDTH: Final = 6
#: Characters a sheet title may not hold.
_BAD_TITLE = re.compile(r"[\[\]:*?/\\]")
#: Characters an xlsx file cannot hold (control characters other than tab and newlines).
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_HEADER_FILL: Final = "DDEBF7"
_RATE_FORMAT: Final = "0.00"


def _require_openpyxl() -> None:
    try:
        import openpyxl  # noqa: F401
    except ImportError as exc:
        raise ValidationError(
            "fmt", "the xlsx bulletin needs openpyxl, which is not installed",
            "pip install 'govflow[bulletin]'",
        ) from exc


def bulletin_xlsx(flow: Govflow, **options: Any) -> bytes:
    """The bulletin as the bytes of an xlsx workbook (use ``bulletin.render("xlsx", lang)``).

    ``options`` carry ``bulletin`` and ``lang`` (``zh`` or ``en``). Raises
    :class:`ValidationError` when openpyxl is missing (``pip install 'govflow[bulletin]'``)
    or the options are wrong.
    """
    bulletin, lang = requested(options)
    _require_openpyxl()
    from openpyxl import Workbook

    book = Workbook()
    del book[book.sheetnames[0]]  # every sheet is made below, in order
    titles: set[str] = set()

    def sheet(name: str) -> Worksheet:
        title = sheet_title(name, titles)
        titles.add(title)
        made: Worksheet = book.create_sheet(title)
        return made

    _summary(sheet(label("summary", lang)), bulletin, lang)
    for key, heading, head, rows in bulletin_tables(bulletin, lang):
        if key == "facts":
            _facts(sheet(heading), bulletin, lang)
            _breakdown(sheet(label("breakdown", lang)), bulletin, lang)
        elif key == "overdue":
            due = head.index(label("due", lang))
            dated = [[dt.date.fromisoformat(c) if i == due and isinstance(c, str) else c for i, c in enumerate(r)]
                     for r in rows]
            _table(sheet(label("overdue_sheet", lang)), head, dated)
        else:
            _table(sheet(heading), head, rows)
    _ledger(sheet(label("ledger", lang)), bulletin, lang)

    stamp = bulletin.produced_at.astimezone(dt.timezone.utc).replace(tzinfo=None, microsecond=0)
    props = book.properties
    props.title = bulletin.title(lang)
    props.subject = str(bulletin.period)
    props.creator = "govflow"
    props.lastModifiedBy = "govflow"
    props.language = "zh-CN" if lang == "zh" else "en"
    props.created = stamp
    props.modified = stamp
    buffer = io.BytesIO()
    book.save(buffer)
    return _fix_timestamps(buffer.getvalue(), stamp)


def sheet_title(name: str, taken: Iterable[str] = ()) -> str:
    """``name`` made a valid sheet title: none of ``[]:*?/\\``, at most 31 characters, not in ``taken``."""
    base = _BAD_TITLE.sub("-", _ILLEGAL.sub("", name)).strip().strip("'") or "Sheet"
    base = base[:31]
    used = {t.casefold() for t in taken}
    title, n = base, 1
    while title.casefold() in used:
        n += 1
        suffix = f" ({n})"
        title = base[: 31 - len(suffix)] + suffix
    return title


def _fix_timestamps(data: bytes, stamp: dt.datetime) -> bytes:
    """The workbook with every zip entry's time and the properties' modified time set to ``stamp``."""
    iso = stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
    date_time = (max(stamp.year, 1980), stamp.month, stamp.day, stamp.hour, stamp.minute, stamp.second)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                    rb"\g<1>" + iso.encode() + rb"\g<2>",
                    content,
                )
            entry = zipfile.ZipInfo(info.filename, date_time=date_time)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = info.external_attr
            target.writestr(entry, content)
    return out.getvalue()


def _put_row(ws: Worksheet, row: int, values: Sequence[Any]) -> None:
    put_row(ws, row, [v.astimezone(DEFAULT_ZONE) if isinstance(v, dt.datetime) else v for v in values])


def _table(
    ws: Worksheet,
    head: Sequence[str],
    rows: Sequence[Sequence[Any]],
    formats: dict[int, str] | None = None,
    first_row: int = 1,
) -> None:
    """Write a header row and rows from ``first_row``: bold frozen header, filter, widths, number formats."""
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    _put_row(ws, first_row, head)
    for offset, row in enumerate(rows, start=1):
        _put_row(ws, first_row + offset, row)
    bold = Font(bold=True)
    fill = PatternFill(fill_type="solid", start_color=_HEADER_FILL, end_color=_HEADER_FILL)
    for col in range(1, len(head) + 1):
        cell = ws.cell(row=first_row, column=col)
        cell.font = bold
        cell.fill = fill
        cell.alignment = Alignment(vertical="center")
    ws.freeze_panes = f"A{first_row + 1}"
    last = get_column_letter(max(len(head), 1))
    ws.auto_filter.ref = f"A{first_row}:{last}{first_row + len(rows)}"
    for col in range(1, len(head) + 1):
        values = [head[col - 1], *(row[col - 1] if col - 1 < len(row) else None for row in rows)]
        width = max(MIN_WIDTH, min(MAX_WIDTH, max(text_width(v) for v in values) + 2))
        ws.column_dimensions[get_column_letter(col)].width = width
        fmt = (formats or {}).get(col)
        if fmt:
            for r in range(first_row + 1, first_row + len(rows) + 1):
                cell = ws.cell(row=r, column=col)
                if isinstance(cell.value, float):
                    cell.number_format = fmt


def _steps(bulletin: Bulletin) -> list[str]:
    """The escalation steps shown: the ladder's, then any other a unit has, sorted."""
    extra = sorted({s for f in bulletin.facts.values() for s in f.escalations} - set(STEP_LABELS))
    return [*STEP_LABELS, *extra]


# The facts' counts the bulletin's tables leave out, shown in the workbook after them.
_MORE: Final = ("ratings", "rating_sum", "callbacks", "callbacks_satisfied", "callback_reworks", "transfers",
                "escalated", "suspended_days")


def _fact_cells(facts: UnitFacts, steps: Sequence[str]) -> list[Cell]:
    cells: list[Cell] = [getattr(facts, name) for name in FACT_COLUMNS]
    cells += [getattr(facts, name) for name in _MORE]
    cells += [facts.escalations.get(step, 0) for step in steps]
    return cells


def _fact_head(steps: Sequence[str], lang: str) -> list[str]:
    head = [label("due_count" if n == "due" else n, lang) for n in FACT_COLUMNS]
    head += [label(n, lang) for n in _MORE]
    head += [label(f"step_{step}", lang) for step in steps]
    return head


def _summary(ws: Worksheet, bulletin: Bulletin, lang: str) -> None:
    """The title, the period, when it was produced, then every figure added up."""
    from openpyxl.styles import Font

    ws.cell(row=1, column=1, value=bulletin.title(lang)).font = Font(bold=True, size=14)
    _put_row(ws, 2, [label("period", lang), bulletin.period_name(lang), str(bulletin.period)])
    _put_row(ws, 3, [label("produced_at", lang), bulletin.produced_on(lang), bulletin.produced_at,
                     bulletin.produced_at.isoformat()])
    fourth: list[Any] = [label("issuer", lang), bulletin.issuer] if bulletin.issuer else [None, None]
    if bulletin.as_of < bulletin.period.end:  # a period not over yet: counted up to when
        fourth += [label("as_of", lang), bulletin.as_of_text(lang)]
    if any(cell is not None for cell in fourth):
        _put_row(ws, 4, fourth)
    steps = _steps(bulletin)
    totals = bulletin.totals()
    rows = [[name, value] for name, value in zip(_fact_head(steps, lang), _fact_cells(totals, steps), strict=True)]
    _table(ws, [label("summary", lang), label("all_units", lang)], rows,
           formats={2: _RATE_FORMAT}, first_row=5)
    # The title spans the summary's columns; each column is as wide as every row's cell in it.
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=max(ws.max_column, 2))
    fit_columns(ws, min_width=MIN_WIDTH, max_width=MAX_WIDTH)


def _facts(ws: Worksheet, bulletin: Bulletin, lang: str) -> None:
    """Every unit's figures (each count of ``flow.facts``), then the totals row in bold."""
    from openpyxl.styles import Font

    steps = _steps(bulletin)
    head = [label("unit_id", lang), label("unit", lang), *_fact_head(steps, lang)]
    rows: list[list[Cell]] = [
        [unit_id, bulletin.unit_name(unit_id), *_fact_cells(facts, steps)] for unit_id, facts in bulletin.facts.items()
    ]
    rows.append([None, label("all_units", lang), *_fact_cells(bulletin.totals(), steps)])
    rating = 3 + FACT_COLUMNS.index("mean_rating")
    _table(ws, head, rows, formats={rating: _RATE_FORMAT})
    bold = Font(bold=True)
    for col in range(1, len(head) + 1):
        ws.cell(row=len(rows) + 1, column=col).font = bold


def _breakdown(ws: Worksheet, bulletin: Bulletin, lang: str) -> None:
    """One row per unit and indicator: the rate, the weight and the points it gives."""
    head = [label(k, lang) for k in (
        "level", "rank", "unit_id", "unit", "total", "indicator", "value", "weight", "score", "count")]
    rows: list[list[Any]] = []
    for score in bulletin.scores:
        total: Cell = score.total if score.total is not None else label("not_scored", lang)
        for indicator in score.breakdown:
            rows.append([
                level_name(score.level, lang), score.rank, score.unit, bulletin.unit_name(score.unit), total,
                indicator.label(lang), indicator.value, indicator.weight,
                indicator.score if score.total is not None else None, indicator.count,
            ])
    _table(ws, head, rows, formats={7: _RATE_FORMAT, 9: _RATE_FORMAT})


def _action(action: str, data: Any, lang: str) -> str:
    """A step's label; a ladder step says which rung (时限提醒督办：督办)."""
    step = data.get("step") if hasattr(data, "get") else None
    if isinstance(step, str) and step in STEP_LABELS:
        return f"{action}{'：' if lang == 'zh' else ': '}{STEP_LABELS[step][lang]}"
    return action


def _ledger(ws: Worksheet, bulletin: Bulletin, lang: str) -> None:
    """Every step, up to the period's end, of every issue the bulletin covers (台账)."""
    head = [label(k, lang) for k in (
        "seq", "issue", "issue_title", "step", "trigger", "from_state", "to_state", "actor", "person", "at",
        "data", "hash")]
    name = labeller(bulletin.flow, lang)
    rows: list[list[Any]] = []
    for issue, entries in bulletin.ledger():
        for e in entries:
            rows.append([
                e.seq, e.issue_id, issue.title, e.issue_seq, _action(name(e.issue_id, e.trigger), e.data, lang),
                name(e.issue_id, e.from_state) if e.from_state else None, name(e.issue_id, e.to_state),
                bulletin.unit_name(e.actor), e.person, e.at,
                json.dumps(dict(e.data), ensure_ascii=False, sort_keys=True), e.hash,
            ])
    _table(ws, head, rows)
