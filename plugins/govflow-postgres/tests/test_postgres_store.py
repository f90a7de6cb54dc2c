"""PostgresStore beyond the shared contract: URLs, the plugin, errors, migrations, the append-only ledger."""

from __future__ import annotations

import multiprocessing
import threading
import time
from typing import Any

import attrs
import govflow_postgres
import psycopg
import pytest
from govflow_postgres import SCHEMA_VERSION, PostgresStore, parse_target
from govflow_postgres import _schema as schema_module
from govflow_postgres.testing import REQUIRE_ENV, server_problem, unavailable
from psycopg import sql

import govflow
from govflow import SchemaVersionError, StoreError, ValidationError


def with_schema(dsn: str, schema: str, **options: str) -> str:
    query = "&".join(f"{k}={v}" for k, v in {"schema": schema, **options}.items())
    return f"{dsn}{'&' if '?' in dsn else '?'}{query}"


# -- connection strings ---------------------------------------------------------------------------


def test_govflow_options_are_taken_out_of_the_url() -> None:
    target = parse_target("postgresql://u:secret@db.example:6543/supervision?schema=dali&pool_size=8&sslmode=disable")
    assert (target.schema, target.pool_size, target.group_commit) == ("dali", 8, None)
    assert parse_target("postgresql://h/db?group_commit=on").group_commit is True
    assert target.conninfo == "postgresql://u:secret@db.example:6543/supervision?sslmode=disable"
    assert parse_target("postgres://h/db").conninfo == "postgresql://h/db"
    assert parse_target("host=h dbname=db") == govflow_postgres.Target("host=h dbname=db")


@pytest.mark.parametrize(
    ("dsn", "field", "words"),
    [
        ("", "dsn", "PostgreSQL URL"),
        (42, "dsn", "PostgreSQL URL"),
        ("mysql://h/db", "dsn", "not PostgreSQL's"),
        ("postgresql://h/db?schema=drop table", "schema", "schema name"),
        ("postgresql://h/db?schema=1abc", "schema", "schema name"),
        ("postgresql://h/db?pool_size=0", "pool_size", ">= 1"),
        ("postgresql://h/db?pool_size=many", "pool_size", ">= 1"),
        ("postgresql://h/db?group_commit=sometimes", "group_commit", "on or off"),
        ("postgresql://h/db?nonsense=1", "dsn", "libpq refuses"),
        ("host=h nonsense=1", "dsn", "libpq refuses"),
    ],
)
def test_bad_connection_strings_are_refused_with_what_is_accepted(dsn: Any, field: str, words: str) -> None:
    with pytest.raises(ValidationError) as caught:
        PostgresStore(dsn)
    assert caught.value.field == field
    assert words in str(caught.value)


def test_bad_options_are_refused() -> None:
    for options, field in (({"schema": "a-b"}, "schema"), ({"pool_size": -1}, "pool_size"),
                           ({"pool_size": True}, "pool_size"), ({"timeout": 0}, "timeout"),
                           ({"group_commit": "yes"}, "group_commit")):
        with pytest.raises(ValidationError) as caught:
            PostgresStore("postgresql://h/db", **options)  # type: ignore[arg-type]
        assert caught.value.field == field


def test_no_server_is_a_store_error_naming_where_without_the_password() -> None:
    with pytest.raises(StoreError) as caught:
        PostgresStore("postgresql://govflow:s3cret@127.0.0.1:1/nowhere?connect_timeout=3")
    message = str(caught.value)
    assert "cannot connect to PostgreSQL at govflow@127.0.0.1:1/nowhere (schema public)" in message
    assert "s3cret" not in message


def test_the_skip_becomes_a_failure_when_postgres_is_required(monkeypatch: pytest.MonkeyPatch) -> None:
    assert server_problem("postgresql://postgres@127.0.0.1:1/test") is not None
    monkeypatch.delenv(REQUIRE_ENV, raising=False)
    with pytest.raises(pytest.skip.Exception):
        unavailable("no server")
    monkeypatch.setenv(REQUIRE_ENV, "1")
    with pytest.raises(pytest.fail.Exception, match="GOVFLOW_REQUIRE_PG=1 requires it"):
        unavailable("no server")


