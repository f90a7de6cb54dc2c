"""Validation of the data keywords a trigger takes (note, result, rating, ...).

Each known field has a parser that returns the typed value (used by effects)
and the JSON form (written to the ledger); fields a custom lifecycle invents
take any JSON value.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import math
from collections.abc import Callable, Mapping
from typing import Any

from .._core.errors import ValidationError
from .._core.model import Actor, Responsible
from .._core.text import MAX_DEPTH, MAX_LENGTH, check_text, check_value
from .._core.workdays import WorkingDays

__all__ = ["FIELD_HELP", "iso_date", "json_value", "parse_date", "parse_field"]


@functools.lru_cache(maxsize=4096)
def iso_date(day: dt.date) -> str:
    """``day.isoformat()``, shared: many issues fall due on the same few days."""
    return day.isoformat()


_from_iso = functools.lru_cache(maxsize=4096)(dt.date.fromisoformat)

#: What each known data keyword accepts (shown in error messages and docs).
FIELD_HELP: Mapping[str, str] = {
    "note": "a non-empty string: the measures taken (落实情况)",
    "result": "a non-empty string: the result reported back (反馈结果)",
    "reason": "a non-empty string",
    "evidence": "a string or a list of strings (file names, links)",
    "rating": "an integer satisfaction rating from 1 to 5 (满意度)",
    "due": "a datetime.date, an ISO date string 'YYYY-MM-DD' or govflow.working_days(n)",
    "new_lead": "the id of a registered unit other than the current lead",
    "until": "a datetime.date or an ISO date string 'YYYY-MM-DD' after today",
    "into": "the id of the issue this one repeats (并案)",
    "merged_issue": "the id of the issue merged into this one",
    "sha256": "the SHA-256 of a stored file, 64 lowercase hex digits (flow.attach writes it)",
    "size": "the file's size in bytes, an integer >= 0",
    "name": "the file's name, a non-empty string",
    "kind": "what the file is, a non-empty string (photo, minutes, ...)",
    "reopen": "True or False",
}


_MAX_FREE = MAX_LENGTH["free"]


def _text(field: str, value: object, issue_id: str | None) -> str:
    # The common note, result or reason, in C: a plain string, not blank, no longer than the rule allows and
    # printable (no control, format or surrogate character at all) passes the free-text rule as it stands.
    if type(value) is str and len(value) <= _MAX_FREE and value.isprintable() and value.strip():
        return value
    if not isinstance(value, str) or not value.strip():
        got = "an empty string" if isinstance(value, str) else f"{type(value).__name__} {_short(value)}"
        raise ValidationError(field, f"got {got}", FIELD_HELP.get(field, "a non-empty string"), issue_id)
    return check_text(field, value, kind="free", issue_id=issue_id)


def _unit_id(field: str, value: object, issue_id: str | None) -> str:
    return check_text(field, value, kind="id", issue_id=issue_id)


#: At most this many evidence items per step.
MAX_EVIDENCE = 100


def _evidence(field: str, value: object, issue_id: str | None) -> list[str]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or len(items) > MAX_EVIDENCE:
        raise ValidationError(field, f"got {_short(value)}", f"{FIELD_HELP['evidence']}, at most {MAX_EVIDENCE}",
                              issue_id)
    return [check_text(field, item, kind="name", max_len=2000, issue_id=issue_id) for item in items]


def _short(value: object) -> str:
    try:
        text = repr(value)
    except Exception:  # a repr that fails (an int of 5000 digits) must not hide the real error
        return f"<{type(value).__name__}>"
    return text if len(text) <= 80 else text[:77] + "..."


def _rating(field: str, value: object, issue_id: str | None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        raise ValidationError(field, f"got {value!r}", FIELD_HELP["rating"], issue_id)
    return value


def parse_due(field: str, value: object, issue_id: str | None = None) -> dt.date | WorkingDays:
    """A due date: a date, an ISO string, or a :class:`WorkingDays` count (resolved later)."""
    if isinstance(value, WorkingDays):
        return value
    return parse_date(field, value, issue_id)


def parse_date(field: str, value: object, issue_id: str | None = None) -> dt.date:
    """A ``date`` from a date or an ISO ``YYYY-MM-DD`` string (a datetime is refused)."""
    if isinstance(value, dt.datetime):
        raise ValidationError(
            field, f"got the datetime {value.isoformat()}", FIELD_HELP["due"], issue_id
        )
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            value = _from_iso(value)
    if isinstance(value, dt.date):
        if not MIN_YEAR <= value.year <= MAX_YEAR:
            raise ValidationError(field, f"got {value.isoformat()}",
                                  f"a date in the years {MIN_YEAR}–{MAX_YEAR} (the calendar's range)", issue_id)
        return value
    raise ValidationError(field, f"got {_short(value)}", FIELD_HELP["due"], issue_id)


#: The years a due date may fall in: far enough for any plan, far enough from the ends of ``datetime``
#: that counting working days and ladder steps never overflows.
MIN_YEAR, MAX_YEAR = 1900, 9000


def json_value(field: str, value: object, issue_id: str | None = None) -> Any:
    """``value`` if it is plain JSON (str, int, finite float, bool, None, lists, str-keyed dicts), with dates
    as ISO text; checked by :func:`govflow.check_text`'s rules (:func:`check_value`)."""
    converted = _json_value(field, value, issue_id, 0)
    check_value(field, converted, issue_id=issue_id)
    return converted


