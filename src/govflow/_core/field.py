"""The field loop's record on an issue (签收时限, 会签, 挂起, 转办, 提级督办, 回访, 并案, 佐证材料).

Issues of ``issue-list`` version 2 keep these figures in one :class:`FieldState`
that exists only once one of them is set: an issue that never uses them costs one
empty slot. Every value is written by a lifecycle effect from the data of a ledger
entry, so replaying an issue's entries gives it back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Final

import attrs

__all__ = ["CALLBACK_RESULTS", "COUNTERSIGN_MODES", "FieldState", "SuspensionRequest"]

#: How cooperating units must sign before the lead reports back: every one, at least one, none.
COUNTERSIGN_MODES: Final = ("all", "any", "none")
#: The answers of a call-back (回访): 满意, 基本满意, 不满意.
CALLBACK_RESULTS: Final = ("satisfied", "basically_satisfied", "dissatisfied")


@attrs.frozen
class SuspensionRequest:
    """A pending request (挂起申请) to stop the deadline clock, until a day or until resumed."""

    reason: str
    requested_by: str
    requested_at: dt.datetime
    until: dt.date | None = None

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping of the request."""
        raw: dict[str, Any] = {
            "reason": self.reason, "requested_by": self.requested_by, "requested_at": self.requested_at.isoformat(),
        }
        if self.until is not None:
            raw["until"] = self.until.isoformat()
        return raw

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> SuspensionRequest:
        """The inverse of :meth:`as_dict`."""
        until = raw.get("until")
        return cls(
            reason=raw["reason"], requested_by=raw["requested_by"],
            requested_at=dt.datetime.fromisoformat(raw["requested_at"]),
            until=None if until is None else dt.date.fromisoformat(until),
        )


_DATES: Final = ("suspended_on", "suspended_until")
_TIMES: Final = ("handed_at", "verified_at")
_TUPLES: Final = ("signed", "declined", "escalated", "merged", "evidence")


@attrs.frozen
class FieldState:
    """What the field loop has recorded on an issue (all empty by default).

    * ``accept_limit``: the issue's own acceptance limit in working days (None: the deployment's);
      ``handed_at``: when the current lead was given the issue by ``reassign`` (None: at assignment);
      ``accept_overdue``: the ``accept_overdue`` step was taken for the current lead.
    * ``countersign``: ``"all"`` or ``"any"`` (None: no sign-off needed); ``signed`` and ``declined``:
      the cooperating units that signed (会签) or declined.
    * ``suspension``: a pending request; ``suspended_on``/``suspended_until``/``resumes_to``: the current
      suspension (挂起); ``suspended_days``: working days spent suspended in all.
    * ``transfers``: returns to the dispatcher (转办); ``escalated``: why the issue was escalated one level
      (``"transfers"``, ``"reworks"``; 提级督办), ``office``: the office supervising it since.
    * ``callback``: the result of the call-back (回访) of the current verification; ``callback_reworks``:
      reworks a dissatisfied call-back sent back (发回重办); ``verified_at``: the last verification;
      ``reopens``: reopenings after verification (effect not lasting).
    * ``merged_into``: the issue this one was merged into (并案); ``merged``: the issues merged into this one.
    * ``evidence``: the SHA-256 of every file attached (佐证材料), in order; ``evidence_here``: how many
      were attached in the current state (what ``requires_evidence`` asks for).
    """

    accept_limit: int | None = None
    handed_at: dt.datetime | None = None
    accept_overdue: bool = False
    countersign: str | None = None
    signed: tuple[str, ...] = ()
    declined: tuple[str, ...] = ()
    suspension: SuspensionRequest | None = None
    suspended_on: dt.date | None = None
    suspended_until: dt.date | None = None
    resumes_to: str | None = None
    suspended_days: int = 0
    transfers: int = 0
    escalated: tuple[str, ...] = ()
    office: str | None = None
    callback: str | None = None
    callback_reworks: int = 0
    verified_at: dt.datetime | None = None
    reopens: int = 0
    merged_into: str | None = None
    merged: tuple[str, ...] = ()
    evidence: tuple[str, ...] = ()
    evidence_here: int = 0

    @property
    def suspended(self) -> bool:
        """Whether the issue is suspended now."""
        return self.suspended_on is not None

    def awaiting_countersign(self, cooperating: tuple[str, ...]) -> tuple[str, ...]:
        """The cooperating units whose sign-off the lead still waits for (empty: it may report)."""
        if self.countersign is None:
            return ()
        unsigned = tuple(u for u in cooperating if u not in self.signed and u not in self.declined)
        if self.countersign == "any" and (self.signed or not unsigned):
            return ()
        return unsigned

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping of the values that are set (what the stores keep)."""
        raw: dict[str, Any] = {}
        for field in attrs.fields(FieldState):
            value = getattr(self, field.name)
            if value == field.default:
                continue
            if field.name in _DATES or field.name in _TIMES:
                raw[field.name] = value.isoformat()
            elif field.name == "suspension":
                raw[field.name] = value.as_dict()
            elif field.name in _TUPLES:
                raw[field.name] = list(value)
            else:
                raw[field.name] = value
        return raw

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> FieldState:
        """The inverse of :meth:`as_dict`."""
        values: dict[str, Any] = {}
        for name, value in raw.items():
            if name in _DATES:
                values[name] = dt.date.fromisoformat(value)
            elif name in _TIMES:
                values[name] = dt.datetime.fromisoformat(value)
            elif name == "suspension":
                values[name] = SuspensionRequest.from_dict(value)
            elif name in _TUPLES:
                values[name] = tuple(value)
            else:
                values[name] = value
        return cls(**values)


#: The empty record (shared).
EMPTY: Final = FieldState()
