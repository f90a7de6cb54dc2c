"""The one text rule (govflow.check_text) and the ledger-value rule, on their own."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from govflow import ValidationError, check_text
from govflow._core.text import MAX_INT, check_value, skeleton


@pytest.mark.parametrize(
    ("kind", "value", "says"),
    [
        ("free", "a\udc80b", "lone surrogate U+DC80"),
        ("free", "a\x00b", "NUL"),
        ("free", "a\x1bb", "U+001B"),
        ("free", "a\rb", "U+000D"),
        ("free", "right\u202eleft", "bidirectional"),
        ("name", "two\nlines", "U+000A"),
        ("name", "tab\there", "U+0009"),
        ("id", "XY ", "whitespace"),
        ("id", " XY", "whitespace"),
        ("id", "X\u200bY", "invisible"),
        ("id", "\u0425Y", "more than one script"),  # Cyrillic Х beside Latin Y
        ("id", "\u0391B", "more than one script"),  # Greek Α beside Latin B
        ("id", "", "empty"),
        ("name", "   ", "whitespace"),
    ],
)
def test_refused_with_the_field_and_the_reason(kind: str, value: str, says: str) -> None:
    with pytest.raises(ValidationError) as info:
        check_text("title", value, kind=kind)  # type: ignore[arg-type]
    assert info.value.field == "title"
    assert says in info.value.problem


@pytest.mark.parametrize(
    ("kind", "value"),
    [("free", "第一行\n第二行\t制表"), ("name", "祥云县 人民政府"), ("id", "XIANGYUN-01"), ("id", "祥云县"),
     ("id", "\u0425\u0423"), ("name", "emoji 👩‍👩‍👧 family"), ("free", "𝒳 outside the BMP")],
)
def test_accepted(kind: str, value: str) -> None:
    assert check_text("f", value, kind=kind) == value  # type: ignore[arg-type]


def test_lengths_are_bounded_before_the_characters_are_read() -> None:
    with pytest.raises(ValidationError) as info:
        check_text("title", "x" * 10_000_000, kind="name")
    assert "10000000 characters long" in info.value.problem
    assert check_text("note", "x" * 50_000) and check_text("f", "x" * 600, kind="name", max_len=600)


@pytest.mark.parametrize("value", [None, 5, b"bytes", ["a"], {"a": 1}])
def test_a_non_string_is_refused(value: object) -> None:
    with pytest.raises(ValidationError):
        check_text("f", value)


def test_look_alike_ids_share_a_skeleton() -> None:
    assert skeleton("XY") == skeleton("\u0425\u04ae") == skeleton("ＸＹ") == skeleton("xy")
    assert skeleton("XY") != skeleton("XZ")


@pytest.mark.parametrize(
    "value",
    [pytest.param(10**5000, id="huge"), MAX_INT + 1, float("nan"), float("inf"), object(), {1: "a"},
     {"k\x00": 1}, "\udc80", [[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]], list(range(20_000))],
)
def test_values_the_ledger_cannot_hold_are_refused(value: object) -> None:
    with pytest.raises(ValidationError):
        check_value("extra", value)


@given(st.text())
def test_any_text_is_refused_with_a_typed_error_or_accepted_as_it_is(text: str) -> None:
    for kind in ("free", "name", "id"):
        try:
            assert check_text("f", text, kind=kind) is text  # type: ignore[arg-type]
        except ValidationError as error:
            assert error.field == "f"
        else:
            text.encode("utf-8")  # what is accepted can be encoded
            assert "\x00" not in text
