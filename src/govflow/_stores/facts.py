"""Period facts (月收集): per unit, what the ledger says happened in a period.

Everything is computed from ledger entries recorded before the period's end,
so the facts of a past period never change however late they are produced.
Stores aggregate them (SQL on SQLite); :func:`compute_facts` is the reference
semantics in Python that the in-memory store uses and the contract tests hold
every backend to.

The rules, by trigger name (custom lifecycles are counted the same way):

* **lead at the time of a step**: the ``lead`` of the ``assign`` entry, or the
  ``new_lead`` of the latest ``reassign`` entry before the step. A ``deadline``
  entry is attributed to its own ``data["unit"]``.
* **assigned**: ``assign`` entries in the period, plus ``reassign`` entries in
  the period (an issue handed to a new lead is an assignment to it), counted
  for the receiving lead; not those of an issue merged into another (a ``merge``
  entry before the period's end): a duplicate counts once, in the issue it repeats.
* **accepted_on_time**: of those assignments, the ones whose ``accept`` (before
  any later reassignment and before the period's end) fell on or before the
  acceptance limit: the issue's own, the day the entry records as ``accept_by``
  (written from the issue's ``accept_limit`` when it has one > 0); for an issue whose
  ``assign`` entry has no ``accept_limit``, its lifecycle's (``FactsQuery.lifecycle_accept_by``,
  ``issue-list`` v2: 1 working day); else the ``accept_within``-th working day after the
  day of the assignment (``FactsQuery.accept_by``; by default 1: accept by the end of
  the next working day).
* **cooperating**: ``assign`` entries in the period naming the unit in ``data["cooperating"]``.
* **due**: issues whose original due date (``assign`` data ``due``, or the latest
  ``original_due`` in an entry's data: a provisional date counted again) falls in the
  period and that were not cancelled (a ``cancel`` entry) or merged into another issue (``merge``)
  before the period's end,
  counted for the lead at the period's end. **fed_back_on_time**: those of them
  with a ``report`` entry on or before the original due date.
* **feedbacks**, **closed**, **rejections**, **extensions**: ``report``, ``verify``,
  ``reject`` and ``approve_extension`` entries in the period; **first_pass**: the
  ``verify`` entries with no earlier ``reject`` for the issue; **ratings** and
  **rating_sum**: the ``verify`` entries in the period with a ``rating``.
* **overdue_at_end**: issues whose state at the period's end is one where the
  lead unit has to act (not yet reported back) and whose current due date is
  before the period's end, counted for the lead at the period's end. The
  current due date is the latest ``due`` in the data of any entry except
  ``request_extension`` and ``deadline``; an ``approve_extension`` moves it to
  the due date of the request it approves.
* **escalations**: ``deadline`` entries in the period by ``data["step"]``.

Days are taken at UTC+8 (Asia/Shanghai without the summer time of 1986-1991).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from typing import Any, Final

import attrs

from .._core.model import LedgerEntry

__all__ = [
    "CALLBACK_COUNTS", "COUNTS", "FactsQuery", "OverdueAtEnd", "UnitFacts", "compute_facts", "compute_overdue",
    "sum_facts",
]

#: The integer counts of :class:`UnitFacts`, in order.
COUNTS: Final = (
    "assigned", "accepted_on_time", "cooperating", "due", "fed_back_on_time", "closed", "feedbacks",
    "first_pass", "rejections", "extensions", "overdue_at_end", "ratings", "rating_sum",
    "callbacks", "callbacks_satisfied", "callback_reworks", "transfers", "escalated", "suspended_days",
)
#: The field loop's counts in a period (回访, 转办, 提级督办, 挂起): the flow adds them from the period's
#: ``callback``, ``return_to_dispatcher``, ``resume``, ``reject`` and ``reassign`` entries (each names the
#: unit it counts for), after the store's aggregation; stores leave them 0.
CALLBACK_COUNTS: Final = (
    "callbacks", "callbacks_satisfied", "callback_reworks", "transfers", "escalated", "suspended_days",
)


@attrs.frozen
class UnitFacts:
    """One unit's figures for one period, from the ledger (see :mod:`govflow` docs, scoring page).

    Every count is an ``int``; ``escalations`` maps a deadline step (``due_soon``,
    ``overdue``, ``urge``, ``supervise``, ``interview``) to how many were taken
    for the unit in the period. ``mean_rating`` is ``rating_sum / ratings``
    (None without ratings). ``callbacks`` counts the call-backs (回访) of the unit's issues in the
    period, ``callbacks_satisfied`` those satisfied or basically satisfied, ``callback_reworks`` those
    that sent the issue back (发回重办). ``transfers`` counts the returns to the dispatcher (退回交办) by the
    unit, ``escalated`` the unit's issues escalated one level (提级督办), ``suspended_days`` the working
    days its issues resumed in the period had been suspended (挂起).
    """

    unit: str
    assigned: int = 0
    accepted_on_time: int = 0
    cooperating: int = 0
    due: int = 0
    fed_back_on_time: int = 0
    closed: int = 0
    feedbacks: int = 0
    first_pass: int = 0
    rejections: int = 0
    extensions: int = 0
    overdue_at_end: int = 0
    ratings: int = 0
    rating_sum: int = 0
    callbacks: int = 0
    callbacks_satisfied: int = 0
    callback_reworks: int = 0
    transfers: int = 0
    escalated: int = 0
    suspended_days: int = 0
    escalations: Mapping[str, int] = attrs.field(factory=dict, hash=False)

    @property
    def mean_rating(self) -> float | None:
        """The mean satisfaction rating (1-5) of the period's verifications, or None."""
        return self.rating_sum / self.ratings if self.ratings else None

    @property
    def supervised(self) -> int:
        """督办 steps taken for the unit in the period."""
        return self.escalations.get("supervise", 0)

    @property
    def interviews(self) -> int:
        """约谈 steps taken for the unit in the period."""
        return self.escalations.get("interview", 0)

    def is_empty(self) -> bool:
        """Whether nothing at all happened for the unit in the period."""
        return not any(getattr(self, name) for name in COUNTS) and not self.escalations


