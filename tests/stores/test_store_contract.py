"""The storage contract (``govflow.Store``), run unchanged against every backend.

Every test takes the parametrized ``store`` fixture and talks to the store
API directly (building ``Issue``, ``LedgerDraft`` and ``UnitOfWork`` values by
hand) or through ``govflow.open(store)``. To run the suite on a new backend,
add one entry to ``STORE_FACTORIES`` (and to ``PERSISTENT`` if its data
outlives the store object).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

import govflow
from govflow import (
    GENESIS_HASH,
    ConcurrentUpdateError,
    ExtensionRequest,
    Issue,
    IssueQuery,
    LedgerDraft,
    LedgerEntry,
    Responsible,
    Store,
    Unit,
    UnitOfWork,
    ValidationError,
    canonical_bytes,
)
from govflow.storage import unit_draft
from govflow.testing import FakeClock

from .._postgres import postgres_store

#: One factory per backend: ``factory(tmp_path)`` returns a fresh, empty store.
#: Calling a factory again with the same ``tmp_path`` must reopen the same data
#: for the backends listed in ``PERSISTENT``.
#: A PostgreSQL backend joins with one line, e.g.
#: ``"postgres": lambda tmp: PostgresStore(fresh_database_url(tmp))``.
STORE_FACTORIES: dict[str, Callable[[Path], Store]] = {
    "memory": lambda tmp: govflow.MemoryStore(),
    "sqlite": lambda tmp: govflow.SQLiteStore(tmp / "s.sqlite3"),
    "postgres": postgres_store,
}
#: Backends whose data survives closing the store (tested by reopening).
PERSISTENT = ("sqlite", "postgres")


@pytest.fixture(params=sorted(STORE_FACTORIES))
def store_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store(store_kind: str, tmp_path: Path) -> Iterator[Store]:
    """A fresh, empty store of each kind."""
    opened = STORE_FACTORIES[store_kind](tmp_path)
    yield opened
    opened.close()




# -- building values ----------------------------------------------------------------------

SH = govflow.DEFAULT_ZONE
UTC = dt.timezone.utc
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=SH)
HOUR = dt.timedelta(hours=1)
SCOPE = "GF-2026-"


def make_issue(**changes: Any) -> Issue:
    """A version-1 issue as ``assign`` would build it (id left for the store)."""
    base = Issue(
        id="", title="道路积水", lead="XIANGYUN", due=dt.date(2026, 3, 20),
        original_due=dt.date(2026, 3, 20), state="assigned", version=1, lifecycle="issue-list",
        lifecycle_version=1, created_at=T0, updated_at=T0,
    )
    return attrs.evolve(base, **changes)


def create(
    store: Store, scope: str = SCOPE, *, data: dict[str, Any] | None = None,
    notify: tuple[tuple[str, str], ...] = (), **changes: Any,
) -> tuple[Issue, LedgerEntry]:
    """Commit a new issue in ``scope``."""
    issue = make_issue(**changes)
    draft = LedgerDraft(
        issue_id="", issue_seq=1, trigger="assign", from_state=None, to_state=issue.state,
        actor="OFFICE", person=None, at=issue.updated_at,
        data={"title": issue.title} if data is None else data,
    )
    return store.commit(UnitOfWork(issue, 0, draft, id_scope=scope, notify=notify))


def update_work(
    issue: Issue, *, trigger: str = "implement", at: dt.datetime | None = None,
    data: dict[str, Any] | None = None, expected: int | None = None, units_changed: bool = False,
    notify: tuple[tuple[str, str], ...] = (), actor: str = "XIANGYUN", person: str | None = None,
    **changes: Any,
) -> UnitOfWork:
    """The unit of work for one step on ``issue`` (version + 1, one ledger entry)."""
    at = at or issue.updated_at + HOUR
    new = attrs.evolve(issue, version=issue.version + 1, updated_at=at, **changes)
    draft = LedgerDraft(
        issue_id=issue.id, issue_seq=new.version, trigger=trigger, from_state=issue.state,
        to_state=new.state, actor=actor, person=person, at=at,
        data={"note": "n"} if data is None else data,
    )
    return UnitOfWork(
        new, issue.version if expected is None else expected, draft,
        units_changed=units_changed, notify=notify,
    )


def update(store: Store, issue: Issue, **kwargs: Any) -> tuple[Issue, LedgerEntry]:
    return store.commit(update_work(issue, **kwargs))


def everything(store: Store) -> tuple[Any, ...]:
    """All the observable contents of a store."""
    return (
        store.query(IssueQuery()),
        list(store.ledger()),
        store.chain_head(),
        dict(store.issue_versions()),
        store.units(),
        sorted(store.lifecycles()),
        [store.outbox(status) for status in ("pending", "done", "dead")],
    )


def expected_hash(entry: LedgerEntry) -> str:
    return hashlib.sha256(
        canonical_bytes(
            seq=entry.seq, issue_id=entry.issue_id, issue_seq=entry.issue_seq,
            trigger=entry.trigger, from_state=entry.from_state, to_state=entry.to_state,
            actor=entry.actor, person=entry.person, at=entry.at, data=entry.data,
            prev_hash=entry.prev_hash,
        )
    ).hexdigest()


# -- the protocol and an empty store ------------------------------------------------------


def test_the_store_satisfies_the_protocol(store: Store) -> None:
    assert isinstance(store, Store)
    assert isinstance(store.schema_version, int) and store.schema_version >= 1


def test_an_empty_store_is_empty(store: Store) -> None:
    assert store.units() == []
    assert store.load("GF-2026-0001") is None
    assert store.query(IssueQuery()) == []
    assert list(store.ledger()) == []
    assert list(store.ledger("GF-2026-0001")) == []
    assert store.entry(1) is None
    assert store.chain_head() == (0, GENESIS_HASH)
    assert dict(store.issue_versions()) == {}
    assert store.lifecycles() == []
    assert store.outbox("pending") == [] and store.claim_outbox(T0, HOUR, 10) == []


# -- creating issues: ids per scope -------------------------------------------------------


def test_new_issues_are_numbered_per_scope(store: Store) -> None:
    made = [create(store, scope)[0].id for scope in ("GF-2026-", "GF-2026-", "GF-2027-", "X-", "GF-2026-")]
    assert made == ["GF-2026-0001", "GF-2026-0002", "GF-2027-0001", "X-0001", "GF-2026-0003"]
    assert [i.id for i in store.query(IssueQuery())] == sorted(made)


def test_a_new_issue_and_its_entry_carry_the_id_the_store_gave(store: Store) -> None:
    issue, entry = create(store)
    assert issue.id == "GF-2026-0001" and entry.issue_id == issue.id
    assert issue == make_issue(id=issue.id)
    assert store.load(issue.id) == issue
    assert (entry.seq, entry.issue_seq, entry.trigger, entry.from_state, entry.to_state) == (
        1, 1, "assign", None, "assigned",
    )
    assert entry.prev_hash == GENESIS_HASH and entry.hash == expected_hash(entry)
    assert store.chain_head() == (1, entry.hash)
    assert dict(store.issue_versions()) == {issue.id: (1, "assigned")}


# -- optimistic concurrency ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("expected", "why"),
    [(0, "as if new: the id exists"), (1, "stale"), (2, "stale"), (4, "ahead")],
)
def test_a_commit_naming_the_wrong_version_raises_and_writes_nothing(
    store: Store, expected: int, why: str
) -> None:
    issue, _ = create(store)
    issue, _ = update(store, issue)
    issue, _ = update(store, issue, trigger="report", state="feedback")
    assert issue.version == 3
    other, _ = create(store)
    before = everything(store)
    work = update_work(issue, expected=expected, state="verified",
                       notify=(("after_transition", "mailer"),))
    with pytest.raises(ConcurrentUpdateError) as caught:
        store.commit(work)
    assert (caught.value.issue_id, caught.value.expected, caught.value.actual) == (issue.id, expected, 3)
    assert everything(store) == before, why
    assert store.load(issue.id) == issue and store.load(other.id) == other


def test_an_update_of_an_issue_that_does_not_exist_raises_and_writes_nothing(store: Store) -> None:
    create(store)
    before = everything(store)
    ghost = make_issue(id="GF-2026-0042")
    with pytest.raises(ConcurrentUpdateError) as caught:
        store.commit(update_work(ghost))
    assert (caught.value.issue_id, caught.value.expected, caught.value.actual) == ("GF-2026-0042", 1, None)
    assert everything(store) == before
    assert store.load("GF-2026-0042") is None


def test_the_right_version_commits_after_a_refused_one(store: Store) -> None:
    issue, _ = create(store)
    with pytest.raises(ConcurrentUpdateError):
        store.commit(update_work(issue, expected=2))
    stored, entry = update(store, issue)
    assert stored.version == 2 and entry.seq == 2 and entry.issue_seq == 2
    assert store.load(issue.id) == stored


def test_a_commit_that_fails_midway_writes_nothing_not_even_an_id(store: Store) -> None:
    issue, _ = create(store)
    before = everything(store)
    not_json = {"ratio": float("nan")}  # the canonical encoding refuses NaN
    with pytest.raises(ValueError):
        store.commit(update_work(issue, data=not_json, notify=(("after_transition", "mailer"),)))
    with pytest.raises(ValueError):
        create(store, data=not_json)
    assert everything(store) == before
    assert create(store)[0].id == "GF-2026-0002"  # the failed creation used no number


# -- what is stored is what comes back ----------------------------------------------------


def full_issue(**changes: Any) -> Issue:
    """An issue with every optional field set, datetimes in several offsets."""
    return make_issue(
        description="雨后积水，影响通行", category="基础设施", cooperating=("XIAZHUANG", "BINCHUAN"),
        responsible=Responsible(first="李四", direct="王五"),
        created_at=dt.datetime(2026, 3, 2, 1, 0, 0, 123456, tzinfo=UTC),
        updated_at=dt.datetime(2026, 3, 2, 1, 0, 0, 123456, tzinfo=UTC),
        **changes,
    )


def test_a_created_issue_loads_equal_in_every_field(store: Store) -> None:
    issue = full_issue()
    draft = LedgerDraft("", 1, "assign", None, "assigned", "OFFICE", "张三", issue.updated_at, {})
    stored, _ = store.commit(UnitOfWork(issue, 0, draft, id_scope=SCOPE))
    assert stored == attrs.evolve(issue, id=stored.id)
    loaded = store.load(stored.id)
    assert loaded == stored
    assert loaded is not None and loaded.responsible == Responsible(first="李四", direct="王五")
    assert loaded.cooperating == ("XIAZHUANG", "BINCHUAN")  # order kept
    assert store.query(IssueQuery()) == [stored]


def test_an_updated_issue_loads_equal_in_every_field_a_transition_changes(store: Store) -> None:
    issue, _ = store.commit(
        UnitOfWork(full_issue(), 0,
                   LedgerDraft("", 1, "assign", None, "assigned", "OFFICE", None, T0, {}), id_scope=SCOPE)
    )
    request = ExtensionRequest(
        due=dt.date(2026, 4, 30), reason="汛期", requested_by="XIANGYUN",
        requested_at=dt.datetime(2026, 3, 3, 2, 30, 0, 999, tzinfo=UTC),
    )
    work = update_work(
        issue, trigger="reassign", state="implemented", lead="BINCHUAN", cooperating=("XIAZHUANG",),
        due=dt.date(2026, 4, 1), rework_count=2, extension=request, extension_count=3,
        accepted_at=dt.datetime(2026, 3, 2, 10, 15, 30, 5, tzinfo=SH), units_changed=True,
        at=dt.datetime(2026, 3, 3, 9, 0, 0, 1, tzinfo=SH),
    )
    stored, _ = store.commit(work)
    assert stored == work.issue
    assert store.load(issue.id) == stored
    assert store.query(IssueQuery(unit="BINCHUAN")) == [stored]
    # and back to no extension, no acceptance
    cleared, _ = update(store, stored, extension=None, accepted_at=None)
    assert store.load(issue.id) == cleared
    assert cleared.extension is None and cleared.accepted_at is None


def test_an_update_keeps_every_field_it_was_given(store: Store) -> None:
    """``commit`` returns "the stored issue": what ``load`` gives back must equal it.

    On SQLiteStore this fails: its UPDATE writes only the fields the built-in
    lifecycle changes, so title, description, category, responsible and
    original_due silently keep their old values while commit() returns the new ones.
    """
    issue, _ = create(store)
    work = update_work(
        issue, title="道路积水（扩大范围）", description="补充说明", category="市政",
        responsible=Responsible(first="赵六"), original_due=dt.date(2026, 3, 25),
    )
    stored, _ = store.commit(work)
    assert stored == work.issue
    assert store.load(issue.id) == stored


def test_ledger_entries_come_back_equal(store: Store) -> None:
    data = {"note": "整改到位 ✓", "evidence": ["a.jpg", "b.pdf"], "rating": 5, "ratio": 0.25,
            "flag": True, "nothing": None, "nested": {"k": [1, {"x": "y"}]}}
    at = dt.datetime(2026, 3, 2, 23, 59, 59, 999999, tzinfo=UTC)
    issue, first = create(store)
    _, entry = update(store, issue, data=data, at=at, actor="XIANGYUN", person="张三")
    assert entry.data == data and entry.at == at and entry.person == "张三"
    assert list(store.ledger()) == [first, entry]
    assert store.entry(2) == entry and store.entry(1) == first
    assert entry.hash == expected_hash(entry)


# -- the ledger ---------------------------------------------------------------------------


def test_the_ledger_is_in_sequence_per_store_and_per_issue(store: Store) -> None:
    a, _ = create(store)
    b, _ = create(store)
    a, _ = update(store, a)
    b, _ = update(store, b)
    b, _ = update(store, b, trigger="report", state="feedback")
    c, _ = create(store, "GF-2027-")
    a, _ = update(store, a, trigger="report", state="feedback")
    entries = list(store.ledger())
    assert [e.seq for e in entries] == list(range(1, 8))
    assert [(e.issue_id, e.issue_seq) for e in entries] == [
        (a.id, 1), (b.id, 1), (a.id, 2), (b.id, 2), (b.id, 3), (c.id, 1), (a.id, 3),
    ]
    prev = GENESIS_HASH
    for entry in entries:
        assert entry.prev_hash == prev and entry.hash == expected_hash(entry)
        assert store.entry(entry.seq) == entry
        prev = entry.hash
    assert store.chain_head() == (7, prev)
    for issue in (a, b, c):
        own = list(store.ledger(issue.id))
        assert own == [e for e in entries if e.issue_id == issue.id]
        assert [e.issue_seq for e in own] == list(range(1, issue.version + 1))
    assert list(store.ledger("GF-2026-0099")) == []
    assert store.entry(0) is None and store.entry(8) is None
    assert dict(store.issue_versions()) == {a.id: (3, "feedback"), b.id: (3, "feedback"), c.id: (1, "assigned")}


def test_the_chain_head_follows_every_commit(store: Store) -> None:
    issue, entry = create(store)
    assert store.chain_head() == (entry.seq, entry.hash)
    for _ in range(3):
        issue, entry = update(store, issue)
        assert store.chain_head() == (entry.seq, entry.hash)
        assert list(store.ledger())[-1] == entry


@pytest.fixture
def timed(store: Store) -> tuple[Store, list[LedgerEntry]]:
    """Two issues with entries at T0, T0+1h, ..., T0+5h (alternating issues, mixed offsets)."""
    a, _ = create(store, updated_at=T0, created_at=T0)
    b, _ = create(store, updated_at=T0 + HOUR, created_at=T0 + HOUR)
    for k in range(2, 6):
        current = store.load(a.id if k % 2 == 0 else b.id)
        assert current is not None
        # Odd steps are written in UTC: text order differs from instant order.
        at = (T0 + k * HOUR).astimezone(UTC) if k % 2 else T0 + k * HOUR
        update(store, current, at=at)
    return store, list(store.ledger())


@pytest.mark.parametrize(
    ("since", "until", "hours"),
    [
        (None, None, [0, 1, 2, 3, 4, 5]),
        (T0 + HOUR, None, [1, 2, 3, 4, 5]),  # since is inclusive
        (None, T0 + 3 * HOUR, [0, 1, 2]),  # until is exclusive
        (T0 + HOUR, T0 + 3 * HOUR, [1, 2]),
        ((T0 + HOUR).astimezone(UTC), (T0 + 3 * HOUR).astimezone(UTC), [1, 2]),  # same instants in UTC
        (T0 + 90 * dt.timedelta(minutes=1), T0 + 4 * HOUR + dt.timedelta(microseconds=1), [2, 3, 4]),
        (T0 + 2 * HOUR, T0 + 2 * HOUR, []),  # an empty span
        (T0 + 6 * HOUR, None, []),
    ],
)
def test_the_ledger_filters_by_a_half_open_span(
    timed: tuple[Store, list[LedgerEntry]],
    since: dt.datetime | None,
    until: dt.datetime | None,
    hours: list[int],
) -> None:
    store, entries = timed
    want = [e for e in entries if round((e.at - T0) / HOUR) in hours]
    assert [round((e.at - T0) / HOUR) for e in want] == hours
    assert list(store.ledger(since=since, until=until)) == want
    for issue_id in ("GF-2026-0001", "GF-2026-0002"):
        assert list(store.ledger(issue_id, since=since, until=until)) == [
            e for e in want if e.issue_id == issue_id
        ]


# -- queries ------------------------------------------------------------------------------

DUE = {1: dt.date(2026, 3, 10), 2: dt.date(2026, 3, 20), 3: dt.date(2026, 3, 15),
       4: dt.date(2026, 3, 31), 5: dt.date(2026, 3, 9), 6: dt.date(2026, 3, 15)}


@pytest.fixture
def populated(store: Store) -> Store:
    """Six issues in every state, created in a scope order that differs from id order.

    ===  =========  ===========  ===================  ======  =================
    id   state      lead         cooperating          due     last updated
    ===  =========  ===========  ===================  ======  =================
    1    assigned   XIANGYUN     XIAZHUANG            03-10   T0
    2    implemented BINCHUAN    -                    03-20   T0+1d
    3    feedback   XIAZHUANG    XIANGYUN             03-15   T0+2d (in UTC)
    4    verified   XIANGYUN     BINCHUAN             03-31   T0+3d
    5    cancelled  BINCHUAN     XIANGYUN, XIAZHUANG  03-09   T0+4d
    6    assigned   OFFICE       -                    03-15   T0+5d
    ===  =========  ===========  ===================  ======  =================
    """
    day = dt.timedelta(days=1)
    # "GF-2027-0001" is created first but sorts last.
    create(store, "GF-2027-", lead="OFFICE", due=DUE[6], original_due=DUE[6],
           created_at=T0 + 5 * day, updated_at=T0 + 5 * day)
    create(store, lead="XIANGYUN", cooperating=("XIAZHUANG",), due=DUE[1], original_due=DUE[1])
    i2, _ = create(store, lead="BINCHUAN", cooperating=("XIANGYUN",), due=DUE[2], original_due=DUE[2])
    update(store, i2, state="implemented", cooperating=(), units_changed=True, at=T0 + day)
    i3, _ = create(store, lead="XIANGYUN", due=DUE[3], original_due=DUE[3])
    i3, _ = update(store, i3, state="implemented", at=T0 + HOUR)
    i3, _ = update(store, i3, trigger="reassign", lead="XIAZHUANG", cooperating=("XIANGYUN",),
                   units_changed=True, at=T0 + 2 * HOUR)
    update(store, i3, trigger="report", state="feedback", at=(T0 + 2 * day).astimezone(UTC))
    i4, _ = create(store, lead="XIANGYUN", cooperating=("BINCHUAN",), due=DUE[4], original_due=DUE[4])
    i4, _ = update(store, i4, state="implemented", at=T0 + day)
    i4, _ = update(store, i4, trigger="report", state="feedback", at=T0 + 2 * day)
    update(store, i4, trigger="verify", state="verified", at=T0 + 3 * day)
    i5, _ = create(store, lead="BINCHUAN", cooperating=("XIANGYUN", "XIAZHUANG"), due=DUE[5],
                   original_due=DUE[5])
    update(store, i5, trigger="cancel", state="cancelled", at=T0 + 4 * day)
    return store


def ids(issues: list[Issue]) -> list[int]:
    """Short numbers: GF-2026-000n -> n, GF-2027-0001 -> 6."""
    return [6 if i.id == "GF-2027-0001" else int(i.id[-4:]) for i in issues]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (IssueQuery(), [1, 2, 3, 4, 5, 6]),  # by id
        (IssueQuery(state="assigned"), [1, 6]),
        (IssueQuery(state="verified"), [4]),
        (IssueQuery(state="nonsense"), []),
        (IssueQuery(states=("assigned", "implemented", "feedback")), [1, 2, 3, 6]),
        (IssueQuery(states=("cancelled",)), [5]),
        (IssueQuery(states=()), []),
        (IssueQuery(state="assigned", states=("feedback",)), []),  # both must hold
        (IssueQuery(unit="XIANGYUN"), [1, 3, 4, 5]),  # leads 1 and 4, cooperates on 3 and 5, no longer on 2
        (IssueQuery(unit="BINCHUAN"), [2, 4, 5]),
        (IssueQuery(unit="XIAZHUANG"), [1, 3, 5]),
        (IssueQuery(unit="OFFICE"), [6]),
        (IssueQuery(unit="NOBODY"), []),
        (IssueQuery(due_before=dt.date(2026, 3, 15)), [1, 5]),  # exclusive: 3 and 6 are due 03-15
        (IssueQuery(due_before=dt.date(2026, 3, 16)), [1, 3, 5, 6]),
        (IssueQuery(due_before=dt.date(2026, 3, 9)), []),
        (IssueQuery(updated_between=(T0, T0 + dt.timedelta(days=1))), [1]),  # half-open
        (IssueQuery(updated_between=(T0 + dt.timedelta(days=1), T0 + dt.timedelta(days=3))), [2, 3]),
        (IssueQuery(updated_between=((T0 + dt.timedelta(days=2)).astimezone(UTC),
                                     (T0 + dt.timedelta(days=2, microseconds=1)).astimezone(UTC))), [3]),
        (IssueQuery(updated_between=(T0 + dt.timedelta(days=2), T0 + dt.timedelta(days=2))), []),
        (IssueQuery(states=("assigned", "feedback"), unit="XIANGYUN", due_before=dt.date(2026, 3, 16)),
         [1, 3]),
    ],
)
def test_query(populated: Store, query: IssueQuery, expected: list[int]) -> None:
    assert ids(populated.query(query)) == expected


def test_every_query_agrees_with_the_reference_semantics(populated: Store) -> None:
    """Across a grid of criteria, the store returns exactly what ``IssueQuery.matches`` selects."""
    everything_ = populated.query(IssueQuery())
    assert len(everything_) == 6
    day = dt.timedelta(days=1)
    grid = itertools.product(
        [None, "assigned", "feedback", "verified"],
        [None, ("assigned", "implemented"), ("cancelled", "verified", "feedback")],
        [None, "XIANGYUN", "BINCHUAN", "XIAZHUANG", "OFFICE"],
        [None, dt.date(2026, 3, 10), dt.date(2026, 3, 15), dt.date(2026, 4, 1)],
        [None, (T0, T0 + 2 * day), (T0 + day, T0 + 9 * day), ((T0 + 2 * day).astimezone(UTC), T0 + 3 * day)],
    )
    for state, states, unit, due_before, updated_between in grid:
        query = IssueQuery(state=state, states=states, unit=unit, due_before=due_before,
                           updated_between=updated_between)
        assert populated.query(query) == [i for i in everything_ if query.matches(i)], query


def test_a_unit_query_follows_changed_cooperating_units(store: Store) -> None:
    issue, _ = create(store, cooperating=("XIAZHUANG",))
    assert ids(store.query(IssueQuery(unit="XIAZHUANG"))) == [1]
    issue, _ = update(store, issue, cooperating=("BINCHUAN",), units_changed=True)
    assert store.query(IssueQuery(unit="XIAZHUANG")) == []
    assert store.query(IssueQuery(unit="BINCHUAN")) == [issue]
    issue, _ = update(store, issue, lead="XIAZHUANG", cooperating=(), units_changed=True)
    assert store.query(IssueQuery(unit="BINCHUAN")) == []
    assert store.query(IssueQuery(unit="XIANGYUN")) == []
    assert store.query(IssueQuery(unit="XIAZHUANG")) == [issue]


# -- units and lifecycles -----------------------------------------------------------------


def test_units_round_trip_in_insertion_order_and_are_replaced_by_id(store: Store) -> None:
    office = Unit("OFFICE", "州领导小组办公室", "prefecture", supervisor=True)
    county = Unit("XIANGYUN", "祥云县", "county", parent="OFFICE")
    town = Unit("XIAZHUANG", "下庄镇", "township", parent="XIANGYUN")
    dept = Unit("HOUSING", "住建局", "department")
    entries = [store.add_unit(unit, unit_draft(unit, T0)) for unit in (office, county, town, dept)]
    assert store.units() == [office, county, town, dept]
    # Each written with its registration entry, in the chain like any other.
    assert [(e.seq, e.issue_id, e.trigger) for e in entries if e is not None] == [
        (1, "unit:OFFICE", "add_unit"), (2, "unit:XIANGYUN", "add_unit"), (3, "unit:XIAZHUANG", "add_unit"),
        (4, "unit:HOUSING", "add_unit"),
    ]
    assert list(store.ledger()) == entries and store.chain_head() == (4, entries[-1].hash)  # type: ignore[union-attr]
    assert store.entry(1) == entries[0] and list(store.ledger("unit:XIANGYUN")) == [entries[1]]
    renamed = Unit("XIANGYUN", "祥云县人民政府", "county", parent="OFFICE", supervisor=True)
    with pytest.raises(ValidationError, match="already exists"):  # a registered unit does not change
        store.add_unit(renamed, unit_draft(renamed, T0))
    assert store.add_unit(office, unit_draft(office, T0)) is None  # the same again writes nothing
    assert store.units() == [office, county, town, dept] and store.chain_head()[0] == 4


def test_lifecycles_round_trip(store: Store) -> None:
    store.save_lifecycle("issue-list", 1, '{"name":"issue-list","version":1}')
    store.save_lifecycle("work-order", 2, '{"name":"work-order","version":2,"中文":"签收"}')
    store.save_lifecycle("work-order", 1, '{"name":"work-order","version":1}')
    assert sorted(store.lifecycles()) == [
        ("issue-list", 1, '{"name":"issue-list","version":1}'),
        ("work-order", 1, '{"name":"work-order","version":1}'),
        ("work-order", 2, '{"name":"work-order","version":2,"中文":"签收"}'),
    ]
    store.save_lifecycle("work-order", 1, '{"name":"work-order","version":1,"x":1}')  # replaces
    assert sorted(store.lifecycles())[1] == ("work-order", 1, '{"name":"work-order","version":1,"x":1}')
    assert len(store.lifecycles()) == 3


# -- the outbox ---------------------------------------------------------------------------

NOTIFY = (("after_transition", "mailer"), ("after_transition", "sms"))


def test_a_commit_writes_one_outbox_row_per_subscriber(store: Store) -> None:
    issue, first = create(store, notify=NOTIFY)
    issue, second = update(store, issue, notify=(("after_transition", "mailer"),))
    update(store, issue, notify=())
    rows = store.outbox("pending")
    assert [(r.seq, r.hook, r.plugin, r.status, r.attempts, r.last_error) for r in rows] == [
        (1, "after_transition", "mailer", "pending", 0, None),
        (1, "after_transition", "sms", "pending", 0, None),
        (2, "after_transition", "mailer", "pending", 0, None),
    ]
    assert [r.id for r in rows] == sorted({r.id for r in rows})
    assert [r.next_attempt_at for r in rows] == [first.at, first.at, second.at]
    assert [r.created_at for r in rows] == [first.at, first.at, second.at]
    assert store.outbox("done") == [] and store.outbox("dead") == []


def test_outbox_claims_leases_and_releases(store: Store) -> None:
    create(store, notify=NOTIFY)
    lease = dt.timedelta(minutes=5)
    assert store.claim_outbox(T0 - dt.timedelta(seconds=1), lease, 10) == []  # not due yet
    (one,) = store.claim_outbox(T0, lease, 1)  # limit
    (two,) = store.claim_outbox(T0, lease, 10)  # the first is held
    assert (one.plugin, two.plugin) == ("mailer", "sms")
    assert store.claim_outbox(T0 + lease - dt.timedelta(seconds=1), lease, 10) == []
    store.release_outbox(two.id)
    assert [r.id for r in store.claim_outbox(T0 + dt.timedelta(minutes=1), lease, 10)] == [two.id]
    # the lease on the first runs out at T0 + lease
    assert [r.id for r in store.claim_outbox(T0 + lease, lease, 10)] == [one.id]
    assert store.claim_outbox(T0 + HOUR, lease, 0) == []  # limit 0


def test_outbox_attempts_end_done_retrying_or_dead_and_can_be_requeued(store: Store) -> None:
    create(store, notify=NOTIFY)
    issue = store.load("GF-2026-0001")
    assert issue is not None
    update(store, issue, notify=(("deadline", "mailer"),))
    lease = dt.timedelta(minutes=5)
    done, retried, dead = store.claim_outbox(T0 + HOUR, lease, 10)
    store.finish_outbox(done.id, error=None, retry_at=None)
    retry_at = T0 + 2 * HOUR
    store.finish_outbox(retried.id, error="ConnectionError: down", retry_at=retry_at)
    store.finish_outbox(dead.id, error="ValueError: bad address", retry_at=None)

    (got_done,) = store.outbox("done")
    assert (got_done.id, got_done.attempts) == (done.id, 1)
    (pending,) = store.outbox("pending")
    assert (pending.id, pending.attempts, pending.last_error) == (retried.id, 1, "ConnectionError: down")
    assert pending.next_attempt_at == retry_at
    (got_dead,) = store.outbox("dead")
    assert (got_dead.id, got_dead.attempts, got_dead.last_error) == (dead.id, 1, "ValueError: bad address")

    assert store.claim_outbox(retry_at - dt.timedelta(microseconds=1), lease, 10) == []
    assert [r.id for r in store.claim_outbox(retry_at, lease, 10)] == [retried.id]

    later = T0 + 3 * HOUR
    assert store.requeue_outbox([done.id], later) == 0  # only dead rows are requeued
    assert store.requeue_outbox(None, later) == 1
    (again,) = [r for r in store.outbox("pending") if r.id == dead.id]
    assert (again.attempts, again.next_attempt_at) == (0, later)
    assert store.outbox("dead") == []
    # the requeued row, and the retried one whose lease has run out meanwhile
    assert [r.id for r in store.claim_outbox(later, lease, 10)] == [retried.id, dead.id]


def test_requeue_takes_a_list_of_row_ids(store: Store) -> None:
    create(store, notify=NOTIFY)
    first, second = store.claim_outbox(T0, HOUR, 10)
    for row in (first, second):
        store.finish_outbox(row.id, error="boom", retry_at=None)
    assert store.requeue_outbox([], T0) == 0
    assert store.requeue_outbox([second.id], T0) == 1
    assert [r.id for r in store.outbox("dead")] == [first.id]
    assert [r.id for r in store.outbox("pending")] == [second.id]


# -- through govflow.open(store) ----------------------------------------------------------


def cycle(flow: govflow.Govflow) -> list[str]:
    flow.add_unit("OFFICE", "州领导小组办公室", level="prefecture", supervisor=True)
    flow.add_unit("XIANGYUN", "祥云县", level="county", parent="OFFICE")
    flow.add_unit("BINCHUAN", "宾川县", level="county", parent="OFFICE")
    a = flow.assign("道路积水", lead="XIANGYUN", due="2026-03-20", by="OFFICE", cooperating=["BINCHUAN"],
                    responsible={"first": "李四"}, countersign="none")
    b = flow.assign("路灯不亮", lead="BINCHUAN", due="2026-03-10", by="OFFICE")
    flow.accept(a.id, by="XIANGYUN")
    flow.request_extension(a.id, by="XIANGYUN", due="2026-04-10", reason="汛期")
    flow.approve_extension(a.id, by="OFFICE")
    flow.implement(a.id, by="XIANGYUN", note="疏通排水", evidence=["a.jpg"])
    flow.report(a.id, by="XIANGYUN", result="已完成")
    flow.reject(a.id, by="OFFICE", reason="仍有积水", due="2026-04-20")
    flow.cancel(b.id, by="OFFICE", reason="重复")
    return [a.id, b.id]


def test_a_flow_runs_on_the_store(store: Store) -> None:
    clock = FakeClock("2026-03-02T09:00:00+08:00", tick=dt.timedelta(minutes=7))
    flow = govflow.open(store, clock=clock, delivery="manual")
    assert flow.store is store
    a, b = cycle(flow)
    assert (a, b) == ("GF-2026-0001", "GF-2026-0002")
    issue = store.load(a)
    assert issue is not None and issue == flow.get(a)
    assert (issue.state, issue.version, issue.rework_count, issue.due, issue.original_due,
            issue.extension_count, issue.accepted_at is not None) == (
        "assigned", 7, 1, dt.date(2026, 4, 20), dt.date(2026, 3, 20), 1, True,
    )
    assert issue.responsible == Responsible(first="李四")
    assert [u.id for u in store.units()] == ["OFFICE", "XIANGYUN", "BINCHUAN"]
    assert ("issue-list", 1) in {(name, version) for name, version, _ in store.lifecycles()}
    check = flow.verify_ledger()
    assert check.entries == len(list(store.ledger())) == 3 + 9  # three units' registrations, nine steps
    assert store.chain_head() == (3 + 9, check.head)
    assert dict(store.issue_versions()) == {a: (7, "assigned"), b: (2, "cancelled")}
    assert ids(store.query(IssueQuery(unit="BINCHUAN"))) == [1, 2]


def test_two_flows_on_one_store_see_each_others_writes_and_conflicts(store: Store) -> None:
    clock = FakeClock("2026-03-02T09:00:00+08:00")
    first = govflow.open(store, clock=clock, delivery="manual")
    a, _ = cycle(first)
    second = govflow.open(store, clock=clock, delivery="manual")
    seen = second.get(a)
    first.implement(a, by="XIANGYUN", note="再次整改")
    with pytest.raises(ConcurrentUpdateError):
        second.fire(a, "implement", by="XIANGYUN", note="mine", expected_version=seen.version)
    assert second.get(a).version == seen.version + 1
    second.verify_ledger()


# -- persistent backends only: reopening --------------------------------------------------


@pytest.mark.parametrize("kind", PERSISTENT)
def test_a_reopened_store_sees_everything(kind: str, tmp_path: Path) -> None:
    """Persistent backends only (SQLite): close the store, open the same data again."""
    store = STORE_FACTORIES[kind](tmp_path)
    clock = FakeClock("2026-03-02T09:00:00+08:00", tick=dt.timedelta(minutes=3))
    with govflow.open(store, clock=clock, delivery="manual") as flow:
        cycle(flow)
    reopen = STORE_FACTORIES[kind](tmp_path)
    issue, _ = create(reopen, notify=NOTIFY)  # a third issue, by hand
    assert issue.id == "GF-2026-0003"
    update(reopen, issue, extension=ExtensionRequest(dt.date(2026, 5, 1), "r", "XIANGYUN", T0),
           accepted_at=T0)
    before = everything(reopen)
    reopen.close()

    again = STORE_FACTORIES[kind](tmp_path)
    try:
        assert everything(again) == before
        assert again.load("GF-2026-0003") == before[0][2]
        assert again.entry(3 + 11) == before[1][-1]
        assert create(again)[0].id == "GF-2026-0004"  # the counter survived
        with govflow.open(again, clock=clock, delivery="manual") as flow:
            # The chain holds; the issues written by hand above were never assigned by govflow, and
            # the replay of the ledger says so.
            with pytest.raises(govflow.LedgerCorrupted) as info:
                flow.verify_ledger()
            assert (info.value.seq, info.value.issue_id) == (3 + 10, "GF-2026-0003")
            assert flow.get("GF-2026-0001").version == 7
    finally:
        again.close()


# -- several units of work in one transaction ----------------------------------------------


def test_commit_many_writes_steps_in_order_even_on_one_issue(store: Store) -> None:
    first, _ = create(store)
    second, _ = create(store)
    step1 = update_work(first)
    step2 = update_work(step1.issue)  # the next step on the same issue names the version step1 writes
    other = update_work(second, notify=(("deadline", "mailer"),))
    written = store.commit_many([step1, step2, other])
    assert [(issue.id, issue.version, entry.seq) for issue, entry in written] == [
        (first.id, 2, 3), (first.id, 3, 4), (second.id, 2, 5),
    ]
    assert store.load(first.id) == step2.issue and store.chain_head() == (5, written[-1][1].hash)
    assert [row.seq for row in store.outbox("pending")] == [5]


def test_commit_many_is_all_or_nothing(store: Store) -> None:
    first, _ = create(store)
    second, _ = create(store)
    before = everything(store)
    stale = update_work(second, expected=7)
    with pytest.raises(ConcurrentUpdateError):
        store.commit_many([update_work(first), stale])
    not_json = update_work(second, data={"ratio": float("nan")})
    with pytest.raises(ValueError):
        store.commit_many([update_work(first), not_json])
    assert everything(store) == before
    assert [issue.version for issue, _ in store.commit_many([update_work(first)])] == [2]


# -- period facts --------------------------------------------------------------------------


@pytest.mark.parametrize("period", ["2026-02", "2026-03", "2026-Q1", "2026-04", "2026"])
def test_period_facts_agree_with_the_reference_semantics(store: Store, period: str) -> None:
    from govflow._stores.facts import FactsQuery, compute_facts

    from ..conftest import add_units
    from ..month_scenario import run_april, run_march

    clock = FakeClock("2026-03-02T09:00:00+08:00", tick=dt.timedelta(minutes=1))
    flow = govflow.open(store, clock=clock)
    add_units(flow)
    run_april(flow, clock, run_march(flow, clock))
    chosen = govflow.Period.parse(period)
    limits = flow._accept_limits(chosen)  # each day of the period and its acceptance limit
    assert limits[0] == (chosen.first_day, govflow.add_working_days(flow.calendar, chosen.first_day, 1))
    query = FactsQuery(chosen.start, chosen.end, limits, ("assigned", "implemented"))
    found = store.period_facts(query)
    assert found == compute_facts(store.ledger(), query)
    assert list(found) == sorted(found)
    assert all(not facts.is_empty() for facts in found.values())


def test_acceptance_is_held_to_the_issue_s_the_lifecycle_s_or_the_policy_s_limit(store: Store) -> None:
    """及时签收: an assignment recording its own day is held to it; one of an issue without a limit of its own to
    its lifecycle's day in ``lifecycle_accept_by`` (the policy's for a day that list lacks); one of an issue whose
    own limit is 0 to the policy's. Every store agrees with the reference."""
    from govflow._stores.facts import FactsQuery, compute_facts

    from ..conftest import add_units

    clock = FakeClock("2026-03-02T09:00:00+08:00", tick=dt.timedelta(minutes=1))  # a Monday
    flow = govflow.open(store, clock=clock)
    add_units(flow)
    lifecycle_s = flow.assign("甲", lead="XIANGYUN", due="2026-03-20", by="OFFICE")  # the lifecycle's: 1 day
    none = flow.assign("乙", lead="XIANGYUN", due="2026-03-20", by="OFFICE", accept_limit=0)  # the policy's
    own = flow.assign("丙", lead="XIANGYUN", due="2026-03-20", by="OFFICE", accept_limit=2)  # its own: 03-04
    assert "accept_by" not in flow.ledger(lifecycle_s.id)[0].data
    clock.set("2026-03-04T10:00:00+08:00")  # the second working day
    for issue in (lifecycle_s, none, own):
        flow.accept(issue.id, by="XIANGYUN")
    march = govflow.Period.parse("2026-03")
    policy = flow._accept_limits(march, 3)
    one_day = flow._accept_limits(march, 1)
    ledger = list(store.ledger())
    for lifecycle_days, on_time in (
        (one_day, 2),  # the lifecycle's Tuesday: late; the policy's Thursday and its own Wednesday: on time
        (tuple(d for d in one_day if d[0] != dt.date(2026, 3, 2)), 3),  # the list lacks Monday: the policy's
        ((), 3),
    ):
        query = FactsQuery(march.start, march.end, policy, ("assigned", "implemented"),
                           lifecycle_accept_by=(("issue-list@2", lifecycle_days),))
        found = store.period_facts(query)
        assert found == compute_facts(ledger, query)
        assert found["XIANGYUN"].accepted_on_time == on_time, lifecycle_days[:1]


@pytest.mark.parametrize("period", ["2026-03", "2026-Q1", "2026-04"])
def test_overdue_at_end_agrees_with_the_reference_semantics(store: Store, period: str) -> None:
    from govflow._stores.facts import FactsQuery, compute_overdue

    from ..conftest import add_units
    from ..month_scenario import run_april, run_march

    clock = FakeClock("2026-03-02T09:00:00+08:00", tick=dt.timedelta(minutes=1))
    flow = govflow.open(store, clock=clock)
    add_units(flow)
    run_april(flow, clock, run_march(flow, clock))
    chosen = govflow.Period.parse(period)
    query = FactsQuery(chosen.start, chosen.end, flow._accept_limits(chosen), ("assigned", "implemented"))
    expected = compute_overdue(store.ledger(), query)
    assert expected, "the scenario leaves issues overdue"
    assert store.overdue_at_end(query) == expected
    store.period_facts(query)  # a store may keep what it found with the facts; the answer must not change
    assert store.overdue_at_end(query) == expected
    assert sum(f.overdue_at_end for f in store.period_facts(query).values()) == len(expected)
