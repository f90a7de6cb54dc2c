"""Only canonical text verifies: a stored entry must be byte for byte the encoding of its parsed value,
on SQLite and PostgreSQL (the memory store keeps objects, not text)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

import govflow
from govflow.testing import FakeClock

from .._tamper import corruption, tamper
from ..conftest import UNIT_ENTRIES, add_units, open_flow

SQL_STORES = ("sqlite", "postgres")
U = UNIT_ENTRIES


@pytest.fixture(params=SQL_STORES)
def rated(request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock) -> Iterator[govflow.Govflow]:
    """A flow with one verified issue (rating 1 at entry U + 4) and a second one assigned (U + 5),
    after the U = UNIT_ENTRIES registrations of the units."""
    with open_flow(request.param, tmp_path, clock) as flow:
        add_units(flow)
        issue = flow.assign("道路积水", lead="XIANGYUN", due="2026-03-20", by="OFFICE")
        flow.implement(issue.id, by="XIANGYUN", note="疏通")
        flow.fire(issue.id, "report", by="XIANGYUN", result="完成")
        flow.verify(issue.id, by="OFFICE", rating=1)
        flow.assign("路灯维修", lead="BINCHUAN", due="2026-03-20", by="OFFICE")
        assert flow.verify_ledger().entries == U + 5
        yield flow


def test_a_duplicated_key_does_not_verify(rated: govflow.Govflow) -> None:
    # Python keeps the last key (rating 1, what the hash covers); SQL's json_extract reads the first (5).
    tamper(rated, f"""UPDATE ledger SET data = '{{"rating":5,"rating":1}}' WHERE seq = {U + 4}""")
    assert rated.ledger()[U + 3].data == {"rating": 1}  # the parsed value still matches the hash
    error = corruption(rated)
    assert error.seq == U + 4
    assert "byte for byte" in error.problem


@pytest.mark.parametrize("text", ['{"rating": 1}', '{"rating":1.0}', '{"rating":1e0}', '{ "rating":1}'])
def test_other_spellings_of_the_same_value_do_not_verify(rated: govflow.Govflow, text: str) -> None:
    tamper(rated, f"UPDATE ledger SET data = '{text}' WHERE seq = {U + 4}")
    assert corruption(rated).seq == U + 4


def test_escaped_spelling_of_the_same_text_does_not_verify(rated: govflow.Govflow) -> None:
    note = json.dumps({"note": "疏通"}, ensure_ascii=True, separators=(",", ":"))  # \u758f\u901a
    tamper(rated, f"UPDATE ledger SET data = '{note}' WHERE seq = {U + 2}")
    assert rated.ledger()[U + 1].data == {"note": "疏通"}
    assert corruption(rated).seq == U + 2


def test_another_spelling_of_the_same_instant_does_not_verify(rated: govflow.Govflow) -> None:
    at = rated.ledger()[U + 2].at.isoformat()
    assert "." not in at
    tamper(rated, f"UPDATE ledger SET at = '{at[:19]}.000000{at[19:]}' WHERE seq = {U + 3}")
    assert rated.ledger()[U + 2].at.isoformat() == at
    error = corruption(rated)
    assert error.seq == U + 3 and "stored time" in error.problem


def test_data_that_is_not_a_json_object_is_named(rated: govflow.Govflow) -> None:
    tamper(rated, f"UPDATE ledger SET data = '[1]' WHERE seq = {U + 2}")
    assert corruption(rated).seq == U + 2
    tamper(rated, f"UPDATE ledger SET data = '{{\"note\":' WHERE seq = {U + 2}")
    assert corruption(rated).seq == U + 2


def test_postgres_period_index_must_name_the_hashed_instant(tmp_path: Path, clock: FakeClock) -> None:
    # PostgreSQL selects a period's entries on at_utc, a column the hash does not cover by itself.
    with open_flow("postgres", tmp_path, clock) as flow:
        add_units(flow)
        flow.assign("道路积水", lead="XIANGYUN", due="2026-03-20", by="OFFICE")
        flow.verify_ledger()
        tamper(flow, "UPDATE ledger SET at_utc = at_utc - interval '40 days' WHERE seq = 1")
        error = corruption(flow)
        assert error.seq == 1 and "at_utc" in error.problem


def test_the_auditor_refuses_a_duplicated_key(tmp_path: Path, clock: FakeClock) -> None:
    import subprocess
    import sys

    path = tmp_path / "flow.sqlite3"
    with govflow.open(path, clock=clock) as flow:
        add_units(flow)
        issue = flow.assign("道路积水", lead="XIANGYUN", due="2026-03-20", by="OFFICE")
        flow.implement(issue.id, by="XIANGYUN", note="疏通")
        tamper(flow, """UPDATE ledger SET data = '{"note":"假","note":"疏通"}' WHERE seq = 2""")
    auditor = Path(__file__).resolve().parents[2] / "docs" / "audit_ledger.py"
    run = subprocess.run([sys.executable, str(auditor), str(path)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 1 and run.stdout.startswith("BAD entry 2"), run.stdout + run.stderr
