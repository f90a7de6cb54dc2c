"""``govflow import``, ``export`` and ``template`` in a real subprocess, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl

from ..conftest import UNIT_ENTRIES, add_units
from .conftest import Cli, CliDb


def test_import_export_and_template_through_the_command_line(govflow_cli: Cli, cli_db: CliDb,
                                                             tmp_path: Path) -> None:
    with cli_db.open() as flow:
        add_units(flow)
        due = flow.now().date().replace(year=flow.now().year + 1).isoformat()
    bad = tmp_path / "bad.csv"
    bad.write_text(f"编号,问题,牵头单位,完成时限\n1,积水,祥云县,{due}\n2,噪音,无此县,{due}\n3,,宾川县,明天\n",
                   encoding="gb18030")
    run = govflow_cli("import", str(bad), "--by", "OFFICE")
    assert run.returncode == 1, run.stderr
    assert "ImportRejected" in run.stderr and "3 problems, nothing was written" in run.stderr
    with cli_db.open() as flow:
        assert flow.issues() == []
    # A dry run of the bad sheet reports the same problems, exits 1, and writes nothing.
    dry = govflow_cli("import", str(bad), "--by", "OFFICE", "--dry-run", "--json")
    assert dry.returncode == 1
    assert [(p["row"], p["column"]) for p in json.loads(dry.stdout)["problems"]] == [
        (3, "牵头单位"), (4, "问题"), (4, "完成时限")]
    good = tmp_path / "good.csv"
    good.write_text(f"编号,问题,牵头单位,配合单位,完成时限\n1,积水,祥云,宾川县、下庄镇,{due}\n2,噪音,宾川县,,10个工作日\n",
                    encoding="utf-8-sig")
    report = json.loads(govflow_cli("import", str(good), "--by", "OFFICE", "--json", "--no-progress").stdout)
    assert len(report["created"]) == 2 and report["problems"] == []
    again = json.loads(govflow_cli("import", str(good), "--by", "OFFICE", "--json").stdout)
    assert again["created"] == [] and sorted(again["unchanged"]) == sorted(report["created"])
    with cli_db.open() as flow:
        issues = {issue.title: issue for issue in flow.issues()}
        assert issues["积水"].lead == "XIANGYUN" and issues["积水"].cooperating == ("BINCHUAN", "XIAZHUANG")
        assert flow.verify_ledger().entries == UNIT_ENTRIES + 2
    # The export reads back in openpyxl with the import's headers, and re-imports as nothing to do.
    exported = tmp_path / "台账.xlsx"
    written = govflow_cli("export", str(exported), "--json")
    assert written.returncode == 0, written.stderr
    sheet = openpyxl.load_workbook(exported).active
    assert sheet is not None
    headers = [cell.value for cell in next(sheet.iter_rows(min_row=1, max_row=sheet.max_row))
               if cell.value is not None]
    titles = {row[1] for row in sheet.iter_rows(values_only=True)}
    assert "积水" in titles and "噪音" in titles and headers
    back = json.loads(govflow_cli("import", str(exported), "--by", "OFFICE", "--json").stdout)
    assert back["created"] == [] and back["updated"] == [] and len(back["unchanged"]) == 2
    template = tmp_path / "模板.xlsx"
    assert govflow_cli("template", str(template), "--lang", "en").returncode == 0
    book = openpyxl.load_workbook(template)
    assert len(book.sheetnames) >= 2
