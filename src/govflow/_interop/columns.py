"""The columns of a problem-list sheet: their Chinese and English headers, the names offices use for them,
and what each accepts (shown in import reports and on the template's instructions sheet)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Final

import attrs

__all__ = ["COLUMNS", "EXPORT_ONLY", "Column", "column_for", "header_key"]


@attrs.frozen
class Column:
    """One column: ``key`` in code, headers ``zh``/``en``, the other names it goes by, and what it takes."""

    key: str
    zh: str
    en: str
    aliases: tuple[str, ...] = ()
    required: bool = False
    accepts_zh: str = ""
    accepts_en: str = ""
    example: str = ""

    def header(self, lang: str) -> str:
        """The header written in ``lang`` (``zh`` or ``en``)."""
        return self.zh if lang == "zh" else self.en


_UNIT_ZH = "已登记单位的编码、全称或唯一简称（如“祥云”指祥云县）"
_UNIT_EN = "a registered unit's id, full name or unique short name (祥云 for 祥云县)"

#: The columns the import reads, in the order the template and the export write them.
COLUMNS: Final = (
    Column("external_id", "编号", "External id", ("序号", "问题编号", "清单编号", "external id", "id", "no", "no."),
           False, "本清单内唯一的编号；空则按表名和行号生成",
           "an id unique in the list; empty: made from the sheet and row",
           "DL-001"),
    Column("title", "问题", "Title", ("标题", "问题标题", "问题名称", "存在问题", "事项", "title", "issue"),
           True, "非空文字", "non-empty text", "村庄污水收集管网覆盖不足"),
    Column("description", "问题描述", "Description", ("具体问题", "问题表现", "描述", "具体表现", "description"),
           False, "文字，可空", "text, may be empty", "3个自然村污水直排"),
    Column("category", "问题类别", "Category", ("类别", "问题类型", "类型", "category"),
           False, "文字，可空", "text, may be empty", "生态环境"),
    Column("lead", "牵头单位", "Lead unit", ("责任单位", "牵头责任单位", "主责单位", "lead", "lead unit"),
           True, _UNIT_ZH, _UNIT_EN, "祥云县"),
    Column("cooperating", "配合单位", "Cooperating units", ("协办单位", "配合责任单位", "cooperating",
                                                          "cooperating units"),
           False, "零个或多个单位，用顿号、逗号、分号或换行分隔；" + _UNIT_ZH,
           "none or several units separated by 、 ， , ; or newlines; each " + _UNIT_EN, "下庄镇、宾川县"),
    Column("due", "完成时限", "Due", ("整改时限", "时限", "完成时间", "整改期限", "办结时限", "due", "due date"),
           True, "日期（日期单元格、2020-07-31、2020/7/31、2020.7.31、2020年7月31日）或“10个工作日”",
           "a date (a date cell, 2020-07-31, 2020/7/31, 2020.7.31, 2020年7月31日) or 10个工作日 (working days)",
           "2026年6月30日"),
    Column("first", "第一责任人", "First responsible", ("first responsible", "first-responsible person"),
           False, "姓名，可空", "a name, may be empty", "王县长"),
    Column("direct", "直接责任人", "Directly responsible", ("directly responsible", "direct responsible",
                                                          "directly-responsible person"),
           False, "姓名，可空", "a name, may be empty", "李科长"),
    Column("target", "目标", "Target", ("目标任务", "target"),
           False, "目标任务编号（按问题计量），可空；只在新建时关联", "a target id (measured by issues), may be empty; "
           "linked when the issue is created", ""),
)

#: Columns the export adds for people; the import knows their headers and leaves them alone.
EXPORT_ONLY: Final = (
    Column("state", "状态", "State", ("办理状态", "当前状态", "state", "status")),
    Column("original_due", "原定时限", "Original due", ("原完成时限", "original due")),
    Column("overdue_days", "逾期工作日", "Overdue working days", ("逾期天数", "overdue working days")),
    Column("extensions", "延期次数", "Extensions", ("extensions",)),
    Column("reworks", "退回重办次数", "Reworks", ("reworks",)),
    Column("rating", "满意度", "Rating", ("rating",)),
    Column("last_step", "最近一步", "Last step", ("last step",)),
    Column("last_at", "最近一步时间", "Last step at", ("last step at",)),
    Column("last_content", "最近一步内容", "Last step content", ("last step content",)),
    Column("issue_id", "系统编号", "Issue id", ("issue id",)),
)

_BRACKETS = re.compile(r"[（(【\[<《][^）)】\]>》]*[）)】\]>》]")
_DROP = re.compile(r"[\s*＊:：]+")


def header_key(text: object) -> str:
    """A header as compared: NFKC, no brackets' notes (``（必填）``), no spaces, stars or colons, lower case."""
    if text is None:
        return ""
    value = unicodedata.normalize("NFKC", str(text))
    value = _BRACKETS.sub("", value)
    return _DROP.sub("", value).casefold()


def _index() -> Mapping[str, Column]:
    found: dict[str, Column] = {}
    for column in (*COLUMNS, *EXPORT_ONLY):
        for name in (column.zh, column.en, *column.aliases):
            found.setdefault(header_key(name), column)
    return found


_BY_NAME: Final = _index()


def column_for(header: object) -> Column | None:
    """The column a header names, or None."""
    return _BY_NAME.get(header_key(header))
