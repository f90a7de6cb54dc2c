"""Work plans through the facade, on every store: plans, decomposition, progress, acceptance, as_of, lag."""

from __future__ import annotations

import datetime as dt

import attrs
import pytest

import govflow
from govflow.testing import FakeClock, RecordingNotifier

from ..conftest import refused

PHASES = [("建机制", "2026-06-30"), ("见成效", "2026-12-31"), ("达目标", "2027-06-30")]


def make_plan(flow: govflow.Govflow) -> govflow.Plan:
    plan = flow.add_plan("市域社会治理现代化试点", by="OFFICE", phases=PHASES, code="DL-2026")
    return flow.activate_plan(plan.id, by="OFFICE")


def test_a_plan_is_drawn_up_started_and_read_back(flow: govflow.Govflow) -> None:
    plan = flow.add_plan("试点方案", by="OFFICE", phases=PHASES, description="三年")
    assert plan.id == "PL-2026-0001"
    assert plan.state == "draft" and plan.version == 1 and plan.owner == "OFFICE"
    assert [p.name for p in plan.phases] == ["建机制", "见成效", "达目标"]
    assert plan.phase_start("见成效") == dt.date(2026, 7, 1)
    started = flow.activate_plan(plan.id, by="OFFICE")
    assert (started.state, started.version) == ("active", 2)
    assert flow.plan(plan.id) == started
    assert flow.plans() == [started]
    entries = flow.store.plan_ledger(plan.id)
    assert [(e.issue_id, e.trigger, e.to_state) for e in entries] == [
        (plan.id, "add_plan", "draft"), (plan.id, "activate_plan", "active")]
    assert govflow.replay_plan_or_target(entries) == started
    flow.verify_ledger()
    labels = (flow.label("lagging"), flow.label("lagging", "en"), flow.label("add_plan"))
    assert labels == ("滞后", "lagging", "制定方案")
    assert flow.label("report_progress", lifecycle="plan-target") == "报告进度"


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"by": "XIANGYUN"}, govflow.PermissionDenied),
        ({"phases": []}, govflow.ValidationError),
        ({"phases": [("a", "2026-06-30"), ("b", "2026-05-01")]}, govflow.ValidationError),
        ({"phases": [("a", "2026-06-30"), ("a", "2026-07-30")]}, govflow.ValidationError),
        ({"phases": [("a", "not a date")]}, govflow.ValidationError),
        ({"title": "  "}, govflow.ValidationError),
        # the text rule at the door, as for issues
        ({"title": "方案\x00"}, govflow.ValidationError),
        ({"title": "方案\ud800"}, govflow.ValidationError),
        ({"title": "方" * 100_000}, govflow.ValidationError),
        ({"description": "说明\x07"}, govflow.ValidationError),
        ({"code": "DL\n2026"}, govflow.ValidationError),
        ({"phases": [("建\x00机制", "2026-06-30")]}, govflow.ValidationError),
    ],
)
def test_a_bad_plan_is_refused_and_nothing_is_written(flow: govflow.Govflow, kwargs: dict, error: type) -> None:
    args = {"title": "方案", "by": "OFFICE", "phases": PHASES, **kwargs}
    title = args.pop("title")
    refused(flow, error, lambda: flow.add_plan(title, **args))
    assert flow.plans() == []


def test_target_text_is_checked_at_the_door(flow: govflow.Govflow) -> None:
    plan = make_plan(flow)
    for kwargs in ({"title": "目标\x00"}, {"description": "\ud800"}, {"cooperating": ["BINCHUAN\x00"]}):
        args = {"title": "目标", "unit": "XIANGYUN", "phase": PHASES[0][0], "by": "OFFICE", **kwargs}
        title = args.pop("title")
        refused(flow, govflow.ValidationError, lambda: flow.add_target(plan.id, title, **args))  # noqa: B023
    target = flow.add_target(plan.id, "目标", unit="XIANGYUN", phase=PHASES[0][0], by="OFFICE")
    refused(flow, govflow.ValidationError,
            lambda: flow.report_progress(target.id, by="XIANGYUN", progress=10, note="进展\x00"))


