"""Roll-ups along the hierarchy, the bulletin's plan section in every format, and the 目标完成率 indicator."""

from __future__ import annotations

import csv
import io
import json

import openpyxl
import pytest

import govflow
from govflow.testing import FakeClock

from ..conftest import add_units


def close(flow: govflow.Govflow, issue_id: str, lead: str) -> None:
    flow.fire(issue_id, "implement", by=lead, note="n")
    flow.fire(issue_id, "report", by=lead, result="r")
    flow.fire(issue_id, "verify", by="OFFICE", rating=5)


def test_facts_and_scores_roll_up_to_the_unit_above(flow: govflow.Govflow, clock: FakeClock) -> None:
    county = flow.assign("县里的问题", lead="XIANGYUN", due="2026-03-10", by="OFFICE")
    town = flow.assign("镇里的问题", lead="XIAZHUANG", due="2026-03-10", by="OFFICE")
    flow.assign("镇里的逾期问题", lead="XIAZHUANG", due="2026-03-10", by="OFFICE")
    close(flow, county.id, "XIANGYUN")
    close(flow, town.id, "XIAZHUANG")
    clock.set("2026-04-02T09:00:00+08:00")
    own = flow.facts("2026-03")
    rolled = flow.facts("2026-03", rollup=True)
    assert list(rolled) == list(own)
    assert rolled["XIANGYUN"] == govflow.UnitFacts(
        "XIANGYUN", **{n: getattr(own["XIANGYUN"], n) + getattr(own["XIAZHUANG"], n)
                       for n in ("assigned", "due", "closed", "feedbacks", "first_pass", "fed_back_on_time",
                                 "overdue_at_end", "ratings", "rating_sum", "accepted_on_time", "cooperating",
                                 "rejections", "extensions")},
        escalations=rolled["XIANGYUN"].escalations)
    assert (rolled["XIANGYUN"].assigned, rolled["XIANGYUN"].closed, rolled["XIANGYUN"].overdue_at_end) == (3, 2, 1)
    assert rolled["XIAZHUANG"] == own["XIAZHUANG"] and rolled["BINCHUAN"] == own["BINCHUAN"]
    scores = {s.unit: s for s in flow.scores("2026-03", rollup=True)}
    assert scores["XIANGYUN"].facts == rolled["XIANGYUN"]
    assert scores["XIANGYUN"].total != {s.unit: s for s in flow.scores("2026-03")}["XIANGYUN"].total


@pytest.fixture
def planned(flow: govflow.Govflow, clock: FakeClock) -> govflow.Govflow:
    plan = flow.add_plan("试点<b>方案</b>", by="OFFICE", phases=[("建机制", "2026-03-20"), ("见成效", "2026-12-31")])
    flow.activate_plan(plan.id, by="OFFICE")
    top = flow.add_target(plan.id, "=HYPERLINK(\"http://x\")", unit="OFFICE", phase="建机制", by="OFFICE")
    flow.add_target(plan.id, "祥云<script>", unit="XIANGYUN", phase="建机制", by="OFFICE", parent=top.id,
                    responsible={"first": "张县长", "direct": "李主任"})
    done = flow.add_target(plan.id, "宾川", unit="BINCHUAN", phase="建机制", by="OFFICE", parent=top.id)
    flow.report_progress(done.id, by="BINCHUAN", progress=100, note="完成")
    flow.add_target(plan.id, "二期", unit="BINCHUAN", phase="见成效", by="OFFICE")
    clock.set("2026-04-01T09:00:00+08:00")
    return flow


