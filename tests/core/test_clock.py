"""govflow._core.clock: what a flow takes as the time."""

from __future__ import annotations

import datetime as dt

import pytest

from govflow import DEFAULT_ZONE, ValidationError
from govflow._core.clock import in_zone


def test_a_time_already_in_the_zone_comes_back_as_it_is() -> None:
    at = dt.datetime(2026, 3, 2, 9, 0, tzinfo=DEFAULT_ZONE)
    assert in_zone("clock()", at) is at


def test_a_time_in_another_zone_is_converted() -> None:
    at = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.timezone.utc)
    moved = in_zone("clock()", at)
    assert moved == at and moved.tzinfo is DEFAULT_ZONE and moved.hour == 9


def test_a_time_of_the_years_with_daylight_saving_is_normalised_as_before() -> None:
    # 1988-04-10 02:30 did not exist in Shanghai (clocks went forward): astimezone normalises it.
    skipped = dt.datetime(1988, 4, 10, 2, 30, tzinfo=DEFAULT_ZONE)
    assert in_zone("now", skipped) == skipped.astimezone(DEFAULT_ZONE)


@pytest.mark.parametrize("value", [dt.datetime(2026, 3, 2, 9, 0), "2026-03-02T09:00+08:00", None,
                                   dt.datetime(1800, 1, 1, tzinfo=DEFAULT_ZONE)])
def test_a_naive_or_out_of_range_time_is_refused(value: object) -> None:
    with pytest.raises(ValidationError) as raised:
        in_zone("now", value)
    assert raised.value.field == "now"
