"""The storage contract every backend (memory, SQLite, PostgreSQL) fulfils."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from typing import Final, Protocol, runtime_checkable

import attrs

from .._core.construct import positional
from .._core.errors import ValidationError
from .._core.ledger import LedgerDraft
from .._core.model import Issue, LedgerEntry, Unit
from .facts import FactsQuery, OverdueAtEnd, UnitFacts
from .plans import PlanRow, PlanWork

__all__ = [
    "IssueQuery", "OutboxRow", "Store", "UnitOfWork", "external_ids_taken", "new_external_ids", "refuse_other_unit",
]


@attrs.frozen(weakref_slot=False)  # see construct.positional: every step makes one
class UnitOfWork:
    """Everything one command writes, committed together or not at all.

    ``expected_version`` is the version the command read (0 for a new issue).
    For a new issue ``id_scope`` is set and the store gives the issue the id
    ``f"{id_scope}{n:04d}"`` with ``n`` the next number in that scope.
    ``units_changed`` says the lead or cooperating units changed. ``notify``
    lists the (hook, plugin) pairs that get an outbox row for the entry.
    """

    issue: Issue
    expected_version: int
    entry: LedgerDraft
    id_scope: str | None = None
    units_changed: bool = False
    notify: tuple[tuple[str, str], ...] = ()


#: ``UnitOfWork(*fields)`` by position: what every step runs.
new_work: Final = positional(UnitOfWork)


@attrs.frozen
class OutboxRow:
    """One delivery owed to one plugin: ledger entry ``seq`` through ``hook``.

    ``status`` is ``pending``, ``done`` or ``dead`` (attempts used up).
    """

    id: int
    seq: int
    hook: str
    plugin: str
    status: str
    attempts: int
    next_attempt_at: dt.datetime
    created_at: dt.datetime
    last_error: str | None = None


@attrs.frozen
class IssueQuery:
    """Which issues to list; every given criterion must hold.

    ``unit`` matches the lead and the cooperating units; ``due_before`` is
    exclusive; ``updated_between`` is a half-open ``[start, end)`` interval;
    ``escalation_below`` keeps issues with fewer ladder steps taken.
    """

    state: str | None = None
    states: tuple[str, ...] | None = None
    unit: str | None = None
    due_before: dt.date | None = None
    updated_between: tuple[dt.datetime, dt.datetime] | None = None
    escalation_below: int | None = None

    def matches(self, issue: Issue) -> bool:
        """Whether ``issue`` satisfies the query (the reference semantics)."""
        if self.state is not None and issue.state != self.state:
            return False
        if self.states is not None and issue.state not in self.states:
            return False
        if self.unit is not None and not issue.involves(self.unit):
            return False
        if self.due_before is not None and not issue.due < self.due_before:
            return False
        if self.escalation_below is not None and not issue.escalation_steps < self.escalation_below:
            return False
        if self.updated_between is not None:
            start, end = self.updated_between
            if not start <= issue.updated_at < end:
                return False
        return True


def new_external_ids(works: Sequence[UnitOfWork]) -> list[str]:
    """The external ids (an imported row's 编号) the new issues among ``works`` carry in their assign entries."""
    return [
        work.entry.data["external_id"] for work in works
        if work.id_scope is not None and isinstance(work.entry.data.get("external_id"), str)
    ]


def external_ids_taken(works: Sequence[UnitOfWork], held: Mapping[str, str]) -> str | None:
    """The issue that already holds an external id one of the new issues in ``works`` carries (``held``:
    external id -> issue id), or None. Two imports of one list at once: the second writes nothing."""
    for external_id in new_external_ids(works):
        if external_id in held:
            return held[external_id]
    return None


def refuse_other_unit(existing: Unit, unit: Unit) -> None:
    """What :meth:`Store.add_unit` does when ``existing`` has the id of ``unit``: nothing if they are the
    same unit, else :class:`ValidationError` (a registered unit does not change)."""
    if existing != unit:
        raise ValidationError("id", f"unit {unit.id!r} already exists as {existing!r}", "a new id, or the same fields")


@runtime_checkable
class Store(Protocol):
    """A storage backend.

    Writes are atomic: :meth:`commit` writes the issue, its version bump and
    its ledger entry in one transaction, after checking the version the
    command read, or raises and writes nothing.
    """

    schema_version: int

    def add_unit(self, unit: Unit, entry: LedgerDraft) -> LedgerEntry | None:
        """Register ``unit`` with its ledger entry (:func:`govflow.storage.unit_draft`) in one transaction.

        Returns the sealed entry; None, writing nothing, when the same unit is already
        stored. Raises :class:`ValidationError` when a different unit has that id (a
        registered unit does not change: its entry says what it is).
        """

    def units(self) -> list[Unit]:
        """Every unit, in insertion order."""

    def load(self, issue_id: str) -> Issue | None:
        """The current snapshot of one issue, or None."""

    def query(self, query: IssueQuery) -> list[Issue]:
        """The issues matching ``query``, ordered by id."""

    def commit(self, work: UnitOfWork) -> tuple[Issue, LedgerEntry]:
        """Write ``work`` atomically; return the stored issue and sealed entry.

        Raises :class:`ConcurrentUpdateError` when the issue is no longer at
        ``work.expected_version`` (or, for a new issue, already exists).
        """

    def commit_many(self, works: Sequence[UnitOfWork]) -> list[tuple[Issue, LedgerEntry]]:
        """Write several units of work in one transaction: all of them, in order, or none.

        An issue may appear more than once, each unit naming the version the one
        before it writes. Raises :class:`ConcurrentUpdateError` as :meth:`commit` does, and
        for a new issue whose assign entry carries an ``external_id`` that an issue's assign
        entry already holds (naming that issue: it exists where the import expected none).
        """

    def ledger(
        self,
        issue_id: str | None = None,
        *,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        trigger: str | None = None,
    ) -> Iterator[LedgerEntry]:
        """Ledger entries in sequence order, optionally for one issue, a ``[since, until)`` span
        and one trigger."""

    def entry(self, seq: int) -> LedgerEntry | None:
        """One ledger entry by its global sequence number."""

    def period_facts(self, query: FactsQuery) -> dict[str, UnitFacts]:
        """Per-unit facts of the period ``[query.start, query.end)``, from ledger entries before its end.

        Units with nothing to count are left out; keys are sorted. Aggregate in the
        store (SQL), not by loading every entry: :func:`govflow._stores.facts.compute_facts`
        is the reference semantics.
        """

    def overdue_at_end(self, query: FactsQuery) -> list[OverdueAtEnd]:
        """The issues overdue at the end of the period ``query`` describes, by unit, due date and id.

        The same issues ``period_facts`` counts in ``overdue_at_end``
        (:func:`govflow._stores.facts.compute_overdue` is the reference semantics).
        """

    def chain_head(self) -> tuple[int, str]:
        """The separately kept (seq, hash) of the last ledger entry."""

    def issue_versions(self) -> Mapping[str, tuple[int, str]]:
        """Each issue's stored (version, state), for ledger verification (plan and target rows included)."""

    def commit_plan(self, works: Sequence[PlanWork]) -> list[tuple[PlanRow, LedgerEntry]]:
        """Write plan and target rows with their ledger entries in one transaction: all, in order, or none.

        Raises :class:`ConcurrentUpdateError` when a row is no longer at its ``expected_version``
        (or, for a new row, already exists).
        """

    def plan_rows(
        self, plan_id: str | None = None, *, ids: Sequence[str] | None = None, parent: str | None = None
    ) -> list[PlanRow]:
        """Plan and target rows, ordered by id: of one plan, with the given ids, decomposing ``parent``
        (every given criterion holds), or all of them."""

    def plan_ledger(self, plan_id: str, until: dt.datetime | None = None) -> list[LedgerEntry]:
        """The ledger entries of a plan and its targets, in sequence order, those at or before ``until``."""

    def target_links(self) -> dict[str, str]:
        """Every issue linked to a target: issue id -> target id (derived from the ``assign`` entries'
        ``target``; ``verify_ledger()`` checks it against them)."""

    def target_issue_states(self, plan_id: str, as_of: dt.datetime | None = None) -> dict[str, dict[str, int]]:
        """Per target of the plan, how many linked issues are in each state (now, or at ``as_of``).

        :func:`govflow.storage.compute_link_states` is the reference semantics.
        """

    def save_lifecycle(self, name: str, version: int, definition: str) -> None:
        """Keep a lifecycle definition (JSON) so issues keep their version across opens."""

    def lifecycles(self) -> list[tuple[str, int, str]]:
        """The stored (name, version, definition JSON) triples."""

    def claim_outbox(self, now: dt.datetime, lease: dt.timedelta, limit: int) -> list[OutboxRow]:
        """Claim up to ``limit`` pending rows due at ``now`` that no other worker holds.

        A claimed row is hidden from other claims for ``lease``; a worker that
        dies lets the lease run out and the row is claimed again.
        """

    def finish_outbox(self, row_id: int, *, error: str | None, retry_at: dt.datetime | None) -> None:
        """Record an attempt: done (no ``error``), pending again at ``retry_at``, or dead."""

    def release_outbox(self, row_id: int) -> None:
        """Give a claimed row back untouched (this worker could not deliver it)."""

    def outbox(self, status: str) -> list[OutboxRow]:
        """The rows in ``status`` (``pending``, ``done``, ``dead``), by id."""

    def requeue_outbox(self, row_ids: list[int] | None, now: dt.datetime) -> int:
        """Make dead rows (all, or those listed) pending again with no attempts; return how many."""

    def close(self) -> None:
        """Release the store's resources."""