@attrs.frozen
class FactsQuery:
    """What a store needs to aggregate period facts.

    ``[start, end)`` is the period; ``accept_by`` maps each day an assignment may
    fall on (the period's days) to the last day an acceptance is on time, for
    assignments whose entry records no ``accept_by`` day of its own (the issue's own limit)
    and whose lifecycle sets none; ``lifecycle_accept_by`` holds such a map for each lifecycle
    (``"name@version"``) whose own acceptance limit (``settings["accept_limit"]``) applies to its
    issues without a limit of their own (an ``assign`` entry without ``accept_limit``; a day its
    list lacks falls back on ``accept_by``);
    ``lead_states`` are the states in which the lead unit has to act, in any
    lifecycle; ``lifecycle_lead_states`` narrows them per lifecycle
    (``("issue-list@1", ("assigned", "implemented"))``, ...): an issue is
    overdue at the end only in a lead state of its own lifecycle (see
    :meth:`is_lead`). Left empty, every issue is held to ``lead_states``.
    """

    start: dt.datetime
    end: dt.datetime
    accept_by: tuple[tuple[dt.date, dt.date], ...]
    lead_states: tuple[str, ...]
    lifecycle_lead_states: tuple[tuple[str, tuple[str, ...]], ...] = ()
    lifecycle_accept_by: tuple[tuple[str, tuple[tuple[dt.date, dt.date], ...]], ...] = ()

    def is_lead(self, lifecycle: str | None, state: str) -> bool:
        """Whether the lead unit has to act in ``state`` of an issue of ``lifecycle`` (``"name@version"``)."""
        if state not in self.lead_states:
            return False
        return not self.lifecycle_lead_states or any(
            key == lifecycle and state in states for key, states in self.lifecycle_lead_states
        )

    def lead_keys(self) -> tuple[str, ...]:
        """``"name@version:state"`` for every lead state of every lifecycle named (what SQL compares)."""
        return tuple(f"{key}:{state}" for key, states in self.lifecycle_lead_states for state in states)


@attrs.frozen
class OverdueAtEnd:
    """An issue overdue at a period's end (see ``overdue_at_end`` in the rules above).

    ``unit`` is the lead unit at the period's end, ``due`` the current due date then
    and ``state`` the issue's state then.
    """

    issue_id: str
    unit: str
    due: dt.date
    state: str


def overdue_order(row: OverdueAtEnd) -> tuple[str, dt.date, str]:
    """How overdue issues are listed: by unit, then due date, then issue id."""
    return row.unit, row.due, row.issue_id


_UTC8: Final = dt.timezone(dt.timedelta(hours=8))


def local_day(when: dt.datetime) -> str:
    """The ISO day of an instant at UTC+8 (Asia/Shanghai; a fixed offset, as the SQL stores count)."""
    return when.astimezone(_UTC8).date().isoformat()


def sum_facts(facts: Iterable[UnitFacts], unit: str = "*") -> UnitFacts:
    """Several units' facts added up under ``unit`` (cooperating work counts once per unit)."""
    sums = dict.fromkeys(COUNTS, 0)
    steps: Counter[str] = Counter()
    for one in facts:
        for name in COUNTS:
            sums[name] += getattr(one, name)
        steps.update(one.escalations)
    return UnitFacts(unit, escalations=dict(sorted(steps.items())), **sums)


def build_facts(counts: Mapping[str, Mapping[str, int]], escalations: Mapping[str, Mapping[str, int]]) -> dict[
    str, UnitFacts
]:
    """UnitFacts from per-unit counts and escalations (units sorted by id)."""
    units = sorted(set(counts) | set(escalations))
    return {
        unit: UnitFacts(
            unit=unit,
            escalations=dict(sorted((k, int(v)) for k, v in escalations.get(unit, {}).items() if v)),
            **{name: int(counts.get(unit, {}).get(name, 0)) for name in COUNTS},
        )
        for unit in units
    }


