"""The domain model: units, actors, issues and ledger entries.

Values are ``@attrs.frozen``. An :class:`Issue` is a snapshot of one version of
an issue: the store holds the current one and every change makes a new
snapshot, so a snapshot in the caller's hands never changes under it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any, Final, Literal

import attrs

from .construct import positional, replacer
from .field import FieldState

__all__ = [
    "LEVELS",
    "Actor",
    "ExtensionRequest",
    "Issue",
    "LedgerEntry",
    "Level",
    "Responsible",
    "Unit",
]

Level = Literal["prefecture", "county", "township", "department"]
#: The unit levels govflow knows: 州/市, 县/市/区, 乡镇, 部门.
LEVELS: Final = ("prefecture", "county", "township", "department")


@attrs.frozen
class Unit:
    """An organisation (单位) that can lead, cooperate on or supervise issues.

    ``supervisor`` units (督办单位) may assign, verify, reject, cancel, reassign
    and decide extension requests.
    """

    id: str
    name: str
    level: Level
    parent: str | None = None
    supervisor: bool = False


@attrs.frozen
class Actor:
    """Who fires a trigger: a unit, and optionally the person acting for it."""

    unit: str
    person: str | None = None


@attrs.frozen
class Responsible:
    """The named people of the lead unit: 第一责任人 and 直接责任人."""

    first: str | None = None
    direct: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        """The persons as a plain mapping (``first``, ``direct``)."""
        return {"first": self.first, "direct": self.direct}


@attrs.frozen
class ExtensionRequest:
    """A pending request (延期申请) for a later due date.

    A date counted in working days of a year without an official schedule is
    ``due_provisional``, with the ``due_basis`` it was counted from.
    """

    due: dt.date
    reason: str
    requested_by: str
    requested_at: dt.datetime
    due_provisional: bool = False
    due_basis: tuple[dt.date, int] | None = None

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping of the request."""
        raw: dict[str, Any] = {
            "due": self.due.isoformat(),
            "reason": self.reason,
            "requested_by": self.requested_by,
            "requested_at": self.requested_at.isoformat(),
        }
        if self.due_provisional:
            raw["due_provisional"] = True
        if self.due_basis is not None:
            raw["due_basis"] = [self.due_basis[0].isoformat(), self.due_basis[1]]
        return raw

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> ExtensionRequest:
        """The inverse of :meth:`as_dict`."""
        basis = raw.get("due_basis")
        return cls(
            due=dt.date.fromisoformat(raw["due"]),
            reason=raw["reason"],
            requested_by=raw["requested_by"],
            requested_at=dt.datetime.fromisoformat(raw["requested_at"]),
            due_provisional=bool(raw.get("due_provisional", False)),
            due_basis=None if basis is None else (dt.date.fromisoformat(basis[0]), int(basis[1])),
        )


@attrs.frozen(weakref_slot=False)  # no weakref slot: see construct.positional, which builds every snapshot
class Issue:
    """One item of the problem list (问题), as of one ``version``.

    ``version`` counts the issue's ledger entries: 1 right after ``assign``.
    ``original_due`` is the due date at assignment, kept for scoring however
    often the due date moves. ``extension`` holds a pending extension request.
    ``due_provisional`` says the due date was counted in working days of a
    year without an official holiday schedule yet; ``due_basis`` is the
    (day counted from, working days) it was counted as, so it can be counted
    again. ``escalation_steps`` counts the deadline steps taken for the
    current due date and ``escalation_level`` is the highest level reached.
    ``field`` holds what the field loop of ``issue-list`` version 2 recorded (会签, 挂起, 转办,
    回访, 并案, 佐证材料; see :class:`FieldState`), None until one of those steps is taken.
    """

    id: str
    title: str
    lead: str
    due: dt.date
    original_due: dt.date
    state: str
    version: int
    lifecycle: str
    lifecycle_version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    description: str = ""
    category: str | None = None
    cooperating: tuple[str, ...] = ()
    responsible: Responsible | None = None
    rework_count: int = 0
    accepted_at: dt.datetime | None = None
    extension: ExtensionRequest | None = None
    extension_count: int = 0
    due_provisional: bool = False
    due_basis: tuple[dt.date, int] | None = None
    escalation_level: int = 0
    escalation_steps: int = 0
    field: FieldState | None = None

    def involves(self, unit: str) -> bool:
        """Whether ``unit`` leads or cooperates on this issue."""
        return unit == self.lead or unit in self.cooperating


@attrs.frozen(weakref_slot=False)  # see construct.positional, which builds every sealed entry
class LedgerEntry:
    """One step in the ledger (台账): append-only and hash-chained.

    ``seq`` is the global sequence, ``issue_seq`` the issue's own (1 for
    ``assign``, whose ``from_state`` is None). ``hash`` is the SHA-256 of the
    canonical encoding of every other field (see :func:`govflow.canonical_bytes`).

    ``stored`` is the text a store read ``at`` and ``data`` from (None for the
    memory store): :meth:`govflow.Govflow.verify_ledger` refuses an entry whose
    stored text is not byte for byte the canonical encoding of the parsed value,
    so that what SQL reads from the text is what the hash covers.
    """

    seq: int
    issue_id: str
    issue_seq: int
    trigger: str
    from_state: str | None
    to_state: str
    actor: str
    person: str | None
    at: dt.datetime
    data: Mapping[str, Any]
    prev_hash: str
    hash: str
    stored: tuple[str, str] | None = attrs.field(default=None, eq=False, repr=False)


#: ``LedgerEntry(*fields)``, every field (``stored`` too) by position: what sealing runs on every step.
new_entry: Final = positional(LedgerEntry)


#: ``replace_issue(issue, changes)``: ``attrs.evolve(issue, **changes)`` for the one class every step copies,
#: the unchanged fields copied by plain attribute reads (see :func:`govflow._core.construct.replacer`).
replace_issue: Final[Callable[[Issue, Mapping[str, Any]], Issue]] = replacer(Issue)