# -- the plugin ------------------------------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["postgresql", "postgres"])
def test_open_selects_the_store_by_url(dsn: str, schema: str, scheme: str) -> None:
    url = with_schema(dsn, schema, pool_size="3").replace("postgresql://", f"{scheme}://", 1)
    with govflow.open(url, delivery="manual") as flow:
        store = flow.store
        assert isinstance(store, PostgresStore) and isinstance(store, govflow.Store)
        assert (store.schema, store.pool_size, store.schema_version) == (schema, 3, SCHEMA_VERSION)
        assert "postgres" in {p.name for p in flow.plugins()}
        flow.add_unit("OFFICE", "州领导小组办公室", level="prefecture", supervisor=True)
        flow.add_unit("XIANGYUN", "祥云县", level="county", parent="OFFICE")
        issue = flow.assign("道路积水", lead="XIANGYUN", due="2030-03-20", by="OFFICE")
    with govflow.open(url, delivery="manual") as flow:  # reopened: everything is there
        assert flow.get(issue.id).title == "道路积水"
        assert flow.verify_ledger().entries == len(flow.units()) + 1


def test_the_plugin_can_be_blocked(dsn: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOVFLOW_DISABLE_PLUGINS", "postgres")
    with pytest.raises(ValidationError, match="no storage plugin for scheme 'postgresql'"):
        govflow.open(dsn)


# -- migrations ------------------------------------------------------------------------------------


def test_a_new_schema_is_created_and_an_existing_one_is_left_alone(dsn: str, schema: str) -> None:
    first = PostgresStore(dsn, schema=schema)
    second = PostgresStore(dsn, schema=schema)
    try:
        assert (first.migrated_from, second.migrated_from) == (0, SCHEMA_VERSION)
        with psycopg.connect(dsn) as conn:
            rows = conn.execute(
                sql.SQL("SELECT version FROM {}.schema_version ORDER BY version").format(sql.Identifier(schema))
            ).fetchall()
        assert [r[0] for r in rows] == list(range(1, SCHEMA_VERSION + 1))
    finally:
        first.close()
        second.close()


def test_an_older_schema_is_migrated_forward_keeping_its_data(dsn: str, schema: str) -> None:
    """A schema at version 1 (as the first release wrote it) gets the later migrations on open."""
    with psycopg.connect(dsn, autocommit=True) as conn, conn.transaction():
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        conn.execute(sql.SQL("SET LOCAL search_path TO {}").format(sql.Identifier(schema)))
        conn.execute("CREATE TABLE schema_version (version integer PRIMARY KEY, applied_at timestamptz NOT NULL"
                     " DEFAULT now())")
        conn.execute(schema_module.MIGRATIONS[0].encode())
        conn.execute("INSERT INTO schema_version (version) VALUES (1)")
        conn.execute("INSERT INTO units (id, name, level, parent, supervisor) VALUES"
                     " ('OFFICE', '州领导小组办公室', 'prefecture', NULL, true),"
                     " ('XIANGYUN', '祥云县', 'county', 'OFFICE', false)")
    store = PostgresStore(dsn, schema=schema)
    try:
        assert store.migrated_from == 1
        with govflow.open(store, delivery="manual") as flow:
            assert [u.id for u in flow.units()] == ["OFFICE", "XIANGYUN"]
            # Migration 6 gave the units registered before it their entries, as their rows stood.
            registered = flow.ledger()
            assert [(e.seq, e.issue_id, e.trigger) for e in registered] == [
                (1, "unit:OFFICE", "add_unit"), (2, "unit:XIANGYUN", "add_unit")]
            assert "adopted" in registered[0].data["note"] and registered[0].data["supervisor"] is True
            issue = flow.assign("道路积水", lead="XIANGYUN", due="2030-03-20", by="OFFICE")
            stale = govflow.UnitOfWork(  # the store's version check (migration 2's function) works
                attrs.evolve(issue, version=4), 3,
                govflow.LedgerDraft(issue.id, 4, "note", issue.state, issue.state, "OFFICE", None,
                                    issue.updated_at, {}),
            )
            with pytest.raises(govflow.ConcurrentUpdateError) as caught:
                store.commit(stale)
            assert (caught.value.expected, caught.value.actual) == (3, 1)
            flow.accept(issue.id, by="XIANGYUN")
            assert flow.verify_ledger().entries == len(flow.units()) + 2
    finally:
        store.close()


def test_a_schema_from_a_newer_govflow_is_refused_and_left_alone(dsn: str, schema: str) -> None:
    PostgresStore(dsn, schema=schema).close()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("INSERT INTO {}.schema_version (version) VALUES (99)").format(sql.Identifier(schema)))
    with pytest.raises(SchemaVersionError) as caught:
        PostgresStore(dsn, schema=schema)
    assert (caught.value.found, caught.value.supported) == (99, SCHEMA_VERSION)
    assert f"(schema {schema})" in str(caught.value) and "upgrade govflow" in str(caught.value)


