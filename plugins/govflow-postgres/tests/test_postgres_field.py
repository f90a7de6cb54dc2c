"""The field loop on PostgreSQL: the field record round-trips, evidence files live in the ``blobs`` table."""

from __future__ import annotations

import hashlib

import psycopg
import pytest
from govflow_postgres import PostgresBlobStore, PostgresStore
from psycopg import sql

import govflow


def test_field_record_and_evidence_files_in_the_database(dsn: str, schema: str) -> None:
    store = PostgresStore(dsn, schema=schema)
    with govflow.open(store, delivery="manual") as flow:
        assert isinstance(flow.blobs, PostgresBlobStore)
        flow.add_unit("OFFICE", "州领导小组办公室", level="prefecture", supervisor=True)
        flow.add_unit("XIANGYUN", "祥云县", level="county", parent="OFFICE")
        flow.add_unit("BINCHUAN", "宾川县", level="county", parent="OFFICE")
        issue = flow.assign("道路积水", lead="XIANGYUN", due="2030-03-20", by="OFFICE", cooperating=["BINCHUAN"])
        flow.countersign(issue.id, by="BINCHUAN", note="配合清淤")
        got = flow.attach(issue.id, b"\x00photo bytes\xff", by="XIANGYUN", name="现场.jpg")
        sha = hashlib.sha256(b"\x00photo bytes\xff").hexdigest()
        assert got.field is not None and got.field.signed == ("BINCHUAN",) and got.field.evidence == (sha,)
    store = PostgresStore(dsn, schema=schema)
    with govflow.open(store, delivery="manual") as flow:  # another process sees the record and the file
        assert flow.get(issue.id) == got
        assert flow.evidence(sha) == b"\x00photo bytes\xff"
        assert flow.verify_ledger(blobs=True).entries == len(flow.units()) + 3
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("UPDATE {}.blobs SET data = %s").format(sql.Identifier(schema)), (b"x",))
        with pytest.raises(govflow.LedgerCorrupted, match="altered"):
            flow.verify_ledger(blobs=True)
