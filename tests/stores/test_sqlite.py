"""The SQLite store: schema versions, refusal of newer or foreign files, two writers on one file,
paged ledger reads that hold nothing between pages, and a COMMIT that fails."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from pathlib import Path
from typing import Any

import attrs
import pytest

import govflow
import govflow._stores.sqlite.ledger
from govflow import ConcurrentUpdateError, SchemaVersionError, SQLiteStore, StoreError
from govflow.storage import unit_draft
from govflow.testing import FakeClock

from .._tamper import tamper
from ..conftest import UNIT_ENTRIES as U
from ..conftest import add_units, snapshot


def test_a_new_file_gets_the_current_schema_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite3"
    govflow.open(path).close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == govflow.SCHEMA_VERSION
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    indexes = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert {"issues_state_due", "issues_lead", "ledger_at_issue"} <= indexes
    db.close()


def test_a_file_from_a_newer_govflow_is_refused_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "newer.sqlite3"
    govflow.open(path).close()
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {govflow.SCHEMA_VERSION + 1}")
    db.commit()
    db.close()
    with pytest.raises(SchemaVersionError, match="newer govflow") as info:
        govflow.open(path)
    assert info.value.found == govflow.SCHEMA_VERSION + 1
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == govflow.SCHEMA_VERSION + 1
    db.close()


def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("这不是数据库" * 200, encoding="utf-8")
    with pytest.raises(StoreError, match="not a govflow SQLite file"):
        govflow.open(path)


def test_an_empty_file_is_migrated_forward_from_version_zero(tmp_path: Path) -> None:
    path = tmp_path / "empty.sqlite3"
    sqlite3.connect(path).close()
    store = SQLiteStore(path)
    assert store.chain_head() == (0, govflow.GENESIS_HASH)
    store.close()


def test_two_connections_writing_the_same_issue(tmp_path: Path, clock: FakeClock) -> None:
    """The second writer read version 1 too: its stale write raises and writes nothing."""
    path = tmp_path / "shared.sqlite3"
    with govflow.open(path, clock=clock) as first, govflow.open(path, clock=clock) as second:
        add_units(first)
        issue = first.assign("道路积水", lead="XIANGYUN", due="2026-03-20", by="OFFICE")
        stale = second.get(issue.id)
        first.implement(issue.id, by="XIANGYUN", note="n")
        # Replay the command the second process would have built from its stale read.
        lifecycle = second._lifecycle("issue-list", 1)
        new, data = lifecycle.fire(stale, "cancel", govflow.Actor("OFFICE"), {"reason": "r"},
                                   clock(), second._find_unit)
        draft = govflow.LedgerDraft(issue_id=issue.id, issue_seq=2, trigger="cancel", from_state="assigned",
                                    to_state="cancelled", actor="OFFICE", person=None, at=clock(), data=data)
        with pytest.raises(ConcurrentUpdateError, match="expected version 1") as info:
            second.store.commit(govflow.UnitOfWork(new, stale.version, draft))
        assert (info.value.expected, info.value.actual) == (1, 2)
        assert second.get(issue.id).state == "implemented"
        assert len(second.ledger()) == U + 2
        assert second.verify_ledger().entries == U + 2
        # The second flow sees the first one's units and can carry on.
        assert second.report(issue.id, by="XIANGYUN", result="r").version == 3


def stored_row(path: Path, issue_id: str) -> dict[str, Any]:
    """The issue's row as another program reading the file sees it."""
    db = sqlite3.connect(path)
    db.row_factory = sqlite3.Row
    try:
        return dict(db.execute("SELECT * FROM issues WHERE id = ?", (issue_id,)).fetchone())
    finally:
        db.close()


def test_a_step_writes_only_the_columns_it_changed(tmp_path: Path, clock: FakeClock) -> None:
    """The lead's index is not rewritten by a step that keeps the lead; the row is still whole."""
    path = tmp_path / "columns.sqlite3"
    with govflow.open(path, clock=clock) as flow:
        add_units(flow)
        issue = flow.assign("道路积水", lead="XIANGYUN", due="2026-03-20", by="OFFICE")
        statements: list[str] = []
        flow.store._db.set_trace_callback(statements.append)
        clock.advance(dt.timedelta(hours=1))
        flow.implement(issue.id, by="XIANGYUN", note="n")
        flow.store._db.set_trace_callback(None)
        updates = [s for s in statements if s.startswith("UPDATE issues")]
        assert len(updates) == 1
        assert updates[0].startswith("UPDATE issues SET state = 'implemented', version = 2, updated_at = ")
        row = stored_row(path, issue.id)
        assert (row["state"], row["version"], row["lead"]) == ("implemented", 2, "XIANGYUN")


