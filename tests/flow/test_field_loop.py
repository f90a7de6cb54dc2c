"""The field loop of ``issue-list`` version 2 on every store: 签收时限, 会签, 挂起/恢复, 退回交办/转办, 提级督办,
回访, 重新打开, 并案 and 佐证材料. Each refusal is a typed error that writes nothing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

import govflow
from govflow import InvalidTransition, LedgerCorrupted, PermissionDenied, ValidationError
from govflow.testing import FakeClock

from ..conftest import UNIT_ENTRIES, refused

DUE = dt.date(2026, 3, 20)


def new_issue(flow: govflow.Govflow, **kwargs: Any) -> govflow.Issue:
    params: dict[str, Any] = {"lead": "XIANGYUN", "due": DUE, "by": "OFFICE", **kwargs}
    return flow.assign("某村道路积水问题", **params)


def at(clock: FakeClock, text: str) -> None:
    clock.set(f"{text}T09:00:00+08:00")


# -- version 1 stays ----------------------------------------------------------------------------


def test_new_issues_get_version_2_and_version_1_stays_registered(flow: govflow.Govflow) -> None:
    issue = new_issue(flow)
    assert (issue.lifecycle, issue.lifecycle_version, issue.field) == ("issue-list", 2, None)
    assert [d.key for d in flow.lifecycles()] == ["issue-list@1", "issue-list@2", "plan-target@1"]
    v1 = flow.lifecycle(version=1)
    assert "countersign" not in {t.trigger for t in v1.transitions} and "verified" in v1.final
    for lang in ("zh", "en"):
        labels = flow.lifecycle().labels[lang]
        names = {*flow.lifecycle().states, *(t.trigger for t in flow.lifecycle().transitions)}
        assert names <= set(labels), names - set(labels)
    assert flow.label("countersign") == "会签" and flow.label("merged", "en") == "merged"
    assert govflow.STEP_LABELS["accept_overdue"]["zh"] == "超时未签收"


def test_a_version_1_issue_keeps_version_1(flow: govflow.Govflow) -> None:
    import attrs

    old = attrs.evolve(new_issue(flow, cooperating=["BINCHUAN"], countersign="none"), lifecycle_version=1)
    # An issue created under version 1 is fired through the version-1 machine: no countersign, no
    # field record, verified is final.
    lifecycle = flow._lifecycle("issue-list", 1)
    actor = govflow.Actor("XIANGYUN")
    step, _ = lifecycle.fire(old, "implement", actor, {"note": "n"}, flow.now(), flow._find_unit)
    step, _ = lifecycle.fire(step, "report", actor, {"result": "r"}, flow.now(), flow._find_unit)
    assert (step.state, step.lifecycle_version, step.field) == ("feedback", 1, None)
    assert lifecycle.allowed(step, "XIANGYUN", flow.unit("XIANGYUN")) == []
    assert "callback" not in {t.trigger for t in lifecycle.definition.transitions}


# -- 签收时限 ---------------------------------------------------------------------------------


def test_accept_overdue_is_taken_once_after_the_acceptance_limit(flow: govflow.Govflow, clock: FakeClock) -> None:
    a = new_issue(flow)  # Monday 2 March: accept by Tuesday 3 March (1 working day)
    b = new_issue(flow, accept_limit=3)  # by Thursday 5 March
    c = new_issue(flow)
    flow.accept(c.id, by="XIANGYUN")
    at(clock, "2026-03-03")
    assert [e.step for e in flow.sweep() if e.step == "accept_overdue"] == []
    at(clock, "2026-03-04")
    events = [e for e in flow.sweep() if e.step == "accept_overdue"]
    assert [(e.issue_id, e.due, e.unit) for e in events] == [(a.id, dt.date(2026, 3, 3), "XIANGYUN")]
    assert flow.get(a.id).field is not None and flow.get(a.id).field.accept_overdue
    entry = flow.ledger(a.id)[-1]
    assert (entry.trigger, entry.actor, entry.data["step"]) == ("deadline", "govflow", "accept_overdue")
    at(clock, "2026-03-06")
    again = [e for e in flow.sweep() if e.step == "accept_overdue"]
    assert [e.issue_id for e in again] == [b.id]  # a's step is not taken twice; c was accepted
    assert flow.ledger(b.id)[0].data["accept_limit"] == 3
    refused(flow, ValidationError, lambda: new_issue(flow, accept_limit=-1))
    refused(flow, ValidationError, lambda: new_issue(flow, accept_limit="2"))


def test_a_reassigned_issue_gets_a_new_acceptance_clock(flow: govflow.Govflow, clock: FakeClock) -> None:
    a = new_issue(flow)
    at(clock, "2026-03-04")
    flow.reassign(a.id, by="OFFICE", new_lead="BINCHUAN", reason="属地")
    at(clock, "2026-03-05")
    assert [e for e in flow.sweep() if e.step == "accept_overdue"] == []
    at(clock, "2026-03-06")
    events = [e for e in flow.sweep() if e.step == "accept_overdue"]
    assert [(e.issue_id, e.unit) for e in events] == [(a.id, "BINCHUAN")]


# -- 会签 --------------------------------------------------------------------------------------


def test_report_waits_for_every_countersign_by_default(flow: govflow.Govflow) -> None:
    a = new_issue(flow, cooperating=["BINCHUAN", "XIAZHUANG"])
    assert a.field is not None and a.field.countersign == "all"
    assert flow.ledger(a.id)[0].data["countersign"] == "all"
    flow.implement(a.id, by="XIANGYUN", note="已疏通")
    error = refused(flow, InvalidTransition, lambda: flow.report(a.id, by="XIANGYUN", result="完成"))
    assert "BINCHUAN, XIAZHUANG" in str(error)
    flow.countersign(a.id, by=govflow.Actor("BINCHUAN", "赵六"), note="配合清理")
    error = refused(flow, InvalidTransition, lambda: flow.report(a.id, by="XIANGYUN", result="完成"))
    assert "XIAZHUANG" in str(error) and "BINCHUAN" not in str(error).split("countersign")[1]
    refused(flow, InvalidTransition, lambda: flow.countersign(a.id, by="BINCHUAN", note="again"))
    refused(flow, PermissionDenied, lambda: flow.countersign(a.id, by="XIANGYUN", note="lead"))
    refused(flow, ValidationError, lambda: flow.decline_countersign(a.id, by="XIAZHUANG", reason=" "))
    flow.decline_countersign(a.id, by="XIAZHUANG", reason="不属本镇职责")
    done = flow.report(a.id, by="XIANGYUN", result="完成")
    assert done.state == "feedback" and done.field is not None
    assert (done.field.signed, done.field.declined) == (("BINCHUAN",), ("XIAZHUANG",))
    signed = [e for e in flow.ledger(a.id) if e.trigger == "countersign"]
    assert [(e.actor, e.person, e.data["note"]) for e in signed] == [("BINCHUAN", "赵六", "配合清理")]


def test_countersign_any_and_none(flow: govflow.Govflow) -> None:
    a = new_issue(flow, cooperating=["BINCHUAN", "XIAZHUANG"], countersign="any")
    flow.implement(a.id, by="XIANGYUN", note="n")
    refused(flow, InvalidTransition, lambda: flow.report(a.id, by="XIANGYUN", result="r"))
    flow.countersign(a.id, by="XIAZHUANG", note="ok")
    assert flow.report(a.id, by="XIANGYUN", result="r").state == "feedback"
    b = new_issue(flow, cooperating=["BINCHUAN"], countersign="none")
    assert b.field is None
    flow.implement(b.id, by="XIANGYUN", note="n")
    assert flow.report(b.id, by="XIANGYUN", result="r").state == "feedback"
    refused(flow, ValidationError, lambda: new_issue(flow, cooperating=["BINCHUAN"], countersign="most"))
    refused(flow, ValidationError, lambda: new_issue(flow, countersign="all"))


# -- 挂起 / 恢复 ------------------------------------------------------------------------------


def test_suspension_stops_the_clock_and_moves_the_due_date(flow: govflow.Govflow, clock: FakeClock) -> None:
    a = new_issue(flow)
    flow.accept(a.id, by="XIANGYUN")
    refused(flow, InvalidTransition, lambda: flow.approve_suspension(a.id, by="OFFICE"))
    refused(flow, ValidationError, lambda: flow.request_suspension(a.id, by="XIANGYUN", reason="r",
                                                                    until="2026-03-01"))
    flow.request_suspension(a.id, by="XIANGYUN", reason="涉诉，待法院判决")
    refused(flow, InvalidTransition, lambda: flow.request_suspension(a.id, by="XIANGYUN", reason="again"))
    refused(flow, PermissionDenied, lambda: flow.approve_suspension(a.id, by="XIANGYUN"))
    flow.deny_suspension(a.id, by="OFFICE", reason="可先行整改")
    assert flow.get(a.id).field is not None and flow.get(a.id).field.suspension is None
    flow.request_suspension(a.id, by="XIANGYUN", reason="涉诉，待法院判决")
    suspended = flow.approve_suspension(a.id, by="OFFICE")  # Monday 2 March
    assert suspended.state == "suspended" and suspended.field is not None
    assert suspended.field.suspended_on == dt.date(2026, 3, 2)
    assert flow.allowed_triggers(a.id, "XIANGYUN") == []
    at(clock, "2026-03-25")  # past the due date: no ladder step, not overdue
    assert flow.sweep() == [] and flow.overdue() == []
    resumed = flow.resume(a.id, by="OFFICE")  # 3..25 March: 17 working days
    assert resumed.state == "assigned"
    assert resumed.original_due == DUE and resumed.due == dt.date(2026, 4, 15)
    assert resumed.field is not None and resumed.field.suspended_days == 17
    assert flow.ledger(a.id)[-1].data == {"due": "2026-04-15", "suspended_days": 17, "resumes_to": "assigned",
                                          "unit": "XIANGYUN"}
    assert flow.facts("2026-03")["XIANGYUN"].suspended_days == 17
    refused(flow, InvalidTransition, lambda: flow.resume(a.id, by="OFFICE"))


def test_the_sweep_resumes_at_until(flow: govflow.Govflow, clock: FakeClock) -> None:
    a = new_issue(flow)
    flow.implement(a.id, by="XIANGYUN", note="n")
    flow.request_suspension(a.id, by="XIANGYUN", reason="春节停工", until="2026-03-06")
    flow.approve_suspension(a.id, by="OFFICE")
    at(clock, "2026-03-05")
    flow.sweep()
    assert flow.get(a.id).state == "suspended"
    at(clock, "2026-03-09")  # a late sweep counts up to until only: 3, 4, 5, 6 March
    flow.sweep()
    got = flow.get(a.id)
    assert (got.state, got.due, got.field.suspended_days if got.field else None) == (
        "implemented", dt.date(2026, 3, 26), 4)
    assert flow.ledger(a.id)[-1].actor == "govflow"


# -- 退回交办 / 转办 and 提级督办 --------------------------------------------------------------


def test_return_within_the_acceptance_limit_counts_a_transfer(flow: govflow.Govflow, clock: FakeClock) -> None:
    a = new_issue(flow)
    back = flow.return_to_dispatcher(a.id, by="XIANGYUN", reason="不属本县辖区")
    assert back.state == "returned" and back.field is not None and back.field.transfers == 1
    assert flow.allowed_triggers(a.id, "XIANGYUN") == []
    again = flow.reassign(a.id, by="OFFICE", new_lead="BINCHUAN", reason="属宾川县")
    assert (again.state, again.lead) == ("assigned", "BINCHUAN")
    at(clock, "2026-03-04")  # the limit ended on Tuesday 3 March
    error = refused(flow, InvalidTransition, lambda: flow.return_to_dispatcher(a.id, by="BINCHUAN", reason="r"))
    assert "2026-03-03" in str(error)


def test_three_transfers_escalate_one_level(flow: govflow.Govflow) -> None:
    flow.add_unit("PROVINCE", "省督查室", level="prefecture", supervisor=True)
    flow.add_unit("CITY", "州督查室", level="prefecture", parent="PROVINCE", supervisor=True)
    a = new_issue(flow, by="CITY")
    leads = ["BINCHUAN", "XIAZHUANG", "XIANGYUN"]
    for number, lead in enumerate(leads, 1):
        current = flow.get(a.id).lead
        flow.return_to_dispatcher(a.id, by=current, reason="非本单位职责")
        moved = flow.reassign(a.id, by="CITY", new_lead=lead, reason="转办")
        assert moved.field is not None and moved.field.transfers == number
    got = flow.get(a.id)
    assert got.field is not None and got.field.escalated == ("transfers",) and got.field.office == "PROVINCE"
    assert flow.ledger(a.id)[-1].data["escalated"] == {"reasons": ["transfers"], "office": "PROVINCE",
                                                       "unit": "XIANGYUN"}
    facts = flow.facts("2026-03")
    assert (facts["XIANGYUN"].transfers, facts["BINCHUAN"].transfers, facts["XIAZHUANG"].transfers) == (1, 1, 1)
    assert (facts["XIANGYUN"].escalated, facts["BINCHUAN"].escalated) == (1, 0)


def test_three_reworks_escalate_one_level(flow: govflow.Govflow) -> None:
    a = new_issue(flow)
    for number in range(1, 4):
        flow.implement(a.id, by="XIANGYUN", note="n")
        flow.report(a.id, by="XIANGYUN", result="r")
        got = flow.reject(a.id, by="OFFICE", reason="未整改到位")
        assert got.rework_count == number
        assert (got.field is not None and got.field.escalated == ("reworks",)) == (number == 3)
    assert flow.ledger(a.id)[-1].data["escalated"]["reasons"] == ["reworks"]


def _escalation_flow(kind: str, tmp_path: Path, clock: FakeClock, escalate_to: Any) -> govflow.Govflow:
    from .._postgres import postgres_store
    from ..conftest import add_units

    target: Any = postgres_store(tmp_path) if kind == "postgres" else (
        ":memory:" if kind == "memory" else str(tmp_path / "flow.sqlite3"))
    flow = govflow.open(target, clock=clock, escalate_to=escalate_to)
    add_units(flow)
    flow.add_unit("INSPECT", "州委督查室", level="department", supervisor=True)
    return flow


def _rework_three_times(flow: govflow.Govflow, issue_id: str) -> govflow.Issue:
    for _ in range(2):
        flow.implement(issue_id, by="XIANGYUN", note="n")
        flow.report(issue_id, by="XIANGYUN", result="r")
        flow.reject(issue_id, by="OFFICE", reason="未整改到位")
    flow.implement(issue_id, by="XIANGYUN", note="n")
    flow.report(issue_id, by="XIANGYUN", result="r")
    return flow.get(issue_id)


@pytest.mark.parametrize("kind", ["memory", "sqlite", "postgres"])
@pytest.mark.parametrize("escalate_to", ["INSPECT", lambda unit: {"OFFICE": "INSPECT"}[unit.id]],
                         ids=["unit-id", "callable"])
def test_the_escalation_target_is_configurable(kind: str, escalate_to: Any, tmp_path: Path, clock: FakeClock) -> None:
    with _escalation_flow(kind, tmp_path, clock, escalate_to) as flow:
        a = new_issue(flow)
        _rework_three_times(flow, a.id)
        got = flow.reject(a.id, by="OFFICE", reason="未整改到位")
        assert got.field is not None and got.field.office == "INSPECT" and got.field.escalated == ("reworks",)
        assert flow.ledger(a.id)[-1].data["escalated"] == {"reasons": ["reworks"], "office": "INSPECT",
                                                           "unit": "XIANGYUN"}
        flow.verify_ledger()


@pytest.mark.parametrize("kind", ["memory", "sqlite", "postgres"])
def test_a_callable_may_return_a_unit(kind: str, tmp_path: Path, clock: FakeClock) -> None:
    seen: list[str] = []

    def upward(unit: govflow.Unit) -> govflow.Unit:
        seen.append(unit.id)
        return next(u for u in flow.units() if u.id == "INSPECT")

    with _escalation_flow(kind, tmp_path, clock, upward) as flow:
        a = new_issue(flow)
        _rework_three_times(flow, a.id)
        got = flow.reject(a.id, by="OFFICE", reason="r")
        assert got.field is not None and got.field.office == "INSPECT" and seen == ["OFFICE"]


@pytest.mark.parametrize("kind", ["memory", "sqlite", "postgres"])
@pytest.mark.parametrize("escalate_to", ["NOWHERE", lambda unit: "NOWHERE", lambda unit: None],
                         ids=["unit-id", "callable", "callable-none"])
def test_an_unknown_escalation_target_refuses_the_step(
    kind: str, escalate_to: Any, tmp_path: Path, clock: FakeClock
) -> None:
    with _escalation_flow(kind, tmp_path, clock, escalate_to) as flow:
        a = new_issue(flow)
        _rework_three_times(flow, a.id)
        error = refused(flow, ValidationError, lambda: flow.reject(a.id, by="OFFICE", reason="r"))
        assert error.field == "escalate_to" and "no registered unit" in str(error)  # type: ignore[attr-defined]
        assert "'parent', the id of a registered unit" in str(error)
        assert flow.get(a.id).state == "feedback" and flow.get(a.id).rework_count == 2


@pytest.mark.parametrize("escalate_to", [5, None, ""])
def test_escalate_to_of_the_wrong_kind_is_refused_at_open(escalate_to: Any) -> None:
    with pytest.raises(ValidationError) as info:
        govflow.open(":memory:", escalate_to=escalate_to)
    assert info.value.field == "escalate_to"


def test_the_ledger_replays_the_office_it_recorded(tmp_path: Path, clock: FakeClock) -> None:
    """An issue escalated to INSPECT replays as escalated to INSPECT after the setting changed."""
    with _escalation_flow("sqlite", tmp_path, clock, "INSPECT") as flow:
        a = new_issue(flow)
        _rework_three_times(flow, a.id)
        flow.reject(a.id, by="OFFICE", reason="r")
    with govflow.open(str(tmp_path / "flow.sqlite3"), clock=clock) as flow:  # the default: the parent
        assert flow.get(a.id).field.office == "INSPECT"  # type: ignore[union-attr]
        flow.verify_ledger()


# -- 回访 and 重新打开 ------------------------------------------------------------------------


def _verified(flow: govflow.Govflow, **kwargs: Any) -> govflow.Issue:
    a = new_issue(flow, **kwargs)
    flow.implement(a.id, by="XIANGYUN", note="n")
    flow.report(a.id, by="XIANGYUN", result="r")
    return flow.verify(a.id, by="OFFICE", rating=4)


def test_callback_records_satisfaction_once(flow: govflow.Govflow) -> None:
    a = _verified(flow)
    refused(flow, ValidationError, lambda: flow.callback(a.id, by="OFFICE", result="happy"))
    refused(flow, ValidationError, lambda: flow.callback(a.id, by="OFFICE", result="dissatisfied"))
    refused(flow, ValidationError, lambda: flow.callback(a.id, by="OFFICE", result="satisfied", reopen=True,
                                                         due="2026-04-01"))
    refused(flow, PermissionDenied, lambda: flow.callback(a.id, by="XIANGYUN", result="satisfied"))
    got = flow.callback(a.id, by="OFFICE", result="basically_satisfied")
    assert (got.state, got.field.callback if got.field else None) == ("verified", "basically_satisfied")
    refused(flow, InvalidTransition, lambda: flow.callback(a.id, by="OFFICE", result="satisfied"))


def test_a_dissatisfied_callback_sends_the_issue_back(flow: govflow.Govflow) -> None:
    a = _verified(flow)
    refused(flow, ValidationError, lambda: flow.callback(a.id, by="OFFICE", result="dissatisfied",
                                                         reason="仍有积水", reopen=True))
    back = flow.callback(a.id, by="OFFICE", result="dissatisfied", reason="仍有积水", reopen=True,
                         due=govflow.working_days(5))
    assert (back.state, back.rework_count, back.due) == ("assigned", 1, dt.date(2026, 3, 9))
    assert back.field is not None and back.field.callback_reworks == 1
    flow.implement(a.id, by="XIANGYUN", note="n")
    flow.report(a.id, by="XIANGYUN", result="r")
    again = flow.verify(a.id, by="OFFICE")
    assert again.field is not None and again.field.callback is None  # a new verification, a new call-back
    assert flow.callback(a.id, by="OFFICE", result="satisfied").field.callback == "satisfied"  # type: ignore[union-attr]


def test_reopen_within_the_window_only(flow: govflow.Govflow, clock: FakeClock) -> None:
    a = _verified(flow)
    b = _verified(flow)
    again = flow.reopen(a.id, by="OFFICE", reason="问题反弹", due="2026-03-31")
    assert (again.state, again.due, again.rework_count) == ("assigned", dt.date(2026, 3, 31), 0)
    assert again.field is not None and again.field.reopens == 1
    at(clock, "2026-04-10")  # 39 days after verification: reopen_days is 30
    error = refused(flow, InvalidTransition, lambda: flow.reopen(b.id, by="OFFICE", reason="r"))
    assert "within 30 days" in str(error)


# -- 并案 -------------------------------------------------------------------------------------


def test_merge_closes_the_duplicate_into_the_original(flow: govflow.Govflow) -> None:
    a = new_issue(flow)
    b = new_issue(flow, lead="BINCHUAN")
    refused(flow, ValidationError, lambda: flow.merge(b.id, into=b.id, by="OFFICE", reason="r"))
    refused(flow, PermissionDenied, lambda: flow.merge(b.id, into=a.id, by="BINCHUAN", reason="r"))
    refused(flow, ValidationError, lambda: flow.merge(b.id, into=a.id, by="OFFICE", reason=""))
    merged = flow.merge(b.id, into=a.id, by="OFFICE", reason="同一积水点重复反映")
    assert merged.state == "merged" and merged.field is not None and merged.field.merged_into == a.id
    target = flow.get(a.id)
    assert target.field is not None and target.field.merged == (b.id,) and target.state == "assigned"
    assert [(e.issue_id, e.trigger) for e in flow.ledger()[-2:]] == [(b.id, "merge"), (a.id, "take_merged")]
    c = new_issue(flow)
    refused(flow, ValidationError, lambda: flow.merge(c.id, into=b.id, by="OFFICE", reason="r"))
    refused(flow, InvalidTransition, lambda: flow.merge(b.id, into=c.id, by="OFFICE", reason="r"))
    flow.verify_ledger()


def _merge_outcome(flow: govflow.Govflow, b: str, a: str) -> tuple[Any, ...]:
    dup, target = flow.get(b), flow.get(a)
    steps = [(e.issue_id, e.trigger, e.from_state, e.to_state, e.actor, e.person, dict(e.data))
             for e in flow.ledger()[-2:]]
    return (dup.state, dup.version, field_of(dup).merged_into, target.state, target.version,
            field_of(target).merged, steps)


def field_of(issue: govflow.Issue) -> govflow.FieldState:
    return issue.field if issue.field is not None else govflow.FieldState()


def test_plain_fire_of_merge_writes_both_steps_like_flow_merge(flow: govflow.Govflow) -> None:
    a1, b1 = new_issue(flow), new_issue(flow, lead="BINCHUAN")
    a2, b2 = new_issue(flow), new_issue(flow, lead="BINCHUAN")
    flow.merge(b1.id, into=a1.id, by=govflow.Actor("OFFICE", "李四"), reason="重复")
    by_name = _merge_outcome(flow, b1.id, a1.id)
    fired = flow.fire(b2.id, "merge", by=govflow.Actor("OFFICE", "李四"), into=a2.id, reason="重复")
    assert fired.state == "merged" and field_of(fired).merged_into == a2.id
    by_fire = _merge_outcome(flow, b2.id, a2.id)
    # The same outcome up to the ids: both steps, the same data shape, the two entries one after the other.
    swap = {b1.id: b2.id, a1.id: a2.id}

    def renamed(value: Any) -> Any:
        if isinstance(value, str):
            return swap.get(value, value)
        if isinstance(value, tuple | list):
            return type(value)(renamed(v) for v in value)
        if isinstance(value, dict):
            return {k: renamed(v) for k, v in value.items()}
        return value

    assert by_fire == renamed(by_name)
    assert by_fire[-1][1][:2] == (a2.id, "take_merged") and by_fire[-1][1][-1] == {"merged_issue": b2.id,
                                                                                      "reason": "重复"}
    assert flow.ledger()[-1].seq == flow.ledger()[-2].seq + 1
    flow.verify_ledger()


def test_plain_fire_of_merge_is_refused_whole(flow: govflow.Govflow) -> None:
    a, b, c = new_issue(flow), new_issue(flow, lead="BINCHUAN"), new_issue(flow)
    error = refused(flow, ValidationError, lambda: flow.fire(b.id, "merge", by="OFFICE", into="GF-2026-9999",
                                                             reason="r"))
    assert "into" in str(error) and "GF-2026-9999" in str(error)
    flow.fire(c.id, "merge", by="OFFICE", into=a.id, reason="r")
    error = refused(flow, ValidationError, lambda: flow.fire(b.id, "merge", by="OFFICE", into=c.id, reason="r"))
    assert f"merged into {a.id}" in str(error) and "assigned" in str(error)  # what would be accepted
    flow.cancel(a.id, by="OFFICE", reason="撤销")
    error = refused(flow, ValidationError, lambda: flow.fire(b.id, "merge", by="OFFICE", into=a.id, reason="r"))
    assert "cancelled" in str(error)
    refused(flow, PermissionDenied, lambda: flow.fire(b.id, "merge", by="XIANGYUN", into=c.id, reason="r"))


def test_take_merged_is_never_fired_alone(flow: govflow.Govflow) -> None:
    """The original's side of a merge is taken only with the duplicate's ``merge``: fired alone it would record
    a merge that never happened (of an issue still open, or of no issue at all)."""
    a, b = new_issue(flow), new_issue(flow, lead="BINCHUAN")
    for merged in (b.id, "GF-2026-9999"):
        error = refused(flow, InvalidTransition,
                        lambda merged=merged: flow.fire(a.id, "take_merged", by="OFFICE", merged_issue=merged))
        assert "'take_merged' is taken only together with 'merge'" in str(error)
        assert error.allowed == ("cancel", "reassign", "merge", "attach")  # type: ignore[attr-defined]
    assert "take_merged" not in flow.allowed_triggers(a.id, "OFFICE")
    flow.merge(b.id, into=a.id, by="OFFICE", reason="重复")  # the way to take an issue in
    assert field_of(flow.get(a.id)).merged == (b.id,)
    assert flow.verify_ledger().entries == len(flow.ledger())  # the replay takes the partner step as recorded


def test_a_partner_step_the_other_issue_cannot_take_is_refused(flow: govflow.Govflow) -> None:
    """A deployment's lifecycle whose issues cannot take a merged issue in: merging into one is refused."""
    from govflow._lifecycle.issue_list import ISSUE_LIST_V2

    flow.register_lifecycle({**ISSUE_LIST_V2, "name": "no-take", "transitions": [
        t for t in ISSUE_LIST_V2["transitions"] if t["trigger"] != "take_merged"]})
    a = new_issue(flow, lifecycle="no-take")
    b = new_issue(flow, lead="BINCHUAN")
    error = refused(flow, ValidationError, lambda: flow.fire(b.id, "merge", by="OFFICE", into=a.id, reason="r"))
    assert f"{a.id} is assigned" in str(error)


