"""The xlsx bulletin, read back with openpyxl: every figure against flow.facts, flow.scores and the ledger."""

from __future__ import annotations

import datetime as dt
import io
import json
import sys
from collections.abc import Sequence
from typing import Any

import openpyxl
import pytest
from openpyxl.utils import get_column_letter
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

import govflow
from govflow import Actor
from govflow._reports.bulletin.build import period_name
from govflow._reports.bulletin.labels import grade_name, label
from govflow._reports.sheets import text_width
from govflow._stores.facts import COUNTS
from govflow.testing import FakeClock

from ..month_scenario import at, run_april, run_march

LANGS = ("zh", "en")
STEPS = ("due_soon", "overdue", "urge", "supervise", "interview")


def play(flow: govflow.Govflow, clock: FakeClock) -> dict[str, str]:
    """March and some of April, plus an issue with named people that nobody handles (overdue in March).

    The clock then moves to 1 May, 09:00: both months are over, their bulletins are final.
    """
    at(clock, 3, 1, 20)
    forgotten = flow.assign(
        "问题 R1", lead="XIANGYUN", due="2026-03-20", by=Actor("OFFICE", "张主任"),
        responsible={"first": "王县长", "direct": "李科长"},
    )
    flow.accept(forgotten.id, by=Actor("XIANGYUN", "李科长"))
    ids = run_march(flow, clock)
    run_april(flow, clock, ids)
    at(clock, 5, 1)
    return {**ids, "R1": forgotten.id}


def wall_time(when: dt.datetime) -> dt.datetime:
    """How a date cell holds an instant: Beijing wall time, no zone, whole seconds."""
    return when.astimezone(govflow.DEFAULT_ZONE).replace(tzinfo=None, microsecond=0)


def workbook(bulletin: govflow.Bulletin, lang: str) -> Workbook:
    data = bulletin.render("xlsx", lang)
    assert isinstance(data, bytes)
    return openpyxl.load_workbook(io.BytesIO(data))


def sheet(book: Workbook, key: str, lang: str, **fill: str) -> Worksheet:
    """The sheet titled with label ``key`` in ``lang``."""
    ws = book[label(key, lang).format(**fill)]
    assert isinstance(ws, Worksheet)
    return ws


def records(ws: Worksheet, header_row: int = 1) -> list[dict[str, Any]]:
    """The rows below the header as dicts keyed by heading."""
    rows = list(ws.iter_rows(min_row=header_row, values_only=True))
    head: list[Any] = list(rows[0])
    while head and head[-1] is None:  # a sheet is as wide as its widest row
        head.pop()
    assert all(isinstance(h, str) and h for h in head), head
    assert len(set(head)) == len(head), f"duplicate headings in {ws.title}: {head}"
    return [dict(zip(head, row[: len(head)], strict=True)) for row in rows[1:] if any(v is not None for v in row)]


def fact_heading(name: str, lang: str) -> str:
    return label("due_count" if name == "due" else name, lang)


