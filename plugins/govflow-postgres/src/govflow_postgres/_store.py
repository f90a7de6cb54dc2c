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

A command's statements go out in pipeline mode: one round trip for the issue
rows and the head lock, one for the ledger rows, the outbox rows, the head and
``COMMIT``.

The head is held until the commit is on disk, so writers take turns at the pace
of the disk's flushes. With ``group_commit=True`` the commit returns before its
flush (``synchronous_commit`` off for that transaction) and a small synchronous
transaction right after it waits for the flush, so the caller still hears of a
step only once it is durable, but the head is free again at once and the
flushes of many processes are shared (docs/postgres.md describes the trade).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from typing import Any, Final

import attrs
import psycopg
import psycopg.errors
from psycopg import sql
from psycopg_pool import ConnectionPool, PoolTimeout

from govflow import (
    ConcurrentUpdateError,
    ExtensionRequest,
    Issue,
    IssueQuery,
    LedgerEntry,
    OutboxRow,
    Responsible,
    StoreError,
    Unit,
    UnitFacts,
    UnitOfWork,
    ValidationError,
)
from govflow._facts import COUNTS, FactsQuery, OverdueAtEnd, build_facts, local_day
from govflow._ledger import LedgerDraft, canonical_bytes, canonical_json

from ._schema import SCHEMA_VERSION, migrate
from ._url import DEFAULT_POOL_SIZE, DEFAULT_SCHEMA, check_pool_size, check_schema, describe, parse_target

__all__ = ["PostgresStore"]

_Conn = psycopg.Connection[tuple[Any, ...]]

_ISSUE_COLUMNS: Final = (
    "id, title, description, category, lead, cooperating, responsible, due, original_due, "
    "state, version, lifecycle, lifecycle_version, rework_count, created_at, updated_at, "
    "accepted_at, extension, extension_count, due_provisional, due_basis, escalation_level, escalation_steps"
)
_ISSUE_NAMES: Final = [c.strip() for c in _ISSUE_COLUMNS.split(",")]
# The version check: a statement that writes the issue row or raises SQLSTATE GF409 (see migration 2).
_INSERT_ISSUE: Final = (
    f"WITH w AS (INSERT INTO issues ({_ISSUE_COLUMNS}) VALUES ({', '.join(['%s'] * len(_ISSUE_NAMES))})"
    " ON CONFLICT (id) DO NOTHING RETURNING 1)"
    " SELECT CASE WHEN EXISTS (SELECT 1 FROM w) THEN 1 ELSE govflow_stale(%s, 0) END"
)
_UPDATE_ISSUE: Final = (
    f"WITH w AS (UPDATE issues SET {', '.join(f'{c} = %s' for c in _ISSUE_NAMES[1:])}"
    " WHERE id = %s AND version = %s RETURNING 1)"
    " SELECT CASE WHEN EXISTS (SELECT 1 FROM w) THEN 1 ELSE govflow_stale(%s, %s) END"
)
# Append one entry: lock the head, seal after it in SQL (sha256 over the canonical bytes, whose only
# unknowns are prev_hash and seq, adjacent in the sorted keys), insert the entry and its outbox rows,
# move the head. The head is locked only inside this statement and until COMMIT, which follows in the
# same round trip.
_APPEND: Final = """
WITH h AS (SELECT seq, hash FROM chain_head WHERE id = 1 FOR UPDATE),
e AS (
    SELECT seq + 1 AS seq, hash AS prev,
        encode(sha256(%(prefix)s::bytea || convert_to(hash || '","seq":' || (seq + 1)::text || ',', 'UTF8')
                      || %(suffix)s::bytea), 'hex') AS hash
    FROM h
),
l AS (
    INSERT INTO ledger (seq, issue_id, issue_seq, trigger, from_state, to_state, actor, person, at, at_utc, data,
                        prev_hash, hash)
    SELECT seq, %(issue_id)s, %(issue_seq)s, %(trigger)s, %(from_state)s, %(to_state)s, %(actor)s, %(person)s,
        %(at)s, %(at_utc)s, %(data)s, prev, hash FROM e
),
o AS (
    INSERT INTO outbox (seq, hook, plugin, status, attempts, next_attempt_at, created_at)
    SELECT e.seq, n.hook, n.plugin, 'pending', 0, %(at_utc)s, %(at_utc)s
    FROM e, unnest(%(hooks)s::text[], %(plugins)s::text[]) WITH ORDINALITY AS n (hook, plugin, k) ORDER BY n.k
),
m AS (UPDATE chain_head SET seq = e.seq, hash = e.hash FROM e WHERE chain_head.id = 1)
SELECT seq, prev, hash FROM e
"""
_LEDGER_COLUMNS: Final = (
    "seq, issue_id, issue_seq, trigger, from_state, to_state, actor, person, at, data, prev_hash, hash"
)
#: Stand-ins for prev_hash and seq when the canonical bytes are cut around them.
_CUT_HASH: Final = "~" * 64
_CUT_SEQ: Final = -987654321
_CUT: Final = f'"prev_hash":"{_CUT_HASH}","seq":{_CUT_SEQ},'.encode()
_OUTBOX_COLUMNS: Final = "id, seq, hook, plugin, status, attempts, next_attempt_at, created_at, last_error"
_BUMP_COUNTER: Final = (
    "INSERT INTO counters (scope, value) VALUES (%s, 1)"
    " ON CONFLICT (scope) DO UPDATE SET value = counters.value + 1 RETURNING value"
)
#: Ledger rows per round trip when the ledger is read.
_PAGE: Final = 5000
#: How often a transaction that PostgreSQL chose as a deadlock victim is run again (it wrote nothing).
_DEADLOCK_RETRIES: Final = 5

