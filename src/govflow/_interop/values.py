"""Cell values as offices write them: text with stray and full-width spaces, numbers stored as text,
dates in five spellings or as working days, units by id, full name or short name."""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from collections.abc import Iterable
from typing import Final

from .._core.model import Unit
from .._core.workdays import WorkingDays

__all__ = ["SPACES", "BadValue", "UnitNames", "cell_text", "fold", "parse_due_cell", "split_units"]

#: Spaces a cell may carry around its text: ordinary, no-break, full-width (U+3000), zero-width, BOM.
SPACES: Final = " \t\r\n\u00a0\u3000\u200b\u200c\u200d\ufeff"
_DATE = re.compile(
    r"^(\d{4})\s*(?:[-/.]|年)\s*(\d{1,2})\s*(?:[-/.]|月)\s*(\d{1,2})\s*日?(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?$"
)
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_WORKING = re.compile(r"^(\d{1,3})\s*个?\s*工作日\s*内?$")
_SEPARATORS = re.compile(r"[、，,;；\n\r]+")
#: Excel's day 0 (serial numbers count from here, with its 1900 leap-year bug before March 1900).
_EXCEL_EPOCH: Final = dt.date(1899, 12, 30)


class BadValue(ValueError):
    """A cell that cannot be read as what its column takes; ``zh`` and ``en`` say why."""

    def __init__(self, zh: str, en: str) -> None:
        self.zh = zh
        self.en = en
        super().__init__(en)


def cell_text(value: object) -> str:
    """The text of a cell as a person reads it: stripped of stray spaces; whole numbers without ``.0``.

    A CSV cell that an export protected from being read as a formula (``'=...``) loses its apostrophe.
    """
    if type(value) is str:
        text = value.strip(SPACES)
        if len(text) > 1 and text[0] == "'" and text[1] in "=+-@":
            return text[1:]
        return text
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value).strip(SPACES)
    if len(text) > 1 and text[0] == "'" and text[1] in "=+-@":
        text = text[1:]
    return text


def fold(text: str) -> str:
    """Text as compared: NFKC (full-width letters, digits and punctuation made plain), no spaces at all."""
    return "".join(unicodedata.normalize("NFKC", text).split())


def parse_due_cell(value: object) -> dt.date | WorkingDays:
    """A due date from a date cell, ``2020-07-31``, ``2020/7/31``, ``2020.7.31``, ``2020年7月31日``,
    ``20200731``, an Excel serial number, or ``10个工作日``; raises :class:`BadValue`."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if type(value) is str:
        return _due_text(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        if float(value).is_integer() and 20000 <= value <= 80000:  # an Excel serial day (1954..2119)
            return _EXCEL_EPOCH + dt.timedelta(days=int(value))
        raise BadValue(f"数字 {cell_text(value)} 不是日期", f"the number {cell_text(value)} is not a date")
    return _due_text(cell_text(value))


@functools.lru_cache(maxsize=4096)  # a long list repeats the same few hundred dates
def _due_text(value: str) -> dt.date | WorkingDays:
    # Full-width digits made plain; spaces inside are kept (they part a date from its time).
    text = unicodedata.normalize("NFKC", cell_text(value)).strip()
    if not text:
        raise BadValue("为空", "empty")
    found = _DATE.match(text) or _COMPACT.match(text)
    if found:
        year, month, day = (int(g) for g in found.groups())
        try:
            return dt.date(year, month, day)
        except ValueError:
            raise BadValue("没有这一天", "no such day") from None
    working = _WORKING.match(text)
    if working:
        count = int(working.group(1))
        if count < 1:
            raise BadValue("工作日数须至少为1", "at least 1 working day")
        return WorkingDays(count)
    if text.isdigit() and 20000 <= int(text) <= 80000:
        return _EXCEL_EPOCH + dt.timedelta(days=int(text))
    raise BadValue("不是日期", "not a date")


def split_units(value: object) -> list[str]:
    """The names in a cooperating-units cell, split at 、 ， , ; ； and newlines."""
    return [part.strip(SPACES) for part in _SEPARATORS.split(cell_text(value)) if part.strip(SPACES)]


class UnitNames:
    """Finds a unit by id, full name, or a unique short name (a prefix, else a part, of one full name)."""

    def __init__(self, units: Iterable[Unit]) -> None:
        self._units = list(units)
        self._exact: dict[str, list[Unit]] = {}
        for unit in self._units:
            for key in {fold(unit.id), fold(unit.name)}:
                self._exact.setdefault(key, []).append(unit)
        self._names = [(fold(unit.name), unit) for unit in self._units]
        self._found: dict[str, Unit] = {}
        # A name two units share (or that is another unit's id) cannot stand for either of them.
        self._shown = {
            unit.id: unit.name if len(self._exact[fold(unit.name)]) == 1 else unit.id for unit in self._units
        }

    def find(self, value: str) -> Unit:
        """The unit ``value`` names; raises :class:`BadValue` naming the candidates when it is ambiguous."""
        hit = self._found.get(value)
        if hit is not None:
            return hit
        key = fold(value)
        if not key:
            raise BadValue("为空", "empty")
        exact = self._exact.get(key, [])
        ids = [u for u in exact if fold(u.id) == key]
        matches = ids or exact
        if not matches and len(key) >= 2:
            matches = [u for name, u in self._names if name.startswith(key)]
            if not matches:
                matches = [u for name, u in self._names if key in name]
        if len(matches) == 1:
            self._found[value] = matches[0]
            return matches[0]
        if not matches:
            raise BadValue("没有这个单位", "no such unit")
        names = "、".join(f"{u.name}（{u.id}）" for u in matches[:5])
        raise BadValue(f"简称不唯一，可指：{names}", f"ambiguous, it could be: {names}")

    def shown(self, unit_id: str) -> str:
        """How a sheet names the unit: its full name when no other unit goes by it, else its id."""
        return self._shown.get(unit_id, unit_id)