def test_the_bulletin_shows_the_plans_in_every_format_escaped(planned: govflow.Govflow) -> None:
    bulletin = planned.bulletin("2026-03")
    (tree,) = bulletin.plans
    assert tree.as_of == bulletin.as_of and [n.target.title for n in tree.lagging()] == [
        "祥云<script>", "=HYPERLINK(\"http://x\")"]
    assert list(bulletin.rollup) == ["XIANGYUN"]
    md = bulletin.render("markdown")
    assert "## 工作方案进度" in md and "## 滞后目标" in md and "## 逐级汇总（含下级单位）" in md
    assert "祥云&lt;script&gt;" in md and "<script>" not in md
    assert "| 试点&lt;b&gt;方案&lt;/b&gt; | 阶段：建机制 | 50 | 100 | 50 | 1 | 2 |" in md
    page = bulletin.render("html")
    assert '<section id="timeline"' in page and "<svg" in page and "<script>" not in page
    assert "试点&lt;b&gt;方案&lt;/b&gt;" in page
    rows = list(csv.reader(io.StringIO(str(bulletin.render("csv", table="lagging")).lstrip("\ufeff"))))
    assert rows[1][2].startswith("'=HYPERLINK") or rows[2][2].startswith("'=HYPERLINK")
    assert ["张县长", "李主任"] in [r[-2:] for r in rows]
    document = json.loads(str(bulletin.render("json", "en")))
    assert document["plans"][0]["progress"] == pytest.approx(tree.progress)
    assert document["rollup"]["XIANGYUN"]["assigned"] == 0
    book = openpyxl.load_workbook(io.BytesIO(bulletin.render("xlsx", "en")))  # type: ignore[arg-type]
    lagging = book["Lagging targets"]
    cells = [lagging.cell(row=r, column=3) for r in range(2, lagging.max_row + 1)]
    formula = [c for c in cells if str(c.value).startswith("=HYPERLINK")]
    assert len(formula) == 1 and formula[0].data_type == "s"  # kept as text, never a formula


def test_a_past_bulletin_shows_the_plans_as_they_stood(planned: govflow.Govflow, clock: FakeClock) -> None:
    before = planned.bulletin("2026-03").render("json")
    (plan,) = planned.plans()
    target = next(t for t in planned.targets(plan.id) if t.unit == "XIANGYUN")
    planned.report_progress(target.id, by="XIANGYUN", progress=60, note="补报")
    assert planned.bulletin("2026-03").render("json") != before  # produced later: produced_at differs
    again = json.loads(str(planned.bulletin("2026-03").render("json")))
    assert again["plans"] == json.loads(str(before))["plans"]


def test_target_completion_is_an_optional_indicator(tmp_path, clock: FakeClock) -> None:
    weights = {**govflow.DEFAULT_WEIGHTS, "target_completion": 20.0}
    policy = govflow.ScoringPolicy(weights=weights, normalise=True)  # 120 points of weights, scaled to 100
    with govflow.open(":memory:", clock=clock, scoring=policy) as flow:
        add_units(flow)
        plan = flow.add_plan("方案", by="OFFICE", phases=[("一", "2026-03-31")], start="2026-03-01")
        flow.activate_plan(plan.id, by="OFFICE")
        a = flow.add_target(plan.id, "祥云", unit="XIANGYUN", phase="一", by="OFFICE")
        flow.add_target(plan.id, "宾川", unit="BINCHUAN", phase="一", by="OFFICE")
        flow.report_progress(a.id, by="XIANGYUN", progress=100, note="完成")
        for lead in ("XIANGYUN", "BINCHUAN"):
            flow.assign("问题", lead=lead, due="2026-03-10", by="OFFICE")
        clock.set("2026-04-01T09:00:00+08:00")
        scores = {s.unit: s for s in flow.scores("2026-03")}
        rate = {s: {i.name: i.value for i in scores[s].breakdown}["target_completion"] for s in scores}
        assert rate["XIANGYUN"] == 100 and rate["BINCHUAN"] == 0 and rate["XIAZHUANG"] is None
        points = {i.name: i.score for i in scores["XIANGYUN"].breakdown}["target_completion"]
        # weighted 20 of 120 (16.7 of 100), scaled up like every indicator when others do not apply
        # (no feedback, no rating: 80 of the 120 apply)
        assert points == pytest.approx(20.0 / 120 * 100 * 120 / 80)
        assert scores["XIANGYUN"].total - scores["BINCHUAN"].total == pytest.approx(points)
    with pytest.raises(govflow.ValidationError):
        govflow.ScoringPolicy(weights={"target_progress": 1.0})