def test_a_row_changed_by_another_connection_is_written_whole(tmp_path: Path, clock: FakeClock) -> None:
    """Each connection diffs against the committed row of the version it read, never a stale one."""
    path = tmp_path / "diff.sqlite3"
    with govflow.open(path, clock=clock) as first, govflow.open(path, clock=clock) as second:
        add_units(first)
        issue = first.assign("道路积水", lead="XIANGYUN", due="2026-03-20", by="OFFICE")
        first.get(issue.id)  # the first connection now knows version 1
        second.reassign(issue.id, by="OFFICE", new_lead="BINCHUAN", reason="属地")
        second.request_extension(issue.id, by="BINCHUAN", due="2026-04-30", reason="雨季")
        moved = first.implement(issue.id, by="BINCHUAN", note="n")
        row = stored_row(path, issue.id)
        assert (row["lead"], row["state"], row["version"]) == ("BINCHUAN", "implemented", 4)
        assert row["extension"] is not None and moved.extension is not None
        assert second.get(issue.id) == moved
        assert first.verify_ledger().entries == U + 4


def test_a_step_on_a_cached_row_reads_nothing_before_its_write(tmp_path: Path, clock: FakeClock) -> None:
    """A step on a row this connection cached runs on the snapshot, and its UPDATE names the snapshot's version
    and time: no read at all. When another connection moved the row, the UPDATE matches nothing and the step
    runs again on the row read whole; an error on a stale snapshot is checked against the row first."""
    path = tmp_path / "probe.sqlite3"
    with govflow.open(path, clock=clock) as first, govflow.open(path, clock=clock) as second:
        add_units(first)
        issue = first.assign("道路积水", lead="XIANGYUN", due="2026-03-20", by="OFFICE")
        statements: list[str] = []
        first.store._db.set_trace_callback(statements.append)

        def reads() -> list[str]:
            found = [s.split(" FROM")[0][:14] for s in statements if s.startswith("SELECT") and "FROM issues" in s]
            statements.clear()
            return found

        first.implement(issue.id, by="XIANGYUN", note="n")  # assigned here: the row is cached
        assert any(s.startswith("UPDATE issues") and "AND updated_at = " in s for s in statements)
        assert reads() == []
        # The other connection moves the row without changing its state: the step succeeds on the stale
        # snapshot, its UPDATE matches nothing, and it runs again on the row as stored.
        clock.advance(dt.timedelta(hours=1))
        second.request_extension(issue.id, by="XIANGYUN", due="2026-04-30", reason="雨季")
        reported = first.report(issue.id, by="XIANGYUN", result="r")
        assert reads() == ["SELECT id, tit"]
        assert reported.version == 4 and reported.extension is not None  # the other step is kept
        # The other connection moves it on: the stale snapshot refuses the step (it is in feedback there, assigned
        # now), the row is checked, and the step runs on it.
        second.reject(issue.id, by="OFFICE", reason="x")
        first.implement(issue.id, by="XIANGYUN", note="again")
        assert reads() == ["SELECT version", "SELECT id, tit"]
        assert first.get(issue.id).rework_count == 1 and first.get(issue.id).state == "implemented"
        # A caller who read the newer version elsewhere: the stale snapshot's older version is no conflict.
        version = second.report(issue.id, by="XIANGYUN", result="r2").version
        moved = first.fire(issue.id, "reject", by="OFFICE", reason="y", expected_version=version)
        assert moved.version == version + 1
        statements.clear()
        # A refusal on a current snapshot stands, after one check of the row; nothing is written.
        with pytest.raises(govflow.InvalidTransition):
            first.verify(issue.id, by="OFFICE")
        assert reads() == ["SELECT version"]
        assert not any(s.startswith(("UPDATE", "INSERT")) for s in statements)
        first.store._rows.clear()  # nothing cached: the whole row at once
        first.implement(issue.id, by="XIANGYUN", note="third")
        assert reads() == ["SELECT id, tit"]
        first.store._db.set_trace_callback(None)
        assert second.get(issue.id) == first.get(issue.id)
        assert first.verify_ledger().entries == U + 9