# -- 佐证材料 ---------------------------------------------------------------------------------


def test_attach_records_the_hash_and_verify_ledger_checks_the_files(flow: govflow.Govflow, tmp_path: Path) -> None:
    a = new_issue(flow)
    photo = tmp_path / "现场照片.jpg"
    photo.write_bytes(b"\xff\xd8 a photo")
    got = flow.attach(a.id, photo, by=govflow.Actor("XIANGYUN", "王五"), name="现场照片.jpg", kind="photo")
    entry = flow.ledger(a.id)[-1]
    import hashlib

    sha = hashlib.sha256(b"\xff\xd8 a photo").hexdigest()
    assert (entry.trigger, entry.person, dict(entry.data)) == (
        "attach", "王五", {"sha256": sha, "size": 10, "name": "现场照片.jpg", "kind": "photo"})
    assert got.field is not None and got.field.evidence == (sha,)
    assert flow.evidence(sha) == b"\xff\xd8 a photo"
    assert flow.verify_ledger(blobs=True).entries == UNIT_ENTRIES + 2
    refused(flow, ValidationError, lambda: flow.attach(a.id, b"", by="XIANGYUN", name="x"))
    refused(flow, ValidationError, lambda: flow.attach(a.id, tmp_path / "missing.pdf", by="XIANGYUN", name="x"))
    refused(flow, ValidationError, lambda: flow.attach(a.id, b"x", by="XIANGYUN", name=" "))
    refused(flow, PermissionDenied, lambda: flow.attach(a.id, b"x", by="BINCHUAN", name="x.pdf"))
    # A file the blob store lost is named.
    missing = hashlib.sha256(b"never stored").hexdigest()
    flow.fire(a.id, "attach", by="XIANGYUN", sha256=missing, size=12, name="lost.pdf")
    with pytest.raises(LedgerCorrupted, match=r"lost\.pdf"):
        flow.verify_ledger(blobs=True)


