"""Checks of the inputs of plan and target commands: each refusal names the field and what is accepted."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable

from .._core.errors import ValidationError
from .._core.model import Unit
from .._core.text import TextKind, check_text
from .._lifecycle.fields import parse_date

__all__ = ["chain", "milestones", "plan_triggers", "text", "units_list"]


def plan_triggers(state: str) -> list[str]:
    """The plan steps a supervisor may take in ``state`` (for error messages)."""
    return {"draft": ["activate_plan", "close_plan", "add_target"], "active": ["close_plan", "add_target"]}.get(
        state, [])


def text(field: str, value: object, kind: TextKind = "free", max_len: int | None = 1000) -> str:
    """``value`` if it is a non-empty string that passes govflow's text rule for ``kind`` (no NUL, lone
    surrogates or stray control characters; at most ``max_len`` characters), else :class:`ValidationError`."""
    return check_text(field, value, kind=kind, max_len=max_len)


def units_list(value: Iterable[str] | str | None) -> tuple[str, ...]:
    """Unit ids from one id or a list of them (duplicates dropped)."""
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    try:
        found = tuple(dict.fromkeys(value))
    except TypeError:
        raise ValidationError("cooperating", f"got {value!r}", "a unit id or a list of unit ids") from None
    for unit_id in found:
        if not isinstance(unit_id, str):
            raise ValidationError("cooperating", f"got {unit_id!r}", "unit ids")
        check_text("cooperating", unit_id, kind="id")
    return found


def milestones(value: Iterable[tuple[dt.date | str, float]], due: dt.date) -> list[tuple[dt.date, float]]:
    """Milestones (day, expected progress) in date order before ``due``, expected progress not going down."""
    try:
        raw = [tuple(m) for m in value]
    except TypeError:
        raise ValidationError("milestones", f"got {value!r}", "a list of (date, expected progress) pairs") from None
    found: list[tuple[dt.date, float]] = []
    for item in raw:
        if len(item) != 2:
            raise ValidationError("milestones", f"got {item!r}", "(date, expected progress) pairs")
        day, share = parse_date("milestones", item[0]), item[1]
        if isinstance(share, bool) or not isinstance(share, int | float) or not 0 <= share <= 100:
            raise ValidationError("milestones", f"got {share!r}", "expected progress from 0 to 100")
        if day >= due or (found and (day <= found[-1][0] or share < found[-1][1])):
            raise ValidationError("milestones", f"got {item!r}",
                                  "milestones in date order before the due date, expected progress not going down")
        found.append((day, float(share)))
    return found


def chain(unit_id: str, find: Callable[[str], Unit | None]) -> list[str]:
    """``unit_id`` and the units above it, nearest first (a cycle in the stored parents stops it)."""
    found: list[str] = []
    current: str | None = unit_id
    while current is not None and current not in found:
        found.append(current)
        unit = find(current)
        current = None if unit is None else unit.parent
    return found
