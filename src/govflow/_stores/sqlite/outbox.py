"""The notification outbox in the SQLite store: claiming, finishing, releasing and requeueing rows.

A mixin of :class:`~govflow._stores.sqlite.store.SQLiteStore`, which supplies the connection, its lock and
the write transaction. The rows themselves are written with their ledger entry (``SQLiteStore._append_entry``).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from typing import TYPE_CHECKING, Any

from ..protocol import OutboxRow
from .rows import OUTBOX_COLUMNS, outbox_from_row, utc

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

__all__ = ["OutboxMixin"]


class OutboxMixin:
    """The outbox methods of :class:`govflow.Store` on SQLite."""

    _db: sqlite3.Connection
    _lock: threading.RLock

    if TYPE_CHECKING:

        def _transaction(self) -> AbstractContextManager[None]: ...

    def claim_outbox(self, now: dt.datetime, lease: dt.timedelta, limit: int) -> list[OutboxRow]:
        """Claim due pending rows no other worker holds (see :meth:`govflow.Store.claim_outbox`)."""
        at = utc(now)
        with self._transaction():
            rows = self._db.execute(
                f"SELECT {OUTBOX_COLUMNS} FROM outbox WHERE status = 'pending' AND next_attempt_at <= ?"
                " AND (claimed_until IS NULL OR claimed_until <= ?) ORDER BY id LIMIT ?",
                (at, at, limit),
            ).fetchall()
            self._db.executemany(
                "UPDATE outbox SET claimed_until = ? WHERE id = ?",
                [(utc(now + lease), row[0]) for row in rows],
            )
        return [outbox_from_row(row) for row in rows]

    def finish_outbox(self, row_id: int, *, error: str | None, retry_at: dt.datetime | None) -> None:
        """Record an attempt on a row."""
        with self._transaction():
            if error is None:
                self._db.execute(
                    "UPDATE outbox SET status = 'done', attempts = attempts + 1, claimed_until = NULL"
                    " WHERE id = ?", (row_id,),
                )
            else:
                self._db.execute(
                    "UPDATE outbox SET status = ?, attempts = attempts + 1, claimed_until = NULL,"
                    " last_error = ?, next_attempt_at = COALESCE(?, next_attempt_at) WHERE id = ?",
                    ("pending" if retry_at else "dead", error, retry_at and utc(retry_at), row_id),
                )

    def release_outbox(self, row_id: int) -> None:
        """Give a claimed row back untouched."""
        with self._transaction():
            self._db.execute("UPDATE outbox SET claimed_until = NULL WHERE id = ?", (row_id,))

    def outbox(self, status: str) -> list[OutboxRow]:
        """The rows in ``status``, by id."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT {OUTBOX_COLUMNS} FROM outbox WHERE status = ? ORDER BY id", (status,)
            ).fetchall()
        return [outbox_from_row(row) for row in rows]

    def requeue_outbox(self, row_ids: list[int] | None, now: dt.datetime) -> int:
        """Make dead rows pending again."""
        sql = "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = ? WHERE status = 'dead'"
        args: list[Any] = [utc(now)]
        if row_ids is not None:
            sql += f" AND id IN ({', '.join('?' * len(row_ids))})"
            args.extend(row_ids)
        with self._transaction():
            return int(self._db.execute(sql, args).rowcount)
