"""The SQLite store's schema: one migration per version, applied forward on open.

The version lives in ``PRAGMA user_version``; a file written by a newer govflow
is refused. The ledger table refuses UPDATE and DELETE through triggers, and the
chain head is kept in its own table so that entries cut from the end are noticed.
The benchmarks build their raw-SQLite baselines from ``MIGRATIONS`` (through
``govflow._stores.sqlite.store._MIGRATIONS``), so that they measure the same tables and indexes.
"""

from __future__ import annotations

import sqlite3
from typing import Final

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "UNITS_IN_LEDGER", "split_script"]

#: The schema, one script per version: version ``n`` is reached by running script ``n - 1``.
MIGRATIONS: Final = (
    # 1: the first schema.
    """
    CREATE TABLE units (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        level TEXT NOT NULL,
        parent TEXT REFERENCES units(id),
        supervisor INTEGER NOT NULL,
        position INTEGER NOT NULL
    );
    CREATE TABLE issues (
        id TEXT PRIMARY KEY,
        title TEXT NOT NULL,
        description TEXT NOT NULL,
        category TEXT,
        lead TEXT NOT NULL,
        cooperating TEXT NOT NULL,
        responsible TEXT,
        due TEXT NOT NULL,
        original_due TEXT NOT NULL,
        state TEXT NOT NULL,
        version INTEGER NOT NULL,
        lifecycle TEXT NOT NULL,
        lifecycle_version INTEGER NOT NULL,
        rework_count INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        accepted_at TEXT,
        extension TEXT,
        extension_count INTEGER NOT NULL
    );
    CREATE INDEX issues_state_due ON issues(state, due);
    CREATE INDEX issues_lead ON issues(lead);
    CREATE TABLE cooperation (
        unit TEXT NOT NULL,
        issue_id TEXT NOT NULL,
        PRIMARY KEY (unit, issue_id)
    ) WITHOUT ROWID;
    CREATE TABLE ledger (
        seq INTEGER PRIMARY KEY,
        issue_id TEXT NOT NULL,
        issue_seq INTEGER NOT NULL,
        trigger TEXT NOT NULL,
        from_state TEXT,
        to_state TEXT NOT NULL,
        actor TEXT NOT NULL,
        person TEXT,
        at TEXT NOT NULL,
        data TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL,
        UNIQUE (issue_id, issue_seq)
    );
    CREATE INDEX ledger_at ON ledger(at);
    CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger
        BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
    CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger
        BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
    CREATE TABLE chain_head (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        seq INTEGER NOT NULL,
        hash TEXT NOT NULL
    );
    INSERT INTO chain_head VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
    CREATE TABLE counters (scope TEXT PRIMARY KEY, value INTEGER NOT NULL);
    CREATE TABLE lifecycles (
        name TEXT NOT NULL,
        version INTEGER NOT NULL,
        definition TEXT NOT NULL,
        PRIMARY KEY (name, version)
    );
    """,
    # 2: the notification outbox. Times are UTC text of fixed width, so they compare as text.
    """
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY,
        seq INTEGER NOT NULL REFERENCES ledger(seq),
        hook TEXT NOT NULL,
        plugin TEXT NOT NULL,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        next_attempt_at TEXT NOT NULL,
        claimed_until TEXT,
        last_error TEXT,
        created_at TEXT NOT NULL,
        UNIQUE (seq, hook, plugin)
    );
    CREATE INDEX outbox_due ON outbox(status, next_attempt_at);
    """,
    # 3: working-day due dates and the escalation ladder.
    """
    ALTER TABLE issues ADD COLUMN due_provisional INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE issues ADD COLUMN due_basis TEXT;
    ALTER TABLE issues ADD COLUMN escalation_level INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE issues ADD COLUMN escalation_steps INTEGER NOT NULL DEFAULT 0;
    """,
    # 4: period facts find a period's issues in the time index without reading the entries.
    """
    CREATE INDEX ledger_at_issue ON ledger(at, issue_id);
    DROP INDEX ledger_at;
    """,
    # 5: work plans and targets (rows derived from their ledger entries), and the issues linked to targets,
    #    indexed from the assign entries by a trigger so that every write path keeps them.
    """
    CREATE TABLE plan_rows (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        plan_id TEXT NOT NULL,
        version INTEGER NOT NULL,
        state TEXT NOT NULL,
        body TEXT NOT NULL,
        parent TEXT
    );
    CREATE INDEX plan_rows_plan ON plan_rows(plan_id);
    CREATE INDEX plan_rows_parent ON plan_rows(parent);
    CREATE TABLE target_links (
        issue_id TEXT PRIMARY KEY,
        target_id TEXT NOT NULL
    );
    CREATE INDEX target_links_target ON target_links(target_id);
    CREATE TRIGGER ledger_target_link AFTER INSERT ON ledger
        WHEN NEW.trigger = 'assign' AND json_extract(NEW.data, '$.target') IS NOT NULL
        BEGIN INSERT OR IGNORE INTO target_links VALUES (NEW.issue_id, json_extract(NEW.data, '$.target')); END;
    """,
    # 6: the field loop of issue-list version 2 (会签, 挂起, 转办, 回访, 并案, 佐证材料), as JSON; NULL when unused.
    """
    ALTER TABLE issues ADD COLUMN field TEXT;
    """,
    # 7: the unit registry in the ledger. No table changes: the store gives every unit already registered
    # its ledger entry in Python (``_adopt_units``), in the same transaction.
    # The imported rows' external ids, found by index (two imports of one list at once: the second writes
    # nothing). Guards: a units row needs its entry first (a process of an older govflow, still running, fails loudly
    # instead of writing a unit verify_ledger() would flag), and a registered unit does not change.
    """
    CREATE TRIGGER units_registered BEFORE INSERT ON units
        WHEN NOT EXISTS (SELECT 1 FROM ledger WHERE issue_id = 'unit:' || NEW.id AND issue_seq = 1)
        BEGIN SELECT RAISE(ABORT, 'a unit is registered with its ledger entry (unit:<id>): upgrade govflow'); END;
    CREATE TRIGGER units_no_update BEFORE UPDATE ON units
        BEGIN SELECT RAISE(ABORT, 'a registered unit does not change'); END;
    CREATE TRIGGER units_no_delete BEFORE DELETE ON units
        BEGIN SELECT RAISE(ABORT, 'a registered unit does not change'); END;
    CREATE INDEX ledger_external_id ON ledger (json_extract(data, '$.external_id'))
        WHERE trigger = 'assign' AND json_extract(data, '$.external_id') IS NOT NULL;
    """,
)
#: The version whose upgrade adopts the units registered before it into the ledger.
UNITS_IN_LEDGER: Final = 7
#: The schema version this govflow writes and reads.
SCHEMA_VERSION: Final = len(MIGRATIONS)


def split_script(script: str) -> list[str]:
    """Statements of a migration script (triggers contain ';' inside BEGIN … END)."""
    statements: list[str] = []
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        statements.append(buffer.strip())
    return statements