def points_heading(indicator: govflow.Indicator, lang: str) -> str:
    """The ranking column of an indicator: its points (deductions, with a count, are points already)."""
    if indicator.count is not None:
        return indicator.label(lang)
    return label("points_of", lang).format(name=indicator.label(lang))


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("period", ["2026-03", "2026-04", "2026-Q1"])
def test_every_unit_figure_matches_the_facts(
    flow: govflow.Govflow, clock: FakeClock, lang: str, period: str
) -> None:
    play(flow, clock)
    bulletin = flow.bulletin(period)
    book = workbook(bulletin, lang)
    facts = flow.facts(period)
    rows = records(sheet(book, "facts", lang))
    unit_rows, total_row = rows[:-1], rows[-1]
    assert [r[label("unit_id", lang)] for r in unit_rows] == list(bulletin.facts)  # the bulletin's order
    assert sorted(bulletin.facts) == sorted(facts)
    for row in unit_rows:
        unit = row[label("unit_id", lang)]
        expected = facts[unit]
        assert row[label("unit", lang)] == bulletin.unit_name(unit)
        for name in COUNTS:
            value = row[fact_heading(name, lang)]
            assert is_number(value), (unit, name, value)
            assert value == getattr(expected, name), (unit, name)
        for step in STEPS:
            assert row[label(f"step_{step}", lang)] == expected.escalations.get(step, 0), (unit, step)
        if expected.mean_rating is None:
            assert row[fact_heading("mean_rating", lang)] is None
        else:
            assert row[fact_heading("mean_rating", lang)] == pytest.approx(expected.mean_rating)
    assert total_row[label("unit", lang)] == label("all_units", lang)
    summary_rows = records(sheet(book, "summary", lang), 5)
    summary = {r[label("summary", lang)]: r[label("all_units", lang)] for r in summary_rows}
    for name in COUNTS:
        added = sum(getattr(f, name) for f in facts.values())
        assert total_row[fact_heading(name, lang)] == added == summary[fact_heading(name, lang)], name
    for step in STEPS:
        added = sum(f.escalations.get(step, 0) for f in facts.values())
        assert total_row[label(f"step_{step}", lang)] == added == summary[label(f"step_{step}", lang)], step


def test_the_march_figures_are_the_scenario(flow: govflow.Govflow, clock: FakeClock) -> None:
    """Not only equal to flow.facts: the figures the scenario was built to give (not all zeros)."""
    play(flow, clock)
    rows = {r["Unit id"]: r for r in records(sheet(workbook(flow.bulletin("2026-03"), "en"), "facts", "en"))}
    binchuan = rows["BINCHUAN"]
    assert (binchuan["Assigned"], binchuan["Overdue at end"], binchuan["interview"]) == (5, 3, 1)
    assert (rows["XIAZHUANG"]["Rejections"], rows["XIAZHUANG"]["Extensions"]) == (1, 1)
    assert rows["XIANGYUN"]["Assigned"] == 5 and rows["XIANGYUN"]["Overdue at end"] == 1


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("period", ["2026-03", "2026-04"])
def test_the_ranking_and_breakdown_match_the_scores(
    flow: govflow.Govflow, clock: FakeClock, lang: str, period: str
) -> None:
    play(flow, clock)
    bulletin = flow.bulletin(period)
    book = workbook(bulletin, lang)
    scores = flow.scores(period)
    ranking = records(sheet(book, "ranking", lang))
    assert [r[label("unit", lang)] for r in ranking] == [bulletin.unit_name(s.unit) for s in scores]
    headings = list(ranking[0])
    assert headings[5:] == {
        "zh": ["及时签收率得分", "按时办结率得分", "销号率得分", "一次核验通过率得分", "发回重办率（反向）得分",
               "满意率得分", "督办扣分", "约谈扣分"],
        "en": ["accepted on time (points)", "fed back by the due date (points)", "closed (points)",
               "passed verification first time (points)", "not sent back for rework (points)",
               "satisfaction (points)", "supervision notice deduction", "interview deduction"],
    }[lang]
    # The grades in the reader's language: in March 祥云县 76.33 (R1 left overdue), 宾川县 32, 下庄镇 72.33;
    # in April only 祥云县 had something due (100).
    assert [r[label("grade", lang)] for r in ranking] == {
        ("2026-03", "zh"): ["合格", "不合格", "合格"], ("2026-03", "en"): ["pass", "fail", "pass"],
        ("2026-04", "zh"): ["优秀", None, None], ("2026-04", "en"): ["excellent", None, None],
    }[period, lang]
    for row, score in zip(ranking, scores, strict=True):
        assert row[label("rank", lang)] == score.rank
        total = row[label("total", lang)]
        if score.total is None:
            assert total == label("not_scored", lang) and row[label("rank", lang)] is None
        else:
            assert is_number(total) and total == pytest.approx(score.total)
            assert row[label("grade", lang)] == grade_name(flow.scoring.grade(score.total), lang)
            for indicator in score.breakdown:
                assert row[points_heading(indicator, lang)] == pytest.approx(indicator.score, abs=0.005), indicator.name
    breakdown = records(sheet(book, "breakdown", lang))
    expected = [(s, i) for s in scores for i in s.breakdown]
    assert len(breakdown) == len(expected)
    for row, (score, indicator) in zip(breakdown, expected, strict=True):
        assert row[label("unit_id", lang)] == score.unit
        assert row[label("indicator", lang)] == indicator.label(lang)
        assert row[label("weight", lang)] == pytest.approx(indicator.weight)
        assert row[label("count", lang)] == indicator.count
        if indicator.value is None:
            assert row[label("value", lang)] is None
        else:
            assert row[label("value", lang)] == pytest.approx(indicator.value)
        if score.total is None:
            assert row[label("score", lang)] is None
        else:
            assert row[label("score", lang)] == pytest.approx(indicator.score)
            # the points of a unit add up to its total
    for score in scores:
        if score.total is not None:
            points = sum(r[label("score", lang)] for r in breakdown if r[label("unit_id", lang)] == score.unit)
            assert points == pytest.approx(score.total, abs=0.01)


