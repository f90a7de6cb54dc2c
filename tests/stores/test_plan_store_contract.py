"""The storage contract for work plans (``commit_plan``, ``plan_rows``, ``plan_ledger``, ``target_issue_states``),
run unchanged against every backend."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest

from govflow import ConcurrentUpdateError, LedgerDraft, Store, UnitOfWork
from govflow._core.ledger import verify_chain
from govflow.storage import PlanRow, PlanWork, compute_link_states

from .test_store_contract import STORE_FACTORIES, T0, make_issue

HOUR = dt.timedelta(hours=1)


@pytest.fixture(params=sorted(STORE_FACTORIES))
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    opened = STORE_FACTORIES[str(request.param)](tmp_path)
    yield opened
    opened.close()


def new_row(kind: str, plan_id: str = "", body: str = '{"x":1}') -> PlanWork:
    trigger = "add_plan" if kind == "plan" else "add_target"
    draft = LedgerDraft(issue_id="", issue_seq=1, trigger=trigger, from_state=None, to_state="active",
                        actor="OFFICE", person=None, at=T0, data={"kind": kind})
    scope = "PL-2026-" if kind == "plan" else "TG-2026-"
    return PlanWork(PlanRow("", kind, plan_id, 1, "active", body), 0, draft, id_scope=scope)


def step(row: PlanRow, at: dt.datetime, *, expected: int | None = None, state: str = "active") -> PlanWork:
    new = attrs.evolve(row, version=row.version + 1, state=state, body=f'{{"v":{row.version + 1}}}')
    draft = LedgerDraft(issue_id=row.id, issue_seq=new.version, trigger="report_progress", from_state=row.state,
                        to_state=state, actor="XIANGYUN", person=None, at=at, data={"progress": 10})
    return PlanWork(new, row.version if expected is None else expected, draft)


def contents(store: Store) -> tuple[object, ...]:
    return store.plan_rows(), list(store.ledger()), store.chain_head(), dict(store.issue_versions())


def test_rows_are_numbered_written_with_their_entries_and_read_back(store: Store) -> None:
    (plan, entry), = store.commit_plan([new_row("plan")])
    assert (plan.id, plan.plan_id, entry.issue_id, entry.seq) == ("PL-2026-0001", "PL-2026-0001", "PL-2026-0001", 1)
    written = store.commit_plan([new_row("target", plan.id), new_row("target", plan.id)])
    assert [row.id for row, _ in written] == ["TG-2026-0001", "TG-2026-0002"]
    assert [e.seq for _, e in written] == [2, 3]
    assert store.plan_rows(plan.id) == [plan, *(row for row, _ in written)]
    assert store.plan_rows(ids=["TG-2026-0002"]) == [written[1][0]]
    assert store.plan_rows("PL-2026-0099") == []
    assert store.issue_versions() == {"PL-2026-0001": (1, "active"), "TG-2026-0001": (1, "active"),
                                      "TG-2026-0002": (1, "active")}
    assert store.chain_head() == (3, written[1][1].hash)
    # The chain and the versions hold (these synthetic rows are no real plan, so only the chain is checked here).
    assert verify_chain(store.ledger(), store.chain_head, store.issue_versions()).entries == 3


def test_a_stale_version_raises_and_a_batch_writes_nothing(store: Store) -> None:
    (plan, _), = store.commit_plan([new_row("plan")])
    (target, _), = store.commit_plan([new_row("target", plan.id)])
    moved, _ = store.commit_plan([step(target, T0 + HOUR)])[0]
    before = contents(store)
    with pytest.raises(ConcurrentUpdateError):
        store.commit_plan([step(plan, T0 + 2 * HOUR), step(target, T0 + 2 * HOUR, expected=1)])
    with pytest.raises(ConcurrentUpdateError):
        store.commit_plan([step(attrs.evolve(target, id="TG-2026-0099"), T0 + 2 * HOUR)])
    assert contents(store) == before
    store.commit_plan([step(moved, T0 + 2 * HOUR, state="completed")])
    assert store.plan_rows(ids=[target.id])[0].state == "completed"


def test_the_plan_ledger_is_the_plans_entries_up_to_an_instant(store: Store) -> None:
    (plan, _), = store.commit_plan([new_row("plan")])
    (target, _), = store.commit_plan([new_row("target", plan.id)])
    (other, _), = store.commit_plan([new_row("plan")])
    moved, _ = store.commit_plan([step(target, T0 + HOUR)])[0]
    store.commit_plan([step(moved, T0 + 3 * HOUR)])
    assert [(e.issue_id, e.issue_seq) for e in store.plan_ledger(plan.id)] == [
        (plan.id, 1), (target.id, 1), (target.id, 2), (target.id, 3)]
    until = store.plan_ledger(plan.id, until=(T0 + HOUR).astimezone(dt.timezone.utc))
    assert [(e.issue_id, e.issue_seq) for e in until] == [(plan.id, 1), (target.id, 1), (target.id, 2)]
    assert [e.issue_id for e in store.plan_ledger(other.id)] == [other.id]


def test_linked_issue_states_agree_with_the_reference(store: Store) -> None:
    (plan, _), = store.commit_plan([new_row("plan")])
    targets = [row for row, _ in store.commit_plan([new_row("target", plan.id), new_row("target", plan.id)])]
    issues = []
    for n in range(5):
        issue = make_issue()
        draft = LedgerDraft(issue_id="", issue_seq=1, trigger="assign", from_state=None, to_state="assigned",
                            actor="OFFICE", person=None, at=T0,
                            data={"title": "t", **({"target": targets[n % 2].id} if n < 4 else {})})
        issues.append(store.commit(UnitOfWork(issue, 0, draft, id_scope="GF-2026-"))[0])
    for n, issue in enumerate(issues[:3]):
        at = T0 + (n + 1) * HOUR
        new = attrs.evolve(issue, version=2, state="verified", updated_at=at)
        draft = LedgerDraft(issue_id=issue.id, issue_seq=2, trigger="verify", from_state="assigned",
                            to_state="verified", actor="OFFICE", person=None, at=at, data={})
        store.commit(UnitOfWork(new, 1, draft))
    ids = [t.id for t in targets]
    assert store.target_issue_states(plan.id) == {ids[0]: {"verified": 2}, ids[1]: {"verified": 1, "assigned": 1}}
    for hours in (0, 1, 2, 3):
        when = T0 + hours * HOUR
        expected = compute_link_states(store.ledger(), ids, when)
        assert store.target_issue_states(plan.id, when) == expected
    assert store.target_issue_states(plan.id, T0 - HOUR) == {}


def test_rows_are_found_by_the_target_they_decompose(store: Store) -> None:
    (plan, _), = store.commit_plan([new_row("plan")])
    (top, _), = store.commit_plan([new_row("target", plan.id)])
    child = attrs.evolve(new_row("target", plan.id), row=PlanRow("", "target", plan.id, 1, "active", "{}", top.id))
    (below, _), = store.commit_plan([child, new_row("target", plan.id)])[:1]
    assert below.parent == top.id
    assert store.plan_rows(plan.id, parent=top.id) == [below]
    assert store.plan_rows(parent=below.id) == []
    assert store.plan_rows(ids=[below.id])[0].parent == top.id
