"""The statements and row conversions behind ``PostgresStore`` (see :mod:`govflow_postgres._store`)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from typing import Any, Final

import psycopg

from govflow import (
    ExtensionRequest,
    FieldState,
    Issue,
    LedgerDraft,
    LedgerEntry,
    OutboxRow,
    Responsible,
    StoreError,
    canonical_bytes,
)
from govflow.storage import canonical_json, parse_stored_at, parse_stored_data, seal

_Conn = psycopg.Connection[tuple[Any, ...]]

_ISSUE_COLUMNS: Final = (
    "id, title, description, category, lead, cooperating, responsible, due, original_due, "
    "state, version, lifecycle, lifecycle_version, rework_count, created_at, updated_at, "
    "accepted_at, extension, extension_count, due_provisional, due_basis, escalation_level, escalation_steps, "
    "field"
)
_ISSUE_NAMES: Final = [c.strip() for c in _ISSUE_COLUMNS.split(",")]
# The version check: a statement that writes the issue row or raises SQLSTATE GF409 (see migration 2).
_INSERT_ISSUE: Final = (
    f"WITH w AS (INSERT INTO issues ({_ISSUE_COLUMNS}) VALUES ({', '.join(['%s'] * len(_ISSUE_NAMES))})"
    " ON CONFLICT (id) DO NOTHING RETURNING 1)"
    " SELECT CASE WHEN EXISTS (SELECT 1 FROM w) THEN 1 ELSE govflow_stale(%s, 0) END"
)
# What follows the head lock ``h``: seal after it in SQL (sha256 over the canonical bytes, whose only
# unknowns are prev_hash and seq, adjacent in the sorted keys), insert the entry and its outbox rows, move
# the head. The head stays locked until COMMIT, so nothing else is done after it.
_SEAL_AFTER_HEAD: Final = """
e AS (
    SELECT seq + 1 AS seq, hash AS prev,
        encode(sha256(%(prefix)s::bytea || convert_to(hash || '","seq":' || (seq + 1)::text || ',', 'UTF8')
                      || %(suffix)s::bytea), 'hex') AS hash
    FROM h
),
l AS (
    INSERT INTO ledger (seq, issue_id, issue_seq, trigger, from_state, to_state, actor, person, at, at_utc, data,
                        prev_hash, hash)
    SELECT seq, %(issue_id)s, %(issue_seq)s, %(trigger)s, %(from_state)s, %(to_state)s, %(actor)s, %(person)s,
        %(at)s, %(at_utc)s, %(data)s, prev, hash FROM e
),
o AS (
    INSERT INTO outbox (seq, hook, plugin, status, attempts, next_attempt_at, created_at)
    SELECT e.seq, n.hook, n.plugin, 'pending', 0, %(at_utc)s, %(at_utc)s
    FROM e, unnest(%(hooks)s::text[], %(plugins)s::text[]) WITH ORDINALITY AS n (hook, plugin, k) ORDER BY n.k
),
m AS (UPDATE chain_head SET seq = e.seq, hash = e.hash FROM e WHERE chain_head.id = 1)
SELECT seq, prev, hash FROM e
"""
# Append one entry to an issue row written by an earlier statement of the transaction.
_APPEND: Final = "WITH h AS (SELECT seq, hash FROM chain_head WHERE id = 1 FOR UPDATE)," + _SEAL_AFTER_HEAD
# A whole step on an existing issue in one statement, so that on its own it is its own transaction
# (autocommit): the version-checked update (SQLSTATE GF409 if stale: nothing written), then the head
# lock, taken only once the update has gone through, and the append. ``sync`` is synchronous_commit
# for the transaction (see ``group_commit``; NULL leaves the session's). The head lock sits above the
# join with ``checked`` in the plan, so a stale version raises before the head is locked.
_STEP: Final = (
    f"WITH w AS (UPDATE issues SET {', '.join(f'{c} = %({c})s' for c in _ISSUE_NAMES[1:])}"
    " WHERE id = %(id)s AND version = %(expected)s RETURNING 1),"
    " checked AS (SELECT CASE WHEN EXISTS (SELECT 1 FROM w) THEN 1 ELSE govflow_stale(%(id)s, %(expected)s) END"
    " AS ok, set_config('synchronous_commit', coalesce(%(sync)s, current_setting('synchronous_commit')), true)),"
    " h AS (SELECT seq, hash FROM chain_head, checked WHERE id = 1 AND checked.ok = 1 FOR UPDATE OF chain_head),"
    + _SEAL_AFTER_HEAD
)
_LEDGER_COLUMNS: Final = (
    "seq, issue_id, issue_seq, trigger, from_state, to_state, actor, person, at, data, prev_hash, hash, at_utc"
)
#: Stand-ins for prev_hash and seq when the canonical bytes are cut around them.
_CUT_HASH: Final = "~" * 64
_CUT_SEQ: Final = -987654321
_CUT: Final = f'"prev_hash":"{_CUT_HASH}","seq":{_CUT_SEQ},'.encode()
_OUTBOX_COLUMNS: Final = "id, seq, hook, plugin, status, attempts, next_attempt_at, created_at, last_error"
_BUMP_COUNTER: Final = (
    "INSERT INTO counters (scope, value) VALUES (%s, 1)"
    " ON CONFLICT (scope) DO UPDATE SET value = counters.value + 1 RETURNING value"
)
#: Ledger rows per round trip when the ledger is read.
_PAGE: Final = 5000
#: How often a transaction that PostgreSQL chose as a deadlock victim is run again (it wrote nothing).
_DEADLOCK_RETRIES: Final = 5

_date = dt.date.fromisoformat
_datetime = dt.datetime.fromisoformat


# What an append statement needs after the round trip: the issue, the draft, the cut canonical bytes, its cursor.
_Appended = tuple[Issue, LedgerDraft, bytes, bytes, "psycopg.Cursor[tuple[Any, ...]]"]


class _Stale(Exception):
    """Raised inside a transaction to roll it back: an issue was not at the version named."""

    def __init__(self, issue_id: str, expected: int) -> None:
        super().__init__(issue_id, expected)
        self.issue_id = issue_id
        self.expected = expected


def _cut(draft: LedgerDraft) -> tuple[bytes, bytes]:
    """The canonical bytes of ``draft`` before and after ``prev_hash``'s value and ``seq`` (see _APPEND).

    The keys are sorted, so ``"prev_hash":"…","seq":…,`` is one run, followed only by ``to_state``
    and ``trigger``, whose string values cannot hold an unescaped quote: its last occurrence is the one.
    """
    whole = canonical_bytes(
        seq=_CUT_SEQ, issue_id=draft.issue_id, issue_seq=draft.issue_seq, trigger=draft.trigger,
        from_state=draft.from_state, to_state=draft.to_state, actor=draft.actor, person=draft.person,
        at=draft.at, data=draft.data, prev_hash=_CUT_HASH,
    )
    at = whole.rfind(_CUT)
    cut = len('"prev_hash":"')
    return whole[: at + cut], whole[at + len(_CUT):]



def _issue_row(issue: Issue) -> tuple[Any, ...]:
    return (
        issue.id, issue.title, issue.description, issue.category, issue.lead, list(issue.cooperating),
        None if issue.responsible is None else canonical_json(issue.responsible.as_dict()),
        issue.due, issue.original_due, issue.state, issue.version,
        issue.lifecycle, issue.lifecycle_version, issue.rework_count,
        issue.created_at.isoformat(), issue.updated_at.isoformat(),
        None if issue.accepted_at is None else issue.accepted_at.isoformat(),
        None if issue.extension is None else canonical_json(issue.extension.as_dict()),
        issue.extension_count, issue.due_provisional,
        None if issue.due_basis is None else canonical_json([issue.due_basis[0].isoformat(), issue.due_basis[1]]),
        issue.escalation_level, issue.escalation_steps,
        None if issue.field is None else canonical_json(issue.field.as_dict()),
    )


def _issue(row: Sequence[Any]) -> Issue:
    (id_, title, description, category, lead, cooperating, responsible, due, original_due,
     state, version, lifecycle, lifecycle_version, rework_count, created_at, updated_at,
     accepted_at, extension, extension_count, due_provisional, due_basis, escalation_level,
     escalation_steps, field) = row
    basis = None if due_basis is None else json.loads(due_basis)
    return Issue(
        id=id_, title=title, description=description, category=category, lead=lead,
        cooperating=tuple(cooperating),
        responsible=None if responsible is None else Responsible(**json.loads(responsible)),
        due=due, original_due=original_due, state=state, version=version,
        lifecycle=lifecycle, lifecycle_version=lifecycle_version, rework_count=rework_count,
        created_at=_datetime(created_at), updated_at=_datetime(updated_at),
        accepted_at=None if accepted_at is None else _datetime(accepted_at),
        extension=None if extension is None else ExtensionRequest.from_dict(json.loads(extension)),
        extension_count=extension_count, due_provisional=due_provisional,
        due_basis=None if basis is None else (_date(basis[0]), int(basis[1])),
        escalation_level=escalation_level, escalation_steps=escalation_steps,
        field=None if field is None else FieldState.from_dict(json.loads(field)),
    )


def _entry(row: Sequence[Any]) -> LedgerEntry:
    seq, issue_id, issue_seq, trigger, from_state, to_state, actor, person, at, data, prev, h, at_utc = row
    when = parse_stored_at(seq, at)
    stored_at = at
    if at_utc != when:
        # The period facts select on at_utc: an instant other than the hashed one must not verify.
        stored_at = f"{at} (at_utc {at_utc.isoformat() if at_utc is not None else None})"
    return LedgerEntry(
        seq=seq, issue_id=issue_id, issue_seq=issue_seq, trigger=trigger, from_state=from_state,
        to_state=to_state, actor=actor, person=person, at=when, data=parse_stored_data(seq, data),
        prev_hash=prev, hash=h, stored=(stored_at, data),
    )


def _outbox_row(row: Sequence[Any]) -> OutboxRow:
    id_, seq, hook, plugin, status, attempts, next_at, created, error = row
    return OutboxRow(
        id=id_, seq=seq, hook=hook, plugin=plugin, status=status, attempts=attempts,
        next_attempt_at=next_at, created_at=created, last_error=error,
    )


def sealed(appended: list[_Appended]) -> list[tuple[Issue, LedgerEntry]]:
    """The stored issues and sealed entries, from the answers of the append statements."""
    written: list[tuple[Issue, LedgerEntry]] = []
    for issue, draft, prefix, suffix, cursor in appended:
        found = cursor.fetchone()
        assert found is not None
        seq, prev, digest = int(found[0]), str(found[1]), str(found[2])
        if hashlib.sha256(prefix + f'{prev}","seq":{seq},'.encode() + suffix).hexdigest() != digest:
            raise StoreError(f"PostgreSQL sealed ledger entry {seq} with a hash govflow does not compute")
        entry = LedgerEntry(
            seq=seq, issue_id=draft.issue_id, issue_seq=draft.issue_seq, trigger=draft.trigger,
            from_state=draft.from_state, to_state=draft.to_state, actor=draft.actor, person=draft.person,
            at=draft.at, data=draft.data, prev_hash=prev, hash=digest,
        )
        written.append((issue, entry))
    return written


def write_cooperation(conn: _Conn, issue: Issue, *, delete: bool) -> None:
    if delete:
        conn.execute("DELETE FROM cooperation WHERE issue_id = %s", (issue.id,))
    if issue.cooperating:
        conn.execute(
            "INSERT INTO cooperation (unit, issue_id) SELECT unnest(%s::text[]), %s",
            (list(issue.cooperating), issue.id),
        )


def append_entries(
    conn: _Conn, drafts: Sequence[tuple[LedgerDraft, Sequence[tuple[str, str]]]]
) -> list[LedgerEntry]:
    """Seal ``drafts`` after the chain head, in order, with their outbox rows ``(hook, plugin)``, and move
    the head once (locked until the transaction ends): the plain path of the writes that are not issue
    steps (plans and targets, units), which are few."""
    head = conn.execute("SELECT seq, hash FROM chain_head WHERE id = 1 FOR UPDATE").fetchone()
    assert head is not None  # migration 1 writes the row
    seq, prev = int(head[0]), str(head[1])
    written: list[LedgerEntry] = []
    for draft, notify in drafts:
        entry = seal(draft, seq + 1, prev)
        seq, prev = entry.seq, entry.hash
        conn.execute(
            "INSERT INTO ledger (seq, issue_id, issue_seq, trigger, from_state, to_state, actor, person, at,"
            " at_utc, data, prev_hash, hash) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (entry.seq, entry.issue_id, entry.issue_seq, entry.trigger, entry.from_state, entry.to_state,
             entry.actor, entry.person, entry.at.isoformat(), entry.at, canonical_json(entry.data),
             entry.prev_hash, entry.hash),
        )
        for hook, plugin in notify:
            conn.execute(
                "INSERT INTO outbox (seq, hook, plugin, status, attempts, next_attempt_at, created_at)"
                " VALUES (%s, %s, %s, 'pending', 0, %s, %s)", (entry.seq, hook, plugin, entry.at, entry.at),
            )
        written.append(entry)
    if written:
        conn.execute("UPDATE chain_head SET seq = %s, hash = %s WHERE id = 1", (seq, prev))
    return written
