"""Local wall-clock time in, UTC inside, across the clock changes of Europe/London."""

import datetime as dt

import pytest

from core.timeutil import NonexistentLocalTime, format_local, local_day_bounds, local_to_utc, to_local

UTC = dt.UTC


def test_winter_and_summer_times_convert_with_the_right_offset():
    assert local_to_utc(dt.datetime(2026, 1, 15, 9)) == dt.datetime(2026, 1, 15, 9, tzinfo=UTC)
    assert local_to_utc(dt.datetime(2026, 7, 15, 9)) == dt.datetime(2026, 7, 15, 8, tzinfo=UTC)


def test_a_time_the_clocks_skip_in_spring_is_refused():
    with pytest.raises(NonexistentLocalTime, match="clocks go forward"):
        local_to_utc(dt.datetime(2026, 3, 29, 1, 30))


def test_the_repeated_autumn_hour_means_its_first_occurrence():
    assert local_to_utc(dt.datetime(2026, 10, 25, 1, 30)) == dt.datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


def test_clock_change_days_are_23_and_25_hours_long():
    spring = local_day_bounds(dt.date(2026, 3, 29))
    autumn = local_day_bounds(dt.date(2026, 10, 25))
    assert spring[1] - spring[0] == dt.timedelta(hours=23)
    assert autumn[1] - autumn[0] == dt.timedelta(hours=25)


def test_utc_is_shown_in_local_time():
    moment = dt.datetime(2026, 7, 1, 12, tzinfo=UTC)
    assert to_local(moment).hour == 13
    assert format_local(moment, "%H:%M") == "13:00"
    assert format_local(None) == ""
