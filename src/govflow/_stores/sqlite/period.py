"""Period facts on SQLite: ``period_facts`` and ``overdue_at_end``, read on a connection of their own.

A mixin of :class:`~govflow._stores.sqlite.store.SQLiteStore`, which supplies the connection, its lock, the
file and the overdue issues it keeps; the SQL is in :mod:`govflow._stores.sqlite.facts`.
"""

from __future__ import annotations

import sqlite3
import threading
import urllib.parse
from typing import Any

from ..._core.errors import StoreError
from ..facts import FactsQuery, OverdueAtEnd, UnitFacts, build_facts
from .facts import FACTS_SQL, facts_args, parse_facts_rows

__all__ = ["PeriodFactsMixin"]


class PeriodFactsMixin:
    """The period facts of :class:`govflow.Store` on SQLite."""

    path: str
    _db: sqlite3.Connection
    _lock: threading.RLock
    _file: str
    _timeout: float
    _overdue: dict[FactsQuery, tuple[int, list[OverdueAtEnd]]]

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
