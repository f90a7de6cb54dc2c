"""The hash-chained ledger (台账): canonical encoding, sealing and verification.

Each entry's hash is ``sha256(canonical_bytes(entry))`` where the canonical
bytes are the UTF-8 JSON of every field but ``hash`` itself (``prev_hash``
included), with sorted keys, no whitespace, non-ASCII characters kept as they
are and datetimes in ISO 8601 with their UTC offset. The first entry's
``prev_hash`` is 64 zeros. An auditor can recompute the chain with ``json``
and ``hashlib`` alone; docs/ledger.md shows how.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final

import attrs

from .construct import positional
from .errors import LedgerCorrupted, ValidationError
from .model import LedgerEntry, new_entry

__all__ = [
    "GENESIS_HASH", "PLAN_SUBJECT_PREFIXES", "SUBJECT_SEPARATOR", "LedgerCheck", "LedgerDraft", "canonical_bytes",
    "is_issue_subject", "iso_instant",
    "parse_stored_at", "parse_stored_data", "seal", "seal_text", "stored_problem",
]

#: ``prev_hash`` of the very first ledger entry.
GENESIS_HASH: Final = "0" * 64


@attrs.frozen(weakref_slot=False)  # see construct.positional: every step makes one
class LedgerDraft:
    """A ledger entry before the store gives it its place in the chain."""

    issue_id: str
    issue_seq: int
    trigger: str
    from_state: str | None
    to_state: str
    actor: str
    person: str | None
    at: dt.datetime
    data: Mapping[str, Any]


#: ``LedgerDraft(*fields)`` by position: what every step runs.
new_draft: Final = positional(LedgerDraft)


@attrs.frozen
class LedgerCheck:
    """What :meth:`Govflow.verify_ledger` checked: entry count and chain head."""

    entries: int
    head: str
    issues: int


_dumps = json.JSONEncoder(
    ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
).encode


def _c_encoder() -> Callable[[object], str]:
    """The C encoder, built once (``json.dumps`` builds a new one on every call)."""
    import json.encoder

    c_make_encoder = getattr(json.encoder, "c_make_encoder", None)
    if c_make_encoder is None:  # pragma: no cover - a Python without the C accelerator
        return _dumps
    encode_basestring = json.encoder.encode_basestring

    def refuse(value: object) -> object:
        raise TypeError(f"{type(value).__name__} is not JSON serialisable")

    encode = c_make_encoder(None, refuse, encode_basestring, None, ":", ",", True, False, False)

    def dumps(value: object) -> str:
        return "".join(encode(value, 0))

    return dumps


_dumps_fast = _c_encoder()


def canonical_json(value: object) -> str:
    """JSON with sorted keys, no whitespace and non-ASCII kept: the ledger's encoding of values."""
    return _dumps_fast(value)


def _data_json(data: object) -> str:
    """``canonical_json(data)`` for an entry's data; a step's is most often one text keyword (``note``,
    ``result``, ``reason``), written here without the encoder's sorting and buffering.
    tests/core/test_ledger.py checks this against json.dumps."""
    if type(data) is dict and len(data) == 1:
        for key, value in data.items():
            if type(key) is str and type(value) is str:
                return f"{{{_string(key)}:{_string(value)}}}"
    return _dumps_fast(data)


def canonical_bytes(
    *,
    seq: int,
    issue_id: str,
    issue_seq: int,
    trigger: str,
    from_state: str | None,
    to_state: str,
    actor: str,
    person: str | None,
    at: dt.datetime | str,
    data: Mapping[str, Any],
    prev_hash: str,
) -> bytes:
    """The bytes an entry's hash is computed over (every field but ``hash``).

    Raises :class:`ValidationError` (field ``data``) for a value JSON cannot hold or UTF-8
    cannot encode (the door checks inputs first; this is the last line).
    """
    return _canonical(seq, issue_id, issue_seq, trigger, from_state, to_state, actor, person, at, data, prev_hash)


def _canonical(
    seq: int, issue_id: str, issue_seq: int, trigger: str, from_state: str | None, to_state: str, actor: str,
    person: str | None, at: dt.datetime | str, data: Mapping[str, Any], prev_hash: str, data_text: str | None = None,
) -> bytes:
    """:func:`canonical_bytes` by position; ``data_text`` is ``canonical_json(data)`` when the caller has it."""
    try:
        return _encode_entry(seq, issue_id, issue_seq, trigger, from_state, to_state, actor, person, at, data,
                             prev_hash, data_text)
    except _UNENCODABLE as exc:
        raise _unencodable(exc) from None


