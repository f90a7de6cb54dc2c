"""Work plans in the SQLite store: plan and target rows with their ledger entries, and linked issues' states.

A mixin of :class:`~govflow._stores.sqlite.store.SQLiteStore`, which supplies the connection,
its lock, the write transaction and the chain head.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import attrs

from ..._core.clock import DEFAULT_ZONE
from ..._core.errors import ConcurrentUpdateError
from ..._core.ledger import LedgerDraft, canonical_json
from ..._core.model import LedgerEntry
from ..plans import PlanRow, PlanWork
from .rows import LEDGER_COLUMNS, entry_from_row

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

__all__ = ["PlansMixin", "text_instant"]

_ROW_COLUMNS = "id, kind, plan_id, version, state, body, parent"


def text_instant(when: dt.datetime) -> str:
    """``when`` as the ledger's ``at`` and the issues' times compare as text (govflow writes every one at
    Asia/Shanghai time, so text order is time order)."""
    return when.astimezone(DEFAULT_ZONE).isoformat()


class PlansMixin:
    """``commit_plan``, ``plan_rows``, ``plan_ledger`` and ``target_issue_states`` of the SQLite store."""

    _db: sqlite3.Connection
    _lock: threading.RLock

    if TYPE_CHECKING:

        def _transaction(self) -> AbstractContextManager[None]: ...

        def _append_entry(self, draft: LedgerDraft, notify: tuple[tuple[str, str], ...] = ()) -> LedgerEntry: ...

    def commit_plan(self, works: Sequence[PlanWork]) -> list[tuple[PlanRow, LedgerEntry]]:
        """Write plan and target rows with their entries in one transaction (see :meth:`govflow.Store.commit_plan`)."""
        with self._transaction():
            return [self._write_plan(work) for work in works]

    def _write_plan(self, work: PlanWork) -> tuple[PlanRow, LedgerEntry]:
        db = self._db
        row, draft = work.row, work.entry
        if work.id_scope is not None:
            found = db.execute("SELECT value FROM counters WHERE scope = ?", (work.id_scope,)).fetchone()
            number = 1 if found is None else found[0] + 1
            db.execute("INSERT OR REPLACE INTO counters VALUES (?, ?)", (work.id_scope, number))
            new_id = f"{work.id_scope}{number:04d}"
            row = attrs.evolve(row, id=new_id, plan_id=new_id if row.kind == "plan" else row.plan_id)
            draft = attrs.evolve(draft, issue_id=new_id)
            try:
                db.execute(f"INSERT INTO plan_rows ({_ROW_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)", attrs.astuple(row))
            except sqlite3.IntegrityError:
                raise ConcurrentUpdateError(row.id, 0, self._plan_version(row.id)) from None
        else:
            moved = db.execute(
                "UPDATE plan_rows SET version = ?, state = ?, body = ? WHERE id = ? AND version = ?",
                (row.version, row.state, row.body, row.id, work.expected_version),
            ).rowcount
            if moved != 1:
                raise ConcurrentUpdateError(row.id, work.expected_version, self._plan_version(row.id))
        return row, self._append_entry(draft, work.notify)

    def _plan_version(self, row_id: str) -> int | None:
        found = self._db.execute("SELECT version FROM plan_rows WHERE id = ?", (row_id,)).fetchone()
        return None if found is None else int(found[0])

    def plan_rows(
        self, plan_id: str | None = None, *, ids: Sequence[str] | None = None, parent: str | None = None
    ) -> list[PlanRow]:
        """Plan and target rows, ordered by id."""
        sql = f"SELECT {_ROW_COLUMNS} FROM plan_rows"
        where: list[str] = []
        args: list[Any] = []
        if plan_id is not None:
            where.append("plan_id = ?")
            args.append(plan_id)
        if ids is not None:
            where.append("id IN (SELECT value FROM json_each(?))")
            args.append(canonical_json(list(ids)))
        if parent is not None:
            where.append("parent = ?")
            args.append(parent)
        if where:
            sql += " WHERE " + " AND ".join(where)
        with self._lock:
            rows = self._db.execute(sql + " ORDER BY id", args).fetchall()
        return [PlanRow(*r) for r in rows]

    def plan_ledger(self, plan_id: str, until: dt.datetime | None = None) -> list[LedgerEntry]:
        """The entries of a plan and its targets at or before ``until``, in sequence order."""
        columns = ", ".join(f"l.{c.strip()}" for c in LEDGER_COLUMNS.split(","))
        sql = (f"SELECT {columns} FROM plan_rows p JOIN ledger l ON l.issue_id = p.id WHERE p.plan_id = ?")
        args: list[Any] = [plan_id]
        if until is not None:
            sql += " AND l.at <= ?"
            args.append(text_instant(until))
        with self._lock:
            rows = self._db.execute(sql + " ORDER BY l.seq", args).fetchall()
        return [entry_from_row(r) for r in rows]

    def target_links(self) -> dict[str, str]:
        """Every issue linked to a target: issue id -> target id."""
        with self._lock:
            rows = self._db.execute("SELECT issue_id, target_id FROM target_links ORDER BY issue_id").fetchall()
        return {str(issue): str(target) for issue, target in rows}

    def target_issue_states(self, plan_id: str, as_of: dt.datetime | None = None) -> dict[str, dict[str, int]]:
        """Per target of the plan, its linked issues by state (now, or at ``as_of``)."""
        if as_of is None:
            sql = ("SELECT t.target_id, i.state, count(*) FROM plan_rows p JOIN target_links t ON t.target_id = p.id"
                   " JOIN issues i ON i.id = t.issue_id WHERE p.plan_id = ? GROUP BY 1, 2")
            args: tuple[Any, ...] | dict[str, Any] = (plan_id,)
        else:
            # An issue not changed since as_of was in its current state then (updated_at is its last entry's
            # time); only the others are looked up in the ledger.
            sql = ("SELECT target_id, state, count(*) FROM (SELECT t.target_id, CASE"
                   " WHEN i.created_at > :at THEN NULL WHEN i.updated_at <= :at THEN i.state"
                   " ELSE (SELECT l.to_state FROM ledger l WHERE l.issue_id = t.issue_id AND l.at <= :at"
                   " ORDER BY l.issue_seq DESC LIMIT 1) END AS state"
                   " FROM plan_rows p JOIN target_links t ON t.target_id = p.id JOIN issues i ON i.id = t.issue_id"
                   " WHERE p.plan_id = :plan) WHERE state IS NOT NULL GROUP BY 1, 2")
            args = {"at": text_instant(as_of), "plan": plan_id}
        with self._lock:
            rows = self._db.execute(sql, args).fetchall()
        found: dict[str, dict[str, int]] = {}
        for target, state, count in rows:
            found.setdefault(target, {})[state] = int(count)
        return dict(sorted(found.items()))