# Per-unit facts of a period in one statement, after the SQLite store's first facts query (window functions);
# govflow._facts.compute_facts is the reference. Days are taken at UTC+8, as govflow._facts.local_day does.
_FACTS_CTES: Final = """
WITH relevant AS (
    -- Only issues that can count: touched since the period began, open where the lead must act, or
    -- due in the period.
    SELECT id FROM issues
    WHERE created_at::timestamptz < %(end)s
      AND (updated_at::timestamptz >= %(start)s
           OR original_due >= %(start_date)s AND original_due < %(end_date)s
           OR state = ANY(%(lead_states)s::text[]))
),
base AS (
    SELECT seq, issue_id, trigger, to_state, j, at_utc AS u,
        ((at_utc AT TIME ZONE INTERVAL '+08:00')::date)::text AS d,
        CASE trigger WHEN 'assign' THEN j ->> 'lead' WHEN 'reassign' THEN j ->> 'new_lead' END AS lead_set,
        CASE WHEN trigger = 'request_extension' THEN j ->> 'due' END AS req_set,
        CASE WHEN trigger NOT IN ('request_extension', 'deadline', 'approve_extension') THEN j ->> 'due' END
            AS due_set0
    FROM (SELECT seq, issue_id, trigger, to_state, at_utc, data::jsonb AS j FROM ledger
          WHERE issue_id IN (SELECT id FROM relevant) AND at_utc < %(end)s) AS l
),
-- The lead, the pending request and the due date at each entry: the latest value set at or before it, carried
-- forward in one ordered pass per issue (the value behind its zero-padded seq, so max() picks the latest).
w1 AS (
    SELECT *,
        substr(max(CASE WHEN lead_set IS NOT NULL THEN lpad(seq::text, 19, '0') || lead_set END) OVER w, 20) AS lead,
        substr(max(CASE WHEN req_set IS NOT NULL THEN lpad(seq::text, 19, '0') || req_set END) OVER w, 20) AS req,
        count(lead_set) OVER w AS lg,
        count(*) FILTER (WHERE trigger = 'reject') OVER w AS rejects
    FROM base
    WINDOW w AS (PARTITION BY issue_id ORDER BY seq)
),
x AS MATERIALIZED (
    SELECT seq, issue_id, trigger, to_state, j, u, d, lead, lg, rejects,
        substr(max(CASE WHEN due_set IS NOT NULL THEN lpad(seq::text, 19, '0') || due_set END)
               OVER (PARTITION BY issue_id ORDER BY seq), 20) AS due_cur,
        u >= %(start)s AS in_period
    FROM (SELECT *, CASE WHEN trigger = 'approve_extension' THEN req ELSE due_set0 END AS due_set FROM w1) AS s
),
per_issue AS (
    SELECT issue_id, max(seq) AS last_seq,
        min(d) FILTER (WHERE trigger = 'report') AS first_report,
        bool_or(trigger = 'cancel') AS cancelled,
        -- the original due date: the assignment's, or the latest one an entry carries (counted again)
        (array_agg(CASE WHEN trigger = 'assign' THEN j ->> 'due' ELSE j ->> 'original_due' END ORDER BY seq DESC)
            FILTER (WHERE trigger = 'assign' OR j ->> 'original_due' IS NOT NULL))[1] AS odue
    FROM x GROUP BY issue_id
),
issue_end AS (
    SELECT p.issue_id, l.lead AS unit, l.to_state AS state, l.due_cur AS due,
        p.odue >= %(start_day)s AND p.odue < %(end_day)s AND NOT p.cancelled AS is_due,
        p.first_report IS NOT NULL AND p.first_report <= p.odue AS on_time,
        l.to_state = ANY(%(lead_states)s::text[]) AND l.due_cur < %(end_day)s AS overdue
    FROM per_issue p JOIN x l ON l.seq = p.last_seq
),
accepted AS (
    SELECT issue_id, lg, min(d) AS day FROM x WHERE trigger = 'accept' GROUP BY issue_id, lg
),
limits AS (
    SELECT * FROM unnest(%(accept_days)s::text[], %(accept_until)s::text[]) AS t (day, until)
)
"""

