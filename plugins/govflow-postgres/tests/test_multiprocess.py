"""Many processes on one database: no lost, duplicated or reordered step; no outbox row lost or sent twice.

Four worker processes (``multiprocessing``, spawn: each imports govflow afresh and
opens its own store and pool) fire random valid triggers on a shared set of 1,000
issues, a third of the picks on a dozen "hot" issues so that they really collide,
and deliver the outbox between steps through a recording plugin. Each worker
reports the steps it committed. Meanwhile the test's own process checks the
ledger again and again.
"""

from __future__ import annotations

import multiprocessing
from collections import Counter
from typing import Any

import psycopg
from _pg_workers import ISSUES, drive, set_up
from psycopg import sql

from govflow import ISSUE_LIST

WORKERS = 4
STEPS = 300  # per worker


def transitions() -> dict[tuple[str, str], str]:
    """(source state, trigger) -> destination, from the lifecycle definition."""
    table: dict[tuple[str, str], str] = {}
    for spec in ISSUE_LIST["transitions"]:
        sources = spec["source"] if isinstance(spec["source"], list) else [spec["source"]]
        for source in sources:
            table[source, spec["trigger"]] = spec["dest"] or source
    return table


def test_four_processes_share_one_database(dsn: str, schema: str) -> None:
    flow = set_up(dsn, schema, ISSUES)
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(WORKERS) as pool:
        running = pool.starmap_async(
            drive, [(dsn, schema, worker, STEPS, 1000 + worker) for worker in range(WORKERS)]
        )
        # verify_ledger() while the workers write: no false alarm, and each check covers a growing ledger.
        checked = [flow.verify_ledger().entries]
        while not running.ready():
            checked.append(flow.verify_ledger().entries)
        reports: list[dict[str, Any]] = running.get()
    assert checked == sorted(checked) and checked[0] >= ISSUES, checked
    try:
        done = [tuple(step) for report in reports for step in report["done"]]
        conflicts = sum(report["conflicts"] for report in reports)
        assert len(done) > WORKERS * STEPS * 0.8, reports
        assert conflicts > 0, "the hot issues should have made writers collide"

        # Every committed step is in the ledger exactly once, and nothing else is.
        registrations = len(flow.units())  # the units' entries come first; the issues' follow
        entries = flow.ledger()[registrations:]
        steps = Counter((e.issue_id, e.issue_seq, e.trigger) for e in entries if e.trigger != "assign")
        assert Counter(done) == steps
        assert max(steps.values()) == 1
        assert sum(1 for e in entries if e.trigger == "assign") == ISSUES

        # One unbroken chain; every issue's version and state agree with its entries.
        check = flow.verify_ledger()
        assert check.entries == registrations + ISSUES + len(done) == registrations + len(entries)
        assert [e.seq for e in entries] == list(range(registrations + 1, check.entries + 1))

        # Every issue's state is the replay of its ledger through the lifecycle.
        table = transitions()
        replayed: dict[str, str] = {}
        for entry in entries:
            if entry.trigger == "assign":
                replayed[entry.issue_id] = "assigned"
                continue
            state = replayed[entry.issue_id]
            assert entry.from_state == state, entry
            assert table[state, entry.trigger] == entry.to_state, entry
            replayed[entry.issue_id] = entry.to_state
        assert {i.id: i.state for i in flow.issues()} == replayed

        # The outbox: one row per entry, each delivered exactly once, by the workers between them.
        assert flow.outbox.pending() == [] and flow.outbox.dead() == []
        delivered = flow.outbox.delivered()
        assert sorted(row.seq for row in delivered) == [e.seq for e in entries]
        with psycopg.connect(dsn) as conn:
            rows = conn.execute(
                sql.SQL("SELECT key, worker FROM {}.deliveries").format(sql.Identifier(schema))
            ).fetchall()
        keys = Counter(key for key, _ in rows)
        assert max(keys.values()) == 1, [key for key, n in keys.items() if n > 1][:10]
        assert set(keys) == {f"{e.issue_id}#{e.issue_seq}" for e in entries}
        assert len({worker for _, worker in rows}) == WORKERS  # every worker delivered a share
        assert sum(report["delivered"] for report in reports) == len(entries)
    finally:
        flow.close()
