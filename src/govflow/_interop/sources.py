"""Reading a problem-list sheet: an ``.xlsx`` workbook (openpyxl, read-only) or a ``.csv`` file (UTF-8 with or
without BOM, GB18030, UTF-16), its header row found by its names under title rows and notes."""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import os
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Final
from xml.etree.ElementTree import ParseError

import attrs

from .._core.errors import ImportProblem, ValidationError
from .columns import COLUMNS, column_for
from .values import SPACES, cell_text

__all__ = ["SUFFIXES", "Sheet", "read_sheet", "require_openpyxl", "writable"]

#: The file kinds the import reads, by suffix.
SUFFIXES: Final = (".xlsx", ".xlsm", ".csv")
#: How far down the header row is looked for.
_HEADER_SEARCH: Final = 30
#: A row whose only text starts like this is a note under or above the table, not an issue.
_NOTE_STARTS: Final = ("注", "备注", "说明", "填表", "填报", "制表", "审核", "联系人", "note")


@attrs.define
class Sheet:
    """A sheet as read: its name, where its header is, the header text per column key, and the rows
    (number as the spreadsheet shows it, raw value per column key) below it."""

    name: str
    header_row: int
    headers: dict[str, str]
    rows: list[tuple[int, dict[str, Any]]]


def writable(path: str | os.PathLike[str], suffixes: tuple[str, ...]) -> Path:
    """``path`` as a :class:`Path` to write, or :class:`ValidationError` for a wrong kind or a missing folder."""
    target = Path(path)
    if target.suffix.lower() not in suffixes:
        raise ValidationError("path", f"{target.name}: cannot write files of kind {target.suffix or '(none)'!r}",
                              "a path ending in " + " or ".join(suffixes))
    if not target.parent.is_dir():
        raise ValidationError("path", f"no folder {str(target.parent)!r}", "a path in an existing folder")
    return target


def require_openpyxl(purpose: str) -> None:
    """Raise :class:`ValidationError` saying how to install openpyxl when it is missing."""
    try:
        import openpyxl  # noqa: F401
    except ImportError as exc:
        raise ValidationError(purpose, "spreadsheets need openpyxl, which is not installed",
                              "pip install 'govflow[sheets]'") from exc


def read_sheet(source: str | os.PathLike[str], sheet: str | None) -> tuple[Sheet | None, list[ImportProblem]]:
    """The sheet ``sheet`` of ``source`` (the first with a header row when None) and the problems of its header."""
    path = Path(source)
    suffix = path.suffix.lower()
    if suffix in (".xls", ".et"):
        raise ValidationError("source", f"{path.name}: an old Excel or WPS workbook ({suffix}) cannot be read",
                              "the file saved again as .xlsx (另存为 Excel 工作簿 .xlsx) or .csv")
    if suffix not in SUFFIXES:
        raise ValidationError("source", f"{path.name}: files of kind {suffix or '(none)'!r} are not read",
                              "an .xlsx or .csv file")
    if not path.is_file():
        raise ValidationError("source", f"no file {str(path)!r}", "the path of an .xlsx or .csv file")
    if suffix == ".csv":
        if sheet is not None and sheet != path.stem:
            raise ValidationError("sheet", f"a CSV file has one sheet, {path.stem!r}; got {sheet!r}", "None")
        return _table(path.stem, _csv_rows(path))
    require_openpyxl("source")
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        return _workbook(path, sheet)
    except (zipfile.BadZipFile, InvalidFileException, ParseError, KeyError, OSError, ValueError, TypeError) as exc:
        if isinstance(exc, ValidationError):
            raise
        raise ValidationError("source", f"{path.name} is not a readable xlsx workbook ({type(exc).__name__}: {exc})",
                              "an .xlsx file saved by Excel, WPS or LibreOffice") from None


def _workbook(path: Path, wanted: str | None) -> tuple[Sheet | None, list[ImportProblem]]:
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        names = list(book.sheetnames)
        if wanted is not None and wanted not in names:
            raise ValidationError("sheet", f"{path.name} has no sheet {wanted!r}", ", ".join(names))
        first: tuple[Sheet | None, list[ImportProblem]] | None = None
        for name in [wanted] if wanted is not None else names:
            ws = book[name]
            if not hasattr(ws, "iter_rows"):
                continue  # a chart sheet
            reset = getattr(ws, "reset_dimensions", None)
            if reset is not None:
                reset()  # some writers record a wrong size; read what is there
            found = _table(name, ((n, list(r)) for n, r in enumerate(ws.iter_rows(values_only=True), start=1)))
            if found[0] is not None:
                return found
            first = first or found
        return first or (None, [_problem(path.name, 0, "没有工作表", "no worksheet")])
    finally:
        book.close()