_FACTS_SQL: Final = _FACTS_CTES + """
SELECT lead, 'present'::text, count(*) FROM x WHERE in_period AND trigger <> 'deadline' GROUP BY lead
UNION ALL
SELECT lead, 'assigned', count(*) FROM x
    WHERE in_period AND trigger IN ('assign', 'reassign') GROUP BY lead
UNION ALL
SELECT x.lead, 'accepted_on_time', count(*) FROM x
    JOIN accepted a ON a.issue_id = x.issue_id AND a.lg = x.lg JOIN limits ON limits.day = x.d
    WHERE x.in_period AND x.trigger IN ('assign', 'reassign') AND a.day <= limits.until GROUP BY x.lead
UNION ALL
SELECT c.unit, 'cooperating', count(*) FROM x
    CROSS JOIN LATERAL jsonb_array_elements_text(
        CASE WHEN jsonb_typeof(x.j -> 'cooperating') = 'array' THEN x.j -> 'cooperating' END) AS c (unit)
    WHERE x.in_period AND x.trigger = 'assign' GROUP BY c.unit
UNION ALL
SELECT lead, 'feedbacks', count(*) FROM x WHERE in_period AND trigger = 'report' GROUP BY lead
UNION ALL
SELECT lead, 'rejections', count(*) FROM x WHERE in_period AND trigger = 'reject' GROUP BY lead
UNION ALL
SELECT lead, 'extensions', count(*) FROM x WHERE in_period AND trigger = 'approve_extension' GROUP BY lead
UNION ALL
SELECT lead, 'closed', count(*) FROM x WHERE in_period AND trigger = 'verify' GROUP BY lead
UNION ALL
SELECT lead, 'first_pass', count(*) FROM x WHERE in_period AND trigger = 'verify' AND rejects = 0 GROUP BY lead
UNION ALL
SELECT lead, 'ratings', count(j ->> 'rating') FROM x WHERE in_period AND trigger = 'verify' GROUP BY lead
UNION ALL
SELECT lead, 'rating_sum',
    sum(CASE WHEN jsonb_typeof(j -> 'rating') = 'number' THEN (j ->> 'rating')::numeric END)::bigint
    FROM x WHERE in_period AND trigger = 'verify' GROUP BY lead
UNION ALL
SELECT unit, 'due', count(*) FILTER (WHERE is_due) FROM issue_end GROUP BY unit
UNION ALL
SELECT unit, 'fed_back_on_time', count(*) FILTER (WHERE is_due AND on_time) FROM issue_end GROUP BY unit
UNION ALL
SELECT unit, 'overdue_at_end', count(*) FILTER (WHERE overdue) FROM issue_end GROUP BY unit
UNION ALL
SELECT j ->> 'unit', 'step:' || (j ->> 'step'), count(*) FROM x
    WHERE in_period AND trigger = 'deadline' AND j ->> 'step' IS NOT NULL
    GROUP BY j ->> 'unit', j ->> 'step'
"""

