"""The embedded default store: one SQLite file (stdlib ``sqlite3``, WAL).

The schema and its migrations are in :mod:`govflow._stores.sqlite.schema`, the row
layout in :mod:`govflow._stores.sqlite.rows`, the paged ledger reads in
:mod:`govflow._stores.sqlite.ledger`, the period facts' SQL in
:mod:`govflow._stores.sqlite.facts` (read by :mod:`govflow._stores.sqlite.period`), the outbox in
:mod:`govflow._stores.sqlite.outbox`, units and plans in
their own mixins; this module opens the file, writes in
``BEGIN IMMEDIATE`` transactions and answers the rest of :class:`govflow.Store`.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Final

import attrs

from ..._core.errors import ConcurrentUpdateError, NotFound, SchemaVersionError, StoreError
from ..._core.ledger import LedgerDraft, iso_instant, seal_text
from ..._core.model import Issue, LedgerEntry
from ..facts import FactsQuery, OverdueAtEnd
from ..protocol import IssueQuery, UnitOfWork
from .ledger import read_ledger
from .outbox import OutboxMixin
from .period import PeriodFactsMixin
from .plans import PlansMixin
from .rows import (
    ISSUE_ASSIGNMENTS,
    ISSUE_COLUMNS,
    LEDGER_COLUMNS,
    changed_row,
    entry_from_row,
    issue_from_row,
    issue_row,
    utc,
)
from .schema import MIGRATIONS, SCHEMA_VERSION, UNITS_IN_LEDGER, split_script
from .transaction import Transaction as _Transaction
from .units import UnitsMixin

__all__ = ["SCHEMA_VERSION", "SQLiteStore"]

# The issue whose assign entry holds an external id (the partial index ledger_external_id answers it).
_HELD_EXTERNAL_ID: Final = (
    "SELECT issue_id FROM ledger WHERE trigger = 'assign' AND json_extract(data, '$.external_id') IS NOT NULL"
    " AND json_extract(data, '$.external_id') = ? LIMIT 1"
)



class SQLiteStore(UnitsMixin, PlansMixin, OutboxMixin, PeriodFactsMixin):
    """A :class:`~govflow.Store` in one SQLite file, in WAL mode.

    Several processes may open the same file: every commit runs in a
    ``BEGIN IMMEDIATE`` transaction and checks the version it read.
    """

    schema_version = SCHEMA_VERSION

    def __init__(self, path: str | os.PathLike[str], *, timeout: float = 30.0) -> None:
        self.path = os.fspath(path)
        self._lock = threading.RLock()
        self._head: tuple[int, str] | None = None  # the chain head as this connection last left it
        self._timeout = timeout
        # the file itself, for the read-only connections of long reads (none for an in-memory database)
        in_memory = self.path in ("", ":memory:") or self.path.startswith("file:")
        self._file = "" if in_memory else os.path.abspath(self.path)
        # the overdue issues of the last few facts, with the chain head they were read at
        self._overdue: dict[FactsQuery, tuple[int, list[OverdueAtEnd]]] = {}
        # The committed row of recently read or written issues, with the snapshot it encodes: a step then
        # updates only the columns it changed, and a read that finds the same row takes the snapshot instead of
        # parsing the row again. Rows enter only once committed, and every write bumps the version, so the row
        # cached for (id, version) is the row stored for them in any process.
        self._rows: dict[str, tuple[tuple[Any, ...], Issue]] = {}
        self._written: list[tuple[tuple[Any, ...], Issue]] = []
        try:
            self._db = sqlite3.connect(
                self.path, timeout=timeout, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open SQLite file {self.path!r}: {exc}") from exc
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            # The write path's statements run on one cursor kept for them (under the lock): a step runs five,
            # and Connection.execute makes a new cursor for each.
            self._writer = self._db.cursor()
            self._migrate()
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise StoreError(f"{self.path!r} is not a govflow SQLite file: {exc}") from exc
        except BaseException:
            self._db.close()
            raise

    def _migrate(self) -> None:
        found = self._db.execute("PRAGMA user_version").fetchone()[0]
        if found > SCHEMA_VERSION:
            raise SchemaVersionError(self.path, found, SCHEMA_VERSION)
        if found == SCHEMA_VERSION:
            return
        with self._transaction():
            # Re-read under the write lock: another process may have migrated meanwhile.
            found = self._db.execute("PRAGMA user_version").fetchone()[0]
            for version in range(found + 1, SCHEMA_VERSION + 1):
                for statement in split_script(MIGRATIONS[version - 1]):
                    self._db.execute(statement)
                if version == UNITS_IN_LEDGER:
                    self._adopt_units()
                self._db.execute(f"PRAGMA user_version = {version}")

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db, self._lock, self.path, self._writer)

    def load(self, issue_id: str) -> Issue | None:
        """The current snapshot of one issue, or None."""
        with self._lock:
            row = self._db.execute(_LOAD, (issue_id,)).fetchone()
            return None if row is None else self._issue(row)

    def _issue(self, row: tuple[Any, ...]) -> Issue:
        """The snapshot of a committed row: the cached one if the row is the cached row (the lock is held)."""
        known = self._rows.get(row[0])
        if known is not None and known[0] == row:
            return known[1]
        issue = issue_from_row(row)
        self._remember(row, issue)
        return issue

    def _remember(self, row: tuple[Any, ...], issue: Issue) -> None:
        rows = self._rows
        rows.pop(row[0], None)
        rows[row[0]] = (row, issue)
        if len(rows) > _ROWS_KEPT:
            del rows[next(iter(rows))]

    def commit_step(self, issue_id: str, step: Callable[[Issue], UnitOfWork]) -> tuple[Issue, LedgerEntry]:
        """Make the issue's unit of work with ``step`` and write it, in one write transaction.

        The facade's ``fire`` when no plugin vets steps: one lock taken instead of a read and then a write, and no
        other writer can come in between (``step`` still checks the caller's ``expected_version``, and the UPDATE
        still names the version the step ran on). ``step`` runs on the snapshot this connection cached, if any,
        and again on the row read whole when that snapshot turns out stale (so it may run twice; nothing is
        written by the first run). :class:`NotFound` if there is no such issue; whatever ``step`` raises leaves
        nothing written.
        """
        with self._lock:
            self._written.clear()
            with self._transaction():
                done = self._step_on_cache(issue_id, step)
                if done is None:
                    done = self._write(step(self._current(issue_id)))
            self._committed()
        return done

    def _step_on_cache(
        self, issue_id: str, step: Callable[[Issue], UnitOfWork]
    ) -> tuple[Issue, LedgerEntry] | None:
        """The step run on the snapshot this connection cached, inside the write transaction; None when the
        stored row is no longer that snapshot (another connection wrote it), and nothing was written.

        Every write moves the version and sets the step's time, so a row with the cached pair is the cached
        row: the UPDATE names both, and matching no row is the sign to read it (no read before the write).
        An error from ``step`` stands only if the cached row was current; otherwise the step runs again on
        the row as stored.
        """
        known = self._rows.get(issue_id)
        if known is None:
            return None
        row = known[0]
        try:
            work = step(known[1])
        except Exception:
            if self._is_current(issue_id, row):
                raise
            return None
        if work.issue.id != issue_id or work.expected_version != row[_VERSION] or work.id_scope is not None:
            # not a plain step on the snapshot: written as made only if the snapshot is the stored row
            return self._write(work) if self._is_current(issue_id, row) else None
        try:
            return self._write(work, cached=known)
        except _StaleCache:
            return None

    def _is_current(self, issue_id: str, row: tuple[Any, ...]) -> bool:
        """Whether the stored row still has the version and time of ``row`` (inside the transaction)."""
        probe = self._writer.execute(_PROBE, (issue_id,)).fetchone()
        return probe is not None and probe[0] == row[_VERSION] and probe[1] == row[_UPDATED_AT]

    def _current(self, issue_id: str) -> Issue:
        """The issue's committed snapshot, read whole inside the write transaction (the lock is held)."""
        row = self._writer.execute(_LOAD, (issue_id,)).fetchone()
        if row is None:
            raise NotFound("issue", issue_id)
        return self._issue(row)

    def query(self, query: IssueQuery) -> list[Issue]:
        """The issues matching ``query``, ordered by id."""
        where: list[str] = []
        args: list[Any] = []
        if query.state is not None:
            where.append("state = ?")
            args.append(query.state)
        if query.states is not None:
            where.append(f"state IN ({', '.join('?' * len(query.states))})")
            args.extend(query.states)
        if query.unit is not None:
            where.append("(lead = ? OR id IN (SELECT issue_id FROM cooperation WHERE unit = ?))")
            args.extend((query.unit, query.unit))
        if query.due_before is not None:
            where.append("due < ?")
            args.append(query.due_before.isoformat())
        if query.escalation_below is not None:
            where.append("escalation_steps < ?")
            args.append(query.escalation_below)
        sql = f"SELECT {ISSUE_COLUMNS} FROM issues"
        if where:
            sql += " WHERE " + " AND ".join(where)
        with self._lock:
            rows = self._db.execute(sql + " ORDER BY id", args).fetchall()
        issues = [issue_from_row(row) for row in rows]
        if query.updated_between is not None:
            # Offsets may differ between rows, so compare as datetimes, not text.
            issues = [i for i in issues if query.matches(i)]
        return issues

    def commit(self, work: UnitOfWork) -> tuple[Issue, LedgerEntry]:
        """Write ``work`` in one transaction (see :meth:`govflow.Store.commit`)."""
        return self.commit_many([work])[0]

    def commit_many(self, works: Sequence[UnitOfWork]) -> list[tuple[Issue, LedgerEntry]]:
        """Write several units of work in one transaction: all of them, or none."""
        with self._lock:
            self._written.clear()
            with self._transaction():
                done = [self._write(work) for work in works]
            self._committed()
        return done

    def _committed(self) -> None:
        """The rows just written are now the stored rows of their versions."""
        for row, issue in self._written:
            self._remember(row, issue)
        self._written.clear()

    def _write(
        self, work: UnitOfWork, cached: tuple[tuple[Any, ...], Issue] | None = None
    ) -> tuple[Issue, LedgerEntry]:
        """One unit of work, inside the open transaction.

        With ``cached`` (the cached row and snapshot a step ran on) the UPDATE also names the row's time, and a
        stored row whose version or time differs is not a conflict but a stale cache: :class:`_StaleCache`,
        with nothing written.
        """
        db = self._writer
        issue, draft = work.issue, work.entry
        if work.id_scope is not None:
            external_id = draft.data.get("external_id")
            if isinstance(external_id, str):  # an imported row: its 编号 must not be another issue's already
                held = db.execute(_HELD_EXTERNAL_ID, (external_id,)).fetchone()
                if held is not None:
                    raise ConcurrentUpdateError(held[0], 0, self._version(held[0]))
            row = db.execute(
                "SELECT value FROM counters WHERE scope = ?", (work.id_scope,)
            ).fetchone()
            number = 1 if row is None else row[0] + 1
            issue = attrs.evolve(issue, id=f"{work.id_scope}{number:04d}")
            draft = attrs.evolve(draft, issue_id=issue.id)
            db.execute(
                "INSERT OR REPLACE INTO counters VALUES (?, ?)", (work.id_scope, number)
            )
            row = issue_row(issue)
            try:
                db.execute(f"INSERT INTO issues ({ISSUE_COLUMNS}) VALUES ({', '.join('?' * len(row))})", row)
            except sqlite3.IntegrityError:
                raise ConcurrentUpdateError(issue.id, 0, self._version(issue.id)) from None
            db.executemany(
                "INSERT INTO cooperation VALUES (?, ?)",
                [(unit, issue.id) for unit in issue.cooperating],
            )
        else:
            known = cached if cached is not None else self._rows.get(issue.id)
            if known is not None and known[0][_VERSION] == work.expected_version:
                # Only the columns the step changed: an index on an unchanged column (the lead's)
                # is not rewritten. The version check below still guards the whole row.
                row, changed = changed_row(known[1], known[0], issue)
                args = [row[i] for i in changed]
                args.append(issue.id)
                args.append(work.expected_version)
                if cached is not None:  # the time too: a row matching neither is a stale cache, not a conflict
                    args.append(known[0][_UPDATED_AT])
                cursor = db.execute(_update_changed(changed, cached is not None), args)
                if cached is not None and cursor.rowcount != 1:
                    raise _StaleCache
            else:
                # Every column, so that a lifecycle's effect on any field is kept.
                row = issue_row(issue)
                cursor = db.execute(
                    f"UPDATE issues SET {ISSUE_ASSIGNMENTS} WHERE id = ? AND version = ?",
                    (*row[1:], issue.id, work.expected_version),
                )
            if cursor.rowcount != 1:
                raise ConcurrentUpdateError(
                    issue.id, work.expected_version, self._version(issue.id)
                )
            if work.units_changed:
                db.execute("DELETE FROM cooperation WHERE issue_id = ?", (issue.id,))
                db.executemany(
                    "INSERT INTO cooperation VALUES (?, ?)",
                    [(unit, issue.id) for unit in issue.cooperating],
                )
        self._written.append((row, issue))
        return issue, self._append_entry(draft, work.notify)

    def _append_entry(self, draft: LedgerDraft, notify: tuple[tuple[str, str], ...] = ()) -> LedgerEntry:
        """Seal ``draft`` after the chain head, write its ledger row and its outbox rows (inside the open
        transaction): every subject's entries (issues, plans and targets, units) are written here."""
        db = self._writer
        entry, data_text = self._append_to_chain(draft)
        db.execute(
            _INSERT_ENTRY,
            (
                entry.seq, entry.issue_id, entry.issue_seq, entry.trigger, entry.from_state,
                entry.to_state, entry.actor, entry.person, iso_instant(entry.at),
                data_text, entry.prev_hash, entry.hash,
            ),
        )
        if notify:
            at = utc(entry.at)
            db.executemany(
                "INSERT INTO outbox (seq, hook, plugin, status, attempts, next_attempt_at, created_at)"
                " VALUES (?, ?, ?, 'pending', 0, ?, ?)",
                [(entry.seq, hook, plugin, at, at) for hook, plugin in notify],
            )
        return entry

    def _append_to_chain(self, draft: LedgerDraft) -> tuple[LedgerEntry, str]:
        """Seal ``draft`` after the chain head and move the head (inside the open transaction).

        The head this connection last wrote is remembered, and the move is a
        compare-and-set on it: only when another connection appended since is
        the head read again (one statement fewer on the common path).
        """
        db = self._writer
        head = self._head
        if head is not None:
            entry, data_text = seal_text(draft, head[0] + 1, head[1])
            moved = db.execute(
                "UPDATE chain_head SET seq = ?, hash = ? WHERE id = 1 AND seq = ? AND hash = ?",
                (entry.seq, entry.hash, head[0], head[1]),
            ).rowcount
            if moved == 1:
                self._head = (entry.seq, entry.hash)
                return entry, data_text
        seq, prev = db.execute("SELECT seq, hash FROM chain_head").fetchone()
        entry, data_text = seal_text(draft, seq + 1, prev)
        db.execute("UPDATE chain_head SET seq = ?, hash = ? WHERE id = 1", (entry.seq, entry.hash))
        self._head = (entry.seq, entry.hash)
        return entry, data_text

    def _version(self, issue_id: str) -> int | None:
        row = self._db.execute("SELECT version FROM issues WHERE id = ?", (issue_id,)).fetchone()
        return None if row is None else int(row[0])

    def ledger(
        self,
        issue_id: str | None = None,
        *,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        trigger: str | None = None,
    ) -> Iterator[LedgerEntry]:
        """Ledger entries in sequence order (see :meth:`govflow.Store.ledger`).

        Read in pages (:mod:`govflow._stores.sqlite.ledger`), the lock taken only while one page is
        fetched: an iterator left half-consumed holds up no other thread.
        """
        return read_ledger(self._db, self._lock, issue_id, since=since, until=until, trigger=trigger)

    def entry(self, seq: int) -> LedgerEntry | None:
        """One ledger entry by its global sequence number."""
        with self._lock:
            row = self._db.execute(f"SELECT {LEDGER_COLUMNS} FROM ledger WHERE seq = ?", (seq,)).fetchone()
        return None if row is None else entry_from_row(row)

    def chain_head(self) -> tuple[int, str]:
        """The (seq, hash) kept apart from the ledger rows."""
        with self._lock:
            seq, head = self._db.execute("SELECT seq, hash FROM chain_head").fetchone()
        return int(seq), str(head)

    def issue_versions(self) -> Mapping[str, tuple[int, str]]:
        """Each issue's (version, state), and each plan's and target's."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, version, state FROM issues UNION ALL SELECT id, version, state FROM plan_rows"
            ).fetchall()
        return {r[0]: (r[1], r[2]) for r in rows}

    def save_lifecycle(self, name: str, version: int, definition: str) -> None:
        """Keep a lifecycle definition."""
        with self._transaction():
            self._db.execute(
                "INSERT OR REPLACE INTO lifecycles VALUES (?, ?, ?)", (name, version, definition)
            )

    def lifecycles(self) -> list[tuple[str, int, str]]:
        """The stored lifecycle definitions."""
        with self._lock:
            rows = self._db.execute(
                "SELECT name, version, definition FROM lifecycles ORDER BY name, version"
            ).fetchall()
        return [(r[0], int(r[1]), r[2]) for r in rows]

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._db.close()


#: Issues whose committed row a store keeps (see ``SQLiteStore._rows``).
_ROWS_KEPT: Final = 4096
_COLUMN_NAMES: Final = tuple(name.strip() for name in ISSUE_COLUMNS.split(","))
_VERSION: Final = _COLUMN_NAMES.index("version")
_UPDATED_AT: Final = _COLUMN_NAMES.index("updated_at")
_LOAD: Final = f"SELECT {ISSUE_COLUMNS} FROM issues WHERE id = ?"
_PROBE: Final = "SELECT version, updated_at FROM issues WHERE id = ?"
_INSERT_ENTRY: Final = f"INSERT INTO ledger ({LEDGER_COLUMNS}) VALUES ({', '.join('?' * 12)})"


class _StaleCache(Exception):
    """The stored row is no longer the snapshot a step ran on (another connection wrote it)."""


@functools.lru_cache(maxsize=256)
def _update_changed(columns: tuple[int, ...], cached: bool) -> str:
    """The UPDATE of the issue columns at these positions, naming the version the step ran on and, for a step on
    the cached snapshot, its time too (made once per set of columns: a step's columns are one of a few sets)."""
    sql = f"UPDATE issues SET {', '.join(f'{_COLUMN_NAMES[i]} = ?' for i in columns)} WHERE id = ? AND version = ?"
    return sql + " AND updated_at = ?" if cached else sql
