"""The unit registry in the ledger: each unit registered by a hash-chained entry, and an edited, added or
removed ``units`` row found by ``verify_ledger()`` (issue #12, item 2)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

import govflow
from govflow import ValidationError
from govflow.storage import unit_draft
from govflow.testing import FakeClock

from .._tamper import corruption, tamper
from ..conftest import STORES, add_units, open_flow, snapshot


def test_each_unit_is_registered_by_its_own_ledger_entry(flow: govflow.Govflow) -> None:
    entries = [e for e in flow.ledger() if e.issue_id.startswith("unit:")]
    assert [(e.seq, e.issue_id, e.issue_seq, e.trigger, e.from_state, e.to_state) for e in entries] == [
        (1, "unit:OFFICE", 1, "add_unit", None, "registered"),
        (2, "unit:XIANGYUN", 1, "add_unit", None, "registered"),
        (3, "unit:BINCHUAN", 1, "add_unit", None, "registered"),
        (4, "unit:XIAZHUANG", 1, "add_unit", None, "registered"),
    ]
    office = {"name": "大理州领导小组办公室", "level": "prefecture", "parent": None, "supervisor": True}
    assert entries[0].data == office
    assert entries[3].data == {"name": "下庄镇", "level": "township", "parent": "XIANGYUN", "supervisor": False}
    assert all(e.actor == "govflow" for e in entries)
    assert flow.ledger("unit:XIAZHUANG") == [entries[3]]  # one subject's entries, as for an issue
    with pytest.raises(govflow.NotFound, match="no unit 'NOBODY'"):
        flow.ledger("unit:NOBODY")
    check = flow.verify_ledger()
    assert check.entries == 4 and check.issues == 0


def test_re_adding_the_same_unit_writes_nothing_and_a_changed_one_is_refused(flow: govflow.Govflow) -> None:
    before = snapshot(flow)
    flow.add_unit("XIANGYUN", "祥云县", level="county", parent="OFFICE")
    assert snapshot(flow) == before
    with pytest.raises(ValidationError, match="already exists"):
        flow.add_unit("XIANGYUN", "祥云县", level="county", parent="OFFICE", supervisor=True)
    assert snapshot(flow) == before and flow.store.chain_head()[0] == 4


@pytest.mark.parametrize("kind", STORES)
def test_the_store_refuses_another_unit_under_a_registered_id(kind: str, tmp_path: Path, clock: FakeClock) -> None:
    with open_flow(kind, tmp_path, clock) as flow:
        add_units(flow)
        head = flow.store.chain_head()
        promoted = govflow.Unit(id="BINCHUAN", name="宾川县", level="county", parent="OFFICE", supervisor=True)
        draft = unit_draft(promoted, flow.now())
        with pytest.raises(ValidationError, match="already exists"):
            flow.store.add_unit(promoted, draft)  # another process's stale view, past the facade's check
        assert flow.store.chain_head() == head
        assert flow.unit("BINCHUAN").supervisor is False
        same = govflow.Unit(id="BINCHUAN", name="宾川县", level="county", parent="OFFICE")
        assert flow.store.add_unit(same, unit_draft(same, flow.now())) is None
        assert flow.store.chain_head() == head


@pytest.mark.parametrize(
    ("statement", "found"),
    [
        ("UPDATE units SET supervisor = TRUE WHERE id = 'BINCHUAN'", "unit BINCHUAN: its supervisor is True where"),
        ("UPDATE units SET name = '假县' WHERE id = 'XIANGYUN'", "unit XIANGYUN: its name is '假县' where"),
        ("UPDATE units SET parent = 'BINCHUAN' WHERE id = 'XIAZHUANG'", "unit XIAZHUANG: its parent is 'BINCHUAN'"),
        ("UPDATE units SET level = 'department' WHERE id = 'BINCHUAN'", "unit BINCHUAN: its level is 'department'"),
        ("INSERT INTO units (id, name, level, parent, supervisor, position)"
         " VALUES ('SHADOW', '影子办', 'prefecture', NULL, TRUE, 99)", "unit SHADOW: no ledger entry registers it"),
        ("DELETE FROM units WHERE id = 'XIAZHUANG'", "unit XIAZHUANG: registered by this entry but not stored"),
    ],
)
@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_an_edited_added_or_removed_unit_row_is_found(
    kind: str, statement: str, found: str, tmp_path: Path, clock: FakeClock
) -> None:
    with open_flow(kind, tmp_path, clock) as flow:
        add_units(flow)
        issue = flow.assign("道路积水", lead="XIANGYUN", due="2026-03-20", by="OFFICE")
        flow.accept(issue.id, by="XIANGYUN")
        flow.verify_ledger()
        if kind == "postgres":
            statement = statement.replace(", position)", ")").replace(", TRUE, 99)", ", TRUE)")
        else:
            statement = statement.replace("TRUE", "1")
        tamper(flow, statement)
        error = corruption(flow)
        assert found in error.problem, error
        if "registered by this entry" in found:
            assert error.seq == 4  # XIAZHUANG's own entry


def test_a_promoted_unit_is_reported_as_such_not_as_the_steps_it_would_allow(tmp_path: Path, clock: FakeClock) -> None:
    """A county made a supervisor in the database could verify its neighbour's work; the check names the
    units row, not the verify entry the edit let through."""
    with open_flow("sqlite", tmp_path, clock) as flow:
        add_units(flow)
        issue = flow.assign("道路积水", lead="XIANGYUN", due="2026-03-20", by="OFFICE")
        tamper(flow, "UPDATE units SET supervisor = 1 WHERE id = 'BINCHUAN'")
    with govflow.open(str(tmp_path / "flow.sqlite3"), clock=clock) as flow:
        assert flow.unit("BINCHUAN").supervisor is True  # what the permissions now follow
        flow.accept(issue.id, by="XIANGYUN")
        flow.implement(issue.id, by="XIANGYUN", note="做了")
        flow.report(issue.id, by="XIANGYUN", result="完成")
        flow.verify(issue.id, by="BINCHUAN", rating=5)
        error = corruption(flow)
        assert "unit BINCHUAN: its supervisor is True where its ledger entry gives False" in error.problem
        assert error.seq == 3


def test_an_altered_registration_entry_breaks_the_chain(tmp_path: Path, clock: FakeClock) -> None:
    with open_flow("sqlite", tmp_path, clock) as flow:
        add_units(flow)
        tamper(flow, """UPDATE ledger SET data = replace(data, '"supervisor":false', '"supervisor":true')
                        WHERE issue_id = 'unit:BINCHUAN'""",
               "UPDATE units SET supervisor = 1 WHERE id = 'BINCHUAN'")
        error = corruption(flow)
        assert error.seq == 3 and "contents do not match its hash" in error.problem


def test_an_entry_that_registers_no_unit_is_named(tmp_path: Path, clock: FakeClock) -> None:
    """A registration entry sealed by someone who can compute hashes, with data that names no unit."""
    with open_flow("memory", tmp_path, clock) as flow:
        add_units(flow)
        bogus = govflow.LedgerDraft(
            issue_id="unit:GHOST", issue_seq=1, trigger="add_unit", from_state=None, to_state="registered",
            actor="govflow", person=None, at=flow.now(), data={"name": "鬼", "level": "galaxy"},
        )
        flow.store.add_unit(govflow.Unit(id="GHOST", name="鬼", level="county"), bogus)
        error = corruption(flow)
        assert error.seq == 5 and "does not name a unit" in error.problem


def _schema6_file(path: Path) -> None:
    """A file as govflow before the registry entered the ledger wrote it: units without entries."""
    from govflow._stores.sqlite.schema import MIGRATIONS, split_script  # Private on purpose: an older schema

    db = sqlite3.connect(path)
    for version, script in enumerate(MIGRATIONS[:6], start=1):
        for statement in split_script(script):
            db.execute(statement)
        db.execute(f"PRAGMA user_version = {version}")
    db.execute("INSERT INTO units VALUES ('OFFICE', '办公室', 'prefecture', NULL, 1, 0)")
    db.execute("INSERT INTO units VALUES ('XIANGYUN', '祥云县', 'county', 'OFFICE', 0, 1)")
    db.commit()
    db.close()


def test_units_of_an_older_file_enter_the_ledger_once_on_upgrade(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "old.sqlite3"
    _schema6_file(path)
    with govflow.open(str(path), clock=clock) as flow:
        entries = flow.ledger()
        assert [(e.seq, e.issue_id, e.data.get("supervisor")) for e in entries] == [
            (1, "unit:OFFICE", True), (2, "unit:XIANGYUN", False),
        ]
        assert "adopted" in entries[0].data["note"]
        issue = flow.assign("道路积水", lead="XIANGYUN", due="2026-03-20", by="OFFICE")
        flow.accept(issue.id, by="XIANGYUN")
        assert flow.verify_ledger().entries == 4
    with govflow.open(str(path), clock=clock) as flow:  # a second open adopts nothing more
        assert flow.verify_ledger().entries == 4
        tamper(flow, "UPDATE units SET supervisor = 1 WHERE id = 'XIANGYUN'")
        assert "unit XIANGYUN: its supervisor is True" in corruption(flow).problem


def test_govflow_s_own_actor_name_is_no_unit_id(flow: govflow.Govflow) -> None:
    """Steps by the actor ``govflow`` are govflow's own (the sweep's, the registry's): no unit may take its name."""
    before = snapshot(flow)
    for name in ("govflow", "GOVFLOW", "Govflow"):
        with pytest.raises(ValidationError, match="govflow's own actor name"):
            flow.add_unit(name, "冒名单位", level="county", supervisor=True)
    assert snapshot(flow) == before and [u.id for u in flow.units()] == ["OFFICE", "XIANGYUN", "BINCHUAN", "XIAZHUANG"]


