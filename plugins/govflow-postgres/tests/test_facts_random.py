"""The SQL period facts agree with the reference (``compute_facts``) on random histories.

The contract suite checks one scripted scenario; here random valid steps, clock jumps
and deadline sweeps make histories with reassignments, rejections, extensions, merges,
acceptance limits of each issue's own, its lifecycle's and the policy's (each different) and ladder steps
across period boundaries.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import random

import attrs
import pytest
from _pg_workers import COUNTIES, SUPERVISOR, one_step
from govflow_postgres import PostgresStore

import govflow
from govflow import InvalidTransition, Period, ValidationError
from govflow.storage import compute_facts, compute_overdue
from govflow.testing import FakeClock

PERIODS = ("2026-01", "2026-02", "2026-03", "2026-Q1", "2026")


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_facts_agree_with_the_reference_on_a_random_history(dsn: str, schema: str, seed: int) -> None:
    rng = random.Random(seed)
    field = random.Random(-seed)  # the field loop's draws (acceptance limits, merges) apart
    clock = FakeClock("2026-01-05T09:00:00+08:00")
    # The policy's acceptance limit (3 days) differs from the lifecycle's (1): both are counted.
    flow = govflow.open(PostgresStore(dsn, schema=schema), clock=clock, delivery="manual", calendar="weekdays",
                        scoring=govflow.ScoringPolicy(accept_within=3))
    try:
        flow.add_unit(SUPERVISOR, "州领导小组办公室", level="prefecture", supervisor=True)
        for county in COUNTIES:
            flow.add_unit(county, county, level="county", parent=SUPERVISOR)
        ids: list[str] = []
        for step in range(260):
            if not ids or rng.random() < 0.15:
                due = clock().date() + dt.timedelta(days=rng.randint(2, 40))
                lead = rng.choice(COUNTIES)
                others = [c for c in COUNTIES if c != lead]
                ids.append(flow.assign("问题", lead=lead, due=due.isoformat(), by=SUPERVISOR,
                                       cooperating=rng.sample(others, rng.randint(0, 2)),
                                       accept_limit=field.choice([None, None, 0, 2, 5])).id)  # 签收时限
            elif field.random() < 0.1:
                # 签收 soon after an assignment: within the lifecycle's limit, the policy's, or neither
                with contextlib.suppress(InvalidTransition, ValidationError):
                    flow.accept(ids[-1], by=flow.get(ids[-1]).lead)
            elif len(ids) > 1 and field.random() < 0.05:
                # 并案 by a plain fire: the original takes the duplicate in, and the duplicate's lead is
                # not counted for it; refused when either issue is closed
                duplicate, into = field.sample(ids, 2)
                with contextlib.suppress(InvalidTransition, ValidationError):
                    flow.fire(duplicate, "merge", by=SUPERVISOR, into=into, reason="重复")
            else:
                # refused (e.g. an extension whose date has passed): nothing written
                with contextlib.suppress(InvalidTransition, ValidationError):
                    one_step(flow, rng.choice(ids), rng)
            clock.advance(dt.timedelta(hours=rng.randint(0, 30)))
            if step % 15 == 14:
                flow.sweep()
        ledger = list(flow.store.ledger())
        assert any(e.trigger == "deadline" for e in ledger) and any(e.trigger == "reassign" for e in ledger)
        assert any(e.trigger == "take_merged" for e in ledger) and any("accept_by" in e.data for e in ledger)
        by_lifecycle = 0  # periods where the lifecycle's acceptance limit changes a figure
        for text in PERIODS:
            period = Period.parse(text)
            query = flow._facts_query(period, period.end)
            assert [key for key, _ in query.lifecycle_accept_by] == ["issue-list@2"]
            expected = compute_facts(ledger, query)
            assert flow.store.period_facts(query) == expected, text
            assert flow.store.overdue_at_end(query) == compute_overdue(ledger, query), text
            by_lifecycle += expected != compute_facts(ledger, attrs.evolve(query, lifecycle_accept_by=()))
        assert by_lifecycle, "the history should have acceptances the lifecycle's limit judges"
        flow.verify_ledger()
    finally:
        flow.close()


def test_overdue_issues_kept_with_the_facts_only_while_the_ledger_stays(dsn: str, schema: str) -> None:
    """``overdue_at_end`` answers from the last facts of the same query until a step moves the chain head."""
    clock = FakeClock("2026-03-02T09:00:00+08:00")
    flow = govflow.open(PostgresStore(dsn, schema=schema), clock=clock, delivery="manual", calendar="weekdays")
    try:
        flow.add_unit(SUPERVISOR, "州领导小组办公室", level="prefecture", supervisor=True)
        flow.add_unit(COUNTIES[0], COUNTIES[0], level="county", parent=SUPERVISOR)
        late = flow.assign("逾期", lead=COUNTIES[0], due="2026-03-05", by=SUPERVISOR)
        clock.advance(dt.timedelta(days=10))
        period = Period.parse("2026-03")  # the period's end is still ahead: later steps count
        query = flow._facts_query(period, period.end)
        before = flow.store.overdue_at_end(query)  # read by itself, before any facts
        assert [row.issue_id for row in before] == [late.id]
        assert flow.store.period_facts(query)[COUNTIES[0]].overdue_at_end == 1
        assert flow.store.overdue_at_end(query) == before  # kept with the facts
        flow.implement(late.id, by=COUNTIES[0], note="已整改")
        flow.report(late.id, by=COUNTIES[0], result="已完成")
        assert flow.store.overdue_at_end(query) == []  # the chain head moved: read again
        assert flow.store.period_facts(query)[COUNTIES[0]].overdue_at_end == 0
        assert flow.store.overdue_at_end(query) == compute_overdue(flow.store.ledger(), query) == []
    finally:
        flow.close()


def test_a_clock_set_back_is_counted_as_the_reference_counts_it(dsn: str, schema: str) -> None:
    """Entries in sequence order need not be in time order: an acceptance dated before the period that
    follows an assignment in it still answers that assignment (in the reference, and so here)."""
    clock = FakeClock("2026-03-02T09:00:00+08:00")
    flow = govflow.open(PostgresStore(dsn, schema=schema), clock=clock, delivery="manual", calendar="weekdays",
                        scoring=govflow.ScoringPolicy(accept_within=2))  # the lifecycle's limit (1) is counted
    try:
        flow.add_unit(SUPERVISOR, "州领导小组办公室", level="prefecture", supervisor=True)
        for county in COUNTIES[:2]:
            flow.add_unit(county, county, level="county", parent=SUPERVISOR)
        first = flow.assign("先", lead=COUNTIES[0], due="2026-04-30", by=SUPERVISOR)
        second = flow.assign("后", lead=COUNTIES[0], due="2026-04-30", by=SUPERVISOR)
        flow.reassign(second.id, by=SUPERVISOR, new_lead=COUNTIES[1], reason="属地调整")
        clock.set("2026-02-27T10:00:00+08:00")
        flow.accept(first.id, by=COUNTIES[0])
        flow.accept(second.id, by=COUNTIES[1])
        clock.set("2026-04-02T09:00:00+08:00")
        ledger = list(flow.store.ledger())
        for text in ("2026-02", "2026-03", "2026-Q1"):
            period = Period.parse(text)
            query = flow._facts_query(period, period.end)
            expected = compute_facts(ledger, query)
            assert flow.store.period_facts(query) == expected, text
        march = Period.parse("2026-03")
        query = flow._facts_query(march, march.end)
        assert flow.store.period_facts(query)[COUNTIES[1]].accepted_on_time == 1
    finally:
        flow.close()
