"""The demo's unmet demand: every rejected booking, and requests the rules refused (notice,
training, hours, and for the showcase, time already booked).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence

from accounts.models import User
from bookings.models import Booking, BookingStatus, DemandSource, UnmetDemand
from bookings.rules import within_bookable_hours
from core.timeutil import local_to_utc, to_local
from demo.bookings import bookable_until, is_clear, is_free, moment_between
from demo.training import is_trained
from demo.world import (
    BOOKING_MINUTES,
    HELD_STATUSES,
    MAX_LEAD_DAYS,
    OFFICE_OPENS,
    PAST_DAYS,
    SHOWCASE,
    START_DELAYS_MINUTES,
    TURNED_AWAY_EACH,
    Kit,
    People,
)
from inventory.models import Asset, MaintenanceWindow, TrainingAuthorisation

# --- Unmet demand ---------------------------------------------------------------------------------

REFUSED_COUNT = 60
BUSIEST_ASSETS = 8
BUSIEST_SHARE = 0.8  # of refused requests, aimed at the busiest kit
#: Why requests were refused, as often as each happens (rule codes of bookings.rules). None of
#: these is for want of free time: only the SHOWCASE's kit turns people away for that.
REFUSAL_REASONS = ("min_notice", "training", "outside_hours")
TURNED_AWAY_MINUTES = 120  # the shortest request refused for want of free time
OUTSIDE_HOURS_STARTS = (dt.time(18), dt.time(19), dt.time(20))  # no demo kit is open after 20:00
REFUSAL_TRIES = 50  # assets tried for each reason, before giving that refusal up
MIN_NOTICE_REFUSABLE_MINUTES = 30  # a shorter notice is rarely what refuses a request
OFFSETS_FROM_BOOKING_MINUTES = (-60, -30, 0, 30, 60)  # a clashing request's start, from the booking's


def draw_refusals(
    rng: random.Random,
    register: list[tuple[Kit, Asset]],
    bookings_of: dict[str, list[Booking]],
    windows_of: dict[str, list[MaintenanceWindow]],
    grants: Sequence[tuple[Asset | None, TrainingAuthorisation]],
    people: People,
    now: dt.datetime,
) -> list[tuple[Asset, UnmetDemand]]:
    """Requests the booking rules refused over the past year: of ordinary kit, mostly the busiest,
    for too little notice, missing training or outside its hours (none of which says the kit is
    short of time); of the SHOWCASE's kit, for the time being booked already (its people turned
    away) or for not being open to other Schools. Each breaks exactly the rule it is recorded for."""
    since = now - dt.timedelta(days=PAST_DAYS)
    used_hours = {
        asset.tag: sum(
            booking.hours
            for booking in bookings_of[asset.tag]
            if booking.status in HELD_STATUSES and since <= booking.start_at < now
        )
        for _, asset in register
    }
    used = sorted(
        (asset for _, asset in register if used_hours[asset.tag] and asset.tag not in SHOWCASE),
        key=lambda a: -used_hours[a.tag],
    )
    busiest, others = used[:BUSIEST_ASSETS], used[BUSIEST_ASSETS:]
    refusals = []
    for _ in range(REFUSED_COUNT):
        reason = rng.choice(REFUSAL_REASONS)
        for _ in range(REFUSAL_TRIES):  # not every asset can be refused for every reason at any time
            if rng.random() < BUSIEST_SHARE:
                asset = rng.choices(busiest, weights=[used_hours[asset.tag] for asset in busiest])[0]
            else:
                asset = rng.choice(others)
            request = _draw_refusal(
                rng, asset, reason, bookings_of[asset.tag], windows_of[asset.tag], grants, people, now
            )
            if request is not None:
                refusals.append((asset, _refusal(asset, reason, *request)))
                break
    for _, asset in register:
        showcase = SHOWCASE.get(asset.tag)
        if showcase is None:
            continue
        for reason, names in (("overlap", showcase.turned_away), ("not_shared", showcase.asked_from_outside)):
            for name in names:
                for _ in range(TURNED_AWAY_EACH):
                    for _ in range(REFUSAL_TRIES):
                        request = _draw_refusal(
                            rng,
                            asset,
                            reason,
                            bookings_of[asset.tag],
                            windows_of[asset.tag],
                            grants,
                            people,
                            now,
                            askers=[people.named[name]],
                            shortest=TURNED_AWAY_MINUTES,
                        )
                        if request is not None:
                            refusals.append((asset, _refusal(asset, reason, *request)))
                            break
    return refusals


def rejection(asset: Asset, booking: Booking) -> UnmetDemand:
    """A rejected booking as the bookings service records it: when the manager decided."""
    return UnmetDemand(
        asset_id=asset.id,
        requester_id=booking.requester_id,
        requester_school_id=booking.requester_school_id,
        start_at=booking.start_at,
        end_at=booking.end_at,
        minutes=_whole_minutes(booking.start_at, booking.end_at),
        source=DemandSource.REJECTED,
        reasons=["rejected"],
        booking_id=booking.id,
        created_at=booking.decided_at,
    )


def _refusal(
    asset: Asset, reason: str, requester: User, slot: tuple[dt.datetime, dt.datetime], asked_at: dt.datetime
) -> UnmetDemand:
    start_at, end_at = slot
    return UnmetDemand(
        asset_id=asset.id,
        requester_id=requester.id,
        requester_school_id=requester.home_school_id,
        start_at=start_at,
        end_at=end_at,
        minutes=_whole_minutes(start_at, end_at),
        source=DemandSource.REFUSED,
        reasons=[reason],
        booking_id=None,
        created_at=asked_at,
    )


def _whole_minutes(start_at: dt.datetime, end_at: dt.datetime) -> int:
    return int((end_at - start_at).total_seconds() // 60)


def _draw_refusal(
    rng: random.Random,
    asset: Asset,
    reason: str,
    bookings: Sequence[Booking],
    windows: Sequence[MaintenanceWindow],
    grants: Sequence[tuple[Asset | None, TrainingAuthorisation]],
    people: People,
    now: dt.datetime,
    askers: Sequence[User] | None = None,
    shortest: int = BOOKING_MINUTES[0],
) -> tuple[User, tuple[dt.datetime, dt.datetime], dt.datetime] | None:
    """A request for ``asset`` that the booking rules refused for ``reason`` and no other rule: who
    asked (one of ``askers``, by default anyone who may book it), for which slot, and when. None
    when the draw cannot have been refused so."""
    longest = min(BOOKING_MINUTES[-1], asset.max_booking_minutes or BOOKING_MINUTES[-1])
    lengths = [minutes for minutes in BOOKING_MINUTES if shortest <= minutes <= longest]
    length = dt.timedelta(minutes=rng.choice(lengths))
    notice = dt.timedelta(minutes=asset.min_notice_minutes)
    ahead = dt.timedelta(days=rng.randint(1, MAX_LEAD_DAYS), minutes=rng.randrange(0, 600, 5))
    day = to_local(now).date() - dt.timedelta(days=rng.randint(1, PAST_DAYS))
    not_asked_by = None
    if reason == "overlap":  # someone else had it then
        held = [booking for booking in bookings if booking.status in HELD_STATUSES and booking.start_at < now]
        if not held:
            return None
        taken = rng.choice(held)
        start_at = taken.start_at + dt.timedelta(minutes=rng.choice(OFFSETS_FROM_BOOKING_MINUTES))
        slot = (start_at, start_at + length)
        confirmed_at = next(step.at for step in taken.history if step.to_status == BookingStatus.CONFIRMED)
        if not (slot[0] < taken.blocked_until and taken.start_at < slot[1]):
            return None  # it would not have clashed
        if not within_bookable_hours(asset, *slot) or not is_clear(asset, slot, [], windows):
            return None
        if start_at - notice <= confirmed_at:
            return None
        asked_at = moment_between(rng, confirmed_at, start_at - notice)
        not_asked_by = taken.requester_id
    elif reason == "outside_hours":  # in the evening, when the room is locked
        times = list(OUTSIDE_HOURS_STARTS)
        rng.shuffle(times)
        starts = [local_to_utc(dt.datetime.combine(day, time)) for time in times]
        slots = [(start, start + length) for start in starts]
        closed = [slot for slot in slots if not within_bookable_hours(asset, *slot)]
        if not closed or not is_clear(asset, closed[0], bookings, windows):
            return None
        slot = closed[0]
        asked_at = slot[0] - notice - ahead
    else:  # a free slot in office hours, asked for too late, or by someone untrained
        start_at = local_to_utc(dt.datetime.combine(day, OFFICE_OPENS))
        start_at += dt.timedelta(minutes=rng.choice(START_DELAYS_MINUTES))
        slot = (start_at, start_at + length)
        if not is_free(asset, slot, bookings, windows):
            return None
        if reason == "min_notice":
            if asset.min_notice_minutes < MIN_NOTICE_REFUSABLE_MINUTES:
                return None
            asked_at = start_at - dt.timedelta(minutes=rng.randint(5, asset.min_notice_minutes - 5))
        elif reason == "not_shared":
            if asset.shareable:
                return None
            asked_at = start_at - notice - ahead
        elif asset.training_required:
            asked_at = start_at - notice - ahead
        else:
            return None
    if asked_at >= bookable_until(asset, now):
        return None  # it would have been refused as unavailable, or for an overdue inspection, too
    asked_on = to_local(asked_at).date()
    if askers is None:
        outsiders = people.outsiders(asset.school_id) if asset.shareable else []
        askers = people.members[asset.school_id] + outsiders
    askers = [
        user
        for user in askers
        if user.id != not_asked_by and is_trained(grants, asset, user, asked_on) == (reason != "training")
    ]
    if not askers:
        return None
    return rng.choice(askers), slot, asked_at
