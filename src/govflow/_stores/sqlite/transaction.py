"""The SQLite store's write transaction: ``BEGIN IMMEDIATE`` under the store's lock, ``COMMIT`` or ``ROLLBACK``."""

from __future__ import annotations

import sqlite3
import threading

import attrs

__all__ = ["Transaction"]


@attrs.define
class Transaction:
    """``BEGIN IMMEDIATE`` … ``COMMIT``, or ``ROLLBACK`` on any error, the failure of ``COMMIT`` itself included."""

    db: sqlite3.Connection
    lock: threading.RLock

    def __enter__(self) -> None:
        self.lock.acquire()
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except BaseException:
            self.lock.release()
            raise

    def __exit__(self, kind: object, exc: object, tb: object) -> None:
        try:
            if kind is None:
                try:
                    self.db.execute("COMMIT")
                except BaseException:
                    # A COMMIT that fails (a deferred constraint, SQLITE_BUSY, a full disk) may leave the
                    # transaction open: roll it back, or this connection's reads would see writes that never
                    # happened and its next BEGIN would fail.
                    self._rollback()
                    raise
            else:
                self._rollback()
        finally:
            self.lock.release()

    def _rollback(self) -> None:
        """End the open transaction, if SQLite has not ended it already (it does after some errors)."""
        if self.db.in_transaction:
            self.db.execute("ROLLBACK")