_OVERDUE_SQL: Final = _FACTS_CTES + """
SELECT issue_id, unit, due, state FROM issue_end WHERE overdue ORDER BY unit, due, issue_id
"""

_date = dt.date.fromisoformat
_datetime = dt.datetime.fromisoformat


# What an append statement needs after the round trip: the issue, the draft, the cut canonical bytes, its cursor.
_Appended = tuple[Issue, LedgerDraft, bytes, bytes, "psycopg.Cursor[tuple[Any, ...]]"]


class _Stale(Exception):
    """Raised inside a transaction to roll it back: an issue was not at the version named."""

    def __init__(self, issue_id: str, expected: int) -> None:
        super().__init__(issue_id, expected)
        self.issue_id = issue_id
        self.expected = expected


def _cut(draft: LedgerDraft) -> tuple[bytes, bytes]:
    """The canonical bytes of ``draft`` before and after ``prev_hash``'s value and ``seq`` (see _APPEND).

    The keys are sorted, so ``"prev_hash":"…","seq":…,`` is one run, followed only by ``to_state``
    and ``trigger``, whose string values cannot hold an unescaped quote: its last occurrence is the one.
    """
    whole = canonical_bytes(
        seq=_CUT_SEQ, issue_id=draft.issue_id, issue_seq=draft.issue_seq, trigger=draft.trigger,
        from_state=draft.from_state, to_state=draft.to_state, actor=draft.actor, person=draft.person,
        at=draft.at, data=draft.data, prev_hash=_CUT_HASH,
    )
    at = whole.rfind(_CUT)
    cut = len('"prev_hash":"')
    return whole[: at + cut], whole[at + len(_CUT):]


def _facts_args(query: FactsQuery) -> dict[str, Any]:
    """The named parameters of the facts queries."""
    start_day, end_day = local_day(query.start), local_day(query.end)
    return {
        "start": query.start,
        "end": query.end,
        "start_day": start_day,
        "end_day": end_day,
        "start_date": _date(start_day),
        "end_date": _date(end_day),
        "lead_states": list(query.lead_states),
        "accept_days": [day.isoformat() for day, _ in query.accept_by],
        "accept_until": [until.isoformat() for _, until in query.accept_by],
    }


def _issue_row(issue: Issue) -> tuple[Any, ...]:
    return (
        issue.id, issue.title, issue.description, issue.category, issue.lead, list(issue.cooperating),
        None if issue.responsible is None else canonical_json(issue.responsible.as_dict()),
        issue.due, issue.original_due, issue.state, issue.version,
        issue.lifecycle, issue.lifecycle_version, issue.rework_count,
        issue.created_at.isoformat(), issue.updated_at.isoformat(),
        None if issue.accepted_at is None else issue.accepted_at.isoformat(),
        None if issue.extension is None else canonical_json(issue.extension.as_dict()),
        issue.extension_count, issue.due_provisional,
        None if issue.due_basis is None else canonical_json([issue.due_basis[0].isoformat(), issue.due_basis[1]]),
        issue.escalation_level, issue.escalation_steps,
    )


