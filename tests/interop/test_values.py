"""The cell parsers, against what offices type: every date spelling, working days, headers, unit names."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from govflow import Unit, WorkingDays
from govflow._interop.columns import COLUMNS, column_for
from govflow._interop.values import BadValue, UnitNames, cell_text, parse_due_cell, split_units

FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def spellings(day: dt.date) -> list[object]:
    y, m, d = day.year, day.month, day.day
    return [
        day, dt.datetime(y, m, d), day.isoformat(), f"{y}/{m}/{d}", f"{y}.{m}.{d}", f"{y}年{m}月{d}日",
        f"{y}年{m:02d}月{d:02d}日", f" {y}-{m:02d}-{d:02d}\u3000", f"{y}年{m}月{d}日".translate(FULL_WIDTH),
        f"{y}{m:02d}{d:02d}", f"{y}-{m}-{d} 00:00:00", (day - dt.date(1899, 12, 30)).days,
        float((day - dt.date(1899, 12, 30)).days),
    ]


@given(st.dates(min_value=dt.date(1960, 1, 1), max_value=dt.date(2099, 12, 31)))
def test_every_spelling_of_a_date_reads_as_that_date(day: dt.date) -> None:
    for written in spellings(day):
        assert parse_due_cell(written) == day, written


FORMS = ["{}个工作日", "{} 个工作日", "{}工作日", "{}个工作日内"]


@given(st.integers(min_value=1, max_value=999), st.sampled_from(FORMS))
def test_working_days(count: int, form: str) -> None:
    assert parse_due_cell(form.format(count)) == WorkingDays(count)
    assert parse_due_cell(form.format(count).translate(FULL_WIDTH)) == WorkingDays(count)


@given(st.text(max_size=12))
def test_anything_else_is_a_date_or_a_bad_value(text: str) -> None:
    try:
        parsed = parse_due_cell(text)
    except BadValue as exc:
        assert exc.zh and exc.en
    else:
        assert isinstance(parsed, dt.date | WorkingDays)


@pytest.mark.parametrize("written", ["2026-02-29", "2026/13/1", "明天", "12.5", "2026.6", "0个工作日", True])
def test_bad_dates(written: object) -> None:
    with pytest.raises(BadValue):
        parse_due_cell(written)


def test_headers_match_in_either_language_with_notes_and_marks() -> None:
    for column in COLUMNS:
        for written in (column.zh, column.en, f"*{column.zh}", f"{column.zh}（必填）", f" {column.en.upper()} ",
                        f"{column.zh}：", *column.aliases):
            found = column_for(written)
            assert found is not None and found.key == column.key, written
    assert column_for("备注") is None and column_for(None) is None


def test_cells_as_text() -> None:
    assert cell_text(3.0) == "3" and cell_text(3.5) == "3.5" and cell_text(None) == ""
    assert cell_text("\u3000 祥云县\u00a0") == "祥云县"
    assert cell_text("'=SUM(A1)") == "=SUM(A1)" and cell_text("'quoted'") == "'quoted'"
    parts = ["宾川县", "下庄镇", "祥云", "大理", "洱源", "剑川"]
    assert split_units("宾川县、下庄镇，祥云;大理\n洱源 ； 剑川,") == parts


def test_units_by_id_name_and_unique_short_name() -> None:
    names = UnitNames([
        Unit("XIANGYUN", "祥云县", "county"), Unit("DALIZHOU", "大理州", "prefecture"),
        Unit("DALISHI", "大理市", "county"), Unit("GONGAN", "州公安局", "department"),
        Unit("TWIN1", "同名单位", "department"), Unit("TWIN2", "同名单位", "department"),
    ])
    assert names.find("XIANGYUN").id == names.find("祥云县").id == names.find("祥云").id == "XIANGYUN"
    assert names.find("ＸＩＡＮＧＹＵＮ").id == "XIANGYUN" and names.find("祥 云 县").id == "XIANGYUN"
    assert names.find("公安局").id == "GONGAN"  # a part of one name only
    for ambiguous in ("大理", "同名单位"):
        with pytest.raises(BadValue, match="ambiguous"):
            names.find(ambiguous)
    with pytest.raises(BadValue, match="no such unit"):
        names.find("祥")  # one character is no short name
    assert names.shown("XIANGYUN") == "祥云县" and names.shown("TWIN1") == "TWIN1"
