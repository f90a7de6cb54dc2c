"""The unit registry in the SQLite store: each unit row written with its ledger entry.

A mixin of :class:`~govflow._stores.sqlite.store.SQLiteStore`, which supplies the connection,
its lock, the write transaction and the chain head.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from typing import TYPE_CHECKING, Final

from ..._core.clock import DEFAULT_ZONE
from ..._core.ledger import LedgerDraft
from ..._core.model import LedgerEntry, Unit
from ..._core.registry import unit_draft
from ..protocol import refuse_other_unit

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

__all__ = ["UnitsMixin"]

_UNIT_COLUMNS: Final = "id, name, level, parent, supervisor"


class UnitsMixin:
    """``add_unit`` and ``units`` of the SQLite store, and the schema 7 upgrade that adopts older units."""

    _db: sqlite3.Connection
    _lock: threading.RLock

    if TYPE_CHECKING:

        def _transaction(self) -> AbstractContextManager[None]: ...

        def _append_entry(self, draft: LedgerDraft, notify: tuple[tuple[str, str], ...] = ()) -> LedgerEntry: ...

    def add_unit(self, unit: Unit, entry: LedgerDraft) -> LedgerEntry | None:
        """Register ``unit`` with its ledger entry in one transaction (see :meth:`govflow.Store.add_unit`)."""
        with self._transaction():
            row = self._db.execute(f"SELECT {_UNIT_COLUMNS} FROM units WHERE id = ?", (unit.id,)).fetchone()
            if row is not None:
                refuse_other_unit(_unit(row), unit)
                return None
            return self._insert_unit(unit, entry)

    def _insert_unit(self, unit: Unit, draft: LedgerDraft) -> LedgerEntry:
        """The unit's sealed entry and its row at the end of the registry (inside the open transaction; the
        entry first: the schema refuses a units row without one)."""
        entry = self._append_entry(draft)
        self._db.execute(
            f"INSERT INTO units ({_UNIT_COLUMNS}, position) VALUES (?, ?, ?, ?, ?, (SELECT COUNT(*) FROM units))",
            (unit.id, unit.name, unit.level, unit.parent, int(unit.supervisor)),
        )
        return entry

    def units(self) -> list[Unit]:
        """Every unit, in insertion order."""
        with self._lock:
            rows = self._db.execute(f"SELECT {_UNIT_COLUMNS} FROM units ORDER BY position").fetchall()
        return [_unit(row) for row in rows]

    def _adopt_units(self) -> None:
        """Schema 7: give every unit registered before it its ledger entry, as the row stands (inside the
        migration's transaction)."""
        at = dt.datetime.now(DEFAULT_ZONE)
        for row in self._db.execute(f"SELECT {_UNIT_COLUMNS} FROM units ORDER BY position").fetchall():
            self._append_entry(unit_draft(_unit(row), at, adopted=True))


def _unit(row: tuple[object, ...]) -> Unit:
    return Unit(id=str(row[0]), name=str(row[1]), level=row[2], parent=row[3], supervisor=bool(row[4]))  # type: ignore[arg-type]
