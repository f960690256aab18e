"""The demo's bookings: drawn in office hours over the year around today, played out to the
status each would have reached (decided, checked in, lent and returned, cancelled, no-show),
written in bulk; and the maintenance windows no booking overlaps.
"""

from __future__ import annotations

import calendar
import datetime as dt
import random
from collections.abc import Iterator, Sequence

from sqlalchemy import func, insert, select, text
from sqlalchemy import inspect as sa_inspect

from accounts.models import User
from bookings.models import Booking, BookingStatus, BookingStatusChange
from bookings.rules import within_bookable_hours
from bookings.service import change_status
from core.timeutil import local_to_utc, to_local
from demo.world import (
    ASKED_BEFORE_IT_CLOSED,
    BOOKING_MINUTES,
    CANCELLATION_REASONS,
    CANCELLED_SHARE,
    COMPLETED_REASON,
    CROSS_SCHOOL_SHARE,
    DAILY_USE_CHANCES,
    FUTURE_DAYS,
    HANDOVER_CONDITIONS,
    LIVE_STATUSES,
    MAX_BOOKINGS_PER_DAY,
    MAX_LEAD_DAYS,
    NO_SHOW_AFTER,
    NO_SHOW_REASON,
    NO_SHOW_SHARE,
    OFFICE_CLOSES,
    OFFICE_OPENS,
    OFFICE_WEEK_HOURS,
    PAST_DAYS,
    REJECTED_SHARE,
    REJECTION_REASONS,
    RETURN_CONDITIONS,
    SHOWCASE,
    SHOWCASE_BOOKING_MINUTES,
    START_DELAYS_MINUTES,
    STILL_PENDING_SHARE,
    TEXTS,
    People,
    Run,
)
from inventory.models import Asset, AssetStatus, MaintenanceWindow

# --- Maintenance windows --------------------------------------------------------------------------

SERVICE_VISIT_CHANCE = 0.1  # of available assets
SERVICE_VISIT_DAYS = range(5, 101)  # how far before or after today
SERVICE_VISIT_HOURS = (dt.time(8), dt.time(18))
SERVICE_REASONS = TEXTS["service_reasons"]


def add_bookings(run: Run, bookings: list[Booking]) -> None:
    """Insert the bookings, then their history, each with one bulk INSERT.

    The history is imported, not lived: written past the booking commands, it tells nobody (only
    the commands call ``bookings.notices``), which would otherwise e-mail the demo people about
    months of bookings, and written past the unit of work, it does not wake the audit log,
    which would date a year of made-up bookings today. (Inserting them one object at a time
    was also most of the seed's time.) Each booking is given the id the database chose.
    """
    if not bookings:
        return
    columns = [attr.columns[0] for attr in sa_inspect(Booking).column_attrs if attr.key != "id"]
    rows = []
    for booking in bookings:
        row = {}
        for column in columns:
            value = getattr(booking, column.key)
            if value is None and column.default is not None and column.default.is_scalar:
                value = column.default.arg
            row[column.key] = value
        rows.append(row)
    # Numbered here (RETURNING the ids in order makes SQLite insert them one at a time).
    first_id = (run.session.scalar(select(func.max(Booking.id))) or 0) + 1
    steps = []
    for booking_id, (booking, row) in enumerate(zip(bookings, rows, strict=True), start=first_id):
        booking.id = row["id"] = booking_id
        steps.append((booking_id, booking.history))
    connection = run.session.connection()  # Core: the ORM's bulk path costs more than the INSERT
    connection.execute(insert(Booking.__table__), rows)
    if run.session.get_bind().dialect.name == "postgresql":  # the sequence goes on after them
        run.session.execute(
            text("SELECT setval(pg_get_serial_sequence('bookings', 'id'), (SELECT max(id) FROM bookings))")
        )
    run.created += len(bookings)
    rows = [
        {
            "booking_id": booking_id,
            "from_status": step.from_status,
            "to_status": step.to_status,
            "by_id": step.by.id if step.by is not None else None,
            "at": step.at,
            "reason": step.reason,
        }
        for booking_id, history in steps
        for step in history
    ]
    if rows:
        connection.execute(insert(BookingStatusChange.__table__), rows)
        run.created += len(rows)