PHASES = [("建机制", "2026-06-30"), ("见成效", "2026-12-31")]


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_a_unit_made_a_supervisor_for_a_while_is_found_by_what_it_did(
    kind: str, tmp_path: Path, clock: FakeClock
) -> None:
    """The row edited, steps taken under it, the row put back: the registry checks out, but the assign and the
    plan steps are held to the registry the ledger gives, and are named."""
    with open_flow(kind, tmp_path, clock) as flow:
        add_units(flow)
        tamper(flow, "UPDATE units SET supervisor = TRUE WHERE id = 'BINCHUAN'".replace(
            "TRUE", "1" if kind == "sqlite" else "TRUE"))
    with open_flow(kind, tmp_path, clock) as flow:
        issue = flow.assign("冒办的问题", lead="XIANGYUN", due="2026-03-20", by="BINCHUAN")
        tamper(flow, "UPDATE units SET supervisor = FALSE WHERE id = 'BINCHUAN'".replace(
            "FALSE", "0" if kind == "sqlite" else "FALSE"))
        error = corruption(flow)
        assert error.issue_id == issue.id and "'BINCHUAN' may not assign" in error.problem, error


def test_steps_of_a_unit_no_entry_registers_are_named(tmp_path: Path, clock: FakeClock) -> None:
    """A units row slipped in, a plan drawn up under it, the row deleted again."""
    with open_flow("sqlite", tmp_path, clock) as flow:
        add_units(flow)
        tamper(flow, "INSERT INTO units VALUES ('SHADOW', '影子办', 'prefecture', NULL, 1, 99)")
    with open_flow("sqlite", tmp_path, clock) as flow:
        plan = flow.add_plan("影子方案", by="SHADOW", phases=PHASES)
        tamper(flow, "DELETE FROM units WHERE id = 'SHADOW'")
        error = corruption(flow)
        assert error.issue_id == plan.id and "'SHADOW' is no registered unit" in error.problem, error


