"""Local time at the edges: the university's zone for what people type and read, UTC inside.

The zone is set once per process by the application factory from ``KITSHARE_TIMEZONE``.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from core.config import Config

UTC = dt.UTC
# Process-wide: one university, one zone, used by every layer (services, templates, the API) to
# read and show times; ``create_app`` sets it. The default is Config's.
_zone = ZoneInfo(Config.KITSHARE_TIMEZONE)


def set_local_zone(name: str) -> None:
    global _zone
    _zone = ZoneInfo(name)


def local_zone() -> ZoneInfo:
    return _zone


def to_local(moment: dt.datetime) -> dt.datetime:
    """An aware datetime shown in the university's zone."""
    return moment.astimezone(_zone)


class NonexistentLocalTime(ValueError):
    """A wall-clock time that the clocks skip over (the spring change)."""


def local_to_utc(wall: dt.datetime) -> dt.datetime:
    """Read a naive wall-clock time in the university's zone and return it in UTC.

    A time in the hour the clocks skip in spring does not exist and is refused; a time in the
    hour repeated in autumn is read as its first occurrence (``fold=0``), as people mean it.
    """
    if wall.tzinfo is not None:
        return wall.astimezone(UTC)
    aware = wall.replace(tzinfo=_zone, fold=0)
    round_trip = aware.astimezone(UTC).astimezone(_zone).replace(tzinfo=None)
    if round_trip != wall:
        raise NonexistentLocalTime(
            f"{wall:%d %b %Y %H:%M} does not exist in {_zone.key}: the clocks go forward then."
        )
    return aware.astimezone(UTC)


def local_today(now: dt.datetime | None = None) -> dt.date:
    """Today's date in the university's zone (``now``: default, the current time), which is what
    "due on", "expires on", "this week" and "today's bookings" mean."""
    return (now or dt.datetime.now(UTC)).astimezone(_zone).date()


def local_day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The UTC instants at which a local date begins and ends (23 or 25 hours on change days)."""
    start = dt.datetime.combine(day, dt.time(0), tzinfo=_zone)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=_zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def format_local(moment: dt.datetime | None, pattern: str = "%a %d %b %Y, %H:%M") -> str:
    if moment is None:
        return ""
    return to_local(moment).strftime(pattern)


def format_minutes(minutes: int | None) -> str:
    """90 -> '1 hour 30 minutes'; 0 -> 'None'."""
    if not minutes:
        return "None"
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = [
        f"{n} {unit}{'' if n == 1 else 's'}"
        for n, unit in ((days, "day"), (hours, "hour"), (mins, "minute"))
        if n
    ]
    return " ".join(parts)


def format_day(day: dt.date) -> str:
    """15 Dec 2026: how dates read in e-mails and messages."""
    return f"{day.day} {day:%b %Y}"
