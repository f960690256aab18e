"""An asset's availability in the JSON API: the time its bookings and maintenance hold it, and
the free time within its bookable hours, in a window.

Thin, like the pages: busy and free time come from ``bookings.availability``, who may see a
holder from ``bookings.policy``.
"""

from __future__ import annotations

import datetime as dt

from api import api_v1
from api import examples as ex
from api.auth import api_user
from api.params import Param, read_query, times
from api.representation import ref
from api.spec import Example, documented
from bookings.availability import (
    BOOKING,
    MAINTENANCE,
    Interval,
    blocked_until,
    busy_intervals,
    clip,
    free_intervals,
    opening_around,
    overlaps,
    turnaround_of,
)
from bookings.policy import may_see_holder
from core.db import db, utcnow
from core.errors import InvalidInput
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
    # Bookings starting just after the window still count: a booking ending in it must leave
    # its turnaround before them.
    busy = busy_intervals(db.session, asset, start, blocked_until(asset, end), load_bookings=True)
    bookings = [b for b in busy if b.kind == BOOKING]
    windows = [b for b in busy if b.kind == MAINTENANCE and overlaps(b.interval, (start, end))]
    bookable = asset.bookable and asset.status == AssetStatus.AVAILABLE
    free: list[Interval] = []
    if bookable:
        earliest = max(start, now + dt.timedelta(minutes=asset.min_notice_minutes))
        opening = clip(opening_around(asset, start, end), (earliest, end))
        free = free_intervals(opening, busy, turnaround_of(asset))
    return {
        "asset_id": asset.id,
        **times(**{"from": start, "to": end}),
        "bookable": bookable,
        "busy": [
            {
                **times(start=b.start_at, end=b.end_at),
                "booking_id": b.booking_id,
                "holder": b.booking.requester.name if may_see_holder(user, b.booking) else None,
            }
            for b in bookings
            if overlaps(b.interval, (start, end))
        ],
        "maintenance": [times(start=w.start_at, end=w.end_at) for w in windows],
        "free": [times(start=s, end=e) for s, e in free],
    }
