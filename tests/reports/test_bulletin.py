"""The monthly bulletin (月通报): lists, overdue issues, changes, renderers, on both stores.

Scores are set up so they can be read off: one issue per unit due in the month,
implemented, reported and verified early with a rating ``r`` scores ``80 + 4r``
when it was accepted on the day it was assigned and ``70 + 4r`` when it never
was (及时签收率 10, 按时办结率 30, 销号率 20, 一次核验通过率 20, 满意率 20).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from typing import Any

import attrs
import pytest

import govflow
from govflow import BULLETIN_LABELS, Period, UnitFacts
from govflow.testing import FakeClock

from ..month_scenario import SH, at, run_april, run_march

OFFICE = "OFFICE"

#: total -> (accepted on time?, rating) for one issue done early in the month.
RECIPE: dict[float, tuple[bool, int]] = {
    100.0: (True, 5), 96.0: (True, 4), 92.0: (True, 3), 88.0: (True, 2), 84.0: (True, 1),
    90.0: (False, 5), 86.0: (False, 4), 82.0: (False, 3), 78.0: (False, 2), 74.0: (False, 1),
}


def add_level(flow: govflow.Govflow, prefix: str, level: str, count: int, name: str) -> list[str]:
    """Add ``count`` units of one level (``C01``, ``C02``...); return their ids."""
    ids = []
    for n in range(1, count + 1):
        unit_id = f"{prefix}{n:02d}"
        flow.add_unit(unit_id, f"{name}{n}", level=level, parent="OFFICE")  # type: ignore[arg-type]
        ids.append(unit_id)
    return ids


def score(flow: govflow.Govflow, clock: FakeClock, unit: str, total: float, month: int = 3) -> str:
    """Give ``unit`` one issue in 2026-``month`` that earns exactly ``total``; return its id."""
    accepted, rating = RECIPE[total]
    at(clock, month, 2)
    issue = flow.assign(f"{unit} 问题", lead=unit, due=dt.date(2026, month, 25), by=OFFICE)
    if accepted:
        flow.accept(issue.id, by=unit)
    at(clock, month, 5)
    flow.implement(issue.id, by=unit, note="已整改")
    flow.report(issue.id, by=unit, result="已完成")
    flow.verify(issue.id, by=OFFICE, rating=rating)
    return issue.id


def interview(flow: govflow.Govflow, clock: FakeClock, unit: str) -> list[str]:
    """Three issues assigned to ``unit`` in February and left alone; a sweep in March takes a 约谈."""
    at(clock, 2, 2)
    ids = [flow.assign(f"{unit} 积案{n}", lead=unit, due="2026-02-06", by=OFFICE).id for n in range(3)]
    at(clock, 3, 10, 18)
    flow.sweep()
    return ids


def listed(units: tuple[govflow.ListedUnit, ...]) -> list[tuple[Any, ...]]:
    return [(u.unit, u.level, u.total, u.rank, u.reasons, u.interviews) for u in units]


def without_produced_at(text: str | bytes) -> dict[str, Any]:
    document = json.loads(text)
    del document["produced_at"]
    return document


def facts_from_json(unit: str, row: dict[str, Any]) -> UnitFacts:
    counts = {k: v for k, v in row.items() if k not in ("mean_rating", "escalations")}
    return UnitFacts(unit, escalations=row["escalations"], **counts)


# -- red and black lists ------------------------------------------------------------------


def test_the_red_list_is_the_top_five_of_each_level_with_ties_at_fifth_unless_they_pass_half(
    flow: govflow.Govflow, clock: FakeClock
) -> None:
    counties = add_level(flow, "C", "county", 12, "县")
    townships = add_level(flow, "T", "township", 10, "镇")
    idle = add_level(flow, "D", "department", 1, "局")  # nothing due: not scored, not listed
    for unit, total in zip(
        counties, (100.0, 96.0, 92.0, 90.0, 86.0, 86.0, 84.0, 82.0, 78.0, 74.0, 74.0, 74.0), strict=True
    ):
        score(flow, clock, unit, total)
    for unit, total in zip(
        townships, (82.0, 100.0, 96.0, 88.0, 92.0, 88.0, 88.0, 84.0, 78.0, 74.0), strict=True
    ):
        score(flow, clock, unit, total)
    at(clock, 4, 1, 0)  # March is over
    bulletin = flow.bulletin("2026-03")
    top = ("top",)
    assert listed(bulletin.red_list) == [
        # 12 scored counties: half is 6, so the tie at fifth fits and is listed whole.
        ("C01", "county", 100.0, 1, top, 0),
        ("C02", "county", 96.0, 2, top, 0),
        ("C03", "county", 92.0, 3, top, 0),
        ("C04", "county", 90.0, 4, top, 0),
        ("C05", "county", 86.0, 5, top, 0),
        ("C06", "county", 86.0, 5, top, 0),  # tied with the fifth: listed too
        # 10 scored townships: half is 5. 88 is fourth, fifth and sixth: listing the three would make six,
        # past half, so none of them is listed (no unit is picked from a tie): the top three only.
        ("T02", "township", 100.0, 1, top, 0),
        ("T03", "township", 96.0, 2, top, 0),
        ("T05", "township", 92.0, 3, top, 0),
    ]
    # The standard cast has nothing due in March either: none of them is listed.
    assert not {u.unit for u in bulletin.red_list + bulletin.black_list} & {*idle, "XIANGYUN", "BINCHUAN", "XIAZHUANG"}
    # Off the red list: C07 84, C08 82, C09 78, C10..C12 74, T01 82, T04/T06/T07 88, T08 84, T09 78, T10 74.
    # The lowest five end on 78, where C09 and T09 tie: both are listed (6 of 22 scored: within half);
    # nothing at 82 or above is.
    bottom = ("bottom",)
    assert listed(bulletin.black_list) == [
        ("C10", "county", 74.0, 10, bottom, 0),
        ("C11", "county", 74.0, 10, bottom, 0),
        ("C12", "county", 74.0, 10, bottom, 0),
        ("T10", "township", 74.0, 10, bottom, 0),
        ("C09", "county", 78.0, 9, bottom, 0),
        ("T09", "township", 78.0, 9, bottom, 0),
    ]
    by_unit = {s.unit: s for s in bulletin.scores}
    assert by_unit["D01"].total is None and by_unit["D01"].rank is None


def test_a_small_level_puts_at_most_half_of_its_scored_units_on_the_red_list(
    flow: govflow.Govflow, clock: FakeClock
) -> None:
    departments = add_level(flow, "D", "department", 4, "局")
    counties = add_level(flow, "C", "county", 3, "县")
    prefectures = add_level(flow, "P", "prefecture", 4, "州局")
    township = add_level(flow, "T", "township", 1, "镇")
    for unit, total in zip(departments, (96.0, 100.0, 92.0, 90.0), strict=True):
        score(flow, clock, unit, total)
    for unit, total in zip(counties, (100.0, 96.0, 92.0), strict=True):
        score(flow, clock, unit, total)
    for unit, total in zip(prefectures, (100.0, 92.0, 92.0, 74.0), strict=True):
        score(flow, clock, unit, total)
    score(flow, clock, township[0], 100.0)
    at(clock, 4, 1, 0)  # March is over
    bulletin = flow.bulletin("2026-03")
    top = ("top",)
    assert sorted(listed(bulletin.red_list)) == sorted([
        # 4 scored departments: the top 2.
        ("D02", "department", 100.0, 1, top, 0),
        ("D01", "department", 96.0, 2, top, 0),
        # 3 scored counties (XIANGYUN and BINCHUAN have nothing due and do not count): the top 1.
        ("C01", "county", 100.0, 1, top, 0),
        # 4 scored units with a tie at second place: listing the tie would make 3, past half (2), so the
        # tie is left out whole: the first only.
        ("P01", "prefecture", 100.0, 1, top, 0),
        # T01 is the only scored township: half of 1 is 0, so no township is on the red list.
    ])
    by_level: dict[str, int] = {}
    for unit in bulletin.red_list:
        by_level[unit.level] = by_level.get(unit.level, 0) + 1
    assert by_level == {"department": 2, "county": 1, "prefecture": 1}
    # T01 scored 100: it is on neither list.
    assert "T01" not in {u.unit for u in bulletin.red_list + bulletin.black_list}
    # Off the red list: D03 92, D04 90, C02 96, C03 92, P02 92, P03 92, P04 74, T01 100. The lowest five
    # end on 92, where four units tie: six listed in all, which is half of the 12 scored units, not past it.
    assert [(u.unit, u.total, u.reasons) for u in bulletin.black_list] == [
        ("P04", 74.0, ("bottom",)), ("D04", 90.0, ("bottom",)), ("C03", 92.0, ("bottom",)),
        ("D03", 92.0, ("bottom",)), ("P02", 92.0, ("bottom",)), ("P03", 92.0, ("bottom",)),
    ]


def test_the_black_list_is_the_bottom_five_overall_off_the_red_list_and_every_interview(
    flow: govflow.Govflow, clock: FakeClock
) -> None:
    counties = add_level(flow, "C", "county", 10, "县")
    townships = add_level(flow, "T", "township", 10, "镇")
    add_level(flow, "Z", "county", 1, "空县")  # nothing due
    flow.add_unit("TI", "约谈镇", level="township", parent="OFFICE")
    interview(flow, clock, "TI")  # due in February: nothing due in March, so not scored
    for unit, total in zip(counties, (100.0, 96.0, 92.0, 90.0, 88.0, 86.0, 84.0, 82.0, 82.0, 78.0), strict=True):
        score(flow, clock, unit, total)
    for unit, total in zip(townships, (100.0, 100.0, 96.0, 92.0, 90.0, 86.0, 84.0, 78.0, 74.0, 74.0), strict=True):
        score(flow, clock, unit, total)
    at(clock, 3, 31, 18)
    bulletin = flow.bulletin("2026-03")
    red = {u.unit for u in bulletin.red_list}
    assert red == {"C01", "C02", "C03", "C04", "C05", "T01", "T02", "T03", "T04", "T05"}
    bottom = ("bottom",)
    # Off the red list: C06 86, C07 84, C08 82, C09 82, C10 78, T06 86, T07 84, T08 78, T09 74, T10 74.
    # The lowest five end on 82, where C08 and C09 tie: both are listed; nothing at 84 or 86 is.
    assert listed(bulletin.black_list) == [
        ("T09", "township", 74.0, 9, bottom, 0),
        ("T10", "township", 74.0, 9, bottom, 0),
        ("C10", "county", 78.0, 10, bottom, 0),
        ("T08", "township", 78.0, 8, bottom, 0),
        ("C08", "county", 82.0, 8, bottom, 0),
        ("C09", "county", 82.0, 8, bottom, 0),
        ("TI", "township", None, None, ("interview",), 1),
    ]
    facts = flow.facts("2026-03")
    assert facts["TI"].interviews == 1 and facts["TI"].due == 0 and facts["TI"].overdue_at_end == 3
    assert not red & {u.unit for u in bulletin.black_list}
    assert "Z01" not in {u.unit for u in bulletin.red_list + bulletin.black_list}


def test_an_interviewed_unit_is_never_on_the_red_list_and_always_on_the_black_list(
    flow: govflow.Govflow, clock: FakeClock
) -> None:
    counties = add_level(flow, "C", "county", 12, "县")
    interview(flow, clock, "C01")  # 3 督办 (-3) and a 约谈 (-2) in March
    totals = (100.0, 92.0, 90.0, 88.0, 86.0, 84.0, 82.0, 82.0, 78.0, 78.0, 74.0, 74.0)
    for unit, total in zip(counties, totals, strict=True):
        score(flow, clock, unit, total)
    at(clock, 4, 1, 0)  # March is over
    bulletin = flow.bulletin("2026-03")
    by_unit = {s.unit: s for s in bulletin.scores}
    assert (by_unit["C01"].total, by_unit["C01"].rank, by_unit["C01"].facts.interviews) == (95.0, 1, 1)
    # C01 is first of its level but interviewed: the red list is the top five of the others.
    assert [(u.unit, u.rank) for u in bulletin.red_list] == [("C02", 2), ("C03", 3), ("C04", 4), ("C05", 5),
                                                             ("C06", 6)]
    # Off the red list: C01 95 and C07..C12; the lowest five end on 82 (C07, C08 tie), so C01 is on the
    # black list for its interview only.
    assert listed(bulletin.black_list) == [
        ("C11", "county", 74.0, 11, ("bottom",), 0),
        ("C12", "county", 74.0, 11, ("bottom",), 0),
        ("C09", "county", 78.0, 9, ("bottom",), 0),
        ("C10", "county", 78.0, 9, ("bottom",), 0),
        ("C07", "county", 82.0, 7, ("bottom",), 0),
        ("C08", "county", 82.0, 7, ("bottom",), 0),
        ("C01", "county", 95.0, 1, ("interview",), 1),
    ]


def test_in_the_march_scenario_the_interviewed_county_is_black_listed_twice_over(
    flow: govflow.Govflow, clock: FakeClock
) -> None:
    run_march(flow, clock)
    bulletin = flow.bulletin("2026-03")
    # Two scored counties: half is 1, and BINCHUAN (interviewed) could not be listed anyway. XIAZHUANG is
    # the only scored township: half of 1 is 0.
    assert listed(bulletin.red_list) == [("XIANGYUN", "county", 93.0, 1, ("top",), 0)]
    # Three scored units: the bottom list takes at most half of them (1), the lowest: BINCHUAN, interviewed
    # too. XIAZHUANG (72.33) is in the better half and stays off.
    assert listed(bulletin.black_list) == [
        ("BINCHUAN", "county", 32.0, 2, ("bottom", "interview"), 1),
    ]


def test_unscored_units_are_on_no_list_by_score(flow: govflow.Govflow, clock: FakeClock) -> None:
    departments = add_level(flow, "D", "department", 12, "局")  # nothing due for most of them
    score(flow, clock, departments[0], 100.0)
    score(flow, clock, departments[1], 74.0)
    score(flow, clock, "XIANGYUN", 90.0)
    at(clock, 4, 1, 0)  # March is over
    bulletin = flow.bulletin("2026-03")
    # Half of the 2 scored departments (not of the 12): 1. XIANGYUN is the only scored county: none.
    assert listed(bulletin.red_list) == [("D01", "department", 100.0, 1, ("top",), 0)]
    # Three scored units overall: the bottom list takes at most 1, the lowest off the red list.
    assert listed(bulletin.black_list) == [("D02", "department", 74.0, 2, ("bottom",), 0)]
    assert sum(s.total is None for s in bulletin.scores) == 12


# -- overdue issues -----------------------------------------------------------------------


def test_overdue_issues_by_unit_with_due_date_days_state_and_responsible_persons(
    flow: govflow.Govflow, clock: FakeClock
) -> None:
    at(clock, 3, 2)
    people = {"first": "张县长", "direct": "李局长"}

    def assign(title: str, lead: str, due: str, **kw: Any) -> str:
        return flow.assign(title, lead=lead, due=due, by=OFFICE, **kw).id

    extended = assign("延期未办", "XIANGYUN", "2026-03-10", responsible=people)
    half_done = assign("落实未反馈", "XIANGYUN", "2026-03-16")
    moved = assign("改派未办", "BINCHUAN", "2026-03-09", responsible={"first": "王书记", "direct": "赵主任"})
    waiting = assign("已反馈待验收", "XIAZHUANG", "2026-03-05")
    later = assign("四月到期", "XIANGYUN", "2026-04-10")
    reworked = assign("重办未办", "BINCHUAN", "2026-03-06", responsible={"first": "孙镇长"})
    cancelled = assign("已撤销", "BINCHUAN", "2026-03-04")
    closed = assign("已销号", "BINCHUAN", "2026-03-04")
    eve = assign("月末到期", "XIAZHUANG", "2026-03-31")  # due on the period's last day
    before_may_day = assign("四月末到期", "XIANGYUN", "2026-04-30")  # the day after April is a holiday
    at(clock, 3, 3)
    flow.reassign(moved, by=OFFICE, new_lead="XIAZHUANG", reason="属地调整")
    flow.implement(waiting, by="XIAZHUANG", note="n")
    flow.report(waiting, by="XIAZHUANG", result="r")
    flow.cancel(cancelled, by=OFFICE, reason="重复")
    flow.implement(closed, by="BINCHUAN", note="n")
    flow.report(closed, by="BINCHUAN", result="r")
    flow.verify(closed, by=OFFICE, rating=3)
    at(clock, 3, 5)
    flow.request_extension(extended, by="XIANGYUN", due="2026-03-20", reason="需协调")
    flow.approve_extension(extended, by=OFFICE)
    flow.implement(reworked, by="BINCHUAN", note="n")
    flow.report(reworked, by="BINCHUAN", result="r")
    at(clock, 3, 9)
    flow.reject(reworked, by=OFFICE, reason="不彻底", due="2026-03-25")
    at(clock, 3, 12)
    flow.implement(half_done, by="XIANGYUN", note="在办")
    at(clock, 4, 2)  # produced in April: the figures stop at March 31
    flow.implement(later, by="XIANGYUN", note="n")

    # The persons named at assignment were BINCHUAN's: the reassignment cleared them.
    assert flow.get(moved).responsible is None
    bulletin = flow.bulletin("2026-03")
    rows = {
        unit: [(i.issue_id, i.title, i.unit, i.due, i.days_overdue, i.state, i.responsible) for i in issues]
        for unit, issues in bulletin.overdue.items()
    }
    # Working days late on 1 April (the cn calendar; March 2026 has no holiday): due 03-25 is 5 days late
    # (26, 27, 30, 31 March and 1 April), due 03-31 is 1.
    assert rows == {
        "BINCHUAN": [
            (reworked, "重办未办", "BINCHUAN", dt.date(2026, 3, 25), 5, "assigned", govflow.Responsible("孙镇长")),
        ],
        "XIANGYUN": [
            (half_done, "落实未反馈", "XIANGYUN", dt.date(2026, 3, 16), 12, "implemented", None),
            (extended, "延期未办", "XIANGYUN", dt.date(2026, 3, 20), 8, "assigned", govflow.Responsible(**people)),
        ],
        "XIAZHUANG": [
            (moved, "改派未办", "XIAZHUANG", dt.date(2026, 3, 9), 17, "assigned", None),
            (eve, "月末到期", "XIAZHUANG", dt.date(2026, 3, 31), 1, "assigned", None),
        ],
    }
    facts = flow.facts("2026-03")
    assert {u: f.overdue_at_end for u, f in facts.items()} == {"XIANGYUN": 2, "BINCHUAN": 1, "XIAZHUANG": 2}
    # Units in the ranking's order: BINCHUAN (first county) before XIANGYUN (second), then the township.
    assert [(s.unit, s.rank) for s in bulletin.scores] == [("BINCHUAN", 1), ("XIANGYUN", 2), ("XIAZHUANG", 1)]
    assert list(bulletin.overdue) == ["BINCHUAN", "XIANGYUN", "XIAZHUANG"]
    # The facts keep the order of flow.facts (the order units were added), not the ranking's.
    assert list(bulletin.facts) == list(facts) == ["XIANGYUN", "BINCHUAN", "XIAZHUANG"]
    assert [i.issue_id for i in bulletin.overdue_issues()] == [reworked, half_done, extended, moved, eve]
    # The responsible persons reach every format.
    table = list(csv.reader(io.StringIO(str(bulletin.render("csv", table="overdue")).lstrip("\ufeff"))))
    assert table[0] == ["单位", "问题编号", "问题", "办理时限", "逾期工作日", "状态", "第一责任人", "直接责任人"]
    assert ["祥云县", extended, "延期未办", "2026-03-20", "8", "已交办", "张县长", "李局长"] in table
    assert ["宾川县", reworked, "重办未办", "2026-03-25", "5", "已交办", "孙镇长", ""] in table
    assert ["下庄镇", moved, "改派未办", "2026-03-09", "17", "已交办", "", ""] in table
    english = list(csv.reader(io.StringIO(str(bulletin.render("csv", "en", table="overdue")).lstrip("\ufeff"))))
    assert english[0][4] == "Working days overdue"
    document = json.loads(bulletin.render("json"))
    assert {"issue_id": moved, "title": "改派未办", "unit": "XIAZHUANG", "due": "2026-03-09", "days_overdue": 17,
            "state": "assigned", "responsible": None} in document["overdue"]
    assert {"issue_id": extended, "title": "延期未办", "unit": "XIANGYUN", "due": "2026-03-20", "days_overdue": 8,
            "state": "assigned", "responsible": {"first": "张县长", "direct": "李局长"}} in document["overdue"]
    assert [i["issue_id"] for i in document["overdue"]] == [reworked, half_done, extended, moved, eve]
    assert "李局长" in str(bulletin.render("markdown")) and "Directly responsible" in str(
        bulletin.render("markdown", lang="en"))
    assert "王书记" not in str(bulletin.render("markdown"))
    # In April the rework is still open and its due date (03-25) passed; the April issue was implemented
    # on 04-02 and falls due 04-10: overdue at April's end too. Counted on 1 May, a holiday (劳动节):
    # the issue due 04-30 is 0 working days late on it, and counts as 1.
    at(clock, 5, 6)  # April is over
    april_bulletin = flow.bulletin("2026-04")
    april = {i.issue_id: i.days_overdue for i in april_bulletin.overdue_issues()}
    assert april == {reworked: 25, half_done: 32, extended: 28, moved: 37, eve: 21, later: 14, before_may_day: 1}
    # Only XIANGYUN had something due in April: it ranks first, ahead of the unscored BINCHUAN, and the
    # overdue issues follow that order rather than the units' ids.
    assert [s.unit for s in april_bulletin.scores] == ["XIANGYUN", "BINCHUAN", "XIAZHUANG"]
    assert list(april_bulletin.overdue) == ["XIANGYUN", "BINCHUAN", "XIAZHUANG"]
    assert [i.issue_id for i in april_bulletin.overdue_issues()] == [
        half_done, extended, later, before_may_day, reworked, moved, eve,
    ]


# -- changes since the previous period ----------------------------------------------------


def test_changes_compare_each_unit_with_the_previous_period(flow: govflow.Govflow, clock: FakeClock) -> None:
    a, b, c = add_level(flow, "C", "county", 3, "县")
    score(flow, clock, a, 100.0, month=2)
    score(flow, clock, b, 74.0, month=2)
    score(flow, clock, c, 90.0, month=2)
    score(flow, clock, a, 74.0, month=3)
    score(flow, clock, b, 100.0, month=3)
    score(flow, clock, c, 90.0, month=3)
    score(flow, clock, "XIAZHUANG", 88.0, month=3)  # not scored in February
    at(clock, 4, 1, 0)  # March is over
    bulletin = flow.bulletin("2026-03")
    assert bulletin.previous == Period.parse("2026-02")
    changes = {ch.unit: ch for ch in bulletin.changes}
    assert (changes[a].total, changes[a].previous_total, changes[a].change) == (74.0, 100.0, -26.0)
    assert (changes[a].rank, changes[a].previous_rank, changes[a].rank_change) == (3, 1, -2)  # moved down
    assert (changes[b].change, changes[b].rank_change) == (26.0, 2)  # moved up
    assert (changes[c].change, changes[c].rank_change) == (0.0, 0)
    assert (changes["XIAZHUANG"].total, changes["XIAZHUANG"].previous_total) == (88.0, None)
    assert (changes["XIAZHUANG"].change, changes["XIAZHUANG"].rank_change) == (None, None)
    assert (changes["XIANGYUN"].change, changes["XIANGYUN"].rank_change) == (None, None)
    assert set(changes) == {s.unit for s in bulletin.scores}
    for change in bulletin.changes:
        if change.change is not None:
            assert change.change == round(change.total - change.previous_total, 2)  # type: ignore[operator]
    document = json.loads(bulletin.render("json"))
    assert {"unit": a, "level": "county", "total": 74.0, "previous_total": 100.0, "change": -26.0, "rank": 3,
            "previous_rank": 1, "rank_change": -2} in document["changes"]
    assert "与上期（2026年2月）相比" in str(bulletin.render("markdown"))
    assert "Changes since February 2026" in str(bulletin.render("markdown", lang="en"))


# -- reproducibility and quiet periods ----------------------------------------------------


def test_a_past_month_is_identical_after_later_activity(flow: govflow.Govflow, clock: FakeClock) -> None:
    ids = run_march(flow, clock)
    at(clock, 4, 1)
    before = flow.bulletin("2026-03")
    texts = {(fmt, lang): before.render(fmt, lang) for fmt in ("json", "markdown") for lang in ("zh", "en")}
    tables = {t: before.render("csv", table=t) for t in ("ranking", "facts", "red_list", "black_list", "overdue")}
    run_april(flow, clock, ids)
    # More April activity touching March's overdue issues: a reassignment, an extension, a cancellation.
    at(clock, 4, 10)
    flow.reassign(ids["B3"], by=OFFICE, new_lead="XIANGYUN", reason="调整")
    flow.accept(ids["B3"], by="XIANGYUN")
    flow.cancel(ids["B4"], by=OFFICE, reason="撤销")
    flow.assign("新问题", lead="BINCHUAN", due="2026-04-20", by=OFFICE)
    at(clock, 4, 30, 18)
    flow.sweep()
    at(clock, 5, 6)
    after = flow.bulletin("2026-03")
    assert after.produced_at != before.produced_at
    assert attrs.evolve(after, produced_at=before.produced_at) == before
    assert dict(after.overdue) == dict(before.overdue) and dict(after.facts) == dict(before.facts)
    for (fmt, lang), text in texts.items():
        now = after.render(fmt, lang)
        if fmt == "json":
            assert without_produced_at(now) == without_produced_at(text)
        else:
            strip = lambda s: [ln for ln in str(s).splitlines() if not ln.startswith(("生成时间", "Produced"))]  # noqa: E731
            assert strip(now) == strip(text)
    for table, text in tables.items():
        assert after.render("csv", table=table) == text
    # The April bulletin does see April.
    assert flow.bulletin("2026-04").facts != after.facts


def test_a_period_before_anything_happened(flow: govflow.Govflow, clock: FakeClock) -> None:
    bulletin = flow.bulletin("2026-01")
    assert bulletin.period == Period.parse("2026-01") and bulletin.previous == Period.parse("2025-12")
    assert set(bulletin.facts) == {"XIANGYUN", "BINCHUAN", "XIAZHUANG"}
    assert all(f.is_empty() for f in bulletin.facts.values())
    assert {(s.unit, s.total, s.rank) for s in bulletin.scores} == {
        ("XIANGYUN", None, None), ("BINCHUAN", None, None), ("XIAZHUANG", None, None),
    }
    assert bulletin.red_list == () and bulletin.black_list == ()
    assert dict(bulletin.overdue) == {} and list(bulletin.overdue_issues()) == []
    assert all(c.change is None and c.rank_change is None for c in bulletin.changes)
    assert bulletin.totals() == UnitFacts("*")
    assert bulletin.issue_ids() == []
    markdown = str(bulletin.render("markdown"))
    assert markdown.startswith("# 2026年1月问题清单办理情况通报\n")
    for heading in ("## 红榜\n\n无", "## 黑榜\n\n无", "## 期末逾期问题\n\n无"):
        assert heading in markdown
    assert "Red list\n\nnone" in str(bulletin.render("markdown", lang="en"))
    ranking = list(csv.reader(io.StringIO(str(bulletin.render("csv")).lstrip("\ufeff"))))
    assert sorted(row[2:4] for row in ranking[1:]) == sorted(
        [name, "本期无到期任务，不参与排名"] for name in ("祥云县", "宾川县", "下庄镇")
    )
    document = json.loads(bulletin.render("json"))
    assert document["red_list"] == document["black_list"] == document["overdue"] == []
    assert [s["total"] for s in document["scores"]] == [None, None, None]


def test_a_quiet_month_still_lists_what_is_left_overdue(flow: govflow.Govflow, clock: FakeClock) -> None:
    ids = run_march(flow, clock)
    at(clock, 6, 15)
    bulletin = flow.bulletin("2026-05")  # nothing at all happened in May
    assert {u: f.overdue_at_end for u, f in bulletin.facts.items()} == {"XIANGYUN": 1, "BINCHUAN": 3, "XIAZHUANG": 0}
    assert all(f.assigned == f.closed == f.feedbacks == 0 and not f.escalations for f in bulletin.facts.values())
    # Working days late on 1 June: B1 was due on 03-10 (Tuesday) and is late by every working day from
    # 03-11 on: 15 in March, 21 in April (清明 on 04-06), 19 in May (劳动节 05-01..05-05, 调休 on Saturday
    # 05-09) and 06-01 itself: 56. B3 and B4 were due a day and two later.
    assert [(i.title, i.due, i.days_overdue) for i in bulletin.overdue["BINCHUAN"]] == [
        ("问题 B1", dt.date(2026, 3, 10), 56), ("问题 B3", dt.date(2026, 3, 11), 55),
        ("问题 B4", dt.date(2026, 3, 12), 54),
    ]
    # A3 was assigned on 03-30, due 04-10, and never touched again.
    assert [(i.issue_id, i.due, i.days_overdue, i.state) for i in bulletin.overdue["XIANGYUN"]] == [
        (ids["A3"], dt.date(2026, 4, 10), 34, "assigned"),
    ]
    assert all(s.total is None for s in bulletin.scores)  # nothing fell due in May
    assert bulletin.red_list == () and bulletin.black_list == ()
    assert bulletin.issue_ids() == sorted(i.issue_id for i in bulletin.overdue_issues())


# -- renderers ----------------------------------------------------------------------------


@pytest.fixture
def march(flow: govflow.Govflow, clock: FakeClock) -> govflow.Bulletin:
    run_march(flow, clock)
    flow.add_unit("JIANSHE", "州住建局", level="department", parent="OFFICE")
    return flow.bulletin("2026-03")


@pytest.mark.parametrize("fmt", ["pdf", "MARKDOWN", "", "docx"])
def test_render_refuses_an_unknown_format_naming_the_known_ones(march: govflow.Bulletin, fmt: str) -> None:
    with pytest.raises(govflow.ValidationError) as info:
        march.render(fmt)
    message = str(info.value)
    for known in ("bulletin/markdown", "bulletin/csv", "bulletin/json"):
        assert known in message


@pytest.mark.parametrize("lang", ["fr", "ZH", "", None, "zh-CN"])
def test_render_refuses_an_unknown_language(march: govflow.Bulletin, lang: Any) -> None:
    for fmt in ("markdown", "csv", "json"):
        with pytest.raises(govflow.ValidationError, match="'zh' or 'en'"):
            march.render(fmt, lang=lang)


def test_csv_refuses_an_unknown_table(march: govflow.Bulletin) -> None:
    with pytest.raises(govflow.ValidationError) as info:
        march.render("csv", table="ledgers")
    assert "ledgers" in str(info.value)
    for table in ("ranking", "facts", "red_list", "black_list", "overdue", "changes"):
        assert table in str(info.value)


FACT_HEADINGS = {
    "单位": "unit", "交办数": "assigned", "按时签收数": "accepted_on_time", "到期数": "due",
    "按时反馈数": "fed_back_on_time", "销号数": "closed", "反馈数": "feedbacks", "一次通过数": "first_pass",
    "退回重办数": "rejections", "延期数": "extensions", "期末逾期数": "overdue_at_end", "协办数": "cooperating",
    "平均满意度": "mean_rating", "催办": "urge", "督办": "supervise", "约谈": "interview",
}


def test_csv_has_a_bom_and_parses_back_to_the_facts(march: govflow.Bulletin) -> None:
    flow = march.flow
    text = march.render("csv", table="facts")
    assert isinstance(text, str) and text.startswith("\ufeff") and not text.startswith("\ufeff\ufeff")
    raw = text.encode("utf-8")
    assert raw[:3] == b"\xef\xbb\xbf"
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert list(rows[0]) == list(FACT_HEADINGS)
    names = {u.name: u.id for u in flow.units()}
    facts = flow.facts("2026-03")
    found = {names[row["单位"]]: row for row in rows if row["单位"] != "合计"}
    assert list(found) == list(facts) == ["XIANGYUN", "BINCHUAN", "XIAZHUANG", "JIANSHE"]
    for unit, row in found.items():
        expected = facts[unit]
        for heading, field in FACT_HEADINGS.items():
            if field == "unit":
                continue
            if field == "mean_rating":
                want = expected.mean_rating
                assert (row[heading] == "") if want is None else float(row[heading]) == round(want, 2)
            elif field in ("urge", "supervise", "interview"):
                assert int(row[heading]) == expected.escalations.get(field, 0), (unit, heading)
            else:
                assert int(row[heading]) == getattr(expected, field), (unit, heading)
    total = next(row for row in rows if row["单位"] == "合计")
    assert int(total["交办数"]) == sum(f.assigned for f in facts.values()) == 11
    assert int(total["期末逾期数"]) == 3 and int(total["约谈"]) == 1
    assert float(total["平均满意度"]) == round(18 / 5, 2)
    # The ranking table carries each unit's rank and total.
    ranking = list(csv.reader(io.StringIO(str(march.render("csv")).lstrip("\ufeff"))))
    assert ranking[0][:5] == ["层级", "本级排名", "单位", "综合得分", "等次"]
    assert [row[1:4] for row in ranking[1:]] == [
        ["1", "祥云县", "93"], ["2", "宾川县", "32"], ["1", "下庄镇", "72.33"],
        ["", "州住建局", "本期无到期任务，不参与排名"],
    ]
    english = list(csv.reader(io.StringIO(str(march.render("csv", lang="en", table="facts")).lstrip("\ufeff"))))
    assert english[0][:3] == ["Unit", "Assigned", "Accepted on time"]


def test_json_parses_and_its_facts_are_flow_facts(march: govflow.Bulletin) -> None:
    flow = march.flow
    document = json.loads(march.render("json"))
    assert (document["period"], document["previous"], document["lang"]) == ("2026-03", "2026-02", "zh")
    assert document["title"] == "2026年3月问题清单办理情况通报"
    facts = flow.facts("2026-03")
    assert list(document["facts"]) == list(facts)
    assert {u: facts_from_json(u, row) for u, row in document["facts"].items()} == facts
    assert {u: row["mean_rating"] for u, row in document["facts"].items()} == {
        u: f.mean_rating for u, f in facts.items()
    }
    scores = flow.scores("2026-03")
    assert [(s["unit"], s["total"], s["rank"], s["grade"]) for s in document["scores"]] == [
        (s.unit, s.total, s.rank, flow.scoring.grade(s.total)) for s in scores
    ]
    assert document["units"]["JIANSHE"] == {"name": "州住建局", "level": "department", "parent": "OFFICE"}
    assert [u["unit"] for u in document["red_list"]] == ["XIANGYUN"]
    assert [u["unit"] for u in document["black_list"]] == ["BINCHUAN"]
    assert document["black_list"][0]["interviews"] == 1
    assert document["black_list"][0]["reasons"] == ["bottom", "interview"]
    assert document["issuer"] == "大理州领导小组办公室"
    assert [(s["grade"], s["grade_label"]) for s in document["scores"]] == [
        ("优秀", "优秀"), ("不合格", "不合格"), ("合格", "合格"), (None, ""),
    ]
    english = json.loads(march.render("json", lang="en"))
    assert english["title"] == "Problem list bulletin, March 2026" and english["labels"]["red_list"] == "Red list"
    assert english["facts"] == document["facts"]
    # The policy's grade stays as it is; its English name is alongside.
    assert [(s["grade"], s["grade_label"]) for s in english["scores"]] == [
        ("优秀", "excellent"), ("不合格", "fail"), ("合格", "pass"), (None, ""),
    ]


def test_markdown_in_chinese_and_in_english(march: govflow.Bulletin) -> None:
    zh = march.render("markdown")
    assert isinstance(zh, str) and zh.startswith("# 2026年3月问题清单办理情况通报\n")
    for text in ("祥云县", "宾川县", "下庄镇", "州住建局", "红榜", "黑榜", "期末逾期问题", "考评得分与排名", "被约谈",
                 "问题 B1"):
        assert text in zh, text
    en = march.render("markdown", lang="en")
    assert isinstance(en, str) and en.startswith("# Problem list bulletin, March 2026\n")
    for text in ("Red list", "Black list", "Scores and ranking", "Figures by unit", "Issues overdue at the end",
                 "Changes since February 2026", "祥云县", "county", "interviewed"):
        assert text in en, text
    for text in ("红榜", "黑榜", "考评得分与排名", "生成时间"):
        assert text not in en, text
    # The ranking's indicator columns are points, and say so; deductions are points already.
    zh_head = next(line for line in zh.splitlines() if line.startswith("| 层级 |"))
    assert zh_head.split(" | ")[5:] == ["及时签收率得分", "按时办结率得分", "销号率得分", "一次核验通过率得分",
                                        "发回重办率（反向）得分", "满意率得分", "督办扣分", "约谈扣分 |"]
    en_head = next(line for line in en.splitlines() if line.startswith("| Level |"))
    assert en_head.split(" | ")[:6] == ["| Level", "Rank in level", "Unit", "Total", "Grade",
                                        "accepted on time (points)"]
    assert "supervision notice deduction | interview deduction |" in en_head
    # Grades in the reader's language: 祥云县 93 优秀, 宾川县 32 不合格, 下庄镇 72.33 合格.
    assert "| 县（市、区） | 1 | 祥云县 | 93 | 优秀 |" in zh and "| 乡（镇） | 1 | 下庄镇 | 72.33 | 合格 |" in zh
    assert "| county | 1 | 祥云县 | 93 | excellent |" in en and "| county | 2 | 宾川县 | 32 | fail |" in en
    assert "| township | 1 | 下庄镇 | 72.33 | pass |" in en
    for grade in ("优秀", "不合格", "合格"):
        assert grade not in en, grade


def test_the_header_names_the_issuer_and_when_it_was_produced(flow: govflow.Govflow, clock: FakeClock) -> None:
    run_march(flow, clock)
    at(clock, 4, 1)
    clock.tick = dt.timedelta(0)  # the clock stands still while the bulletin is produced
    bulletin = flow.bulletin("2026-03")
    assert bulletin.produced_at == dt.datetime(2026, 4, 1, 9, tzinfo=SH)
    assert bulletin.issuer == "大理州领导小组办公室"  # the supervisor unit
    assert (bulletin.produced_on(), bulletin.produced_on("en")) == ("2026年4月1日 09:00", "1 April 2026, 09:00")
    zh = str(bulletin.render("markdown")).splitlines()
    assert zh[:5] == ["# 2026年3月问题清单办理情况通报", "", "发布单位: 大理州领导小组办公室  ",
                      "生成时间: 2026年4月1日 09:00", ""]
    en = str(bulletin.render("markdown", lang="en")).splitlines()
    assert en[:5] == ["# Problem list bulletin, March 2026", "", "Issued by: 大理州领导小组办公室  ",
                      "Produced: 1 April 2026, 09:00", ""]
    html = str(bulletin.render("html", lang="en"))
    assert "Issued by: 大理州领导小组办公室" in html and "Produced: 1 April 2026, 09:00" in html
    # An instant in another zone is shown in Shanghai time.
    utc = attrs.evolve(bulletin, produced_at=dt.datetime(2026, 3, 31, 17, 5, tzinfo=dt.timezone.utc))
    assert (utc.produced_on(), utc.produced_on("en")) == ("2026年4月1日 01:05", "1 April 2026, 01:05")


def test_without_a_supervisor_unit_there_is_no_issuer_line(clock: FakeClock) -> None:
    clock.tick = dt.timedelta(0)  # the clock stands still while the bulletin is produced
    with govflow.open(":memory:", clock=clock) as flow:
        flow.add_unit("XIANGYUN", "祥云县", level="county")
        bulletin = flow.bulletin("2026-02")
        assert bulletin.issuer is None
        assert json.loads(bulletin.render("json"))["issuer"] is None
        markdown = str(bulletin.render("markdown")).splitlines()
        assert markdown[2] == "生成时间: 2026年3月2日 09:00" and not any("发布单位" in line for line in markdown)


def test_every_label_has_chinese_and_english_text() -> None:
    assert len(BULLETIN_LABELS) > 50
    for key, pair in BULLETIN_LABELS.items():
        assert isinstance(pair, tuple) and len(pair) == 2, key
        zh, en = pair
        assert isinstance(zh, str) and zh.strip(), key
        assert isinstance(en, str) and en.strip(), key
    for key in ("title", "red_list", "black_list", "overdue", "responsible_first", "responsible_direct",
                "step_interview", "level_county", "level_township", "reason_interview"):
        assert key in BULLETIN_LABELS


def test_the_title_and_period_names() -> None:
    cases = {
        "2026-03": ("2026年3月", "March 2026"), "2025-12": ("2025年12月", "December 2025"),
        "2026-Q1": ("2026年第一季度", "Q1 2026"), "2026-Q4": ("2026年第四季度", "Q4 2026"),
        "2026": ("2026年", "2026"),
    }
    from govflow._reports.bulletin.build import period_name

    for text, (zh, en) in cases.items():
        period = Period.parse(text)
        assert (period_name(period, "zh"), period_name(period, "en")) == (zh, en)


# -- periods and the ledger ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "previous"),
    [
        ("2026-03", "2026-02"), ("2026-01", "2025-12"), ("2026-12", "2026-11"), ("2000-01", "1999-12"),
        ("2026-Q1", "2025-Q4"), ("2026-Q3", "2026-Q2"), ("2026-Q4", "2026-Q3"),
        ("2026", "2025"), ("2000", "1999"),
    ],
)
def test_the_previous_period(text: str, previous: str) -> None:
    period = Period.parse(text)
    before = period.previous()
    assert str(before) == previous and before.kind == period.kind
    assert before.end == period.start
    assert before < period


def test_the_first_period_has_no_previous() -> None:
    with pytest.raises(govflow.ValidationError):
        Period.parse("1900-01").previous()


def test_the_bulletin_of_a_quarter_compares_with_the_quarter_before(flow: govflow.Govflow, clock: FakeClock) -> None:
    run_march(flow, clock)
    bulletin = flow.bulletin("2026-Q1")
    assert bulletin.previous == Period.parse("2025-Q4")
    assert dict(bulletin.facts) == flow.facts("2026-03")
    assert bulletin.title() == "2026年第一季度问题清单办理情况通报"
    assert bulletin.title("en") == "Problem list bulletin, Q1 2026"


def test_the_ledger_narrowed_by_since_and_until(flow: govflow.Govflow, clock: FakeClock) -> None:
    ids = run_march(flow, clock)
    everything = flow.ledger()
    since = dt.datetime(2026, 3, 10, tzinfo=SH)
    until = dt.datetime(2026, 3, 20, tzinfo=SH)
    window = flow.ledger(since=since, until=until)
    assert window == [e for e in everything if since <= e.at < until]
    assert window and window[0].at >= since and window[-1].at < until
    assert flow.ledger(since=since) == [e for e in everything if e.at >= since]
    assert flow.ledger(until=until) == [e for e in everything if e.at < until]
    # The same instants given in UTC select the same entries.
    utc = dt.timezone.utc
    assert flow.ledger(since=since.astimezone(utc), until=until.astimezone(utc)) == window
    # Exactly at an entry's instant: since includes it, until excludes it.
    pivot = window[3]
    assert flow.ledger(since=pivot.at, until=pivot.at + dt.timedelta(microseconds=1)) == [
        e for e in everything if e.at == pivot.at
    ]
    assert pivot not in flow.ledger(since=since, until=pivot.at)
    assert flow.ledger(since=until, until=since) == []
    one = flow.ledger(ids["T1"], since=since, until=until)
    assert one == [e for e in everything if e.issue_id == ids["T1"] and since <= e.at < until]
    assert [e.trigger for e in one] == ["report", "reject", "implement", "report", "verify"]


@pytest.mark.parametrize("which", ["since", "until"])
def test_the_ledger_refuses_naive_datetimes(flow: govflow.Govflow, clock: FakeClock, which: str) -> None:
    run_march(flow, clock)
    naive = dt.datetime(2026, 3, 10)
    with pytest.raises(govflow.ValidationError) as info:
        flow.ledger(**{which: naive})
    assert which in str(info.value) and "timezone-aware" in str(info.value)
    with pytest.raises(govflow.ValidationError):
        flow.ledger(flow.issues()[0].id, **{which: naive})


# -- ties at the edge of a list -----------------------------------------------------------


def neglect(flow: govflow.Govflow, clock: FakeClock, unit: str) -> str:
    """Give ``unit`` one issue due in March that it never touches: 0 points; return its id."""
    at(clock, 3, 2)
    return flow.assign(f"{unit} 未办问题", lead=unit, due=dt.date(2026, 3, 10), by=OFFICE).id


@pytest.mark.parametrize(
    ("totals", "red", "black"),
    [
        # Every unit tied at 100: listing the tie would pass half (2 of 4), on either list: no list at all.
        ((100.0, 100.0, 100.0, 100.0), [], []),
        # Half of 3 is 1; the two at 100 tie for it: neither is listed. The bottom one (0) is half of 3.
        ((100.0, 100.0, 0.0), [], ["C03"]),
        # 10 scored, half is 5: a tie at fifth and sixth would make 6, so the tie is left out: 4 listed.
        ((100.0, 96.0, 92.0, 90.0, 86.0, 86.0, 84.0, 82.0, 78.0, 74.0), ["C01", "C02", "C03", "C04"],
         ["C10", "C09", "C08", "C07"]),
        # 12 scored, half is 6: the same tie fits, 6 listed.
        ((100.0, 96.0, 92.0, 90.0, 86.0, 86.0, 84.0, 82.0, 78.0, 74.0, 74.0, 74.0),
         ["C01", "C02", "C03", "C04", "C05", "C06"], ["C10", "C11", "C12", "C09", "C08"]),
        # 5 scored: the top 2 (half), then three tied at the bottom, past half: no one black-listed by score.
        ((100.0, 96.0, 74.0, 74.0, 74.0), ["C01", "C02"], []),
        # 4 scored with a tie at the second place: the first only; at the bottom 74 and 86 (2 of 4).
        ((100.0, 90.0, 90.0, 74.0), ["C01"], ["C04"]),
    ],
    ids=["all-at-100", "100-100-0", "10-tie-at-5th", "12-tie-at-5th", "tie-at-the-bottom", "4-tie-at-2nd"],
)
def test_a_tie_that_would_pass_half_of_a_list_is_left_out_whole(
    flow: govflow.Govflow, clock: FakeClock, totals: tuple[float, ...], red: list[str], black: list[str]
) -> None:
    units = add_level(flow, "C", "county", len(totals), "县")
    for unit, total in zip(units, totals, strict=True):
        if total == 0.0:
            neglect(flow, clock, unit)
        else:
            score(flow, clock, unit, total)
    at(clock, 4, 1, 0)
    bulletin = flow.bulletin("2026-03")
    assert [s.total for s in bulletin.scores if s.unit in units] == sorted(totals, reverse=True)
    assert [u.unit for u in bulletin.red_list] == red
    assert [u.unit for u in bulletin.black_list] == black
    scored = len(totals)
    assert len(bulletin.red_list) <= scored // 2 and len(bulletin.black_list) <= scored // 2
    # Whole ties only: a listed total is never shared with a unit left off the list (off the red list, for
    # the black list).
    for chosen, pool in ((bulletin.red_list, bulletin.scores),
                         (bulletin.black_list, [s for s in bulletin.scores if s.unit not in red])):
        names = {u.unit for u in chosen}
        edge = {u.total for u in chosen}
        assert not [s.unit for s in pool if s.total in edge and s.unit not in names]


# -- overdue issues: the persons named as of the period's end -----------------------------


def test_a_reassignment_after_the_period_does_not_change_its_overdue_persons(
    flow: govflow.Govflow, clock: FakeClock
) -> None:
    at(clock, 3, 2)
    people = {"first": "杨县长", "direct": "李站长"}
    named = flow.assign("排水沟堵塞", lead="XIANGYUN", due="2026-03-10", by=OFFICE, responsible=people).id
    cleared = flow.assign("占道经营", lead="BINCHUAN", due="2026-03-10", by=OFFICE,
                          responsible={"first": "赵县长", "direct": "钱主任"}).id
    at(clock, 3, 20)
    flow.reassign(cleared, by=OFFICE, new_lead="XIAZHUANG", reason="属地调整")  # in March: clears them
    at(clock, 4, 1)
    before = flow.bulletin("2026-03")
    persons = {i.issue_id: i.responsible for i in before.overdue_issues()}
    assert persons == {named: govflow.Responsible(**people), cleared: None}
    texts = {lang: before.render("json", lang) for lang in ("zh", "en")}
    markdown = before.render("markdown")
    at(clock, 4, 8)
    flow.reassign(named, by=OFFICE, new_lead="BINCHUAN", reason="调整")  # in April
    assert flow.get(named).responsible is None  # the issue itself no longer names them
    at(clock, 4, 9)
    after = flow.bulletin("2026-03")
    assert {i.issue_id: i.responsible for i in after.overdue_issues()} == persons
    assert [(i.issue_id, i.unit) for i in after.overdue_issues()] == [(named, "XIANGYUN"), (cleared, "XIAZHUANG")]

    def comparable(text: str | bytes) -> dict[str, Any]:
        document = without_produced_at(text)
        del document["as_of"]
        return document

    for lang, text in texts.items():
        assert comparable(after.render("json", lang)) == comparable(text)
    document = comparable(after.render("json"))
    assert [row["responsible"] for row in document["overdue"]] == [people, None]
    assert "杨县长" in markdown and "李站长" in str(after.render("markdown"))
    assert "赵县长" not in str(after.render("markdown"))
    # April's bulletin: the issue is BINCHUAN's now and the persons were cleared in April.
    at(clock, 5, 1, 0)
    april = {i.issue_id: (i.unit, i.responsible) for i in flow.bulletin("2026-04").overdue_issues()}
    assert april == {named: ("BINCHUAN", None), cleared: ("XIAZHUANG", None)}


def test_overdue_issues_without_persons_are_read_from_the_ledger_only_when_touched_since_the_end(
    flow: govflow.Govflow, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No store.ledger call per overdue issue without persons: only for those with a step since the period's end."""
    people = {"first": "杨县长", "direct": "李站长"}
    named = govflow.Responsible(**people)

    def batch(month: int, size: int) -> dict[str, list[str]]:
        """``size`` issues of each kind, assigned on the 2nd of ``month``, due on the 10th and left alone."""
        kinds: dict[str, list[str]] = {"never": [], "cleared": [], "later": []}
        at(clock, month, 2)
        for n in range(size):
            for kind, ids in kinds.items():
                ids.append(flow.assign(f"{kind} {month}-{n}", lead="XIANGYUN", due=dt.date(2026, month, 10),
                                       by=OFFICE, responsible=None if kind == "never" else people).id)
        return kinds

    def reassign(ids: list[str], month: int, day: int) -> None:
        at(clock, month, day)
        for issue_id in ids:
            flow.reassign(issue_id, by=OFFICE, new_lead="XIAZHUANG", reason="属地调整")

    store = flow.store
    read = store.ledger
    calls: list[str | None] = []

    def counted(issue_id: str | None = None, **options: Any) -> Any:
        # Neither the checkpoint's read of the ledger's last week nor the facts' reads of the period's
        # field-loop steps (回访, 退回交办, 恢复, 提级督办) are an issue's read.
        if issue_id is not None and options.get("trigger") not in (
                "callback", "return_to_dispatcher", "resume", "reject", "reassign"):
            calls.append(issue_id)
        return read(issue_id, **options)

    def overdue(period: str) -> tuple[dict[str, govflow.Responsible | None], list[str | None]]:
        """The overdue issues' persons in ``period``'s bulletin, and the store.ledger calls building it made."""
        calls.clear()
        with monkeypatch.context() as patch:
            patch.setattr(store, "ledger", counted)
            bulletin = flow.bulletin(period)
        found = {i.issue_id: i.responsible for i in bulletin.overdue_issues()}
        for issue_id, shown in found.items():  # the reference: the issue's own ledger up to the period's end
            expected: govflow.Responsible | None = None
            for entry in store.ledger(issue_id, until=bulletin.as_of):
                if entry.trigger == "assign":
                    expected = govflow.Responsible(**entry.data["responsible"]) if "responsible" in entry.data \
                        else None
                elif entry.trigger == "reassign":
                    expected = None
            assert shown == expected, issue_id
        return found, list(calls)

    march = batch(3, 1)
    reassign(march["cleared"], 3, 20)
    at(clock, 4, 1)
    persons, reads = overdue("2026-03")
    assert persons == {march["never"][0]: None, march["cleared"][0]: None, march["later"][0]: named}
    assert reads == []  # two issues without persons, nothing since the end: no read

    april = batch(4, 4)
    reassign(march["later"] + april["cleared"], 4, 20)
    at(clock, 5, 1)
    persons, reads = overdue("2026-04")
    assert len(persons) == 15 and [i for i, p in persons.items() if p is not None] == april["later"]
    assert reads == []  # eleven issues without persons: still no read

    reassign(april["later"], 5, 6)  # after April: its bulletin still names them, read from their ledgers
    persons, reads = overdue("2026-04")
    assert [i for i, p in persons.items() if p is not None] == april["later"]
    assert sorted(reads, key=str) == sorted(april["later"])  # one read each for the four touched since the end
    persons, reads = overdue("2026-03")  # March's: one reassigned after March, one untouched since
    assert persons == {march["never"][0]: None, march["cleared"][0]: None, march["later"][0]: named}
    assert reads == march["later"]


