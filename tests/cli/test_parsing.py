"""The command line's parsers (``--set``, ``--due``), over generated input."""

from __future__ import annotations

import json

import click
import pytest
from hypothesis import given
from hypothesis import strategies as st

import govflow
from govflow.cli.issues import parse_due, parse_settings

KEYS = st.from_regex(r"[a-z][a-z_]{0,11}", fullmatch=True).filter(lambda k: k not in ("rating", "due"))
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)


@given(st.dictionaries(KEYS, TEXT, max_size=5))
def test_key_value_pairs_come_back_as_given(pairs: dict[str, str]) -> None:
    assert parse_settings([f"{k}={v}" for k, v in pairs.items()]) == pairs


@given(KEYS, st.lists(TEXT, min_size=2, max_size=4))
def test_a_repeated_key_makes_a_list(key: str, values: list[str]) -> None:
    assert parse_settings([f"{key}={v}" for v in values]) == {key: values}


@given(KEYS, st.recursive(st.none() | st.booleans() | st.integers() | TEXT,
                          lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
                          max_leaves=8))
def test_json_values_with_colon_equals(key: str, value: object) -> None:
    assert parse_settings([f"{key}:={json.dumps(value)}"]) == {key: value}


@given(st.integers(min_value=-10, max_value=10))
def test_rating_is_a_number_and_due_may_be_working_days(rating: int) -> None:
    assert parse_settings([f"rating={rating}"]) == {"rating": rating}
    assert parse_settings(["rating=five"]) == {"rating": "five"}  # refused by the flow, with its message
    assert parse_settings(["due=2026-07-01"]) == {"due": "2026-07-01"}
    assert parse_settings(["due=10wd"]) == {"due": govflow.working_days(10)}


@pytest.mark.parametrize("bad", ["novalue", "=x", ":=x", "k:={not json"])
def test_malformed_pairs_are_usage_errors(bad: str) -> None:
    with pytest.raises(click.BadParameter):
        parse_settings([bad])


@pytest.mark.parametrize(("text", "days"), [("10wd", 10), ("3 working days", 3), ("5工作日", 5), ("7个工作日", 7)])
def test_working_days(text: str, days: int) -> None:
    assert parse_due(text) == govflow.working_days(days)
    assert parse_due("2026-07-01") == "2026-07-01"