def test_a_step_on_a_stale_snapshot_runs_again_whatever_it_did_to_the_cache(tmp_path: Path, clock: FakeClock) -> None:
    """The step writes against the snapshot it ran on, even when running it dropped that row from the cache
    (a step may read other issues); a unit of work that is not a plain step on the snapshot is written only
    when the snapshot is the stored row."""
    path = tmp_path / "stale.sqlite3"
    with govflow.open(path, clock=clock) as first, govflow.open(path, clock=clock) as second:
        add_units(first)
        issue = first.assign("道路积水", lead="XIANGYUN", due="2026-03-20", by="OFFICE")
        second.request_extension(issue.id, by="XIANGYUN", due="2026-04-30", reason="雨季")  # first's copy is stale
        store = first.store
        assert isinstance(store, govflow.SQLiteStore)

        def forgetful(snapshot: govflow.Issue) -> govflow.UnitOfWork:
            store._rows.clear()
            return first._step("implement", "XIANGYUN", {"note": "n"}, None, (), False, snapshot)

        moved, _ = store.commit_step(issue.id, forgetful)
        assert (moved.version, moved.state) == (3, "implemented") and moved.extension is not None

        # A unit of work for another version than the snapshot's: not written from a stale snapshot.
        second.approve_extension(issue.id, by="OFFICE")  # version 4; first still has version 3 cached
        calls: list[int] = []

        def other_version(snapshot: govflow.Issue) -> govflow.UnitOfWork:
            calls.append(snapshot.version)
            work = first._step("report", "XIANGYUN", {"result": "r"}, None, (), False, snapshot)
            return attrs.evolve(work, expected_version=snapshot.version + 7) if len(calls) == 1 else work

        reported, _ = store.commit_step(issue.id, other_version)
        assert calls == [3, 4] and (reported.version, reported.state) == (5, "feedback")
        assert second.get(issue.id) == reported
        assert first.verify_ledger().entries == U + 5


def test_a_row_edited_in_place_without_a_step_is_read_again_when_its_time_moved(
    tmp_path: Path, clock: FakeClock
) -> None:
    """A restored or hand-edited row whose version is the cached one but whose time differs is read whole."""
    path = tmp_path / "edited.sqlite3"
    with govflow.open(path, clock=clock) as flow:
        add_units(flow)
        issue = flow.assign("道路积水", lead="XIANGYUN", due="2026-03-20", by="OFFICE")
        flow.get(issue.id)
        tamper(flow, "UPDATE issues SET title = '改过', updated_at = '2026-03-01T00:00:00+08:00'"
                     f" WHERE id = '{issue.id}'")
        moved = flow.implement(issue.id, by="XIANGYUN", note="n")
        assert moved.title == "改过"  # the row as stored, not the snapshot cached before the edit


def test_a_batch_rolled_back_leaves_no_row_remembered(tmp_path: Path, clock: FakeClock) -> None:
    """Rows are remembered only once their transaction commits."""
    path = tmp_path / "batch.sqlite3"
    with govflow.open(path, clock=clock) as flow:
        add_units(flow)
        a = flow.assign("甲", lead="XIANGYUN", due="2026-03-20", by="OFFICE")
        b = flow.assign("乙", lead="XIANGYUN", due="2026-03-20", by="OFFICE")
        lifecycle = flow._lifecycle("issue-list", 1)
        works = []
        for issue, expected in ((flow.get(a.id), 1), (flow.get(b.id), 7)):  # b's version is stale
            new, data = lifecycle.fire(issue, "cancel", govflow.Actor("OFFICE"), {"reason": "r"}, clock(),
                                       flow._find_unit)
            draft = govflow.LedgerDraft(issue_id=issue.id, issue_seq=2, trigger="cancel", from_state="assigned",
                                        to_state="cancelled", actor="OFFICE", person=None, at=clock(), data=data)
            works.append(govflow.UnitOfWork(new, expected, draft))
        with pytest.raises(ConcurrentUpdateError):
            flow.store.commit_many(works)
        assert stored_row(path, a.id)["state"] == "assigned"
        # A remembered row is the committed row of its version: never the rolled-back version 2 of a.
        remembered = flow.store._rows.get(a.id)
        assert remembered is None or (remembered[0][10], remembered[0][9], remembered[1].version) == (1, "assigned", 1)
        flow.reassign(a.id, by="OFFICE", new_lead="BINCHUAN", reason="属地")
        flow.cancel(a.id, by="OFFICE", reason="重复")
        row = stored_row(path, a.id)
        assert (row["lead"], row["state"], row["version"]) == ("BINCHUAN", "cancelled", 3)
        assert flow.verify_ledger().entries == U + 4