#: What encoding an entry raises for a value the canonical encoding cannot hold.
_UNENCODABLE: Final = (TypeError, ValueError, UnicodeEncodeError, RecursionError)


def _unencodable(exc: BaseException) -> ValidationError:
    return ValidationError(
        "data", f"the entry cannot be encoded canonically ({type(exc).__name__}: {str(exc)[:200]})",
        "JSON values without lone surrogates: strings, finite numbers, booleans, None, lists, "
        "string-keyed mappings",
    )


def _encode_entry(
    seq: int, issue_id: str, issue_seq: int, trigger: str, from_state: str | None, to_state: str, actor: str,
    person: str | None, at: dt.datetime | str, data: Mapping[str, Any], prev_hash: str, data_text: str | None,
) -> bytes:
    at_text = at if isinstance(at, str) else iso_instant(at)
    if type(seq) is int and type(issue_seq) is int:  # not bool, which the encoder writes as true/false
        try:
            # The same text the encoder below writes, with the keys already in sorted order: sealing runs on every
            # step, and only ``data`` varies in shape. ``_string`` takes any ``str`` (a subclass too, written as
            # the encoder writes it) and raises TypeError for anything else, which then takes the encoder's
            # route. tests/core/test_ledger.py checks both against json.dumps.
            return (
                f'{{"actor":{_string(actor)},"at":{_string(at_text)},'
                f'"data":{_data_json(data) if data_text is None else data_text},'
                f'"from_state":{"null" if from_state is None else _string(from_state)},'
                f'"issue_id":{_string(issue_id)},"issue_seq":{int.__repr__(issue_seq)},'
                f'"person":{"null" if person is None else _string(person)},"prev_hash":{_string(prev_hash)},'
                f'"seq":{int.__repr__(seq)},"to_state":{_string(to_state)},"trigger":{_string(trigger)}}}'
            ).encode()
        except TypeError:
            pass
    return _dumps_fast(
        {
            "seq": seq,
            "issue_id": issue_id,
            "issue_seq": issue_seq,
            "trigger": trigger,
            "from_state": from_state,
            "to_state": to_state,
            "actor": actor,
            "person": person,
            "at": at_text,
            "data": data,
            "prev_hash": prev_hash,
        }
    ).encode("utf-8")


#: A JSON string literal, as the canonical encoder writes it (non-ASCII kept).
_string: Final[Callable[[str], str]] = json.encoder.encode_basestring
_last_instant: tuple[dt.datetime | None, str] = (None, "")


def iso_instant(at: dt.datetime) -> str:
    """``at.isoformat()``, remembered for the last instant: one step writes its time into the entry's hash,
    its ledger row and its issue row, and the same object comes each time."""
    global _last_instant
    last = _last_instant  # one read: another thread may replace it meanwhile
    if last[0] is at:
        return last[1]
    text = at.isoformat()
    _last_instant = (at, text)
    return text


def entry_hash(entry: LedgerEntry | LedgerDraft, seq: int, prev_hash: str, data_text: str | None = None) -> str:
    """The SHA-256 hex digest of ``entry`` placed at ``seq`` after ``prev_hash`` (``data_text``: as in
    :func:`seal_text`)."""
    return hashlib.sha256(
        _canonical(seq, entry.issue_id, entry.issue_seq, entry.trigger, entry.from_state, entry.to_state,
                   entry.actor, entry.person, entry.at, entry.data, prev_hash, data_text)
    ).hexdigest()


def seal(draft: LedgerDraft, seq: int, prev_hash: str) -> LedgerEntry:
    """Place ``draft`` at ``seq`` in the chain after ``prev_hash``."""
    return seal_text(draft, seq, prev_hash)[0]


