"""Period facts (月收集) from the ledger, on both stores."""

from __future__ import annotations

import datetime as dt

import attrs
import pytest

import govflow
from govflow import UnitFacts
from govflow.testing import FakeClock

from ..month_scenario import SH, at, run_april, run_march

MARCH = {
    "XIANGYUN": UnitFacts(
        "XIANGYUN", assigned=4, accepted_on_time=2, due=2, fed_back_on_time=2, closed=2, feedbacks=2,
        first_pass=2, ratings=2, rating_sum=9,
    ),
    "BINCHUAN": UnitFacts(
        "BINCHUAN", assigned=5, accepted_on_time=2, cooperating=1, due=4, fed_back_on_time=0, closed=1,
        feedbacks=1, first_pass=1, overdue_at_end=3, ratings=1, rating_sum=2,
        escalations={"due_soon": 8, "interview": 1, "overdue": 4, "supervise": 3, "urge": 4},
    ),
    "XIAZHUANG": UnitFacts(
        "XIAZHUANG", assigned=2, accepted_on_time=2, due=2, fed_back_on_time=1, closed=2, feedbacks=3,
        first_pass=1, rejections=1, extensions=1, ratings=2, rating_sum=7, escalations={"due_soon": 1},
    ),
}


def test_the_month_comes_out_exactly(flow: govflow.Govflow, clock: FakeClock) -> None:
    run_march(flow, clock)
    facts = flow.facts("2026-03")
    assert list(facts) == ["XIANGYUN", "BINCHUAN", "XIAZHUANG"]  # registration order, supervisors left out
    assert facts == MARCH
    assert facts["XIANGYUN"].mean_rating == 4.5
    assert facts["BINCHUAN"].supervised == 3 and facts["BINCHUAN"].interviews == 1
    assert facts["XIAZHUANG"].mean_rating == 3.5


def test_the_quarter_and_year_hold_the_month(flow: govflow.Govflow, clock: FakeClock) -> None:
    run_march(flow, clock)
    clock.now = dt.datetime(2027, 1, 1, 0, 0, tzinfo=SH)  # the quarter and the year are over
    assert flow.facts("2026-Q1") == MARCH
    year = flow.facts(govflow.Period.parse("2026"))
    # A3 falls due in April and, as far as the ledger knows yet, is not reported by the year's end.
    assert year == {**MARCH, "XIANGYUN": attrs.evolve(MARCH["XIANGYUN"], due=3, overdue_at_end=1)}
    assert all(f.is_empty() for f in flow.facts("2026-02").values())


def test_a_past_month_does_not_change_after_later_activity(flow: govflow.Govflow, clock: FakeClock) -> None:
    ids = run_march(flow, clock)
    at(clock, 4, 1, 0)  # March is over
    before = flow.facts("2026-03")
    run_april(flow, clock, ids)
    assert flow.facts("2026-03") == before == MARCH
    at(clock, 5, 1, 0)  # April is over too
    april = flow.facts("2026-04")
    # A3 was assigned in March and accepted late on 04-01: nothing assigned in April.
    assert april["XIANGYUN"] == UnitFacts(
        "XIANGYUN", due=1, fed_back_on_time=1, closed=1, feedbacks=1, first_pass=1, ratings=1, rating_sum=5
    )
    # B1 (due in March) was reported and rejected in April; its due date has passed, it is back with the unit.
    assert april["BINCHUAN"] == UnitFacts("BINCHUAN", feedbacks=1, rejections=1, overdue_at_end=3)


def test_an_extension_moves_the_current_due_date_but_not_the_original(
    flow: govflow.Govflow, clock: FakeClock
) -> None:
    at(clock, 3, 2)
    issue = flow.assign("延期", lead="XIANGYUN", due="2026-03-20", by="OFFICE")
    at(clock, 3, 19)
    flow.request_extension(issue.id, by="XIANGYUN", due="2026-04-10", reason="需协调")
    flow.approve_extension(issue.id, by="OFFICE")
    at(clock, 5, 1, 0)  # both months are over
    march = flow.facts("2026-03")["XIANGYUN"]
    assert (march.due, march.extensions, march.overdue_at_end) == (1, 1, 0)
    april = flow.facts("2026-04")["XIANGYUN"]
    assert (april.due, april.overdue_at_end) == (0, 1)


