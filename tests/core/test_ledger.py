"""The hash-chained ledger: canonical encoding, and tampering found by editing the SQLite file."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import govflow
from govflow import GENESIS_HASH, LedgerCorrupted, canonical_bytes
from govflow._core.ledger import LedgerDraft, seal, seal_text
from govflow.testing import FakeClock

from ..conftest import UNIT_ENTRIES, add_units


@pytest.fixture
def ledger_file(tmp_path: Path, clock: FakeClock) -> Iterator[Path]:
    """An SQLite flow with four units and three issues: 4 + 8 ledger entries, closed and ready to tamper with.

    The tests name the issues' entries as ``U + n`` (the n-th after the units').
    """
    path = tmp_path / "ledger.sqlite3"
    with govflow.open(path, clock=clock) as flow:
        add_units(flow)
        a = flow.assign("道路积水", lead="XIANGYUN", due="2026-03-20", by="OFFICE")
        b = flow.assign("垃圾清运", lead="BINCHUAN", due="2026-03-20", by="OFFICE")
        flow.implement(a.id, by="XIANGYUN", note="疏通")
        flow.implement(b.id, by="BINCHUAN", note="清运")
        flow.report(a.id, by="XIANGYUN", result="完成")
        flow.verify(a.id, by="OFFICE", rating=4)
        c = flow.assign("路灯维修", lead="XIAZHUANG", due="2026-03-20", by="OFFICE")
        flow.accept(c.id, by="XIAZHUANG")
        assert flow.verify_ledger().entries == U + 8
    yield path


U = UNIT_ENTRIES


def tamper(path: Path, *statements: str) -> None:
    """Edit the file as an intruder would: drop the append-only triggers first."""
    db = sqlite3.connect(path)
    db.execute("DROP TRIGGER ledger_no_update")
    db.execute("DROP TRIGGER ledger_no_delete")
    for statement in statements:
        db.execute(statement)
    db.commit()
    db.close()


def corruption(path: Path) -> LedgerCorrupted:
    with govflow.open(path) as flow, pytest.raises(LedgerCorrupted) as info:
        flow.verify_ledger()
    return info.value


def test_the_hash_is_sha256_of_the_documented_encoding(flow: govflow.Govflow) -> None:
    issue = flow.assign("道路积水", lead="XIANGYUN", due="2026-03-20", by="OFFICE")
    flow.implement(issue.id, by=govflow.Actor("XIANGYUN", "王五"), note="已疏通")
    entries = flow.ledger()
    assert entries[0].prev_hash == GENESIS_HASH == "0" * 64
    first, second = flow.ledger(issue.id)
    assert first.prev_hash == entries[U - 1].hash and second.prev_hash == first.hash
    fields = {
        "seq": U + 2, "issue_id": issue.id, "issue_seq": 2, "trigger": "implement",
        "from_state": "assigned", "to_state": "implemented", "actor": "XIANGYUN", "person": "王五",
        "at": second.at.isoformat(), "data": {"note": "已疏通"}, "prev_hash": first.hash,
    }
    text = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert canonical_bytes(**{**fields, "at": second.at}) == text.encode("utf-8")
    assert hashlib.sha256(text.encode("utf-8")).hexdigest() == second.hash
    assert "+08:00" in second.at.isoformat()


def test_the_ledger_table_refuses_update_and_delete(ledger_file: Path) -> None:
    db = sqlite3.connect(ledger_file)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("UPDATE ledger SET actor = 'X' WHERE seq = 1")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("DELETE FROM ledger WHERE seq = 1")
    db.close()


def test_an_altered_entry_is_named(ledger_file: Path) -> None:
    tamper(ledger_file, f"""UPDATE ledger SET data = '{{"rating":5}}' WHERE seq = {U + 6}""")
    error = corruption(ledger_file)
    assert error.seq == U + 6 and "altered" in str(error)


def test_an_altered_actor_is_named(ledger_file: Path) -> None:
    tamper(ledger_file, f"UPDATE ledger SET actor = 'BINCHUAN' WHERE seq = {U + 3}")
    assert corruption(ledger_file).seq == U + 3


def test_an_altered_timestamp_is_named(ledger_file: Path) -> None:
    tamper(ledger_file, f"UPDATE ledger SET at = replace(at, '09:', '08:') WHERE seq = {U + 2}")
    assert corruption(ledger_file).seq == U + 2


def test_a_removed_entry_is_named(ledger_file: Path) -> None:
    tamper(ledger_file, f"DELETE FROM ledger WHERE seq = {U + 4}")
    error = corruption(ledger_file)
    assert error.seq == U + 4 and "removed" in str(error)


def test_reordered_entries_are_named(ledger_file: Path) -> None:
    # Swap the issues' entries 3 and 4 (the seq column is what orders them).
    tamper(
        ledger_file,
        f"UPDATE ledger SET seq = -3 WHERE seq = {U + 3}",
        f"UPDATE ledger SET seq = {U + 3} WHERE seq = {U + 4}",
        f"UPDATE ledger SET seq = {U + 4} WHERE seq = -3",
    )
    error = corruption(ledger_file)
    assert error.seq == U + 3


def test_a_rehashed_entry_still_breaks_the_chain(ledger_file: Path) -> None:
    """An intruder who recomputes the altered entry's hash is caught at the next entry."""
    db = sqlite3.connect(ledger_file)
    row = db.execute(
        "SELECT seq, issue_id, issue_seq, trigger, from_state, to_state, actor, person, at, data, prev_hash"
        f" FROM ledger WHERE seq = {U + 5}"
    ).fetchone()
    db.close()
    keys = ("seq", "issue_id", "issue_seq", "trigger", "from_state", "to_state", "actor", "person", "at",
            "data", "prev_hash")
    fields = dict(zip(keys, row, strict=True))
    fields["data"] = {"result": "伪造的结果"}
    new_hash = hashlib.sha256(canonical_bytes(**fields)).hexdigest()
    tamper(ledger_file, f"""UPDATE ledger SET data = '{{"result":"伪造的结果"}}', hash = '{new_hash}'
                           WHERE seq = {U + 5}""")
    error = corruption(ledger_file)
    assert error.seq == U + 6 and "prev_hash" in str(error)