def _json_value(field: str, value: object, issue_id: str | None, depth: int) -> Any:
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return value
    if isinstance(value, dt.date):
        return value.isoformat() if isinstance(value, dt.datetime) else iso_date(value)
    if isinstance(value, WorkingDays):
        return {"working_days": value.count}
    if depth > MAX_DEPTH:
        raise ValidationError(field, f"nested more than {MAX_DEPTH} levels deep",
                              f"lists and mappings nested at most {MAX_DEPTH} levels", issue_id)
    if isinstance(value, list | tuple):
        return [_json_value(field, v, issue_id, depth + 1) for v in value]
    if isinstance(value, Mapping) and all(isinstance(k, str) for k in value):
        return {k: _json_value(field, v, issue_id, depth + 1) for k, v in value.items()}
    raise ValidationError(
        field,
        f"got {type(value).__name__} {_short(value)}",
        "JSON values: strings, numbers, booleans, dates, lists and string-keyed mappings",
        issue_id,
    )


def _sha256(field: str, value: object, issue_id: str | None) -> str:
    if isinstance(value, str) and len(value) == 64 and all(c in "0123456789abcdef" for c in value):
        return value
    raise ValidationError(field, f"got {value!r}", FIELD_HELP[field], issue_id)


def _size(field: str, value: object, issue_id: str | None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError(field, f"got {value!r}", FIELD_HELP[field], issue_id)
    return value


def _flag(field: str, value: object, issue_id: str | None) -> bool:
    if not isinstance(value, bool):
        raise ValidationError(field, f"got {value!r}", FIELD_HELP[field], issue_id)
    return value


_PARSERS: dict[str, Callable[[str, object, str | None], Any]] = {
    "note": _text,
    "result": _text,
    "reason": _text,
    "evidence": _evidence,
    "rating": _rating,
    "due": parse_due,
    "new_lead": _unit_id,
    "until": parse_date,
    "into": _text,
    "merged_issue": _text,
    "sha256": _sha256,
    "size": _size,
    "name": _text,
    "kind": _text,
    "reopen": _flag,
}


def parse_field(field: str, value: object, issue_id: str | None) -> Any:
    """The typed value of data keyword ``field``; raises :class:`ValidationError`."""
    return field_parser(field)(field, value, issue_id)


def field_parser(field: str) -> Callable[[str, object, str | None], Any]:
    """What :func:`parse_field` runs for data keyword ``field``: a transition looks its keywords' parsers up
    once, not on every step."""
    return _PARSERS.get(field, json_value)


def is_missing(value: object) -> bool:
    """Whether a required keyword counts as not given (None, "", blank, empty list)."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    return isinstance(value, list | tuple | dict) and not value


def parse_actor(by: object) -> Actor:
    """``by`` of a command: a unit id or an :class:`Actor`."""
    # Every command names its actor, and a flow sees few distinct ones: an actor that passed the text rule
    # is kept (a valid one only: a refused one raises and is not cached). Plain str and Actor only, so no
    # subclass's own __eq__ or __hash__ runs and a subclass instance is passed on as given.
    if type(by) is str:
        return _checked_actor(by, None)
    if isinstance(by, Actor):
        if type(by) is Actor and type(by.unit) is str and (by.person is None or type(by.person) is str):
            return _checked_actor(by.unit, by.person)
        return _check_actor(by)
    if isinstance(by, str):
        return _check_actor(Actor(by))
    raise ValidationError("by", f"got {_short(by)}", "a unit id or a govflow.Actor(unit, person)")


@functools.lru_cache(maxsize=1024)
def _checked_actor(unit: str, person: str | None) -> Actor:
    return _check_actor(Actor(unit, person))


def _check_actor(actor: Actor) -> Actor:
    check_text("by", actor.unit, kind="id")
    if actor.person is not None:
        check_text("by.person", actor.person, kind="name", max_len=200)
    return actor


def parse_responsible(value: object) -> Responsible | None:
    """``responsible`` of an assignment: a :class:`Responsible`, a mapping with ``first``/``direct``, or None."""
    if isinstance(value, Responsible):
        value = value.as_dict()
    if value is None:
        return None
    accepted = "a govflow.Responsible or a mapping with keys 'first' and/or 'direct' (names)"
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value) \
            or not set(value) <= {"first", "direct"}:
        raise ValidationError("responsible", f"got {_short(value)}", accepted)
    for key, name in value.items():
        if name is not None:
            check_text(f"responsible.{key}", name, kind="name", max_len=200)
    return Responsible(first=value.get("first"), direct=value.get("direct"))
