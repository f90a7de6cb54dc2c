"""govflow._core.construct: the positional constructors the hot path builds its values with."""

from __future__ import annotations

import datetime as dt
import pickle

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from govflow import DEFAULT_ZONE, Issue, LedgerEntry
from govflow._core.construct import differ, positional, replacer
from govflow._core.ledger import LedgerDraft, new_draft
from govflow._core.model import new_entry, replace_issue
from govflow._stores.protocol import UnitOfWork, new_work

AT = dt.datetime(2026, 3, 2, 9, 0, tzinfo=DEFAULT_ZONE)


def an_issue() -> Issue:
    return Issue(
        id="GF-2026-0001", title="题", lead="C1", due=dt.date(2026, 12, 31), original_due=dt.date(2026, 12, 31),
        state="assigned", version=1, lifecycle="issue-list", lifecycle_version=2, created_at=AT, updated_at=AT,
        cooperating=("C2",),
    )


def test_the_hot_path_classes_get_their_own_constructor() -> None:
    for cls, made in ((Issue, positional(Issue)), (LedgerEntry, new_entry), (LedgerDraft, new_draft),
                      (UnitOfWork, new_work)):
        assert made is not cls, f"{cls.__name__} fell back to its attrs __init__"


def test_a_positional_value_is_the_same_as_the_class_would_make() -> None:
    issue = an_issue()
    values = [getattr(issue, field.name) for field in attrs.fields(Issue)]
    made = positional(Issue)(*values)
    assert type(made) is Issue
    assert made == issue and hash(made) == hash(issue) and repr(made) == repr(issue)
    assert pickle.loads(pickle.dumps(made)) == issue
    assert attrs.evolve(made, state="implemented").state == "implemented"
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        made.state = "x"  # type: ignore[misc]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        del made.state  # type: ignore[misc]


def test_replace_issue_changes_only_what_it_is_given() -> None:
    issue = an_issue()
    new = replace_issue(issue, {"state": "implemented", "version": 2})
    assert new == attrs.evolve(issue, state="implemented", version=2)
    assert issue.state == "assigned"  # the snapshot in hand is untouched
    with pytest.raises(TypeError, match="no field 'colour'"):
        replace_issue(issue, {"colour": "red"})


def test_an_entry_and_a_draft_by_position_equal_their_keyword_forms() -> None:
    entry = new_entry(3, "GF-2026-0001", 2, "implement", "assigned", "implemented", "C1", None, AT, {"note": "n"},
                      "0" * 64, "f" * 64, None)
    assert entry == LedgerEntry(seq=3, issue_id="GF-2026-0001", issue_seq=2, trigger="implement",
                                from_state="assigned", to_state="implemented", actor="C1", person=None, at=AT,
                                data={"note": "n"}, prev_hash="0" * 64, hash="f" * 64)
    draft = new_draft("GF-2026-0001", 2, "implement", "assigned", "implemented", "C1", None, AT, {})
    assert draft == LedgerDraft("GF-2026-0001", 2, "implement", "assigned", "implemented", "C1", None, AT, {})


@attrs.frozen
class WithWeakref:
    a: int


@attrs.frozen(weakref_slot=False)
class Validated:
    a: int = attrs.field(validator=attrs.validators.instance_of(int))


@attrs.frozen(weakref_slot=False)
class Converted:
    a: int = attrs.field(converter=int)


@attrs.frozen(weakref_slot=False)
class PostInit:
    a: int

    def __attrs_post_init__(self) -> None:
        if self.a < 0:
            raise ValueError("negative")


@attrs.frozen(weakref_slot=False)
class OwnNames:
    cls: int
    made: int


@attrs.frozen(weakref_slot=False)
class Plain:
    a: int
    b: str = "b"


@pytest.mark.parametrize("cls", [WithWeakref, Validated, Converted, PostInit, OwnNames])
def test_a_class_whose_init_does_more_keeps_its_own_constructor(cls: type) -> None:
    assert positional(cls) is cls


def test_the_fallbacks_still_check_what_their_class_checks() -> None:
    with pytest.raises(TypeError):
        positional(Validated)("1")
    assert positional(Converted)("7") == Converted(7)
    with pytest.raises(ValueError, match="negative"):
        positional(PostInit)(-1)


def test_a_plain_class_is_built_by_position_defaults_included() -> None:
    made = positional(Plain)
    assert made is not Plain
    assert made(1, "x") == Plain(1, "x")
    with pytest.raises(TypeError):
        made(1)  # every field by position: no defaults filled in


_ISSUE_NAMES = [field.name for field in attrs.fields(Issue)]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(_ISSUE_NAMES), unique=True, max_size=8), st.integers())
def test_replace_issue_is_attrs_evolve_for_any_fields_in_any_order(names: list[str], salt: int) -> None:
    """The generated copy per set of changed fields (any set, any order, none) is attrs.evolve's value, and a
    second call with the same set takes the kept function."""
    issue = an_issue()
    changes = {name: (name, salt) for name in names}  # a distinct object per field: nothing is checked here
    expected = attrs.evolve(issue, **changes)
    for _ in range(2):
        made = replace_issue(issue, changes)
        assert type(made) is Issue
        assert [getattr(made, n) for n in _ISSUE_NAMES] == [getattr(expected, n) for n in _ISSUE_NAMES]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        made.state = "x"  # type: ignore[misc]


def test_replacer_falls_back_to_evolve_where_positional_does() -> None:
    replace = replacer(Validated)
    assert replace(Validated(1), {"a": 2}) == Validated(2)
    with pytest.raises(TypeError):
        replace(Validated(1), {"a": "2"})  # the class's validator still runs
    assert replacer(Plain)(Plain(1), {"b": "c"}) == Plain(1, "c")
    with pytest.raises(TypeError, match="no field 'c'"):
        replacer(Plain)(Plain(1), {"c": 1})


@given(st.sets(st.sampled_from(_ISSUE_NAMES)))
def test_differ_names_the_fields_that_hold_another_object(names: set[str]) -> None:
    issue = an_issue()
    new = attrs.evolve(issue, **{name: object() for name in names})
    moved = differ(_ISSUE_NAMES, "test")(issue, new)
    assert moved == [(i, getattr(new, n)) for i, n in enumerate(_ISSUE_NAMES) if n in names]
    with pytest.raises(ValueError, match="not an attribute name"):
        differ(["a", "b.c"], "test")
