"""Sheets made the way offices make them: merged title rows, a note above the header, short unit names,
dates typed every which way, numbers stored as text, full-width spaces; CSV as Chinese Windows saves it."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl.styles import Alignment, Font

import govflow

#: The header an office typed: Chinese, its own order, a required-mark and a note in brackets.
HEADER = ["序号", "问题", "问题描述", "牵头单位", "配合单位", "完成时限（必填）", "第一责任人", "直接责任人",
          "问题类别"]

#: Rows as the clerk typed them (the flow's clock stands at 2026-03-02).
ROWS: list[list[Any]] = [
    [1, "  村庄污水收集管网覆盖不足\u3000", "3个自然村污水直排", "祥云", "下庄镇、宾川县", dt.datetime(2026, 6, 30),
     "王县长", "李科长", "生态环境"],
    ["2", "集镇路灯损坏未修复", "", "宾川县", "", "2026/7/31", None, None, "基础设施"],
    ["003", "农贸市场占道经营", "早市占道", "XIANGYUN", "宾川， 下庄", "2026.8.15", "王县长", " 张站长 ", "市场秩序"],
    ["４", "垃圾清运不及时", None, "下庄", None, "2026年9月1日", None, None, "生态环境"],
    [5, "学校周边交通秩序", None, "宾川县", "祥云县", "１０个工作日", None, None, None],
    ["6", "饮用水源地保护", "", "祥云县", "", 46203, None, None, "生态环境"],
]


def office_workbook(path: Path, rows: Sequence[Sequence[Any]] = ROWS, header: Sequence[str] = HEADER,
                    sheet: str = "问题清单") -> Path:
    """A workbook with a merged two-row title, a note above the header, the header, then the rows and an
    empty row in between and a note under the table."""
    book = openpyxl.Workbook()
    ws = book.active
    assert ws is not None
    ws.title = sheet
    ws["A1"] = "2026年大理州市域社会治理问题清单"
    ws["A1"].font = Font(bold=True, size=16)
    ws["A1"].alignment = Alignment(horizontal="center")
    ws.merge_cells(start_row=1, start_column=1, end_row=2, end_column=len(header))
    ws["A3"] = "填报单位（盖章）：州领导小组办公室            填报时间：2026年3月1日"
    ws.merge_cells(start_row=3, start_column=1, end_row=3, end_column=len(header))
    ws.append(list(header))
    for number, row in enumerate(rows):
        if number == 2:
            ws.append([])  # a row left empty
        ws.append(list(row))
    ws.append([])
    ws.append(["注：时限以文件要求为准。"])
    book.save(path)
    return path


def data_rows(path: Path) -> list[int]:
    """The rows of ``office_workbook`` that hold issues, as the spreadsheet numbers them."""
    book = openpyxl.load_workbook(path)
    ws = book.active
    assert ws is not None
    filled = [r for r in range(5, ws.max_row + 1) if any(c.value not in (None, "") for c in ws[r])]
    return filled[:-1]  # the note under the table


def office_csv(path: Path, rows: Sequence[Sequence[Any]] = ROWS, encoding: str = "gb18030") -> Path:
    """The same list saved as CSV by Excel on Chinese Windows (GB18030, CRLF), dates as text."""
    lines = [",".join(HEADER)]
    for row in rows:
        cells = []
        for value in row:
            if isinstance(value, dt.datetime):
                value = f"{value.year}/{value.month}/{value.day}"
            text = "" if value is None else str(value)
            cells.append(f'"{text}"' if any(c in text for c in ',"\n') else text)
        lines.append(",".join(cells))
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


def issue_facts(flow: govflow.Govflow) -> list[tuple[Any, ...]]:
    """What an import decides about each issue, by external id."""
    external = {e.issue_id: e.data.get("external_id") for e in flow.ledger() if e.trigger == "assign"}
    return sorted(
        (external[i.id], i.title, i.description, i.category, i.lead, tuple(sorted(i.cooperating)), i.due,
         i.responsible, i.state)
        for i in flow.issues()
    )


def soffice() -> str | None:
    """LibreOffice's command, or None; with GOVFLOW_REQUIRE_SOFFICE=1 a missing one fails the test."""
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found is None:
        message = "LibreOffice (soffice) is not installed: apt-get install libreoffice-calc-nogui"
        if os.environ.get("GOVFLOW_REQUIRE_SOFFICE", "") not in ("", "0"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return found


def resave_with_libreoffice(source: Path, out_dir: Path) -> Path:
    """``source`` opened and saved again as xlsx by LibreOffice Calc (headless)."""
    command = soffice()
    assert command is not None
    out_dir.mkdir(parents=True, exist_ok=True)
    profile = (out_dir / "profile").resolve().as_uri()
    subprocess.run(
        [command, f"-env:UserInstallation={profile}", "--headless", "--convert-to", "xlsx", "--outdir",
         str(out_dir), str(source)],
        check=True, capture_output=True, timeout=180,
    )
    saved = out_dir / (source.stem + ".xlsx")
    assert saved.is_file(), f"LibreOffice wrote no {saved}"
    return saved
