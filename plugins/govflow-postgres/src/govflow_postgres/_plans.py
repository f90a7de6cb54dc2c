"""Work plans in ``PostgresStore``: plan and target rows with their ledger entries, and linked issues' states.

Plan steps are few next to issue steps, so they take the plain path: one transaction that
writes the version-checked rows first, then locks the chain head, seals the entries in
Python and moves the head.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any, Final

import attrs

from govflow import ConcurrentUpdateError, LedgerEntry
from govflow.storage import PlanRow, PlanWork

from ._rows import _LEDGER_COLUMNS, _Conn, _entry, append_entries

__all__ = ["Plans"]

_ROW_COLUMNS: Final = "id, kind, plan_id, version, state, body, parent"


class _StalePlan(Exception):
    def __init__(self, row_id: str, expected: int) -> None:
        self.row_id = row_id
        self.expected = expected


class Plans:
    """``commit_plan``, ``plan_rows``, ``plan_ledger`` and ``target_issue_states`` of the PostgreSQL store."""

    def _connection(self) -> AbstractContextManager[_Conn]:  # pragma: no cover - PostgresStore's
        raise NotImplementedError

    def commit_plan(self, works: Sequence[PlanWork]) -> list[tuple[PlanRow, LedgerEntry]]:
        """Write plan and target rows with their entries in one transaction (see :meth:`govflow.Store.commit_plan`)."""
        try:
            with self._connection() as conn, conn.transaction():
                return self._write_plan(conn, works)
        except _StalePlan as stale:
            raise ConcurrentUpdateError(stale.row_id, stale.expected, self._plan_version(stale.row_id)) from None

    def _write_plan(self, conn: _Conn, works: Sequence[PlanWork]) -> list[tuple[PlanRow, LedgerEntry]]:
        existing = sorted({w.row.id for w in works if w.id_scope is None})
        if len(existing) > 1:  # lock the rows in id order first: two batches never wait on each other in a cycle
            conn.execute("SELECT 1 FROM plan_rows WHERE id = ANY(%s::text[]) ORDER BY id FOR UPDATE", (existing,))
        rows: list[tuple[PlanWork, PlanRow, Any]] = []
        for work in works:
            row, draft = work.row, work.entry
            if work.id_scope is not None:
                bumped = conn.execute(
                    "INSERT INTO counters VALUES (%s, 1) ON CONFLICT (scope) DO UPDATE"
                    " SET value = counters.value + 1 RETURNING value", (work.id_scope,),
                ).fetchone()
                assert bumped is not None
                new_id = f"{work.id_scope}{int(bumped[0]):04d}"
                row = attrs.evolve(row, id=new_id, plan_id=new_id if row.kind == "plan" else row.plan_id)
                draft = attrs.evolve(draft, issue_id=new_id)
                inserted = conn.execute(
                    f"INSERT INTO plan_rows ({_ROW_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s)"
                    " ON CONFLICT (id) DO NOTHING", attrs.astuple(row),
                ).rowcount
                if inserted != 1:
                    raise _StalePlan(row.id, 0)
            else:
                moved = conn.execute(
                    "UPDATE plan_rows SET version = %s, state = %s, body = %s WHERE id = %s AND version = %s",
                    (row.version, row.state, row.body, row.id, work.expected_version),
                ).rowcount
                if moved != 1:
                    raise _StalePlan(row.id, work.expected_version)
            rows.append((work, row, draft))
        entries = append_entries(conn, [(draft, work.notify) for work, _, draft in rows])
        return [(row, entry) for (_, row, _), entry in zip(rows, entries, strict=True)]

    def _plan_version(self, row_id: str) -> int | None:
        with self._connection() as conn:
            found = conn.execute("SELECT version FROM plan_rows WHERE id = %s", (row_id,)).fetchone()
        return None if found is None else int(found[0])

    def plan_rows(
        self, plan_id: str | None = None, *, ids: Sequence[str] | None = None, parent: str | None = None
    ) -> list[PlanRow]:
        """Plan and target rows, ordered by id."""
        where: list[str] = []
        args: list[Any] = []
        if plan_id is not None:
            where.append("plan_id = %s")
            args.append(plan_id)
        if ids is not None:
            where.append("id = ANY(%s::text[])")
            args.append(list(ids))
        text = f"SELECT {_ROW_COLUMNS} FROM plan_rows"
        if parent is not None:
            where.append("parent = %s")
            args.append(parent)
        if where:
            text += " WHERE " + " AND ".join(where)
        with self._connection() as conn:
            rows = conn.execute((text + " ORDER BY id").encode(), args).fetchall()
        return [PlanRow(*r) for r in rows]

    def plan_ledger(self, plan_id: str, until: dt.datetime | None = None) -> list[LedgerEntry]:
        """The entries of a plan and its targets at or before ``until``, in sequence order."""
        columns = ", ".join(f"l.{c.strip()}" for c in _LEDGER_COLUMNS.split(","))
        text = f"SELECT {columns} FROM plan_rows p JOIN ledger l ON l.issue_id = p.id WHERE p.plan_id = %s"
        args: list[Any] = [plan_id]
        if until is not None:
            text += " AND l.at_utc <= %s"
            args.append(until)
        with self._connection() as conn:
            rows = conn.execute((text + " ORDER BY l.seq").encode(), args).fetchall()
        return [_entry(r) for r in rows]

    def target_links(self) -> dict[str, str]:
        """Every issue linked to a target: issue id -> target id."""
        with self._connection() as conn:
            rows = conn.execute(b"SELECT issue_id, target_id FROM target_links ORDER BY issue_id").fetchall()
        return {str(issue): str(target) for issue, target in rows}

    def target_issue_states(self, plan_id: str, as_of: dt.datetime | None = None) -> dict[str, dict[str, int]]:
        """Per target of the plan, its linked issues by state (now, or at ``as_of``)."""
        if as_of is None:
            text = ("SELECT t.target_id, i.state, count(*) FROM plan_rows p JOIN target_links t ON t.target_id = p.id"
                    " JOIN issues i ON i.id = t.issue_id WHERE p.plan_id = %s GROUP BY 1, 2")
            args: tuple[Any, ...] | dict[str, Any] = (plan_id,)
        else:
            # An issue not changed since as_of was in its current state then (updated_at is its last entry's
            # time); only the others are looked up in the ledger.
            text = ("SELECT target_id, state, count(*) FROM (SELECT t.target_id, CASE"
                    " WHEN i.created_at::timestamptz > %(at)s THEN NULL"
                    " WHEN i.updated_at::timestamptz <= %(at)s THEN i.state"
                    " ELSE (SELECT l.to_state FROM ledger l WHERE l.issue_id = t.issue_id AND l.at_utc <= %(at)s"
                    " ORDER BY l.issue_seq DESC LIMIT 1) END AS state"
                    " FROM plan_rows p JOIN target_links t ON t.target_id = p.id JOIN issues i ON i.id = t.issue_id"
                    " WHERE p.plan_id = %(plan)s) s WHERE state IS NOT NULL GROUP BY 1, 2")
            args = {"at": as_of, "plan": plan_id}
        with self._connection() as conn:
            rows = conn.execute(text.encode(), args).fetchall()
        found: dict[str, dict[str, int]] = {}
        for target, state, count in rows:
            found.setdefault(str(target), {})[str(state)] = int(count)
        return dict(sorted(found.items()))