@pytest.mark.parametrize("lang", LANGS)
def test_lists_overdue_and_changes_match_the_bulletin(flow: govflow.Govflow, clock: FakeClock, lang: str) -> None:
    ids = play(flow, clock)
    bulletin = flow.bulletin("2026-04")
    book = workbook(bulletin, lang)
    overdue = records(sheet(book, "overdue_sheet", lang))
    assert [
        (r[label("unit", lang)], r[label("issue", lang)], r[label("issue_title", lang)], r[label("due", lang)],
         r[label("days_overdue", lang)], r[label("responsible_first", lang)], r[label("responsible_direct", lang)])
        for r in overdue
    ] == [
        (bulletin.unit_name(i.unit), i.issue_id, i.title, dt.datetime.combine(i.due, dt.time()), i.days_overdue,
         i.responsible.first if i.responsible else None, i.responsible.direct if i.responsible else None)
        for i in bulletin.overdue_issues()
    ]
    assert {r[label("issue", lang)] for r in overdue} == {ids["B1"], ids["B3"], ids["B4"], ids["R1"]}
    forgotten = next(r for r in overdue if r[label("issue", lang)] == ids["R1"])
    assert forgotten[label("responsible_first", lang)] == "王县长"
    # Working days late on 1 May (a holiday): 7 in March (23..27, 30, 31), 21 in April (清明 on 04-06).
    assert forgotten[label("days_overdue", lang)] == 28
    assert label("days_overdue", lang) == {"zh": "逾期工作日", "en": "Working days overdue"}[lang]
    # The units in the ranking's order: 祥云县 (scored, first county) before 宾川县 (nothing due in April).
    assert [s.unit for s in bulletin.scores] == ["XIANGYUN", "BINCHUAN", "XIAZHUANG"]
    assert [r[label("unit", lang)] for r in overdue] == ["祥云县", "宾川县", "宾川县", "宾川县"]
    for key, listed in (("red_list", bulletin.red_list), ("black_list", bulletin.black_list)):
        rows = records(sheet(book, key, lang))
        assert [(r[label("unit", lang)], r[label("total", lang)], r[label("rank", lang)]) for r in rows] == [
            (bulletin.unit_name(u.unit), u.total, u.rank) for u in listed
        ]
    changes = records(sheet(book, "changes", lang, previous=period_name(bulletin.previous, lang)))
    assert [
        (r[label("unit", lang)], r[label("total", lang)], r[label("previous_total", lang)], r[label("change", lang)],
         r[label("rank_change", lang)])
        for r in changes
    ] == [(bulletin.unit_name(c.unit), c.total, c.previous_total, c.change, c.rank_change) for c in bulletin.changes]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("period", ["2026-03", "2026-04"])
