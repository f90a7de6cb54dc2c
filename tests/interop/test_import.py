"""Importing an office's problem list: the sheet as offices make it, every store, all or nothing, idempotent."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import openpyxl
import pytest

import govflow
from govflow import Actor, ImportRejected, Responsible, working_days

from ..conftest import UNIT_ENTRIES, refused, snapshot
from .office import ROWS, data_rows, issue_facts, office_csv, office_workbook

EXPECTED = [
    ("003", "农贸市场占道经营", "早市占道", "市场秩序", "XIANGYUN", ("BINCHUAN", "XIAZHUANG"), dt.date(2026, 8, 15),
     Responsible("王县长", "张站长"), "assigned"),
    ("1", "村庄污水收集管网覆盖不足", "3个自然村污水直排", "生态环境", "XIANGYUN", ("BINCHUAN", "XIAZHUANG"),
     dt.date(2026, 6, 30), Responsible("王县长", "李科长"), "assigned"),
    ("2", "集镇路灯损坏未修复", "", "基础设施", "BINCHUAN", (), dt.date(2026, 7, 31), None, "assigned"),
    ("4", "垃圾清运不及时", "", "生态环境", "XIAZHUANG", (), dt.date(2026, 9, 1), None, "assigned"),
    # Ten working days from Monday 2026-03-02.
    ("5", "学校周边交通秩序", "", None, "BINCHUAN", ("XIANGYUN",), dt.date(2026, 3, 16), None, "assigned"),
    # An Excel serial day number typed into a general cell.
    ("6", "饮用水源地保护", "", "生态环境", "XIANGYUN", (), dt.date(2026, 6, 30), None, "assigned"),
]


def test_an_office_workbook_imports_on_every_store(flow: govflow.Govflow, tmp_path: Path) -> None:
    path = office_workbook(tmp_path / "清单.xlsx")
    seen: list[tuple[int, int]] = []
    report = flow.import_issues(path, by=Actor("OFFICE", "张主任"),
                                progress=lambda done, total: seen.append((done, total)))
    assert report.ok and report.sheet == "问题清单" and report.rows == 6
    assert len(report.created) == 6 and not report.updated and not report.unchanged
    assert seen[-1] == (6, 6)
    assert issue_facts(flow) == EXPECTED
    entries = flow.ledger()[UNIT_ENTRIES:]  # after the units' registrations
    assert [e.trigger for e in entries] == ["assign"] * 6
    assert {e.actor for e in entries} == {"OFFICE"} and {e.person for e in entries} == {"张主任"}
    # The external id lives in the assign entry, so the chain covers it.
    assert sorted(e.data["external_id"] for e in entries) == ["003", "1", "2", "4", "5", "6"]
    by_title = {i.title: i for i in flow.issues()}
    assert by_title["学校周边交通秩序"].due_basis == (dt.date(2026, 3, 2), 10)
    flow.verify_ledger()


def test_the_same_file_again_creates_nothing(flow: govflow.Govflow, tmp_path: Path) -> None:
    path = office_workbook(tmp_path / "清单.xlsx")
    first = flow.import_issues(path, by="OFFICE")
    before = snapshot(flow)
    again = flow.import_issues(path, by="OFFICE")
    assert snapshot(flow) == before
    assert not again.created and not again.updated and sorted(again.unchanged) == sorted(first.created)


def test_two_imports_of_one_list_at_once_give_each_row_one_issue(
    flow: govflow.Govflow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The other import lands between this one's reading of the ledger and its write: the store refuses the
    rows it gave issues to (ConcurrentUpdateError naming one), nothing of this import is written, and it reads
    the list again and finds every row done."""
    path = office_workbook(tmp_path / "清单.xlsx")
    read, raised = flow._known, []

    def racing(wanted: Any) -> Any:
        found = read(wanted)
        if not raised and not found:
            raised.append(None)
            flow.import_issues(path, by=Actor("OFFICE", "另一位督查员"))  # the other import, committed first
        return found

    commit_many = flow.store.commit_many

    def watched(works: Any) -> Any:
        try:
            return commit_many(works)
        except govflow.ConcurrentUpdateError as exc:
            raised.append(exc)
            raise

    monkeypatch.setattr(flow, "_known", racing)
    monkeypatch.setattr(flow.store, "commit_many", watched)
    report = flow.import_issues(path, by="OFFICE")
    assert not report.created and len(report.unchanged) == 6, report.text("en")
    conflict = raised[1]
    assert isinstance(conflict, govflow.ConcurrentUpdateError) and conflict.issue_id.startswith("GF-")
    assigns = [e for e in flow.ledger() if e.trigger == "assign"]
    assert len(assigns) == 6 and {e.person for e in assigns} == {"另一位督查员"}
    assert len({e.data["external_id"] for e in assigns}) == 6
    flow.verify_ledger()