def test_targets_are_decomposed_down_the_hierarchy_only(flow: govflow.Govflow) -> None:
    plan = make_plan(flow)
    top = flow.add_target(plan.id, "网格化覆盖", unit="OFFICE", phase="建机制", by="OFFICE")
    assert top.due == dt.date(2026, 6, 30) and top.state == "active" and top.weight == 1
    county = flow.add_target(plan.id, "祥云网格化", unit="XIANGYUN", phase="建机制", by="OFFICE", parent=top.id)
    town = flow.add_target(plan.id, "下庄网格化", unit="XIAZHUANG", phase="建机制", by="XIANGYUN", parent=county.id)
    assert town.parent == county.id
    # another county's unit is not below XIANGYUN
    error = refused(flow, govflow.ValidationError, lambda: flow.add_target(
        plan.id, "x", unit="BINCHUAN", phase="建机制", by="XIANGYUN", parent=county.id))
    assert error.field == "unit"  # type: ignore[attr-defined]
    # only the unit holding a target (or a supervisor) decomposes it
    refused(flow, govflow.PermissionDenied, lambda: flow.add_target(
        plan.id, "x", unit="XIAZHUANG", phase="建机制", by="BINCHUAN", parent=county.id))
    # a county does not set top-level targets
    refused(flow, govflow.PermissionDenied, lambda: flow.add_target(
        plan.id, "x", unit="XIANGYUN", phase="建机制", by="XIANGYUN"))
    for bad in ({"weight": 0}, {"weight": True}, {"measure": "guess"}, {"phase": "无此阶段"},
                {"cooperating": ["NOPE"]}, {"milestones": [("2026-08-01", 50)]}):
        args = {"unit": "XIANGYUN", "phase": "建机制", "by": "OFFICE", **bad}
        refused(flow, govflow.ValidationError, lambda args=args: flow.add_target(plan.id, "x", **args))
    refused(flow, govflow.NotFound, lambda: flow.add_target("PL-2026-0099", "x", unit="OFFICE", phase="建机制",
                                                           by="OFFICE"))
    assert [t.id for t in flow.targets(plan.id)] == [top.id, county.id, town.id]


