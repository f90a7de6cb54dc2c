"""Scoring (考评): the default indicators, totals, ranks, plugins and the year's evaluation."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import govflow
from govflow import Indicator, ScoringPolicy, Unit, UnitFacts
from govflow.testing import FakeClock

from ..conftest import STORES, add_units
from ..month_scenario import SH, at, run_april, run_march


def breakdown(score: govflow.UnitScore) -> dict[str, tuple[float | None, float]]:
    """Each indicator's (value, score), rounded to 2 decimals as a bulletin shows them."""
    return {i.name: (None if i.value is None else round(i.value, 2), round(i.score, 2)) for i in score.breakdown}


def by_unit(scores: list[Any]) -> dict[str, Any]:
    return {s.unit: s for s in scores}


def test_the_month_is_scored_exactly(flow: govflow.Govflow, clock: FakeClock) -> None:
    run_march(flow, clock)
    flow.add_unit("JIANSHE", "州住建局", level="department", parent="OFFICE")
    scores = flow.scores("2026-03")
    assert [(s.unit, s.total, s.rank) for s in scores] == [
        ("XIANGYUN", 93.0, 1), ("BINCHUAN", 32.0, 2), ("XIAZHUANG", 72.33, 1), ("JIANSHE", None, None),
    ]
    found = by_unit(scores)
    assert breakdown(found["XIANGYUN"]) == {
        "accepted_on_time": (50.0, 5.0), "fed_back_on_time": (100.0, 30.0), "closed": (100.0, 20.0),
        "first_pass": (100.0, 10.0), "rework": (100.0, 10.0), "satisfaction": (90.0, 18.0), "supervise": (None, 0.0),
        "interview": (None, 0.0),
    }
    assert breakdown(found["BINCHUAN"]) == {
        "accepted_on_time": (40.0, 4.0), "fed_back_on_time": (0.0, 0.0), "closed": (25.0, 5.0),
        "first_pass": (100.0, 10.0), "rework": (100.0, 10.0), "satisfaction": (40.0, 8.0), "supervise": (None, -3.0),
        "interview": (None, -2.0),
    }
    assert breakdown(found["XIAZHUANG"]) == {
        "accepted_on_time": (100.0, 10.0), "fed_back_on_time": (50.0, 15.0), "closed": (100.0, 20.0),
        "first_pass": (66.67, 6.67), "rework": (66.67, 6.67), "satisfaction": (70.0, 14.0), "supervise": (None, 0.0),
        "interview": (None, 0.0),
    }
    first = found["XIANGYUN"].breakdown[0]
    assert (first.label_zh, first.label_en, first.weight) == ("及时签收率", "accepted on time", 10.0)
    assert found["BINCHUAN"].breakdown[-1].count == 1 and found["BINCHUAN"].breakdown[-1].label("zh") == "约谈扣分"
    assert found["XIANGYUN"].facts == flow.facts("2026-03")["XIANGYUN"]
    assert found["JIANSHE"].level == "department" and found["JIANSHE"].facts.is_empty()


def test_indicators_that_do_not_apply_hand_their_weight_to_the_others(flow: govflow.Govflow, clock: FakeClock) -> None:
    ids = run_march(flow, clock)
    run_april(flow, clock, ids)
    at(clock, 5, 1, 0)  # April is over
    april = by_unit(flow.scores("2026-04"))
    # Nothing assigned in April and 100 on everything else: the full 100.
    assert april["XIANGYUN"].total == 100.0
    assert breakdown(april["XIANGYUN"])["accepted_on_time"] == (None, 0.0)
    assert breakdown(april["XIANGYUN"])["fed_back_on_time"] == (100.0, 33.33)
    assert april["BINCHUAN"].total is None and april["BINCHUAN"].rank is None


def test_the_past_month_scores_the_same_after_later_activity(flow: govflow.Govflow, clock: FakeClock) -> None:
    ids = run_march(flow, clock)
    at(clock, 4, 1, 0)  # March is over
    before = flow.scores("2026-03")
    run_april(flow, clock, ids)
    assert flow.scores("2026-03") == before


def test_the_year_is_the_workload_weighted_mean_of_the_months(flow: govflow.Govflow, clock: FakeClock) -> None:
    ids = run_march(flow, clock)
    run_april(flow, clock, ids)
    clock.now = dt.datetime(2027, 1, 4, 9, tzinfo=SH)  # the year is over: every month counts
    year = by_unit(flow.evaluation("2026"))
    # XIANGYUN: March 93 over 2 issues due, April 100 over 1: (186 + 100) / 3.
    assert (year["XIANGYUN"].score, year["XIANGYUN"].grade, year["XIANGYUN"].rank) == (95.33, "优秀", 1)
    assert (year["XIANGYUN"].due, year["XIANGYUN"].months) == (3, 2)
    assert (year["BINCHUAN"].score, year["BINCHUAN"].grade, year["BINCHUAN"].rank) == (32.0, "不合格", 2)
    assert (year["XIAZHUANG"].score, year["XIAZHUANG"].grade, year["XIAZHUANG"].rank) == (72.33, "合格", 1)
    assert [e.unit for e in flow.evaluation("2026")] == ["XIANGYUN", "BINCHUAN", "XIAZHUANG"]


