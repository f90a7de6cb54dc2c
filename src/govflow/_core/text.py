"""One text rule at the door (入口校验): ids, names, titles and free text, and the JSON values a ledger holds.

Every text a caller hands govflow passes :func:`check_text` before anything is
written, on every store, so that what one backend accepts another can hold
(PostgreSQL cannot keep NUL; UTF-8 cannot encode a lone surrogate), and so that
two unit ids that look alike cannot both be registered. Values of data keywords
a custom lifecycle invents pass :func:`check_value`.

The kinds:

``"id"``
    unit ids, issue-id prefixes, state and trigger names: no control or format
    character, no whitespace at either end, letters of one script only among
    Latin, Cyrillic and Greek (``"ХY"`` with a Cyrillic Х is refused).
``"name"``
    titles, unit and person names, labels, categories: one line, no control
    character.
``"free"``
    notes, results, reasons, descriptions: newline and tab allowed, no other
    control character.

Every kind refuses lone surrogates, NUL and the bidirectional overrides
(U+202A–U+202E, U+2066–U+2069) that make text read differently from how it is stored.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Mapping
from typing import Any, Final, Literal

from .errors import ValidationError

__all__ = ["MAX_DEPTH", "MAX_INT", "MAX_LENGTH", "TextKind", "check_text", "check_value", "skeleton"]

#: What kind of text a field holds (see the module's docstring).
TextKind = Literal["free", "name", "id"]

#: The default longest text of each kind, in characters.
MAX_LENGTH: Final[Mapping[str, int]] = {"id": 64, "name": 500, "free": 50_000}
#: The largest integer magnitude a ledger value may hold (2**53 - 1: every JSON reader agrees on it).
MAX_INT: Final = 2**53 - 1
#: How deeply lists and mappings may nest in a ledger value.
MAX_DEPTH: Final = 16
#: How many items (list elements or mapping keys, counted over the whole value) a ledger value may hold.
MAX_ITEMS: Final = 10_000

_BIDI: Final = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_SCRIPTS: Final = ("LATIN", "CYRILLIC", "GREEK")
_ACCEPTED: Final[Mapping[str, str]] = {
    "id": "one line of letters, digits and punctuation without control or format characters, without "
          "whitespace at either end, its letters from one script (Latin, Cyrillic or Greek, not mixed)",
    "name": "one line of text without control characters",
    "free": "text without NUL, lone surrogates or control characters other than newline and tab",
}


def check_text(
    field: str,
    value: object,
    *,
    kind: TextKind = "free",
    max_len: int | None = None,
    issue_id: str | None = None,
    empty: bool = False,
) -> str:
    """``value`` if it is a string that passes the rule for ``kind``; else :class:`ValidationError`.

    ``field`` names the input in the error; ``max_len`` overrides the kind's
    :data:`MAX_LENGTH`; ``empty`` allows the empty (or all-blank) string.
    """
    limit = MAX_LENGTH[kind] if max_len is None else max_len
    if not isinstance(value, str):
        raise ValidationError(field, f"got {type(value).__name__} {_short(value)}",
                              f"a string: {_accepted(kind, limit)}", issue_id)
    if not empty and not value.strip():
        raise ValidationError(field, "got an empty string" if not value else "got only whitespace",
                              f"a non-empty string: {_accepted(kind, limit)}", issue_id)
    if len(value) > limit:
        raise ValidationError(field, f"{len(value)} characters long", _accepted(kind, limit), issue_id)
    problem = _problem(value, kind)
    if problem is not None:
        raise ValidationError(field, problem, _accepted(kind, limit), issue_id)
    return value


def _accepted(kind: str, limit: int) -> str:
    """What ``kind`` accepts, in words (built only for an error: this rule runs on every input)."""
    return f"{_ACCEPTED[kind]}, at most {limit} characters"


def _problem(value: str, kind: str) -> str | None:
    """What is wrong with ``value`` as text of ``kind``, or None."""
    if value.isprintable() and not (kind == "id" and value != value.strip()):
        # The common case, in C: no control, format, separator or unassigned character at all.
        return _mixed_scripts(value) if kind == "id" else None
    for position, char in enumerate(value):
        code = ord(char)
        where = f"at position {position}"
        if 0xD800 <= code <= 0xDFFF:
            return f"a lone surrogate U+{code:04X} {where} (not a character: UTF-8 cannot hold it)"
        if code == 0:
            return f"NUL (U+0000) {where}"
        if char in _BIDI:
            return f"the bidirectional control U+{code:04X} {where} (text would read differently from how it is stored)"
        category = unicodedata.category(char)
        if category == "Cc" and not (kind == "free" and char in "\n\t"):
            return f"the control character U+{code:04X} {where}"
        if kind == "id" and category in ("Cf", "Zl", "Zp"):
            return f"the invisible character U+{code:04X} {where}"
    if kind == "id":
        if value != value.strip():
            return "whitespace at the start or end"
        return _mixed_scripts(value)
    return None


def _mixed_scripts(value: str) -> str | None:
    """Letters of more than one of Latin, Cyrillic and Greek (look-alikes: Latin X, Cyrillic Х, Greek Χ)."""
    if value.isascii():
        return None
    seen = {script for char in value if char.isalpha() for script in _SCRIPTS
            if unicodedata.name(char, "").startswith(script)}
    if len(seen) > 1:
        return f"letters of more than one script ({', '.join(sorted(seen)).lower()}) that can look alike"
    return None


# Cyrillic and Greek capitals and small letters that look like Latin ones.
_LOOKALIKE: Final = str.maketrans(
    "АВЕКМНОРСТУХІЈЅҮаеорсухіјѕүԁԛԜԝΑΒΕΖΗΙΚΜΝΟΡΤΥΧαοριυνχ",
    "ABEKMHOPCTYXIJSYaeopcyxijsydqWwABEZHIKMNOPTYXaopiuvx",
)


def skeleton(value: str) -> str:
    """``value`` with look-alike letters folded to Latin and compatibility forms unified, case-folded.

    Two unit ids with the same skeleton read as the same id to a person (``"XY"``,
    ``"ХҮ"`` in Cyrillic, ``"ＸＹ"`` in full width); the facade refuses the second.
    """
    return unicodedata.normalize("NFKC", value).translate(_LOOKALIKE).casefold()


def check_value(field: str, value: object, *, issue_id: str | None = None) -> None:
    """Check a JSON value bound for the ledger: strings by the ``free`` rule, integers within
    ±:data:`MAX_INT`, finite floats, at most :data:`MAX_DEPTH` levels and :data:`MAX_ITEMS` items,
    string keys by the ``name`` rule. Raises :class:`ValidationError`."""
    budget = [MAX_ITEMS]
    _check_value(field, value, 0, budget, issue_id)


def _check_value(field: str, value: Any, depth: int, budget: list[int], issue_id: str | None) -> None:
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, str):
        check_text(field, value, kind="free", empty=True, issue_id=issue_id)
        return
    if isinstance(value, int):
        if not -MAX_INT <= value <= MAX_INT:
            raise ValidationError(field, "an integer too large to keep exactly",
                                  f"integers from -{MAX_INT} to {MAX_INT} (2**53 - 1)", issue_id)
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValidationError(field, f"got {value!r}", "finite numbers", issue_id)
        return
    if depth >= MAX_DEPTH:
        raise ValidationError(field, f"nested more than {MAX_DEPTH} levels deep",
                              f"lists and mappings nested at most {MAX_DEPTH} levels", issue_id)
    if isinstance(value, list | tuple):
        budget[0] -= len(value)
        _check_budget(field, budget, issue_id)
        for item in value:
            _check_value(field, item, depth + 1, budget, issue_id)
        return
    if isinstance(value, Mapping):
        budget[0] -= len(value)
        _check_budget(field, budget, issue_id)
        for key, item in value.items():
            check_text(f"{field} (a key)", key, kind="name", issue_id=issue_id)
            _check_value(field, item, depth + 1, budget, issue_id)
        return
    raise ValidationError(field, f"got {type(value).__name__} {_short(value)}",
                          "JSON values: strings, numbers, booleans, None, lists and string-keyed mappings", issue_id)


def _check_budget(field: str, budget: list[int], issue_id: str | None) -> None:
    if budget[0] < 0:
        raise ValidationError(field, f"more than {MAX_ITEMS} items",
                              f"at most {MAX_ITEMS} list items and mapping keys in all", issue_id)


def _short(value: object) -> str:
    """A repr of ``value`` cut short (an error message must not carry 10 MB of input)."""
    try:
        text = repr(value)
    except Exception:  # a repr that fails must not hide the real error
        return f"<{type(value).__name__}>"
    return text if len(text) <= 80 else text[:77] + "..."
