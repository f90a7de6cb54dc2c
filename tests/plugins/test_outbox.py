"""The notification outbox: at-least-once delivery after commit, isolated per plugin, retried, dead-lettered."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

import govflow
from govflow import RetryPolicy, TransitionEvent, hookimpl
from govflow.testing import FakeClock, RecordingNotifier

from ..conftest import STORES, add_units


class Flaky:
    """Raises on its first ``failures`` calls, then records."""

    def __init__(self, name: str, failures: int) -> None:
        self.name = name
        self.failures = failures
        self.calls = 0
        self.received: list[TransitionEvent] = []

    @hookimpl
    def govflow_after_transition(self, event: TransitionEvent) -> None:
        self.calls += 1
        if self.calls <= self.failures:
            raise ConnectionError(f"{self.name}: the server is down (call {self.calls})")
        self.received.append(event)


@pytest.fixture(params=STORES)
def target(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return ":memory:" if request.param == "memory" else str(tmp_path / "outbox.sqlite3")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock("2026-03-02T09:00:00+08:00")


def open_flow(target: str, clock: FakeClock, *plugins: object, delivery: govflow.Delivery = "manual",
              retry: RetryPolicy | None = None) -> govflow.Govflow:
    flow = govflow.open(target, clock=clock, plugins=plugins, delivery=delivery, retry=retry)
    if not flow.units():
        add_units(flow)
    return flow


def main_line(flow: govflow.Govflow) -> str:
    issue = flow.assign("道路积水", lead="XIANGYUN", due="2026-03-20", by="OFFICE")
    flow.implement(issue.id, by="XIANGYUN", note="n")
    flow.report(issue.id, by="XIANGYUN", result="r")
    return issue.id


def test_events_carry_the_step_and_a_stable_idempotency_key(target: str, clock: FakeClock) -> None:
    recorder = RecordingNotifier()
    with open_flow(target, clock, recorder, delivery="inline") as flow:
        issue_id = main_line(flow)
        assert recorder.triggers == ["assign", "implement", "report"]
        event = recorder.transitions[1]
        entry = flow.ledger(issue_id)[1]
        assert (event.issue_id, event.from_state, event.to_state, event.actor, event.data) == (
            issue_id, "assigned", "implemented", "XIANGYUN", {"note": "n"},
        )
        assert event.at == entry.at and event.seq == entry.seq
        assert event.idempotency_key == f"{issue_id}#2"
        assert len(flow.outbox.delivered()) == 3 and flow.outbox.pending() == []


def test_a_plugin_that_fails_twice_is_delivered_on_the_third_try(target: str, clock: FakeClock) -> None:
    flaky, steady = Flaky("flaky", failures=2), RecordingNotifier("steady")
    policy = RetryPolicy(max_attempts=5, first_delay=dt.timedelta(seconds=30))
    with open_flow(target, clock, flaky, steady, retry=policy) as flow:
        issue = flow.assign("道路积水", lead="XIANGYUN", due="2026-03-20", by="OFFICE")
        report = flow.deliver()
        assert (report.delivered, report.retrying) == (1, 1)
        assert steady.triggers == ["assign"], "the failing plugin must not stop the others"
        (row,) = flow.outbox.pending()
        assert (row.plugin, row.attempts) == ("flaky", 1) and "server is down" in (row.last_error or "")
        assert row.next_attempt_at == clock.now + dt.timedelta(seconds=30)
        assert flow.deliver().delivered == 0, "not due yet"
        clock.advance(seconds=30)
        assert flow.deliver().retrying == 1
        clock.advance(seconds=60)  # the second wait doubles
        assert flow.deliver().delivered == 1
        assert [e.trigger for e in flaky.received] == ["assign"] and flaky.calls == 3
        assert flow.get(issue.id).state == "assigned" and flow.verify_ledger().entries == len(flow.units()) + 1


def test_a_plugin_that_always_fails_ends_in_the_dead_letters(target: str, clock: FakeClock) -> None:
    broken = Flaky("broken", failures=10**9)
    policy = RetryPolicy(max_attempts=3, first_delay=dt.timedelta(seconds=10))
    with open_flow(target, clock, broken, retry=policy) as flow:
        issue_id = main_line(flow)
        for _ in range(5):
            flow.deliver()
            clock.advance(hours=1)
        assert flow.outbox.pending() == []
        dead = flow.outbox.dead()
        assert [(row.plugin, row.attempts) for row in dead] == [("broken", 3)] * 3
        assert "ConnectionError" in (dead[0].last_error or "")
        # The transitions and the ledger are intact.
        assert flow.get(issue_id).state == "feedback" and flow.verify_ledger().entries == len(flow.units()) + 3
        # An operator fixes the receiver and retries one dead letter, then the rest.
        broken.failures = 0
        assert flow.outbox.retry([dead[0].id]) == 1
        assert flow.deliver().delivered == 1
        assert flow.outbox.retry() == 2
        assert flow.deliver().delivered == 2
        assert [e.trigger for e in broken.received] == ["assign", "implement", "report"]
        assert flow.outbox.dead() == []


def test_without_notifiers_no_outbox_rows_are_written(target: str, clock: FakeClock) -> None:
    with open_flow(target, clock) as flow:
        main_line(flow)
        assert flow.outbox.pending() == flow.outbox.delivered() == []


class Gate:
    """Blocks delivery until the test opens the gate."""

    name = "gate"

    def __init__(self) -> None:
        self.open = threading.Event()
        self.entered = threading.Event()
        self.received: list[str] = []

    @hookimpl
    def govflow_after_transition(self, event: TransitionEvent) -> None:
        self.entered.set()
        assert self.open.wait(30)
        self.received.append(event.trigger)


def test_a_slow_notifier_does_not_block_the_transition(target: str, clock: FakeClock) -> None:
    gate = Gate()
    flow = open_flow(target, clock, gate, delivery="background")
    try:
        issue = flow.assign("道路积水", lead="XIANGYUN", due="2026-03-20", by="OFFICE")
        assert gate.entered.wait(10), "background delivery never started"
        # The notifier is stuck inside its first delivery; the lifecycle goes on regardless.
        flow.implement(issue.id, by="XIANGYUN", note="n")
        assert flow.get(issue.id).state == "implemented" and gate.received == []
        gate.open.set()
    finally:
        flow.close()  # a last delivery run, then the thread stops
    assert gate.received == ["assign", "implement"]


def test_a_process_killed_between_commit_and_delivery_delivers_on_the_next_run(
    tmp_path: Path, clock: FakeClock
) -> None:
    path = tmp_path / "killed.sqlite3"
    script = textwrap.dedent(f"""
        import os, signal
        import govflow
        from govflow.testing import FakeClock, RecordingNotifier
        flow = govflow.open({str(path)!r}, clock=FakeClock("2026-03-02T09:00:00+08:00"),
                            plugins=[RecordingNotifier("recorder")], delivery="manual")
        flow.add_unit("OFFICE", "办公室", level="prefecture", supervisor=True)
        flow.add_unit("XIANGYUN", "祥云县", level="county")
        issue = flow.assign("道路积水", lead="XIANGYUN", due="2026-03-20", by="OFFICE")
        flow.implement(issue.id, by="XIANGYUN", note="n")
        os.kill(os.getpid(), signal.SIGKILL)   # committed, never delivered
    """)
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert run.returncode == -9, run.stderr
    recorder = RecordingNotifier("recorder")
    with govflow.open(path, clock=clock, plugins=[recorder], delivery="manual") as flow:
        assert [row.plugin for row in flow.outbox.pending()] == ["recorder", "recorder"]
        assert flow.deliver().delivered == 2
        assert recorder.triggers == ["assign", "implement"]
        assert flow.verify_ledger().entries == len(flow.units()) + 2


def test_rows_for_a_plugin_this_process_lacks_are_left_for_another(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "two-workers.sqlite3"
    with open_flow(str(path), clock, RecordingNotifier("mailer")) as flow:
        main_line(flow)
    with govflow.open(path, clock=clock, delivery="manual") as other:
        report = other.deliver()
        assert (report.delivered, report.skipped) == (0, 3)
        assert report.held_for == ("mailer",)
        assert "held for plugins not loaded in this process: mailer" in str(report)
        assert len(other.outbox.pending()) == 3


def test_a_claimed_row_is_not_delivered_twice_until_its_lease_runs_out(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "lease.sqlite3"
    with open_flow(str(path), clock, RecordingNotifier("mailer")) as flow:
        flow.assign("t", lead="XIANGYUN", due="2026-03-20", by="OFFICE")
        lease = dt.timedelta(minutes=5)
        # A worker claims the row and dies without finishing it.
        (claimed,) = flow.store.claim_outbox(clock.now, lease, 10)
        assert flow.store.claim_outbox(clock.now, lease, 10) == []
        clock.advance(minutes=5)
        (again,) = flow.store.claim_outbox(clock.now, lease, 10)
        assert again.id == claimed.id




class LooksUpAndFails:
    name = "lookup"

    @hookimpl
    def govflow_after_transition(self, event: TransitionEvent) -> None:
        raise KeyError("unit address")  # a plugin's own LookupError is a failed delivery


def test_a_plugins_own_lookup_error_is_retried_not_skipped(target: str, clock: FakeClock) -> None:
    with open_flow(target, clock, LooksUpAndFails(), retry=RetryPolicy(max_attempts=2)) as flow:
        flow.assign("t", lead="XIANGYUN", due="2026-03-20", by="OFFICE")
        assert flow.deliver().retrying == 1
        clock.advance(hours=1)
        assert flow.deliver().dead == 1
        assert "KeyError" in (flow.outbox.dead()[0].last_error or "")


class AutoAccept:
    """Accepts every issue as soon as it is assigned: a plugin that fires a trigger itself."""

    name = "auto-accept"

    def __init__(self) -> None:
        self.flow: govflow.Govflow | None = None

    @hookimpl
    def govflow_startup(self, flow: govflow.Govflow) -> None:
        self.flow = flow

    @hookimpl
    def govflow_after_transition(self, event: TransitionEvent) -> None:
        if event.trigger == "assign" and self.flow is not None:
            self.flow.accept(event.issue_id, by=str(event.data["lead"]))


def test_a_plugin_that_fires_a_trigger_during_inline_delivery_does_not_deadlock(
    target: str, clock: FakeClock
) -> None:
    recorder = RecordingNotifier()
    with open_flow(target, clock, AutoAccept(), recorder, delivery="inline") as flow:
        issue = flow.assign("道路积水", lead="XIANGYUN", due="2026-03-20", by="OFFICE")
        assert flow.get(issue.id).accepted_at is not None
        flow.deliver()  # the accept's own rows, left by the nested call
        assert recorder.triggers == ["assign", "accept"]
        assert flow.outbox.pending() == []


def test_rows_for_a_missing_plugin_do_not_crowd_out_deliverable_ones(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "crowd.sqlite3"
    with open_flow(str(path), clock, RecordingNotifier("gone")) as flow:
        for n in range(5):
            flow.assign(f"t{n}", lead="XIANGYUN", due="2026-03-20", by="OFFICE")
    recorder = RecordingNotifier("here")
    with govflow.open(path, clock=clock, plugins=[recorder], delivery="manual") as flow:
        flow.assign("new", lead="XIANGYUN", due="2026-03-20", by="OFFICE")
        flow.outbox.deliver(limit=3)  # claims three rows of the missing plugin, and keeps them leased
        assert flow.outbox.deliver(limit=3).delivered == 1
        assert recorder.triggers == ["assign"]