def test_requires_evidence_in_the_lifecycle(flow: govflow.Govflow) -> None:
    definition = {**govflow.ISSUE_LIST_V2, "name": "evidence-first", "transitions": [
        {**t, "requires_evidence": True} if t["trigger"] == "report" else t
        for t in govflow.ISSUE_LIST_V2["transitions"]
    ]}
    flow.register_lifecycle(definition)
    a = new_issue(flow, lifecycle="evidence-first")
    flow.implement(a.id, by="XIANGYUN", note="n")
    error = refused(flow, InvalidTransition, lambda: flow.report(a.id, by="XIANGYUN", result="r"))
    assert "evidence" in str(error)
    flow.attach(a.id, b"minutes of the site visit", by="XIANGYUN", name="纪要.pdf")
    assert flow.report(a.id, by="XIANGYUN", result="r").state == "feedback"
    # Evidence counts in the state it was attached in: the next round needs its own.
    flow.reject(a.id, by="OFFICE", reason="r")
    flow.implement(a.id, by="XIANGYUN", note="n")
    refused(flow, InvalidTransition, lambda: flow.report(a.id, by="XIANGYUN", result="r"))


class _Vault:
    """A blob-store plugin: keeps files in a dictionary it shows to the test."""

    name = "vault"

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}

    def put(self, data: bytes) -> str:
        import hashlib

        key = hashlib.sha256(data).hexdigest()
        self.files[key] = data
        return key

    def get(self, sha256: str) -> bytes | None:
        return self.files.get(sha256)

    @govflow.hookimpl
    def govflow_blob_store(self, flow: govflow.Govflow) -> govflow.BlobStore:
        return self