def test_entries_cut_from_the_end_are_found(ledger_file: Path) -> None:
    tamper(ledger_file, f"DELETE FROM ledger WHERE seq = {U + 8}")
    error = corruption(ledger_file)
    assert "cut from the end" in str(error)


def test_entries_cut_from_the_end_with_the_head_moved_are_found(ledger_file: Path) -> None:
    """Even with the chain head rewritten, each issue's version no longer matches its entries."""
    db = sqlite3.connect(ledger_file)
    seq, prev = db.execute("SELECT seq, prev_hash FROM ledger WHERE seq = ?", (U + 8,)).fetchone()
    db.close()
    tamper(
        ledger_file,
        f"DELETE FROM ledger WHERE seq = {U + 8}",
        f"UPDATE chain_head SET seq = {seq - 1}, hash = '{prev}'",
    )
    error = corruption(ledger_file)
    assert error.issue_id == "GF-2026-0003" and "removed" in str(error)


def test_an_altered_issue_row_is_found(ledger_file: Path) -> None:
    tamper(ledger_file, "UPDATE issues SET state = 'verified' WHERE id = 'GF-2026-0002'")
    assert corruption(ledger_file).issue_id == "GF-2026-0002"


def test_a_clean_file_verifies_after_reopening(ledger_file: Path) -> None:
    with govflow.open(ledger_file) as flow:
        check = flow.verify_ledger()
    assert (check.entries, check.issues) == (U + 8, 3)
    assert len(check.head) == 64


def test_state_at_a_past_instant_is_reproducible(ledger_file: Path) -> None:
    with govflow.open(ledger_file) as flow:
        entries = flow.ledger("GF-2026-0001")
        states = [flow.state_at("GF-2026-0001", e.at) for e in entries]
        assert states == [e.to_state for e in entries]
        later = entries[-1].at + dt.timedelta(days=365)
        assert flow.state_at("GF-2026-0001", later) == "verified"


# -- verifying while others write ---------------------------------------------------------------------


def _seed(flow: govflow.Govflow) -> list[str]:
    ids = [flow.assign(f"问题 {n}", lead="XIANGYUN", due="2026-03-20", by="OFFICE").id for n in range(6)]
    for issue_id in ids[:4]:
        flow.implement(issue_id, by="XIANGYUN", note="n")
    return ids