# -- escaping in CSV and Markdown ---------------------------------------------------------

FORMULA = '=HYPERLINK("http://x","y")'


def test_csv_cells_that_look_like_formulas_get_a_leading_apostrophe(flow: govflow.Govflow, clock: FakeClock) -> None:
    flow.add_unit("EVIL", FORMULA, level="county", parent="OFFICE")
    flow.add_unit("IDLE", "+86 办事处", level="department", parent="OFFICE")
    at(clock, 3, 2, 8)
    titles = [FORMULA, "+1 加分", "-2 扣分", "@SUM(A1)", "普通问题"]
    for title in titles:
        flow.assign(title, lead="EVIL", due="2026-03-06", by=OFFICE)
    run_march(flow, clock)
    at(clock, 4, 1)
    bulletin = flow.bulletin("2026-03")
    ranking = list(csv.reader(io.StringIO(str(bulletin.render("csv")).lstrip("\ufeff"))))
    rows = {row[2]: row for row in ranking[1:]}
    assert "'" + FORMULA in rows and "'+86 办事处" in rows and FORMULA not in rows
    # Numbers stay numbers: 宾川县's deductions are -3 and -2, not text.
    head = ranking[0]
    binchuan = rows["宾川县"]
    assert (binchuan[head.index("督办扣分")], binchuan[head.index("约谈扣分")]) == ("-3", "-2")
    assert rows["'" + FORMULA][3] not in ("", "本期无到期任务，不参与排名")  # scored: 5 issues fell due
    overdue = list(csv.reader(io.StringIO(str(bulletin.render("csv", table="overdue")).lstrip("\ufeff"))))
    evil = [row for row in overdue[1:] if row[0] == "'" + FORMULA]
    assert sorted(row[2] for row in evil) == sorted(["'" + FORMULA, "'+1 加分", "'-2 扣分", "'@SUM(A1)", "普通问题"])
    assert all(row[4].isdigit() for row in evil)  # working days overdue: a number, as it was
    for table in ("ranking", "facts", "red_list", "black_list", "overdue", "changes"):
        for row in csv.reader(io.StringIO(str(bulletin.render("csv", table=table)).lstrip("\ufeff"))):
            for cell in row:
                assert cell[:1] not in ("=", "+", "@"), (table, cell)
                assert not cell.startswith("-") or cell.lstrip("-").replace(".", "", 1).isdigit(), (table, cell)