def seal_text(draft: LedgerDraft, seq: int, prev_hash: str) -> tuple[LedgerEntry, str]:
    """:func:`seal`, and the entry's data as the canonical JSON text its hash covers: what a store writes in its
    ``data`` column, encoded once for both."""
    # One frame from the draft to the sealed entry: every step of every store runs this. The fields are read
    # one by one: plain attribute reads, which the interpreter specialises (an attrgetter reads each by name).
    issue_id, issue_seq, trigger, from_state = draft.issue_id, draft.issue_seq, draft.trigger, draft.from_state
    to_state, actor, person, at, data = draft.to_state, draft.actor, draft.person, draft.at, draft.data
    try:
        data_text = _data_json(data)
        text = _encode_entry(seq, issue_id, issue_seq, trigger, from_state, to_state, actor, person, at, data,
                             prev_hash, data_text)
    except _UNENCODABLE as exc:
        raise _unencodable(exc) from None
    return new_entry(seq, issue_id, issue_seq, trigger, from_state, to_state, actor, person, at, data, prev_hash,
                     _sha256(text).hexdigest(), None), data_text


_sha256: Final = hashlib.sha256


#: What separates a subject's kind from its id in the ledger's ``issue_id`` (``unit:OFFICE``); issue ids never hold it.
SUBJECT_SEPARATOR: Final = ":"
#: The id prefixes of work plans and targets (``PL-…``, ``TG-…``): subjects with rows and a replay of their own.
PLAN_SUBJECT_PREFIXES: Final = ("PL-", "TG-")


def is_issue_subject(subject: str) -> bool:
    """Whether a ledger ``issue_id`` names an issue: other subjects in the chain are namespaced (``unit:OFFICE``,
    ``plan:…``), and issue ids never hold ``:`` (see docs/ledger.md, "Subjects other than issues"); plans
    and targets have ids of their own (``PL-…``, ``TG-…``), which no issue prefix may take."""
    return SUBJECT_SEPARATOR not in subject and not subject.startswith(PLAN_SUBJECT_PREFIXES)


def parse_stored_data(seq: int, text: object) -> dict[str, Any]:
    """The ``data`` of stored entry ``seq`` parsed from its JSON text; :class:`LedgerCorrupted` if it is not
    a JSON object (the row was edited outside govflow)."""
    try:
        value = json.loads(text) if isinstance(text, str | bytes) else None
    except (ValueError, RecursionError):
        value = None
    if not isinstance(value, dict):
        raise LedgerCorrupted(seq, f"its stored data {str(text)[:60]!r} is not a JSON object: the entry was altered")
    return value


def parse_stored_at(seq: int, text: object) -> dt.datetime:
    """The ``at`` of stored entry ``seq`` parsed from its ISO text; :class:`LedgerCorrupted` if it is not a
    timezone-aware ISO 8601 time."""
    try:
        at = dt.datetime.fromisoformat(text) if isinstance(text, str) else None
    except ValueError:
        at = None
    if at is None or at.utcoffset() is None:
        raise LedgerCorrupted(seq, f"its stored time {str(text)[:60]!r} is not an ISO 8601 time with an offset: "
                              "the entry was altered")
    return at


def stored_problem(entry: LedgerEntry) -> str | None:
    """Why ``entry`` as stored is not the canonical encoding of its parsed value, or None.

    Python keeps the last of two equal JSON keys and SQLite's ``json_extract`` the
    first, and a time written in another offset names the same instant: only text
    that is byte for byte the canonical encoding is read the same way by every
    reader, so only such text verifies. Also refuses values the encoding cannot hold.
    """
    if not isinstance(entry.data, dict):
        return f"its data is a {type(entry.data).__name__}, not a JSON object: the entry was altered"
    try:
        data_text = canonical_json(entry.data)
        at_text = entry.at.isoformat()
        data_text.encode("utf-8")
    except (TypeError, ValueError, UnicodeEncodeError, RecursionError) as exc:
        return f"its data cannot be encoded canonically ({type(exc).__name__}): the entry was altered"
    if entry.stored is None:
        return None
    stored_at, stored_data = entry.stored
    if stored_at != at_text:
        return (f"its stored time {stored_at[:60]!r} is not the canonical text {at_text!r} of the instant "
                "it parses to: the entry was altered")
    if stored_data != data_text:
        return ("its stored data is not byte for byte the canonical encoding of its parsed value "
                "(a duplicated key, spacing, key order, escapes or number format differ), so readers "
                "of the text could see other values than the hash covers: the entry was altered")
    return None


