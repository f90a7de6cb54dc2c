"""The notification outbox: delivery after commit, isolated per plugin, retried with backoff.

A transition writes one outbox row per subscribed plugin in the same
transaction as its ledger entry. Delivery claims due rows, builds the event
from the ledger entry, and calls that one plugin: success marks the row done;
an exception is recorded and the row waits ``RetryPolicy.delay(attempts)``
before the next try, or becomes a dead letter after ``max_attempts``.
Delivery is at least once: receivers drop duplicates by ``idempotency_key``.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import traceback
from collections.abc import Callable, Iterable
from typing import Final

import attrs

from .._core.errors import ValidationError
from .._core.events import DeadlineEvent, TransitionEvent
from .._core.model import LedgerEntry
from .._stores.protocol import OutboxRow, Store
from .manager import PluginNotLoaded, Plugins

__all__ = ["DeliveryReport", "Outbox", "RetryPolicy"]

_log = logging.getLogger("govflow")

_EVENTS: Final[dict[str, Callable[[LedgerEntry], TransitionEvent | DeadlineEvent]]] = {
    "after_transition": TransitionEvent.from_entry,
    "deadline": DeadlineEvent.from_entry,
}


@attrs.frozen
class RetryPolicy:
    """How failed deliveries are retried: exponential backoff, then a dead letter.

    The n-th failure waits ``first_delay * factor ** (n - 1)``, at most
    ``max_delay``; after ``max_attempts`` attempts the row is dead.
    """

    max_attempts: int = 5
    first_delay: dt.timedelta = dt.timedelta(seconds=30)
    factor: float = 2.0
    max_delay: dt.timedelta = dt.timedelta(hours=1)

    def __attrs_post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValidationError("max_attempts", f"got {self.max_attempts}", "an integer >= 1")
        if self.factor < 1:
            raise ValidationError("factor", f"got {self.factor}", "a number >= 1")

    def delay(self, attempts: int) -> dt.timedelta:
        """The wait after the ``attempts``-th failed attempt."""
        return min(self.first_delay * self.factor ** (attempts - 1), self.max_delay)


@attrs.frozen
class DeliveryReport:
    """What one :meth:`Outbox.deliver` run did.

    ``skipped`` rows are held for plugins this process does not have (``held_for`` names
    them): they stay claimed until their lease runs out, then a process that has the plugin
    delivers them. A worker that keeps reporting them lacks a plugin package.
    """

    delivered: int = 0
    retrying: int = 0
    dead: int = 0
    skipped: int = 0
    held_for: tuple[str, ...] = ()

    def __str__(self) -> str:
        text = f"delivered {self.delivered}, retrying {self.retrying}, dead {self.dead}, skipped {self.skipped}"
        if self.held_for:
            text += f" (held for plugins not loaded in this process: {', '.join(self.held_for)})"
        return text


@attrs.define(eq=False)
class Outbox:
    """The operator's view of the outbox: pending rows, dead letters, retries and delivery."""

    _store: Store
    _plugins: Plugins
    _now: Callable[[], dt.datetime]
    policy: RetryPolicy = attrs.field(factory=RetryPolicy)
    lease: dt.timedelta = dt.timedelta(minutes=5)
    _lock: threading.Lock = attrs.field(factory=threading.Lock)
    _local: threading.local = attrs.field(factory=threading.local)

    def pending(self) -> list[OutboxRow]:
        """Rows waiting for their first or next attempt."""
        return self._store.outbox("pending")

    def dead(self) -> list[OutboxRow]:
        """Dead letters: rows whose attempts are used up."""
        return self._store.outbox("dead")

    def delivered(self) -> list[OutboxRow]:
        """Rows delivered successfully."""
        return self._store.outbox("done")

    def retry(self, row_ids: Iterable[int] | None = None) -> int:
        """Put dead letters (all, or the listed ids) back in the queue; return how many."""
        ids = None if row_ids is None else [int(i) for i in row_ids]
        return self._store.requeue_outbox(ids, self._now())

    def deliver(self, limit: int = 1000) -> DeliveryReport:
        """Deliver every due row (up to ``limit``), each plugin isolated from the others."""
        delivered = retrying = dead = skipped = 0
        held: set[str] = set()
        if getattr(self._local, "delivering", False):
            # A plugin fired a trigger while being delivered to (inline delivery): the outer
            # run, or the next one, takes the new rows; re-entering would deadlock.
            return DeliveryReport()
        # One delivery run at a time in this process; other processes are kept apart by the claim.
        with self._lock:
            self._local.delivering = True
            try:
                rows = self._store.claim_outbox(self._now(), self.lease, limit)
            except BaseException:
                self._local.delivering = False
                raise
            try:
                for row in rows:
                    outcome = self._deliver_one(row)
                    if outcome == "done":
                        delivered += 1
                    elif outcome == "retry":
                        retrying += 1
                    elif outcome == "dead":
                        dead += 1
                    else:
                        skipped += 1
                        held.add(row.plugin)
            finally:
                self._local.delivering = False
        return DeliveryReport(delivered, retrying, dead, skipped, tuple(sorted(held)))

    def _deliver_one(self, row: OutboxRow) -> str:
        entry = self._store.entry(row.seq)
        make = _EVENTS.get(row.hook)
        if entry is None or make is None:
            error = f"ledger entry {row.seq} is missing" if entry is None else f"unknown hook {row.hook!r}"
            self._store.finish_outbox(row.id, error=error, retry_at=None)
            return "dead"
        event = make(entry)
        if isinstance(event, TransitionEvent):
            merged = self._merged_by(entry)
            if merged:
                event = attrs.evolve(event, merged=merged)
        try:
            self._plugins.deliver(row.hook, row.plugin, event)
        except PluginNotLoaded:
            # This process does not have that plugin: keep the claim until its lease runs out, so
            # that these rows do not crowd out the ones this process can deliver; then a worker
            # that has the plugin (or this one, once it is loaded) claims them again.
            return "skipped"
        except Exception as exc:  # a plugin's failure must never escape delivery
            attempts = row.attempts + 1
            error = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            if attempts >= self.policy.max_attempts:
                self._store.finish_outbox(row.id, error=error, retry_at=None)
                return "dead"
            self._store.finish_outbox(
                row.id, error=error, retry_at=self._now() + self.policy.delay(attempts)
            )
            return "retry"
        self._store.finish_outbox(row.id, error=None, retry_at=None)
        return "done"


    def _merged_by(self, entry: LedgerEntry) -> tuple[str, ...]:
        """The issues merged into ``entry``'s issue at or before its step (并案: the ``merged_issue`` of each
        step that took one in); only an issue that lists merged issues has its ledger read."""
        issue = self._store.load(entry.issue_id)
        if issue is None or issue.field is None or not issue.field.merged:
            return ()
        found = [e.data["merged_issue"] for e in self._store.ledger(entry.issue_id)
                 if e.seq <= entry.seq and isinstance(e.data.get("merged_issue"), str)]
        return tuple(dict.fromkeys(found))


@attrs.define(eq=False)
class Courier:
    """A background thread that runs delivery after each commit (``delivery="background"``).

    It also wakes every ``interval`` seconds so rows waiting for a retry go out.
    """

    outbox: Outbox
    interval: float = 1.0
    _wake: threading.Event = attrs.field(factory=threading.Event)
    _stop: threading.Event = attrs.field(factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the thread."""
        self._thread = threading.Thread(target=self._run, name="govflow-courier", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Ask for a delivery run now."""
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Finish the current run, deliver what is due once more, and stop."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.interval)
            self._wake.clear()
            self._deliver()
        self._deliver()  # a last run for what was committed while stopping

    def _deliver(self) -> None:
        try:
            self.outbox.deliver()
        except Exception:  # a store error: log it and try again on the next wake-up
            _log.exception("govflow: background delivery failed")