def compute_overdue(entries: Iterable[LedgerEntry], query: FactsQuery) -> list[OverdueAtEnd]:
    """The reference list of issues overdue at the period's end, in :func:`overdue_order`."""
    found: list[OverdueAtEnd] = []
    compute_facts(entries, query, overdue=found)
    return sorted(found, key=overdue_order)


def compute_facts(
    entries: Iterable[LedgerEntry], query: FactsQuery, *, overdue: list[OverdueAtEnd] | None = None
) -> dict[str, UnitFacts]:
    """The reference aggregation: per-unit facts from ``entries`` (in sequence order).

    When ``overdue`` is given, the issues counted in ``overdue_at_end`` are appended to it.
    """
    by_issue: dict[str, list[LedgerEntry]] = defaultdict(list)
    for entry in entries:
        if entry.at < query.end:
            by_issue[entry.issue_id].append(entry)
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    escalations: dict[str, Counter[str]] = defaultdict(Counter)
    accept_by = {day.isoformat(): limit.isoformat() for day, limit in query.accept_by}
    by_lifecycle = {key: {day.isoformat(): limit.isoformat() for day, limit in days}
                    for key, days in query.lifecycle_accept_by}
    start_day, end_day = local_day(query.start), local_day(query.end)
    for steps in by_issue.values():
        lead: str | None = None
        original_due: str | None = None
        due: str | None = None
        requested: str | None = None
        rejected = cancelled = False
        first_report: str | None = None
        # (unit, day, in period, its own last day to accept) of the last assignment
        awaiting: tuple[str | None, str, bool, str | None] | None = None
        merged = any(entry.trigger == "merge" for entry in steps)  # counted in the issue it repeats
        first = steps[0].data if steps[0].trigger == "assign" else {}
        lifecycle = f"{first.get('lifecycle')}@{first.get('lifecycle_version')}"
        # the days its assignments that record none of their own are held to: its lifecycle's, unless it has a
        # limit of its own (then, and for a day the lifecycle's list lacks, the policy's)
        lifecycle_days = {} if "accept_limit" in first else by_lifecycle.get(lifecycle, {})
        for entry in steps:
            data: Mapping[str, Any] = entry.data
            trigger, day, in_period = entry.trigger, local_day(entry.at), entry.at >= query.start
            if trigger == "assign":
                lead, original_due = data.get("lead"), data.get("due")
                for unit in data.get("cooperating", ()) if in_period else ():
                    counts[unit]["cooperating"] += 1
            elif trigger == "reassign":
                lead = data.get("new_lead")
            if trigger != "assign" and data.get("original_due") is not None:
                original_due = data["original_due"]
            if trigger == "request_extension":
                requested = data.get("due")
            elif trigger == "approve_extension":
                due = requested if requested is not None else due
            elif trigger != "deadline" and data.get("due") is not None:
                due = data["due"]
            if trigger in ("assign", "reassign"):
                own = data.get("accept_by")
                awaiting = (lead, day, in_period and not merged, own if isinstance(own, str) else None)
            elif trigger == "accept" and awaiting is not None:
                unit, assigned_on, counted, own = awaiting
                limit = own if own is not None else lifecycle_days.get(assigned_on, accept_by.get(assigned_on))
                if counted and unit is not None and limit is not None and day <= limit:
                    counts[unit]["accepted_on_time"] += 1
                awaiting = None
            if trigger == "report" and (first_report is None or day < first_report):
                first_report = day
            if trigger in ("cancel", "merge"):  # a merged duplicate counts once, in the issue it repeats
                cancelled = True
            if in_period:
                if trigger == "deadline":
                    unit, step = data.get("unit"), data.get("step")
                    if unit is not None and step is not None:
                        escalations[unit][step] += 1
                elif lead is not None:
                    tally = counts[lead]
                    if trigger in ("assign", "reassign"):
                        tally["assigned"] += not merged
                    elif trigger == "report":
                        tally["feedbacks"] += 1
                    elif trigger == "reject":
                        tally["rejections"] += 1
                    elif trigger == "approve_extension":
                        tally["extensions"] += 1
                    elif trigger == "verify":
                        tally["closed"] += 1
                        tally["first_pass"] += not rejected
                        rating = data.get("rating")
                        if rating is not None:
                            tally["ratings"] += 1
                            tally["rating_sum"] += int(rating)
            if trigger == "reject":
                rejected = True
        if lead is None:
            continue
        if original_due is not None and start_day <= original_due < end_day and not cancelled:
            counts[lead]["due"] += 1
            if first_report is not None and first_report <= original_due:
                counts[lead]["fed_back_on_time"] += 1
        if query.is_lead(lifecycle, steps[-1].to_state) and due is not None and due < end_day:
            counts[lead]["overdue_at_end"] += 1
            if overdue is not None:
                overdue.append(OverdueAtEnd(steps[-1].issue_id, lead, dt.date.fromisoformat(due), steps[-1].to_state))
    return build_facts(counts, escalations)
