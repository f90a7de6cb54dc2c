"""Worksheets people print and read: cells that are never formulas, real date cells, columns sized to what they
hold (merged title rows included), a frozen header with filters, print titles and landscape fit-to-width.

Shared by the bulletin workbook and the problem-list export (``govflow._interop``).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

__all__ = [
    "DATETIME_FORMAT",
    "DATE_FORMAT",
    "MAX_WIDTH",
    "MIN_WIDTH",
    "fit_columns",
    "print_setup",
    "put_row",
    "safe_text",
    "style_header",
    "text_width",
]

#: The widest a column is made, in characters (longer text wraps).
MAX_WIDTH: Final = 66
#: The narrowest a column is made, in characters.
MIN_WIDTH: Final = 6
#: How dates and times are shown.
DATE_FORMAT: Final = "yyyy-mm-dd"
DATETIME_FORMAT: Final = "yyyy-mm-dd hh:mm"
#: Characters an xlsx file cannot hold (control characters other than tab and newlines).
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_HEADER_FILL: Final = "DDEBF7"


def safe_text(value: str) -> str:
    """Text an xlsx cell can hold (illegal control characters replaced)."""
    return _ILLEGAL.sub("\ufffd", value)


def put_row(ws: Worksheet, row: int, values: Sequence[Any], number_format: str = "0.00") -> None:
    """Write ``values`` from column A: text never as a formula, dates as date cells, floats with ``number_format``.

    An aware datetime is written in its own zone's wall time (Excel holds no zone).
    """
    for col, value in enumerate(values, start=1):
        if value is None or value == "":
            continue
        if isinstance(value, str):
            cell = ws.cell(row=row, column=col, value=safe_text(value))
            if value.startswith("="):
                cell.data_type = "s"  # text, never a formula
        elif isinstance(value, dt.datetime):
            cell = ws.cell(row=row, column=col, value=value.replace(tzinfo=None, microsecond=0))
            cell.number_format = DATETIME_FORMAT
        elif isinstance(value, dt.date):
            cell = ws.cell(row=row, column=col, value=value)
            cell.number_format = DATE_FORMAT
        else:
            cell = ws.cell(row=row, column=col, value=value)
            if isinstance(value, float):
                cell.number_format = number_format


def text_width(value: Any) -> int:
    """The width ``value`` takes as shown, in characters (a Chinese character counts two)."""
    if value is None:
        return 0
    if isinstance(value, dt.datetime):
        return 16
    if isinstance(value, dt.date):
        return 10
    text = f"{value:.2f}" if isinstance(value, float) else str(value)
    longest = max(text.split("\n"), key=len)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in longest)


def fit_columns(ws: Worksheet, *, min_width: int = MIN_WIDTH, max_width: int = MAX_WIDTH) -> None:
    """Size every column to its widest cell; a merged cell (a title row) widens the columns it spans
    when they are together too narrow for it."""
    from openpyxl.utils import get_column_letter

    merged = {(r.min_row, r.min_col): r for r in ws.merged_cells.ranges}
    inside = {(row, col) for r in merged.values() for row in range(r.min_row, r.max_row + 1)
              for col in range(r.min_col, r.max_col + 1)}
    widths: dict[int, int] = {}
    for row in ws.iter_rows():
        for cell in row:
            if cell.value is None or (cell.row, cell.column) in inside:
                continue
            column = int(cell.column)
            widths[column] = max(widths.get(column, 0), text_width(cell.value) + 2)
    for column in range(1, ws.max_column + 1):
        widths[column] = max(min_width, min(max_width, widths.get(column, 0)))
    for (row, col), span in merged.items():
        need = text_width(ws.cell(row=row, column=col).value) + 2
        have = sum(widths[c] for c in range(span.min_col, span.max_col + 1))
        if need > have:
            widths[span.max_col] = min(max_width, widths[span.max_col] + need - have)
    for column, width in widths.items():
        ws.column_dimensions[get_column_letter(column)].width = width


def style_header(ws: Worksheet, row: int, columns: int) -> None:
    """A bold, filled header row."""
    from openpyxl.styles import Alignment, Font, PatternFill

    bold = Font(bold=True)
    fill = PatternFill(fill_type="solid", start_color=_HEADER_FILL, end_color=_HEADER_FILL)
    for col in range(1, columns + 1):
        cell = ws.cell(row=row, column=col)
        cell.font = bold
        cell.fill = fill
        cell.alignment = Alignment(vertical="center", wrap_text=True)


def print_setup(ws: Worksheet, header_row: int, columns: int, rows: int) -> None:
    """Frozen header, filters over the table, the header repeated on every printed page, landscape, one page wide."""
    from openpyxl.utils import get_column_letter

    last = get_column_letter(max(columns, 1))
    ws.freeze_panes = f"A{header_row + 1}"
    ws.auto_filter.ref = f"A{header_row}:{last}{header_row + max(rows, 1)}"
    ws.print_title_rows = f"{header_row}:{header_row}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    from openpyxl.worksheet.properties import PageSetupProperties

    if ws.sheet_properties.pageSetUpPr is None:
        ws.sheet_properties.pageSetUpPr = PageSetupProperties()
    ws.sheet_properties.pageSetUpPr.fitToPage = True
