"""Edit a flow's database behind govflow's back, as an intruder with the file or a database login would.

The append-only guards (the ledger's, the unit registry's) are dropped first (the intruder can do that
too); the statements run as they are, in SQLite's or PostgreSQL's dialect (the simple UPDATEs the tests
use read the same in both).
"""

from __future__ import annotations

import sqlite3

import pytest

import govflow


def tamper(flow: govflow.Govflow, *statements: str) -> None:
    """Run ``statements`` on the flow's own tables with the ledger's guard triggers dropped."""
    store = flow.store
    path = getattr(store, "path", None)
    if isinstance(path, str):
        db = sqlite3.connect(path)
        db.execute("DROP TRIGGER IF EXISTS ledger_no_update")
        db.execute("DROP TRIGGER IF EXISTS ledger_no_delete")
        for guard in ("units_registered", "units_no_update", "units_no_delete"):
            db.execute(f"DROP TRIGGER IF EXISTS {guard}")
        for statement in statements:
            db.execute(statement)
        db.commit()
        db.close()
        return
    schema = getattr(store, "schema", None)
    if not isinstance(schema, str):
        pytest.skip("the memory store has no file or tables to edit")
    import psycopg
    from govflow_postgres.testing import server_dsn

    with psycopg.connect(server_dsn(), autocommit=True) as conn:
        conn.execute(psycopg.sql.SQL("SET search_path TO {}").format(psycopg.sql.Identifier(schema)))
        conn.execute("DROP TRIGGER IF EXISTS ledger_no_update ON ledger")
        conn.execute("DROP TRIGGER IF EXISTS ledger_no_truncate ON ledger")
        for guard in ("units_registered", "units_no_update", "units_no_truncate"):
            conn.execute(psycopg.sql.SQL("DROP TRIGGER IF EXISTS {} ON units").format(psycopg.sql.Identifier(guard)))
        for statement in statements:
            conn.execute(statement.encode())


def corruption(flow: govflow.Govflow) -> govflow.LedgerCorrupted:
    """The error ``verify_ledger()`` raises (the test fails if it passes)."""
    with pytest.raises(govflow.LedgerCorrupted) as info:
        flow.verify_ledger()
    return info.value