def test_markdown_escapes_html_line_breaks_and_bars(flow: govflow.Govflow, clock: FakeClock) -> None:
    flow.add_unit("ODD", "<i>斜</i>县 & 区", level="county", parent="OFFICE")
    at(clock, 3, 2)
    title = "<script>alert(1)</script> a|b & c\n第二行"
    flow.assign(title, lead="ODD", due="2026-03-06", by=OFFICE)
    at(clock, 4, 1)
    markdown = str(flow.bulletin("2026-03").render("markdown"))
    assert "<script>" not in markdown and "<i>" not in markdown
    row = next(line for line in markdown.splitlines() if "alert(1)" in line)
    assert "&lt;script&gt;alert(1)&lt;/script&gt; a\\|b &amp; c 第二行" in row
    assert "| &lt;i&gt;斜&lt;/i&gt;县 &amp; 区 |" in row
    # Every table row still has as many cells as its header: the bar in the title does not add one.
    lines = markdown.splitlines()
    head = lines.index(row)
    while lines[head - 1].startswith("|"):
        head -= 1
    cells = lambda line: len(line.replace("\\|", "").split("|"))  # noqa: E731
    assert cells(row) == cells(lines[head])


@pytest.mark.parametrize("fmt", ["csv", "markdown", "json"])
def test_render_refuses_a_second_bulletin(march: govflow.Bulletin, fmt: str) -> None:
    with pytest.raises(govflow.ValidationError) as info:
        march.render(fmt, bulletin=march)
    assert info.value.field == "bulletin"


