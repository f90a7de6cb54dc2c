"""A worker killed mid-transaction (``os.kill(pid, SIGKILL)``) leaves nothing half-written.

PostgreSQL rolls back the transaction of a connection whose process died, and
releases its locks: the chain head is free again, the issue is at the version
it had, and the next writer continues the one chain.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import time

import psycopg
import pytest
from _pg_workers import churn, hang_in_commit, issue_id, one_step, set_up, step_once
from psycopg import sql

ISSUES = 40


def head_is_locked(dsn: str, schema: str) -> bool:
    """Whether another transaction holds the chain head (asked without waiting)."""
    with psycopg.connect(dsn) as conn:
        try:
            conn.execute(
                sql.SQL("SELECT seq FROM {}.chain_head FOR UPDATE NOWAIT").format(sql.Identifier(schema))
            )
        except psycopg.errors.LockNotAvailable:
            return True
        return False


def wait_until(condition: object, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return True
        time.sleep(0.05)
    return False


def running_steps(dsn: str, condition: str) -> int:
    """How many other sessions run a step's single statement and meet ``condition`` (pg_stat_activity)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute(
            f"SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'WITH w AS (UPDATE issues%%' AND {condition}"
            " AND pid <> pg_backend_pid()".encode()
        ).fetchone()
    return int(row[0]) if row else 0


def test_a_worker_killed_inside_its_commit_leaves_nothing_behind(dsn: str, schema: str) -> None:
    flow = set_up(dsn, schema, ISSUES)
    try:
        target = issue_id(1)
        before = (flow.get(target), flow.store.chain_head(), flow.verify_ledger())
        ctx = multiprocessing.get_context("spawn")
        ready = ctx.Event()
        worker = ctx.Process(target=hang_in_commit, args=(dsn, schema, target, ready))
        worker.start()
        assert ready.wait(60), "the worker never reached its commit"
        # The worker is inside the transaction: issue row and ledger row written, the head locked.
        assert head_is_locked(dsn, schema)
        assert worker.pid is not None
        os.kill(worker.pid, signal.SIGKILL)
        worker.join(30)
        assert worker.exitcode == -signal.SIGKILL
        assert wait_until(lambda: not head_is_locked(dsn, schema)), "the dead worker's transaction still holds the head"

        assert (flow.get(target), flow.store.chain_head(), flow.verify_ledger()) == before
        assert [e.trigger for e in flow.ledger(target)] == ["assign"]
        units = len(flow.units())  # each registered by an entry of its own, before the issues'
        assert flow.store.entry(units + ISSUES + 1) is None
        # The next writer continues the one chain, on the same issue.
        issue = flow.implement(target, by=flow.get(target).lead, note="done after the crash")
        assert issue.version == 2
        assert flow.verify_ledger().entries == units + ISSUES + 1
    finally:
        flow.close()


def test_a_worker_killed_while_its_single_statement_waits_leaves_all_or_nothing(dsn: str, schema: str) -> None:
    """A step on one issue is one statement: the worker is killed while that statement waits inside
    the server (on the issue row, held here). Whatever PostgreSQL then makes of the orphaned statement,
    the step is there whole (issue row, entry, head) or not at all, and the chain goes on."""
    flow = set_up(dsn, schema, ISSUES)
    try:
        target = issue_id(2)
        before = (flow.get(target), flow.store.chain_head())
        with psycopg.connect(dsn) as holder:
            holder.execute(sql.SQL("SELECT 1 FROM {}.issues WHERE id = %s FOR UPDATE").format(
                sql.Identifier(schema)), (target,))
            ctx = multiprocessing.get_context("spawn")
            worker = ctx.Process(target=step_once, args=(dsn, schema, target))
            worker.start()

            assert wait_until(lambda: running_steps(dsn, "wait_event_type = 'Lock'"), 60), (
                "the worker's statement never reached the issue row"
            )
            assert worker.pid is not None
            os.kill(worker.pid, signal.SIGKILL)
            worker.join(30)
            assert worker.exitcode == -signal.SIGKILL
            holder.rollback()  # the statement may now run on, or notice its client is gone

        assert wait_until(lambda: not running_steps(dsn, "state <> 'idle'")), "the orphaned statement never finished"
        check = flow.verify_ledger()
        issue, head = flow.get(target), flow.store.chain_head()
        if head == before[1]:  # not at all
            assert issue == before[0] and [e.trigger for e in flow.ledger(target)] == ["assign"]
        else:  # whole
            assert head[0] == before[1][0] + 1 and check.entries == len(flow.units()) + ISSUES + 1
            assert (issue.version, issue.state) == (2, "implemented")
            assert [e.trigger for e in flow.ledger(target)] == ["assign", "implement"]
        assert flow.report(target, by=issue.lead, result="r") if issue.state == "implemented" else \
            flow.implement(target, by=issue.lead, note="after the crash")
        assert flow.verify_ledger().entries == head[0] + 1
    finally:
        flow.close()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_workers_killed_at_random_moments_leave_a_consistent_store(dsn: str, schema: str, seed: int) -> None:
    """Two busy workers; one is killed at a random moment, the other is stopped; everything checks out."""
    flow = set_up(dsn, schema, ISSUES)
    rng = random.Random(seed)
    ctx = multiprocessing.get_context("spawn")
    try:
        started = [ctx.Event() for _ in range(2)]
        workers = [ctx.Process(target=churn, args=(dsn, schema, seed * 10 + k, ISSUES, started[k])) for k in range(2)]
        for worker in workers:
            worker.start()
        for event in started:
            assert event.wait(60)
        time.sleep(rng.uniform(0.3, 0.8))
        for worker in workers:
            assert worker.pid is not None
            os.kill(worker.pid, signal.SIGKILL)
            worker.join(30)
        assert wait_until(lambda: not head_is_locked(dsn, schema))

        check = flow.verify_ledger()  # one chain, each issue's version and state match its entries
        assert check.entries > ISSUES, "the workers should have written something before they died"
        entries = flow.ledger()
        assert [e.seq for e in entries] == list(range(1, check.entries + 1))
        assert flow.store.chain_head() == (check.entries, check.head)
        for issue in flow.issues():
            own = flow.ledger(issue.id)
            assert (issue.version, issue.state) == (len(own), own[-1].to_state)
        # An outbox row for every entry written, and none for an entry that was not.
        steps = [e.seq for e in entries if e.trigger != "add_unit"]  # a unit's registration notifies no one
        assert sorted(row.seq for row in flow.outbox.pending()) == steps
        # and writing goes on
        survivor = next(i for i in flow.issues() if i.state in ("assigned", "implemented", "feedback"))
        assert one_step(flow, survivor.id, rng) is not None
        assert flow.verify_ledger().entries == check.entries + 1
    finally:
        flow.close()
