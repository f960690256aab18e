"""A booking's life: request, approval or rejection, cancellation, completion.

Every command here (request, series, approve, reject, cancel, complete) is one unit of work of
its own (``core.db.atomic``), the rule ``core/db.py`` states for every command: callers call it
bare, and it has committed all of its changes, or none, when it returns. For a request it is
also what makes the check and the write happen together, and lets a refusal be recorded as unmet
demand after the refused write is rolled back. ``change_status`` and ``record_unmet_demand`` are
steps inside a command's unit, not commands.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from accounts.models import User
from accounts.permissions import require_school_manager
from bookings import notices
from bookings.availability import blocked_until
from bookings.models import (
    ACTIVE_STATUSES,
    Booking,
    BookingSeries,
    BookingStatus,
    BookingStatusChange,
    DemandSource,
    UnmetDemand,
)
from bookings.policy import may_see_holder
from bookings.rules import (
    BookingRefused,
    Occurrence,
    SeriesRefused,
    Slot,
    Violation,
    check_booking,
    conflicts_for,
    next_free_slots,
    worth_suggesting,
)
from bookings.waitlist import offer_freed_slot
from core.db import atomic, utcnow
from core.errors import InvalidInput, NotAllowed, NotFound
from core.timeutil import NonexistentLocalTime, local_to_utc, to_local
from inventory.catalogue import Page
from inventory.models import Asset
from inventory.service import get_asset, school_managers_of

#: Statuses a requester or manager may still cancel.
CANCELLABLE = (BookingStatus.PENDING, BookingStatus.CONFIRMED)
MAX_OCCURRENCES = 100


def change_status(
    booking: Booking,
    to_status: BookingStatus,
    by: User | None,
    reason: str = "",
    at: dt.datetime | None = None,
) -> BookingStatusChange:
    """Move a booking to a new status and keep the step in its history. Tells nobody: the
    command that changes the status calls its notice (``bookings.notices``)."""
    at = at or utcnow()
    change = BookingStatusChange(from_status=booking.status, to_status=to_status, by=by, at=at, reason=reason)
    booking.history.append(change)
    booking.status = to_status
    return change


def _load_asset(session: Session, asset_id: int) -> Asset:
    return get_asset(session, asset_id, details=False)  # with the weekly hours every check reads


def needs_approval(requester: User, asset: Asset) -> bool:
    """Another School's asset is a loan request; some assets need approval for everyone."""
    return asset.requires_approval or asset.school_id != requester.home_school_id


def _is_overlap_violation(error: IntegrityError) -> bool:
    return "ex_bookings_no_overlap" in str(error.orig)


def _refusal(
    session: Session,
    requester: User,
    asset: Asset,
    start_at: dt.datetime,
    end_at: dt.datetime,
    now: dt.datetime,
    violations: list[Violation],
    conflicts,
    ignore_booking_id: int | None = None,
) -> BookingRefused:
    suggestions = (
        next_free_slots(session, asset, end_at - start_at, start_at, now, ignore_booking_id=ignore_booking_id)
        if worth_suggesting(violations)
        else []
    )
    return BookingRefused(violations, conflicts, suggestions)