def _open_in_child(dsn: str, schema: str, pause: float, start: Any, results: Any) -> None:
    schema_module._pause_while_migrating = pause
    start.wait(30)
    began = time.monotonic()
    store = PostgresStore(dsn, schema=schema)
    results.put((store.migrated_from, time.monotonic() - began))
    store.close()


def test_two_processes_opening_a_new_schema_at_once_migrate_it_once(dsn: str, schema: str) -> None:
    """Both start together; the migration holds its lock for 0.5 s; the second waits and finds it done."""
    ctx = multiprocessing.get_context("spawn")
    start, results = ctx.Event(), ctx.Queue()
    children = [ctx.Process(target=_open_in_child, args=(dsn, schema, 0.5, start, results)) for _ in range(2)]
    for child in children:
        child.start()
    time.sleep(0.5)  # both children import govflow and wait at the start line
    start.set()
    outcomes = sorted(results.get(timeout=60) for _ in children)
    for child in children:
        child.join(30)
        assert child.exitcode == 0
    (first, first_took), (second, second_took) = outcomes
    assert (first, second) == (0, SCHEMA_VERSION)  # one created the schema, the other found it done
    assert first_took >= 0.5 and second_took >= 0.4  # the second waited for the first's lock
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            sql.SQL("SELECT version FROM {}.schema_version").format(sql.Identifier(schema))
        ).fetchall()
    assert sorted(r[0] for r in rows) == list(range(1, SCHEMA_VERSION + 1))


def test_text_postgresql_cannot_store_is_a_validation_error_and_writes_nothing(dsn: str, schema: str) -> None:
    with govflow.open(PostgresStore(dsn, schema=schema), delivery="manual") as flow:
        flow.add_unit("OFFICE", "州领导小组办公室", level="prefecture", supervisor=True)
        flow.add_unit("XIANGYUN", "祥云县", level="county", parent="OFFICE")
        issue = flow.assign("道路积水", lead="XIANGYUN", due="2030-03-20", by="OFFICE")
        with pytest.raises(ValidationError) as caught:
            flow.assign("道路\x00积水", lead="XIANGYUN", due="2030-03-20", by="OFFICE")
        assert "NUL" in str(caught.value)
        # Refused at the door on every store: jsonb (the period facts) cannot hold \u0000.
        with pytest.raises(ValidationError) as caught:
            flow.implement(issue.id, by="XIANGYUN", note="疏通\x00")
        assert caught.value.field == "note"
        assert flow.get(issue.id).version == 1
        assert flow.verify_ledger().entries == len(flow.units()) + 1
        flow.facts("2030-03")
        assert flow.assign("路灯", lead="XIANGYUN", due="2030-03-20", by="OFFICE").id.endswith("0002")


# -- the ledger and the chain head ------------------------------------------------------------------