# -- a plugin's indicator for some levels only ---------------------------------------------


class TownshipBonus:
    """A deployment's indicator for townships only: 3 bonus points."""

    name = "township-bonus"

    @govflow.hookimpl
    def govflow_score_unit(self, unit: govflow.Unit, period: str, facts: Any) -> list[Any] | None:
        if unit.level != "township":
            return None
        return [govflow.Indicator("village_bonus", "村级加分", "village bonus", None, 3.0, 3.0)]


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_an_indicator_of_one_level_has_one_ranking_column(kind: str, tmp_path: Any, clock: FakeClock) -> None:
    import openpyxl

    from ..conftest import add_units

    target = ":memory:" if kind == "memory" else str(tmp_path / "flow.sqlite3")
    with govflow.open(target, clock=clock, plugins=[TownshipBonus()]) as flow:
        add_units(flow)
        run_march(flow, clock)
        at(clock, 4, 1)
        bulletin = flow.bulletin("2026-03")
        totals = {s.unit: s.total for s in bulletin.scores}
        assert totals == {"XIANGYUN": 93.0, "BINCHUAN": 32.0, "XIAZHUANG": 75.33}  # 72.33 + 3
        for lang, heading in (("zh", "村级加分得分"), ("en", "village bonus (points)")):
            # Markdown: one column, last; 3 for the township, empty for the counties.
            markdown = str(bulletin.render("markdown", lang))
            lines = [ln for ln in markdown.splitlines() if ln.startswith("| ")]
            head = next(ln for ln in lines if ln.startswith(("| 层级 |", "| Level |")))
            columns = [c.strip() for c in head.strip("|").split("|")]
            assert columns.count(heading) == 1 and columns[-1] == heading, columns
            start = lines.index(head)
            rows = {}
            for line in lines[start + 1:]:
                cells = [c.strip() for c in line.strip("|").split("|")]
                if len(cells) != len(columns):
                    break
                rows[cells[2]] = cells
            assert (rows["祥云县"][-1], rows["宾川县"][-1], rows["下庄镇"][-1]) == ("", "", "3")
            # CSV: the same column.
            ranking = list(csv.reader(io.StringIO(str(bulletin.render("csv", lang)).lstrip("\ufeff"))))
            assert ranking[0].count(heading) == 1 and ranking[0][-1] == heading
            assert {row[2]: row[-1] for row in ranking[1:]} == {"祥云县": "", "宾川县": "", "下庄镇": "3"}
            assert all(len(row) == len(ranking[0]) for row in ranking)
            # The xlsx ranking sheet: the same column, a number for the township, empty for the counties.
            book = openpyxl.load_workbook(io.BytesIO(bulletin.render("xlsx", lang)))  # type: ignore[arg-type]
            ws = book[BULLETIN_LABELS["ranking"][0 if lang == "zh" else 1]]
            sheet_rows = list(ws.iter_rows(values_only=True))
            sheet_head = [h for h in sheet_rows[0] if h is not None]
            assert sheet_head.count(heading) == 1 and sheet_head[-1] == heading
            column = sheet_head.index(heading)
            values = {row[2]: row[column] for row in sheet_rows[1:] if row[2] is not None}
            assert values == {"祥云县": None, "宾川县": None, "下庄镇": 3}