def record_unmet_demand(
    session: Session,
    requester: User | None,
    asset_id: int,
    start_at: dt.datetime,
    end_at: dt.datetime,
    source: DemandSource,
    reasons: list[str],
    booking_id: int | None = None,
    *,
    requester_school_id: int | None = None,
    waitlist_entry_id: int | None = None,
) -> UnmetDemand | None:
    """Keep a request that was refused, rejected, left undecided or waited for in vain, for the
    reports. ``requester_school_id``: the School the person asked from (a booking keeps it),
    else their home School now. Nonsense intervals (ending before they start) are not demand and
    are not kept."""
    if end_at <= start_at:
        return None
    demand = UnmetDemand(
        asset_id=asset_id,
        requester_id=requester.id if requester else None,
        requester_school_id=requester_school_id or (requester.home_school_id if requester else None),
        start_at=start_at,
        end_at=end_at,
        minutes=int((end_at - start_at).total_seconds() // 60),
        source=source,
        reasons=reasons,
        booking_id=booking_id,
        waitlist_entry_id=waitlist_entry_id,
    )
    session.add(demand)
    return demand


def request_booking(
    session: Session,
    requester: User,
    asset_id: int,
    start_at: dt.datetime,
    end_at: dt.datetime,
    purpose: str,
    now: dt.datetime | None = None,
) -> Booking:
    """Book an asset over [start_at, end_at), or raise BookingRefused listing every rule broken.

    Confirmed at once for the requester's own School's asset without an approval flag; otherwise
    pending until a manager of the owning School decides. Checks and insert are one serialised
    transaction, and on PostgreSQL the exclusion constraint settles any race: the loser gets the
    same refusal. Every refusal is recorded as unmet demand.
    """
    now = now or utcnow()
    purpose = (purpose or "").strip()
    if not purpose:
        raise InvalidInput(field_errors={"purpose": ["Say what the booking is for."]})
    try:
        with atomic(session, requester):
            asset = _load_asset(session, asset_id)
            violations, conflicts = check_booking(session, requester, asset, start_at, end_at, now)
            if violations:
                raise _refusal(session, requester, asset, start_at, end_at, now, violations, conflicts)
            booking = _new_booking(requester, asset, start_at, end_at, purpose, now)
            session.add(booking)
            session.flush()
            notices.notify_requested(session, booking)
        return booking
    except BookingRefused as refusal:
        _keep_refusal(session, requester, asset_id, start_at, end_at, refusal.codes)
        raise
    except IntegrityError as error:
        if not _is_overlap_violation(error):
            raise
        lost = _lost_race(session, requester, asset_id, start_at, end_at, now)
        _keep_refusal(session, requester, asset_id, start_at, end_at, lost.codes)
        raise lost from None


def _new_booking(
    requester: User, asset: Asset, start_at: dt.datetime, end_at: dt.datetime, purpose: str, now: dt.datetime
) -> Booking:
    status = BookingStatus.PENDING if needs_approval(requester, asset) else BookingStatus.CONFIRMED
    booking = Booking(
        asset=asset,
        requester=requester,
        requester_school_id=requester.home_school_id,
        start_at=start_at,
        end_at=end_at,
        blocked_until=blocked_until(asset, end_at),
        purpose=purpose,
        status=status,
    )
    booking.history.append(BookingStatusChange(from_status=None, to_status=status, by=requester, at=now))
    return booking


def _lost_race(
    session: Session,
    requester: User,
    asset_id: int,
    start_at: dt.datetime,
    end_at: dt.datetime,
    now: dt.datetime,
) -> BookingRefused:
    """The database refused an overlap our check could not see yet: say so the usual way."""
    asset = _load_asset(session, asset_id)
    conflicts = conflicts_for(session, requester, asset, start_at, end_at)
    violations = [Violation("overlap", "It overlaps another booking made a moment ago.")]
    refusal = _refusal(session, requester, asset, start_at, end_at, now, violations, conflicts)
    session.rollback()
    return refusal


def _keep_refusal(
    session: Session,
    requester: User,
    asset_id: int,
    start_at: dt.datetime,
    end_at: dt.datetime,
    codes: list[str],
) -> None:
    with atomic(session, requester):
        record_unmet_demand(session, requester, asset_id, start_at, end_at, DemandSource.REFUSED, codes)


# --- Recurring bookings -----------------------------------------------------------------------


@dataclass(frozen=True)
class Recurrence:
    frequency: str  # "daily" or "weekly"
    count: int | None = None
    until: dt.date | None = None  # inclusive, a local date

    def describe(self) -> str:
        limit = f"{self.count} times" if self.count else f"until {self.until:%d %b %Y}"
        return f"{self.frequency.capitalize()}, {limit}"


def occurrences(
    start_at: dt.datetime, end_at: dt.datetime, recurrence: Recurrence
) -> list[tuple[dt.datetime, dt.datetime] | None]:
    """The series' intervals: the same local wall-clock times each day or week, so a weekly
    10:00 booking stays at 10:00 across a clock change. None marks a time that does not exist."""
    if recurrence.frequency not in ("daily", "weekly"):
        raise InvalidInput(field_errors={"frequency": ["Choose daily or weekly."]})
    if (recurrence.count is None) == (recurrence.until is None):
        raise InvalidInput(field_errors={"count": ["Give either a number of times or an end date."]})
    if recurrence.count is not None and not 1 <= recurrence.count <= MAX_OCCURRENCES:
        raise InvalidInput(field_errors={"count": [f"Repeat between 1 and {MAX_OCCURRENCES} times."]})
    step = dt.timedelta(days=1 if recurrence.frequency == "daily" else 7)
    local_start = to_local(start_at).replace(tzinfo=None)
    local_end = to_local(end_at).replace(tzinfo=None)
    result: list[tuple[dt.datetime, dt.datetime] | None] = []
    n = 0
    while True:
        wall_start, wall_end = local_start + n * step, local_end + n * step
        if recurrence.count is not None and n >= recurrence.count:
            break
        if recurrence.until is not None and wall_start.date() > recurrence.until:
            break
        if n >= MAX_OCCURRENCES:
            raise InvalidInput(
                field_errors={"until": [f"A series can have at most {MAX_OCCURRENCES} bookings."]}
            )
        try:
            result.append((local_to_utc(wall_start), local_to_utc(wall_end)))
        except NonexistentLocalTime:
            result.append(None)
        n += 1
    if not result:
        raise InvalidInput(field_errors={"until": ["The series ends before its first booking."]})
    return result


def request_series(
    session: Session,
    requester: User,
    asset_id: int,
    start_at: dt.datetime,
    end_at: dt.datetime,
    purpose: str,
    recurrence: Recurrence,
    now: dt.datetime | None = None,
) -> list[Booking]:
    """Book every occurrence of a recurring request, or none: SeriesRefused reports, occurrence
    by occurrence, what each one breaks. Refused occurrences are recorded as unmet demand."""
    now = now or utcnow()
    purpose = (purpose or "").strip()
    if not purpose:
        raise InvalidInput(field_errors={"purpose": ["Say what the booking is for."]})
    intervals = occurrences(start_at, end_at, recurrence)
    report: list[Occurrence] = []
    try:
        with atomic(session, requester):
            asset = _load_asset(session, asset_id)
            series = BookingSeries(
                requester_id=requester.id, asset_id=asset.id, description=recurrence.describe()
            )
            session.add(series)
            for n, interval in enumerate(intervals):
                if interval is None:
                    wall = to_local(start_at) + n * dt.timedelta(
                        days=1 if recurrence.frequency == "daily" else 7
                    )
                    report.append(
                        Occurrence(
                            wall,
                            wall,
                            [
                                Violation(
                                    "nonexistent_time",
                                    "That local time does not exist: the clocks go forward.",
                                )
                            ],
                        )
                    )
                    continue
                occurrence = Occurrence(*interval)
                occurrence.violations, occurrence.conflicts = check_booking(
                    session, requester, asset, *interval, now
                )
                report.append(occurrence)
                if not occurrence.violations:
                    booking = _new_booking(requester, asset, *interval, purpose, now)
                    booking.series = series
                    session.add(booking)
                    session.flush()  # later occurrences are checked against this one
            if any(o.violations for o in report):
                raise SeriesRefused(report)
            notices.notify_series_requested(session, series, series.bookings)
        return series.bookings
    except SeriesRefused as refusal:
        with atomic(session, requester):
            for occurrence in refusal.occurrences:
                if occurrence.violations:
                    record_unmet_demand(
                        session,
                        requester,
                        asset_id,
                        occurrence.start_at,
                        occurrence.end_at,
                        DemandSource.REFUSED,
                        [v.code for v in occurrence.violations],
                    )
        raise
    except IntegrityError as error:
        if not _is_overlap_violation(error):
            raise
        session.rollback()
        raise SeriesRefused(
            [
                Occurrence(
                    start_at,
                    end_at,
                    [Violation("overlap", "Another booking was made at the same moment; try again.")],
                )
            ]
        ) from None


#: Free times are looked for only for a series this short: each candidate checks every booking.
SERIES_SUGGESTION_LIMIT = 12


def series_suggestions(
    session: Session,
    requester: User,
    asset_id: int,
    start_at: dt.datetime,
    end_at: dt.datetime,
    recurrence: Recurrence,
    now: dt.datetime | None = None,
    count: int = 3,
) -> list[Slot]:
    """Where a refused series could go instead: the first booking's next free times (from the one
    asked for), kept only where every repetition at that time passes every rule as well. Empty
    for a series longer than SERIES_SUGGESTION_LIMIT, or when no rule a time could fix was broken."""
    now = now or utcnow()
    asset = _load_asset(session, asset_id)
    try:
        if len(occurrences(start_at, end_at, recurrence)) > SERIES_SUGGESTION_LIMIT:
            return []
    except InvalidInput:
        return []
    found: list[Slot] = []
    for candidate in next_free_slots(session, asset, end_at - start_at, start_at, now, count=2 * count):
        intervals = occurrences(candidate.start_at, candidate.end_at, recurrence)
        if all(
            interval is not None and not check_booking(session, requester, asset, *interval, now)[0]
            for interval in intervals
        ):
            found.append(candidate)
            if len(found) == count:
                break
    return found


# --- Decisions --------------------------------------------------------------------------------


def get_booking(session: Session, viewer: User, booking_id: int) -> Booking:
    """A booking the viewer may see: their own, or one of an asset their School owns (managers),
    or any (admins). Others get NotFound, so ids do not reveal other people's bookings."""
    booking = session.scalar(
        select(Booking)
        .options(joinedload(Booking.asset).joinedload(Asset.school), joinedload(Booking.requester))
        .where(Booking.id == booking_id)
    )
    if booking is None or not may_see_holder(viewer, booking):
        raise NotFound("There is no such booking, or it is not yours to see.")
    return booking


def load_for_decision(session: Session, manager: User, booking_id: int) -> Booking:
    """The booking a manager decides on: 404 if it does not exist, 403 unless they manage the
    School that owns the asset."""
    booking = session.scalar(
        select(Booking)
        .options(joinedload(Booking.asset).joinedload(Asset.school), joinedload(Booking.requester))
        .where(Booking.id == booking_id)
    )
    if booking is None:
        raise NotFound("There is no such booking.")
    require_school_manager(manager, booking.asset.school_id)
    return booking


def other_deciders(session: Session, booking: Booking) -> list[User]:
    """The active managers of the owning School who may decide the request: all of them but
    its requester (admins may too, and are not listed)."""
    return [
        manager
        for manager in school_managers_of(session, booking.asset.school_id)
        if manager.id != booking.requester_id
    ]


def may_decide(user: User, booking: Booking) -> bool:
    """Managers of the owning School and admins decide requests, but nobody decides their own."""
    return user.manages(booking.asset.school_id) and booking.requester_id != user.id


def load_request_to_decide(session: Session, user: User, booking_id: int, *, lock: bool = False) -> Booking:
    """The request a manager or admin approves or rejects: 404 if it does not exist, 403 unless
    they manage the owning School, and 403 for their own request: another manager of the
    School or an admin decides it. ``lock``: take the booking's row lock and read it again, so a
    decision and the lapsing job (``bookings.lapsing``) cannot both act on one request."""
    booking = load_for_decision(session, user, booking_id)
    if lock:
        session.execute(select(Booking.id).where(Booking.id == booking.id).with_for_update())
        session.refresh(booking)
    if booking.requester_id == user.id:
        others = other_deciders(session, booking)
        names = " or ".join(manager.name for manager in others)
        who = (
            f"another manager of {booking.asset.school.code} ({names}) or an admin decides it"
            if others
            else "an admin decides it"
        )
        raise NotAllowed(f"Nobody decides their own request: {who}.")
    return booking


def overlapping_pending(session: Session, booking: Booking) -> list[Booking]:
    """Other pending requests for the same asset that would clash with this one if confirmed."""
    held_until = blocked_until(booking.asset, booking.end_at)
    return list(
        session.scalars(
            select(Booking)
            .options(joinedload(Booking.requester), joinedload(Booking.requester_school))
            .where(
                Booking.asset_id == booking.asset_id,
                Booking.id != booking.id,
                Booking.status == BookingStatus.PENDING,
                Booking.start_at < held_until,
                Booking.blocked_until > booking.start_at,
            )
            .order_by(Booking.created_at)
        )
    )


def _decide(
    session: Session, booking: Booking, manager: User, to_status: BookingStatus, reason: str, now: dt.datetime
) -> None:
    change = change_status(booking, to_status, manager, reason, now)
    booking.decided_by = manager
    booking.decided_at = now
    booking.decision_reason = reason
    notices.notify_decided(session, booking, change)


def approve(
    session: Session,
    manager: User,
    booking_id: int,
    reject_overlapping: Iterable[int] = (),
    rejection_reason: str = "",
    now: dt.datetime | None = None,
) -> Booking:
    """A manager of the owning School (or an admin), other than its requester, confirms a
    pending request, after every rule is checked
    again (except the minimum notice, which was met when it was asked for). In the same step
    they may reject the pending requests that would now overlap it, with a reason each requester
    sees; those become unmet demand."""
    now = now or utcnow()
    reject_ids = {int(i) for i in reject_overlapping}
    rejection_reason = rejection_reason.strip()
    if reject_ids and not rejection_reason:
        raise InvalidInput(
            field_errors={"rejection_reason": ["Tell the other requesters why their requests are rejected."]}
        )
    try:
        with atomic(session, manager):
            booking = load_request_to_decide(session, manager, booking_id, lock=True)
            if booking.status != BookingStatus.PENDING:
                raise InvalidInput(f"This request is already {booking.status.label.lower()}.")
            violations, conflicts = check_booking(
                session,
                booking.requester,
                booking.asset,
                booking.start_at,
                booking.end_at,
                now,
                ignore_booking_id=booking.id,
                check_notice=False,
            )
            if violations:
                raise _refusal(
                    session,
                    booking.requester,
                    booking.asset,
                    booking.start_at,
                    booking.end_at,
                    now,
                    violations,
                    conflicts,
                    ignore_booking_id=booking.id,
                )
            clashing = {b.id: b for b in overlapping_pending(session, booking)}
            unknown = reject_ids - clashing.keys()
            if unknown:
                raise InvalidInput("Only requests that overlap this one can be rejected with it.")
            booking.blocked_until = blocked_until(booking.asset, booking.end_at)
            _decide(session, booking, manager, BookingStatus.CONFIRMED, "", now)
            for other_id in sorted(reject_ids):
                _reject(session, manager, clashing[other_id], rejection_reason, now)
            session.flush()
        return booking
    except IntegrityError as error:
        if not _is_overlap_violation(error):
            raise
        session.rollback()
        raise BookingRefused(
            [Violation("overlap", "Another booking of this time was confirmed a moment ago.")]
        ) from None


def _reject(session: Session, manager: User, booking: Booking, reason: str, now: dt.datetime) -> None:
    _decide(session, booking, manager, BookingStatus.REJECTED, reason, now)
    record_unmet_demand(
        session,
        booking.requester,
        booking.asset_id,
        booking.start_at,
        booking.end_at,
        DemandSource.REJECTED,
        ["rejected"],
        booking_id=booking.id,
    )


def reject(
    session: Session, manager: User, booking_id: int, reason: str, now: dt.datetime | None = None
) -> Booking:
    """A manager of the owning School (or an admin), other than its requester, turns a pending
    request down, saying why."""
    with atomic(session, manager):
        now = now or utcnow()
        booking = load_request_to_decide(session, manager, booking_id, lock=True)
        if booking.status != BookingStatus.PENDING:
            raise InvalidInput(f"This request is already {booking.status.label.lower()}.")
        if not reason.strip():
            raise InvalidInput(field_errors={"reason": ["Tell the requester why."]})
        _reject(session, manager, booking, reason.strip(), now)
        _offer_to_waitlist(session, booking, now)  # waitlist hook
        return booking


def load_for_cancel(
    session: Session, actor: User, booking_id: int, now: dt.datetime | None = None
) -> Booking:
    """The booking ``actor`` may cancel now: their own, or (for a manager of the owning School)
    anyone's, while it is pending or confirmed and has not ended. Raises as ``cancel`` would,
    so the page asking "Cancel ...?" is only offered for a booking that can be cancelled."""
    now = now or utcnow()
    booking = get_booking(session, actor, booking_id)
    if booking.requester_id != actor.id:
        require_school_manager(actor, booking.asset.school_id)
    if booking.status not in CANCELLABLE:
        raise InvalidInput(f"This booking is {booking.status.label.lower()}, so it cannot be cancelled.")
    if booking.end_at <= now:
        raise InvalidInput("This booking has already ended.")
    return booking


def cancel(
    session: Session, actor: User, booking_id: int, reason: str = "", now: dt.datetime | None = None
) -> Booking:
    """The requester cancels their own pending or confirmed booking before it ends; a manager of
    the owning School can cancel anyone's, giving a reason the requester sees."""
    with atomic(session, actor):
        now = now or utcnow()
        booking = load_for_cancel(session, actor, booking_id, now)
        if booking.requester_id != actor.id and not reason.strip():
            raise InvalidInput(
                field_errors={"reason": ["Tell the requester why their booking is cancelled."]}
            )
        change = change_status(booking, BookingStatus.CANCELLED, actor, reason.strip(), now)
        notices.notify_cancelled(session, booking, change)
        _offer_to_waitlist(session, booking, now)  # waitlist hook
        return booking


def _offer_to_waitlist(session: Session, booking: Booking, now: dt.datetime) -> None:
    """Waitlist hook: time freed by a cancellation or rejection (or a no-show release, in
    bookings/loans.py) is offered to the first person waiting for it (bookings/waitlist.py)."""

    offer_freed_slot(session, booking.asset_id, booking.start_at, booking.blocked_until, now)


#: How many upcoming or past bookings My bookings shows on one page.
MY_BOOKINGS_PER_PAGE = 20
#: Statuses that end a booking, whenever its time is: it is listed with the past ones.
_FINISHED = (
    BookingStatus.CANCELLED,
    BookingStatus.REJECTED,
    BookingStatus.COMPLETED,
    BookingStatus.NO_SHOW,
    BookingStatus.LAPSED,
)


@dataclass
class MyBookings:
    """What My bookings lists: requests waiting for a decision (all of them, soonest first),
    then a page of upcoming bookings (soonest first), then a page of past ones (latest first)."""

    pending: list[Booking]
    upcoming: Page
    past: Page


def _page_of(session: Session, query, page: int, per_page: int) -> Page:
    """One page of ``query``'s rows; a page beyond the last shows the last."""
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    page = min(max(1, page), max(1, -(-total // per_page)))
    items = list(session.scalars(query.limit(per_page).offset((page - 1) * per_page)).unique())
    return Page(items=items, total=total, page=page, per_page=per_page)


def my_bookings(
    session: Session,
    user: User,
    now: dt.datetime,
    upcoming_page: int = 1,
    past_page: int = 1,
    per_page: int = MY_BOOKINGS_PER_PAGE,
) -> MyBookings:
    """The person's bookings, in the order they need them: requests still waiting for approval
    first, so a new request is never lost below the confirmed ones; then the bookings they hold
    that have not ended (confirmed, checked out); then everything over, cancelled or rejected.
    A request whose time passed undecided is past (and lapses, bookings.lapsing)."""
    base = (
        select(Booking)
        .options(joinedload(Booking.asset).joinedload(Asset.school))
        .where(Booking.requester_id == user.id)
    )
    pending = base.where(Booking.status == BookingStatus.PENDING, Booking.end_at > now)
    upcoming = base.where(Booking.status.in_(ACTIVE_STATUSES), Booking.end_at > now)
    past = base.where((Booking.end_at <= now) | Booking.status.in_(_FINISHED))
    return MyBookings(
        pending=list(session.scalars(pending.order_by(Booking.start_at, Booking.id))),
        upcoming=_page_of(session, upcoming.order_by(Booking.start_at, Booking.id), upcoming_page, per_page),
        past=_page_of(
            session, past.order_by(Booking.start_at.desc(), Booking.id.desc()), past_page, per_page
        ),
    )


def complete_finished(session: Session, now: dt.datetime) -> int:
    """Confirmed bookings whose time is over become completed. Loans stay checked out until
    they are returned. Returns how many bookings were completed."""
    with atomic(session):
        finished = session.scalars(
            select(Booking).where(Booking.status == BookingStatus.CONFIRMED, Booking.end_at <= now)
        ).all()
        for booking in finished:
            change_status(booking, BookingStatus.COMPLETED, by=None, reason="Booking time ended.", at=now)
        return len(finished)


def bookings_today(
    session: Session, school_ids: set[int] | None, day_start: dt.datetime, day_end: dt.datetime
) -> list[Booking]:
    query = (
        select(Booking)
        .join(Booking.asset)
        .options(joinedload(Booking.asset).joinedload(Asset.school), joinedload(Booking.requester))
        .where(Booking.status.in_(ACTIVE_STATUSES), Booking.start_at < day_end, Booking.end_at > day_start)
        .order_by(Booking.start_at)
    )
    if school_ids is not None:
        query = query.where(Asset.school_id.in_(school_ids))
    return list(session.scalars(query))