def test_progress_rolls_up_as_the_weighted_mean_and_completion_is_accepted(flow: govflow.Govflow) -> None:
    plan = make_plan(flow)
    top = flow.add_target(plan.id, "网格化覆盖", unit="OFFICE", phase="建机制", by="OFFICE")
    a = flow.add_target(plan.id, "祥云", unit="XIANGYUN", phase="建机制", by="OFFICE", parent=top.id, weight=3)
    b = flow.add_target(plan.id, "宾川", unit="BINCHUAN", phase="建机制", by="OFFICE", parent=top.id, weight=1)
    flow.report_progress(a.id, by="XIANGYUN", progress=40, note="进度")
    flow.report_progress(b.id, by="BINCHUAN", progress=80, note="进度")
    assert flow.target(top.id).progress == pytest.approx((3 * 40 + 80) / 4)
    # the unit above reports nothing itself; others may not report; progress goes down only with a reason
    refused(flow, govflow.ValidationError, lambda: flow.report_progress(top.id, by="OFFICE", progress=50, note="n"))
    refused(flow, govflow.PermissionDenied, lambda: flow.report_progress(a.id, by="BINCHUAN", progress=50, note="n"))
    refused(flow, govflow.ValidationError, lambda: flow.report_progress(a.id, by="XIANGYUN", progress=30, note="n"))
    refused(flow, govflow.ValidationError, lambda: flow.report_progress(a.id, by="XIANGYUN", progress=101, note="n"))
    refused(flow, govflow.ValidationError, lambda: flow.report_progress(a.id, by="XIANGYUN", progress=50, note=""))
    lowered = flow.report_progress(a.id, by="XIANGYUN", progress=30, note="n", reason="重新核算")
    assert lowered.progress == 30
    done = flow.report_progress(a.id, by="XIANGYUN", progress=100, note="完成")
    assert (done.state, done.status) == ("completed", "completed")
    refused(flow, govflow.InvalidTransition, lambda: flow.report_progress(a.id, by="XIANGYUN", progress=100,
                                                                          note="n"))
    # the lead unit does not accept its own target; a supervisor sends it back, then accepts it
    refused(flow, govflow.PermissionDenied, lambda: flow.accept_target(a.id, by="XIANGYUN"))
    back = flow.reject_target(a.id, by="OFFICE", reason="佐证不足", progress=90)
    assert (back.state, back.progress) == ("active", 90)
    flow.report_progress(a.id, by="XIANGYUN", progress=100, note="补充佐证")
    flow.report_progress(b.id, by="BINCHUAN", progress=100, note="完成")
    # the target above reached 100 with its last child: completed in the same step
    assert flow.target(top.id).state == "completed"
    # the office does not send back its own target; sending back one below reopens it
    refused(flow, govflow.PermissionDenied, lambda: flow.reject_target(top.id, by="OFFICE", reason="r"))
    flow.reject_target(b.id, by="OFFICE", reason="抽查不合格")
    assert (flow.target(top.id).state, flow.target(b.id).state) == ("active", "active")
    flow.sweep()
    assert flow.target(top.id).state == "active"  # b is still being redone
    flow.report_progress(b.id, by="BINCHUAN", progress=100, note="整改完成")
    assert flow.target(top.id).state == "completed"
    accepted = flow.accept_target(a.id, by="OFFICE", note="验收")
    assert accepted.state == "accepted" and accepted.status == "accepted"
    triggers = [e.trigger for e in flow.store.plan_ledger(plan.id) if e.issue_id == a.id]
    assert triggers == ["add_target", "report_progress", "report_progress", "complete", "reject_target",
                        "complete", "accept_target"]
    top_steps = [(e.trigger, e.actor) for e in flow.store.plan_ledger(plan.id) if e.issue_id == top.id]
    assert top_steps == [("add_target", "OFFICE"), ("complete", "govflow"), ("reject_target", "govflow"),
                         ("complete", "govflow")]
    flow.verify_ledger()


def test_the_unit_above_accepts_a_decomposed_target(flow: govflow.Govflow) -> None:
    plan = make_plan(flow)
    top = flow.add_target(plan.id, "覆盖", unit="XIANGYUN", phase="建机制", by="OFFICE")
    town = flow.add_target(plan.id, "下庄", unit="XIAZHUANG", phase="建机制", by="XIANGYUN", parent=top.id)
    flow.report_progress(town.id, by="XIAZHUANG", progress=100, note="完成")
    refused(flow, govflow.PermissionDenied, lambda: flow.accept_target(town.id, by="BINCHUAN"))
    assert flow.target(top.id).state == "completed"
    # a target with children is not sent back itself: the targets below it are
    error = refused(flow, govflow.ValidationError, lambda: flow.reject_target(top.id, by="OFFICE", reason="r"))
    assert error.field == "target"  # type: ignore[attr-defined]
    assert flow.accept_target(town.id, by="XIANGYUN").state == "accepted"
    # flow.ledger names any subject of the chain: a target's, a plan's steps
    assert [e.trigger for e in flow.ledger(town.id)] == ["add_target", "complete", "accept_target"]  # 100 %: complete
    assert [e.trigger for e in flow.ledger(plan.id)][:1] == ["add_plan"]
    assert flow.ledger(town.id) == [e for e in flow.store.plan_ledger(plan.id) if e.issue_id == town.id]
    with pytest.raises(govflow.NotFound, match="no target 'TG-9999'"):
        flow.ledger("TG-9999")


