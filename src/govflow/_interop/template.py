"""The import template: a sheet with the headers the import reads, an instructions sheet, and drop-down lists
of the flow's units and categories so a clerk fills in only valid units."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from .._core.errors import ValidationError
from .._reports.sheets import fit_columns, print_setup, put_row, style_header
from .columns import COLUMNS
from .sources import require_openpyxl, writable

__all__ = ["TEMPLATE_ROWS", "write_template"]

_LEAD: Final = next(c for c in COLUMNS if c.key == "lead")
#: How many rows of the data sheet carry the drop-down lists.
TEMPLATE_ROWS: Final = 1000

_HELP_HEAD: Final = {
    "zh": ["列", "是否必填", "可填写的内容", "示例"], "en": ["Column", "Required", "What it takes", "Example"],
}
_TEXT: Final[dict[str, dict[str, str]]] = {
    "zh": {
        "data": "问题清单", "help": "填写说明", "lists": "选项", "title": "问题清单（导入模板）",
        "yes": "必填", "no": "选填",
        "units": "单位", "categories": "问题类别",
        "intro": "每行一个问题。表头行以上可以有标题行和说明；空行会被跳过。单位可写编码、全称或唯一简称；"
                 "同一编号再次导入不会重复交办。",
    },
    "en": {
        "data": "Problem list", "help": "Instructions", "lists": "Lists", "title": "Problem list (import template)",
        "yes": "required", "no": "optional",
        "units": "Units", "categories": "Categories",
        "intro": "One issue a row. Title rows and notes may stand above the header row; empty rows are skipped. "
                 "Units by id, full name or unique short name; importing the same id again assigns nothing twice.",
    },
}


def write_template(path: str | os.PathLike[str], lang: str, units: Sequence[str], categories: Sequence[str]) -> Path:
    """Write the template to ``path`` (``.xlsx``) with drop-downs of ``units`` (names) and ``categories``."""
    if lang not in _TEXT:
        raise ValidationError("lang", f"got {lang!r}", "'zh' or 'en'")
    target = writable(path, (".xlsx",))
    require_openpyxl("path")
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter, quote_sheetname
    from openpyxl.worksheet.datavalidation import DataValidation

    text = _TEXT[lang]
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.title = text["data"]
    columns = [c for c in COLUMNS if c.key != "target"]
    ws.cell(row=1, column=1, value=text["title"]).font = Font(bold=True, size=14)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(columns))
    put_row(ws, 2, [c.header(lang) for c in columns])
    style_header(ws, 2, len(columns))

    help_ws = book.create_sheet(text["help"])
    help_ws.cell(row=1, column=1, value=text["intro"]).alignment = Alignment(wrap_text=True)
    help_ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=4)
    help_ws.row_dimensions[1].height = 48
    put_row(help_ws, 2, _HELP_HEAD[lang])
    style_header(help_ws, 2, 4)
    for number, column in enumerate(COLUMNS, start=3):
        accepts = column.accepts_zh if lang == "zh" else column.accepts_en
        names = [column.header(lang), *column.aliases[:4]]
        put_row(help_ws, number, [" / ".join(names), text["yes" if column.required else "no"], accepts,
                                  column.example])

    lists = book.create_sheet(text["lists"])
    put_row(lists, 1, [text["units"], text["categories"]])
    style_header(lists, 1, 2)
    for number, name in enumerate(units, start=2):
        put_row(lists, number, [name])
    for number, name in enumerate(categories, start=2):
        lists.cell(row=number, column=2, value=name)
    lists.sheet_state = "hidden"

    position = {c.key: i for i, c in enumerate(columns, start=1)}
    last = 2 + TEMPLATE_ROWS
    if units:
        source = f"{quote_sheetname(lists.title)}!$A$2:$A${len(units) + 1}"
        lead = DataValidation(type="list", formula1=source, allow_blank=True, showErrorMessage=True,
                              errorTitle=text["units"], error=_LEAD.accepts_zh if lang == "zh" else _LEAD.accepts_en)
        letter = get_column_letter(position["lead"])
        lead.add(f"{letter}3:{letter}{last}")
        ws.add_data_validation(lead)
        # Several units may share a cell: the list helps, a warning (not a stop) allows the rest.
        coop = DataValidation(type="list", formula1=source, allow_blank=True, showErrorMessage=True,
                              errorStyle="warning", errorTitle=text["units"],
                              error="多个单位用顿号分隔" if lang == "zh" else "separate several units with 、")
        letter = get_column_letter(position["cooperating"])
        coop.add(f"{letter}3:{letter}{last}")
        ws.add_data_validation(coop)
    if categories:
        category = DataValidation(type="list", formula1=f"{quote_sheetname(lists.title)}!$B$2:$B$"
                                  f"{len(categories) + 1}", allow_blank=True, showErrorMessage=True,
                                  errorStyle="warning", errorTitle=text["categories"])
        letter = get_column_letter(position["category"])
        category.add(f"{letter}3:{letter}{last}")
        ws.add_data_validation(category)
    for sheet in (ws, help_ws, lists):
        fit_columns(sheet)
    print_setup(ws, 2, len(columns), TEMPLATE_ROWS)
    book.save(target)
    return target
