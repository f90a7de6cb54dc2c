"""The problem list exported (台账) and imported back; the template; a workbook LibreOffice saved."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

import govflow
from govflow import Actor
from govflow._interop.columns import COLUMNS
from govflow._reports.sheets import text_width
from govflow.testing import FakeClock

from ..conftest import add_units, snapshot
from .office import issue_facts, office_workbook, resave_with_libreoffice

TRICKY = ['=HYPERLINK("http://evil.example","点我")', "+86 0872 电话", "-2 ℃ 冻管", "@SUM(A1)"]


def busy_flow(flow: govflow.Govflow, clock: FakeClock, tmp_path: Path) -> dict[str, str]:
    """The office's list imported, some issues carried on, one overdue, one with a formula-looking title."""
    flow.import_issues(office_workbook(tmp_path / "清单.xlsx"), by="OFFICE")
    ids = {i.title: i.id for i in flow.issues()}
    sewage, lights = ids["村庄污水收集管网覆盖不足"], ids["集镇路灯损坏未修复"]
    flow.implement(sewage, by=Actor("XIANGYUN", "李科长"), note="已铺设管网2公里", evidence=["验收单.pdf", "照片.zip"])
    for unit in flow.get(sewage).cooperating:  # 会签: an imported issue starts as flow.assign starts it
        flow.countersign(sewage, by=unit, note="配合完成")
    flow.report(sewage, by="XIANGYUN", result="管网覆盖率100%")
    flow.verify(sewage, by="OFFICE", rating=4)
    for title in TRICKY:
        flow.assign(title, lead="BINCHUAN", due="2026-12-31", by="OFFICE")
    clock.set("2026-03-20T09:00:00+08:00")  # 学校周边交通秩序 (due 2026-03-16) is four working days late
    return {"sewage": sewage, "lights": lights, "school": ids["学校周边交通秩序"]}


def sheet_of(path: Path) -> Worksheet:
    ws = openpyxl.load_workbook(path).active
    assert isinstance(ws, Worksheet)
    return ws


def shown(cell: Any) -> Any:
    """A cell's value as the sheet shows it (a date cell read back is a datetime)."""
    if cell.is_date and cell.number_format == "yyyy-mm-dd":
        return cell.value.date()
    return cell.value


def rows_by_id(ws: Worksheet) -> dict[str, dict[str, Any]]:
    head = [c.value for c in ws[2]]
    found = {}
    for row in ws.iter_rows(min_row=3, values_only=True):
        record = dict(zip(head, row, strict=True))
        found[record["系统编号"]] = record
    return found


def test_export_then_import_is_nothing_to_do(flow: govflow.Govflow, clock: FakeClock, tmp_path: Path) -> None:
    busy_flow(flow, clock, tmp_path)
    before = snapshot(flow)
    for name in ("台账.xlsx", "台账.csv"):
        path = flow.export_issues(tmp_path / name)
        report = flow.import_issues(path, by="OFFICE")
        assert report.ok and not report.created and not report.updated and not report.steps, report.text()
        assert len(report.unchanged) == len(flow.issues()) == 10
    english = flow.export_issues(tmp_path / "ledger.xlsx", lang="en")
    assert flow.import_issues(english, by="OFFICE").unchanged
    assert snapshot(flow) == before


