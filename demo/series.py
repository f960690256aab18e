"""The demo's weekly series: teaching laboratories booked the same hours each week."""

from __future__ import annotations

import calendar
import datetime as dt
import random

from accounts.models import User
from bookings.models import Booking, BookingSeries, BookingStatus
from core.timeutil import local_to_utc, to_local
from demo.bookings import bookable_until, is_free, new_booking
from demo.world import TEXTS, Kit, People
from inventory.models import Asset, MaintenanceWindow

# --- Weekly series --------------------------------------------------------------------------------

#: Kit a teaching laboratory books for the same two hours every week, and what for.
SERIES_KIT = TEXTS["series_kit"]
SERIES_COUNT = 4
SERIES_WEEKS = 6
SERIES_LENGTH = dt.timedelta(hours=2)
SERIES_STARTS = (dt.time(9), dt.time(10), dt.time(11), dt.time(13), dt.time(14), dt.time(15))
SERIES_MADE_DAYS_AGO = (1, 10)


def draw_series(
    rng: random.Random,
    register: list[tuple[Kit, Asset]],
    bookings_of: dict[str, list[Booking]],
    windows_of: dict[str, list[MaintenanceWindow]],
    trained_of: dict[str, list[User]],
    people: People,
    now: dt.datetime,
) -> list[tuple[Asset, BookingSeries]]:
    """Teaching laboratories' weekly practicals on teaching kit, one per School: the same two hours
    every week for six weeks from the coming week, booked in one go a few days ago by one of the
    School's own people (so confirmed at once). A practical takes a weekday and time at which all
    six sessions are within the asset's hours and clear of its bookings and maintenance."""
    today = to_local(now).date()
    candidates = [
        (kit, asset)
        for kit, asset in register
        if kit.model in SERIES_KIT
        and asset.bookable
        and not asset.requires_approval
        and bookable_until(asset, now) == now
    ]
    rng.shuffle(candidates)
    made: list[tuple[Asset, BookingSeries]] = []
    schools: set[int] = set()
    for kit, asset in candidates:
        if len(made) == SERIES_COUNT:
            break
        if asset.school_id in schools:
            continue
        times = [(weekday, time) for weekday in range(calendar.SATURDAY) for time in SERIES_STARTS]
        rng.shuffle(times)
        for weekday, time in times:
            first_day = today + dt.timedelta(days=(weekday - today.weekday() - 1) % 7 + 1)
            days = [first_day + dt.timedelta(weeks=week) for week in range(SERIES_WEEKS)]
            starts = [dt.datetime.combine(day, time) for day in days]
            slots = [(local_to_utc(start), local_to_utc(start + SERIES_LENGTH)) for start in starts]
            if all(is_free(asset, slot, bookings_of[asset.tag], windows_of[asset.tag]) for slot in slots):
                break
        else:
            continue
        trained = trained_of.get(asset.tag, people.members[asset.school_id])
        requester = rng.choice([user for user in trained if user.home_school_id == asset.school_id])
        ago = dt.timedelta(days=rng.randint(*SERIES_MADE_DAYS_AGO), minutes=rng.randrange(0, 600, 5))
        made_at = now - ago
        series = BookingSeries(
            requester_id=requester.id,
            asset_id=asset.id,
            description=f"Weekly, {SERIES_WEEKS} times",
            created_at=made_at,
            bookings=[
                new_booking(asset, requester, slot, SERIES_KIT[kit.model], BookingStatus.CONFIRMED, made_at)
                for slot in slots
            ],
        )
        made.append((asset, series))
        schools.add(asset.school_id)
    return made
