"""The in-memory store: for tests, examples and short-lived flows."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator, Mapping

import attrs

from ._exceptions import ConcurrentUpdateError
from ._ledger import GENESIS_HASH, seal
from ._model import Issue, LedgerEntry, Unit
from ._store import IssueQuery, UnitOfWork

__all__ = ["MemoryStore"]


class MemoryStore:
    """A :class:`~govflow.Store` held in dictionaries, guarded by one lock."""

    schema_version = 1

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._units: dict[str, Unit] = {}
        self._issues: dict[str, Issue] = {}
        self._entries: list[LedgerEntry] = []
        self._by_issue: dict[str, list[LedgerEntry]] = {}
        self._counters: dict[str, int] = {}
        self._head: tuple[int, str] = (0, GENESIS_HASH)
        self._lifecycles: dict[tuple[str, int], str] = {}

    def add_unit(self, unit: Unit) -> None:
        """Store a unit (insert, or replace one with the same id)."""
        with self._lock:
            self._units[unit.id] = unit

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

    def commit(self, work: UnitOfWork) -> tuple[Issue, LedgerEntry]:
        """Write ``work`` atomically (see :meth:`govflow.Store.commit`)."""
        with self._lock:
            issue, draft = work.issue, work.entry
            if work.id_scope is not None:
                number = self._counters.get(work.id_scope, 0) + 1
                issue_id = f"{work.id_scope}{number:04d}"
                if issue_id in self._issues:
                    raise ConcurrentUpdateError(issue_id, 0, self._issues[issue_id].version)
                issue = attrs.evolve(issue, id=issue_id)
                draft = attrs.evolve(draft, issue_id=issue_id)
            else:
                number = 0
                current = self._issues.get(issue.id)
                actual = None if current is None else current.version
                if actual != (work.expected_version or None):
                    raise ConcurrentUpdateError(issue.id, work.expected_version, actual)
            seq = self._head[0] + 1
            entry = seal(draft, seq, self._head[1])
            # Nothing above can fail half-way; from here on every write is a plain assignment.
            if work.id_scope is not None:
                self._counters[work.id_scope] = number
            self._issues[issue.id] = issue
            self._entries.append(entry)
            self._by_issue.setdefault(issue.id, []).append(entry)
            self._head = (seq, entry.hash)
            return issue, entry

    def ledger(
        self,
        issue_id: str | None = None,
        *,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
    ) -> Iterator[LedgerEntry]:
        """Ledger entries in sequence order (see :meth:`govflow.Store.ledger`)."""
        entries = self._entries if issue_id is None else self._by_issue.get(issue_id, [])
        for entry in list(entries):
            if since is not None and entry.at < since:
                continue
            if until is not None and entry.at >= until:
                continue
            yield entry

    def chain_head(self) -> tuple[int, str]:
        """The (seq, hash) of the last ledger entry."""
        return self._head

    def issue_versions(self) -> Mapping[str, tuple[int, str]]:
        """Each issue's (version, state)."""
        return {issue_id: (i.version, i.state) for issue_id, i in list(self._issues.items())}

    def save_lifecycle(self, name: str, version: int, definition: str) -> None:
        """Keep a lifecycle definition."""
        with self._lock:
            self._lifecycles[name, version] = definition

    def lifecycles(self) -> list[tuple[str, int, str]]:
        """The stored lifecycle definitions."""
        return [(name, version, text) for (name, version), text in self._lifecycles.items()]

    def close(self) -> None:
        """Nothing to release."""
