"""Reading issues and the ledger through :class:`govflow.Govflow` (get, issues, ledger, verify_ledger,
state_at); a mixin of the facade, kept apart to keep each module readable."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import TYPE_CHECKING

from .._core.clock import require_aware
from .._core.errors import NotFound, ValidationError
from .._core.ledger import LedgerCheck, verify_chain
from .._core.model import Issue, LedgerEntry
from .._stores.protocol import IssueQuery

if TYPE_CHECKING:
    from .._stores.protocol import Store

__all__ = ["ReadingMixin"]


class ReadingMixin:
    """Reading of :class:`govflow.Govflow`, which supplies the store."""

    _store: Store

    def get(self, issue_id: str) -> Issue:
        """The current snapshot of an issue; :class:`NotFound` if there is none."""
        issue = self._store.load(issue_id) if isinstance(issue_id, str) else None
        if issue is None:
            raise NotFound("issue", issue_id)
        return issue

    def issues(self, state: str | None = None, unit: str | None = None) -> list[Issue]:
        """Issues by id, optionally in one state and/or involving one unit (lead or cooperating)."""
        for field, value in (("state", state), ("unit", unit)):
            if value is not None and not isinstance(value, str):
                raise ValidationError(field, f"got {type(value).__name__}", f"a {field} name (a string) or None")
        return self._store.query(IssueQuery(state=state, unit=unit))

    def ledger(
        self, issue_id: str | None = None, *, since: dt.datetime | None = None, until: dt.datetime | None = None
    ) -> list[LedgerEntry]:
        """Ledger entries in order: the whole ledger, or one issue's steps; ``[since, until)`` narrows them."""
        if issue_id is not None:
            self.get(issue_id)
        if since is not None:
            require_aware("since", since)
        if until is not None:
            require_aware("until", until)
        return list(self._store.ledger(issue_id, since=since, until=until))

    def verify_ledger(self) -> LedgerCheck:
        """Check the hash chain, the sequence and every issue's version against its entries.

        Raises :class:`LedgerCorrupted` naming the first entry that was altered,
        removed or reordered, or entries cut from the end. Safe while other threads
        or processes write: steps committed during the check are read up to the
        head as it stands once the ledger is read, and an issue written meanwhile
        is checked against the versions it passed through.
        """
        store = self._store
        settled = store.chain_head()[0]
        versions = store.issue_versions()
        head: list[tuple[int, str]] = []

        def to_the_head() -> Iterator[LedgerEntry]:
            last = 0
            for entry in store.ledger():
                last = entry.seq
                yield entry
            # The head is read after the ledger: every entry read so far is at or before it, and the
            # steps committed since the pages were read are fetched one by one.
            head.append(store.chain_head())
            while last < head[0][0] and (late := store.entry(last + 1)) is not None:
                last = late.seq
                yield late

        return verify_chain(to_the_head(), lambda: head[0], versions, settled=settled)

    def state_at(self, issue_id: str, when: dt.datetime) -> str:
        """The issue's state at instant ``when``, replayed from the ledger."""
        require_aware("when", when)
        self.get(issue_id)
        state: str | None = None
        first: LedgerEntry | None = None
        for entry in self._store.ledger(issue_id):
            first = first or entry
            if entry.at > when:
                break
            state = entry.to_state
        if state is None:
            assigned = f"; it was assigned at {first.at.isoformat()}" if first else ""
            raise NotFound("issue", issue_id, f"it did not exist at {when.isoformat()}{assigned}")
        return state