def test_a_blob_store_plugin_receives_the_files(tmp_path: Path, clock: FakeClock) -> None:
    from ..conftest import add_units

    vault = _Vault()
    with govflow.open(str(tmp_path / "f.sqlite3"), clock=clock, plugins=[vault]) as flow:
        add_units(flow)
        a = new_issue(flow)
        refused(flow, PermissionDenied, lambda: flow.attach(a.id, b"not mine", by="BINCHUAN", name="x.pdf"))
        assert vault.files == {}  # a refused step stores no file
        flow.attach(a.id, b"report", by="XIANGYUN", name="r.pdf")
        assert list(vault.files.values()) == [b"report"]
        vault.files[next(iter(vault.files))] = b"altered"
        with pytest.raises(LedgerCorrupted, match="altered"):
            flow.verify_ledger(blobs=True)
    assert not (tmp_path / "f.sqlite3.blobs").exists()


def test_the_default_blob_store_is_a_folder_beside_the_sqlite_file(tmp_path: Path, clock: FakeClock) -> None:
    from ..conftest import add_units

    path = tmp_path / "f.sqlite3"
    with govflow.open(str(path), clock=clock) as flow:
        add_units(flow)
        a = new_issue(flow)
        flow.attach(a.id, b"report", by="XIANGYUN", name="r.pdf")
    files = [p for p in (tmp_path / "f.sqlite3.blobs").rglob("*") if p.is_file()]
    assert [p.read_bytes() for p in files] == [b"report"]
    with govflow.open(str(path), clock=clock) as flow:
        assert flow.verify_ledger(blobs=True).entries == UNIT_ENTRIES + 2
        files[0].write_bytes(b"tampered")
        with pytest.raises(LedgerCorrupted, match="altered"):
            flow.verify_ledger(blobs=True)