def test_a_month_not_over_is_left_out_of_the_evaluation(flow: govflow.Govflow, clock: FakeClock) -> None:
    ids = run_march(flow, clock)
    run_april(flow, clock, ids)  # the clock is at 9 April
    at(clock, 4, 9, 10)
    flow.assign("四月下旬到期", lead="XIAZHUANG", due="2026-04-20", by="OFFICE")
    # April so far (month to date) counts what fell due before today: nothing yet (A3 is due 04-10).
    april = by_unit(flow.scores("2026-04"))
    assert (april["XIANGYUN"].total, april["XIAZHUANG"].total) == (None, None)
    at(clock, 4, 21)
    # On 04-21 both have fallen due: A3 was reported early, the issue due 04-20 was not.
    april = by_unit(flow.scores("2026-04"))
    assert (april["XIANGYUN"].total, april["XIAZHUANG"].total) == (100.0, 0.0)
    # April's figures are not final until it is over: the evaluation leaves it out.
    year = by_unit(flow.evaluation("2026"))
    # Only March is over: XIANGYUN 93 over 2 issues, XIAZHUANG 72.33 over 2, April left out.
    assert [(year[u].score, year[u].grade, year[u].due, year[u].months) for u in ("XIANGYUN", "XIAZHUANG")] == [
        (93.0, "优秀", 2, 1), (72.33, "合格", 2, 1),
    ]
    assert all(e.score is None and e.months == 0 for e in flow.evaluation("2026-Q2"))  # no month of it is over
    clock.now = dt.datetime(2026, 4, 30, 23, 59, tzinfo=SH)
    assert by_unit(flow.evaluation("2026"))["XIANGYUN"].months == 1  # a minute before April's end
    clock.now = dt.datetime(2026, 5, 1, 0, 0, tzinfo=SH)  # April is over: it counts, the issue due 04-20 too
    year = by_unit(flow.evaluation("2026"))
    assert [(year[u].score, year[u].due, year[u].months) for u in ("XIANGYUN", "XIAZHUANG")] == [
        (95.33, 3, 2), (48.22, 3, 2),
    ]


def policy_flow(kind: str, tmp_path: Path, clock: FakeClock, **options: Any) -> govflow.Govflow:
    target = ":memory:" if kind == "memory" else str(tmp_path / "flow.sqlite3")
    flow = govflow.open(target, clock=clock, **options)
    add_units(flow)
    return flow


@pytest.mark.parametrize("kind", STORES)
def test_weights_deductions_floor_and_grades_are_configurable(kind: str, tmp_path: Path, clock: FakeClock) -> None:
    policy = ScoringPolicy(
        weights={"fed_back_on_time": 50, "closed": 50}, deductions={"supervise": -5, "urge": -1}, floor=60,
        grades=((95.0, "A"), (50.0, "B")), fail_grade="C",
    )
    with policy_flow(kind, tmp_path, clock, scoring=policy) as flow:
        ids = run_march(flow, clock)
        run_april(flow, clock, ids)
        assert flow.scoring is policy
        march = by_unit(flow.scores("2026-03"))
        assert breakdown(march["XIAZHUANG"]) == {"fed_back_on_time": (50.0, 0.0), "closed": (100.0, 50.0),
                                                "supervise": (None, 0.0), "urge": (None, 0.0)}
        assert march["XIAZHUANG"].total == 50.0
        # BINCHUAN: 0 on time, 25 closed (below the floor), 3 督办 and 4 催办.
        assert breakdown(march["BINCHUAN"])["supervise"] == (None, -15.0)
        assert march["BINCHUAN"].total == 0.0
        year = by_unit(flow.evaluation("2026"))
        assert [(year[u].score, year[u].grade) for u in ("XIANGYUN", "BINCHUAN", "XIAZHUANG")] == [
            (100.0, "A"), (0.0, "C"), (50.0, "B"),
        ]


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"weights": {"speed": 10}}, "scoring.weights"),
        ({"weights": {"closed": -1}}, "scoring.weights.closed"),
        ({"deductions": {"nap": -1}}, "scoring.deductions"),
        ({"deductions": {"supervise": 1}}, "scoring.deductions.supervise"),
        ({"floor": 120}, "scoring.floor"),
        ({"accept_within": -1}, "scoring.accept_within"),
        ({"grades": ((60.0, "合格"), (90.0, "优秀"))}, "scoring.grades"),
    ],
)
def test_a_bad_policy_is_refused(options: dict[str, Any], field: str) -> None:
    with pytest.raises(govflow.ValidationError) as caught:
        ScoringPolicy(**options)
    assert caught.value.field == field


