"""Periods: months, quarters and years as half-open intervals in Asia/Shanghai."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

import govflow
from govflow import Period, ValidationError

SH = govflow.DEFAULT_ZONE

periods = st.one_of(
    st.builds(lambda y, m: Period(y, "month", m), st.integers(1900, 2999), st.integers(1, 12)),
    st.builds(lambda y, q: Period(y, "quarter", q), st.integers(1900, 2999), st.integers(1, 4)),
    st.builds(lambda y: Period(y, "year"), st.integers(1900, 2999)),
)


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2020-06", dt.datetime(2020, 6, 1, tzinfo=SH), dt.datetime(2020, 7, 1, tzinfo=SH)),
        ("2020-12", dt.datetime(2020, 12, 1, tzinfo=SH), dt.datetime(2021, 1, 1, tzinfo=SH)),
        ("2020-Q3", dt.datetime(2020, 7, 1, tzinfo=SH), dt.datetime(2020, 10, 1, tzinfo=SH)),
        ("2020-Q4", dt.datetime(2020, 10, 1, tzinfo=SH), dt.datetime(2021, 1, 1, tzinfo=SH)),
        ("2020", dt.datetime(2020, 1, 1, tzinfo=SH), dt.datetime(2021, 1, 1, tzinfo=SH)),
    ],
)
def test_parse_gives_a_half_open_interval_in_shanghai(text: str, start: dt.datetime, end: dt.datetime) -> None:
    period = Period.parse(text)
    assert (period.start, period.end) == (start, end)
    assert period.start.utcoffset() == dt.timedelta(hours=8)
    assert str(period) == text
    assert period.contains(start) and not period.contains(end)
    assert period.contains(end - dt.timedelta(microseconds=1))


def test_months_of_a_quarter_and_a_year() -> None:
    assert [str(m) for m in Period.parse("2020-Q2").months()] == ["2020-04", "2020-05", "2020-06"]
    assert len(Period.parse("2020").months()) == 12
    assert Period.parse("2020-02").last_day == dt.date(2020, 2, 29)


@given(periods)
def test_text_round_trips(period: Period) -> None:
    assert Period.parse(str(period)) == period
    assert Period.parse(period) is period


@given(periods)
def test_months_tile_the_period(period: Period) -> None:
    months = period.months()
    assert months[0].start == period.start and months[-1].end == period.end
    assert all(a.end == b.start for a, b in itertools.pairwise(months))
    assert period.start < period.end


@given(st.text(max_size=12))
def test_anything_else_is_refused_naming_what_is_accepted(text: str) -> None:
    try:
        period = Period.parse(text)
    except ValidationError as error:
        assert "2020-Q3" in str(error) and "YYYY-MM" in str(error)
    else:
        assert str(period) == text


@pytest.mark.parametrize("text", ["2020-13", "2020-00", "2020-Q5", "2020-Q0", "20-06", "2020/06", "2020-6",
                                  " 2020", "1899", "3000", "2020-q3", ""])
def test_bad_strings_raise(text: str) -> None:
    with pytest.raises(ValidationError, match="a month 'YYYY-MM'"):
        Period.parse(text)


def test_a_non_string_is_refused() -> None:
    with pytest.raises(ValidationError):
        Period.parse(202006)  # type: ignore[arg-type]
