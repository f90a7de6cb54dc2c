"""The embedded default store: one SQLite file (stdlib ``sqlite3``, WAL).

The schema and its migrations are in :mod:`govflow._stores.sqlite.schema`, the row
layout in :mod:`govflow._stores.sqlite.rows`, the paged ledger reads in
:mod:`govflow._stores.sqlite.ledger`, the period facts' SQL in
:mod:`govflow._stores.sqlite.facts`, the outbox in :mod:`govflow._stores.sqlite.outbox`, units and plans in
their own mixins; this module opens the file, writes in
``BEGIN IMMEDIATE`` transactions and answers the rest of :class:`govflow.Store`.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import sqlite3
import threading
import urllib.parse
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Final

import attrs

from ..._core.errors import ConcurrentUpdateError, NotFound, SchemaVersionError, StoreError
from ..._core.ledger import LedgerDraft, iso_instant, seal_text
from ..._core.model import Issue, LedgerEntry
from ..facts import FactsQuery, OverdueAtEnd, UnitFacts, build_facts
from ..protocol import IssueQuery, UnitOfWork
from .facts import FACTS_SQL, facts_args, parse_facts_rows
from .ledger import read_ledger
from .outbox import OutboxMixin
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



class SQLiteStore(UnitsMixin, PlansMixin, OutboxMixin):
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
        """Read the issue, make its unit of work with ``step`` and write it, in one write transaction.

        The facade's ``fire`` when no plugin vets steps: one lock taken instead of a read and then a write, and no
        other writer can come in between (``step`` still checks the caller's ``expected_version``, and the UPDATE
        still names the version read). :class:`NotFound` if there is no such issue; whatever ``step`` raises
        leaves nothing written.
        """
        with self._lock:
            self._written.clear()
            with self._transaction():
                done = self._write(step(self._current(issue_id)))
            self._committed()
        return done

    def _current(self, issue_id: str) -> Issue:
        """The issue's committed snapshot, inside the write transaction (the lock is held).

        When this connection cached the row, only its version and time are read: every write moves the
        version and sets the step's time, so a row with the cached pair is the cached row (reading two columns
        instead of the whole row is most of a step's read). Otherwise the whole row is read and parsed.
        """
        known = self._rows.get(issue_id)
        if known is not None:
            probe = self._writer.execute(_PROBE, (issue_id,)).fetchone()
            if probe is not None and probe[0] == known[0][_VERSION] and probe[1] == known[0][_UPDATED_AT]:
                return known[1]
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

    def _write(self, work: UnitOfWork) -> tuple[Issue, LedgerEntry]:
        """One unit of work, inside the open transaction."""
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
            known = self._rows.get(issue.id)
            if known is not None and known[0][_VERSION] == work.expected_version:
                # Only the columns the step changed: an index on an unchanged column (the lead's)
                # is not rewritten. The version check below still guards the whole row.
                row, changed = changed_row(known[1], known[0], issue)
                cursor = db.execute(
                    f"UPDATE issues SET {_assignments(changed)} WHERE id = ? AND version = ?",
                    (*[row[i] for i in changed], issue.id, work.expected_version),
                )
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

    def period_facts(self, query: FactsQuery) -> dict[str, UnitFacts]:
        """Per-unit facts of a period, aggregated in one SQL statement (see :meth:`govflow.Store.period_facts`).

        Runs on a connection of its own, so that facts of several periods can be computed at once
        (SQLite reads in parallel in WAL mode) without holding up this store's writes.
        """
        return self._facts(query)[0]

    def overdue_at_end(self, query: FactsQuery) -> list[OverdueAtEnd]:
        """The issues overdue at the period's end (see :meth:`govflow.Store.overdue_at_end`).

        They come with the facts: those of the last few queries are kept while the ledger stays as it is
        (a bulletin asks for them right after the facts).
        """
        with self._lock:
            head = self._db.execute("SELECT seq FROM chain_head").fetchone()[0]
            kept = self._overdue.get(query)
            if kept is not None and kept[0] == head:
                return list(kept[1])
        return list(self._facts(query)[1])

    def _facts(self, query: FactsQuery) -> tuple[dict[str, UnitFacts], list[OverdueAtEnd]]:
        """The facts and the overdue issues of one query, read in one snapshot; the overdue ones kept."""
        if not self._file:  # a database that exists only on this connection
            with self._lock:
                rows, head = self._read_facts(self._db, query)
        else:
            reader = self._reader()
            try:
                rows, head = self._read_facts(reader, query)
            finally:
                reader.close()
        counts, escalations, overdue = parse_facts_rows(rows)
        with self._lock:
            self._overdue[query] = (head, overdue)
            while len(self._overdue) > 4:
                del self._overdue[next(iter(self._overdue))]
        return build_facts(counts, escalations), overdue

    def _read_facts(self, db: sqlite3.Connection, query: FactsQuery) -> tuple[list[Any], int]:
        """The rows of FACTS_SQL and the chain head they belong to, in one snapshot."""
        try:
            db.execute("BEGIN")
            try:
                rows = db.execute(FACTS_SQL, facts_args(query)).fetchall()
                head = int(db.execute("SELECT seq FROM chain_head").fetchone()[0])
            finally:
                db.execute("COMMIT")
        except sqlite3.Error as exc:
            raise StoreError(f"cannot read period facts from {self.path!r}: {exc}") from exc
        return rows, head

    def _reader(self) -> sqlite3.Connection:
        """A new read-only connection for one long read (on the file this store opened, wherever the cwd is now)."""
        uri = f"file:{urllib.parse.quote(self._file)}?mode=ro"
        try:
            return sqlite3.connect(uri, uri=True, timeout=self._timeout, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open SQLite file {self.path!r}: {exc}") from exc

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


@functools.lru_cache(maxsize=256)
def _assignments(columns: tuple[int, ...]) -> str:
    """``col = ?, …`` for the issue columns at these positions (one statement text per set of columns)."""
    return ", ".join(f"{_COLUMN_NAMES[i]} = ?" for i in columns)