def test_open_refuses_something_that_is_not_a_policy() -> None:
    with pytest.raises(govflow.ValidationError, match="ScoringPolicy"):
        govflow.open(":memory:", scoring={"floor": 10})  # type: ignore[arg-type]


def test_grades() -> None:
    policy = ScoringPolicy()
    assert [policy.grade(t) for t in (100, 90, 89.99, 80, 60, 59.99, None)] == [
        "优秀", "优秀", "良好", "良好", "合格", "不合格", None,
    ]


class Innovation:
    """A deployment's own indicator: 2 bonus points for counties with an extension-free month."""

    name = "innovation"

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    @govflow.hookimpl
    def govflow_score_unit(self, unit: Unit, period: str, facts: Any) -> list[Any] | None:
        assert isinstance(facts, UnitFacts)
        self.calls.append((unit.id, period))
        if unit.level != "county":
            return None
        return [Indicator("innovation", "创新加分", "innovation bonus", None, 2.0, 2.0)]


@pytest.fixture
def innovation() -> Innovation:
    return Innovation()


@pytest.fixture(params=STORES)
def bonus_flow(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock, innovation: Innovation
) -> Iterator[govflow.Govflow]:
    with policy_flow(request.param, tmp_path, clock, plugins=[innovation]) as flow:
        yield flow


def test_a_plugin_adds_an_indicator_to_the_breakdown(
    bonus_flow: govflow.Govflow, clock: FakeClock, innovation: Innovation
) -> None:
    run_march(bonus_flow, clock)
    march = by_unit(bonus_flow.scores("2026-03"))
    assert [i.name for i in march["XIANGYUN"].breakdown][-1] == "innovation"
    assert march["XIANGYUN"].total == 95.0 and march["BINCHUAN"].total == 34.0
    assert "innovation" not in [i.name for i in march["XIAZHUANG"].breakdown]
    assert ("XIANGYUN", "2026-03") in innovation.calls and ("XIAZHUANG", "2026-03") in innovation.calls


def test_a_plugin_returning_something_else_is_named(tmp_path: Path, clock: FakeClock) -> None:
    class Broken:
        name = "broken"

        @govflow.hookimpl
        def govflow_score_unit(self, unit: Unit, period: str, facts: Any) -> list[Any] | None:
            return [{"name": "x"}]

    with policy_flow("memory", tmp_path, clock, plugins=[Broken()]) as flow, \
            pytest.raises(govflow.ValidationError, match="Indicator"):
        flow.scores("2026-03")


def test_weights_that_cannot_reach_100_are_refused_and_nothing_is_opened() -> None:
    with pytest.raises(govflow.ValidationError) as caught:
        ScoringPolicy(weights={"fed_back_on_time": 30, "closed": 20})
    message = str(caught.value)
    assert "add up to 50" in message and "normalise=True" in message and "points=50" in message


def test_normalised_weights_are_scaled_to_100_and_a_perfect_unit_scores_100(tmp_path: Path, clock: FakeClock) -> None:
    policy = ScoringPolicy(weights={"fed_back_on_time": 30, "closed": 20}, normalise=True)
    assert dict(policy.weights) == {"fed_back_on_time": 60.0, "closed": 40.0}
    with policy_flow("memory", tmp_path, clock, scoring=policy) as flow:
        flow.add_unit("PERFECT", "满分镇", level="county", parent="OFFICE")
        issue = flow.assign("排水沟", lead="PERFECT", due=flow.now().date(), by="OFFICE")
        flow.implement(issue.id, by="PERFECT", note="清淤")
        flow.report(issue.id, by="PERFECT", result="畅通")
        flow.verify(issue.id, by="OFFICE", rating=5)
        period = f"{flow.now():%Y-%m}"
        at(clock, 4, 1, 9)  # the month is over
        score = by_unit(flow.scores(period))["PERFECT"]
        assert score.total == 100.0
        assert policy.grade(score.total) == "优秀"


def test_points_below_100_leave_room_for_a_plugins_indicators() -> None:
    policy = ScoringPolicy(weights={"fed_back_on_time": 30, "closed": 20}, points=50)
    assert sum(policy.weights.values()) == 50
    for bad in ({"points": 0}, {"points": 150}, {"normalise": "yes"}):
        with pytest.raises(govflow.ValidationError):
            ScoringPolicy(**bad)  # type: ignore[arg-type]
    with pytest.raises(govflow.ValidationError, match="nothing to scale"):
        ScoringPolicy(weights={"closed": 0}, normalise=True)