# -- facts and scoring ------------------------------------------------------------------------


def test_callbacks_count_in_the_facts_and_the_scores(flow: govflow.Govflow, clock: FakeClock) -> None:
    a = _verified(flow)
    b = _verified(flow)
    c = _verified(flow)
    flow.callback(a.id, by="OFFICE", result="satisfied")
    flow.callback(b.id, by="OFFICE", result="basically_satisfied")
    flow.callback(c.id, by="OFFICE", result="dissatisfied", reason="仍有积水", reopen=True, due="2026-03-31")
    facts = flow.facts("2026-03")["XIANGYUN"]
    assert (facts.callbacks, facts.callbacks_satisfied, facts.callback_reworks) == (3, 2, 1)
    assert (facts.ratings, facts.rating_sum) == (3, 12)  # the ratings stay in the facts ...
    score = next(s for s in flow.scores("2026-03") if s.unit == "XIANGYUN")
    by_name = {i.name: i for i in score.breakdown}
    assert by_name["satisfaction"].value == pytest.approx(200 / 3)  # ... but 满意率 uses the call-backs
    assert by_name["rework"].value == pytest.approx(100 * (6 - 1) / 6)  # 3 reports + 3 call-backs, 1 sent back
    assert by_name["first_pass"].value == 100.0
    assert by_name["rework"].label_zh.startswith("发回重办率")


