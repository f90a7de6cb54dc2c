"""``govflow.retry_on_conflict`` and ``flow.fire(..., retries=n)``, on real conflicts between two flows.

A guard plugin on the second flow lets the first flow write a step on the same
issue between the second flow's read and its commit: a genuine lost race, on
every store (PostgreSQL too, where a server answers).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import govflow
from govflow import ConcurrentUpdateError, InvalidTransition, ProposedTransition, ValidationError, hookimpl
from govflow.testing import FakeClock

from .._postgres import postgres_store
from ..conftest import add_units

KINDS = ("memory", "sqlite", "postgres")


class Interloper:
    """Before each of the second flow's steps, the first flow writes a step on the same issue (``times`` in all).

    The step asks for an extension, or denies the pending request: neither changes the state.
    """

    name = "interloper"

    def __init__(self, other: govflow.Govflow, times: int) -> None:
        self.other = other
        self.times = times
        self.calls = 0

    @hookimpl
    def govflow_before_transition(self, event: ProposedTransition) -> None:
        self.calls += 1
        if self.calls <= self.times and event.issue is not None:
            if self.other.get(event.issue.id).extension is None:
                self.other.request_extension(event.issue.id, by="XIANGYUN", due="2026-04-10", reason="汛期")
            else:
                self.other.deny_extension(event.issue.id, by="OFFICE", reason="不予延期")


def open_pair(kind: str, tmp_path: Path, times: int) -> tuple[govflow.Govflow, govflow.Govflow, Interloper]:
    """Two flows on one store; the second has an interloper that makes the first write in between."""
    clock = FakeClock("2026-03-02T09:00:00+08:00")
    if kind == "memory":
        shared = govflow.MemoryStore()
        first = govflow.open(shared, clock=clock, delivery="manual")
    elif kind == "sqlite":
        first = govflow.open(tmp_path / "flow.sqlite3", clock=clock, delivery="manual")
    else:
        first = govflow.open(postgres_store(tmp_path), clock=clock, delivery="manual")
    add_units(first)
    interloper = Interloper(first, times)
    second_store = {
        "memory": lambda: first.store,
        "sqlite": lambda: govflow.SQLiteStore(tmp_path / "flow.sqlite3"),
        "postgres": lambda: postgres_store(tmp_path),
    }[kind]()
    second = govflow.open(second_store, clock=clock, delivery="manual", plugins=[interloper])
    return first, second, interloper


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def pair(kind: str, tmp_path: Path) -> Iterator[tuple[govflow.Govflow, govflow.Govflow, Interloper, str]]:
    first, second, interloper = open_pair(kind, tmp_path, times=1)
    issue = first.assign("道路积水", lead="XIANGYUN", due="2026-03-20", by="OFFICE")
    yield first, second, interloper, issue.id
    second.close()
    if kind != "memory":
        first.close()


def steps(flow: govflow.Govflow, issue_id: str) -> list[str]:
    return [entry.trigger for entry in flow.ledger(issue_id)]


def test_without_a_retry_the_lost_race_raises_and_writes_nothing(
    pair: tuple[govflow.Govflow, govflow.Govflow, Interloper, str],
) -> None:
    first, second, _, issue_id = pair
    with pytest.raises(ConcurrentUpdateError) as caught:
        second.implement(issue_id, by="XIANGYUN", note="疏通")
    assert (caught.value.issue_id, caught.value.expected, caught.value.actual) == (issue_id, 1, 2)
    assert steps(first, issue_id) == ["assign", "request_extension"]
    first.verify_ledger()


def test_retry_on_conflict_runs_the_command_again_on_fresh_data(
    pair: tuple[govflow.Govflow, govflow.Govflow, Interloper, str],
) -> None:
    first, second, interloper, issue_id = pair
    issue = govflow.retry_on_conflict(lambda: second.implement(issue_id, by="XIANGYUN", note="疏通"))
    assert (issue.state, issue.version) == ("implemented", 3)
    assert interloper.calls == 2  # the lost attempt and the one that won
    assert steps(first, issue_id) == ["assign", "request_extension", "implement"]
    assert first.get(issue_id).extension is not None  # the other writer's step is kept
    assert first.verify_ledger().entries == len(first.units()) + 3


def test_fire_retries(pair: tuple[govflow.Govflow, govflow.Govflow, Interloper, str]) -> None:
    first, second, _, issue_id = pair
    issue = second.fire(issue_id, "implement", by="XIANGYUN", note="疏通", retries=1)
    assert (issue.state, issue.version) == ("implemented", 3)
    assert steps(first, issue_id) == ["assign", "request_extension", "implement"]


def test_the_last_attempts_conflict_is_raised(kind: str, tmp_path: Path) -> None:
    first, second, interloper = open_pair(kind, tmp_path, times=99)
    issue = first.assign("道路积水", lead="XIANGYUN", due="2026-03-20", by="OFFICE")
    try:
        with pytest.raises(ConcurrentUpdateError):
            govflow.retry_on_conflict(lambda: second.implement(issue.id, by="XIANGYUN", note="n"), attempts=3)
        assert interloper.calls == 3
        with pytest.raises(ConcurrentUpdateError):
            second.fire(issue.id, "implement", by="XIANGYUN", note="n", retries=2)
        assert interloper.calls == 6
        # every lost attempt wrote nothing; only the interloper's steps are there
        assert steps(first, issue.id) == ["assign"] + ["request_extension", "deny_extension"] * 3
        first.verify_ledger()
    finally:
        second.close()
        if kind != "memory":
            first.close()


def test_other_errors_are_not_retried(pair: tuple[govflow.Govflow, govflow.Govflow, Interloper, str]) -> None:
    _, second, interloper, issue_id = pair
    calls = []

    def command() -> govflow.Issue:
        calls.append(1)
        return second.verify(issue_id, by="OFFICE")  # not in 'feedback': refused at once

    with pytest.raises(InvalidTransition):
        govflow.retry_on_conflict(command, attempts=5)
    assert calls == [1] and interloper.calls == 0


def test_the_wait_between_attempts_doubles(tmp_path: Path) -> None:
    first, second, _ = open_pair("memory", tmp_path, times=3)
    issue = first.assign("道路积水", lead="XIANGYUN", due="2026-03-20", by="OFFICE")
    waits: list[float] = []
    done = govflow.retry_on_conflict(
        lambda: second.implement(issue.id, by="XIANGYUN", note="n"), attempts=4, delay=0.1, sleep=waits.append
    )
    assert done.state == "implemented"
    assert len(waits) == 3
    for wait, base in zip(waits, (0.1, 0.2, 0.4), strict=True):
        assert base <= wait <= 2 * base  # the base, doubled each time, plus jitter


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"attempts": 0}, "attempts"),
        ({"attempts": True}, "attempts"),
        ({"attempts": 1.5}, "attempts"),
        ({"delay": -1}, "delay"),
        ({"delay": "1s"}, "delay"),
    ],
)
def test_bad_arguments_are_refused(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        govflow.retry_on_conflict(lambda: None, **kwargs)  # type: ignore[arg-type]
    assert caught.value.field == field
    with pytest.raises(ValidationError) as caught:
        govflow.retry_on_conflict("flow.fire")  # type: ignore[arg-type]
    assert caught.value.field == "command"


def test_fire_refuses_retries_it_cannot_use(pair: tuple[govflow.Govflow, govflow.Govflow, Interloper, str]) -> None:
    first, _, _, issue_id = pair
    with pytest.raises(ValidationError) as caught:
        first.fire(issue_id, "implement", by="XIANGYUN", note="n", retries=2, expected_version=1)
    assert caught.value.field == "retries" and "expected_version" in str(caught.value)
    for bad in (-1, True, 1.5):
        with pytest.raises(ValidationError):
            first.fire(issue_id, "implement", by="XIANGYUN", note="n", retries=bad)  # type: ignore[arg-type]
    assert steps(first, issue_id) == ["assign"]
