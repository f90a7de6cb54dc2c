"""Derived issue rows checked against a replay of the ledger, and checkpoints that pin the chain from outside.

Tamper tests edit the SQLite file and the PostgreSQL tables directly, guard triggers dropped first."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

import govflow
from govflow import Checkpoint, LedgerCorrupted, ValidationError
from govflow.storage import seal
from govflow.testing import FakeClock

from .._tamper import corruption, tamper
from ..conftest import STORES, UNIT_ENTRIES, add_units, open_flow

SQL_STORES = ("sqlite", "postgres")


def history(flow: govflow.Govflow, clock: FakeClock) -> tuple[str, str]:
    """Every kind of step: assignment in working days, extension, rework, reassignment, ladder steps."""
    a = flow.assign("道路积水", lead="XIANGYUN", due=govflow.working_days(5), by="OFFICE",
                    cooperating=["XIAZHUANG"], responsible={"first": "李四", "direct": "王五"})
    b = flow.assign("路灯不亮", lead="BINCHUAN", due="2026-03-10", by="OFFICE", category="市政")
    flow.accept(a.id, by="XIANGYUN")
    flow.request_extension(a.id, by="XIANGYUN", due=govflow.working_days(3), reason="汛期")
    flow.approve_extension(a.id, by="OFFICE")
    flow.implement(a.id, by="XIANGYUN", note="疏通", evidence=["a.jpg"])
    flow.countersign(a.id, by="XIAZHUANG", note="配合疏通")  # 会签 (issue-list v2)
    flow.report(a.id, by="XIANGYUN", result="完成")
    flow.reject(a.id, by="OFFICE", reason="仍有积水", due="2026-04-20")
    flow.reassign(b.id, by="OFFICE", new_lead="XIANGYUN", reason="属地")
    clock.set("2026-03-25T09:00:00+08:00")
    assert flow.sweep()  # overdue, urge … on b
    return a.id, b.id


@pytest.mark.parametrize("kind", STORES)
def test_an_honest_history_replays_to_the_stored_rows(kind: str, tmp_path: Path, clock: FakeClock) -> None:
    with open_flow(kind, tmp_path, clock) as flow:
        add_units(flow)
        history(flow, clock)
        assert flow.verify_ledger().issues == 2
        assert flow.get(flow.issues()[1].id).escalation_steps > 0


@pytest.fixture(params=SQL_STORES)
def written(request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock) -> Iterator[govflow.Govflow]:
    with open_flow(request.param, tmp_path, clock) as flow:
        add_units(flow)
        history(flow, clock)
        flow.verify_ledger()
        yield flow


@pytest.mark.parametrize(
    ("statement", "field"),
    [
        ("UPDATE issues SET lead = 'BINCHUAN' WHERE id = 'GF-2026-0001'", "lead"),
        ("UPDATE issues SET due = '2026-12-31' WHERE id = 'GF-2026-0001'", "due"),
        ("UPDATE issues SET original_due = '2026-12-31' WHERE id = 'GF-2026-0001'", "original_due"),
        ("UPDATE issues SET rework_count = 0 WHERE id = 'GF-2026-0001'", "rework_count"),
        ("UPDATE issues SET extension_count = 0 WHERE id = 'GF-2026-0001'", "extension_count"),
        ("UPDATE issues SET escalation_steps = 0 WHERE id = 'GF-2026-0002'", "escalation_steps"),
        ("UPDATE issues SET escalation_level = 0 WHERE id = 'GF-2026-0002'", "escalation_level"),
        ("UPDATE issues SET title = '改过的标题' WHERE id = 'GF-2026-0002'", "title"),
        ("UPDATE issues SET responsible = NULL WHERE id = 'GF-2026-0001'", "responsible"),
        ("UPDATE issues SET category = NULL WHERE id = 'GF-2026-0002'", "category"),
    ],
)
def test_an_edited_issue_row_is_named_with_its_field(written: govflow.Govflow, statement: str, field: str) -> None:
    tamper(written, statement)
    error = corruption(written)
    assert error.issue_id in statement
    assert f"its {field} is" in error.problem, error
    # What the permissions, overdue() and the bulletin would follow is now flagged, not trusted.


def test_a_ledger_entry_that_does_not_replay_is_named(written: govflow.Govflow) -> None:
    # A consistent rewrite of one entry and every hash after it: the chain holds, the replay does not.
    entries = written.ledger()
    target = next(e for e in entries if e.trigger == "approve_extension")
    rewrite(written, target.seq, actor="XIANGYUN")  # the lead unit cannot approve its own extension
    error = corruption(written)
    assert (error.seq, error.issue_id) == (target.seq, target.issue_id)
    assert "cannot be replayed" in error.problem


def rewrite(flow: govflow.Govflow, seq: int, **changes: object) -> None:
    """Change entry ``seq`` and re-seal it and every entry after it, head included (a whole rewrite)."""
    import json

    entries = flow.ledger()
    prev = entries[seq - 2].hash if seq > 1 else govflow.GENESIS_HASH
    statements = []
    for entry in entries[seq - 1:]:
        fields = {name: getattr(entry, name) for name in (
            "issue_id", "issue_seq", "trigger", "from_state", "to_state", "actor", "person", "at", "data")}
        if entry.seq == seq:
            fields.update(changes)
        sealed = seal(govflow.LedgerDraft(**fields), entry.seq, prev)  # type: ignore[arg-type]
        data = json.dumps(sealed.data, ensure_ascii=False, sort_keys=True, separators=(",", ":")).replace("'", "''")
        statements.append(
            f"UPDATE ledger SET actor = '{sealed.actor}', data = '{data}', prev_hash = '{sealed.prev_hash}', "
            f"hash = '{sealed.hash}' WHERE seq = {entry.seq}"
        )
        prev = sealed.hash
    statements.append(f"UPDATE chain_head SET hash = '{prev}' WHERE id = 1")
    tamper(flow, *statements)


# -- checkpoints ---------------------------------------------------------------------------------------


def test_a_checkpoint_catches_a_chain_rewritten_whole(written: govflow.Govflow) -> None:
    early = written.checkpoint(before=dt.datetime(2026, 3, 2, 9, 5, tzinfo=govflow.DEFAULT_ZONE))
    head = written.checkpoint()
    assert head.seq == len(written.ledger()) and head.hash == written.ledger()[-1].hash
    assert 0 < early.seq < head.seq
    written.verify_ledger(checkpoints=[early, str(head)])
    note = next(e for e in written.ledger() if e.trigger == "implement")
    rewrite(written, note.seq, data={"note": "改写后的记录", "evidence": ["a.jpg"]})
    written.verify_ledger()  # rewritten whole and consistently: the chain alone cannot tell
    written.verify_ledger(checkpoints=[early])  # before the rewrite: still there
    with pytest.raises(LedgerCorrupted) as info:
        written.verify_ledger(checkpoints=[early, str(head)])
    assert info.value.seq == head.seq and "rewritten" in info.value.problem


@pytest.mark.parametrize("kind", STORES)
def test_checkpoints_read_back_from_their_text(kind: str, tmp_path: Path, clock: FakeClock) -> None:
    with open_flow(kind, tmp_path, clock) as flow:
        assert flow.checkpoint() == Checkpoint(0, govflow.GENESIS_HASH, None)
        add_units(flow)
        flow.assign("道路积水", lead="XIANGYUN", due="2026-03-20", by="OFFICE")
        point = flow.checkpoint()
        assert Checkpoint.parse(str(point)) == point
        assert str(point).startswith(f"govflow-checkpoint {point.seq} {point.hash} 2026-03-02T")
        flow.verify_ledger(checkpoints=str(point))  # type: ignore[arg-type]
        beyond = Checkpoint(point.seq + 5, point.hash)
        with pytest.raises(LedgerCorrupted, match="no such entry"):
            flow.verify_ledger(checkpoints=[beyond])
        for bad in ("govflow-checkpoint x", "checkpoint 1 abc", f"govflow-checkpoint 1 {'A' * 64}"):
            with pytest.raises(ValidationError):
                flow.verify_ledger(checkpoints=[bad])


@pytest.mark.parametrize("kind", STORES)
def test_a_checkpoint_before_an_instant_is_its_last_entry_however_far_back(
    kind: str, tmp_path: Path, clock: FakeClock
) -> None:
    """The last hour is looked at first, then the last day, week and everything: the answer is the same."""
    with open_flow(kind, tmp_path, clock) as flow:
        add_units(flow)
        clock.set("2026-03-02T09:00:00+08:00")
        issue = flow.assign("道路积水", lead="XIANGYUN", due="2026-03-30", by="OFFICE")
        for when, step, data in (("2026-03-02T09:30:00", "accept", {}),
                                 ("2026-03-02T12:00:00", "implement", {"note": "n"}),
                                 ("2026-03-04T10:00:00", "report", {"result": "r"})):
            clock.set(f"{when}+08:00")
            flow.fire(issue.id, step, by="XIANGYUN", **data)
        entries = flow.ledger()
        zone = govflow.DEFAULT_ZONE
        for before in (dt.datetime(2026, 3, 2, 9, 45, tzinfo=zone), dt.datetime(2026, 3, 2, 17, tzinfo=zone),
                       dt.datetime(2026, 3, 8, tzinfo=zone), dt.datetime(2026, 5, 1, tzinfo=zone)):
            last = max((e for e in flow.store.ledger() if e.at < before), key=lambda e: e.seq)
            point = flow.checkpoint(before=before)
            assert (point.seq, point.hash, point.at) == (last.seq, last.hash, last.at), before
        assert flow.checkpoint(before=dt.datetime(2026, 5, 1, tzinfo=zone)).seq == entries[-1].seq


@pytest.mark.parametrize("kind", STORES)
def test_the_bulletin_prints_the_checkpoint_of_its_period_end(kind: str, tmp_path: Path, clock: FakeClock) -> None:
    with open_flow(kind, tmp_path, clock) as flow:
        add_units(flow)
        issue = flow.assign("道路积水", lead="XIANGYUN", due="2026-03-20", by="OFFICE")
        clock.set("2026-04-02T09:00:00+08:00")
        flow.implement(issue.id, by="XIANGYUN", note="四月的步骤")  # after the period: not in its checkpoint
        bulletin = flow.bulletin("2026-03")
        point = bulletin.checkpoint
        assigned = flow.ledger(issue.id)[0]  # the last entry of March, after the units' registrations
        assert point is not None and point.seq == UNIT_ENTRIES + 1 == assigned.seq and point.hash == assigned.hash
        assert point == flow.checkpoint(before=dt.datetime(2026, 4, 1, tzinfo=govflow.DEFAULT_ZONE))
        assert str(point) in str(bulletin.render("markdown")) and str(point) in str(bulletin.render("html"))
        import json

        assert json.loads(str(bulletin.render("json")))["checkpoint"] == str(point)
        flow.verify_ledger(checkpoints=[str(point)])


def test_namespaced_subjects_share_the_chain_without_issue_rows() -> None:
    """``unit:…`` and ``plan:…`` entries are chained and sequenced like any other; they need no issue row."""
    from govflow._core.ledger import verify_chain

    at = dt.datetime(2026, 3, 2, 9, 0, tzinfo=govflow.DEFAULT_ZONE)
    drafts = [
        govflow.LedgerDraft("plan:P-1", 1, "plan_created", None, "draft", "OFFICE", None, at, {"title": "方案"}),
        govflow.LedgerDraft("plan:P-1", 2, "plan_published", "draft", "published", "OFFICE", None, at, {}),
    ]
    entries, prev = [], govflow.GENESIS_HASH
    for seq, draft in enumerate(drafts, start=1):
        entries.append(seal(draft, seq, prev))
        prev = entries[-1].hash
    check = verify_chain(iter(entries), lambda: (2, prev), {})
    assert (check.entries, check.issues) == (2, 0)
    skipped = [seal(drafts[0], 1, govflow.GENESIS_HASH)]
    broken = seal(govflow.LedgerDraft("plan:P-1", 3, "x", "draft", "y", "OFFICE", None, at, {}), 2, skipped[0].hash)
    with pytest.raises(LedgerCorrupted, match="issue_seq 3 where 2 was expected"):
        verify_chain(iter([*skipped, broken]), lambda: (2, broken.hash), {})
    with pytest.raises(ValidationError):
        govflow.open(":memory:", id_prefix="plan:")  # issue ids never take the separator
    for prefix in ("PL-", "TG-", "PL-2026-", "TG-X"):  # nor the start of a plan's or target's id
        with pytest.raises(ValidationError, match="id_prefix"):
            govflow.open(":memory:", id_prefix=prefix)