def test_a_merged_duplicate_is_not_counted_against_its_lead(flow: govflow.Govflow, clock: FakeClock) -> None:
    a = new_issue(flow, due=dt.date(2026, 3, 10))
    b = new_issue(flow, lead="BINCHUAN", due=dt.date(2026, 3, 10))
    flow.merge(b.id, into=a.id, by="OFFICE", reason="重复")
    at(clock, "2026-04-01")
    facts = flow.facts("2026-03")
    assert (facts["XIANGYUN"].due, facts["XIANGYUN"].overdue_at_end) == (1, 1)
    assert (facts["BINCHUAN"].due, facts["BINCHUAN"].overdue_at_end) == (0, 0)


def slow_lifecycle(flow: govflow.Govflow) -> None:
    """Register ``slow``: version 2's rules with an acceptance limit of 3 working days (the policy's is 1)."""
    from govflow._lifecycle.issue_list import ISSUE_LIST_V2

    flow.register_lifecycle({**ISSUE_LIST_V2, "name": "slow", "settings": {**ISSUE_LIST_V2["settings"],
                                                                          "accept_limit": 3}})


def test_acceptance_counts_within_each_issue_s_own_limit(flow: govflow.Govflow, clock: FakeClock) -> None:
    """及时签收率: each issue's own acceptance limit (its accept_limit, else its lifecycle's: 1 working day in
    version 2, 3 in ``slow``); an issue without one (0, or a lifecycle without the setting) by
    ScoringPolicy.accept_within (1)."""
    from govflow._lifecycle.issue_list import ISSUE_LIST

    flow.register_lifecycle({**ISSUE_LIST, "name": "legacy"})  # version 1's rules: no acceptance limit setting
    slow_lifecycle(flow)
    at(clock, "2026-03-02")  # Monday
    three = new_issue(flow, accept_limit=3)
    lifecycle_s = new_issue(flow)
    slow = new_issue(flow, lifecycle="slow")
    slow_none = new_issue(flow, lifecycle="slow", accept_limit=0)
    none = new_issue(flow, accept_limit=0)
    legacy_late = new_issue(flow, lifecycle="legacy")
    legacy = new_issue(flow, lifecycle="legacy")
    assert flow.ledger(three.id)[0].data["accept_by"] == "2026-03-05"  # the 3rd working day
    # The lifecycle's limit is counted from the lifecycle: the entry keeps to the five keys every issue has.
    assert sorted(flow.ledger(lifecycle_s.id)[0].data) == ["due", "lead", "lifecycle", "lifecycle_version", "title"]
    for issue in (lifecycle_s, slow, slow_none, none, legacy):
        assert "accept_by" not in flow.ledger(issue.id)[0].data
    at(clock, "2026-03-03")
    flow.accept(legacy.id, by="XIANGYUN")  # the policy's next working day: on time
    at(clock, "2026-03-05")  # Thursday: the 3rd working day
    for issue in (three, lifecycle_s, slow, slow_none, none, legacy_late):
        flow.accept(issue.id, by="XIANGYUN")
    at(clock, "2026-04-01")
    facts = flow.facts("2026-03")["XIANGYUN"]
    assert (facts.assigned, facts.accepted_on_time) == (7, 3)  # three, slow and legacy
    score = next(s for s in flow.scores("2026-03") if s.unit == "XIANGYUN")
    assert {i.name: i for i in score.breakdown}["accepted_on_time"].value == pytest.approx(300 / 7)