def draw_maintenance(
    rng: random.Random, asset: Asset, people: People, now: dt.datetime
) -> list[MaintenanceWindow]:
    """A window around today for kit under maintenance; a past or future service visit for some
    available kit."""
    today = to_local(now).date()
    opens, closes = SERVICE_VISIT_HOURS
    if asset.status == AssetStatus.MAINTENANCE:
        first = to_local(asset.status_changed_at).date()
        last = today + dt.timedelta(days=rng.randint(7, 20))
        reason = asset.status_reason
    elif asset.status == AssetStatus.AVAILABLE and rng.random() < SERVICE_VISIT_CHANCE:
        first = today + dt.timedelta(days=rng.choice(SERVICE_VISIT_DAYS) * rng.choice((-1, 1)))
        last = first + dt.timedelta(days=rng.randint(0, 1))
        reason = rng.choice(SERVICE_REASONS)
    else:
        return []
    start_at = local_to_utc(dt.datetime.combine(first, opens))
    return [
        MaintenanceWindow(
            asset_id=asset.id,
            start_at=start_at,
            end_at=local_to_utc(dt.datetime.combine(last, closes)),
            reason=reason,
            created_by_id=rng.choice(people.managers[asset.school_id]).id,
            created_at=min(start_at - dt.timedelta(days=14), now),
        )
    ]


def draw_bookings(
    rng: random.Random,
    asset: Asset,
    windows: Sequence[MaintenanceWindow],
    purposes: Sequence[str],
    people: People,
    trained: Sequence[User] | None,
    now: dt.datetime,
) -> list[Booking]:
    """The asset's bookings, by the people trained on it if it needs training (``trained``)."""
    if not asset.bookable or asset.status == AssetStatus.RETIRED:
        return []
    today = to_local(now).date()
    first = today - dt.timedelta(days=PAST_DAYS)
    last = today + dt.timedelta(days=FUTURE_DAYS)
    if asset.status == AssetStatus.OUT_OF_SERVICE:  # it broke a few days ago
        last = to_local(asset.status_changed_at).date() - dt.timedelta(days=1)
    showcase = SHOWCASE.get(asset.tag)
    slots = (
        _draw_full_days(rng, asset, windows, first, last, showcase.use)
        if showcase is not None and showcase.full_days
        else _draw_slots(rng, asset, windows, first, last, showcase.use if showcase else None)
    )
    return [_draw_booking(rng, asset, slot, purposes, people, trained, now) for slot in slots]


def _draw_slots(
    rng: random.Random,
    asset: Asset,
    windows: Sequence[MaintenanceWindow],
    first: dt.date,
    last: dt.date,
    use_chance: float | None = None,
) -> Iterator[tuple[dt.datetime, dt.datetime]]:
    """Booked (start, end) times in UTC, on weekdays in office hours, from ``first`` to ``last``,
    on a share of days drawn from DAILY_USE_CHANCES (or ``use_chance``).

    Each booking starts once the one before it and its turnaround are over, so that no two
    overlap on [start, end + turnaround); none touches a maintenance window.
    """
    drawn_chance = rng.choice(DAILY_USE_CHANCES)
    if use_chance is None:  # kit open longer than office hours is booked on more of its weekdays
        open_hours = sum(_hours_between(hours.opens, hours.closes) for hours in asset.bookable_hours)
        use_chance = min(1.0, drawn_chance * max(1.0, open_hours / OFFICE_WEEK_HOURS))
    turnaround = dt.timedelta(minutes=asset.turnaround_minutes)
    longest = min(BOOKING_MINUTES[-1], asset.max_booking_minutes or BOOKING_MINUTES[-1])
    lengths = [minutes for minutes in BOOKING_MINUTES if minutes <= longest]
    for day in each_day(first, last):
        if day.weekday() >= calendar.SATURDAY or rng.random() >= use_chance:
            continue
        free_from = dt.datetime.combine(day, OFFICE_OPENS)
        closes = dt.datetime.combine(day, OFFICE_CLOSES)
        for _ in range(rng.randint(1, MAX_BOOKINGS_PER_DAY)):
            start = free_from + dt.timedelta(minutes=rng.choice(START_DELAYS_MINUTES))
            end = start + dt.timedelta(minutes=rng.choice(lengths))
            if end > closes:
                break
            free_from = _next_half_hour(end + turnaround)
            start_at, end_at = local_to_utc(start), local_to_utc(end)
            if not any(_overlaps(window, start_at, end_at + turnaround) for window in windows):
                yield start_at, end_at


def _hours_between(opens: dt.time, closes: dt.time) -> float:
    length = dt.datetime.combine(dt.date.min, closes) - dt.datetime.combine(dt.date.min, opens)
    return length.total_seconds() / 3600


def _draw_full_days(
    rng: random.Random,
    asset: Asset,
    windows: Sequence[MaintenanceWindow],
    first: dt.date,
    last: dt.date,
    use_chance: float,
) -> Iterator[tuple[dt.datetime, dt.datetime]]:
    """Booked (start, end) times in UTC of kit in demand: on ``use_chance`` of its open weekdays,
    back to back from opening to closing (its hours are office hours, with no turnaround)."""
    for day in each_day(first, last):
        if day.weekday() >= calendar.SATURDAY or rng.random() >= use_chance:
            continue
        start = dt.datetime.combine(day, OFFICE_OPENS)
        closes = dt.datetime.combine(day, OFFICE_CLOSES)
        while start < closes:
            end = min(start + dt.timedelta(minutes=rng.choice(SHOWCASE_BOOKING_MINUTES)), closes)
            start_at, end_at = local_to_utc(start), local_to_utc(end)
            if not any(_overlaps(window, start_at, end_at) for window in windows):
                yield start_at, end_at
            start = end