def test_target_steps_are_held_to_the_units_roles(tmp_path: Path, clock: FakeClock) -> None:
    """report_progress is the target unit's; accept_target a supervisor's or the unit above's. A county made a
    supervisor for a moment to accept another county's target is found."""
    with open_flow("sqlite", tmp_path, clock) as flow:
        add_units(flow)
        plan = flow.activate_plan(flow.add_plan("方案", by="OFFICE", phases=PHASES).id, by="OFFICE")
        target = flow.add_target(plan.id, "覆盖", unit="XIANGYUN", phase="建机制", by="OFFICE")
        flow.report_progress(target.id, by="XIANGYUN", progress=100, note="完成")
        flow.verify_ledger()
        tamper(flow, "UPDATE units SET supervisor = 1 WHERE id = 'BINCHUAN'")
    with open_flow("sqlite", tmp_path, clock) as flow:
        flow.accept_target(target.id, by="BINCHUAN")
        tamper(flow, "UPDATE units SET supervisor = 0 WHERE id = 'BINCHUAN'")
        error = corruption(flow)
        assert error.issue_id == target.id and "BINCHUAN may not accept_target" in error.problem, error


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_a_units_row_written_without_its_entry_is_refused_by_the_schema(
    kind: str, tmp_path: Path, clock: FakeClock
) -> None:
    """What a process of an older govflow, still running after the upgrade, would write: refused loudly
    (the guards stop mistakes; an intruder who drops them is found by verify_ledger(), above)."""
    with open_flow(kind, tmp_path, clock) as flow:
        add_units(flow)
        statements = ("INSERT INTO units (id, name, level, parent, supervisor) VALUES ('LATE', '迟到县', 'county', "
                      "'OFFICE', {false})", "UPDATE units SET supervisor = {true} WHERE id = 'BINCHUAN'",
                      "DELETE FROM units WHERE id = 'XIAZHUANG'")
        for statement in statements:
            if kind == "sqlite":
                db = sqlite3.connect(tmp_path / "flow.sqlite3")
                with pytest.raises(sqlite3.DatabaseError, match=r"upgrade govflow|does not change"):
                    db.execute(statement.format(false=0, true=1))
                db.close()
            else:
                import psycopg
                from govflow_postgres.testing import server_dsn

                with psycopg.connect(server_dsn(), autocommit=True) as conn:
                    conn.execute(psycopg.sql.SQL("SET search_path TO {}").format(
                        psycopg.sql.Identifier(flow.store.schema)))  # type: ignore[attr-defined]
                    with pytest.raises(psycopg.errors.RaiseException, match=r"upgrade govflow|does not change"):
                        conn.execute(statement.format(false="false", true="true").encode())
        assert [u.id for u in flow.units()] == ["OFFICE", "XIANGYUN", "BINCHUAN", "XIAZHUANG"]
        assert flow.unit("BINCHUAN").supervisor is False
        flow.verify_ledger()


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_two_processes_registering_the_same_unit_at_once_write_it_once(
    kind: str, tmp_path: Path, clock: FakeClock
) -> None:
    import threading

    with open_flow(kind, tmp_path, clock) as first:
        add_units(first)
        second = govflow.open(_reopen(kind, first, tmp_path), clock=clock)
        barrier, errors = threading.Barrier(2), []

        def register(flow: govflow.Govflow) -> None:
            barrier.wait()
            try:
                for n in range(20):
                    flow.add_unit(f"T{n:02d}", f"第{n}镇", level="township", parent="XIANGYUN")
            except Exception as exc:  # reported below, in the test's thread
                errors.append(exc)

        threads = [threading.Thread(target=register, args=(flow,)) for flow in (first, second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        second.close()
        assert errors == []
        registrations = [e.issue_id for e in first.ledger() if e.trigger == "add_unit"]
        assert len(registrations) == len(set(registrations)) == 4 + 20
        assert first.verify_ledger().entries == 4 + 20


def _reopen(kind: str, flow: govflow.Govflow, tmp_path: Path) -> govflow.Store:
    """Another connection (another process's, in a deployment) to the same database."""
    if kind == "sqlite":
        return govflow.SQLiteStore(tmp_path / "flow.sqlite3")
    from govflow_postgres import PostgresStore
    from govflow_postgres.testing import server_dsn

    return PostgresStore(server_dsn(), schema=flow.store.schema)  # type: ignore[attr-defined]