def test_the_ledger_is_append_only_in_the_database(dsn: str, schema: str) -> None:
    with govflow.open(PostgresStore(dsn, schema=schema), delivery="manual") as flow:
        flow.add_unit("OFFICE", "州领导小组办公室", level="prefecture", supervisor=True)
        flow.add_unit("XIANGYUN", "祥云县", level="county", parent="OFFICE")
        flow.assign("道路积水", lead="XIANGYUN", due="2030-03-20", by="OFFICE")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
        for statement in ("UPDATE ledger SET actor = 'x'", "DELETE FROM ledger", "TRUNCATE ledger CASCADE"):
            with pytest.raises(psycopg.errors.RaiseException, match="the ledger is append-only"):
                conn.execute(statement.encode())


def test_group_commit_is_on_unless_turned_off(dsn: str, schema: str) -> None:
    default = PostgresStore(with_schema(dsn, schema))
    off = PostgresStore(with_schema(dsn, schema, group_commit="off"))
    overridden = PostgresStore(with_schema(dsn, schema, group_commit="off"), group_commit=True)
    try:
        assert (default.group_commit, off.group_commit, overridden.group_commit) == (True, False, True)
        assert "group_commit" not in repr(default) and repr(off).endswith(", group_commit=False)")
    finally:
        for store in (default, off, overridden):
            store.close()


@pytest.mark.parametrize("group_commit", ["off", "on"])
def test_a_step_is_on_disk_when_its_command_returns(dsn: str, schema: str, group_commit: str) -> None:
    """With group commit the step commits without waiting for the disk; the command must still not
    return before the WAL is flushed past its commit record (which lies after the insert position
    read just before the command)."""
    store = PostgresStore(with_schema(dsn, schema, group_commit=group_commit), pool_size=1)
    flow = govflow.open(store, delivery="manual", calendar="weekdays")
    try:
        flow.add_unit("OFFICE", "州领导小组办公室", level="prefecture", supervisor=True)
        flow.add_unit("XIANGYUN", "祥云县", level="county", parent="OFFICE")
        ids = [flow.assign(f"问题 {n}", lead="XIANGYUN", due="2030-03-20", by="OFFICE").id for n in range(20)]
        with psycopg.connect(dsn, autocommit=True) as watcher:
            for issue_id in ids:
                (before,) = watcher.execute("SELECT pg_current_wal_insert_lsn()").fetchone() or (None,)
                flow.implement(issue_id, by="XIANGYUN", note="n")
                (flushed_past,) = watcher.execute(
                    "SELECT pg_current_wal_flush_lsn() > %s::pg_lsn", (before,)
                ).fetchone() or (None,)
                assert flushed_past is True, f"{issue_id}: the command returned before its commit was on disk"
    finally:
        flow.close()


@pytest.mark.parametrize("group_commit", ["off", "on"])
def test_threads_sharing_one_store_append_to_one_unbroken_chain(dsn: str, schema: str, group_commit: str) -> None:
    store = PostgresStore(with_schema(dsn, schema, group_commit=group_commit), pool_size=4)
    assert store.group_commit is (group_commit == "on")
    flow = govflow.open(store, delivery="manual", calendar="weekdays")
    flow.add_unit("OFFICE", "州领导小组办公室", level="prefecture", supervisor=True)
    flow.add_unit("XIANGYUN", "祥云县", level="county", parent="OFFICE")
    ids = [flow.assign(f"问题 {n}", lead="XIANGYUN", due="2030-03-20", by="OFFICE").id for n in range(40)]
    errors: list[BaseException] = []

    def work(mine: list[str]) -> None:
        try:
            for issue_id in mine:
                flow.implement(issue_id, by="XIANGYUN", note="n")
                flow.report(issue_id, by="XIANGYUN", result="r")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(ids[k::8],)) for k in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert errors == []
        check = flow.verify_ledger()
        units = len(flow.units())  # their registrations come first
        assert check.entries == units + 40 * 3 and flow.store.chain_head() == (units + 120, check.head)
        assert {i.state for i in flow.issues()} == {"feedback"}
    finally:
        flow.close()


