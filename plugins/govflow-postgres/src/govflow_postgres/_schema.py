"""The PostgreSQL schema: forward migrations, run on open under an advisory lock.

Every table lives in one PostgreSQL schema (``public`` unless the URL or the
constructor names another), so several govflow deployments, or test runs, can
share one database. ``schema_version`` holds one row per applied migration.
"""

from __future__ import annotations

import time
from typing import Final

import psycopg
from psycopg import sql

from govflow import SchemaVersionError

from ._units import adopt_units

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "migrate"]

#: The first argument of the two-key advisory lock migrations take (the second is the schema's hash).
LOCK_CLASS: Final = 0x6F76  # "gv"

MIGRATIONS: Final = (
    # 1: the first schema: the tables of the SQLite store at its version 3, in PostgreSQL types.
    """
    CREATE TABLE units (
        id text PRIMARY KEY,
        name text NOT NULL,
        level text NOT NULL,
        parent text REFERENCES units (id),
        supervisor boolean NOT NULL,
        position bigint GENERATED ALWAYS AS IDENTITY
    );
    CREATE TABLE issues (
        id text PRIMARY KEY,
        title text NOT NULL,
        description text NOT NULL,
        category text,
        lead text NOT NULL,
        cooperating text[] NOT NULL,
        responsible text,
        due date NOT NULL,
        original_due date NOT NULL,
        state text NOT NULL,
        version integer NOT NULL,
        lifecycle text NOT NULL,
        lifecycle_version integer NOT NULL,
        rework_count integer NOT NULL,
        created_at text NOT NULL,
        updated_at text NOT NULL,
        accepted_at text,
        extension text,
        extension_count integer NOT NULL,
        due_provisional boolean NOT NULL,
        due_basis text,
        escalation_level integer NOT NULL,
        escalation_steps integer NOT NULL
    );
    CREATE INDEX issues_state_due ON issues (state, due);
    CREATE INDEX issues_lead ON issues (lead);
    CREATE TABLE cooperation (
        unit text NOT NULL,
        issue_id text NOT NULL,
        PRIMARY KEY (unit, issue_id)
    );
    CREATE INDEX cooperation_issue ON cooperation (issue_id);
    CREATE TABLE ledger (
        seq bigint PRIMARY KEY,
        issue_id text NOT NULL,
        issue_seq integer NOT NULL,
        trigger text NOT NULL,
        from_state text,
        to_state text NOT NULL,
        actor text NOT NULL,
        person text,
        at text NOT NULL,
        at_utc timestamptz NOT NULL,
        data text NOT NULL,
        prev_hash text NOT NULL,
        hash text NOT NULL,
        UNIQUE (issue_id, issue_seq)
    );
    CREATE INDEX ledger_at ON ledger (at_utc);
    CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'the ledger is append-only';
    END
    $$;
    CREATE TRIGGER ledger_no_update BEFORE UPDATE OR DELETE ON ledger
        FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
    CREATE TRIGGER ledger_no_truncate BEFORE TRUNCATE ON ledger
        FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();
    CREATE TABLE chain_head (
        id integer PRIMARY KEY CHECK (id = 1),
        seq bigint NOT NULL,
        hash text NOT NULL
    );
    INSERT INTO chain_head VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
    CREATE TABLE counters (scope text PRIMARY KEY, value bigint NOT NULL);
    CREATE TABLE lifecycles (
        name text NOT NULL,
        version integer NOT NULL,
        definition text NOT NULL,
        PRIMARY KEY (name, version)
    );
    CREATE TABLE outbox (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        seq bigint NOT NULL REFERENCES ledger (seq),
        hook text NOT NULL,
        plugin text NOT NULL,
        status text NOT NULL,
        attempts integer NOT NULL,
        next_attempt_at timestamptz NOT NULL,
        claimed_until timestamptz,
        last_error text,
        created_at timestamptz NOT NULL,
        UNIQUE (seq, hook, plugin)
    );
    CREATE INDEX outbox_pending ON outbox (id) WHERE status = 'pending';
    CREATE INDEX outbox_status ON outbox (status, id);
    """,
    # 2: a failed version check aborts the transaction from inside the statement (SQLSTATE GF409), so a
    #    whole command goes to the server in one round trip, COMMIT included.
    """
    CREATE FUNCTION govflow_stale(issue text, expected integer) RETURNS integer LANGUAGE plpgsql VOLATILE AS $$
    BEGIN
        RAISE EXCEPTION 'issue % is not at version %', issue, expected
            USING ERRCODE = 'GF409', DETAIL = issue, HINT = expected::text;
    END
    $$;
    """,
    # 3: period facts find a period's issues in the time index without reading the entries (index-only).
    """
    CREATE INDEX IF NOT EXISTS ledger_at_issue ON ledger (at_utc, issue_id);
    DROP INDEX ledger_at;
    """,
    # 4: work plans and targets (rows derived from their ledger entries), and the issues linked to targets,
    #    indexed from the assign entries by a trigger so that every write path keeps them.
    """
    CREATE TABLE plan_rows (
        id text PRIMARY KEY,
        kind text NOT NULL,
        plan_id text NOT NULL,
        version integer NOT NULL,
        state text NOT NULL,
        body text NOT NULL,
        parent text
    );
    CREATE INDEX plan_rows_plan ON plan_rows (plan_id);
    CREATE INDEX plan_rows_parent ON plan_rows (parent);
    CREATE TABLE target_links (
        issue_id text PRIMARY KEY,
        target_id text NOT NULL
    );
    CREATE INDEX target_links_target ON target_links (target_id);
    CREATE FUNCTION ledger_target_link() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF NEW.data::jsonb ? 'target' THEN
            INSERT INTO target_links VALUES (NEW.issue_id, NEW.data::jsonb ->> 'target') ON CONFLICT DO NOTHING;
        END IF;
        RETURN NULL;
    END
    $$;
    CREATE TRIGGER ledger_target_link AFTER INSERT ON ledger
        FOR EACH ROW WHEN (NEW.trigger = 'assign') EXECUTE FUNCTION ledger_target_link();
    """,
    # 5: the field loop of issue-list version 2 (JSON, NULL when unused) and evidence files by their SHA-256.
    """
    ALTER TABLE issues ADD COLUMN field text;
    CREATE TABLE blobs (
        sha256 text PRIMARY KEY,
        size bigint NOT NULL,
        data bytea NOT NULL
    );
    """,
    # 6: the unit registry in the ledger; no table changes: ``adopt_units`` gives every unit already
    # registered its entry, in the same transaction.
    # Guards, as on SQLite: a units row needs its entry first (an older process still running fails loudly),
    # and a registered unit does not change. The imported rows' external ids, found by index.
    """
    CREATE FUNCTION units_registered() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF NOT EXISTS (SELECT 1 FROM ledger WHERE issue_id = 'unit:' || NEW.id AND issue_seq = 1) THEN
            RAISE EXCEPTION 'a unit is registered with its ledger entry (unit:%): upgrade govflow', NEW.id;
        END IF;
        RETURN NEW;
    END
    $$;
    CREATE TRIGGER units_registered BEFORE INSERT ON units FOR EACH ROW EXECUTE FUNCTION units_registered();
    CREATE FUNCTION units_unchanged() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'a registered unit does not change';
    END
    $$;
    CREATE TRIGGER units_no_update BEFORE UPDATE OR DELETE ON units
        FOR EACH ROW EXECUTE FUNCTION units_unchanged();
    CREATE TRIGGER units_no_truncate BEFORE TRUNCATE ON units
        FOR EACH STATEMENT EXECUTE FUNCTION units_unchanged();
    CREATE INDEX ledger_external_id ON ledger ((data::jsonb ->> 'external_id')) WHERE trigger = 'assign';
    """,
)
#: The version whose upgrade adopts the units registered before it into the ledger.
UNITS_IN_LEDGER: Final = 6
#: The schema version this plugin writes and reads.
SCHEMA_VERSION: Final = len(MIGRATIONS)