# -- month to date ------------------------------------------------------------------------


def test_a_month_not_over_is_counted_up_to_now(flow: govflow.Govflow, clock: FakeClock) -> None:
    at(clock, 3, 2)
    late = flow.assign("三月十日到期", lead="XIANGYUN", due="2026-03-10", by=OFFICE,
                       responsible={"first": "杨县长"}).id
    later = flow.assign("三月二十日到期", lead="XIANGYUN", due="2026-03-20", by=OFFICE).id
    early = flow.assign("三月十一日到期", lead="XIANGYUN", due="2026-03-11", by=OFFICE).id
    flow.accept(late, by="XIANGYUN")
    flow.accept(early, by="XIANGYUN")
    at(clock, 3, 9)
    flow.implement(early, by="XIANGYUN", note="已整改")
    flow.report(early, by="XIANGYUN", result="已完成")
    flow.verify(early, by=OFFICE, rating=5)
    at(clock, 3, 12, 10)
    clock.tick = dt.timedelta(0)
    now = clock.now
    bulletin = flow.bulletin("2026-03")
    assert bulletin.as_of == now and bulletin.produced_at == now
    # Due so far: the issues due 03-10 and 03-11 (before today), not the one due 03-20.
    facts = flow.facts("2026-03")["XIANGYUN"]
    assert (facts.assigned, facts.due, facts.fed_back_on_time, facts.closed, facts.overdue_at_end) == (3, 2, 1, 1, 1)
    assert bulletin.facts["XIANGYUN"] == facts
    # Overdue today: the issue due 03-10, late on 03-11 and 03-12 (Wednesday and Thursday): 2 working days.
    assert [(i.issue_id, i.due, i.days_overdue, i.state, i.responsible) for i in bulletin.overdue_issues()] == [
        (late, dt.date(2026, 3, 10), 2, "assigned", govflow.Responsible("杨县长")),
    ]
    assert later not in {i.issue_id for i in bulletin.overdue_issues()}
    score_now = {s.unit: s for s in flow.scores("2026-03")}["XIANGYUN"]
    assert score_now.facts == facts and score_now.total is not None
    # The headers say up to when it was counted.
    zh = str(bulletin.render("markdown")).splitlines()
    assert zh[:6] == ["# 2026年3月问题清单办理情况通报", "", "发布单位: 大理州领导小组办公室  ",
                      "统计截至: 2026年3月12日 10:00  ", "生成时间: 2026年3月12日 10:00", ""]
    assert "Counted up to: 12 March 2026, 10:00" in str(bulletin.render("markdown", lang="en"))
    assert "统计截至: 2026年3月12日 10:00" in str(bulletin.render("html"))
    assert "Counted up to: 12 March 2026, 10:00" in str(bulletin.render("html", lang="en"))
    assert json.loads(bulletin.render("json"))["as_of"] == now.isoformat()
    # Something recorded after now (a clock set back) is not counted either.
    at(clock, 3, 13)
    flow.implement(late, by="XIANGYUN", note="已整改")
    flow.report(late, by="XIANGYUN", result="已完成")
    at(clock, 3, 12, 10)
    assert flow.bulletin("2026-03").facts == bulletin.facts
    # Once March is over, it is counted to its end: every issue fell due, and no 统计截至 line.
    at(clock, 4, 1)
    final = flow.bulletin("2026-03")
    assert final.as_of == final.period.end
    facts = final.facts["XIANGYUN"]
    assert (facts.due, facts.fed_back_on_time, facts.overdue_at_end) == (3, 1, 1)
    assert [i.issue_id for i in final.overdue_issues()] == [later]
    markdown = str(final.render("markdown"))
    assert "统计截至" not in markdown and "Counted up to" not in str(final.render("markdown", lang="en"))
    assert "统计截至: " not in str(final.render("html"))  # the header line (the footer names the last day)
    assert "Counted up to: " not in str(final.render("html", lang="en"))
    assert json.loads(final.render("json"))["as_of"] == final.period.end.isoformat()


