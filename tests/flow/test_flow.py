"""The Govflow facade: the main line, every trigger, reads, and errors that write nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import govflow
from govflow import (
    Actor,
    GovflowError,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    Responsible,
    ValidationError,
)
from govflow.testing import FakeClock

from ..conftest import UNIT_ENTRIES, add_units, refused

DUE = dt.date(2026, 3, 20)


def new_issue(flow: govflow.Govflow, **kwargs: Any) -> govflow.Issue:
    params: dict[str, Any] = {"lead": "XIANGYUN", "due": DUE, "by": "OFFICE", **kwargs}
    title = params.pop("title", "某村道路积水问题")
    return flow.assign(title, **params)


def test_main_line_to_verified(flow: govflow.Govflow) -> None:
    issue = new_issue(flow, cooperating=["BINCHUAN"], responsible={"first": "张三", "direct": "李四"},
                      countersign="none")  # 会签: tests/flow/test_field_loop.py
    assert issue.id == "GF-2026-0001"
    assert (issue.state, issue.version, issue.lifecycle, issue.lifecycle_version) == (
        "assigned", 1, "issue-list", 2,
    )
    assert issue.responsible == Responsible(first="张三", direct="李四")
    assert issue.original_due == issue.due == DUE
    accepted = flow.accept(issue.id, by="XIANGYUN")
    assert accepted.accepted_at is not None and accepted.state == "assigned"
    flow.implement(issue.id, by=Actor("XIANGYUN", "王五"), note="已组织疏通排水沟", evidence=["照片1.jpg"])
    flow.report(issue.id, by="XIANGYUN", result="积水已消除")
    done = flow.verify(issue.id, by="OFFICE", rating=5)
    assert (done.state, done.version) == ("verified", 5)
    assert flow.get(issue.id) == done
    entries = flow.ledger(issue.id)
    assert [(e.trigger, e.from_state, e.to_state) for e in entries] == [
        ("assign", None, "assigned"),
        ("accept", "assigned", "assigned"),
        ("implement", "assigned", "implemented"),
        ("report", "implemented", "feedback"),
        ("verify", "feedback", "verified"),
    ]
    assert [e.issue_seq for e in entries] == [1, 2, 3, 4, 5]
    assert entries[2].person == "王五" and entries[2].actor == "XIANGYUN"
    assert entries[2].data == {"note": "已组织疏通排水沟", "evidence": ["照片1.jpg"]}
    assert entries[4].data == {"rating": 5}
    assert entries[0].data["responsible"] == {"first": "张三", "direct": "李四"}
    assert flow.verify_ledger().entries == UNIT_ENTRIES + 5


def test_rejection_counts_rework_and_may_move_the_due_date(flow: govflow.Govflow) -> None:
    issue = new_issue(flow)
    flow.implement(issue.id, by="XIANGYUN", note="n")
    flow.report(issue.id, by="XIANGYUN", result="r")
    back = flow.reject(issue.id, by="OFFICE", reason="整改不彻底", due="2026-03-31")
    assert (back.state, back.rework_count, back.due, back.original_due) == (
        "assigned", 1, dt.date(2026, 3, 31), DUE,
    )
    flow.implement(issue.id, by="XIANGYUN", note="n2")
    flow.report(issue.id, by="XIANGYUN", result="r2")
    assert flow.verify(issue.id, by="OFFICE").state == "verified"


def test_cancel_from_every_open_state(flow: govflow.Govflow) -> None:
    steps: list[Callable[[str], object]] = [
        lambda i: flow.implement(i, by="XIANGYUN", note="n"),
        lambda i: flow.report(i, by="XIANGYUN", result="r"),
    ]
    for depth in range(3):
        issue = new_issue(flow)
        for step in steps[:depth]:
            step(issue.id)
        assert flow.cancel(issue.id, by="OFFICE", reason="重复交办").state == "cancelled"
        refused(flow, InvalidTransition, lambda i=issue.id: flow.cancel(i, by="OFFICE", reason="again"))


def test_reassign_moves_the_lead_and_resets_acceptance(flow: govflow.Govflow) -> None:
    issue = new_issue(flow, cooperating=["BINCHUAN", "XIAZHUANG"])
    flow.accept(issue.id, by="XIANGYUN")
    moved = flow.reassign(issue.id, by="OFFICE", new_lead="BINCHUAN", reason="属地调整")
    assert (moved.lead, moved.cooperating, moved.accepted_at) == ("BINCHUAN", ("XIAZHUANG",), None)
    assert [i.id for i in flow.issues(unit="BINCHUAN")] == [issue.id]
    assert flow.issues(unit="XIANGYUN") == []
    assert [i.id for i in flow.issues(unit="XIAZHUANG")] == [issue.id]
    refused(flow, PermissionDenied, lambda: flow.implement(issue.id, by="XIANGYUN", note="n"))
    assert flow.accept(issue.id, by="BINCHUAN").accepted_at is not None


def test_extension_request_approve_and_deny(flow: govflow.Govflow) -> None:
    issue = new_issue(flow)
    pending = flow.request_extension(issue.id, by="XIANGYUN", due="2026-04-10", reason="需协调资金")
    assert pending.extension is not None and pending.extension.due == dt.date(2026, 4, 10)
    assert pending.due == DUE and pending.state == "assigned"
    refused(flow, InvalidTransition,
            lambda: flow.request_extension(issue.id, by="XIANGYUN", due="2026-04-20", reason="x"))
    approved = flow.approve_extension(issue.id, by="OFFICE")
    assert (approved.due, approved.original_due, approved.extension, approved.extension_count) == (
        dt.date(2026, 4, 10), DUE, None, 1,
    )
    refused(flow, InvalidTransition, lambda: flow.approve_extension(issue.id, by="OFFICE"))
    flow.request_extension(issue.id, by="XIANGYUN", due="2026-04-30", reason="再延")
    denied = flow.deny_extension(issue.id, by="OFFICE", reason="理由不充分")
    assert (denied.due, denied.extension, denied.extension_count) == (dt.date(2026, 4, 10), None, 1)
    refused(flow, ValidationError,
            lambda: flow.request_extension(issue.id, by="XIANGYUN", due="2026-04-01", reason="早于"))


def test_extension_request_after_the_due_date_is_refused(flow: govflow.Govflow, clock: FakeClock) -> None:
    issue = new_issue(flow)
    clock.set("2026-03-21T09:00:00+08:00")
    error = refused(flow, ValidationError,
                    lambda: flow.request_extension(issue.id, by="XIANGYUN", due="2026-04-10", reason="晚了"))
    assert "after the due date 2026-03-20" in str(error)


def test_allowed_triggers_follow_state_and_role(flow: govflow.Govflow) -> None:
    issue = new_issue(flow, cooperating=["BINCHUAN"])
    assert flow.allowed_triggers(issue.id, "XIANGYUN") == [
        "accept", "return_to_dispatcher", "implement", "request_extension", "request_suspension", "attach",
    ]
    assert flow.allowed_triggers(issue.id, "OFFICE") == ["cancel", "reassign", "merge", "attach"]  # not take_merged
    assert flow.allowed_triggers(issue.id, "BINCHUAN") == ["countersign", "decline_countersign", "attach"]
    flow.accept(issue.id, by="XIANGYUN")
    assert flow.allowed_triggers(issue.id, Actor("XIANGYUN", "王五")) == [
        "return_to_dispatcher", "implement", "request_extension", "request_suspension", "attach",
    ]
    flow.request_extension(issue.id, by="XIANGYUN", due="2026-04-01", reason="r")
    assert flow.allowed_triggers(issue.id, "OFFICE") == [
        "cancel", "reassign", "approve_extension", "deny_extension", "merge", "attach",
    ]
    assert flow.roles(issue.id, "BINCHUAN") == {"cooperating"}


def test_issue_queries(flow: govflow.Govflow) -> None:
    a = new_issue(flow, cooperating=["XIAZHUANG"])
    b = new_issue(flow, lead="BINCHUAN")
    flow.implement(b.id, by="BINCHUAN", note="n")
    assert [i.id for i in flow.issues()] == [a.id, b.id]
    assert [i.id for i in flow.issues(state="implemented")] == [b.id]
    assert [i.id for i in flow.issues(unit="XIAZHUANG")] == [a.id]
    assert [i.id for i in flow.issues(state="assigned", unit="BINCHUAN")] == []


def test_issue_ids_are_a_yearly_sequence_with_a_prefix(tmp_path: Path) -> None:
    clock = FakeClock("2026-12-31T23:00:00+08:00")
    with govflow.open(tmp_path / "ids.sqlite3", clock=clock, id_prefix="DL") as flow:
        add_units(flow)
        assert flow.assign("t", lead="XIANGYUN", due="2027-01-10", by="OFFICE").id == "DL2026-0001"
        assert flow.assign("t", lead="XIANGYUN", due="2027-01-10", by="OFFICE").id == "DL2026-0002"
        clock.set("2027-01-01T08:00:00+08:00")
        assert flow.assign("t", lead="XIANGYUN", due="2027-01-10", by="OFFICE").id == "DL2027-0001"


def test_state_at_replays_the_ledger(flow: govflow.Govflow, clock: FakeClock) -> None:
    issue = new_issue(flow)
    assigned_at = flow.ledger(issue.id)[0].at
    clock.advance(days=1)
    flow.implement(issue.id, by="XIANGYUN", note="n")
    clock.advance(days=1)
    flow.report(issue.id, by="XIANGYUN", result="r")
    day = dt.timedelta(days=1)
    assert flow.state_at(issue.id, assigned_at) == "assigned"
    assert flow.state_at(issue.id, assigned_at + day + dt.timedelta(hours=1)) == "implemented"
    assert flow.state_at(issue.id, assigned_at + 3 * day) == "feedback"
    with pytest.raises(NotFound, match="did not exist"):
        flow.state_at(issue.id, assigned_at - dt.timedelta(seconds=1))
    with pytest.raises(ValidationError, match="timezone-aware"):
        flow.state_at(issue.id, dt.datetime(2026, 3, 3))


# -- errors: typed, named, and nothing written ---------------------------------------------


def test_verification_by_the_lead_unit_is_refused_even_if_it_supervises(flow: govflow.Govflow) -> None:
    issue = new_issue(flow, lead="OFFICE")
    flow.implement(issue.id, by="OFFICE", note="n")
    flow.report(issue.id, by="OFFICE", result="r")
    error = refused(flow, PermissionDenied, lambda: flow.verify(issue.id, by="OFFICE"))
    assert "never the lead unit" in str(error)


def test_permission_denied_names_who_may(flow: govflow.Govflow) -> None:
    issue = new_issue(flow)
    error = refused(flow, PermissionDenied, lambda: flow.implement(issue.id, by="BINCHUAN", note="n"))
    assert isinstance(error, PermissionDenied)
    assert (error.issue_id, error.trigger, error.actor) == (issue.id, "implement", "BINCHUAN")
    assert "the lead unit XIANGYUN" in error.allowed
    refused(flow, PermissionDenied, lambda: flow.cancel(issue.id, by="XIANGYUN", reason="r"))
    refused(flow, PermissionDenied, lambda: flow.cancel(issue.id, by="NOBODY", reason="r"))
    refused(flow, PermissionDenied, lambda: new_issue(flow, by="XIANGYUN"))


def test_invalid_transition_names_state_trigger_and_what_is_allowed(flow: govflow.Govflow) -> None:
    issue = new_issue(flow)
    error = refused(flow, InvalidTransition, lambda: flow.report(issue.id, by="XIANGYUN", result="r"))
    assert isinstance(error, InvalidTransition)
    assert (error.issue_id, error.state, error.trigger) == (issue.id, "assigned", "report")
    assert error.allowed == (
        "accept", "return_to_dispatcher", "implement", "request_extension", "request_suspension", "attach",
    )
    refused(flow, InvalidTransition, lambda: flow.fire(issue.id, "no_such_trigger", by="OFFICE"))


@pytest.mark.parametrize(
    ("trigger", "data", "field"),
    [
        ("implement", {}, "note"),
        ("implement", {"note": "   "}, "note"),
        ("implement", {"note": 3}, "note"),
        ("implement", {"note": "n", "evidence": [1]}, "evidence"),
        ("implement", {"note": "n", "rating": 5}, "rating"),
        ("cancel", {}, "reason"),
        ("reassign", {"reason": "r"}, "new_lead"),
        ("reassign", {"reason": "r", "new_lead": "NOBODY"}, "new_lead"),
        ("reassign", {"reason": "r", "new_lead": "XIANGYUN"}, "new_lead"),
        ("request_extension", {"reason": "r", "due": "next week"}, "due"),
        ("request_extension", {"reason": "r", "due": dt.datetime(2026, 4, 1, tzinfo=govflow.DEFAULT_ZONE)},
         "due"),
    ],
)
def test_bad_data_is_a_validation_error(
    flow: govflow.Govflow, trigger: str, data: dict[str, Any], field: str
) -> None:
    issue = new_issue(flow)
    by = "OFFICE" if trigger in ("cancel", "reassign") else "XIANGYUN"
    error = refused(flow, ValidationError, lambda: flow.fire(issue.id, trigger, by=by, **data))
    assert isinstance(error, ValidationError)
    assert error.field == field and error.issue_id == issue.id and error.accepted


def test_bad_ratings_and_reject_dates(flow: govflow.Govflow) -> None:
    issue = new_issue(flow)
    flow.implement(issue.id, by="XIANGYUN", note="n")
    flow.report(issue.id, by="XIANGYUN", result="r")
    for rating in (0, 6, True, "5", 4.5):
        refused(flow, ValidationError, lambda r=rating: flow.verify(issue.id, by="OFFICE", rating=r))
    refused(flow, ValidationError, lambda: flow.reject(issue.id, by="OFFICE", reason="r", due="2026-03-01"))
    refused(flow, ValidationError, lambda: flow.reject(issue.id, by="OFFICE", reason=""))


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"title": ""}, "title"),
        ({"lead": "NOBODY"}, "lead"),
        ({"due": "2026-03-01"}, "due"),
        ({"due": "03/20/2026"}, "due"),
        ({"cooperating": ["NOBODY"]}, "cooperating"),
        ({"cooperating": ["XIANGYUN"]}, "cooperating"),
        ({"responsible": {"boss": "x"}}, "responsible"),
        ({"lifecycle": "no-such"}, None),
    ],
)
def test_bad_assignments_write_nothing(flow: govflow.Govflow, kwargs: dict[str, Any], field: str | None) -> None:
    error_type: type[GovflowError] = ValidationError if field else NotFound
    error = refused(flow, error_type, lambda: new_issue(flow, **kwargs))
    if field:
        assert isinstance(error, ValidationError) and error.field == field


def test_error_precedence(flow: govflow.Govflow) -> None:
    issue = new_issue(flow)
    # NotFound beats everything.
    refused(flow, NotFound, lambda: flow.fire("GF-2026-9999", "verify", by="NOBODY", rating=9))
    # InvalidTransition (not a trigger of this state) beats PermissionDenied and ValidationError.
    refused(flow, InvalidTransition, lambda: flow.fire(issue.id, "verify", by="BINCHUAN", rating=9))
    # PermissionDenied beats ValidationError.
    refused(flow, PermissionDenied, lambda: flow.fire(issue.id, "implement", by="BINCHUAN"))


def test_bad_actor_and_bad_clock(tmp_path: Path) -> None:
    with govflow.open(":memory:", clock=lambda: dt.datetime(2026, 3, 2, 9)) as flow:
        with pytest.raises(ValidationError, match="clock"):  # a unit's registration is dated too
            add_units(flow)
        assert flow.units() == [] and flow.issues() == [] and flow.ledger() == []
    with govflow.open(":memory:", clock=FakeClock("2026-03-02T09:00:00+08:00")) as flow:
        with pytest.raises(NotFound):  # NotFound comes first
            flow.allowed_triggers("x", by=42)  # type: ignore[arg-type]
        add_units(flow)
        issue = new_issue(flow)
        with pytest.raises(ValidationError, match="by"):
            flow.allowed_triggers(issue.id, by=42)  # type: ignore[arg-type]


def test_units_are_validated(flow: govflow.Govflow) -> None:
    with pytest.raises(ValidationError, match="level"):
        flow.add_unit("X", "某县", level="city")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="parent"):
        flow.add_unit("X", "某县", level="county", parent="NOBODY")
    with pytest.raises(ValidationError, match="already exists"):
        flow.add_unit("XIANGYUN", "另一个名字", level="county")
    assert flow.add_unit("XIANGYUN", "祥云县", level="county", parent="OFFICE") == flow.unit("XIANGYUN")
    assert [u.id for u in flow.units()] == ["OFFICE", "XIANGYUN", "BINCHUAN", "XIAZHUANG"]
    with pytest.raises(NotFound):
        flow.unit("X")


def test_labels_in_both_languages(flow: govflow.Govflow) -> None:
    assert flow.label("verify") == "验收销号"
    assert flow.label("verify", "en") == "verify and close"
    assert flow.label("feedback") == "已反馈"
    assert flow.label("unknown") == "unknown"


def test_open_rejects_unknown_targets() -> None:
    with pytest.raises(ValidationError, match="target"):
        govflow.open(42)  # type: ignore[arg-type]


def test_sqlite_url_and_reopen(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "reopen.sqlite3"
    with govflow.open(f"sqlite:///{path}", clock=clock) as flow:
        add_units(flow)
        issue = new_issue(flow)
        flow.implement(issue.id, by="XIANGYUN", note="n")
    with govflow.open(path, clock=clock) as flow:
        assert flow.get(issue.id).state == "implemented"
        assert flow.unit("OFFICE").supervisor
        flow.report(issue.id, by="XIANGYUN", result="r")
        assert flow.verify_ledger().entries == UNIT_ENTRIES + 3


def test_a_pending_extension_does_not_outlive_reassignment_or_closure(flow: govflow.Govflow) -> None:
    issue = new_issue(flow)
    flow.request_extension(issue.id, by="XIANGYUN", due="2026-04-10", reason="需协调资金")
    moved = flow.reassign(issue.id, by="OFFICE", new_lead="BINCHUAN", reason="属地调整")
    assert moved.extension is None
    refused(flow, InvalidTransition, lambda: flow.approve_extension(issue.id, by="OFFICE"))
    flow.request_extension(issue.id, by="BINCHUAN", due="2026-04-10", reason="r")
    assert flow.cancel(issue.id, by="OFFICE", reason="重复").extension is None


def test_expected_version_refuses_a_stale_command(flow: govflow.Govflow) -> None:
    issue = new_issue(flow)
    shown = flow.get(issue.id)  # e.g. the version a web form was rendered from
    flow.accept(issue.id, by="XIANGYUN")
    error = refused(flow, govflow.ConcurrentUpdateError,
                    lambda: flow.fire(issue.id, "implement", by="XIANGYUN", note="n",
                                      expected_version=shown.version))
    assert isinstance(error, govflow.ConcurrentUpdateError) and (error.expected, error.actual) == (1, 2)
    assert flow.fire(issue.id, "implement", by="XIANGYUN", note="n", expected_version=2).version == 3


def test_a_store_missing_methods_is_named() -> None:
    class HalfStore:
        def commit(self, work: object) -> None: ...

    with pytest.raises(ValidationError, match="lacks") as info:
        govflow.open(HalfStore())  # type: ignore[arg-type]
    assert "claim_outbox" in str(info.value) and "load" in str(info.value)


def test_days_are_counted_in_shanghai_whatever_zone_the_clock_gives(tmp_path: Path) -> None:
    # 2026-12-31 17:00 UTC is already 2027-01-01 01:00 in Shanghai.
    utc = dt.datetime(2026, 12, 31, 17, tzinfo=dt.timezone.utc)
    with govflow.open(":memory:", clock=lambda: utc) as flow:
        add_units(flow)
        with pytest.raises(ValidationError, match="before the assignment"):
            flow.assign("t", lead="XIANGYUN", due="2026-12-31", by="OFFICE")
        issue = flow.assign("t", lead="XIANGYUN", due="2027-01-05", by="OFFICE")
        assert issue.id == "GF-2027-0001" and issue.created_at.utcoffset() == dt.timedelta(hours=8)


def test_an_extension_cannot_be_approved_after_the_requested_date(flow: govflow.Govflow, clock: FakeClock) -> None:
    issue = new_issue(flow)
    flow.request_extension(issue.id, by="XIANGYUN", due="2026-03-25", reason="需协调")
    clock.set("2026-03-26T09:00:00+08:00")
    refused(flow, ValidationError, lambda: flow.approve_extension(issue.id, by="OFFICE"))
    assert flow.deny_extension(issue.id, by="OFFICE", reason="已过期").extension is None


def test_cooperating_may_be_none_and_nothing_else_odd(flow: govflow.Govflow) -> None:
    from ..conftest import refused

    issue = flow.assign("无协办", lead="XIANGYUN", due="2026-03-20", by="OFFICE", cooperating=None)  # type: ignore[arg-type]
    assert issue.cooperating == ()
    error = refused(flow, govflow.ValidationError, lambda: flow.assign(
        "协办有误", lead="XIANGYUN", due="2026-03-20", by="OFFICE", cooperating=42))  # type: ignore[arg-type]
    assert "cooperating" in str(error) and "list of unit ids" in str(error)


def test_an_unknown_trigger_is_reported_as_unknown_with_a_suggestion(flow: govflow.Govflow) -> None:
    issue = new_issue(flow)
    flow.implement(issue.id, by="XIANGYUN", note="清淤")
    flow.report(issue.id, by="XIANGYUN", result="畅通")
    error = refused(flow, InvalidTransition, lambda: flow.fire(issue.id, "verifyy", by="OFFICE"))
    message = str(error)
    assert "'verifyy' is not a trigger of lifecycle issue-list@2; did you mean 'verify'?" in message
    assert "not a trigger of state" not in message
    assert "its triggers: accept, return_to_dispatcher, implement" in message
    # A real trigger fired from the wrong state still says so.
    wrong = refused(flow, InvalidTransition, lambda: flow.fire(issue.id, "implement", by="XIANGYUN", note="x"))
    assert "'implement' is not a trigger of state 'feedback'" in str(wrong)
