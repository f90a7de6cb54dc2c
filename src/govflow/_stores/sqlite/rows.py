"""How the SQLite store lays out issues, ledger entries and outbox rows in its tables.

Column lists and the conversions between rows and :mod:`govflow._core.model` objects;
the benchmarks write rows of this format directly (``ISSUE_COLUMNS``, ``issue_row``,
through their old names in :mod:`govflow._stores.sqlite.store`).
"""

from __future__ import annotations

import datetime as dt
import json
import operator
from collections.abc import Callable, Mapping
from typing import Any, Final

from ..._core.construct import differ
from ..._core.field import FieldState
from ..._core.ledger import canonical_json, iso_instant, parse_stored_at, parse_stored_data
from ..._core.model import ExtensionRequest, Issue, LedgerEntry, Responsible
from ..protocol import OutboxRow

__all__ = [
    "ISSUE_ASSIGNMENTS", "ISSUE_COLUMNS", "LEDGER_COLUMNS", "OUTBOX_COLUMNS",
    "changed_row", "entry_from_row", "issue_from_row", "issue_row", "outbox_from_row", "utc",
]

#: The columns of ``issues``, in the order of :func:`issue_row`.
ISSUE_COLUMNS: Final = (
    "id, title, description, category, lead, cooperating, responsible, due, original_due, "
    "state, version, lifecycle, lifecycle_version, rework_count, created_at, updated_at, "
    "accepted_at, extension, extension_count, due_provisional, due_basis, escalation_level, escalation_steps, "
    "field"
)
#: ``col = ?`` for every column of ``issues`` but the id, for an UPDATE of the whole row.
ISSUE_ASSIGNMENTS: Final = ", ".join(f"{c.strip()} = ?" for c in ISSUE_COLUMNS.split(",")[1:])
#: The columns of ``ledger``, in the order :func:`entry_from_row` reads.
LEDGER_COLUMNS: Final = (
    "seq, issue_id, issue_seq, trigger, from_state, to_state, actor, person, at, data, "
    "prev_hash, hash"
)
#: The columns of ``outbox`` that :func:`outbox_from_row` reads, in its order.
OUTBOX_COLUMNS: Final = "id, seq, hook, plugin, status, attempts, next_attempt_at, created_at, last_error"
_dumps = canonical_json
_date = dt.date.fromisoformat
_datetime = dt.datetime.fromisoformat


def utc(when: dt.datetime) -> str:
    """Fixed-width UTC text: orders like the instants it stands for."""
    return when.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


def outbox_from_row(row: tuple[Any, ...]) -> OutboxRow:
    """An outbox row read in the order of ``OUTBOX_COLUMNS``."""
    id_, seq, hook, plugin, status, attempts, next_at, created, error = row
    return OutboxRow(
        id=id_, seq=seq, hook=hook, plugin=plugin, status=status, attempts=attempts,
        next_attempt_at=_datetime(next_at), created_at=_datetime(created), last_error=error,
    )


def _iso(value: dt.date) -> str:
    return value.isoformat()


def _optional(encode: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda value: None if value is None else encode(value)


#: How each issue field that is not stored as it is becomes its column's value.
_ENCODE: Final[Mapping[str, Callable[[Any], Any]]] = {
    "cooperating": lambda units: _dumps(list(units)),
    "responsible": _optional(lambda persons: _dumps(persons.as_dict())),
    "due": _iso,
    "original_due": _iso,
    "created_at": _iso,
    # The step's own time, also written into its ledger entry: encoded once per step.
    "updated_at": iso_instant,
    "accepted_at": _optional(_iso),
    "extension": _optional(lambda request: _dumps(request.as_dict())),
    "due_provisional": int,
    "due_basis": _optional(lambda basis: _dumps([basis[0].isoformat(), basis[1]])),
    "field": _optional(lambda state: _dumps(state.as_dict())),
}
_FIELDS: Final = tuple(name.strip() for name in ISSUE_COLUMNS.split(","))
_ENCODERS: Final = tuple(_ENCODE.get(name) for name in _FIELDS)  # None: the value is stored as it is
_values: Final = operator.attrgetter(*_FIELDS)
_moved: Final = differ(_FIELDS, "the issue row's columns")


def issue_row(issue: Issue) -> tuple[Any, ...]:
    """The values of ``issue`` in the order of ``ISSUE_COLUMNS``."""
    return tuple(value if encode is None else encode(value)
                 for value, encode in zip(_values(issue), _ENCODERS, strict=True))


def changed_row(old: Issue, old_row: tuple[Any, ...], new: Issue) -> tuple[tuple[Any, ...], tuple[int, ...]]:
    """``issue_row(new)`` made from ``old_row`` (which is ``issue_row(old)``), and the positions whose value differs.

    A step copies the fields it does not change from the old snapshot (the same objects), so only the others are
    encoded again: on the common step the state, the version and the time.
    """
    row = list(old_row)
    changed = []
    for position, after in _moved(old, new):  # the fields holding another object: most are the same
        encode = _ENCODERS[position]
        value = after if encode is None else encode(after)
        if value != row[position]:
            row[position] = value
            changed.append(position)
    return tuple(row), tuple(changed)


def issue_from_row(row: tuple[Any, ...]) -> Issue:
    """An issue read in the order of ``ISSUE_COLUMNS``."""
    (id_, title, description, category, lead, cooperating, responsible, due, original_due,
     state, version, lifecycle, lifecycle_version, rework_count, created_at, updated_at,
     accepted_at, extension, extension_count, due_provisional, due_basis, escalation_level,
     escalation_steps, field) = row
    return Issue(
        id=id_, title=title, description=description, category=category, lead=lead,
        cooperating=tuple(json.loads(cooperating)),
        responsible=None if responsible is None else Responsible(**json.loads(responsible)),
        due=_date(due), original_due=_date(original_due), state=state, version=version,
        lifecycle=lifecycle, lifecycle_version=lifecycle_version, rework_count=rework_count,
        created_at=_datetime(created_at), updated_at=_datetime(updated_at),
        accepted_at=None if accepted_at is None else _datetime(accepted_at),
        extension=None if extension is None else ExtensionRequest.from_dict(json.loads(extension)),
        extension_count=extension_count, due_provisional=bool(due_provisional),
        due_basis=None if due_basis is None else _basis(json.loads(due_basis)),
        escalation_level=escalation_level, escalation_steps=escalation_steps,
        field=None if field is None else FieldState.from_dict(json.loads(field)),
    )


def _basis(raw: list[Any]) -> tuple[dt.date, int]:
    return _date(raw[0]), int(raw[1])


def entry_from_row(row: tuple[Any, ...]) -> LedgerEntry:
    """A ledger entry read in the order of ``LEDGER_COLUMNS``."""
    seq, issue_id, issue_seq, trigger, from_state, to_state, actor, person, at, data, prev, h = row
    return LedgerEntry(
        seq=seq, issue_id=issue_id, issue_seq=issue_seq, trigger=trigger, from_state=from_state,
        to_state=to_state, actor=actor, person=person, at=parse_stored_at(seq, at),
        data=parse_stored_data(seq, data), prev_hash=prev, hash=h, stored=(at, data),
    )