def test_a_target_measured_by_issues_takes_the_share_verified(flow: govflow.Govflow) -> None:
    plan = make_plan(flow)
    top = flow.add_target(plan.id, "问题清单交办", unit="XIANGYUN", phase="建机制", by="OFFICE", measure="issues")
    first = flow.assign("积水", lead="XIANGYUN", due="2026-04-30", by="OFFICE", target=top.id)
    second = flow.assign("噪音", lead="XIAZHUANG", due="2026-04-30", by="OFFICE", target=top.id)
    assert flow.ledger(first.id)[0].data["target"] == top.id
    assert flow.store.target_links() == {first.id: top.id, second.id: top.id}  # every store derives them
    assert flow.target(top.id).progress == 0
    for trigger, by, data in (("implement", "XIANGYUN", {"note": "n"}), ("report", "XIANGYUN", {"result": "r"}),
                              ("verify", "OFFICE", {})):
        flow.fire(first.id, trigger, by=by, **data)
    assert flow.target(top.id).progress == 50
    flow.fire(second.id, "cancel", by="OFFICE", reason="重复")
    assert flow.target(top.id).progress == 100
    # reported progress is refused; the sweep completes it
    refused(flow, govflow.ValidationError, lambda: flow.report_progress(top.id, by="XIANGYUN", progress=10, note="n"))
    flow.sweep()
    assert flow.target(top.id).state == "completed"
    # links: only a target measured by issues, with the lead at or below the target's unit
    other = flow.add_target(plan.id, "自报", unit="XIANGYUN", phase="建机制", by="OFFICE")
    refused(flow, govflow.ValidationError, lambda: flow.assign("x", lead="XIANGYUN", due="2026-04-30", by="OFFICE",
                                                               target=other.id))
    refused(flow, govflow.ValidationError, lambda: flow.assign("x", lead="BINCHUAN", due="2026-04-30", by="OFFICE",
                                                               target=top.id))
    refused(flow, govflow.NotFound, lambda: flow.assign("x", lead="XIANGYUN", due="2026-04-30", by="OFFICE",
                                                        target="TG-2026-0999"))


def test_as_of_answers_what_was_answered_then(flow: govflow.Govflow, clock: FakeClock) -> None:
    plan = make_plan(flow)
    top = flow.add_target(plan.id, "覆盖", unit="OFFICE", phase="建机制", by="OFFICE")
    a = flow.add_target(plan.id, "祥云", unit="XIANGYUN", phase="建机制", by="OFFICE", parent=top.id)
    b = flow.add_target(plan.id, "问题", unit="BINCHUAN", phase="见成效", by="OFFICE", parent=top.id,
                        measure="issues")
    issue = flow.assign("积水", lead="BINCHUAN", due="2026-04-30", by="OFFICE", target=b.id)
    answers = []
    for progress in (20, 60):
        flow.report_progress(a.id, by="XIANGYUN", progress=progress, note="n")
        clock.advance(days=20)
        when = flow.now()
        answers.append((when, flow.plan_progress(plan.id, as_of=when)))
        # replayed == read from the stored rows (the clock moved on a minute: nothing happened meanwhile)
        assert attrs.evolve(flow.plan_progress(plan.id), as_of=when) == answers[-1][1]
    for trigger, by, data in (("implement", "BINCHUAN", {"note": "n"}), ("report", "BINCHUAN", {"result": "r"}),
                              ("verify", "OFFICE", {})):
        flow.fire(issue.id, trigger, by=by, **data)
    flow.report_progress(a.id, by="XIANGYUN", progress=100, note="n")
    for when, answer in answers:
        assert flow.plan_progress(plan.id, as_of=when) == answer
    assert flow.plan_progress(plan.id).progress == 100
    with pytest.raises(govflow.NotFound):
        flow.plan_progress(plan.id, as_of=dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc))