def test_a_reassignment_counts_by_the_issue_s_own_limit(flow: govflow.Govflow, clock: FakeClock) -> None:
    at(clock, "2026-03-02")
    a = new_issue(flow, accept_limit=2)
    at(clock, "2026-03-03")
    flow.reassign(a.id, by="OFFICE", new_lead="BINCHUAN", reason="属地调整")
    assert flow.ledger(a.id)[-1].data["accept_by"] == "2026-03-05"  # 2 working days after Tuesday
    at(clock, "2026-03-05")
    flow.accept(a.id, by="BINCHUAN")
    at(clock, "2026-04-01")
    facts = flow.facts("2026-03")
    assert (facts["BINCHUAN"].assigned, facts["BINCHUAN"].accepted_on_time) == (1, 1)
    assert (facts["XIANGYUN"].assigned, facts["XIANGYUN"].accepted_on_time) == (1, 0)
    flow.verify_ledger()


def test_a_reassignment_counts_by_the_lifecycle_s_limit(flow: govflow.Govflow, clock: FakeClock) -> None:
    """An issue without a limit of its own: its reassignment is held to its lifecycle's limit from the day it
    was reassigned (recorded nowhere, counted from the lifecycle)."""
    slow_lifecycle(flow)
    at(clock, "2026-03-02")
    slow = new_issue(flow, lifecycle="slow")
    own_none = new_issue(flow, lifecycle="slow", accept_limit=0)
    at(clock, "2026-03-03")  # Tuesday
    for issue in (slow, own_none):
        flow.reassign(issue.id, by="OFFICE", new_lead="BINCHUAN", reason="属地调整")
        assert "accept_by" not in flow.ledger(issue.id)[-1].data
    at(clock, "2026-03-06")  # Friday: the 3rd working day after Tuesday (the policy's limit was Wednesday)
    for issue in (slow, own_none):
        flow.accept(issue.id, by="BINCHUAN")
    at(clock, "2026-04-01")
    facts = flow.facts("2026-03")["BINCHUAN"]
    assert (facts.assigned, facts.accepted_on_time) == (2, 1)  # slow, by its lifecycle's 3 days
    flow.verify_ledger()


