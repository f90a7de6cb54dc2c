"""The SQLite store's write transaction: ``BEGIN IMMEDIATE`` under the store's lock, ``COMMIT`` or ``ROLLBACK``;
a file locked past the timeout is :class:`govflow.StoreBusy`."""

from __future__ import annotations

import sqlite3
import threading

import attrs

from ..._core.errors import StoreBusy, StoreError

__all__ = ["Transaction", "busy"]


@attrs.define
class Transaction:
    """``BEGIN IMMEDIATE`` … ``COMMIT``, or ``ROLLBACK`` on any error, the failure of ``COMMIT`` itself included."""

    db: sqlite3.Connection
    lock: threading.RLock
    path: str = ""
    #: Where BEGIN and COMMIT run (the store's write cursor); the connection when None.
    cursor: sqlite3.Cursor | None = None

    def __enter__(self) -> None:
        self.lock.acquire()
        try:
            (self.cursor or self.db).execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            self.lock.release()
            raise busy(self.path, exc) from exc
        except BaseException:
            self.lock.release()
            raise

    def __exit__(self, kind: object, exc: object, tb: object) -> None:
        try:
            if kind is None:
                try:
                    (self.cursor or self.db).execute("COMMIT")
                except BaseException as exc:
                    # A COMMIT that fails (a deferred constraint, SQLITE_BUSY, a full disk) may leave the
                    # transaction open: roll it back, or this connection's reads would see writes that never
                    # happened and its next BEGIN would fail.
                    self._rollback()
                    if isinstance(exc, sqlite3.OperationalError):
                        raise busy(self.path, exc) from exc
                    raise
            else:
                self._rollback()
        finally:
            self.lock.release()

    def _rollback(self) -> None:
        """End the open transaction, if SQLite has not ended it already (it does after some errors)."""
        if self.db.in_transaction:
            self.db.execute("ROLLBACK")


def busy(path: str, exc: sqlite3.OperationalError) -> StoreError:
    """``database is locked`` past the timeout as :class:`StoreBusy` (retry); another operational error as
    :class:`StoreError`. Either way the transaction wrote nothing."""
    text = str(exc)
    if "locked" in text or "busy" in text:
        return StoreBusy(f"SQLite file {path!r}", text)
    return StoreError(f"SQLite file {path!r}: {text}; nothing was written")