def _decode(data: bytes) -> str:
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8):].decode("utf-8", errors="replace")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("gb18030", errors="replace")  # what Chinese Windows (Excel, WPS) writes


def _csv_rows(path: Path) -> Iterator[tuple[int, list[Any]]]:
    text = _decode(path.read_bytes())
    first = text.split("\n", 1)[0]
    delimiter = "\t" if first.count("\t") > first.count(",") else ","
    for number, record in enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), start=1):
        yield number, list(record)


def _problem(sheet: str, row: int, zh: str, en: str, column: str = "", value: str = "",
             accepted_zh: str = "", accepted_en: str = "") -> ImportProblem:
    return ImportProblem(sheet, row, column, value, zh, en, accepted_zh or "—", accepted_en or "—")


def _skipped(values: Sequence[Any]) -> bool:
    """Whether a row is empty (blank cells only) or a note: one cell of text that starts like one."""
    filled = [v for v in values if v is not None and v != ""]
    if all(isinstance(v, str) and not v.strip(SPACES) for v in filled):
        return True
    return len(filled) == 1 and cell_text(filled[0]).lower().startswith(_NOTE_STARTS)


def _table(name: str, rows: Iterable[tuple[int, list[Any]]]) -> tuple[Sheet | None, list[ImportProblem]]:
    """Find the header row among the first rows, then take every row below it that has content."""
    iterator = iter(rows)
    header: tuple[int, list[Any]] | None = None
    for number, values in iterator:
        keys = [c.key for c in map(column_for, values) if c is not None]
        if len(keys) >= 2 and ({"title", "lead", "due"} & set(keys)):
            header = number, values
            break
        if number >= _HEADER_SEARCH:
            break
    if header is None:
        names = "、".join(c.zh for c in COLUMNS if c.required)
        return None, [_problem(
            name, 0, f"前{_HEADER_SEARCH}行中没有表头行", f"no header row in the first {_HEADER_SEARCH} rows",
            accepted_zh=f"一行表头，至少含 {names}（或其英文名）",
            accepted_en="a header row with at least " + ", ".join(c.en for c in COLUMNS if c.required),
        )]
    header_row, cells = header
    # A two-row header: a group (责任人) merged over the columns named in the row below it.
    following = next(iterator, None)
    if following is not None:
        filled = [(i, v) for i, v in enumerate(following[1]) if cell_text(v)]
        if filled and all(column_for(v) is not None and (i >= len(cells) or column_for(cells[i]) is None)
                          for i, v in filled):
            cells = [*cells, *[None] * (len(following[1]) - len(cells))]
            for i, v in filled:
                cells[i] = v
        else:
            iterator = itertools.chain([following], iterator)
    problems: list[ImportProblem] = []
    positions: dict[str, int] = {}
    headers: dict[str, str] = {}
    for index, value in enumerate(cells):
        column = column_for(value)
        if column is None:
            continue
        written = cell_text(value)
        if column.key in positions:
            problems.append(_problem(name, header_row, "表头重复", "the header appears twice", written, written,
                                     f"每列一次：{column.zh}", f"each column once: {column.en}"))
            continue
        positions[column.key] = index
        headers[column.key] = written
    for column in COLUMNS:
        if column.required and column.key not in positions:
            problems.append(_problem(name, header_row, f"缺少必填列“{column.zh}”",
                                     f"the column {column.en!r} is missing",
                                     accepted_zh=f"表头“{column.zh}”或其别名：{'、'.join(column.aliases)}",
                                     accepted_en=f"a header {column.en!r} or one of {', '.join(column.aliases)}"))
    table: list[tuple[int, dict[str, Any]]] = []
    wanted = [(key, index) for key, index in positions.items() if column_for(cells[index]) in COLUMNS]
    for number, values in iterator:
        if _skipped(values):
            continue
        table.append((number, {key: values[index] if index < len(values) else None for key, index in wanted}))
    return Sheet(name, header_row, {k: headers[k] for k, _ in wanted}, table), problems