def test_expected_progress_lag_and_rollups(flow: govflow.Govflow, clock: FakeClock) -> None:
    plan = flow.add_plan("方案", by="OFFICE", phases=[("一", "2026-03-31"), ("二", "2026-06-30")],
                         start="2026-03-01")
    flow.activate_plan(plan.id, by="OFFICE")
    top = flow.add_target(plan.id, "覆盖", unit="OFFICE", phase="一", by="OFFICE")
    a = flow.add_target(plan.id, "祥云", unit="XIANGYUN", phase="一", by="OFFICE", parent=top.id,
                        responsible={"first": "张三"})
    town = flow.add_target(plan.id, "下庄", unit="XIAZHUANG", phase="一", by="XIANGYUN", parent=a.id)
    b = flow.add_target(plan.id, "宾川", unit="BINCHUAN", phase="一", by="OFFICE", parent=top.id)
    late = flow.add_target(plan.id, "二期", unit="BINCHUAN", phase="二", by="OFFICE",
                           milestones=[("2026-05-01", 80)])
    flow.report_progress(town.id, by="XIAZHUANG", progress=50, note="n")
    flow.report_progress(b.id, by="BINCHUAN", progress=100, note="n")
    clock.set("2026-03-16T09:00:00+08:00")
    tree = flow.plan_progress(plan.id)
    node = tree.target(a.id)
    assert node.expected == pytest.approx(100 * 15 / 30)
    assert node.lag == pytest.approx(0.0)
    assert tree.target(late.id).expected == 0  # its phase has not begun
    assert [r.key for r in tree.phases] == ["一", "二"]
    assert tree.unit("XIANGYUN").progress == pytest.approx(50)
    assert tree.unit("OFFICE").progress == pytest.approx(tree.progress)
    clock.set("2026-04-15T09:00:00+08:00")
    tree = flow.plan_progress(plan.id)
    assert tree.target(a.id).status == "lagging" and tree.target(a.id).lag == pytest.approx(50)
    # phase 二 runs from 04-01: 14 of the 30 days to the milestone of 80
    assert tree.target(late.id).expected == pytest.approx(80 * 14 / 30)
    assert {n.target.id for n in tree.lagging()} == {a.id, town.id, top.id}
    assert tree.unit("XIANGYUN").lagging == 2


def test_lagging_targets_climb_the_escalation_ladder(tmp_path, clock: FakeClock) -> None:
    notifier = RecordingNotifier()
    flow = govflow.open(":memory:", clock=clock, plugins=[notifier], delivery="inline")
    from ..conftest import add_units
    add_units(flow)
    plan = make_plan(flow)
    target = flow.add_target(plan.id, "祥云", unit="XIANGYUN", phase="建机制", by="OFFICE", due="2026-03-20")
    done = flow.add_target(plan.id, "宾川", unit="BINCHUAN", phase="建机制", by="OFFICE", due="2026-03-20")
    flow.report_progress(done.id, by="BINCHUAN", progress=100, note="完成")
    clock.set("2026-03-31T09:00:00+08:00")
    events = flow.sweep()
    steps = [(e.issue_id, e.step) for e in events]
    assert steps == [(target.id, s) for s in ("due_soon", "due_soon", "overdue", "urge", "supervise")]
    assert all(e.unit == "XIANGYUN" and e.seq > 0 for e in events)
    assert flow.sweep() == []  # nothing new at the same moment
    assert flow._target_row(target.id).escalation_steps == 5
    entries = [e for e in flow.store.plan_ledger(plan.id) if e.trigger == "deadline"]
    assert {e.issue_id for e in entries} == {target.id}
    assert [e.step for e in notifier.deadlines] == [s for _, s in steps]
    facts = flow.facts("2026-03")["XIANGYUN"]
    assert facts.escalations == {"due_soon": 2, "overdue": 1, "supervise": 1, "urge": 1}
    flow.verify_ledger()


