"""Property: on random target trees and random histories, every roll-up equals a brute-force recomputation from
the leaves, ``plan_progress(as_of=t)`` equals the answer given at ``t``, and every stored plan and target row is
what its own ledger entries rebuild."""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import govflow
from govflow._plans.model import to_row
from govflow.testing import FakeClock

from ..conftest import add_units

UNITS = ("OFFICE", "XIANGYUN", "BINCHUAN", "XIAZHUANG")
BELOW = {"OFFICE": UNITS, "XIANGYUN": ("XIANGYUN", "XIAZHUANG"), "BINCHUAN": ("BINCHUAN",),
         "XIAZHUANG": ("XIAZHUANG",)}


@st.composite
def trees(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Targets as (parent index or None, unit, weight, measure), parents before children."""
    count = draw(st.integers(1, 10))
    nodes: list[dict[str, Any]] = []
    for n in range(count):
        parent = draw(st.one_of(st.none(), st.integers(0, n - 1))) if n else None
        above = "OFFICE" if parent is None else nodes[parent]["unit"]
        nodes.append({
            "parent": parent, "unit": draw(st.sampled_from(BELOW[above])),
            "weight": draw(st.sampled_from([1, 2, 0.5, 3.25])),
            "measure": draw(st.sampled_from(["reported", "issues"])),
            "phase": draw(st.sampled_from(["一", "二"])),
        })
    return nodes


histories = st.lists(
    st.tuples(st.integers(0, 9), st.sampled_from(["report", "link", "verify", "cancel", "accept", "reject"]),
              st.sampled_from([0, 15.5, 40, 70, 99, 100]), st.integers(0, 20)),
    max_size=14,
)


def brute(node: govflow.TargetProgress) -> float:
    """A node's progress from the leaves: each leaf's progress times the product of normalised weights down to it."""
    def leaves(n: govflow.TargetProgress, share: float) -> list[tuple[float, float]]:
        if not n.children:
            return [(share, n.progress)]
        total = sum(c.target.weight for c in n.children)
        return [pair for c in n.children for pair in leaves(c, share * c.target.weight / total)]
    return sum(share * progress for share, progress in leaves(node, 1.0))


def run(flow: govflow.Govflow, clock: FakeClock, tree: list[dict[str, Any]],
        history: list[tuple[int, str, float, int]]) -> None:
    plan = flow.add_plan("方案", by="OFFICE", phases=[("一", "2026-04-30"), ("二", "2026-08-31")])
    flow.activate_plan(plan.id, by="OFFICE")
    ids: list[str] = []
    for node in tree:
        parent = None if node["parent"] is None else ids[node["parent"]]
        by = "OFFICE" if parent is None else tree[node["parent"]]["unit"]
        ids.append(flow.add_target(plan.id, "目标", unit=node["unit"], phase=node["phase"], by=by,
                                   weight=node["weight"], measure=node["measure"], parent=parent).id)
    has_children = {node["parent"] for node in tree if node["parent"] is not None}
    issues: list[str] = []
    answers: list[tuple[dt.datetime, govflow.PlanProgress]] = []
    for index, action, value, days in history:
        index %= len(tree)
        target = flow.plan_progress(plan.id).target(ids[index])
        if action == "report" and tree[index]["measure"] == "reported" and index not in has_children \
                and target.target.state == "active":
            flow.report_progress(ids[index], by=tree[index]["unit"], progress=value, note="进度", reason="核算")
        elif action == "link" and tree[index]["measure"] == "issues":
            lead = "XIANGYUN" if tree[index]["unit"] == "OFFICE" else tree[index]["unit"]  # never the verifier
            issues.append(flow.assign("问题", lead=lead, due="2026-12-31", by="OFFICE",
                                      target=ids[index]).id)
        elif action in ("accept", "reject") and target.target.state == "completed":
            parent = tree[index]["parent"]
            above = tree[parent]["unit"] if parent is not None else "OFFICE"
            above = "OFFICE" if above == tree[index]["unit"] else above
            reported = tree[index]["measure"] == "reported" and index not in has_children
            if above != tree[index]["unit"] and action == "accept":
                flow.accept_target(ids[index], by=above)
            elif above != tree[index]["unit"] and reported:
                flow.reject_target(ids[index], by=above, reason="抽查", progress=value if value < 100 else None)
        elif action in ("verify", "cancel") and issues:
            issue = flow.get(issues[int(value) % len(issues)])
            if issue.state == "assigned" and action == "cancel":
                flow.fire(issue.id, "cancel", by="OFFICE", reason="重复")
            elif issue.state == "assigned":
                flow.fire(issue.id, "implement", by=issue.lead, note="n")
                flow.fire(issue.id, "report", by=issue.lead, result="r")
                flow.fire(issue.id, "verify", by="OFFICE")
        if days % 5 == 0:
            flow.sweep()
        clock.advance(days=days)
        when = flow.now()
        answer = flow.plan_progress(plan.id, as_of=when)
        assert attrs.evolve(flow.plan_progress(plan.id), as_of=when) == answer
        answers.append((when, answer))
        for node in answer.walk():
            assert node.progress == pytest.approx(brute(node), abs=1e-9)
        assert answer.progress == pytest.approx(
            sum(r.progress * r.share for r in answer.targets) / sum(r.share for r in answer.targets), abs=1e-5)
        office = answer.unit("OFFICE")
        assert office.progress == pytest.approx(answer.progress, abs=1e-5)
    for when, answer in answers:
        assert flow.plan_progress(plan.id, as_of=when) == answer
    # every stored plan and target row is exactly what its own ledger entries rebuild
    by_subject: dict[str, list[govflow.LedgerEntry]] = {}
    for entry in flow.ledger():
        by_subject.setdefault(entry.issue_id, []).append(entry)
    for row in flow.store.plan_rows():
        rebuilt = govflow.replay_plan_or_target(by_subject[row.id])
        assert rebuilt is not None and to_row(rebuilt) == row
    flow.verify_ledger()


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tree=trees(), history=histories)
def test_rollups_equal_brute_force_and_as_of_equals_what_was_answered(
    kind: str, tmp_path_factory: pytest.TempPathFactory, tree: list[dict[str, Any]],
    history: list[tuple[int, str, float, int]],
) -> None:
    clock = FakeClock("2026-03-02T09:00:00+08:00", tick=dt.timedelta(minutes=1))
    target = ":memory:" if kind == "memory" else str(tmp_path_factory.mktemp("p") / "flow.sqlite3")
    with govflow.open(target, clock=clock) as flow:
        add_units(flow)
        run(flow, clock, tree, history)
