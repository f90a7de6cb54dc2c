"""The in-memory store: for tests, examples and short-lived flows."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Protocol, TypeVar

import attrs

from .._core.errors import ConcurrentUpdateError
from .._core.ledger import GENESIS_HASH, LedgerDraft, seal
from .._core.model import Issue, LedgerEntry, Unit
from .facts import FactsQuery, OverdueAtEnd, UnitFacts, compute_facts, compute_overdue
from .plans import PlanRow, PlanWork, compute_link_states
from .protocol import IssueQuery, OutboxRow, UnitOfWork, external_ids_taken, refuse_other_unit

__all__ = ["MemoryStore"]


class _HasVersion(Protocol):
    @property
    def version(self) -> int: ...


class _WriteWork(Protocol):
    @property
    def id_scope(self) -> str | None: ...
    @property
    def expected_version(self) -> int: ...


#: An issue or a plan row, and the unit of work that writes it (UnitOfWork, PlanWork).
_Versioned = TypeVar("_Versioned", bound=_HasVersion)
_Work = TypeVar("_Work", bound=_WriteWork)


class MemoryStore:
    """A :class:`~govflow.Store` held in dictionaries, guarded by one lock."""

    schema_version = 1

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._units: dict[str, Unit] = {}
        self._issues: dict[str, Issue] = {}
        self._entries: list[LedgerEntry] = []
        # Tuples, not lists: most issues have a handful of entries, and a tuple is half the size.
        # An issue's entries: the entry itself while it has one (most issues, most of the time: no container
        # per issue), then a list appended to (a step costs O(1)). Read through _entries_of.
        self._by_issue: dict[str, LedgerEntry | list[LedgerEntry]] = {}
        self._counters: dict[str, int] = {}
        self._head: tuple[int, str] = (0, GENESIS_HASH)
        self._lifecycles: dict[tuple[str, int], str] = {}
        self._outbox: dict[int, OutboxRow] = {}
        # The ids of the pending rows, in id order (keys only): claims and pending listings walk
        # these, not every row ever written, most of which are done once a flow has run a while.
        self._pending: dict[int, None] = {}
        self._claims: dict[int, dt.datetime] = {}
        self._plan_rows: dict[str, PlanRow] = {}
        self._links: dict[str, str] = {}  # issue id -> target id, from the assign entries
        self._external: dict[str, str] = {}  # external id (imported 编号) -> issue id, from the assign entries

    def add_unit(self, unit: Unit, entry: LedgerDraft) -> LedgerEntry | None:
        """Register ``unit`` with its ledger entry (see :meth:`govflow.Store.add_unit`)."""
        with self._lock:
            existing = self._units.get(unit.id)
            if existing is not None:
                refuse_other_unit(existing, unit)
                return None
            sealed = seal(entry, self._head[0] + 1, self._head[1])
            self._units[unit.id] = unit
            self._entries.append(sealed)
            self._append(sealed.issue_id, sealed)
            self._head = (sealed.seq, sealed.hash)
            return sealed

    def units(self) -> list[Unit]:
        """Every unit, in insertion order."""
        return list(self._units.values())

    def load(self, issue_id: str) -> Issue | None:
        """The current snapshot of one issue, or None."""
        return self._issues.get(issue_id)

    def query(self, query: IssueQuery) -> list[Issue]:
        """The issues matching ``query``, ordered by id."""
        return sorted(
            (issue for issue in list(self._issues.values()) if query.matches(issue)),
            key=lambda issue: issue.id,
        )

    def _append(self, subject: str, entry: LedgerEntry) -> None:
        found = self._by_issue.get(subject)
        if found is None:
            self._by_issue[subject] = entry
        elif isinstance(found, list):
            found.append(entry)
        else:
            self._by_issue[subject] = [found, entry]

    def _entries_of(self, subject: str) -> Sequence[LedgerEntry]:
        found = self._by_issue.get(subject)
        if found is None:
            return ()
        return found if isinstance(found, list) else (found,)

    def commit(self, work: UnitOfWork) -> tuple[Issue, LedgerEntry]:
        """Write ``work`` atomically (see :meth:`govflow.Store.commit`)."""
        if work.id_scope is not None:
            return self.commit_many([work])[0]
        # One step on an existing issue (every flow.fire): what commit_many does for it, without its lists.
        issue = work.issue
        with self._lock:
            found = self._issues.get(issue.id)
            if found is None or found.version != work.expected_version:
                raise ConcurrentUpdateError(issue.id, work.expected_version, None if found is None else found.version)
            head = self._head
            entry = seal(work.entry, head[0] + 1, head[1])  # refuses data that is not JSON: nothing written yet
            self._head = (entry.seq, entry.hash)
            self._write(work, issue, entry)
        return issue, entry

    def _write(self, work: UnitOfWork, issue: Issue, entry: LedgerEntry) -> None:
        """Plain assignments that cannot fail half-way (the lock is held; versions were checked, the entry sealed)."""
        self._issues[issue.id] = issue
        self._entries.append(entry)
        self._append(issue.id, entry)
        if entry.trigger == "assign":
            if isinstance(entry.data.get("target"), str):
                self._links[issue.id] = entry.data["target"]
            if isinstance(entry.data.get("external_id"), str):
                self._external[entry.data["external_id"]] = issue.id
        if work.notify:
            self._add_outbox(entry, work.notify)

    def commit_many(self, works: Sequence[UnitOfWork]) -> list[tuple[Issue, LedgerEntry]]:
        """Write several units of work at once: all of them, or none."""

        def numbered(work: UnitOfWork, new_id: str) -> tuple[Issue, LedgerDraft]:
            return attrs.evolve(work.issue, id=new_id), attrs.evolve(work.entry, issue_id=new_id)

        with self._lock:
            taken = external_ids_taken(works, self._external)
            if taken is not None:
                raise ConcurrentUpdateError(taken, 0, self._issues[taken].version)
            planned = self._plan_writes(
                works, self._issues, lambda w: (w.issue.id, w.issue.version, w.issue, w.entry), numbered)
            # Only now write: plain assignments that cannot fail half-way.
            for work, issue, entry in planned:
                self._write(work, issue, entry)
            return [(issue, entry) for _, issue, entry in planned]

    def _plan_writes(
        self,
        works: Sequence[_Work],
        current: Mapping[str, _Versioned],
        subject: Callable[[_Work], tuple[str, int, _Versioned, LedgerDraft]],
        numbered: Callable[[_Work, str], tuple[_Versioned, LedgerDraft]],
    ) -> list[tuple[_Work, _Versioned, LedgerEntry]]:
        """Check every version (a subject may appear several times, each step on the last), number the new
        subjects and seal every entry (sealing refuses data that is not JSON); then move the counters and the
        chain head. Raises before anything is written; the caller writes what it returns."""
        versions: dict[str, int | None] = {}
        for work in works:
            if work.id_scope is not None:
                continue
            subject_id, new_version, _, _ = subject(work)
            if subject_id not in versions:
                found = current.get(subject_id)
                versions[subject_id] = None if found is None else found.version
            if versions[subject_id] is None or versions[subject_id] != work.expected_version:
                raise ConcurrentUpdateError(subject_id, work.expected_version, versions[subject_id])
            versions[subject_id] = new_version
        counters: dict[str, int] = {}
        head = self._head
        planned: list[tuple[_Work, _Versioned, LedgerEntry]] = []
        for work in works:
            _, _, value, draft = subject(work)
            if work.id_scope is not None:
                number = counters.get(work.id_scope, self._counters.get(work.id_scope, 0)) + 1
                counters[work.id_scope] = number
                value, draft = numbered(work, f"{work.id_scope}{number:04d}")
            entry = seal(draft, head[0] + 1, head[1])
            head = (entry.seq, entry.hash)
            planned.append((work, value, entry))
        self._counters.update(counters)
        self._head = head
        return planned

    def _add_outbox(self, entry: LedgerEntry, notify: tuple[tuple[str, str], ...]) -> None:
        """Outbox rows for a sealed entry (the lock is held)."""
        for hook, plugin in notify:
            row_id = len(self._outbox) + 1
            self._outbox[row_id] = OutboxRow(
                id=row_id, seq=entry.seq, hook=hook, plugin=plugin, status="pending", attempts=0,
                next_attempt_at=entry.at, created_at=entry.at,
            )
            self._pending[row_id] = None  # the highest id yet: id order is kept

    def ledger(
        self,
        issue_id: str | None = None,
        *,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        trigger: str | None = None,
    ) -> Iterator[LedgerEntry]:
        """Ledger entries in sequence order (see :meth:`govflow.Store.ledger`)."""
        with self._lock:  # a commit's entries, issues and head appear together
            entries = list(self._entries if issue_id is None else self._entries_of(issue_id))
        for entry in entries:
            if trigger is not None and entry.trigger != trigger:
                continue
            if since is not None and entry.at < since:
                continue
            if until is not None and entry.at >= until:
                continue
            yield entry

    def period_facts(self, query: FactsQuery) -> dict[str, UnitFacts]:
        """Per-unit facts of a period (the reference semantics, :func:`compute_facts`)."""
        return compute_facts(list(self._entries), query)

    def overdue_at_end(self, query: FactsQuery) -> list[OverdueAtEnd]:
        """Issues overdue at the period's end (the reference semantics, :func:`compute_overdue`)."""
        return compute_overdue(list(self._entries), query)

    def entry(self, seq: int) -> LedgerEntry | None:
        """One ledger entry by its global sequence number."""
        with self._lock:
            return self._entries[seq - 1] if 0 < seq <= len(self._entries) else None

    def chain_head(self) -> tuple[int, str]:
        """The (seq, hash) of the last ledger entry."""
        with self._lock:
            return self._head

    def issue_versions(self) -> Mapping[str, tuple[int, str]]:
        """Each issue's (version, state)."""
        with self._lock:
            found = {issue_id: (i.version, i.state) for issue_id, i in self._issues.items()}
            found.update((row.id, (row.version, row.state)) for row in self._plan_rows.values())
            return found

    def commit_plan(self, works: Sequence[PlanWork]) -> list[tuple[PlanRow, LedgerEntry]]:
        """Write plan and target rows with their entries at once: all of them, or none."""

        def numbered(work: PlanWork, new_id: str) -> tuple[PlanRow, LedgerDraft]:
            row = attrs.evolve(work.row, id=new_id, plan_id=new_id if work.row.kind == "plan" else work.row.plan_id)
            return row, attrs.evolve(work.entry, issue_id=new_id)

        with self._lock:
            planned = self._plan_writes(
                works, self._plan_rows, lambda w: (w.row.id, w.row.version, w.row, w.entry), numbered)
            for work, row, entry in planned:
                self._plan_rows[row.id] = row
                self._entries.append(entry)
                self._append(row.id, entry)
                self._add_outbox(entry, work.notify)
            return [(row, entry) for _, row, entry in planned]

    def plan_rows(
        self, plan_id: str | None = None, *, ids: Sequence[str] | None = None, parent: str | None = None
    ) -> list[PlanRow]:
        """Plan and target rows, ordered by id."""
        with self._lock:
            rows = list(self._plan_rows.values())
        wanted = None if ids is None else set(ids)
        return sorted(
            (r for r in rows if (plan_id is None or r.plan_id == plan_id) and (wanted is None or r.id in wanted)
             and (parent is None or r.parent == parent)),
            key=lambda r: r.id,
        )

    def plan_ledger(self, plan_id: str, until: dt.datetime | None = None) -> list[LedgerEntry]:
        """The entries of a plan and its targets at or before ``until``, in sequence order."""
        with self._lock:
            ids = [r.id for r in self._plan_rows.values() if r.plan_id == plan_id]
            found = [e for row_id in ids for e in self._entries_of(row_id) if until is None or e.at <= until]
        return sorted(found, key=lambda e: e.seq)

    def target_links(self) -> dict[str, str]:
        """Every issue linked to a target: issue id -> target id."""
        with self._lock:
            return dict(sorted(self._links.items()))

    def target_issue_states(self, plan_id: str, as_of: dt.datetime | None = None) -> dict[str, dict[str, int]]:
        """Per target of the plan, its linked issues by state (the reference, :func:`compute_link_states`)."""
        with self._lock:
            targets = {r.id for r in self._plan_rows.values() if r.plan_id == plan_id and r.kind == "target"}
            issues = [i for i, t in self._links.items() if t in targets]
            entries = sorted((e for i in issues for e in self._entries_of(i)), key=lambda e: e.seq)
        return compute_link_states(entries, targets, as_of)

    def save_lifecycle(self, name: str, version: int, definition: str) -> None:
        """Keep a lifecycle definition."""
        with self._lock:
            self._lifecycles[name, version] = definition

    def lifecycles(self) -> list[tuple[str, int, str]]:
        """The stored lifecycle definitions."""
        return [(name, version, text) for (name, version), text in sorted(self._lifecycles.items())]

    def claim_outbox(self, now: dt.datetime, lease: dt.timedelta, limit: int) -> list[OutboxRow]:
        """Claim due pending rows no other worker holds (see :meth:`govflow.Store.claim_outbox`)."""
        with self._lock:
            claimed: list[OutboxRow] = []
            for row_id in self._pending:
                if len(claimed) >= limit:
                    break
                row = self._outbox[row_id]
                held = self._claims.get(row.id)
                if row.next_attempt_at <= now and (held is None or held <= now):
                    self._claims[row.id] = now + lease
                    claimed.append(row)
            return claimed

    def finish_outbox(self, row_id: int, *, error: str | None, retry_at: dt.datetime | None) -> None:
        """Record an attempt on a row."""
        with self._lock:
            row = self._outbox[row_id]
            self._claims.pop(row_id, None)
            if error is None:
                row = attrs.evolve(row, status="done", attempts=row.attempts + 1)
            else:
                row = attrs.evolve(
                    row, status="pending" if retry_at else "dead", attempts=row.attempts + 1,
                    next_attempt_at=retry_at or row.next_attempt_at, last_error=error,
                )
            self._outbox[row_id] = row
            if row.status == "pending":
                # Usually already there (a retry); not when a row already finished is finished again.
                self._add_pending([row_id])
            else:
                self._pending.pop(row_id, None)

    def release_outbox(self, row_id: int) -> None:
        """Give a claimed row back untouched."""
        with self._lock:
            self._claims.pop(row_id, None)

    def outbox(self, status: str) -> list[OutboxRow]:
        """The rows in ``status``, by id."""
        with self._lock:
            if status == "pending":
                return [self._outbox[row_id] for row_id in self._pending]
            return [row for row in self._outbox.values() if row.status == status]

    def requeue_outbox(self, row_ids: list[int] | None, now: dt.datetime) -> int:
        """Make dead rows pending again."""
        with self._lock:
            ids = [i for i, row in self._outbox.items() if row.status == "dead"
                   and (row_ids is None or i in row_ids)]
            for i in ids:
                self._outbox[i] = attrs.evolve(self._outbox[i], status="pending", attempts=0, next_attempt_at=now)
            self._add_pending(ids)
            return len(ids)

    def _add_pending(self, row_ids: list[int]) -> None:
        """Index rows that became pending again, keeping the index in id order (the lock is held)."""
        new = [row_id for row_id in row_ids if row_id not in self._pending]
        if not new:
            return
        last = next(reversed(self._pending), 0)
        self._pending.update(dict.fromkeys(new))
        if min(new) < last or new != sorted(new):
            # A requeued dead row is older than rows pending since: rebuild in id order (rare).
            self._pending = dict.fromkeys(sorted(self._pending))

    def close(self) -> None:
        """Nothing to release."""