def test_the_ledger_sheet_holds_every_covered_issue_up_to_the_period_end(
    flow: govflow.Govflow, clock: FakeClock, lang: str, period: str
) -> None:
    play(flow, clock)
    bulletin = flow.bulletin(period)
    start, end = bulletin.period.start, bulletin.period.end
    book = workbook(bulletin, lang)
    rows = records(sheet(book, "ledger", lang))
    everything = flow.ledger()
    covered = {e.issue_id for e in everything if start <= e.at < end and not e.issue_id.startswith("unit:")}
    covered |= {i.issue_id for i in bulletin.overdue_issues()}
    expected = [e for e in everything if e.issue_id in covered and e.at < end]
    expected.sort(key=lambda e: (e.issue_id, e.issue_seq))
    assert len(rows) == len(expected)
    for row, entry in zip(rows, expected, strict=True):
        assert row[label("seq", lang)] == entry.seq
        assert row[label("issue", lang)] == entry.issue_id
        assert row[label("issue_title", lang)] == flow.get(entry.issue_id).title
        assert row[label("step", lang)] == entry.issue_seq
        action = flow.label(entry.trigger, lang)
        if entry.trigger == "deadline":  # a ladder step says which rung
            action += ("：" if lang == "zh" else ": ") + govflow.STEP_LABELS[entry.data["step"]][lang]
        assert row[label("trigger", lang)] == action
        assert row[label("from_state", lang)] == (flow.label(entry.from_state, lang) if entry.from_state else None)
        assert row[label("to_state", lang)] == flow.label(entry.to_state, lang)
        assert row[label("actor", lang)] == bulletin.unit_name(entry.actor)
        assert row[label("person", lang)] == entry.person
        assert row[label("at", lang)] == wall_time(entry.at)
        assert json.loads(row[label("data", lang)]) == json.loads(json.dumps(dict(entry.data)))
        assert row[label("hash", lang)] == entry.hash
    # every step of a covered issue is there, and nothing from after the period
    assert all(r[label("at", lang)] < wall_time(end) for r in rows)
    assert any(r[label("person", lang)] == "李科长" for r in rows)


def test_the_march_ledger_leaves_out_april(flow: govflow.Govflow, clock: FakeClock) -> None:
    ids = play(flow, clock)
    rows = records(sheet(workbook(flow.bulletin("2026-03"), "en"), "ledger", "en"))
    a3 = [r for r in rows if r["Issue"] == ids["A3"]]
    assert [r["Action"] for r in a3] == ["assign"]  # accepted, implemented, verified in April
    assert ids["C1"] in {r["Issue"] for r in rows}  # cancelled in March: covered


@pytest.mark.parametrize("lang", LANGS)
def test_the_workbook_is_laid_out_for_a_reader(flow: govflow.Govflow, clock: FakeClock, lang: str) -> None:
    play(flow, clock)
    bulletin = flow.bulletin("2026-03")
    book = workbook(bulletin, lang)
    assert book.properties.title == bulletin.title(lang)
    first = book.worksheets[0]
    assert first["A1"].value == bulletin.title(lang)
    # Under the title: when it was produced (in words, then the exact instant) and who issues it.
    assert [c.value for c in first[3]][:4] == [label("produced_at", lang), bulletin.produced_on(lang),
                                               wall_time(bulletin.produced_at), bulletin.produced_at.isoformat()]
    assert first["C3"].is_date and first["C3"].number_format == "yyyy-mm-dd hh:mm"
    # The summary's columns fit every row, the period's name under the title included (2026年3月 was clipped).
    for row in first.iter_rows(min_row=2):
        for cell in row:
            if cell.value is not None and cell.coordinate != "C3":
                shown = cell.value if not cell.is_date else cell.value.date()
                width = first.column_dimensions[cell.column_letter].width
                assert min(text_width(shown) + 2, 66) <= width, (cell.coordinate, cell.value, width)
    assert first.column_dimensions["B"].width >= text_width(bulletin.period_name(lang)) + 2
    assert bulletin.produced_on(lang).startswith({"zh": "2026年5月1日 09:", "en": "1 May 2026, 09:"}[lang])
    assert [c.value for c in first[4]][:2] == [label("issuer", lang), "大理州领导小组办公室"]
    tables = ("ranking", "facts", "breakdown", "red_list", "black_list", "overdue_sheet", "ledger")
    for each in book.worksheets:
        assert len(each.title) <= 31 and not set(each.title) & set("[]:*?/\\"), each.title
    for key in tables:
        ws = sheet(book, key, lang)
        assert ws.freeze_panes == "A2", key
        assert all(cell.font.bold for cell in ws[1]), key
        widths = [ws.column_dimensions[get_column_letter(i)].width for i in range(1, ws.max_column + 1)]
        assert all(6 <= w <= 66 for w in widths), (key, widths)
    facts = sheet(book, "facts", lang)
    for row in facts.iter_rows(min_row=2, min_col=3):
        for cell in row:
            assert cell.value is None or cell.data_type == "n", (cell.coordinate, cell.value)