def test_a_gb18030_csv_imports_the_same(flow: govflow.Govflow, tmp_path: Path) -> None:
    path = office_csv(tmp_path / "清单.csv")
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")  # really GB18030
    report = flow.import_issues(path, by="OFFICE")
    assert report.ok and report.sheet == "清单" and len(report.created) == 6
    assert issue_facts(flow) == EXPECTED


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16"])
def test_csv_in_utf8_with_or_without_bom(tmp_path: Path, clock: Any, encoding: str) -> None:
    with govflow.open(":memory:", clock=clock) as flow:
        from ..conftest import add_units

        add_units(flow)
        flow.import_issues(office_csv(tmp_path / "list.csv", encoding=encoding), by="OFFICE")
        assert issue_facts(flow) == EXPECTED


def test_english_headers_in_any_order(flow: govflow.Govflow, tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    ws = book.active
    assert ws is not None
    ws.append(["Due date", "Lead unit", "Title", "External ID", "Cooperating units", "Category"])
    ws.append(["2026-05-01", "Xiangyun", "Street lights", "EN-1", "BINCHUAN;XIAZHUANG", "infrastructure"])
    ws.append([dt.date(2026, 5, 2), "宾川县", "Market", "EN-2", None, None])
    book.save(tmp_path / "en.xlsx")
    flow.add_unit("DALI", "Dali city", level="county", parent="OFFICE")
    # "Xiangyun" is not a name here: the report says so, and nothing is written.
    error = refused(flow, ImportRejected, lambda: flow.import_issues(tmp_path / "en.xlsx", by="OFFICE"))
    assert isinstance(error, ImportRejected)
    assert [(p.row, p.column, p.value) for p in error.problems] == [(2, "Lead unit", "Xiangyun")]
    ws["B2"] = "xiangyun"  # ids are matched as written, after full-width folding: this is the id in lower case
    ws["B2"] = "XIANGYUN"
    book.save(tmp_path / "en.xlsx")
    report = flow.import_issues(tmp_path / "en.xlsx", by="OFFICE")
    assert len(report.created) == 2
    lights = next(i for i in flow.issues() if i.title == "Street lights")
    assert lights.cooperating == ("BINCHUAN", "XIAZHUANG") and lights.category == "infrastructure"


BAD_ROWS: list[tuple[list[Any], str, str]] = [
    # (row, the header the problem names, what the English problem says)
    (["B1", "", "", "祥云县", "", "2026-06-30", "", "", ""], "问题", "the title is empty"),
    (["B2", "\u3000 ", "", "祥云县", "", "2026-06-30", "", "", ""], "问题", "the title is empty"),
    (["B3", "t", "", "火星县", "", "2026-06-30", "", "", ""], "牵头单位", "no such unit"),
    (["B4", "t", "", "", "", "2026-06-30", "", "", ""], "牵头单位", "empty"),
    (["B5", "t", "", "大理", "", "2026-06-30", "", "", ""], "牵头单位", "ambiguous"),
    (["B6", "t", "", 123, "", "2026-06-30", "", "", ""], "牵头单位", "no such unit"),
    (["B7", "t", "", "祥云县", "火星县", "2026-06-30", "", "", ""], "配合单位", "no such unit"),
    (["B8", "t", "", "祥云县", "宾川县、祥云", "2026-06-30", "", "", ""], "配合单位", "is the lead unit"),
    (["B9", "t", "", "祥云县", "", "明年六月", "", "", ""], "完成时限（必填）", "not a date"),
    (["B10", "t", "", "祥云县", "", "2026-02-30", "", "", ""], "完成时限（必填）", "no such day"),
    (["B11", "t", "", "祥云县", "", "2025-12-31", "", "", ""], "完成时限（必填）", "before today"),
    (["B12", "t", "", "祥云县", "", "", "", "", ""], "完成时限（必填）", "empty"),
    (["B13", "t", "", "祥云县", "", "0个工作日", "", "", ""], "完成时限（必填）", "at least 1 working day"),
    (["B14", "t", "", "祥云县", "", 12.5, "", "", ""], "完成时限（必填）", "is not a date"),
    (["B15", "t", "", "祥云县", "", "2026/13/1", "", "", ""], "完成时限（必填）", "no such day"),
    (["B16", "t", "", "祥云县", "", "2026.6", "", "", ""], "完成时限（必填）", "not a date"),
    (["B17", "t", "", "祥云县", "", dt.datetime(2020, 7, 31), "", "", ""], "完成时限（必填）", "before today"),
    (["B18", "t", "", "宾", "", "2026-06-30", "", "", ""], "牵头单位", "no such unit"),
    (["B1", "t", "", "祥云县", "", "2026-06-30", "", "", ""], "序号", "the same id as row"),
    (["B20", "t", "", "祥云县", "宾川县、，火星", "2026-06-30", "", "", ""], "配合单位", "no such unit"),
]


def test_twenty_bad_rows_are_all_reported_and_nothing_is_written(flow: govflow.Govflow, tmp_path: Path) -> None:
    flow.add_unit("DALIZHOU", "大理州", level="prefecture")
    flow.add_unit("DALISHI", "大理市", level="county", parent="DALIZHOU")
    good = [["G1", "好的一行", "", "祥云县", "", "2026-06-30", "", "", ""]]
    path = office_workbook(tmp_path / "bad.xlsx", rows=[*good, *(row for row, _, _ in BAD_ROWS)])
    numbers = data_rows(path)
    error = refused(flow, ImportRejected, lambda: flow.import_issues(path, by="OFFICE"))
    assert isinstance(error, ImportRejected) and isinstance(error, govflow.ValidationError)
    problems = error.problems
    assert len(problems) == 20
    for problem, number, (_, column, said) in zip(problems, numbers[1:], BAD_ROWS, strict=True):
        assert (problem.sheet, problem.row, problem.column) == ("问题清单", number, column), problem
        assert said in problem.problem, problem
        assert problem.problem_zh and problem.accepted and problem.accepted_zh
        assert problem.text("zh").startswith(f"问题清单 第{number}行 {column}")
    ambiguous = next(p for p in problems if "ambiguous" in p.problem)
    assert "大理州（DALIZHOU）" in ambiguous.problem_zh and "大理市（DALISHI）" in ambiguous.problem_zh
    assert "20 problems" in str(error)
    # A dry run gives the same report and writes nothing either.
    before = snapshot(flow)
    report = flow.import_issues(path, by="OFFICE", dry_run=True)
    assert snapshot(flow) == before
    assert report.problems == problems and not report.ok and report.dry_run
    assert report.created == ("G1",)


def test_a_dry_run_of_a_good_sheet_says_what_it_would_do(flow: govflow.Govflow, tmp_path: Path) -> None:
    path = office_workbook(tmp_path / "清单.xlsx")
    before = snapshot(flow)
    report = flow.import_issues(path, by="OFFICE", dry_run=True)
    assert snapshot(flow) == before
    assert report.ok and report.created == ("1", "2", "003", "4", "5", "6")
    assert "新建6项" in report.text("zh") and "6 created" in report.text("en")


def test_a_sheet_without_header_or_required_columns(flow: govflow.Govflow, tmp_path: Path) -> None:
    path = tmp_path / "nothing.csv"
    path.write_text("随便,写写\n1,2\n", encoding="utf-8")
    error = refused(flow, ImportRejected, lambda: flow.import_issues(path, by="OFFICE"))
    assert isinstance(error, ImportRejected)
    assert [p.row for p in error.problems] == [0] and "header" in error.problems[0].problem
    path.write_text("问题,牵头单位,问题\n路灯,祥云县,路灯\n", encoding="utf-8")
    error = refused(flow, ImportRejected, lambda: flow.import_issues(path, by="OFFICE"))
    assert isinstance(error, ImportRejected)
    assert sorted(p.problem for p in error.problems) == ["the column 'Due' is missing", "the header appears twice"]


def test_bad_arguments_are_refused_before_reading(flow: govflow.Govflow, tmp_path: Path) -> None:
    path = office_workbook(tmp_path / "清单.xlsx")
    with pytest.raises(govflow.PermissionDenied):
        flow.import_issues(path, by="XIANGYUN")
    with pytest.raises(govflow.ValidationError, match="sheet"):
        flow.import_issues(path, by="OFFICE", sheet="Sheet9")
    with pytest.raises(govflow.ValidationError, match="kind"):
        flow.import_issues(tmp_path / "list.docx", by="OFFICE")
    with pytest.raises(govflow.ValidationError, match="no file"):
        flow.import_issues(tmp_path / "missing.xlsx", by="OFFICE")
    with pytest.raises(govflow.ValidationError, match="dry_run"):
        flow.import_issues(path, by="OFFICE", dry_run="yes")  # type: ignore[arg-type]
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a zip")
    with pytest.raises(govflow.ValidationError, match="not a readable xlsx"):
        flow.import_issues(broken, by="OFFICE")
    assert flow.issues() == []


def test_a_row_without_an_id_gets_one_from_the_sheet_and_row(flow: govflow.Govflow, tmp_path: Path) -> None:
    rows = [[None, *row[1:]] for row in ROWS[:2]]
    path = office_workbook(tmp_path / "清单.xlsx", rows=rows)
    flow.import_issues(path, by="OFFICE")
    assert [f[0] for f in issue_facts(flow)] == ["问题清单#5", "问题清单#6"]
    assert not flow.import_issues(path, by="OFFICE").created


def test_a_changed_row_is_a_conflict_unless_update(flow: govflow.Govflow, tmp_path: Path) -> None:
    path = office_workbook(tmp_path / "清单.xlsx")
    flow.import_issues(path, by="OFFICE")
    rows = [list(r) for r in ROWS]
    rows[1][3] = "祥云县"  # 路灯 goes to Xiangyun
    rows[3][5] = "2026年10月8日"  # 垃圾清运 later
    rows[4][1] = "学校周边交通秩序整治"  # a title no step can change
    changed = office_workbook(tmp_path / "改.xlsx", rows=rows)
    error = refused(flow, ImportRejected, lambda: flow.import_issues(changed, by="OFFICE"))
    assert isinstance(error, ImportRejected)
    assert [(p.column, p.value) for p in error.problems] == [
        ("牵头单位", "祥云县"), ("完成时限（必填）", "2026年10月8日"), ("问题", "学校周边交通秩序整治")]
    assert "update=True" in error.problems[0].accepted
    # With update the title still cannot change: nothing is written.
    error = refused(flow, ImportRejected, lambda: flow.import_issues(changed, by="OFFICE", update=True))
    assert isinstance(error, ImportRejected)
    assert [p.column for p in error.problems] == ["问题"]
    rows[4][1] = ROWS[4][1]
    changed = office_workbook(tmp_path / "改.xlsx", rows=rows)
    count = len(flow.ledger())
    report = flow.import_issues(changed, by=Actor("OFFICE", "张主任"), update=True)
    steps = flow.ledger()[count:]
    assert [(e.trigger, e.actor) for e in steps] == [
        ("reassign", "OFFICE"), ("request_extension", "XIAZHUANG"), ("approve_extension", "OFFICE")]
    assert report.steps == tuple((e.issue_id, e.trigger) for e in steps)
    lights = next(i for i in flow.issues() if i.title == "集镇路灯损坏未修复")
    assert lights.lead == "XIANGYUN"
    bins = next(i for i in flow.issues() if i.title == "垃圾清运不及时")
    assert bins.due == dt.date(2026, 10, 8) and bins.original_due == dt.date(2026, 9, 1) and bins.extension_count == 1
    assert all("改.xlsx" in e.data.get("reason", e.data.get("note", "")) for e in steps)
    flow.verify_ledger()
    # Applied: the same sheet again is nothing to do.
    before = snapshot(flow)
    assert not flow.import_issues(changed, by="OFFICE", update=True).steps
    assert snapshot(flow) == before


def test_an_update_the_lifecycle_refuses_is_a_problem(flow: govflow.Govflow, tmp_path: Path) -> None:
    path = office_workbook(tmp_path / "清单.xlsx", rows=ROWS[:2])
    flow.import_issues(path, by="OFFICE")
    first = next(i for i in flow.issues() if i.title.startswith("村庄"))
    flow.implement(first.id, by="XIANGYUN", note="铺设管网")  # no longer assigned: no reassign
    rows = [list(r) for r in ROWS[:2]]
    rows[0][3:5] = ["宾川县", "下庄镇"]  # 改派 drops the new lead from the cooperating units
    rows[1][5] = "2026-07-01"  # earlier: a due date only moves later
    changed = office_workbook(tmp_path / "改.xlsx", rows=rows)
    error = refused(flow, ImportRejected, lambda: flow.import_issues(changed, by="OFFICE", update=True))
    assert isinstance(error, ImportRejected)
    assert [p.column for p in error.problems] == ["牵头单位", "完成时限（必填）"]
    assert "implemented" in error.problems[0].problem and "only moves later" in error.problems[1].problem


def test_issues_assigned_in_govflow_are_found_by_their_id(flow: govflow.Govflow, tmp_path: Path) -> None:
    issue = flow.assign("已有问题", lead="XIANGYUN", due=working_days(5), by="OFFICE")
    path = tmp_path / "list.csv"
    path.write_text(f"编号,问题,牵头单位,完成时限\n{issue.id},已有问题,祥云县,5个工作日\n", encoding="utf-8")
    report = flow.import_issues(path, by="OFFICE")
    assert report.unchanged == (issue.id,) and not report.created


def test_a_plugin_veto_is_a_problem_of_its_row(tmp_path: Path, clock: Any) -> None:
    class NoMarkets:
        name = "no-markets"

        @govflow.hookimpl
        def govflow_before_transition(self, event: govflow.ProposedTransition) -> None:
            if "市场" in event.new.title:
                raise govflow.TransitionVetoed("markets are another office's")

    with govflow.open(":memory:", clock=clock, plugins=[NoMarkets()]) as flow:
        from ..conftest import add_units

        add_units(flow)
        path = office_workbook(tmp_path / "清单.xlsx")
        error = refused(flow, ImportRejected, lambda: flow.import_issues(path, by="OFFICE"))
        assert isinstance(error, ImportRejected)
        assert len(error.problems) == 1 and "another office" in error.problems[0].problem


def test_header_rows_and_sheets_are_found(flow: govflow.Govflow, tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    cover = book.active
    assert cover is not None
    cover.title = "封面"
    cover["B2"] = "说明：本表第二页为清单"
    ws = book.create_sheet("清单")
    ws["C5"] = "问题"  # rows 1-4 never written, the table starts in column C
    ws["D5"] = "牵头单位"
    ws["E5"] = "完成时限"
    ws["C6"] = "路灯"
    ws["D6"] = "祥云县"
    ws["E6"] = "2026-06-30"
    book.save(tmp_path / "two.xlsx")
    report = flow.import_issues(tmp_path / "two.xlsx", by="OFFICE")
    assert report.sheet == "清单" and [f[0] for f in issue_facts(flow)] == ["清单#6"]
    dry = flow.import_issues(tmp_path / "two.xlsx", by="OFFICE", sheet="封面", dry_run=True)
    assert [p.sheet for p in dry.problems] == ["封面"] and not dry.ok


def test_a_two_row_header_with_a_merged_group(flow: govflow.Govflow, tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    ws = book.active
    assert ws is not None
    ws.append(["序号", "问题", "牵头单位", "责任人", None, "完成时限"])
    ws.merge_cells("D1:E1")
    ws.merge_cells("A1:A2")
    ws.append([None, None, None, "第一责任人", "直接责任人", None])
    ws.append(["1", "路灯", "祥云", "王县长", "李科长", "2026-06-30"])
    book.save(tmp_path / "two-row.xlsx")
    flow.import_issues(tmp_path / "two-row.xlsx", by="OFFICE")
    assert issue_facts(flow) == [("1", "路灯", "", None, "XIANGYUN", (), dt.date(2026, 6, 30),
                                  Responsible("王县长", "李科长"), "assigned")]


def test_an_old_excel_file_is_refused_with_what_to_do(flow: govflow.Govflow, tmp_path: Path) -> None:
    (tmp_path / "清单.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(govflow.ValidationError, match=r"saved again as \.xlsx"):
        flow.import_issues(tmp_path / "清单.xls", by="OFFICE")


def test_names_govflow_lacks_are_a_note_not_a_change(flow: govflow.Govflow, tmp_path: Path) -> None:
    rows = [list(ROWS[1])]
    flow.import_issues(office_workbook(tmp_path / "a.xlsx", rows=rows), by="OFFICE")
    rows[0][6] = "赵镇长"  # 第一责任人, which govflow does not have for this issue
    before = snapshot(flow)
    report = flow.import_issues(office_workbook(tmp_path / "b.xlsx", rows=rows), by="OFFICE", update=True)
    assert snapshot(flow) == before
    assert report.ok and len(report.unchanged) == 1
    assert [(n.column, n.value) for n in report.notes] == [("第一责任人", "赵镇长")]
    assert "cannot add" in report.notes[0].problem and "赵镇长" in report.text("zh")


def test_the_external_id_is_sealed_in_the_chain(tmp_path: Path, clock: Any) -> None:
    import sqlite3

    path = tmp_path / "flow.sqlite3"
    with govflow.open(path, clock=clock) as flow:
        from ..conftest import add_units

        add_units(flow)
        flow.import_issues(office_workbook(tmp_path / "清单.xlsx"), by="OFFICE")
        flow.verify_ledger()
    db = sqlite3.connect(path)
    db.execute("DROP TRIGGER ledger_no_update")
    changed = db.execute("UPDATE ledger SET data = replace(data, '\"external_id\":\"003\"', '\"external_id\":\"9\"')"
                         " WHERE data LIKE '%\"external_id\":\"003\"%'")
    assert changed.rowcount == 1
    db.commit()
    db.close()
    with govflow.open(path, clock=clock) as flow, pytest.raises(govflow.LedgerCorrupted):
        flow.verify_ledger()


def test_two_rows_for_one_issue_are_a_problem(flow: govflow.Govflow, tmp_path: Path) -> None:
    flow.import_issues(office_workbook(tmp_path / "a.xlsx", rows=ROWS[:1]), by="OFFICE")
    issue = flow.issues()[0]
    twice = [list(ROWS[0]), [issue.id, *ROWS[0][1:]]]  # by its 编号, then by govflow's id
    error = refused(flow, ImportRejected,
                    lambda: flow.import_issues(office_workbook(tmp_path / "b.xlsx", rows=twice), by="OFFICE"))
    assert isinstance(error, ImportRejected)
    assert [(p.row, p.value) for p in error.problems] == [(6, issue.id)]
    assert "the same issue" in error.problems[0].problem


def test_a_damaged_workbook_is_a_validation_error(flow: govflow.Govflow, tmp_path: Path) -> None:
    import zipfile

    good = office_workbook(tmp_path / "good.xlsx")
    damaged = tmp_path / "damaged.xlsx"
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(damaged, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename.startswith("xl/worksheets/sheet"):
                data = data[: len(data) // 2]  # cut off half way
            target.writestr(item, data)
    with pytest.raises(govflow.ValidationError, match="not a readable xlsx"):
        flow.import_issues(damaged, by="OFFICE")
    assert flow.issues() == []


def test_a_target_cell_links_a_new_issue_to_a_plan_target(flow: govflow.Govflow, tmp_path: Path) -> None:
    """目标: a new issue is linked to a target measured by issues, as ``assign(..., target=...)`` links it."""
    plan = flow.add_plan("试点方案", by="OFFICE", phases=[("建机制", "2026-12-31")])
    flow.activate_plan(plan.id, by="OFFICE")
    top = flow.add_target(plan.id, "问题清单交办", unit="XIANGYUN", phase="建机制", by="OFFICE", measure="issues")
    reported = flow.add_target(plan.id, "自报进度", unit="XIANGYUN", phase="建机制", by="OFFICE")
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "编号,问题,牵头单位,完成时限,目标\n"
        f"1,积水,祥云县,2026-06-30,{reported.id}\n"  # measured by reports: no link
        f"2,噪音,宾川县,2026-06-30,{top.id}\n"  # another county's lead
        "3,路灯,祥云县,2026-06-30,TG-2026-0999\n",  # no such target
        encoding="utf-8",
    )
    before = snapshot(flow)
    with pytest.raises(ImportRejected) as info:
        flow.import_issues(bad, by="OFFICE")
    assert [(p.row, p.column) for p in info.value.problems] == [(2, "目标"), (3, "目标"), (4, "目标")]
    assert snapshot(flow) == before
    good = tmp_path / "good.csv"
    good.write_text(f"编号,问题,牵头单位,完成时限,目标\n1,积水,祥云县,2026-06-30,{top.id}\n2,噪音,下庄镇,2026-06-30,\n",
                    encoding="utf-8")
    report = flow.import_issues(good, by="OFFICE")
    linked = flow.get(report.created[0]) if report.created else None
    assert linked is not None and len(report.created) == 2
    assert flow.ledger(linked.id)[0].data["target"] == top.id
    assert "target" not in flow.ledger(report.created[1])[0].data
    for trigger, by, data in (("implement", "XIANGYUN", {"note": "n"}), ("report", "XIANGYUN", {"result": "r"}),
                              ("verify", "OFFICE", {})):
        flow.fire(linked.id, trigger, by=by, **data)
    assert flow.target(top.id).progress == 100
    assert flow.verify_ledger().entries == len(flow.ledger())


def test_text_cells_pass_the_text_rule_at_the_door(flow: govflow.Govflow, tmp_path: Path) -> None:
    """A title or name with a control character is a problem of its cell, as flow.assign refuses it."""
    path = tmp_path / "controls.csv"
    path.write_text("编号,问题,牵头单位,完成时限,第一责任人,问题类别\n"
                    "1,积水\x07,祥云县,2026-06-30,,\n"
                    "2,噪音,祥云县,2026-06-30,王\x1b[31m县长,\n"
                    f"3,路灯,祥云县,2026-06-30,,{'类' * 300}\n", encoding="utf-8")
    before = snapshot(flow)
    with pytest.raises(ImportRejected) as info:
        flow.import_issues(path, by="OFFICE")
    assert [(p.row, p.column) for p in info.value.problems] == [(2, "问题"), (3, "第一责任人"), (4, "问题类别")]
    assert snapshot(flow) == before


def test_an_imported_issue_starts_as_flow_assign_starts_it(flow: govflow.Govflow, tmp_path: Path) -> None:
    """issue-list v2: cooperating units countersign (会签) before the report, as with flow.assign's default."""
    path = tmp_path / "coop.csv"
    path.write_text("编号,问题,牵头单位,配合单位,完成时限\n1,积水,祥云县,宾川县,2026-06-30\n2,噪音,宾川县,,2026-06-30\n",
                    encoding="utf-8")
    created = flow.import_issues(path, by="OFFICE").created
    with_coop, alone = (flow.get(issue_id) for issue_id in created)
    assigned = flow.assign("对照", lead="XIANGYUN", due="2026-06-30", by="OFFICE", cooperating=["BINCHUAN"])
    assert with_coop.field == assigned.field and with_coop.field is not None
    assert with_coop.field.countersign == "all" and alone.field is None
    flow.implement(with_coop.id, by="XIANGYUN", note="疏通")
    refused(flow, govflow.InvalidTransition, lambda: flow.report(with_coop.id, by="XIANGYUN", result="完成"))
    flow.countersign(with_coop.id, by="BINCHUAN", note="配合")
    assert flow.report(with_coop.id, by="XIANGYUN", result="完成").state == "feedback"
    assert flow.verify_ledger().entries == len(flow.ledger())