def test_a_period_not_begun_counts_nothing(flow: govflow.Govflow, clock: FakeClock) -> None:
    """Asked on 12 March, April has nothing to count: no figures, no overdue issues (not March's)."""
    run_march(flow, clock)
    at(clock, 3, 12)
    clock.tick = dt.timedelta(0)
    assert all(facts.is_empty() for facts in flow.facts("2026-04").values())
    bulletin = flow.bulletin("2026-04")
    assert bulletin.overdue == {} and bulletin.red_list == () and bulletin.as_of == bulletin.period.start
    assert flow.bulletin("2026-03").as_of == bulletin.produced_at  # March is counted up to now


def test_a_bulletin_reads_the_clock_once(flow: govflow.Govflow, clock: FakeClock) -> None:
    """With a ticking clock, the figures, as_of and produced_at are all of one instant."""
    run_march(flow, clock)
    at(clock, 3, 20)
    clock.tick = dt.timedelta(minutes=1)
    bulletin = flow.bulletin("2026-03")
    assert bulletin.as_of == bulletin.produced_at
    workbook_rows = bulletin.render("xlsx")
    assert isinstance(workbook_rows, bytes)
    import openpyxl

    sheet = openpyxl.load_workbook(io.BytesIO(workbook_rows)).worksheets[0]
    assert sheet.cell(row=4, column=3).value == BULLETIN_LABELS["as_of"][0]
    assert sheet.cell(row=4, column=4).value == bulletin.as_of_text("zh")
