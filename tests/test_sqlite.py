"""The SQLite store: schema versions, refusal of newer or foreign files, two writers on one file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

import govflow
from govflow import ConcurrentUpdateError, SchemaVersionError, SQLiteStore, StoreError
from govflow.testing import FakeClock

from .conftest import add_units


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
        assert len(second.ledger()) == 2
        assert second.verify_ledger().entries == 2
        # The second flow sees the first one's units and can carry on.
        assert second.report(issue.id, by="XIANGYUN", result="r").version == 3


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
        assert first.verify_ledger().entries == second.verify_ledger().entries == 12
        assert [e.seq for e in first.ledger()] == list(range(1, 13))
        assert first.store.chain_head() == (12, first.ledger()[-1].hash)


def test_period_facts_read_the_opened_file_after_a_change_of_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Facts are read on a connection of their own: it must open the same file, read-only, wherever the cwd is."""
    import datetime as dt

    from .month_scenario import run_march

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