def test_two_connections_appending_in_turn_keep_one_chain(tmp_path: Path, clock: FakeClock) -> None:
    """Each connection remembers the head it wrote; when the other moved it, it reads it again."""
    path = tmp_path / "turns.sqlite3"
    with govflow.open(path, clock=clock) as first, govflow.open(path, clock=clock) as second:
        add_units(first)
        ids = []
        for turn in range(6):
            flow = first if turn % 2 == 0 else second
            ids.append(flow.assign(f"问题{turn}", lead="XIANGYUN", due="2026-03-20", by="OFFICE").id)
            flow.implement(ids[-1], by="XIANGYUN", note="n")
        assert first.verify_ledger().entries == second.verify_ledger().entries == U + 12
        assert [e.seq for e in first.ledger()] == list(range(1, U + 13))
        assert first.store.chain_head() == (U + 12, first.ledger()[-1].hash)


def test_period_facts_read_the_opened_file_after_a_change_of_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Facts are read on a connection of their own: it must open the same file, read-only, wherever the cwd is."""
    import datetime as dt

    from ..month_scenario import run_march

    monkeypatch.chdir(tmp_path)
    clock = FakeClock("2026-03-02T09:00:00+08:00", tick=dt.timedelta(minutes=1))
    with govflow.open("relative.sqlite3", clock=clock) as flow:
        add_units(flow)
        run_march(flow, clock)
        expected = flow.facts("2026-03")
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        monkeypatch.chdir(elsewhere)
        assert flow.facts("2026-03") == expected
        assert flow.bulletin("2026-03").facts == expected
    assert list(elsewhere.iterdir()) == []


def test_a_half_read_ledger_holds_up_no_other_thread(tmp_path: Path, clock: FakeClock) -> None:
    """An iterator suspended after one entry holds neither the store's lock nor a statement."""
    with govflow.open(tmp_path / "paged.sqlite3", clock=clock) as flow:
        add_units(flow)
        issue = flow.assign("道路积水", lead="XIANGYUN", due="2026-03-20", by="OFFICE")
        flow.implement(issue.id, by="XIANGYUN", note="n")
        entries = flow.store.ledger()
        assert next(entries).seq == 1
        errors: list[BaseException] = []

        def step() -> None:
            try:
                flow.report(issue.id, by="XIANGYUN", result="r")
            except BaseException as exc:  # reported below, in the test's thread
                errors.append(exc)

        other = threading.Thread(target=step, daemon=True)
        other.start()
        other.join(timeout=10)
        assert not other.is_alive(), "a suspended ledger iterator held up a commit in another thread"
        assert errors == []
        # The rest of the walk goes on from the page it read (the last one: the new step is not in it).
        assert [(e.seq, e.trigger) for e in entries] == [
            (2, "add_unit"), (3, "add_unit"), (4, "add_unit"), (U + 1, "assign"), (U + 2, "implement"),
        ]
        assert [e.trigger for e in flow.ledger(issue.id)] == ["assign", "implement", "report"]
        assert flow.verify_ledger().entries == U + 3


