"""The data keywords' parsers: the free-text keywords' shortcut keeps the text rule exactly."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from govflow import ValidationError, check_text
from govflow._lifecycle.fields import parse_field

TEXT_KEYWORDS = ("note", "result", "reason")


def by_the_rule(field: str, value: object) -> str:
    """What a free-text keyword accepted before the shortcut: a non-blank string passing the ``free`` rule."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(field, "blank or not a string", "a non-empty string")
    return check_text(field, value, kind="free")


def outcome(parse: object, field: str, value: object) -> tuple[str, object]:
    try:
        return "ok", parse(field, value)  # type: ignore[operator]
    except ValidationError as error:
        return "refused", error.field


class Text(str):
    """A str subclass: takes the general route."""


# Printable and not, blank, control and format characters, lone surrogates, near and over the length limit.
awkward = st.one_of(
    st.text(),
    st.text(alphabet=st.characters(codec=None, exclude_categories=())),
    st.sampled_from(["", " ", "\t", "\n", "a\nb", "a\tb", "\x00", "a\x00", "\u202e", "\ud800", "办结\u200b",
                     "x" * 50_000, "x" * 50_001, " x ", "落实情况良好"]),
)


@pytest.mark.parametrize("field", TEXT_KEYWORDS)
@given(value=awkward)
def test_text_keywords_accept_what_the_rule_accepts(field: str, value: str) -> None:
    assert outcome(lambda f, v: parse_field(f, v, None), field, value) == outcome(by_the_rule, field, value)


@pytest.mark.parametrize("value", ["ok", Text("ok"), Text("a\x00"), 5, None, b"note", ["n"]])
def test_other_values_take_the_general_route(value: object) -> None:
    assert outcome(lambda f, v: parse_field(f, v, None), "note", value) == outcome(by_the_rule, "note", value)