def test_a_target_changed_during_the_sweep_is_left_to_the_next_one(clock: FakeClock) -> None:
    with govflow.open(":memory:", clock=clock) as flow:
        from ..conftest import add_units
        add_units(flow)
        plan = make_plan(flow)
        busy = flow.add_target(plan.id, "祥云", unit="XIANGYUN", phase="建机制", by="OFFICE", due="2026-03-20")
        calm = flow.add_target(plan.id, "宾川", unit="BINCHUAN", phase="建机制", by="OFFICE", due="2026-03-20")
        clock.set("2026-03-24T09:00:00+08:00")
        store = flow.store
        real = store.commit_plan
        calls = []

        def racing(works):  # type: ignore[no-untyped-def]
            if not calls:  # another writer reports on `busy` between the sweep's read and its write
                calls.append(1)
                flow.report_progress(busy.id, by="XIANGYUN", progress=40, note="进展")
            return real(works)

        store.commit_plan = racing  # type: ignore[method-assign]
        events = flow.sweep()
        store.commit_plan = real  # type: ignore[method-assign]
        assert {e.issue_id for e in events} == {calm.id} and len(events) == 4
        assert all(e.seq == flow.store.plan_ledger(plan.id)[-4 + i].seq for i, e in enumerate(events))
        again = flow.sweep()
        assert [e.step for e in again] == ["due_soon", "due_soon", "overdue", "urge"]
        assert {e.issue_id for e in again} == {busy.id}
        flow.verify_ledger()


def test_an_altered_plan_or_target_row_is_found(tmp_path, clock) -> None:  # type: ignore[no-untyped-def]
    """verify_ledger() rebuilds every plan and target row from its entries and names the one edited."""
    import sqlite3

    from ..conftest import add_units

    path = tmp_path / "plans.sqlite3"
    with govflow.open(path, clock=clock) as flow:
        add_units(flow)
        plan = make_plan(flow)
        target = flow.add_target(plan.id, "网格化覆盖", unit="XIANGYUN", phase=PHASES[0][0], by="OFFICE")
        flow.report_progress(target.id, by="XIANGYUN", progress=40, note="推进")
        assert flow.verify_ledger().entries == len(flow.ledger())
    db = sqlite3.connect(path)
    body = db.execute("SELECT body FROM plan_rows WHERE id = ?", (target.id,)).fetchone()[0]
    db.execute("UPDATE plan_rows SET body = ? WHERE id = ?", (body.replace('"unit":"XIANGYUN"', '"unit":"BINCHUAN"'),
                                                               target.id))
    db.commit()
    db.close()
    with govflow.open(path) as flow, pytest.raises(govflow.LedgerCorrupted, match=f"target {target.id}"):
        flow.verify_ledger()


def test_an_altered_link_to_a_target_is_found(tmp_path, clock) -> None:  # type: ignore[no-untyped-def]
    """The issue-to-target links are derived from the assign entries; verify_ledger() checks every one."""
    import sqlite3

    from ..conftest import add_units

    path = tmp_path / "links.sqlite3"
    with govflow.open(path, clock=clock) as flow:
        add_units(flow)
        plan = make_plan(flow)
        top = flow.add_target(plan.id, "交办", unit="XIANGYUN", phase=PHASES[0][0], by="OFFICE", measure="issues")
        other = flow.add_target(plan.id, "另一", unit="XIANGYUN", phase=PHASES[0][0], by="OFFICE", measure="issues")
        linked = flow.assign("积水", lead="XIANGYUN", due="2026-04-30", by="OFFICE", target=top.id)
        free = flow.assign("噪音", lead="XIANGYUN", due="2026-04-30", by="OFFICE")
        assert flow.store.target_links() == {linked.id: top.id}
        flow.verify_ledger()
    for statement, names in (
        (f"UPDATE target_links SET target_id = '{other.id}' WHERE issue_id = '{linked.id}'", linked.id),
        (f"DELETE FROM target_links WHERE issue_id = '{linked.id}'", linked.id),
        (f"INSERT INTO target_links VALUES ('{free.id}', '{top.id}')", free.id),
    ):
        copy = tmp_path / f"copy-{len(statement)}.sqlite3"
        copy.write_bytes(path.read_bytes())
        db = sqlite3.connect(copy)
        db.execute(statement)
        db.commit()
        db.close()
        with govflow.open(copy) as flow, pytest.raises(govflow.LedgerCorrupted, match=f"issue {names}"):
            flow.verify_ledger()