def test_the_same_bulletin_gives_the_same_bytes(flow: govflow.Govflow, clock: FakeClock) -> None:
    play(flow, clock)
    bulletin = flow.bulletin("2026-03")
    assert bulletin.render("xlsx", "zh") == bulletin.render("xlsx", "zh")
    assert bulletin.render("xlsx", "zh") != bulletin.render("xlsx", "en")


@pytest.mark.parametrize("lang", LANGS)
def test_an_empty_period_renders(flow: govflow.Govflow, clock: FakeClock, lang: str) -> None:
    bulletin = flow.bulletin("2026-02")
    book = workbook(bulletin, lang)
    facts = records(sheet(book, "facts", lang))
    assert sorted(r[label("unit_id", lang)] for r in facts[:-1]) == sorted(flow.facts("2026-02"))
    assert all(r[fact_heading(n, lang)] == 0 for r in facts for n in COUNTS)
    assert records(sheet(book, "ledger", lang)) == []
    assert records(sheet(book, "overdue_sheet", lang)) == []
    ranking = records(sheet(book, "ranking", lang))
    assert all(r[label("total", lang)] == label("not_scored", lang) for r in ranking)


def test_a_flow_without_units_renders(clock: FakeClock) -> None:
    with govflow.open(":memory:", clock=clock) as flow:
        book = workbook(flow.bulletin("2026-03"), "zh")
        assert records(sheet(book, "facts", "zh"))[-1][label("unit", "zh")] == label("all_units", "zh")


def test_text_is_never_a_formula(flow: govflow.Govflow, clock: FakeClock) -> None:
    issue = flow.assign('=HYPERLINK("http://example.com","x")', lead="XIANGYUN", due="2026-03-20", by="OFFICE")
    rows = records(sheet(workbook(flow.bulletin("2026-03"), "en"), "ledger", "en"))
    assert [r["Title"] for r in rows if r["Issue"] == issue.id] == [issue.title]


def test_without_openpyxl_the_error_says_what_to_install(
    flow: govflow.Govflow, monkeypatch: pytest.MonkeyPatch
) -> None:
    bulletin = flow.bulletin("2026-03")
    monkeypatch.setitem(sys.modules, "openpyxl", None)
    with pytest.raises(govflow.ValidationError, match=r"govflow\[bulletin\]"):
        bulletin.render("xlsx")


def _titles(book: Workbook) -> Sequence[str]:
    return [ws.title for ws in book.worksheets]


def test_the_sheets_come_in_order(flow: govflow.Govflow) -> None:
    book = workbook(flow.bulletin("2026-03"), "en")
    assert _titles(book) == [
        "Summary", "Scores and ranking", "Figures by unit", "Score breakdown", "Red list", "Black list",
        "Overdue at period end", "Changes since February 2026", "Roll-up with the units below", "Ledger",
    ]