def test_a_rejection_with_a_new_due_date_moves_the_current_due_date(
    flow: govflow.Govflow, clock: FakeClock
) -> None:
    at(clock, 3, 2)
    issue = flow.assign("重办", lead="XIAZHUANG", due="2026-03-10", by="OFFICE")
    flow.implement(issue.id, by="XIAZHUANG", note="n")
    flow.report(issue.id, by="XIAZHUANG", result="r")
    at(clock, 3, 9)
    flow.reject(issue.id, by="OFFICE", reason="再查", due="2026-04-03")
    at(clock, 4, 1, 0)  # March is over
    march = flow.facts("2026-03")["XIAZHUANG"]
    assert (march.due, march.fed_back_on_time, march.rejections, march.overdue_at_end) == (1, 1, 1, 0)


def test_entries_are_placed_by_their_instant_whatever_their_offset(
    flow: govflow.Govflow, clock: FakeClock
) -> None:
    at(clock, 3, 2)
    issue = flow.assign("边界", lead="XIANGYUN", due="2026-04-10", by="OFFICE")
    # 2026-03-31T16:00Z is 2026-04-01 00:00 in Shanghai: April.
    clock.now = dt.datetime(2026, 3, 31, 16, 0, tzinfo=dt.timezone.utc)
    clock.tick = dt.timedelta(0)
    flow.reassign(issue.id, by="OFFICE", new_lead="BINCHUAN", reason="调整")
    # Both months are over (2026-04-30T16:00Z is 1 May 00:00 in Shanghai), whatever zone the clock reads in.
    clock.now = dt.datetime(2026, 4, 30, 16, 0, tzinfo=dt.timezone.utc)
    march, april = flow.facts("2026-03"), flow.facts("2026-04")
    assert march["XIANGYUN"].assigned == 1 and march["BINCHUAN"].assigned == 0
    assert april["BINCHUAN"].assigned == 1 and april["BINCHUAN"].due == 1


@pytest.mark.parametrize("text", ["2026-3", "March", "2026-Q5"])
def test_a_bad_period_is_refused(flow: govflow.Govflow, text: str) -> None:
    with pytest.raises(govflow.ValidationError, match="YYYY-MM"):
        flow.facts(text)


def test_the_acceptance_limit_is_configurable(tmp_path: object, clock: FakeClock) -> None:
    with govflow.open(":memory:", clock=clock, scoring=govflow.ScoringPolicy(accept_within=3)) as flow:
        flow.add_unit("OFFICE", "办公室", level="prefecture", supervisor=True)
        flow.add_unit("XIANGYUN", "祥云县", level="county", parent="OFFICE")
        at(clock, 3, 6)  # Friday: three working days run to Wednesday 03-11
        # The policy's limit holds issues without one of their own (accept_limit 0; version-1 issues) ...
        issue = flow.assign("签收", lead="XIANGYUN", due="2026-03-20", by="OFFICE", accept_limit=0)
        # ... an issue-list v2 issue is held to its own (its lifecycle's 1 working day: Monday 03-09).
        own = flow.assign("签收", lead="XIANGYUN", due="2026-03-20", by="OFFICE")
        at(clock, 3, 11, 17)
        flow.accept(issue.id, by="XIANGYUN")
        flow.accept(own.id, by="XIANGYUN")
        facts = flow.facts("2026-03")["XIANGYUN"]
        assert (facts.assigned, facts.accepted_on_time) == (2, 1)


def test_a_period_not_over_is_counted_up_to_now(flow: govflow.Govflow, clock: FakeClock) -> None:
    at(clock, 3, 2)
    late = flow.assign("三月十日到期", lead="XIANGYUN", due="2026-03-10", by="OFFICE")
    flow.assign("三月二十日到期", lead="XIANGYUN", due="2026-03-20", by="OFFICE")
    flow.accept(late.id, by="XIANGYUN")
    at(clock, 3, 12, 10)
    # Month, quarter and year to date: the issue due 03-10 has fallen due and is overdue; 03-20 not yet.
    for period in ("2026-03", "2026-Q1", "2026"):
        facts = flow.facts(period)["XIANGYUN"]
        assert (facts.assigned, facts.accepted_on_time, facts.due, facts.overdue_at_end) == (2, 1, 1, 1), period
    at(clock, 4, 1, 0)
    facts = flow.facts("2026-03")["XIANGYUN"]
    assert (facts.due, facts.overdue_at_end) == (2, 2)
