"""The unit registry in ``PostgresStore``: each unit row written with its ledger entry, and the schema 6 upgrade
that gives every unit registered before it its entry."""

from __future__ import annotations

import datetime as dt
from contextlib import AbstractContextManager
from typing import Final

import psycopg.errors

from govflow import DEFAULT_ZONE, LedgerDraft, LedgerEntry, StoreError, Unit
from govflow.storage import refuse_other_unit, unit_draft

from ._rows import _Conn, append_entries

__all__ = ["Units", "adopt_units"]

_COLUMNS: Final = "id, name, level, parent, supervisor"


class Units:
    """``add_unit`` and ``units`` of :class:`govflow_postgres.PostgresStore`, which supplies the connections."""

    def _connection(self) -> AbstractContextManager[_Conn]:  # pragma: no cover - PostgresStore's
        raise NotImplementedError

    def add_unit(self, unit: Unit, entry: LedgerDraft) -> LedgerEntry | None:
        """Register ``unit`` with its ledger entry in one transaction (see :meth:`govflow.Store.add_unit`)."""
        with self._connection() as conn:
            try:
                with conn.transaction():
                    if self._registered(conn, unit) is None:
                        # The entry first (the schema refuses a units row without one). Another process
                        # registering the same id waits on the chain head and then fails on the ledger's
                        # UNIQUE (issue_id, issue_seq): rolled back whole, and answered below.
                        (written,) = append_entries(conn, [(entry, ())])
                        conn.execute(
                            f"INSERT INTO units ({_COLUMNS}) VALUES (%s, %s, %s, %s, %s)",
                            (unit.id, unit.name, unit.level, unit.parent, unit.supervisor),
                        )
                        return written
            except psycopg.errors.UniqueViolation:
                pass
            if self._registered(conn, unit) is None:
                raise StoreError(f"unit {unit.id!r} could not be registered and is not stored: try again")
            return None

    @staticmethod
    def _registered(conn: _Conn, unit: Unit) -> Unit | None:
        """The stored unit of ``unit``'s id, or None; refuses another unit under that id."""
        row = conn.execute(f"SELECT {_COLUMNS} FROM units WHERE id = %s", (unit.id,)).fetchone()
        if row is None:
            return None
        stored = _unit(row)
        refuse_other_unit(stored, unit)
        return stored

    def units(self) -> list[Unit]:
        """Every unit, in insertion order."""
        with self._connection() as conn:
            rows = conn.execute(f"SELECT {_COLUMNS} FROM units ORDER BY position").fetchall()
        return [_unit(row) for row in rows]


def adopt_units(conn: _Conn) -> None:
    """Schema 6: an entry for every unit already registered, as its row stands (inside the migration)."""
    at = dt.datetime.now(DEFAULT_ZONE)
    rows = conn.execute(f"SELECT {_COLUMNS} FROM units ORDER BY position").fetchall()
    append_entries(conn, [(unit_draft(_unit(row), at, adopted=True), ()) for row in rows])


def _unit(row: tuple[object, ...]) -> Unit:
    return Unit(id=str(row[0]), name=str(row[1]), level=row[2], parent=row[3], supervisor=bool(row[4]))  # type: ignore[arg-type]
