"""``PostgresStore``: the govflow storage contract on PostgreSQL (psycopg 3 with a connection pool).

How many processes share one database without losing, duplicating or
reordering a step:

* **Optimistic version check.** An update is ``UPDATE issues ... WHERE id = %s
  AND version = %s``; under READ COMMITTED a concurrent writer's committed
  row is re-checked, so exactly one of two racing commands updates the row and
  the other raises :class:`govflow.ConcurrentUpdateError` with nothing written.
* **One chain head.** After the issue rows, a transaction locks the single
  ``chain_head`` row (``SELECT ... FOR UPDATE``), seals its ledger entries after
  it, writes them and moves the head. Only that row serialises writers, and
  only from the lock to the commit: the global sequence and the hash chain stay
  one unbroken chain. Issue rows are always locked before the head (and, in
  :meth:`PostgresStore.commit_many`, in id order), so two writers never wait
  on each other in a cycle.
* **Outbox claims** take rows with ``FOR UPDATE SKIP LOCKED`` and stamp a lease
  (``claimed_until``): two delivery workers never hold the same row, and the
  row of a worker that died is claimed again once its lease has run out.

A step on one existing issue (nearly every command) is one statement, so one
round trip and its own transaction: the version-checked ``UPDATE``, then the
head lock, the sealed entry, its outbox rows and the moved head. Commands that
create issues, change cooperating units or write several issues (the sweep)
send their statements in pipeline mode between ``BEGIN`` and ``COMMIT``.

By default (``group_commit=True``) a command commits with
``synchronous_commit`` off, so the chain head is free again as soon as the
commit is written, and then runs a small synchronous transaction that writes
to the log and so waits for the flush: the caller hears of a step only once it
is durable, and the flushes of many processes are shared. Another process can
see a step up to one flush before it is durable; whatever it writes on top
comes later in the log and is flushed after it. With ``group_commit=False``
the head is held until the commit is on disk, so writers take turns at the
pace of the disk's flushes (docs/postgres.md compares the two).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Final

import psycopg
import psycopg.errors
from psycopg import sql
from psycopg_pool import ConnectionPool, PoolTimeout

from govflow import (
    FactsQuery,
    Issue,
    IssueQuery,
    LedgerEntry,
    OutboxRow,
    OverdueAtEnd,
    StoreError,
    UnitFacts,
    ValidationError,
)
from govflow.storage import build_facts

from ._facts_sql import FACTS_SQL, facts_args, parse_facts_rows
from ._plans import Plans
from ._rows import (
    _ISSUE_COLUMNS,
    _LEDGER_COLUMNS,
    _OUTBOX_COLUMNS,
    _PAGE,
    _Conn,
    _entry,
    _issue,
    _outbox_row,
)
from ._rows import _issue_row as _issue_row  # benchmarks/bench_postgres.py builds issue rows with it
from ._schema import SCHEMA_VERSION, migrate
from ._units import Units
from ._url import DEFAULT_POOL_SIZE, DEFAULT_SCHEMA, check_pool_size, check_schema, describe, parse_target
from ._writes import Writes

__all__ = ["PostgresStore"]

#: How many facts queries' overdue issues are kept (a bulletin asks for them right after the facts).
_KEPT: Final = 4
# For the facts statements, in their own transaction: no JIT (it would take longer to compile the plan than
# to run it), room to sort and hash a period's entries in memory, and no nested loops where a join can hash
# (row counts of CTEs are guesses; a nested loop over two sets each guessed small can take minutes).
_FACTS_SETTINGS: Final = (
    "SELECT set_config('jit', 'off', true), set_config('work_mem', '64MB', true),"
    " set_config('enable_nestloop', 'off', true)"
)


class PostgresStore(Writes, Plans, Units):
    """A :class:`govflow.Store` on PostgreSQL, shared by any number of processes.

    ``dsn`` is a libpq URL (``postgresql://user:password@host:5432/dbname``)
    or key=value string. ``schema`` names the PostgreSQL schema that holds
    govflow's tables (default: the URL's ``?schema=`` option, else ``public``);
    ``pool_size`` is the most connections this store opens (default: the URL's
    ``?pool_size=`` option, else 4); ``timeout`` is how many seconds a command
    waits for a free connection. ``group_commit`` (default: the URL's
    ``?group_commit=``, else on) lets the chain head go at ``COMMIT`` rather than
    after the commit is flushed to disk, so that writers in several processes share
    disk flushes; ``False`` holds it through the flush (see docs/postgres.md).
    The schema is created or migrated forward on open (see
    :func:`govflow_postgres.migrate`). One store may be used from several
    threads.
    """

    schema_version = SCHEMA_VERSION

    def __init__(
        self,
        dsn: str,
        *,
        schema: str | None = None,
        pool_size: int | None = None,
        group_commit: bool | None = None,
        timeout: float = 30.0,
    ) -> None:
        target = parse_target(dsn)
        chosen = group_commit if group_commit is not None else target.group_commit
        if chosen is not None and not isinstance(chosen, bool):
            raise ValidationError("group_commit", f"got {chosen!r}", "True or False")
        self.group_commit = True if chosen is None else chosen
        self.schema = check_schema(schema if schema is not None else target.schema or DEFAULT_SCHEMA)
        self.pool_size = check_pool_size(pool_size if pool_size is not None else target.pool_size or DEFAULT_POOL_SIZE)
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
            raise ValidationError("timeout", f"got {timeout!r}", "a number of seconds > 0")
        self._conninfo = target.conninfo
        self._pause_before_commit = None  # see Writes
        # the overdue issues of the last few facts queries, with the chain head they were read at
        self._overdue: dict[FactsQuery, tuple[int, list[OverdueAtEnd]]] = {}
        self._lock = threading.Lock()
        self.where = f"{describe(target.conninfo)} (schema {self.schema})"
        try:
            with psycopg.connect(self._conninfo, autocommit=True) as conn:
                #: The schema version found on open (0: the schema was created by this store).
                self.migrated_from = migrate(conn, self.schema, self.where)
        except psycopg.OperationalError as exc:
            raise StoreError(f"cannot connect to PostgreSQL at {self.where}: {str(exc).strip()}") from exc
        except psycopg.Error as exc:
            raise StoreError(f"cannot set up govflow's tables at {self.where}: {str(exc).strip()}") from exc
        self._pool: ConnectionPool[_Conn] = ConnectionPool(
            self._conninfo,
            min_size=1,
            max_size=self.pool_size,
            kwargs={"autocommit": True},
            configure=self._configure,
            timeout=timeout,
            name=f"govflow-{self.schema}",
            open=True,
        )

    @classmethod
    def from_url(cls, url: str) -> PostgresStore:
        """The store for a URL given to ``govflow.open`` (options ``?schema=`` and ``?pool_size=``)."""
        return cls(url)

    def __repr__(self) -> str:
        extra = "" if self.group_commit else ", group_commit=False"
        return f"PostgresStore({self.where!r}, pool_size={self.pool_size}{extra})"

    def _configure(self, conn: _Conn) -> None:
        conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(self.schema)))
        conn.execute("SET TIME ZONE 'UTC'")

    @contextmanager
    def _connection(self) -> Iterator[_Conn]:
        """A pooled connection (autocommit); connection failures become :class:`govflow.StoreError`."""
        try:
            with self._pool.connection() as conn:
                yield conn
        except psycopg.errors.TransactionRollback:
            raise  # a deadlock victim: the caller runs the transaction again
        except psycopg.DataError as exc:  # e.g. NUL in a text: refused before anything was written
            raise ValidationError(
                "value", str(exc).strip(), "values PostgreSQL can store: text without NUL (\\x00) characters, "
                "numbers within range"
            ) from None
        except PoolTimeout as exc:
            raise StoreError(
                f"no free connection to {self.where} within {self._pool.timeout} s "
                f"(pool_size={self.pool_size}): {exc}"
            ) from exc
        except psycopg.OperationalError as exc:
            raise StoreError(f"PostgreSQL at {self.where} failed: {str(exc).strip()}") from exc

    # -- units, lifecycles --------------------------------------------------------------------

    def save_lifecycle(self, name: str, version: int, definition: str) -> None:
        """Keep a lifecycle definition (replacing one of the same name and version)."""
        with self._connection() as conn:
            conn.execute(
                "INSERT INTO lifecycles (name, version, definition) VALUES (%s, %s, %s)"
                " ON CONFLICT (name, version) DO UPDATE SET definition = EXCLUDED.definition",
                (name, version, definition),
            )

    def lifecycles(self) -> list[tuple[str, int, str]]:
        """The stored (name, version, definition JSON) triples."""
        with self._connection() as conn:
            rows = conn.execute("SELECT name, version, definition FROM lifecycles ORDER BY name, version").fetchall()
        return [(r[0], int(r[1]), r[2]) for r in rows]

    # -- issues -------------------------------------------------------------------------------

    def load(self, issue_id: str) -> Issue | None:
        """The current snapshot of one issue, or None."""
        with self._connection() as conn:
            row = conn.execute(f"SELECT {_ISSUE_COLUMNS} FROM issues WHERE id = %s", (issue_id,)).fetchone()
        return None if row is None else _issue(row)

    def query(self, query: IssueQuery) -> list[Issue]:
        """The issues matching ``query``, ordered by id."""
        where: list[str] = []
        args: list[Any] = []
        if query.state is not None:
            where.append("state = %s")
            args.append(query.state)
        if query.states is not None:
            where.append("state = ANY(%s::text[])")
            args.append(list(query.states))
        if query.unit is not None:
            where.append("(lead = %s OR id IN (SELECT issue_id FROM cooperation WHERE unit = %s))")
            args.extend((query.unit, query.unit))
        if query.due_before is not None:
            where.append("due < %s")
            args.append(query.due_before)
        if query.escalation_below is not None:
            where.append("escalation_steps < %s")
            args.append(query.escalation_below)
        text = f"SELECT {_ISSUE_COLUMNS} FROM issues"
        if where:
            text += " WHERE " + " AND ".join(where)
        with self._connection() as conn:
            rows = conn.execute((text + " ORDER BY id").encode(), args).fetchall()
        issues = [_issue(row) for row in rows]
        if query.updated_between is not None:
            # updated_at keeps its own offset as text: compare the instants in Python.
            issues = [i for i in issues if query.matches(i)]
        return issues

    def issue_versions(self) -> Mapping[str, tuple[int, str]]:
        """Each issue's stored (version, state), and each plan's and target's."""
        with self._connection() as conn:
            rows = conn.execute(
                "SELECT id, version, state FROM issues UNION ALL SELECT id, version, state FROM plan_rows"
            ).fetchall()
        return {r[0]: (r[1], r[2]) for r in rows}

    # -- the ledger ---------------------------------------------------------------------------

    def ledger(
        self,
        issue_id: str | None = None,
        *,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        trigger: str | None = None,
    ) -> Iterator[LedgerEntry]:
        """Ledger entries in sequence order (see :meth:`govflow.Store.ledger`).

        Read in pages of 5,000 by sequence number, each page on a connection that goes back to the
        pool before its entries are handed out: walking a million entries holds no connection.
        """
        where: list[str] = []
        args: list[Any] = []
        if issue_id is not None:
            where.append("issue_id = %s")
            args.append(issue_id)
        if trigger is not None:
            where.append("trigger = %s")
            args.append(trigger)
        if since is not None:
            where.append("at_utc >= %s")
            args.append(since)
        if until is not None:
            where.append("at_utc < %s")
            args.append(until)
        where.append("seq > %s")
        text = f"SELECT {_LEDGER_COLUMNS} FROM ledger WHERE {' AND '.join(where)} ORDER BY seq LIMIT {_PAGE}"
        last = 0
        while True:
            with self._connection() as conn:
                rows = conn.execute(text.encode(), (*args, last)).fetchall()
            for row in rows:
                yield _entry(row)
            if len(rows) < _PAGE:
                return
            last = int(rows[-1][0])

    def entry(self, seq: int) -> LedgerEntry | None:
        """One ledger entry by its global sequence number."""
        with self._connection() as conn:
            row = conn.execute(f"SELECT {_LEDGER_COLUMNS} FROM ledger WHERE seq = %s", (seq,)).fetchone()
        return None if row is None else _entry(row)

    def chain_head(self) -> tuple[int, str]:
        """The (seq, hash) of the last ledger entry, kept in its own row."""
        with self._connection() as conn:
            row = conn.execute("SELECT seq, hash FROM chain_head WHERE id = 1").fetchone()
        assert row is not None
        return int(row[0]), str(row[1])

    def period_facts(self, query: FactsQuery) -> dict[str, UnitFacts]:
        """Per-unit facts of a period, aggregated in one SQL statement (see :meth:`govflow.Store.period_facts`)."""
        return self._facts(query)[0]

    def overdue_at_end(self, query: FactsQuery) -> list[OverdueAtEnd]:
        """The issues overdue at the period's end (see :meth:`govflow.Store.overdue_at_end`).

        They come with the facts: those of the last few queries are kept for as long as the chain head
        stays where it was (a bulletin asks for them right after the facts).
        """
        with self._connection() as conn:
            head = self._head_seq(conn)
        with self._lock:
            kept = self._overdue.get(query)
        if kept is not None and kept[0] == head:
            return list(kept[1])
        return list(self._facts(query)[1])

    def _facts(self, query: FactsQuery) -> tuple[dict[str, UnitFacts], list[OverdueAtEnd]]:
        """The facts and the overdue issues of one query, read with the chain head in one snapshot."""
        with self._connection() as conn, conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            conn.execute(_FACTS_SETTINGS)
            rows = conn.execute(FACTS_SQL, facts_args(query)).fetchall()
            head = self._head_seq(conn)
        counts, escalations, overdue = parse_facts_rows(rows)
        with self._lock:
            self._overdue[query] = (head, overdue)
            while len(self._overdue) > _KEPT:
                del self._overdue[next(iter(self._overdue))]
        return build_facts(counts, escalations), overdue

    @staticmethod
    def _head_seq(conn: _Conn) -> int:
        row = conn.execute("SELECT seq FROM chain_head WHERE id = 1").fetchone()
        assert row is not None
        return int(row[0])

    # -- the outbox ---------------------------------------------------------------------------

    def claim_outbox(self, now: dt.datetime, lease: dt.timedelta, limit: int) -> list[OutboxRow]:
        """Claim due pending rows no other worker holds, with ``FOR UPDATE SKIP LOCKED`` and a lease."""
        with self._connection() as conn:
            rows = conn.execute(
                f"UPDATE outbox SET claimed_until = %(until)s WHERE id IN ("
                " SELECT id FROM outbox WHERE status = 'pending' AND next_attempt_at <= %(now)s"
                " AND (claimed_until IS NULL OR claimed_until <= %(now)s)"
                " ORDER BY id LIMIT %(limit)s FOR UPDATE SKIP LOCKED)"
                f" RETURNING {_OUTBOX_COLUMNS}",
                {"now": now, "until": now + lease, "limit": limit},
            ).fetchall()
        return sorted((_outbox_row(row) for row in rows), key=lambda row: row.id)

    def finish_outbox(self, row_id: int, *, error: str | None, retry_at: dt.datetime | None) -> None:
        """Record an attempt: done (no ``error``), pending again at ``retry_at``, or dead."""
        with self._connection() as conn:
            if error is None:
                conn.execute(
                    "UPDATE outbox SET status = 'done', attempts = attempts + 1, claimed_until = NULL WHERE id = %s",
                    (row_id,),
                )
            else:
                conn.execute(
                    "UPDATE outbox SET status = %s, attempts = attempts + 1, claimed_until = NULL,"
                    " last_error = %s, next_attempt_at = coalesce(%s, next_attempt_at) WHERE id = %s",
                    ("pending" if retry_at else "dead", error, retry_at, row_id),
                )

    def release_outbox(self, row_id: int) -> None:
        """Give a claimed row back untouched."""
        with self._connection() as conn:
            conn.execute("UPDATE outbox SET claimed_until = NULL WHERE id = %s", (row_id,))

    def outbox(self, status: str) -> list[OutboxRow]:
        """The rows in ``status`` (``pending``, ``done``, ``dead``), by id."""
        with self._connection() as conn:
            rows = conn.execute(
                f"SELECT {_OUTBOX_COLUMNS} FROM outbox WHERE status = %s ORDER BY id", (status,)
            ).fetchall()
        return [_outbox_row(row) for row in rows]

    def requeue_outbox(self, row_ids: list[int] | None, now: dt.datetime) -> int:
        """Make dead rows (all, or those listed) pending again with no attempts; return how many."""
        text = "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = %s WHERE status = 'dead'"
        args: list[Any] = [now]
        if row_ids is not None:
            text += " AND id = ANY(%s::bigint[])"
            args.append(list(row_ids))
        with self._connection() as conn:
            return conn.execute(text.encode(), args).rowcount

    def close(self) -> None:
        """Close every pooled connection."""
        self._pool.close()