def _issue(row: Sequence[Any]) -> Issue:
    (id_, title, description, category, lead, cooperating, responsible, due, original_due,
     state, version, lifecycle, lifecycle_version, rework_count, created_at, updated_at,
     accepted_at, extension, extension_count, due_provisional, due_basis, escalation_level,
     escalation_steps) = row
    basis = None if due_basis is None else json.loads(due_basis)
    return Issue(
        id=id_, title=title, description=description, category=category, lead=lead,
        cooperating=tuple(cooperating),
        responsible=None if responsible is None else Responsible(**json.loads(responsible)),
        due=due, original_due=original_due, state=state, version=version,
        lifecycle=lifecycle, lifecycle_version=lifecycle_version, rework_count=rework_count,
        created_at=_datetime(created_at), updated_at=_datetime(updated_at),
        accepted_at=None if accepted_at is None else _datetime(accepted_at),
        extension=None if extension is None else ExtensionRequest.from_dict(json.loads(extension)),
        extension_count=extension_count, due_provisional=due_provisional,
        due_basis=None if basis is None else (_date(basis[0]), int(basis[1])),
        escalation_level=escalation_level, escalation_steps=escalation_steps,
    )


def _entry(row: Sequence[Any]) -> LedgerEntry:
    seq, issue_id, issue_seq, trigger, from_state, to_state, actor, person, at, data, prev, h = row
    return LedgerEntry(
        seq=seq, issue_id=issue_id, issue_seq=issue_seq, trigger=trigger, from_state=from_state,
        to_state=to_state, actor=actor, person=person, at=_datetime(at), data=json.loads(data),
        prev_hash=prev, hash=h,
    )


def _outbox_row(row: Sequence[Any]) -> OutboxRow:
    id_, seq, hook, plugin, status, attempts, next_at, created, error = row
    return OutboxRow(
        id=id_, seq=seq, hook=hook, plugin=plugin, status=status, attempts=attempts,
        next_attempt_at=next_at, created_at=created, last_error=error,
    )