def test_a_merged_duplicate_is_no_assignment_of_its_lead(flow: govflow.Govflow, clock: FakeClock) -> None:
    """B's lead unit is not penalised for the merge: B's assignment is out of its 及时签收率."""
    at(clock, "2026-02-25")
    b = new_issue(flow, lead="BINCHUAN")
    at(clock, "2026-03-02")
    a = new_issue(flow)
    b2 = new_issue(flow, lead="BINCHUAN")
    c = new_issue(flow, lead="BINCHUAN")
    flow.accept(a.id, by="XIANGYUN")
    flow.accept(c.id, by="BINCHUAN")
    at(clock, "2026-03-10")
    flow.fire(b.id, "merge", by="OFFICE", into=a.id, reason="重复")  # never accepted
    flow.merge(b2.id, into=a.id, by="OFFICE", reason="重复")  # assigned in March, never accepted
    at(clock, "2026-04-01")
    facts = flow.facts("2026-03")
    assert (facts["BINCHUAN"].assigned, facts["BINCHUAN"].accepted_on_time) == (1, 1)
    assert (facts["XIANGYUN"].assigned, facts["XIANGYUN"].accepted_on_time) == (1, 1)
    score = next(s for s in flow.scores("2026-03") if s.unit == "BINCHUAN")
    assert {i.name: i for i in score.breakdown}["accepted_on_time"].value == 100.0
    # February's facts were over before the merge: B was assigned then, and not accepted in time.
    february = flow.facts("2026-02")["BINCHUAN"]
    assert (february.assigned, february.accepted_on_time) == (1, 0)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_bulletin_ledger_sheet_labels_the_field_steps(flow: govflow.Govflow, clock: FakeClock, lang: str) -> None:
    from govflow._reports.bulletin.labels import label

    from ..reports.test_bulletin_xlsx import records, sheet, workbook

    a = new_issue(flow, cooperating=["BINCHUAN"])
    flow.countersign(a.id, by="BINCHUAN", note="配合")
    flow.request_suspension(a.id, by="XIANGYUN", reason="涉诉")
    flow.approve_suspension(a.id, by="OFFICE")
    at(clock, "2026-04-01")
    rows = records(sheet(workbook(flow.bulletin("2026-03"), lang), "ledger", lang))
    steps = [(r[label("trigger", lang)], r[label("to_state", lang)]) for r in rows if r[label("issue", lang)] == a.id]
    wanted = {"zh": [("交办", "已交办"), ("会签", "已交办"), ("申请挂起", "已交办"), ("批准挂起", "已挂起")],
              "en": [("assign", "assigned"), ("countersign", "assigned"), ("request suspension", "assigned"),
                     ("approve suspension", "suspended")]}
    assert steps == wanted[lang]
