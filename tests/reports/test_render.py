"""Ledger renderers: CSV with a BOM (read back), JSON and Markdown, in Chinese and English."""

from __future__ import annotations

import csv
import io
import json

import pytest

import govflow

from ..conftest import UNIT_ENTRIES as U


@pytest.fixture
def issue_id(flow: govflow.Govflow) -> str:
    issue = flow.assign("道路积水", lead="XIANGYUN", due="2026-03-20", by="OFFICE")
    flow.implement(issue.id, by=govflow.Actor("XIANGYUN", "王五"), note="已疏通, \"加急\"")
    flow.assign("另一个问题", lead="BINCHUAN", due="2026-03-20", by="OFFICE")
    return issue.id


def test_csv_starts_with_a_bom_and_reads_back(flow: govflow.Govflow, issue_id: str) -> None:
    text = flow.render("ledger", "csv")
    assert isinstance(text, str) and text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.encode("utf-8").decode("utf-8-sig"))))
    assert rows[0][:4] == ["序号", "事项编号", "事项步骤", "操作"]
    assert len(rows) == 1 + U + 3  # the units' registrations, then the three steps
    entries = flow.ledger()
    assert [row[0] for row in rows[1:]] == [str(e.seq) for e in entries]
    office = rows[1]
    assert office[1:6] == ["unit:OFFICE", "1", "登记单位", "", "已登记"]
    assert json.loads(office[9])["supervisor"] is True
    second = rows[U + 2]
    assert second[3] == "落实" and second[4] == "已交办" and second[5] == "已落实" and second[7] == "王五"
    assert json.loads(second[9]) == {"note": "已疏通, \"加急\""}
    assert second[10] == entries[U + 1].hash


def test_csv_for_one_issue_in_english(flow: govflow.Govflow, issue_id: str) -> None:
    text = flow.render("ledger", "csv", issue_id=issue_id, lang="en")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][0] == "seq" and [r[3] for r in rows[1:]] == ["assign", "implement"]


def test_json_round_trips_every_field(flow: govflow.Govflow, issue_id: str) -> None:
    data = json.loads(flow.render("ledger", "json"))
    entries = flow.ledger()
    assert [d["hash"] for d in data] == [e.hash for e in entries]
    assert data[U + 1]["trigger_label"] == "落实" and data[U + 1]["data"] == dict(entries[U + 1].data)
    assert (data[0]["issue_id"], data[0]["trigger_label"]) == ("unit:OFFICE", "登记单位")


def test_markdown_is_a_table(flow: govflow.Govflow, issue_id: str) -> None:
    text = flow.render("ledger", "markdown", lang="en")
    lines = text.splitlines()
    assert lines[0].startswith("| seq | issue |") and lines[1].startswith("|---|")
    assert len(lines) == 2 + U + 3 and "implement" in lines[2 + U + 1] and "unit registered" in lines[2]


def test_unknown_formats_and_languages_are_refused(flow: govflow.Govflow, issue_id: str) -> None:
    with pytest.raises(govflow.ValidationError, match="ledger/csv, ledger/json, ledger/markdown"):
        flow.render("ledger", "pdf")
    with pytest.raises(govflow.ValidationError, match="'zh' or 'en'"):
        flow.render("ledger", "csv", lang="fr")


def test_labels_follow_the_lifecycle_of_each_issue(flow: govflow.Govflow) -> None:
    from ..lifecycle.test_lifecycle import WORK_ORDER

    flow.register_lifecycle(WORK_ORDER)
    order = flow.assign("噪音投诉", lead="XIANGYUN", due="2026-03-05", by="OFFICE", lifecycle="work-order-12345")
    flow.fire(order.id, "sign", by="XIANGYUN")
    rows = list(csv.reader(io.StringIO(flow.render("ledger", "csv", issue_id=order.id).lstrip("\ufeff"))))
    assert rows[2][3] == "签收"
    english = json.loads(flow.render("ledger", "json", lang="en"))
    assert english[U + 1]["trigger_label"] == "sign for"