def _overlaps(window: MaintenanceWindow, start_at: dt.datetime, end_at: dt.datetime) -> bool:
    return window.start_at < end_at and start_at < window.end_at


def each_day(first: dt.date, last: dt.date) -> Iterator[dt.date]:
    for offset in range((last - first).days + 1):
        yield first + dt.timedelta(days=offset)


def _next_half_hour(moment: dt.datetime) -> dt.datetime:
    past = dt.timedelta(minutes=moment.minute % 30, seconds=moment.second, microseconds=moment.microsecond)
    return moment if not past else moment - past + dt.timedelta(minutes=30)


def _draw_booking(
    rng: random.Random,
    asset: Asset,
    slot: tuple[dt.datetime, dt.datetime],
    purposes: Sequence[str],
    people: People,
    trained: Sequence[User] | None,
    now: dt.datetime,
) -> Booking:
    """A booking of the slot by someone, with the life it has had up to ``now``."""
    start_at, end_at = slot
    requester = _draw_requester(rng, asset, people, trained)
    manager = rng.choice(people.managers[asset.school_id])
    made_at = min(
        start_at - dt.timedelta(days=rng.randint(1, MAX_LEAD_DAYS), minutes=rng.randrange(0, 600, 5)),
        now - dt.timedelta(minutes=rng.randrange(30, 3 * 24 * 60, 5)),
        bookable_until(asset, now) - ASKED_BEFORE_IT_CLOSED,
    )
    needs_approval = asset.requires_approval or requester.home_school_id != asset.school_id
    first_status = BookingStatus.PENDING if needs_approval else BookingStatus.CONFIRMED
    booking = new_booking(asset, requester, slot, rng.choice(purposes), first_status, made_at)
    if needs_approval:
        _decide(rng, booking, people.decider(asset.school_id, manager, requester), now)
    if booking.status == BookingStatus.CONFIRMED:
        _play_out(rng, asset, booking, requester, manager, now)
    booking.updated_at = booking.history[-1].at
    return booking


def new_booking(
    asset: Asset,
    requester: User,
    slot: tuple[dt.datetime, dt.datetime],
    purpose: str,
    status: BookingStatus,
    made_at: dt.datetime,
) -> Booking:
    """A booking of the slot as it was asked for at ``made_at``, pending or confirmed at once."""
    start_at, end_at = slot
    return Booking(
        asset_id=asset.id,
        requester_id=requester.id,
        requester_school_id=requester.home_school_id,
        start_at=start_at,
        end_at=end_at,
        blocked_until=end_at + dt.timedelta(minutes=asset.turnaround_minutes),
        purpose=purpose,
        status=status,
        created_at=made_at,
        updated_at=made_at,
        # Rows that name the same columns can be inserted in one batch: name them all, always.
        decided_by_id=None,
        decided_at=None,
        decision_reason="",
        series_id=None,
        history=[
            BookingStatusChange(from_status=None, to_status=status, by=requester, at=made_at, reason="")
        ],
    )


def bookable_until(asset: Asset, now: dt.datetime) -> dt.datetime:
    """Until when the rules let people ask for the asset: until its status changed, if it is not
    available; until its inspection became overdue, if that refuses bookings; else until now."""
    until = now
    if asset.status != AssetStatus.AVAILABLE:
        until = min(until, asset.status_changed_at)
    if asset.block_when_inspection_overdue:
        overdue_from = [schedule.next_due_on + dt.timedelta(days=1) for schedule in asset.inspections]
        until = min(until, *(local_to_utc(dt.datetime.combine(day, dt.time())) for day in overdue_from))
    return until


def _draw_requester(rng: random.Random, asset: Asset, people: People, trained: Sequence[User] | None) -> User:
    """Anyone of the School or, for shared kit, now and then someone of another; only the people
    trained on it (``trained``), for kit that needs training."""
    members, outsiders = people.members[asset.school_id], people.outsiders(asset.school_id)
    if trained is not None:
        members = [user for user in trained if user.home_school_id == asset.school_id]
        outsiders = [user for user in trained if user.home_school_id != asset.school_id]
    showcase = SHOWCASE.get(asset.tag)
    borrowed = showcase.borrowed if showcase is not None else True
    if asset.shareable and outsiders and rng.random() < CROSS_SCHOOL_SHARE and borrowed:
        return rng.choice(outsiders)
    return rng.choice(members)


