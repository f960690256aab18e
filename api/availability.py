"""An asset's availability in the JSON API: the time its bookings and maintenance hold it, and
the free time within its bookable hours, in a window.

Thin, like the pages: the conflicts and opening hours come from ``bookings.rules``.
"""

from __future__ import annotations

import datetime as dt

from api import api_v1
from api import examples as ex
from api.auth import api_user
from api.params import Param, read_query, times
from api.schemas import ref
from api.spec import Example, documented
from bookings.rules import conflicts_for, opening_intervals
from core.db import db, utcnow
from core.errors import InvalidInput
from core.timeutil import to_local
from inventory.models import AssetStatus
from inventory.service import get_asset

# --- Availability -----------------------------------------------------------------------------

MAX_WINDOW = dt.timedelta(days=92)
AVAILABILITY_QUERY = (
    Param("from", "datetime", "Start of the window (default: now).", example="2030-01-08T00:00"),
    Param(
        "to",
        "datetime",
        "End of the window (default: a week after from; at most 92 days after it).",
        example="2030-01-09T00:00",
    ),
)


def _subtract(
    intervals: list[tuple[dt.datetime, dt.datetime]], taken: list[tuple[dt.datetime, dt.datetime]]
) -> list[tuple[dt.datetime, dt.datetime]]:
    """What is left of ``intervals`` once every ``taken`` interval is removed."""
    for taken_start, taken_end in taken:
        remaining = []
        for start, end in intervals:
            if taken_end <= start or taken_start >= end:
                remaining.append((start, end))
                continue
            if start < taken_start:
                remaining.append((start, taken_start))
            if taken_end < end:
                remaining.append((taken_end, end))
        intervals = remaining
    return intervals


@api_v1.get("/assets/<asset_id>/availability")
@documented(
    operation_id="getAssetAvailability",
    summary="An asset's availability",
    description="In a window: the time active bookings hold it (their turnaround included), its maintenance, "
    "and the free time within its bookable hours. Who holds a booking is shown only to its holder and to "
    "managers of the asset's School.",
    tag="Assets",
    path_params={"asset_id": "The asset's id."},
    query=AVAILABILITY_QUERY,
    response=ref("Availability"),
    errors=(422,),
    examples=(
        Example(
            "tuesday",
            "The microscope on Tuesday 8 January 2030",
            200,
            path={"asset_id": 1},
            query={"from": "2030-01-08T00:00", "to": "2030-01-09T00:00"},
            response=ex.AVAILABILITY,
        ),
    ),
)
def asset_availability(asset_id: int):
    args = read_query(AVAILABILITY_QUERY)
    user = api_user()
    asset = get_asset(db.session, asset_id)
    now = utcnow()
    start = args.get("from", now)
    end = args.get("to", start + dt.timedelta(days=7))
    if end <= start:
        raise InvalidInput(field_errors={"to": ["The end of the window must be after its start."]})
    if end - start > MAX_WINDOW:
        raise InvalidInput(field_errors={"to": ["Ask for at most 92 days at a time."]})
    conflicts = conflicts_for(db.session, user, asset, start, end)
    bookings = [c for c in conflicts if c.kind == "booking"]
    windows = [c for c in conflicts if c.kind == "maintenance"]
    bookable = asset.bookable and asset.status == AssetStatus.AVAILABLE
    free: list[tuple[dt.datetime, dt.datetime]] = []
    if bookable:
        earliest = max(start, now + dt.timedelta(minutes=asset.min_notice_minutes))
        opening = opening_intervals(
            asset, to_local(start).date() - dt.timedelta(days=1), to_local(end).date()
        )
        free = [(max(s, earliest), min(e, end)) for s, e in opening if e > earliest and s < end]
        # A new booking must leave its own turnaround before the next booking starts.
        turnaround = dt.timedelta(minutes=asset.turnaround_minutes)
        taken = [(c.start_at - turnaround, c.end_at) for c in bookings] + [
            (w.start_at, w.end_at) for w in windows
        ]
        free = [(s, e) for s, e in _subtract(free, taken) if s < e]
    return {
        "asset_id": asset.id,
        **times(**{"from": start, "to": end}),
        "bookable": bookable,
        "busy": [
            {**times(start=c.start_at, end=c.end_at), "booking_id": c.booking_id, "holder": c.holder}
            for c in bookings
            if c.start_at < end and c.end_at > start
        ],
        "maintenance": [times(start=w.start_at, end=w.end_at) for w in windows],
        "free": [times(start=s, end=e) for s, e in free],
    }