def test_verify_ledger_passes_while_steps_are_committed_during_the_check(
    flow: govflow.Govflow, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Steps committed after the versions are read, between two pages of the ledger, and after the last
    page but before the head is read (another process's steps, on a real deployment) are no corruption."""
    ids = _seed(flow)
    steps = iter([
        lambda: flow.report(ids[0], by="XIANGYUN", result="r"),  # before the ledger is read
        lambda: flow.implement(ids[4], by="XIANGYUN", note="n"),
        lambda: flow.assign("新问题", lead="BINCHUAN", due="2026-03-20", by="OFFICE"),  # between pages
        lambda: flow.report(ids[1], by="XIANGYUN", result="r"),
        lambda: flow.reject(ids[0], by="OFFICE", reason="x"),  # after the last page
        lambda: flow.assign("又一个", lead="BINCHUAN", due="2026-03-20", by="OFFICE"),
    ])
    original = flow.store.ledger

    def step_twice() -> None:
        next(steps)()
        next(steps)()

    def paged_while_written(*args: object, **kwargs: object) -> Iterator[govflow.LedgerEntry]:
        assert not args and not kwargs
        step_twice()
        first_page = list(original())
        yield from first_page[:5]
        step_twice()
        yield from (entry for entry in original() if entry.seq > first_page[4].seq)
        step_twice()

    monkeypatch.setattr(flow.store, "ledger", paged_while_written)
    before = len(list(original()))
    check = flow.verify_ledger()
    assert next(steps, None) is None, "every write ran inside the check"
    assert check.entries == before + 6  # the late steps were fetched up to the head read after the pages
    monkeypatch.undo()
    assert flow.verify_ledger().entries == before + 6
    assert flow.get(ids[0]).state == "assigned"


def test_a_tampered_issue_row_is_found_even_when_others_write_during_the_check(
    tmp_path: Path, clock: FakeClock
) -> None:
    """The allowance for steps committed during the check covers only the issues written then."""
    path = tmp_path / "ledger.sqlite3"
    with govflow.open(path, clock=clock) as flow:
        add_units(flow)
        ids = _seed(flow)
    tamper(path, f"UPDATE issues SET version = 1, state = 'assigned' WHERE id = '{ids[2]}'")
    with govflow.open(path, clock=clock) as flow:
        original = flow.store.ledger

        def written_meanwhile(*args: object, **kwargs: object) -> Iterator[govflow.LedgerEntry]:
            flow.report(ids[0], by="XIANGYUN", result="r")
            yield from original(*args, **kwargs)

        flow.store.ledger = written_meanwhile  # type: ignore[method-assign]
        with pytest.raises(LedgerCorrupted) as info:
            flow.verify_ledger()
    assert info.value.issue_id == ids[2] and "altered" in str(info.value)


def test_an_entry_past_the_chain_head_is_found(ledger_file: Path) -> None:
    """Reading the head after the ledger does not excuse an entry appended without moving the head."""
    db = sqlite3.connect(ledger_file)
    (seq, head), = db.execute("SELECT seq, hash FROM chain_head")
    db.execute("UPDATE chain_head SET seq = seq - 1, hash = (SELECT prev_hash FROM ledger WHERE seq = ?)", (seq,))
    db.commit()
    db.close()
    error = corruption(ledger_file)
    assert error.seq == seq - 1 and "head" in str(error) and head


@pytest.mark.parametrize("person", [None, "王五", 'quote " and \\ backslash'])
@pytest.mark.parametrize("from_state", [None, "assigned"])
def test_canonical_bytes_are_json_dumps_of_the_fields(person: str | None, from_state: str | None) -> None:
    """The hand-written fast path writes what json.dumps writes, escapes and non-ASCII included."""
    fields = {
        "seq": 12, "issue_id": "GF-2026-0001", "issue_seq": 3, "trigger": "implement",
        "from_state": from_state, "to_state": "implemented", "actor": "XIÀNG\tYUN\u2028", "person": person,
        "at": "2026-03-02T09:00:00+08:00", "data": {"note": "疏通\n\"完成\"", "n": [1, 2.5, True, None]},
        "prev_hash": GENESIS_HASH,
    }
    text = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert canonical_bytes(**fields) == text.encode("utf-8")
    at = dt.datetime(2026, 3, 2, 9, 0, tzinfo=govflow.DEFAULT_ZONE)
    assert canonical_bytes(**{**fields, "at": at}) == text.replace(fields["at"], at.isoformat()).encode("utf-8")
    # Values the fast path does not take (a bool where an int goes) are encoded by json as before.
    odd = {**fields, "seq": True}
    assert canonical_bytes(**odd) == json.dumps(odd, sort_keys=True, separators=(",", ":"),
                                                ensure_ascii=False).encode("utf-8")


class _Text(str):
    """A str subclass: written by the encoder as the text it holds."""


_texts = st.text() | st.text().map(_Text)
_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | _texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None)
@given(
    text_fields=st.fixed_dictionaries({
        **{name: _texts | st.integers() | st.none()
           for name in ("issue_id", "trigger", "from_state", "to_state", "actor", "person", "prev_hash")},
        "at": _texts,  # a datetime's ISO text: the times themselves are checked above
    }),
    seq=st.integers(min_value=0) | st.booleans(),
    issue_seq=st.integers(min_value=0) | st.booleans(),
    data=st.dictionaries(_texts, _texts, max_size=1) | st.dictionaries(st.text(), _json_values, max_size=4),
)
def test_sealing_writes_what_json_dumps_writes(
    text_fields: dict[str, object], seq: int, issue_seq: int, data: dict[str, object]
) -> None:
    """Every route to the canonical bytes (the hand-written entry, the one-keyword data, the encoder) writes
    json.dumps's text for any field values: text of any kind (str subclasses too) or values that are not text
    where text goes, bools where ints go, any JSON data; and refuses what json.dumps cannot encode as UTF-8."""
    fields: dict[str, Any] = {**text_fields, "seq": seq, "issue_seq": issue_seq, "data": data}
    try:
        expected: bytes | None = json.dumps(
            fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")
    except UnicodeEncodeError:
        expected = None  # a lone surrogate
    if expected is None:
        with pytest.raises(govflow.ValidationError):
            canonical_bytes(**fields)
        return
    assert canonical_bytes(**fields) == expected
    draft = LedgerDraft(
        fields["issue_id"], issue_seq, fields["trigger"], fields["from_state"], fields["to_state"], fields["actor"],
        fields["person"], fields["at"], data)
    digest = hashlib.sha256(expected).hexdigest()
    assert seal(draft, seq, fields["prev_hash"]).hash == digest
    entry, data_text = seal_text(draft, seq, fields["prev_hash"])
    assert entry.hash == digest
    assert data_text == json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
