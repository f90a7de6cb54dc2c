"""What stores keep for work plans (工作方案): plan and target rows, and the issues linked to targets.

A plan or target row is derived from its own ledger entries alone (the ledger's
``issue_id`` holds the plan's or target's id, ``PL-…`` or ``TG-…``): the store keeps
the current row to answer quickly, and :func:`govflow._plans.model.replay` rebuilds it
from the entries. ``body`` is the canonical JSON of everything but the id, version and
state. An issue assigned with ``target=…`` is linked to that target through its
``assign`` entry's ``data["target"]``; stores index the links (``target_links``).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable

import attrs

from .._core.ledger import LedgerDraft
from .._core.model import LedgerEntry

__all__ = ["PlanRow", "PlanWork", "compute_link_states"]


@attrs.frozen
class PlanRow:
    """The stored row of a plan (``kind="plan"``) or a target (``kind="target"``).

    ``plan_id`` is the plan the row belongs to (a plan's own id for a plan); ``parent`` the
    target a target decomposes (None for a plan and a top-level target).
    """

    id: str
    kind: str
    plan_id: str
    version: int
    state: str
    body: str
    parent: str | None = None


@attrs.frozen
class PlanWork:
    """One plan or target step, committed with its ledger entry.

    For a new row ``id_scope`` is set and the store numbers it ``f"{id_scope}{n:04d}"``
    (a new plan's ``plan_id`` becomes that id too); ``expected_version`` is the version
    the command read (0 for a new row). ``notify`` lists the (hook, plugin) outbox rows.
    """

    row: PlanRow
    expected_version: int
    entry: LedgerDraft
    id_scope: str | None = None
    notify: tuple[tuple[str, str], ...] = ()


def compute_link_states(
    entries: Iterable[LedgerEntry], targets: Iterable[str], as_of: dt.datetime | None = None
) -> dict[str, dict[str, int]]:
    """The reference of ``Store.target_issue_states``: per target, how many linked issues are in each state.

    An issue is linked by its ``assign`` entry's ``data["target"]``; its state is the
    ``to_state`` of its last entry at or before ``as_of`` (every entry when None).
    """
    wanted = set(targets)
    link: dict[str, str] = {}
    state: dict[str, str] = {}
    for entry in entries:
        if as_of is not None and entry.at > as_of:
            continue
        if entry.trigger == "assign" and entry.issue_seq == 1:
            target = entry.data.get("target")
            if isinstance(target, str) and target in wanted:
                link[entry.issue_id] = target
        if entry.issue_id in link:
            state[entry.issue_id] = entry.to_state
    found: dict[str, Counter[str]] = defaultdict(Counter)
    for issue_id, target in link.items():
        found[target][state[issue_id]] += 1
    return {target: dict(counts) for target, counts in sorted(found.items())}