def test_commit_many_on_issues_in_opposite_orders_does_not_deadlock(dsn: str, schema: str) -> None:
    """Two sweeps writing the same issues in opposite orders: the rows are locked in id order first."""
    flow = govflow.open(PostgresStore(dsn, schema=schema), delivery="manual", calendar="weekdays")
    flow.add_unit("OFFICE", "州领导小组办公室", level="prefecture", supervisor=True)
    flow.add_unit("XIANGYUN", "祥云县", level="county", parent="OFFICE")
    ids = [flow.assign(f"问题 {n}", lead="XIANGYUN", due="2030-03-20", by="OFFICE").id for n in range(20)]
    store = flow.store
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def batch(order: list[str]) -> None:
        works = []
        for issue_id in order:
            issue = store.load(issue_id)
            assert issue is not None
            # A reminder step as the sweep writes it (verify_ledger replays it to the same row).
            works.append(govflow.UnitOfWork(
                attrs.evolve(issue, version=issue.version + 1, escalation_steps=issue.escalation_steps + 1),
                issue.version,
                govflow.LedgerDraft(issue_id, issue.version + 1, "deadline", issue.state, issue.state, "govflow",
                                    None, issue.updated_at,
                                    {"step": "due_soon", "level": 0, "due": issue.due.isoformat(),
                                     "working_days": -3, "unit": issue.lead}),
            ))
        barrier.wait()
        try:
            store.commit_many(works)
            outcomes.append("written")
        except govflow.ConcurrentUpdateError:
            outcomes.append("conflict")

    threads = [threading.Thread(target=batch, args=(order,)) for order in (ids, ids[::-1])]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    try:
        assert sorted(outcomes) == ["conflict", "written"]  # one batch won whole, the other wrote nothing
        assert flow.verify_ledger().entries == len(flow.units()) + 40
    finally:
        flow.close()


# -- a step whose outcome is unknown (issue #12) ---------------------------------------------------------


def test_a_connection_lost_with_the_step_on_its_way_is_outcome_unknown(dsn: str, schema: str) -> None:
    """The server ends the step's session while the step waits for the chain head: the caller cannot know
    whether it was committed, and is told to read the issue before repeating the command."""
    with govflow.open(PostgresStore(dsn, schema=schema, pool_size=2), delivery="manual") as flow:
        flow.add_unit("OFFICE", "州领导小组办公室", level="prefecture", supervisor=True)
        flow.add_unit("XIANGYUN", "祥云县", level="county", parent="OFFICE")
        issue = flow.assign("道路积水", lead="XIANGYUN", due="2030-03-20", by="OFFICE")
        with psycopg.connect(dsn) as holder:
            holder.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
            holder.execute("SELECT * FROM chain_head FOR UPDATE")  # the step will wait on the head
            holder_pid = holder.info.backend_pid
            failure: list[BaseException] = []

            def step() -> None:
                try:
                    flow.implement(issue.id, by="XIANGYUN", note="疏通")
                except BaseException as exc:  # examined below
                    failure.append(exc)

            worker = threading.Thread(target=step)
            worker.start()
            with psycopg.connect(dsn, autocommit=True) as killer:
                for _ in range(100):  # only the session our lock holds up: other tests share the server
                    waiting = killer.execute(
                        "SELECT pid FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))", (holder_pid,)
                    ).fetchall()
                    if waiting:
                        break
                    time.sleep(0.05)
                assert waiting, "the step never waited on the head"
                for (pid,) in waiting:
                    killer.execute("SELECT pg_terminate_backend(%s)", (pid,))
            worker.join(30)
            holder.rollback()
        (error,) = failure
        assert isinstance(error, govflow.OutcomeUnknown) and isinstance(error, govflow.StoreError)
        assert error.issue_id == issue.id
        assert "read issue" in str(error) and "before repeating" in str(error)
        # Reading the issue says what happened (here: nothing), and the command can then be repeated.
        assert flow.get(issue.id).version == 1
        assert flow.implement(issue.id, by="XIANGYUN", note="疏通").version == 2
        assert flow.verify_ledger().entries == len(flow.units()) + 2
