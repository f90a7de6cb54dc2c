"""govflow on PostgreSQL: transitions per second with 1, 2 and 4 processes, next to a raw psycopg floor,
and the period-facts query at 1M ledger entries.

    .venv/bin/python benchmarks/bench_postgres.py                     # full run (about 3 minutes)
    .venv/bin/python benchmarks/bench_postgres.py --entries 100000 --seconds 3   # a quick look

Throughput rows: each process (``multiprocessing``, spawn) has its own store, pool
and issues, and repeats implement -> report -> reject on them for ``--seconds``
after a warm-up; the row is the sum over processes. The floor runs the same
number of processes, each doing one ``UPDATE issues ... WHERE id = %s AND
version = %s`` and one ``INSERT INTO ledger`` per transaction on a copy of
govflow's tables (same indexes and triggers), with plain psycopg (``with
conn.transaction()``: BEGIN, UPDATE, INSERT, COMMIT) and pipelined (all four in
one round trip). Rows take turns in rounds (``--rounds``); the best round counts.

Facts: ``--entries`` ledger entries (default 1,000,000) are sealed into one hash
chain in Python and bulk-loaded with COPY, with the matching issue rows;
``flow.facts(month)`` is then timed (best of 3), and ``flow.verify_ledger()``
must pass on the loaded data.
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import os
import random
import sys
import time
from typing import Any

import psycopg
from govflow_postgres import PostgresStore
from govflow_postgres._store import _issue_row
from govflow_postgres.testing import server_dsn
from psycopg import sql

import govflow
from govflow import GENESIS_HASH, Issue, LedgerDraft
from govflow.storage import canonical_json, seal

SH = govflow.DEFAULT_ZONE
NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=SH)
CYCLE = (("implement", "LEAD", {"note": "n"}), ("report", "LEAD", {"result": "r"}),
         ("reject", "OFFICE", {"reason": "x"}))
ISSUES_PER_PROCESS = 300


def constant_clock() -> dt.datetime:
    return NOW


def drop(dsn: str, schema: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


def open_flow(dsn: str, schema: str, pool_size: int = 1, group_commit: bool = True) -> govflow.Govflow:
    store = PostgresStore(dsn, schema=schema, pool_size=pool_size, group_commit=group_commit)
    return govflow.open(store, clock=constant_clock, delivery="manual", calendar="weekdays")


# -- throughput -----------------------------------------------------------------------------------------


def set_up_throughput(dsn: str, schema: str, floor_schema: str, processes: int) -> list[list[str]]:
    """Issues for each process (govflow's schema), and a copy of the tables and rows for the floor."""
    for name in (schema, floor_schema):
        drop(dsn, name)
    flow = open_flow(dsn, schema)
    flow.add_unit("OFFICE", "州领导小组办公室", level="prefecture", supervisor=True)
    flow.add_unit("LEAD", "祥云县", level="county", parent="OFFICE")
    ids = [flow.assign(f"问题 {n}", lead="LEAD", due="2026-12-31", by="OFFICE").id
           for n in range(processes * ISSUES_PER_PROCESS)]
    flow.close()
    PostgresStore(dsn, schema=floor_schema).close()
    with psycopg.connect(dsn, autocommit=True) as conn:
        for table in ("units", "issues", "ledger"):
            conn.execute(sql.SQL("INSERT INTO {}.{} SELECT * FROM {}.{}").format(
                sql.Identifier(floor_schema), sql.Identifier(table), sql.Identifier(schema), sql.Identifier(table)
            ) if table != "units" else sql.SQL(
                "INSERT INTO {}.units (id, name, level, parent, supervisor) SELECT id, name, level, parent, supervisor"
                " FROM {}.units ORDER BY position").format(sql.Identifier(floor_schema), sql.Identifier(schema)))
        conn.execute(sql.SQL("CREATE SEQUENCE {}.floor_seq START {}").format(
            sql.Identifier(floor_schema), sql.Literal(len(ids) + 1)))
        conn.execute(sql.SQL("ANALYZE {}.issues").format(sql.Identifier(floor_schema)))
        conn.execute(sql.SQL("ANALYZE {}.issues").format(sql.Identifier(schema)))
    return [ids[k::processes] for k in range(processes)]


def govflow_worker(dsn: str, schema: str, ids: list[str], warmup: float, seconds: float, start: Any,
                   group_commit: bool) -> int:
    flow = open_flow(dsn, schema, group_commit=group_commit)
    versions = {i: flow.get(i).state for i in ids}
    step = {i: {"assigned": 0, "implemented": 1, "feedback": 2}[state] for i, state in versions.items()}
    start.wait()
    count = 0
    began = time.perf_counter()
    measured_from = began + warmup
    stop = measured_from + seconds
    while True:
        for issue_id in ids:
            trigger, by, data = CYCLE[step[issue_id]]
            flow.fire(issue_id, trigger, by=by, **data)
            step[issue_id] = (step[issue_id] + 1) % 3
            now = time.perf_counter()
            if now >= measured_from:
                count += 1
            if now >= stop:
                flow.close()
                return count


FLOOR_UPDATE = ("UPDATE issues SET state = %s, version = %s, updated_at = %s, rework_count = rework_count + %s"
                " WHERE id = %s AND version = %s")
FLOOR_INSERT = ("INSERT INTO ledger (seq, issue_id, issue_seq, trigger, from_state, to_state, actor, person, at,"
                " at_utc, data, prev_hash, hash) VALUES (nextval('floor_seq'), %s, %s, %s, %s, %s, %s, NULL, %s, %s,"
                " %s, %s, %s)")
STATES = (("assigned", "implemented"), ("implemented", "feedback"), ("feedback", "assigned"))


def floor_worker(dsn: str, schema: str, ids: list[str], warmup: float, seconds: float, start: Any,
                 pipelined: bool) -> int:
    conn = psycopg.connect(dsn, autocommit=True)
    conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
    rows = conn.execute("SELECT id, version, state FROM issues WHERE id = ANY(%s)", (ids,)).fetchall()
    version = {r[0]: r[1] for r in rows}
    step = {r[0]: {"assigned": 0, "implemented": 1, "feedback": 2}[r[2]] for r in rows}
    at = NOW.isoformat()
    hashes = "f" * 64
    start.wait()
    count = 0
    began = time.perf_counter()
    measured_from = began + warmup
    stop = measured_from + seconds
    while True:
        for issue_id in ids:
            trigger = CYCLE[step[issue_id]][0]
            source, dest = STATES[step[issue_id]]
            v = version[issue_id]
            update = (dest, v + 1, at, int(trigger == "reject"), issue_id, v)
            insert = (issue_id, v + 1, trigger, source, dest, "LEAD", at, NOW, '{"note":"n"}', hashes, hashes)
            if pipelined:
                with conn.pipeline():
                    conn.execute("BEGIN")
                    conn.execute(FLOOR_UPDATE, update)
                    conn.execute(FLOOR_INSERT, insert)
                    conn.execute("COMMIT")
            else:
                with conn.transaction():
                    cursor = conn.execute(FLOOR_UPDATE, update)
                    if cursor.rowcount != 1:
                        raise RuntimeError("floor: version mismatch")
                    conn.execute(FLOOR_INSERT, insert)
            version[issue_id] = v + 1
            step[issue_id] = (step[issue_id] + 1) % 3
            now = time.perf_counter()
            if now >= measured_from:
                count += 1
            if now >= stop:
                conn.close()
                return count


def _run_worker(kind: str, dsn: str, schema: str, ids: list[str], warmup: float, seconds: float, start: Any,
                results: Any) -> None:
    if kind.startswith("govflow"):
        results.put(govflow_worker(dsn, schema, ids, warmup, seconds, start, kind != "govflow-sync"))
    else:
        results.put(floor_worker(dsn, schema, ids, warmup, seconds, start, kind == "floor-pipelined"))


def run_row(kind: str, dsn: str, schemas: dict[str, str], slices: list[list[str]], processes: int,
            warmup: float, seconds: float) -> float:
    """Transitions per second of ``processes`` processes of one kind."""
    ctx = multiprocessing.get_context("spawn")
    start, results = ctx.Event(), ctx.Queue()
    schema = schemas["govflow" if kind.startswith("govflow") else "floor"]
    workers = [ctx.Process(target=_run_worker, args=(kind, dsn, schema, slices[k], warmup, seconds, start, results))
               for k in range(processes)]
    for worker in workers:
        worker.start()
    time.sleep(2.0 + 0.3 * processes)  # let every process import and connect
    start.set()
    counts = [results.get(timeout=120 + warmup + seconds) for _ in workers]
    for worker in workers:
        worker.join(30)
        if worker.exitcode != 0:
            raise RuntimeError(f"a {kind} worker failed (exit code {worker.exitcode})")
    return sum(counts) / seconds


def throughput(dsn: str, args: argparse.Namespace) -> dict[int, dict[str, float]]:
    schemas = {"govflow": f"bench_pg_{os.getpid()}", "floor": f"bench_pg_floor_{os.getpid()}"}
    most = max(args.processes)
    slices_all = set_up_throughput(dsn, schemas["govflow"], schemas["floor"], most)
    kinds = ("govflow", "govflow-sync", "floor", "floor-pipelined")
    best: dict[int, dict[str, float]] = {n: dict.fromkeys(kinds, 0.0) for n in args.processes}
    try:
        for round_ in range(args.rounds):
            for n in args.processes:
                # every issue in use, split n ways
                slices = [[i for part in slices_all[k::n] for i in part] for k in range(n)]
                for kind in kinds:
                    tps = run_row(kind, dsn, schemas, slices, n, args.warmup, args.seconds)
                    best[n][kind] = max(best[n][kind], tps)
                    print(f"  round {round_ + 1}: {kind:16s} {n} process(es): {tps:8.0f} transitions/s", flush=True)
        flow = open_flow(dsn, schemas["govflow"])
        check = flow.verify_ledger()
        flow.close()
        print(f"  govflow's ledger after the runs: {check.entries} entries, verify_ledger() passed", flush=True)
    finally:
        for name in schemas.values():
            drop(dsn, name)
    return best


# -- facts at 1M entries -----------------------------------------------------------------------------------

UNITS = [f"COUNTY{k:02d}" for k in range(10)]


def load_history(dsn: str, schema: str, entries: int, seed: int = 7) -> govflow.Govflow:
    """``entries`` ledger entries over 2025 (about 4.6 per issue), sealed in one chain, loaded with COPY."""
    drop(dsn, schema)
    flow = open_flow(dsn, schema)
    flow.add_unit("OFFICE", "州领导小组办公室", level="prefecture", supervisor=True)
    for unit in UNITS:
        flow.add_unit(unit, unit, level="county", parent="OFFICE")
    rng = random.Random(seed)
    year = dt.datetime(2025, 1, 1, 9, 0, tzinfo=SH)
    seq, prev = 0, GENESIS_HASH
    ledger_rows: list[tuple[Any, ...]] = []
    issue_rows: list[tuple[Any, ...]] = []
    n = 0
    began = time.perf_counter()
    while seq < entries:
        n += 1
        issue_id = f"GF-2025-{n:06d}"
        lead = UNITS[n % len(UNITS)]
        assigned = year + dt.timedelta(minutes=rng.randrange(365 * 24 * 60))
        due = (assigned + dt.timedelta(days=30)).date()
        plan: list[tuple[str, str | None, str, dict[str, Any], int]] = [
            ("assign", None, "assigned", {"lead": lead, "due": due.isoformat(), "title": "问题",
                                          "cooperating": [UNITS[(n + 1) % len(UNITS)]] if n % 4 == 0 else []}, 0),
            ("accept", "assigned", "assigned", {}, 1),
            ("implement", "assigned", "implemented", {"note": "整改"}, 5),
            ("report", "implemented", "feedback", {"result": "已完成"}, 10 + rng.randrange(40)),
            ("verify", "feedback", "verified", {"rating": rng.randint(3, 5)}, 50),
        ]
        if n % 5 == 0:
            plan = plan[:3]  # a fifth stay implemented: overdue once their due date has passed
        plan = plan[: entries - seq]
        at = assigned
        for k, (trigger, source, dest, data, days) in enumerate(plan, start=1):
            at = assigned + dt.timedelta(days=days, minutes=k)
            actor = "OFFICE" if trigger in ("assign", "verify") else lead
            entry = seal(LedgerDraft(issue_id, k, trigger, source, dest, actor, None, at, data), seq + 1, prev)
            seq, prev = entry.seq, entry.hash
            ledger_rows.append((entry.seq, issue_id, k, trigger, source, dest, actor, None, at.isoformat(), at,
                                canonical_json(data), entry.prev_hash, entry.hash))
        issue = Issue(id=issue_id, title="问题", lead=lead, due=due, original_due=due, state=plan[-1][2],
                      version=len(plan), lifecycle="issue-list", lifecycle_version=1, created_at=assigned,
                      updated_at=at, cooperating=tuple(plan[0][3]["cooperating"]),
                      accepted_at=assigned + dt.timedelta(days=1) if len(plan) > 1 else None)
        issue_rows.append(_issue_row(issue))
    sealed = time.perf_counter() - began
    began = time.perf_counter()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
        with conn.transaction():
            with conn.cursor().copy(
                "COPY ledger (seq, issue_id, issue_seq, trigger, from_state, to_state, actor, person, at, at_utc, data,"
                " prev_hash, hash) FROM STDIN"
            ) as copy:
                for row in ledger_rows:
                    copy.write_row(row)
            with conn.cursor().copy(
                "COPY issues (id, title, description, category, lead, cooperating, responsible, due, original_due,"
                " state, version, lifecycle, lifecycle_version, rework_count, created_at, updated_at, accepted_at,"
                " extension, extension_count, due_provisional, due_basis, escalation_level, escalation_steps)"
                " FROM STDIN"
            ) as copy:
                for row in issue_rows:
                    copy.write_row(row)
            with conn.cursor().copy("COPY cooperation (unit, issue_id) FROM STDIN") as copy:
                for row in issue_rows:
                    for unit in row[5]:
                        copy.write_row((unit, row[0]))
            conn.execute("UPDATE chain_head SET seq = %s, hash = %s WHERE id = 1", (seq, prev))
            conn.execute("INSERT INTO counters (scope, value) VALUES ('GF-2025-', %s)", (n,))
        conn.execute("ANALYZE")
    print(f"  {seq:,} entries for {n:,} issues: sealed in {sealed:.1f} s, loaded with COPY in "
          f"{time.perf_counter() - began:.1f} s", flush=True)
    return flow


def facts_timing(dsn: str, args: argparse.Namespace) -> dict[str, float]:
    schema = f"bench_pg_facts_{os.getpid()}"
    flow = load_history(dsn, schema, args.entries)
    times: dict[str, float] = {}
    try:
        began = time.perf_counter()
        check = flow.verify_ledger()
        times["verify_ledger()"] = time.perf_counter() - began
        assert check.entries == args.entries
        for label, call in (
            ("facts('2025-06')", lambda: flow.facts("2025-06")),
            ("facts('2025-12')", lambda: flow.facts("2025-12")),
            ("facts('2025')", lambda: flow.facts("2025")),
        ):
            best = float("inf")
            for _ in range(3):
                began = time.perf_counter()
                found = call()
                best = min(best, time.perf_counter() - began)
            times[label] = best
            assert sum(f.assigned for f in found.values()) > 0
        if args.check_reference:
            from govflow import FactsQuery
            from govflow.storage import compute_facts

            june = govflow.Period.parse("2025-06")
            facts_query = FactsQuery(june.start, june.end, flow._accept_limits(june), ("assigned", "implemented"))
            reference = compute_facts(flow.store.ledger(), facts_query)
            assert flow.store.period_facts(facts_query) == reference
            print("  facts('2025-06') equals compute_facts over the same ledger", flush=True)
    finally:
        flow.close()
        drop(dsn, schema)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dsn", default=server_dsn(),
                        help="PostgreSQL URL (default: GOVFLOW_PG_DSN, else the test server)")
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--seconds", type=float, default=5.0, help="measured seconds per row and round")
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--entries", type=int, default=1_000_000, help="ledger entries for the facts query")
    parser.add_argument("--check-reference", action="store_true",
                        help="also compare the facts with compute_facts over the loaded ledger (slow at 1M)")
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--skip-facts", action="store_true")
    args = parser.parse_args()
    with psycopg.connect(args.dsn) as conn:
        server = conn.execute("SHOW server_version").fetchone()
        settings = conn.execute("SELECT current_setting('synchronous_commit'), current_setting('fsync')").fetchone()
    print(f"PostgreSQL {server[0] if server else '?'} at {args.dsn} (synchronous_commit={settings and settings[0]}, "
          f"fsync={settings and settings[1]}); Python {sys.version.split()[0]}; {os.cpu_count()} CPUs; "
          f"psycopg {psycopg.__version__}")
    ok = True
    if not args.skip_throughput:
        print(f"\nThroughput: {args.rounds} round(s) of {args.seconds:g} s per row after {args.warmup:g} s warm-up")
        best = throughput(args.dsn, args)
        print(f"\n{'processes':>9} {'govflow':>9} {'sync':>9} {'floor':>9} {'pipelined':>9}"
              f" {'govflow/floor':>14} {'sync/floor':>12} {'govflow/pipel.':>15}")
        for n, row in best.items():
            print(f"{n:>9} {row['govflow']:>9.0f} {row['govflow-sync']:>9.0f} {row['floor']:>9.0f}"
                  f" {row['floor-pipelined']:>9.0f} {row['govflow'] / row['floor']:>13.2f}x"
                  f" {row['govflow-sync'] / row['floor']:>11.2f}x {row['govflow'] / row['floor-pipelined']:>14.2f}x")
        print("(transitions per second; govflow = PostgresStore default (group commit), sync = group_commit=False,"
              " floor = raw psycopg BEGIN/UPDATE/INSERT/COMMIT, pipelined = the same in one round trip)\n")
        for kind, label in (("govflow", "govflow"), ("govflow-sync", "govflow group_commit=False")):
            for n, row in best.items():
                ratio = row[kind] / row["floor"]
                passed = ratio >= 0.5
                ok &= passed or kind != "govflow"
                verdict = "PASS" if passed else "MISS"
                print(f"target {label} >= 0.5x the floor, {n} process(es): {ratio:.2f}x  {verdict}")
            if 1 in best and 4 in best:
                scale = best[4][kind] / best[1][kind]
                passed = scale >= 1.5
                ok &= passed or kind != "govflow"
                verdict = "PASS" if passed else "MISS"
                print(f"target {label}, 4 processes >= 1.5x one process: {scale:.2f}x  {verdict}")
        if 1 in best and 4 in best:
            floor_scale = best[4]["floor"] / best[1]["floor"]
            print(f"(for comparison, the floor scales {floor_scale:.2f}x from 1 to 4 processes)")
    if not args.skip_facts:
        print(f"\nFacts at {args.entries:,} ledger entries")
        for label, seconds in facts_timing(args.dsn, args).items():
            print(f"  {label:18s} {seconds * 1000:9.0f} ms")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