_pause_while_migrating: float = 0.0  # tests widen the race window of two processes migrating at once


def migrate(conn: psycopg.Connection[tuple[object, ...]], schema: str, target: str) -> int:
    """Bring ``schema`` up to :data:`SCHEMA_VERSION`; return the version found before.

    Runs in one transaction holding ``pg_advisory_xact_lock``, so of two
    processes opening a new database at once one migrates and the other waits,
    then finds the work done. A schema written by a newer version raises
    :class:`govflow.SchemaVersionError` and is left as it is.
    """
    name = sql.Identifier(schema)
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (LOCK_CLASS, schema))
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(name))
        conn.execute(sql.SQL("SET LOCAL search_path TO {}").format(name))
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_version ("
            " version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        row = conn.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()
        found = int(row[0]) if row is not None else 0  # type: ignore[call-overload]
        if found > SCHEMA_VERSION:
            raise SchemaVersionError(target, found, SCHEMA_VERSION)
        if _pause_while_migrating and found < SCHEMA_VERSION:
            time.sleep(_pause_while_migrating)
        for version in range(found + 1, SCHEMA_VERSION + 1):
            conn.execute(MIGRATIONS[version - 1].encode())
            if version == UNITS_IN_LEDGER:
                adopt_units(conn)
            conn.execute("INSERT INTO schema_version (version) VALUES (%s)", (version,))
    return found
