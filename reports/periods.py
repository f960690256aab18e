"""Report periods in local dates: months, weeks, quarters, academic years, and their UTC bounds.

A period is a pair of local dates, both included. Its instants run from local midnight at the
start of the first date to local midnight at the end of the last (``timeutil.local_day_bounds``),
so a period containing a clock change is 23 or 25 hours longer or shorter, as the clock says.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from core.timeutil import local_day_bounds
from reports.models import Frequency

#: The longest period a report may cover (about ten years), so a typing slip cannot ask for a century.
MAX_PERIOD_DAYS = 3700
#: UK academic years start on 1 August.
ACADEMIC_YEAR_START_MONTH = 8


@dataclass(frozen=True)
class Span:
    """The part of one calendar month that lies inside a period."""

    month: dt.date  # the month's first day
    first_day: dt.date
    last_day: dt.date

    @property
    def label(self) -> str:
        return self.month.strftime("%b %Y")

    @property
    def key(self) -> str:
        return self.month.strftime("%Y-%m")


def utc_bounds(first_day: dt.date, last_day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The UTC instants from the start of ``first_day`` to the end of ``last_day`` (local)."""
    return local_day_bounds(first_day)[0], local_day_bounds(last_day)[1]


def first_of_month(day: dt.date) -> dt.date:
    return day.replace(day=1)


def add_months(day: dt.date, months: int) -> dt.date:
    """The first of the month ``months`` after ``day``'s month."""
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def month_spans(first_day: dt.date, last_day: dt.date) -> list[Span]:
    """The calendar months a period touches, each clipped to the period."""
    spans = []
    month = first_of_month(first_day)
    while month <= last_day:
        next_month = add_months(month, 1)
        spans.append(Span(month, max(month, first_day), min(next_month - dt.timedelta(days=1), last_day)))
        month = next_month
    return spans


def last_month(today: dt.date) -> tuple[dt.date, dt.date]:
    end = first_of_month(today) - dt.timedelta(days=1)
    return first_of_month(end), end


def quarter_start(day: dt.date) -> dt.date:
    return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def last_quarter(today: dt.date) -> tuple[dt.date, dt.date]:
    end = quarter_start(today) - dt.timedelta(days=1)
    return quarter_start(end), end


def academic_year_to_date(today: dt.date) -> tuple[dt.date, dt.date]:
    """From 1 August of the academic year ``today`` is in, to ``today``."""
    year = today.year if today.month >= ACADEMIC_YEAR_START_MONTH else today.year - 1
    return dt.date(year, ACADEMIC_YEAR_START_MONTH, 1), today


def period_containing(frequency: Frequency, day: dt.date) -> tuple[dt.date, dt.date]:
    """The week (Monday to Sunday), month or quarter that ``day`` falls in."""
    if frequency == Frequency.WEEKLY:
        start = day - dt.timedelta(days=day.weekday())
        return start, start + dt.timedelta(days=6)
    if frequency == Frequency.MONTHLY:
        start = first_of_month(day)
        return start, add_months(start, 1) - dt.timedelta(days=1)
    start = quarter_start(day)
    return start, add_months(start, 3) - dt.timedelta(days=1)


def finished_periods(frequency: Frequency, since: dt.date, today: dt.date) -> list[tuple[dt.date, dt.date]]:
    """Every whole period that ends on or after ``since`` and before ``today``, oldest first.

    A subscription made on ``since`` gets the report for the period it was made in, once that
    period is over, and every period after it.
    """
    periods = []
    start, end = period_containing(frequency, since)
    while end < today:
        periods.append((start, end))
        start, end = period_containing(frequency, end + dt.timedelta(days=1))
    return periods


def describe_period(first_day: dt.date, last_day: dt.date) -> str:
    """'1–30 Sep 2026', '28 Sep – 4 Oct 2026', '1 Dec 2026 – 28 Feb 2027'."""
    if first_day == last_day:
        return f"{first_day.day} {first_day:%b %Y}"
    if first_day.year != last_day.year:
        return f"{first_day.day} {first_day:%b %Y} – {last_day.day} {last_day:%b %Y}"
    if first_day.month != last_day.month:
        return f"{first_day.day} {first_day:%b} – {last_day.day} {last_day:%b %Y}"
    return f"{first_day.day}–{last_day.day} {last_day:%b %Y}"


def previous_period(first_day: dt.date, last_day: dt.date) -> tuple[dt.date, dt.date]:
    """The period of the same length just before this one, to compare with: the same number of
    whole calendar months before a period of whole months (November's is October, 1–31 Oct), else
    the same number of days."""
    next_day = last_day + dt.timedelta(days=1)
    if first_day.day == 1 and next_day.day == 1:
        months = (next_day.year - first_day.year) * 12 + next_day.month - first_day.month
        start = add_months(first_day, -months)
        return start, first_day - dt.timedelta(days=1)
    days = (last_day - first_day).days + 1
    return first_day - dt.timedelta(days=days), first_day - dt.timedelta(days=1)