def test_the_exported_workbook_reads_well(flow: govflow.Govflow, clock: FakeClock, tmp_path: Path) -> None:
    ids = busy_flow(flow, clock, tmp_path)
    ws = sheet_of(flow.export_issues(tmp_path / "台账.xlsx"))
    assert str(ws["A1"].value).startswith("问题清单台账") and "2026年3月20日" in str(ws["A1"].value)
    head = [c.value for c in ws[2]]
    assert head[:9] == [c.zh for c in COLUMNS if c.key != "target"]
    rows = rows_by_id(ws)
    sewage, school = rows[ids["sewage"]], rows[ids["school"]]
    assert sewage["完成时限"] == dt.datetime(2026, 6, 30) and sewage["状态"] == "已销号" and sewage["满意度"] == 4
    assert sewage["最近一步"] == "验收销号" and sewage["最近一步内容"] == "满意度：4"
    assert sewage["最近一步时间"].date() == dt.date(2026, 3, 2)
    assert sewage["牵头单位"] == "祥云县" and sewage["配合单位"] == "下庄镇、宾川县"
    assert school["逾期工作日"] == 4 and school["状态"] == "已交办" and school["编号"] == "5"
    # Dates are date cells, shown as dates.
    due_col = head.index("完成时限") + 1
    for r in range(3, ws.max_row + 1):
        cell = ws.cell(r, due_col)
        assert cell.is_date and cell.number_format == "yyyy-mm-dd"
    # Formula-looking titles stay text.
    titles = {ws.cell(r, 2).value: ws.cell(r, 2) for r in range(3, ws.max_row + 1)}
    for title in TRICKY:
        assert titles[title].data_type == "s"
    # Frozen header, filters, print titles, landscape one page wide.
    assert ws.freeze_panes == "A3"
    assert ws.auto_filter.ref == f"A2:{get_column_letter(len(head))}{ws.max_row}"
    assert ws.print_title_rows == "$2:$2"
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.fitToWidth == 1
    assert ws.page_setup.fitToHeight == 0 and ws.sheet_properties.pageSetUpPr.fitToPage
    # Every column as wide as what it holds (up to the cap, where text wraps); the title fits its merged row.
    widths = [ws.column_dimensions[get_column_letter(c)].width for c in range(1, len(head) + 1)]
    for c, width in enumerate(widths, start=1):
        widest = max(text_width(shown(ws.cell(r, c))) for r in range(2, ws.max_row + 1))
        assert min(widest + 2, 66) <= width <= 66, (head[c - 1], widest, width)
    assert sum(widths) >= text_width(ws["A1"].value)


