"""The in-memory store's outbox index: claims walk the pending rows only, with the same results as SQLite."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import govflow
from govflow import Issue, LedgerDraft, MemoryStore, OutboxRow, Store, UnitOfWork

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=govflow.DEFAULT_ZONE)
LEASE = dt.timedelta(minutes=5)
NOTIFY = (("after_transition", "mailer"),)


def assign(store: Store, at: dt.datetime, notify: tuple[tuple[str, str], ...] = NOTIFY) -> None:
    """Commit a new issue at ``at`` with one outbox row per entry of ``notify``."""
    issue = Issue(
        id="", title="道路积水", lead="XIANGYUN", due=dt.date(2026, 3, 20), original_due=dt.date(2026, 3, 20),
        state="assigned", version=1, lifecycle="issue-list", lifecycle_version=1, created_at=at, updated_at=at,
    )
    draft = LedgerDraft(
        issue_id="", issue_seq=1, trigger="assign", from_state=None, to_state="assigned",
        actor="OFFICE", person=None, at=at, data={"title": issue.title},
    )
    store.commit(UnitOfWork(issue, 0, draft, id_scope="GF-2026-", notify=notify))


class Watched(dict[int, OutboxRow]):
    """The store's row table, recording which rows are read one by one and whether it is walked whole."""

    def __init__(self, rows: dict[int, OutboxRow]) -> None:
        super().__init__(rows)
        self.read: list[int] = []
        self.walks = 0

    def __getitem__(self, key: int) -> OutboxRow:
        self.read.append(key)
        return super().__getitem__(key)

    def get(self, key: int, default: Any = None) -> Any:
        self.read.append(key)
        return super().get(key, default)

    def __iter__(self) -> Iterator[int]:
        self.walks += 1
        return super().__iter__()

    def values(self) -> Any:
        self.walks += 1
        return super().values()

    def items(self) -> Any:
        self.walks += 1
        return super().items()


def test_a_claim_after_many_deliveries_looks_only_at_the_pending_rows() -> None:
    store = MemoryStore()
    for minute in range(500):
        assign(store, T0 + dt.timedelta(minutes=minute))
    now = T0 + dt.timedelta(days=1)
    rows = store.claim_outbox(now, LEASE, 1000)
    assert [row.id for row in rows] == list(range(1, 501))
    # Deliver all but a handful: one retries later, one is dead, two stay held, four are released.
    keep = {17: "retry", 123: "dead", 250: "held", 251: "held", 300: "release", 420: "release", 421: "release",
            499: "release"}
    for row in rows:
        action = keep.get(row.id)
        if action is None:
            store.finish_outbox(row.id, error=None, retry_at=None)
        elif action == "retry":
            store.finish_outbox(row.id, error="ConnectionError: down", retry_at=now + dt.timedelta(minutes=2))
        elif action == "dead":
            store.finish_outbox(row.id, error="ValueError: bad address", retry_at=None)
        elif action == "release":
            store.release_outbox(row.id)
    assign(store, now)  # row 501, pending and due at once
    pending = {17, 250, 251, 300, 420, 421, 499, 501}
    assert [row.id for row in store.outbox("pending")] == sorted(pending)
    assert len(store.outbox("done")) == 500 - 8

    watched = Watched(store._outbox)
    store._outbox = watched
    # The released rows and the new one are due; 17 waits for its retry, 250 and 251 for their lease.
    assert [row.id for row in store.claim_outbox(now, LEASE, 3)] == [300, 420, 421]
    assert [row.id for row in store.claim_outbox(now, LEASE, 10)] == [499, 501]
    assert store.claim_outbox(now, LEASE, 10) == []
    assert watched.walks == 0 and set(watched.read) <= pending, "only pending rows were read"

    # Later: the retry is due and the first leases have run out (the held rows and those claimed just now).
    later = now + LEASE
    assert [row.id for row in store.claim_outbox(later, LEASE, 10)] == [17, 250, 251, 300, 420, 421, 499, 501]
    assert watched.walks == 0 and set(watched.read) <= pending

    # A requeued dead row is older than the pending ones and is claimed first.
    assert store.requeue_outbox([123], later) == 1
    store.finish_outbox(17, error=None, retry_at=None)
    assert [row.id for row in store.outbox("pending")] == [123, 250, 251, 300, 420, 421, 499, 501]
    assert [row.id for row in store.claim_outbox(later + LEASE, LEASE, 2)] == [123, 250]


def test_a_row_finished_again_after_its_lease_ran_out_keeps_the_last_outcome() -> None:
    store = MemoryStore()
    assign(store, T0, notify=(("after_transition", "mailer"), ("after_transition", "sms")))
    first, _ = store.claim_outbox(T0, LEASE, 10)
    store.finish_outbox(first.id, error=None, retry_at=None)
    # A worker whose lease ran out reports a failure on the same row afterwards: pending again, as in SQL.
    store.finish_outbox(first.id, error="TimeoutError", retry_at=T0 + LEASE)
    assert [(row.id, row.attempts) for row in store.outbox("pending")] == [(1, 2), (2, 0)]
    assert [row.id for row in store.claim_outbox(T0 + LEASE, LEASE, 10)] == [1, 2]


def listing(store: Store) -> list[tuple[Any, ...]]:
    """What the outbox shows, store-independently (instants compare equal across time zones)."""
    return [
        (row.id, row.seq, row.status, row.attempts, row.next_attempt_at, row.last_error)
        for status in ("pending", "done", "dead")
        for row in store.outbox(status)
    ]


@pytest.mark.parametrize("seed", range(8))
def test_random_outbox_traffic_claims_the_same_rows_as_sqlite(seed: int, tmp_path: Path) -> None:
    rng = random.Random(seed)
    memory, sqlite = MemoryStore(), govflow.SQLiteStore(tmp_path / "outbox.sqlite3")
    stores = (memory, sqlite)
    now = T0
    held: list[int] = []  # rows claimed and not yet finished or released
    try:
        for _ in range(400):
            op = rng.choices(["assign", "claim", "finish", "release", "requeue", "wait"], [4, 4, 5, 1, 1, 2])[0]
            if op == "assign":
                notify = tuple(("after_transition", name) for name in ("mailer", "sms", "hook")[: rng.randint(0, 3)])
                for store in stores:
                    assign(store, now, notify)
            elif op == "claim":
                limit = rng.randint(0, 6)
                got = [[row.id for row in store.claim_outbox(now, LEASE, limit)] for store in stores]
                assert got[0] == got[1], (seed, now, limit)
                held += [row_id for row_id in got[0] if row_id not in held]
            elif op == "finish" and held:
                row_id = held.pop(rng.randrange(len(held)))
                outcome = rng.choice(["done", "done", "done", "retry", "dead"])
                retry_at = now + dt.timedelta(minutes=rng.randint(1, 9)) if outcome == "retry" else None
                for store in stores:
                    error = None if outcome == "done" else f"{outcome} error"
                    store.finish_outbox(row_id, error=error, retry_at=retry_at)
            elif op == "release" and held:
                row_id = held.pop(rng.randrange(len(held)))
                for store in stores:
                    store.release_outbox(row_id)
            elif op == "requeue":
                dead = [row.id for row in memory.outbox("dead")]
                chosen = None if rng.random() < 0.3 else rng.sample(dead, k=rng.randint(0, len(dead)))
                counts = [store.requeue_outbox(chosen, now) for store in stores]
                assert counts[0] == counts[1]
            elif op == "wait":
                now += dt.timedelta(minutes=rng.randint(1, 6))
            assert listing(memory) == listing(sqlite), (seed, op)
    finally:
        sqlite.close()