def _decide(rng: random.Random, booking: Booking, manager: User, now: dt.datetime) -> None:
    """A manager approves or rejects a pending booking, unless it is still in the future and waiting."""
    if booking.start_at > now and rng.random() < STILL_PENDING_SHARE:
        return
    decided_at = moment_between(rng, booking.created_at, min(booking.start_at, now))
    booking.decided_by_id, booking.decided_at = manager.id, decided_at
    if rng.random() < REJECTED_SHARE:
        booking.decision_reason = rng.choice(REJECTION_REASONS)
        change_status(booking, BookingStatus.REJECTED, manager, booking.decision_reason, at=decided_at)
    else:
        change_status(booking, BookingStatus.CONFIRMED, manager, at=decided_at)


def _play_out(
    rng: random.Random, asset: Asset, booking: Booking, requester: User, manager: User, now: dt.datetime
) -> None:
    """What became of a confirmed booking by ``now``: cancelled, missed, completed, under way or
    still ahead. Lent-out kit was handed over and returned, and bench kit that asks for it was
    checked in (the reports' actual use)."""
    confirmed_at = booking.history[-1].at
    outcome = rng.random()
    if outcome < CANCELLED_SHARE:
        reason = rng.choice(CANCELLATION_REASONS)
        at = moment_between(rng, confirmed_at, min(booking.start_at, now))
        change_status(booking, BookingStatus.CANCELLED, requester, reason, at=at)
    elif booking.start_at <= now and outcome < CANCELLED_SHARE + NO_SHOW_SHARE:
        if booking.end_at <= now:
            missed_at = booking.start_at + NO_SHOW_AFTER
            change_status(booking, BookingStatus.NO_SHOW, manager, NO_SHOW_REASON, at=missed_at)
    elif booking.start_at <= now and (asset.portable or asset.checkin_required):
        _take_custody(rng, asset, booking, requester, manager, now)
    elif booking.end_at <= now:
        change_status(booking, BookingStatus.COMPLETED, None, COMPLETED_REASON, at=booking.end_at)


def _take_custody(
    rng: random.Random, asset: Asset, booking: Booking, requester: User, manager: User, now: dt.datetime
) -> None:
    """A booking that has started, of kit lent out (handed over a little before its start and
    returned a little before its end) or checked in at the bench (a few minutes either side of
    its start): checked out, and completed if its time is over."""
    if asset.portable:
        handed_at = min(booking.start_at - dt.timedelta(minutes=rng.randrange(0, 45, 5)), now)
        booking.handed_over_at, booking.handed_over_by_id = handed_at, manager.id
        booking.handover_condition = rng.choice(HANDOVER_CONDITIONS)
        change_status(booking, BookingStatus.CHECKED_OUT, manager, "Handed over.", at=handed_at)
        returned_at = booking.end_at - dt.timedelta(minutes=rng.randrange(0, 35, 5))
        if returned_at <= now:
            booking.returned_at, booking.returned_to_id = returned_at, manager.id
            booking.return_condition = rng.choice(RETURN_CONDITIONS)
            change_status(booking, BookingStatus.COMPLETED, manager, "Returned.", at=returned_at)
        return
    checked_in_at = min(booking.start_at + dt.timedelta(minutes=rng.randrange(-10, 25, 5)), now)
    booking.checked_in_at = checked_in_at
    change_status(booking, BookingStatus.CHECKED_OUT, requester, "Checked in.", at=checked_in_at)
    if booking.end_at <= now:
        change_status(booking, BookingStatus.COMPLETED, None, COMPLETED_REASON, at=booking.end_at)


def moment_between(rng: random.Random, earliest: dt.datetime, latest: dt.datetime) -> dt.datetime:
    """A moment somewhere between two others, a whole number of minutes after the first."""
    minutes = (latest - earliest).total_seconds() / 60
    return earliest + dt.timedelta(minutes=round(minutes * rng.uniform(0.1, 0.9)))


def is_free(
    asset: Asset,
    slot: tuple[dt.datetime, dt.datetime],
    bookings: Sequence[Booking],
    windows: Sequence[MaintenanceWindow],
) -> bool:
    """Whether the slot is open and clear, with its turnaround, of the asset's other live bookings
    (pending ones too: a manager would not approve a clash) and of its maintenance windows."""
    return within_bookable_hours(asset, *slot) and is_clear(asset, slot, bookings, windows)


def is_clear(
    asset: Asset,
    slot: tuple[dt.datetime, dt.datetime],
    bookings: Sequence[Booking],
    windows: Sequence[MaintenanceWindow],
) -> bool:
    start_at, end_at = slot
    blocked_until = end_at + dt.timedelta(minutes=asset.turnaround_minutes)
    return not any(
        booking.status in LIVE_STATUSES
        and booking.start_at < blocked_until
        and start_at < booking.blocked_until
        for booking in bookings
    ) and not any(_overlaps(window, start_at, blocked_until) for window in windows)
