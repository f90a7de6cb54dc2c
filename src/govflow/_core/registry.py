"""The unit registry in the ledger: each unit enters the hash chain when it is registered.

Who may verify, reject or decide an extension depends on which units are
supervisors, so the registry decides outcomes as much as an issue row does.
A unit's ledger entry has the subject ``unit:<id>`` (issue ids never hold
``:``), the trigger ``add_unit`` and the unit's fields as its data;
``verify_ledger()`` rebuilds the registry from these entries and compares it
with the stored units, so an edited ``units`` row (``supervisor = 1``) is found.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Final

from .ledger import SUBJECT_SEPARATOR, LedgerDraft
from .model import LEVELS, LedgerEntry, Unit

__all__ = [
    "ADOPTED_NOTE", "UNIT_ACTOR", "UNIT_STATE", "UNIT_SUBJECT_PREFIX", "UNIT_TRIGGER", "is_unit_subject", "unit_draft",
    "unit_from_entry",
]

UNIT_SUBJECT_PREFIX: Final = "unit" + SUBJECT_SEPARATOR
#: The trigger and state of a unit's registration entry.
UNIT_TRIGGER: Final = "add_unit"
UNIT_STATE: Final = "registered"
#: The note on the entry of a unit registered before the registry entered the ledger.
ADOPTED_NOTE: Final = "registered before the unit registry entered the ledger; adopted as its row stood on upgrade"
#: The actor of registration entries: the registry is kept by govflow itself, for the office that runs it.
UNIT_ACTOR: Final = "govflow"


def is_unit_subject(subject: str) -> bool:
    """Whether a ledger ``issue_id`` names a unit of the registry (``unit:<id>``)."""
    return subject.startswith(UNIT_SUBJECT_PREFIX)


def unit_draft(unit: Unit, at: dt.datetime, *, adopted: bool = False) -> LedgerDraft:
    """The ledger entry that registers ``unit`` at ``at`` (its subject ``unit:<id>``, its fields as data).

    ``adopted``: the unit was registered before the registry entered the ledger, and a store's
    schema upgrade gives it its entry as its row then stood (the entry's ``note`` says so).
    """
    data: dict[str, Any] = {
        "name": unit.name, "level": unit.level, "parent": unit.parent, "supervisor": unit.supervisor,
    }
    if adopted:
        data["note"] = ADOPTED_NOTE
    return LedgerDraft(
        issue_id=UNIT_SUBJECT_PREFIX + unit.id, issue_seq=1, trigger=UNIT_TRIGGER, from_state=None,
        to_state=UNIT_STATE, actor=UNIT_ACTOR, person=None, at=at, data=data,
    )


def unit_from_entry(entry: LedgerEntry) -> Unit:
    """The unit a registration entry registers; ``ValueError`` naming what is wrong if it is not one."""
    if not is_unit_subject(entry.issue_id) or entry.trigger != UNIT_TRIGGER:
        raise ValueError(f"{entry.issue_id} {entry.trigger!r} is not a unit's registration entry")
    if entry.issue_seq != 1 or entry.from_state is not None or entry.to_state != UNIT_STATE:
        raise ValueError("a unit is registered once, by its first entry, from no state to 'registered'")
    data: Mapping[str, Any] = entry.data
    unit_id = entry.issue_id[len(UNIT_SUBJECT_PREFIX):]
    name, level, parent, supervisor = (data.get(key) for key in ("name", "level", "parent", "supervisor"))
    if unit_id.casefold() == UNIT_ACTOR:
        raise ValueError(f"it registers a unit under govflow's own actor name {unit_id!r}")
    if not unit_id or not isinstance(name, str) or level not in LEVELS:
        raise ValueError("its data does not name a unit (an id, a name and one of the levels)")
    if (parent is not None and not isinstance(parent, str)) or not isinstance(supervisor, bool):
        raise ValueError("its parent is not a unit id or its supervisor flag is not true or false")
    return Unit(id=unit_id, name=name, level=level, parent=parent, supervisor=supervisor)