def verify_chain(
    entries: Iterable[LedgerEntry],
    head: Callable[[], tuple[int, str]],
    issue_versions: Mapping[str, tuple[int, str]],
    *,
    settled: int | None = None,
) -> LedgerCheck:
    """Check the chain; raise :class:`LedgerCorrupted` at the first bad entry.

    ``entries`` in stored order; ``head`` reads the separately kept (seq, hash) of
    the last entry, once ``entries`` are consumed;
    ``issue_versions`` each issue's (version, state) as stored.

    ``settled`` is for a store being written while it is read: the head's seq
    read just before ``issue_versions``. An issue with no entry after it must
    match its last entry exactly; one written since (entries after ``settled``)
    must be at one of the versions it passed through during the read.
    """
    prev_hash = GENESIS_HASH
    expected_seq = 1
    issue_last: dict[str, tuple[int, str, int]] = {}  # issue -> (issue_seq, to_state, seq)
    # issue -> {issue_seq: to_state} of the entries after ``settled`` and of the last one before them
    recent: dict[str, dict[int, str]] = {}
    for entry in entries:
        if entry.seq != expected_seq:
            if entry.seq > expected_seq:
                problem = f"expected entry {expected_seq} here: entries were removed"
            else:
                problem = f"expected entry {expected_seq} here: entries were reordered"
            raise LedgerCorrupted(min(entry.seq, expected_seq), problem, entry.issue_id)
        if entry.prev_hash != prev_hash:
            raise LedgerCorrupted(
                entry.seq,
                "prev_hash does not match the hash of the entry before it: "
                "an earlier entry was altered, removed or reordered",
                entry.issue_id,
            )
        stored = stored_problem(entry)
        if stored is not None:
            raise LedgerCorrupted(entry.seq, stored, entry.issue_id)
        if entry_hash(entry, entry.seq, entry.prev_hash) != entry.hash:
            raise LedgerCorrupted(
                entry.seq, "contents do not match its hash: the entry was altered", entry.issue_id
            )
        last = issue_last.get(entry.issue_id)
        want = 1 if last is None else last[0] + 1
        if entry.issue_seq != want:
            raise LedgerCorrupted(
                entry.seq,
                f"issue_seq {entry.issue_seq} where {want} was expected: "
                "the issue's entries were altered or removed",
                entry.issue_id,
            )
        if last is not None and entry.from_state != last[1]:
            raise LedgerCorrupted(
                entry.seq,
                f"from_state {entry.from_state!r} does not follow the issue's "
                f"previous state {last[1]!r}",
                entry.issue_id,
            )
        if settled is not None and entry.seq > settled:
            passed = recent.setdefault(entry.issue_id, {} if last is None else {last[0]: last[1]})
            passed[entry.issue_seq] = entry.to_state
        issue_last[entry.issue_id] = (entry.issue_seq, entry.to_state, entry.seq)
        prev_hash = entry.hash
        expected_seq += 1
    count = expected_seq - 1
    head_seq, head_hash = head()
    if head_seq != count or head_hash != prev_hash:
        raise LedgerCorrupted(
            count + 1 if head_seq > count else head_seq,
            f"the chain head says entry {head_seq} ({head_hash[:12]}…) is the last, "
            f"but the ledger ends at entry {count} ({prev_hash[:12]}…): "
            "entries were cut from the end or the head was altered",
        )
    for issue_id, (version, state) in issue_versions.items():
        seen = issue_last.get(issue_id)
        if seen is None:
            raise LedgerCorrupted(
                count + 1,
                f"issue {issue_id} is at version {version} but has no ledger entries",
                issue_id,
            )
        if recent.get(issue_id, {}).get(version) == state:
            continue  # written while the ledger was read: at a version it passed through
        if seen[0] != version or seen[1] != state:
            raise LedgerCorrupted(
                seen[2] + 1 if seen[0] < version else seen[2],
                f"issue {issue_id} is at version {version} ({state!r}) but its ledger "
                f"ends at entry {seen[0]} ({seen[1]!r}): its last entries were removed "
                "or the issue row was altered",
                issue_id,
            )
    for issue_id, (_, _, seq) in issue_last.items():
        if SUBJECT_SEPARATOR in issue_id:
            continue  # ``unit:…``: a subject with rows of its own, checked by its own kind
        # Issues, plans and targets all have a row in ``issue_versions``.
        if issue_id not in issue_versions and 1 not in recent.get(issue_id, {}):  # not new since the read
            raise LedgerCorrupted(
                seq, f"issue {issue_id} has ledger entries but no issue record", issue_id
            )
    return LedgerCheck(entries=count, head=prev_hash, issues=len(issue_versions))