class PostgresStore:
    """A :class:`govflow.Store` on PostgreSQL, shared by any number of processes.

    ``dsn`` is a libpq URL (``postgresql://user:password@host:5432/dbname``)
    or key=value string. ``schema`` names the PostgreSQL schema that holds
    govflow's tables (default: the URL's ``?schema=`` option, else ``public``);
    ``pool_size`` is the most connections this store opens (default: the URL's
    ``?pool_size=`` option, else 4); ``timeout`` is how many seconds a command
    waits for a free connection. ``group_commit`` (default: the URL's
    ``?group_commit=on``, else off) lets the chain head go at ``COMMIT`` rather than
    after the commit is flushed to disk, so that writers in several processes share
    disk flushes; see docs/postgres.md for what that trades. The schema is created or migrated forward on
    open (see :func:`govflow_postgres.migrate`). One store may be used from
    several threads.
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
        self.group_commit = bool(chosen)
        self.schema = check_schema(schema if schema is not None else target.schema or DEFAULT_SCHEMA)
        self.pool_size = check_pool_size(pool_size if pool_size is not None else target.pool_size or DEFAULT_POOL_SIZE)
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
            raise ValidationError("timeout", f"got {timeout!r}", "a number of seconds > 0")
        self._conninfo = target.conninfo
        # Called inside a commit, with the issue rows and the ledger rows written and the chain
        # head locked, just before ``COMMIT``: the crash tests kill the process there.
        self._pause_before_commit: Callable[[], None] | None = None
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
        extra = ", group_commit=True" if self.group_commit else ""
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

    def add_unit(self, unit: Unit) -> None:
        """Store a unit (insert, or replace one with the same id and keep its place)."""
        with self._connection() as conn:
            conn.execute(
                "INSERT INTO units (id, name, level, parent, supervisor) VALUES (%s, %s, %s, %s, %s)"
                " ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, level = EXCLUDED.level,"
                " parent = EXCLUDED.parent, supervisor = EXCLUDED.supervisor",
                (unit.id, unit.name, unit.level, unit.parent, unit.supervisor),
            )

    def units(self) -> list[Unit]:
        """Every unit, in insertion order."""
        with self._connection() as conn:
            rows = conn.execute("SELECT id, name, level, parent, supervisor FROM units ORDER BY position").fetchall()
        return [Unit(id=r[0], name=r[1], level=r[2], parent=r[3], supervisor=r[4]) for r in rows]

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
        """Each issue's stored (version, state)."""
        with self._connection() as conn:
            rows = conn.execute("SELECT id, version, state FROM issues").fetchall()
        return {r[0]: (r[1], r[2]) for r in rows}

    # -- writing ------------------------------------------------------------------------------

    def commit(self, work: UnitOfWork) -> tuple[Issue, LedgerEntry]:
        """Write ``work`` in one transaction (see :meth:`govflow.Store.commit`)."""
        return self._commit([work])[0]

    def commit_many(self, works: Sequence[UnitOfWork]) -> list[tuple[Issue, LedgerEntry]]:
        """Write several units of work in one transaction: all of them, in order, or none."""
        return self._commit(list(works)) if works else []

    def _commit(self, works: list[UnitOfWork]) -> list[tuple[Issue, LedgerEntry]]:
        for attempt in range(_DEADLOCK_RETRIES + 1):
            try:
                return self._try_commit(works)
            except _Stale as stale:
                raise ConcurrentUpdateError(stale.issue_id, stale.expected, self._version(stale.issue_id)) from None
            except psycopg.errors.DeadlockDetected:
                # Only commit_many can get here (several issues, or counters, locked in an order another
                # transaction also needs); the transaction wrote nothing, so it is safe to run it again.
                if attempt == _DEADLOCK_RETRIES:
                    work = works[0]
                    raise ConcurrentUpdateError(
                        work.issue.id, work.expected_version, self._version(work.issue.id)
                    ) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _try_commit(self, works: list[UnitOfWork]) -> list[tuple[Issue, LedgerEntry]]:
        """One transaction in pipeline mode: one round trip, and one more per new issue's number."""
        with self._connection() as conn:
            try:
                with conn.pipeline() as pipeline:
                    # BEGIN and COMMIT by hand: psycopg's transaction() would wait for each of them.
                    conn.execute("BEGIN")
                    if self.group_commit:
                        conn.execute("SET LOCAL synchronous_commit TO off")
                    appended = self._write(conn, pipeline, works)
                written = self._sealed(appended)
            except psycopg.Error as exc:
                self._rollback(conn)
                if exc.sqlstate == "GF409" and exc.diag.message_detail and exc.diag.message_hint:
                    raise _Stale(exc.diag.message_detail, int(exc.diag.message_hint)) from None
                raise
            except BaseException:
                self._rollback(conn)
                raise
        return written

    @staticmethod
    def _rollback(conn: _Conn) -> None:
        if not conn.closed and conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            with suppress(psycopg.Error):  # if the connection broke, the pool throws it away
                conn.execute("ROLLBACK")

    def _write(self, conn: _Conn, pipeline: psycopg.Pipeline, works: list[UnitOfWork]) -> list[_Appended]:
        """Queue the statements of ``works`` and COMMIT (only new ids wait for an answer); the pipeline's
        end sends them."""
        existing = sorted({w.issue.id for w in works if w.id_scope is None})
        if len(existing) > 1:
            # Lock every issue row first, in id order: two batches never wait on each other in a cycle.
            conn.execute("SELECT 1 FROM issues WHERE id = ANY(%s::text[]) ORDER BY id FOR UPDATE", (existing,))
        appended: list[_Appended] = []
        for work in works:
            issue, draft = work.issue, work.entry
            if work.id_scope is not None:
                bumped = conn.execute(_BUMP_COUNTER, (work.id_scope,)).fetchone()
                assert bumped is not None
                issue = attrs.evolve(issue, id=f"{work.id_scope}{int(bumped[0]):04d}")
                draft = attrs.evolve(draft, issue_id=issue.id)
            prefix, suffix = _cut(draft)  # refuses data that is not JSON: nothing is written
            if work.id_scope is not None:
                conn.execute(_INSERT_ISSUE.encode(), (*_issue_row(issue), issue.id))
                self._write_cooperation(conn, issue, delete=False)
            else:
                row = _issue_row(issue)
                conn.execute(
                    _UPDATE_ISSUE.encode(),
                    (*row[1:], issue.id, work.expected_version, issue.id, work.expected_version),
                )
                if work.units_changed:
                    self._write_cooperation(conn, issue, delete=True)
            cursor = conn.execute(_APPEND.encode(), {
                "prefix": prefix, "suffix": suffix, "issue_id": draft.issue_id, "issue_seq": draft.issue_seq,
                "trigger": draft.trigger, "from_state": draft.from_state, "to_state": draft.to_state,
                "actor": draft.actor, "person": draft.person, "at": draft.at.isoformat(), "at_utc": draft.at,
                "data": canonical_json(draft.data), "hooks": [hook for hook, _ in work.notify],
                "plugins": [plugin for _, plugin in work.notify],
            })
            appended.append((issue, draft, prefix, suffix, cursor))
        if self._pause_before_commit is not None:
            pipeline.sync()
            self._pause_before_commit()
        conn.execute("COMMIT")
        if self.group_commit:
            # The commit above returned before its WAL was flushed, and let the chain head go. A
            # transaction with an id, committed synchronously, flushes the WAL up to its own commit
            # record, so up to ours: the step is on disk before the caller hears of it, and concurrent
            # writers' flushes are shared by PostgreSQL's group commit.
            conn.execute("BEGIN")
            conn.execute("SELECT pg_current_xact_id()")
            conn.execute("COMMIT")
        return appended

    @staticmethod
    def _sealed(appended: list[_Appended]) -> list[tuple[Issue, LedgerEntry]]:
        """The stored issues and sealed entries, from the answers of the append statements."""
        written: list[tuple[Issue, LedgerEntry]] = []
        for issue, draft, prefix, suffix, cursor in appended:
            found = cursor.fetchone()
            assert found is not None
            seq, prev, digest = int(found[0]), str(found[1]), str(found[2])
            if hashlib.sha256(prefix + f'{prev}","seq":{seq},'.encode() + suffix).hexdigest() != digest:
                raise StoreError(f"PostgreSQL sealed ledger entry {seq} with a hash govflow does not compute")
            entry = LedgerEntry(
                seq=seq, issue_id=draft.issue_id, issue_seq=draft.issue_seq, trigger=draft.trigger,
                from_state=draft.from_state, to_state=draft.to_state, actor=draft.actor, person=draft.person,
                at=draft.at, data=draft.data, prev_hash=prev, hash=digest,
            )
            written.append((issue, entry))
        return written

    @staticmethod
    def _write_cooperation(conn: _Conn, issue: Issue, *, delete: bool) -> None:
        if delete:
            conn.execute("DELETE FROM cooperation WHERE issue_id = %s", (issue.id,))
        if issue.cooperating:
            conn.execute(
                "INSERT INTO cooperation (unit, issue_id) SELECT unnest(%s::text[]), %s",
                (list(issue.cooperating), issue.id),
            )

    def _version(self, issue_id: str) -> int | None:
        with self._connection() as conn:
            row = conn.execute("SELECT version FROM issues WHERE id = %s", (issue_id,)).fetchone()
        return None if row is None else int(row[0])

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
        with self._connection() as conn:
            rows = conn.execute(_FACTS_SQL, _facts_args(query)).fetchall()
        counts: dict[str, dict[str, int]] = {}
        escalations: dict[str, dict[str, int]] = {}
        for unit, name, value in rows:
            if unit is None:
                continue
            if name == "present":  # a unit with any step in the period is listed, even with nothing to count
                counts.setdefault(unit, {})
            if not value:
                continue
            if name.startswith("step:"):
                escalations.setdefault(unit, {})[name[5:]] = int(value)
            elif name in COUNTS:
                counts.setdefault(unit, {})[name] = int(value)
        return build_facts(counts, escalations)

    def overdue_at_end(self, query: FactsQuery) -> list[OverdueAtEnd]:
        """The issues overdue at the period's end (see :meth:`govflow.Store.overdue_at_end`), in SQL."""
        with self._connection() as conn:
            rows = conn.execute(_OVERDUE_SQL, _facts_args(query)).fetchall()
        return [OverdueAtEnd(issue_id, unit, _date(due), state) for issue_id, unit, due, state in rows]

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