def test_a_ledger_read_in_many_pages_is_the_ledger(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pages of three entries give what one page gives, under every filter: order, bounds, nothing twice."""
    clock = FakeClock("2026-03-02T09:00:00+08:00", tick=dt.timedelta(hours=5))
    with govflow.open(tmp_path / "pages.sqlite3", clock=clock) as flow:
        add_units(flow)
        ids = [flow.assign(f"问题{n}", lead="XIANGYUN", due="2026-03-20", by="OFFICE").id for n in range(4)]
        for issue_id in ids:  # interleaved, so that one issue's steps are not neighbours in seq
            flow.implement(issue_id, by="XIANGYUN", note="n")
        for issue_id in ids[:3]:
            flow.report(issue_id, by="XIANGYUN", result="r")
        flow.reject(ids[0], by="OFFICE", reason="不合格")
        flow.implement(ids[0], by="XIANGYUN", note="again")
        store = flow.store

        raw = sqlite3.connect(tmp_path / "pages.sqlite3")
        stored = [row[0] for row in raw.execute("SELECT seq FROM ledger ORDER BY seq")]
        raw.close()
        monkeypatch.setattr(govflow._stores.sqlite.ledger, "PAGE", 10_000)
        everything = list(store.ledger())
        assert [e.seq for e in everything] == stored == list(range(1, U + 14))
        at = [e.at for e in everything]
        since, until = at[U + 3], at[U + 10]  # bounds that fall on entries, inside the two-day text margin
        cases: list[tuple[dict[str, Any], list[govflow.LedgerEntry]]] = [
            ({}, everything),
            ({"issue_id": ids[0]}, [e for e in everything if e.issue_id == ids[0]]),
            ({"trigger": "implement"}, [e for e in everything if e.trigger == "implement"]),
            ({"since": since}, [e for e in everything if e.at >= since]),
            ({"until": until}, [e for e in everything if e.at < until]),
            ({"since": since, "until": until}, everything[U + 3:U + 10]),
            ({"since": since, "until": until, "trigger": "report"},
             [e for e in everything[U + 3:U + 10] if e.trigger == "report"]),
            ({"issue_id": ids[0], "since": since}, [e for e in everything if e.issue_id == ids[0] and e.at >= since]),
            ({"since": at[-1] + dt.timedelta(days=9)}, []),
        ]
        assert len(cases[1][1]) == 5 and len(cases[5][1]) == 7  # more than one page of three
        monkeypatch.setattr(govflow._stores.sqlite.ledger, "PAGE", 3)
        for filters, expected in cases:
            assert list(store.ledger(**filters)) == expected, filters


class _FailingCommit(sqlite3.Connection):
    """A connection whose next COMMIT fails: ``busy`` raises as SQLITE_BUSY does (the transaction stays
    open), ``deferred`` makes SQLite itself refuse it (a deferred foreign key broken in the transaction).
    Its cursors fail the same way (the store runs BEGIN and COMMIT on its write cursor)."""

    fail: str | None = None

    def cursor(self, factory: Any = None) -> Any:
        return super().cursor(factory or _FailingCursor)

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        return self.run(sql, lambda: super(_FailingCommit, self).execute(sql, parameters))

    def run(self, sql: str, statement: Any) -> sqlite3.Cursor:
        if self.fail == "deferred" and sql == "BEGIN IMMEDIATE":
            self.fail = None
            cursor: sqlite3.Cursor = statement()
            # Checked only at COMMIT: the step's own writes all go in before the refusal.
            sqlite3.Connection.execute(self, "PRAGMA defer_foreign_keys = ON")
            sqlite3.Connection.execute(
                self, "INSERT INTO outbox (seq, hook, plugin, status, attempts, next_attempt_at, created_at)"
                " VALUES (999999, 'after_transition', 'ghost', 'pending', 0, '2026-03-02', '2026-03-02')")
            return cursor
        if self.fail == "busy" and sql == "COMMIT":
            self.fail = None
            raise sqlite3.OperationalError("database is locked")
        result: sqlite3.Cursor = statement()
        return result


class _FailingCursor(sqlite3.Cursor):
    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        connection = self.connection
        assert isinstance(connection, _FailingCommit)
        return connection.run(sql, lambda: super(_FailingCursor, self).execute(sql, parameters))


@pytest.mark.parametrize(("fail", "error"), [("busy", govflow.StoreBusy), ("deferred", sqlite3.IntegrityError)])
def test_a_step_whose_commit_fails_is_rolled_back(
    tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch, fail: str, error: type[Exception]
) -> None:
    """A failing COMMIT leaves nothing of the step (issue, ledger, chain head, outbox), and the store works on."""
    path = tmp_path / "commit.sqlite3"
    connect = sqlite3.connect
    monkeypatch.setattr(sqlite3, "connect", lambda *a, **k: connect(*a, factory=_FailingCommit, **k))
    store = SQLiteStore(path)
    monkeypatch.undo()
    db = store._db
    assert isinstance(db, _FailingCommit)
    with govflow.open(store, clock=clock, delivery="manual") as flow:
        add_units(flow)
        issue = flow.assign("道路积水", lead="XIANGYUN", due="2026-03-20", by="OFFICE")
        before = snapshot(flow), flow.units(), store.outbox("pending")
        db.fail = fail
        with pytest.raises(error):
            flow.implement(issue.id, by="XIANGYUN", note="n")
        assert db.fail is None, "the failure was not reached"
        assert not db.in_transaction
        assert (snapshot(flow), flow.units(), store.outbox("pending")) == before
        # The connection begins and commits the next step; the chain goes on from the head that was kept.
        assert flow.implement(issue.id, by="XIANGYUN", note="n").version == 2
        assert flow.verify_ledger().entries == U + 2
        assert [u.id for u in flow.units()] == ["OFFICE", "XIANGYUN", "BINCHUAN", "XIAZHUANG"]
    with govflow.open(path, clock=clock) as again:  # and so the file says, read afresh
        assert [(e.seq, e.trigger) for e in again.ledger()][U:] == [(U + 1, "assign"), (U + 2, "implement")]
        assert again.store.chain_head() == (U + 2, again.ledger()[-1].hash)


def test_an_error_after_sqlite_rolled_back_by_itself_is_the_one_raised(tmp_path: Path) -> None:
    """After some errors (a full disk, I/O, out of memory) SQLite has already rolled back: the helper's own
    ROLLBACK must not replace the error with 'no transaction is active'."""
    store = SQLiteStore(tmp_path / "auto.sqlite3")
    try:
        with pytest.raises(ValueError, match="the real error"), store._transaction():
            store._db.execute("ROLLBACK")  # what SQLite does on its own after such an error
            raise ValueError("the real error")
        office = govflow.Unit(id="OFFICE", name="办公室", level="prefecture", supervisor=True)
        at = dt.datetime(2026, 3, 2, 9, tzinfo=govflow.DEFAULT_ZONE)
        assert store.add_unit(office, unit_draft(office, at)) is not None
        assert [u.id for u in store.units()] == ["OFFICE"] and store.chain_head()[0] == 1
    finally:
        store.close()


def test_a_step_reads_the_issue_inside_its_transaction(tmp_path: Path, clock: FakeClock) -> None:
    """flow.fire on SQLite reads the issue under the write lock: a step another connection committed since this
    one last read the issue is seen, the caller's expected_version is still checked, and a refused step writes
    nothing and leaves no row remembered."""
    path = tmp_path / "step.sqlite3"
    with govflow.open(path, clock=clock) as first, govflow.open(path, clock=clock) as second:
        add_units(first)
        issue = first.assign("道路积水", lead="XIANGYUN", due="2026-03-20", by="OFFICE")
        assert first.get(issue.id).version == 1  # remembered by the first connection
        second.implement(issue.id, by="XIANGYUN", note="疏通")
        with pytest.raises(ConcurrentUpdateError):
            first.fire(issue.id, "report", by="XIANGYUN", result="完成", expected_version=1)
        reported = first.report(issue.id, by="XIANGYUN", result="完成")  # reads version 2 inside
        assert (reported.version, reported.state) == (3, "feedback")
        assert second.get(issue.id) == reported
        with pytest.raises(govflow.ValidationError):
            first.fire(issue.id, "verify", by="OFFICE", rating=9)
        assert stored_row(path, issue.id)["version"] == 3
        assert first.store._rows[issue.id][1] == reported
        with pytest.raises(govflow.NotFound):
            first.fire("GF-2026-9999", "implement", by="XIANGYUN", note="n")
        assert [entry.trigger for entry in first.ledger(issue.id)] == ["assign", "implement", "report"]
        first.verify_ledger()
