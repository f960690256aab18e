"""Time arithmetic on the small tables, in Python: merging, subtracting and splitting lists of
[start, end) intervals (aware UTC datetimes), working hours between two instants, and whole
seconds shared out under a cap."""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Iterable, Mapping

from core.timeutil import local_day_bounds, to_local

#: A local day's bounds, worked out once (a report asks for the same few hundred days again
#: for every late cancellation).
_day_bounds = functools.lru_cache(maxsize=8192)(local_day_bounds)

Interval = tuple[dt.datetime, dt.datetime]
_ONE_DAY = dt.timedelta(days=1)


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        elif start < end:
            merged.append((start, end))
    return merged


def subtract(base: list[Interval], cuts: list[Interval]) -> list[Interval]:
    """``base`` less ``cuts`` (both merged and sorted)."""
    result: list[Interval] = []
    for start, end in base:
        cursor = start
        for cut_start, cut_end in cuts:
            if cut_end <= cursor or cut_start >= end:
                continue
            if cut_start > cursor:
                result.append((cursor, cut_start))
            cursor = max(cursor, cut_end)
            if cursor >= end:
                break
        if cursor < end:
            result.append((cursor, end))
    return result


def overlap_seconds(intervals: list[Interval], start: dt.datetime, end: dt.datetime) -> float:
    total = 0.0
    for a, b in intervals:
        lo, hi = max(a, start), min(b, end)
        if lo < hi:
            total += (hi - lo).total_seconds()
    return total


def split_by_spans(intervals: list[Interval], spans: list[Interval]) -> list[float]:
    """Seconds of ``intervals`` in each of ``spans`` (both sorted, neither overlapping itself),
    in one pass over both."""
    result = [0.0] * len(spans)
    first = 0
    for start, end in intervals:
        while first < len(spans) and spans[first][1] <= start:
            first += 1
        index = first
        while index < len(spans) and spans[index][0] < end:
            lo, hi = max(start, spans[index][0]), min(end, spans[index][1])
            if lo < hi:
                result[index] += (hi - lo).total_seconds()
            index += 1
    return result


def working_seconds_between(start: dt.datetime, end: dt.datetime) -> float:
    """Seconds from ``start`` to ``end`` that fall on local Mondays to Fridays."""
    if end <= start:
        return 0.0
    # All of it, less what falls on Saturdays and Sundays (most gaps have no weekend day in them).
    total = (end - start).total_seconds()
    day = to_local(start).date()
    last = to_local(end).date()
    while day <= last:
        if day.weekday() >= 5:
            day_start, day_end = _day_bounds(day)
            lo, hi = max(start, day_start), min(end, day_end)
            if lo < hi:
                total -= (hi - lo).total_seconds()
        day += _ONE_DAY
    return total


def is_late_cancellation(cancelled_at: dt.datetime, start_at: dt.datetime, notice_hours: int) -> bool:
    """Cancelled less than ``notice_hours`` working hours (Monday to Friday) before the start,
    or after it: with 24 hours, a Monday 10:00 booking cancelled after Friday 10:00 is late."""
    return working_seconds_between(cancelled_at, start_at) < notice_hours * 3600


def apportion(shares: Mapping[int | None, float], cap: int) -> dict[int | None, int]:
    """Whole seconds for each share above 0, scaled down alike to add up to exactly ``cap`` when
    they come to more (or round to more): each gets its scaled share rounded down, and the
    seconds left over go one each to the largest remainders (on a tie, by key: the report's
    figures cannot depend on the order the database returned the shares in)."""
    positive = {key: seconds for key, seconds in shares.items() if seconds > 0}
    total = sum(positive.values())
    scale = cap / total if total > cap else 1.0
    whole = {key: math.floor(seconds * scale) for key, seconds in positive.items()}
    left = min(cap, int(round(total))) - sum(whole.values())
    by_remainder = sorted(
        positive, key=lambda key: (-(positive[key] * scale - whole[key]), key is None, key or 0)
    )
    for key in by_remainder[: max(left, 0)]:
        whole[key] += 1
    return whole