def test_the_exported_csv_escapes_formulas(flow: govflow.Govflow, clock: FakeClock, tmp_path: Path) -> None:
    busy_flow(flow, clock, tmp_path)
    data = flow.export_issues(tmp_path / "台账.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    titles = [row[1] for row in rows[1:]]
    for title in TRICKY:
        assert "'" + title in titles
    assert all(not t.startswith(("=", "+", "-", "@")) for t in titles)


def test_edit_one_due_date_and_one_lead_then_update(flow: govflow.Govflow, clock: FakeClock, tmp_path: Path) -> None:
    ids = busy_flow(flow, clock, tmp_path)
    path = flow.export_issues(tmp_path / "台账.xlsx")
    book = openpyxl.load_workbook(path)
    ws = book.active
    assert isinstance(ws, Worksheet)
    head = [c.value for c in ws[2]]
    for r in range(3, ws.max_row + 1):
        issue_id = ws.cell(r, head.index("系统编号") + 1).value
        if issue_id == ids["lights"]:
            ws.cell(r, head.index("完成时限") + 1).value = dt.datetime(2026, 8, 31)
        if issue_id == ids["school"]:
            ws.cell(r, head.index("牵头单位") + 1).value = "下庄"
            ws.cell(r, head.index("配合单位") + 1).value = "祥云县"
    book.save(path)
    count = len(flow.ledger())
    report = flow.import_issues(path, by="OFFICE", update=True)
    added = flow.ledger()[count:]
    # The lead change is one 改派; the later due date is the lead unit's request and the office's approval.
    assert [(e.issue_id, e.trigger) for e in added] == [
        (ids["lights"], "request_extension"), (ids["lights"], "approve_extension"), (ids["school"], "reassign")]
    assert sorted(report.updated) == sorted([ids["lights"], ids["school"]]) and len(report.unchanged) == 8
    assert flow.get(ids["lights"]).due == dt.date(2026, 8, 31)
    assert flow.get(ids["school"]).lead == "XIAZHUANG"
    flow.verify_ledger()
    before = snapshot(flow)
    assert not flow.import_issues(path, by="OFFICE", update=True).steps
    assert snapshot(flow) == before


def test_export_filters(flow: govflow.Govflow, clock: FakeClock, tmp_path: Path) -> None:
    ids = busy_flow(flow, clock, tmp_path)
    ws = sheet_of(flow.export_issues(tmp_path / "a.xlsx", state="verified"))
    assert list(rows_by_id(ws)) == [ids["sewage"]] and "已销号" in str(ws["A1"].value)
    ws = sheet_of(flow.export_issues(tmp_path / "b.xlsx", unit="XIAZHUANG"))
    assert len(rows_by_id(ws)) == 3 and "下庄镇" in str(ws["A1"].value)
    # April: the issue closed in March is left out, the open ones stay.
    ws = sheet_of(flow.export_issues(tmp_path / "c.xlsx", period="2026-04"))
    assert ids["sewage"] not in rows_by_id(ws) and len(rows_by_id(ws)) == 9
    ws = sheet_of(flow.export_issues(tmp_path / "d.xlsx", period="2026-03"))
    assert len(rows_by_id(ws)) == 10
    ws = sheet_of(flow.export_issues(tmp_path / "e.xlsx", period="2026-02"))
    assert rows_by_id(ws) == {}
    with pytest.raises(govflow.ValidationError, match="unit"):
        flow.export_issues(tmp_path / "f.xlsx", unit="MARS")
    with pytest.raises(govflow.ValidationError, match="lang"):
        flow.export_issues(tmp_path / "f.xlsx", lang="fr")
    with pytest.raises(govflow.ValidationError, match="path"):
        flow.export_issues(tmp_path / "f.ods")
    with pytest.raises(govflow.ValidationError, match="no folder"):
        flow.export_issues(tmp_path / "missing" / "f.xlsx")
    with pytest.raises(govflow.ValidationError, match="no folder"):
        flow.import_template(tmp_path / "missing" / "t.xlsx")


def test_the_template_lists_units_and_categories(flow: govflow.Govflow, tmp_path: Path) -> None:
    flow.assign("已有", lead="XIANGYUN", due="2026-06-30", by="OFFICE", category="生态环境")
    path = flow.import_template(tmp_path / "模板.xlsx")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["问题清单", "填写说明", "选项"]
    ws, lists = book["问题清单"], book["选项"]
    assert lists.sheet_state == "hidden"
    head = [c.value for c in ws[2]]
    assert head == [c.zh for c in COLUMNS if c.key != "target"]
    units = [lists.cell(r, 1).value for r in range(2, lists.max_row + 1) if lists.cell(r, 1).value]
    assert units == [u.name for u in flow.units()]
    assert lists["B2"].value == "生态环境"
    ranges = {str(v.sqref): (v.formula1, v.errorStyle) for v in ws.data_validations.dataValidation}
    lead = get_column_letter(head.index("牵头单位") + 1)
    coop = get_column_letter(head.index("配合单位") + 1)
    category = get_column_letter(head.index("问题类别") + 1)
    assert ranges[f"{lead}3:{lead}1002"] == (f"'选项'!$A$2:$A${len(units) + 1}", None)
    assert ranges[f"{coop}3:{coop}1002"][1] == "warning"
    assert ranges[f"{category}3:{category}1002"][0] == "'选项'!$B$2:$B$2"
    instructions = [[c.value for c in row] for row in book["填写说明"].iter_rows(min_row=3)]
    assert [row[0].split(" / ")[0] for row in instructions] == [c.zh for c in COLUMNS]
    # A clerk fills it in; it imports.
    ws.append(["T-1", "新问题", None, "生态环境", "宾川县", "下庄镇", "2026年5月1日", "赵", None])
    book.save(path)
    report = flow.import_issues(path, by="OFFICE")
    assert len(report.created) == 1
    english = openpyxl.load_workbook(flow.import_template(tmp_path / "template.xlsx", lang="en"))
    assert english.sheetnames == ["Problem list", "Instructions", "Lists"]
    assert [c.value for c in english["Problem list"][2]][:2] == ["External id", "Title"]


def test_a_workbook_saved_by_libreoffice_imports_the_same(tmp_path: Path) -> None:
    original = office_workbook(tmp_path / "清单.xlsx")
    resaved = resave_with_libreoffice(original, tmp_path / "lo")
    facts = []
    (tmp_path / "out").mkdir()
    for path in (original, resaved):
        clock = FakeClock("2026-03-02T09:00:00+08:00")
        with govflow.open(":memory:", clock=clock) as flow:
            add_units(flow)
            flow.import_issues(path, by="OFFICE")
            facts.append(issue_facts(flow))
            exported = resave_with_libreoffice(flow.export_issues(tmp_path / "out" / "台账.xlsx"), tmp_path / "lo2")
            before = snapshot(flow)
            assert flow.import_issues(exported, by="OFFICE").unchanged
            assert snapshot(flow) == before
    assert facts[0] == facts[1] and len(facts[0]) == 6
