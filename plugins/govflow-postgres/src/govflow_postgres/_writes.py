"""The commit path of ``PostgresStore``: version-checked issue rows and sealed ledger entries in one round trip
(see :mod:`govflow_postgres._store` for how writers in many processes take turns)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, suppress
from typing import Final

import attrs
import psycopg
import psycopg.errors

from govflow import ConcurrentUpdateError, Issue, LedgerDraft, LedgerEntry, OutcomeUnknown, StoreError, UnitOfWork
from govflow.storage import canonical_json, new_external_ids

from ._rows import (
    _APPEND,
    _BUMP_COUNTER,
    _DEADLOCK_RETRIES,
    _INSERT_ISSUE,
    _ISSUE_NAMES,
    _STEP,
    _Appended,
    _Conn,
    _cut,
    _issue_row,
    _Stale,
    sealed,
    write_cooperation,
)

__all__ = ["Writes"]

_LOCK_EXTERNAL_IDS: Final = (
    "SELECT pg_advisory_xact_lock(25976, hashtext(x)) FROM unnest(%s::text[]) AS x ORDER BY x"  # 25976: "ex"
)
# The partial index ledger_external_id (migration 6) answers it.
_HELD_EXTERNAL_ID: Final = (
    "SELECT issue_id FROM ledger WHERE trigger = 'assign' AND (data::jsonb ->> 'external_id') = ANY(%s) LIMIT 1"
)

#: Written and committed synchronously after a group commit, to wait for the disk (see ``_wait_for_disk``).
_FLUSH: Final = b"SELECT pg_logical_emit_message(true, 'govflow', '')"


class Writes:
    """``commit`` and ``commit_many`` of :class:`govflow_postgres.PostgresStore`, which supplies the connections
    (``_connection``), ``group_commit`` and the crash tests' ``_pause_before_commit``."""

    group_commit: bool
    where: str  # the server and schema, for messages
    # Called inside a commit, with the issue rows and the ledger rows written and the chain
    # head locked, just before ``COMMIT``: the crash tests kill the process there.
    _pause_before_commit: Callable[[], None] | None = None

    def _connection(self) -> AbstractContextManager[_Conn]:  # pragma: no cover - PostgresStore's
        raise NotImplementedError

    def commit(self, work: UnitOfWork) -> tuple[Issue, LedgerEntry]:
        """Write ``work`` in one transaction (see :meth:`govflow.Store.commit`)."""
        return self._commit([work])[0]

    def commit_many(self, works: Sequence[UnitOfWork]) -> list[tuple[Issue, LedgerEntry]]:
        """Write several units of work in one transaction: all of them, in order, or none."""
        return self._commit(list(works)) if works else []

    def _commit(self, works: list[UnitOfWork]) -> list[tuple[Issue, LedgerEntry]]:
        for attempt in range(_DEADLOCK_RETRIES + 1):
            try:
                return self._try_commit(works)
            except _Stale as stale:
                raise ConcurrentUpdateError(stale.issue_id, stale.expected, self._version(stale.issue_id)) from None
            except psycopg.errors.DeadlockDetected:
                # Only commit_many can get here (several issues, or counters, locked in an order another
                # transaction also needs); the transaction wrote nothing, so it is safe to run it again.
                if attempt == _DEADLOCK_RETRIES:
                    work = works[0]
                    raise ConcurrentUpdateError(
                        work.issue.id, work.expected_version, self._version(work.issue.id)
                    ) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _try_commit(self, works: list[UnitOfWork]) -> list[tuple[Issue, LedgerEntry]]:
        """One transaction: a single statement in autocommit for the common step (one existing issue, its
        units unchanged), else the statements in pipeline mode (one round trip, and one more per new
        issue's number)."""
        alone = len(works) == 1 and works[0].id_scope is None and not works[0].units_changed
        with self._connection() as conn:
            try:
                if alone and self._pause_before_commit is None:
                    appended = [self._step(conn, works[0])]
                else:
                    with conn.pipeline() as pipeline:
                        # BEGIN and COMMIT by hand: psycopg's transaction() would wait for each of them.
                        conn.execute("BEGIN")
                        appended = self._write(conn, pipeline, works)
                written = sealed(appended)
            except psycopg.Error as exc:
                self._rollback(conn)
                if exc.sqlstate == "GF409" and exc.diag.message_detail and exc.diag.message_hint:
                    raise _Stale(exc.diag.message_detail, int(exc.diag.message_hint)) from None
                if isinstance(exc, psycopg.OperationalError) and (conn.closed or conn.broken):
                    # The connection went while the step was on its way: it may have been committed.
                    first = works[0]
                    issue_id = first.issue.id if first.id_scope is None else None
                    raise OutcomeUnknown(self.where, issue_id, str(exc).strip() or type(exc).__name__) from exc
                raise
            except BaseException:
                self._rollback(conn)
                raise
            if self.group_commit:
                self._wait_for_disk(conn)
        return written

    @staticmethod
    def _wait_for_disk(conn: _Conn) -> None:
        """Wait until the WAL is on disk up to the commit just made (group commit).

        That commit returned before its WAL was flushed, and let the chain head go. A transaction
        committed synchronously flushes the WAL up to its own commit record, so past ours, but only
        if it wrote WAL itself (PostgreSQL skips the flush for one that did not: an id alone is not
        enough). A transactional logical message is the smallest such write: no table, no lock, and
        concurrent writers' flushes are shared by PostgreSQL's group commit.
        """
        try:
            conn.execute(_FLUSH)
        except psycopg.Error as exc:
            raise StoreError(
                "the step was committed, but waiting for it to reach the disk failed "
                f"({str(exc).strip()}): read the issue again before repeating the command"
            ) from exc

    @staticmethod
    def _rollback(conn: _Conn) -> None:
        if not conn.closed and conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            with suppress(psycopg.Error):  # if the connection broke, the pool throws it away
                conn.execute("ROLLBACK")

    def _step(self, conn: _Conn, work: UnitOfWork) -> _Appended:
        """Send the statement of a step on an existing issue (see ``_STEP``); the caller reads its answer."""
        prefix, suffix = _cut(work.entry)  # refuses data that is not JSON: nothing is written
        params = dict(zip(_ISSUE_NAMES, _issue_row(work.issue), strict=True))
        params.update(_append_params(work, work.entry, prefix, suffix))
        # None: the session's own synchronous_commit (the server's, or the operator's), left as it is.
        params.update(expected=work.expected_version, sync="off" if self.group_commit else None)
        cursor = conn.execute(_STEP.encode(), params)
        return (work.issue, work.entry, prefix, suffix, cursor)

    def _write(self, conn: _Conn, pipeline: psycopg.Pipeline, works: list[UnitOfWork]) -> list[_Appended]:
        """Queue the statements of ``works`` and COMMIT (only new ids wait for an answer); the pipeline's
        end sends them."""
        if self.group_commit:
            conn.execute("SET LOCAL synchronous_commit TO off")
        external = sorted(set(new_external_ids(works)))
        if external:
            # Imported rows: an 编号 another import has just given an issue is not given a second. Each id's
            # lock is held to COMMIT, so the check below, a statement after the wait, sees that import's rows.
            conn.execute(_LOCK_EXTERNAL_IDS, (external,))
            held = conn.execute(_HELD_EXTERNAL_ID, (external,)).fetchone()
            if held is not None:
                raise _Stale(str(held[0]), 0)
        existing = sorted({w.issue.id for w in works if w.id_scope is None})
        if existing and (len(works) > 1 or any(w.units_changed for w in works)):
            # Lock every issue row first, in id order: two batches never wait on each other in a cycle, and
            # an issue's cooperating units are rewritten under its lock, before the head is taken.
            conn.execute("SELECT 1 FROM issues WHERE id = ANY(%s::text[]) ORDER BY id FOR UPDATE", (existing,))
        appended: list[_Appended] = []
        for work in works:
            if work.id_scope is None:
                if work.units_changed:
                    write_cooperation(conn, work.issue, delete=True)
                appended.append(self._step(conn, work))
                continue
            bumped = conn.execute(_BUMP_COUNTER, (work.id_scope,)).fetchone()
            assert bumped is not None
            issue = attrs.evolve(work.issue, id=f"{work.id_scope}{int(bumped[0]):04d}")
            draft = attrs.evolve(work.entry, issue_id=issue.id)
            prefix, suffix = _cut(draft)
            conn.execute(_INSERT_ISSUE.encode(), (*_issue_row(issue), issue.id))
            write_cooperation(conn, issue, delete=False)
            cursor = conn.execute(_APPEND.encode(), _append_params(work, draft, prefix, suffix))
            appended.append((issue, draft, prefix, suffix, cursor))
        if self._pause_before_commit is not None:
            pipeline.sync()
            self._pause_before_commit()
        conn.execute("COMMIT")
        return appended

    def _version(self, issue_id: str) -> int | None:
        with self._connection() as conn:
            row = conn.execute("SELECT version FROM issues WHERE id = %s", (issue_id,)).fetchone()
        return None if row is None else int(row[0])


def _append_params(work: UnitOfWork, draft: LedgerDraft, prefix: bytes, suffix: bytes) -> dict[str, object]:
    """The parameters of ``_SEAL_AFTER_HEAD``: the entry's columns and its outbox rows."""
    return {
        "prefix": prefix, "suffix": suffix, "issue_id": draft.issue_id, "issue_seq": draft.issue_seq,
        "trigger": draft.trigger, "from_state": draft.from_state, "to_state": draft.to_state,
        "actor": draft.actor, "person": draft.person, "at": draft.at.isoformat(), "at_utc": draft.at,
        "data": canonical_json(draft.data), "hooks": [hook for hook, _ in work.notify],
        "plugins": [plugin for _, plugin in work.notify],
    }
