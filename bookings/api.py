"""Bookings in the JSON API: an asset's availability, booking, and a booking's life (approve,
reject, cancel, hand over or check in, return).

Thin, like the pages: every rule is in ``bookings.rules``, ``bookings.service`` and
``bookings.loans``; a refusal becomes a problem document in ``api.problems``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import url_for
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from accounts.models import User
from accounts.permissions import require_school_manager
from api import api_v1
from api import examples as ex
from api.auth import api_user
from api.params import PAGING, Param, page_of, read_body, read_query, times, utc_text
from api.schemas import ref
from api.spec import Example, documented
from bookings import loans, service
from bookings.models import Booking, BookingStatus
from bookings.rules import conflicts_for, opening_intervals
from core.db import db, utcnow
from core.errors import InvalidInput, NotAllowed
from inventory.models import Asset, AssetStatus
from inventory.service import get_asset
from core.timeutil import to_local

# --- Representation ---------------------------------------------------------------------------


def _school(school: Any) -> dict[str, Any] | None:
    return {"id": school.id, "code": school.code, "name": school.name} if school is not None else None


def booking_json(booking: Booking) -> dict[str, Any]:
    """A booking, for someone who may see it (its requester, or a manager of the asset's School)."""
    asset = booking.asset
    return {
        "id": booking.id,
        "asset": {"id": asset.id, "tag": asset.tag, "name": asset.name, "school": _school(asset.school)},
        "requester": {"id": booking.requester.id, "name": booking.requester.name},
        "requester_school": _school(booking.requester_school),
        **times(start=booking.start_at, end=booking.end_at, blocked_until=booking.blocked_until),
        "purpose": booking.purpose,
        "status": booking.status.value,
        "series_id": booking.series_id,
        "decided_by": {"id": booking.decided_by.id, "name": booking.decided_by.name}
        if booking.decided_by
        else None,
        **times(
            decided_at=booking.decided_at,
            checked_in_at=booking.checked_in_at,
            handed_over_at=booking.handed_over_at,
            returned_at=booking.returned_at,
        ),
        "decision_reason": booking.decision_reason,
        "returned_damaged": booking.returned_damaged,
        "created_at": utc_text(booking.created_at),
        "links": {
            "self": url_for("api_v1.get_booking", booking_id=booking.id),
            "page": url_for("bookings.detail", booking_id=booking.id),
        },
    }


def _visible(booking_id: int) -> Booking:
    return service.get_booking(db.session, api_user(), booking_id)


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


# --- Listing and reading bookings -------------------------------------------------------------

BOOKING_FILTERS = (
    Param(
        "scope",
        "enum",
        "mine: the token's user's own bookings; managed: bookings of the assets of the Schools they manage "
        "(managers; admins see every School's).",
        choices=("mine", "managed"),
        default="mine",
    ),
    Param("school", "integer", "Only bookings of this School's assets.", minimum=1),
    Param("asset", "integer", "Only bookings of this asset.", minimum=1),
    Param("status", "enum", "Only bookings in this status.", choices=tuple(s.value for s in BookingStatus)),
    Param("from", "datetime", "Only bookings that end after this time."),
    Param("to", "datetime", "Only bookings that start before this time."),
)


def _booking_select(user: User, args: dict[str, Any]):
    """The bookings the listing shows: the person's own, or (scope=managed) those of the assets
    of the Schools they manage, the same bookings ``service.get_booking`` lets them read."""
    query = select(Booking).join(Booking.asset)
    if args["scope"] == "managed":
        if not (user.is_admin or user.managed_schools):
            raise NotAllowed("Only managers can list their Schools' bookings.")
        if not user.is_admin:
            query = query.where(Asset.school_id.in_(user.managed_school_ids))
        if "school" in args:
            require_school_manager(user, args["school"])
    else:
        query = query.where(Booking.requester_id == user.id)
    if "school" in args:
        query = query.where(Asset.school_id == args["school"])
    if "asset" in args:
        query = query.where(Booking.asset_id == args["asset"])
    if "status" in args:
        query = query.where(Booking.status == BookingStatus(args["status"]))
    if "from" in args:
        query = query.where(Booking.end_at > args["from"])
    if "to" in args:
        query = query.where(Booking.start_at < args["to"])
    return query


@api_v1.get("/bookings")
@documented(
    operation_id="listBookings",
    summary="List bookings",
    description="The token's user's bookings by default; managers ask for scope=managed to see their Schools' "
    "bookings, filtered by School and status. Earliest first.",
    tag="Bookings",
    query=BOOKING_FILTERS + PAGING,
    response=ref("BookingPage"),
    errors=(403,),
    examples=(
        Example(
            "pending",
            "Requests waiting for a CHEM manager",
            200,
            query={"scope": "managed", "status": "pending"},
            response={"items": [ex.PENDING_REQUEST], "total": 1, "page": 1, "per_page": 20},
        ),
    ),
)
def list_bookings():
    args = read_query(BOOKING_FILTERS + PAGING)
    query = _booking_select(api_user(), args)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page, per_page = args["page"], args["per_page"]
    bookings = db.session.scalars(
        query.options(
            joinedload(Booking.asset).joinedload(Asset.school),
            joinedload(Booking.requester),
            joinedload(Booking.requester_school),
            joinedload(Booking.decided_by),
        )
        .order_by(Booking.start_at, Booking.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).unique()
    return page_of([booking_json(b) for b in bookings], total, page, per_page)


@api_v1.get("/bookings/<booking_id>")
@documented(
    operation_id="getBooking",
    summary="Read a booking",
    description="A booking of the token's user, or of an asset of a School they manage. Others' bookings are not found.",
    tag="Bookings",
    path_params={"booking_id": "The booking's id."},
    response=ref("Booking"),
    examples=(
        Example(
            "request",
            "Priya's request, as Carla sees it",
            200,
            path={"booking_id": 1},
            response=ex.PENDING_REQUEST,
        ),
    ),
)
def get_booking(booking_id: int):
    return booking_json(_visible(booking_id))


# --- Booking ----------------------------------------------------------------------------------

BOOKING_FIELDS = (
    Param("asset_id", "integer", "The asset to book.", required=True, minimum=1),
    Param("start", "datetime", "When it starts; without an offset, local time.", required=True),
    Param("end", "datetime", "When it ends (exclusive); without an offset, local time.", required=True),
    Param("purpose", "string", "What it is for.", required=True),
    Param("recurrence", "recurrence", "Repeat it daily or weekly; every occurrence is booked, or none."),
)
BOOKING_ERRORS = {
    409: {"anyOf": [ref("BookingProblem"), ref("SeriesProblem")]},
    422: {"anyOf": [ref("BookingProblem"), ref("SeriesProblem"), ref("InvalidProblem")]},
}


@api_v1.post("/bookings")
@documented(
    operation_id="createBooking",
    summary="Book an asset",
    description="Confirmed at once for an asset of the requester's own School that needs no approval; otherwise "
    "pending until a manager of the owning School decides. Every rule is checked: a refusal lists each rule "
    "broken (violations), what is in the way (conflicts) and free times to try (suggestions); 409 when only "
    "other bookings are in the way, 422 when a rule is broken. With recurrence, the answer is the series.",
    tag="Bookings",
    body=BOOKING_FIELDS,
    body_name="BookingRequest",
    status=201,
    response={"oneOf": [ref("Booking"), ref("BookingSeries")]},
    response_description="Booked: a Booking, or a BookingSeries for a recurring request.",
    response_headers={"Location": "The (first) booking's address."},
    errors=(404, 409, 422),
    error_schemas=BOOKING_ERRORS,
    examples=(
        Example(
            "book",
            "Carla books the microscope for Wednesday morning",
            201,
            body={
                "asset_id": 1,
                "start": "2030-01-09T10:00",
                "end": "2030-01-09T12:00",
                "purpose": "Imaging for the spring practical",
            },
            response=ex.NEW_BOOKING,
        ),
        Example(
            "taken",
            "A time another booking holds",
            409,
            body={
                "asset_id": 1,
                "start": "2030-01-08T10:30",
                "end": "2030-01-08T11:30",
                "purpose": "Quick check",
            },
            response=ex.BOOKING_CONFLICT,
        ),
        Example(
            "saturday",
            "A Saturday, outside its bookable hours",
            422,
            body={
                "asset_id": 1,
                "start": "2030-01-12T10:00:00Z",
                "end": "2030-01-12T12:00:00Z",
                "purpose": "Imaging",
            },
            response=ex.BOOKING_REFUSED,
        ),
    ),
)
def create_booking():
    values = read_body(BOOKING_FIELDS)
    user = api_user()
    args = (db.session, user, values["asset_id"], values["start"], values["end"], values["purpose"])
    if "recurrence" in values:
        recurrence = service.Recurrence(
            values["recurrence"]["frequency"],
            values["recurrence"].get("count"),
            values["recurrence"].get("until"),
        )
        # The service books nothing, without a word, for a series that ends before it starts.
        if not service.occurrences(values["start"], values["end"], recurrence):
            raise InvalidInput(field_errors={"until": ["The series ends before its first booking."]})
        bookings = service.request_series(*args, recurrence)
        first = bookings[0]
        body = {
            "series": {"id": first.series.id, "description": first.series.description},
            "bookings": [booking_json(b) for b in bookings],
        }
    else:
        first = service.request_booking(*args)
        body = booking_json(first)  # the requester's own: no need to read it back
    return body, 201, {"Location": url_for("api_v1.get_booking", booking_id=first.id)}


# --- A booking's life -------------------------------------------------------------------------

APPROVE_FIELDS = (
    Param("reject_overlapping", "ids", "Pending requests overlapping this one to reject in the same step."),
    Param("rejection_reason", "string", "Why those are rejected (required with reject_overlapping)."),
)
REASON_FIELDS = (Param("reason", "string", "Why, for the requester."),)
CHECKOUT_FIELDS = (Param("note", "string", "A loan's condition as it is handed over (required for loans)."),)
RETURN_FIELDS = (
    Param("note", "string", "Its condition as it comes back (required)."),
    Param(
        "damaged",
        "boolean",
        "It came back damaged: the asset is flagged and its managers told.",
        default=False,
    ),
)
_ACTION_ERRORS = (403, 422)


@api_v1.post("/bookings/<booking_id>/approve")
@documented(
    operation_id="approveBooking",
    summary="Approve a request",
    description="A manager of the owning School (or an admin) confirms a pending request after every rule is "
    "checked again (except the notice). Overlapping pending requests may be rejected in the same step. Nobody "
    "decides their own request: the requester's token gets 403.",
    tag="Bookings",
    path_params={"booking_id": "The pending booking's id."},
    body=APPROVE_FIELDS,
    body_name="Approval",
    response=ref("Booking"),
    errors=(403, 409, 422),
    error_schemas={
        409: ref("BookingProblem"),
        422: {"anyOf": [ref("BookingProblem"), ref("InvalidProblem")]},
    },
    examples=(
        Example(
            "approve",
            "Carla approves Priya's request",
            200,
            path={"booking_id": 1},
            body={},
            response=ex.APPROVED_REQUEST,
        ),
    ),
)
def approve_booking(booking_id: int):
    values = read_body(APPROVE_FIELDS)
    _visible(booking_id)
    service.approve(
        db.session,
        api_user(),
        booking_id,
        values.get("reject_overlapping", []),
        values.get("rejection_reason", ""),
    )
    return booking_json(_visible(booking_id))


@api_v1.post("/bookings/<booking_id>/reject")
@documented(
    operation_id="rejectBooking",
    summary="Reject a request",
    description="A manager of the owning School (or an admin) turns a pending request down, with a reason the "
    "requester sees. Nobody decides their own request: the requester's token gets 403.",
    tag="Bookings",
    path_params={"booking_id": "The pending booking's id."},
    body=REASON_FIELDS,
    body_name="Rejection",
    response=ref("Booking"),
    errors=_ACTION_ERRORS,
    examples=(
        Example(
            "reject",
            "Carla turns Priya's request down",
            200,
            path={"booking_id": 1},
            body={"reason": "The microscope is reserved for a course that week."},
            response=ex.REJECTED_REQUEST,
        ),
    ),
)
def reject_booking(booking_id: int):
    values = read_body(REASON_FIELDS)
    user = api_user()
    _visible(booking_id)
    service.reject(db.session, user, booking_id, values.get("reason", ""))
    return booking_json(_visible(booking_id))


@api_v1.post("/bookings/<booking_id>/cancel")
@documented(
    operation_id="cancelBooking",
    summary="Cancel a booking",
    description="The requester cancels their pending or confirmed booking before it ends; a manager of the "
    "owning School can cancel anyone's, with a reason.",
    tag="Bookings",
    path_params={"booking_id": "The booking's id."},
    body=REASON_FIELDS,
    body_name="Cancellation",
    response=ref("Booking"),
    errors=_ACTION_ERRORS,
    examples=(
        Example(
            "cancel",
            "Carla cancels her calibration run",
            200,
            path={"booking_id": 2},
            body={},
            response=ex.CANCELLED_CALIBRATION,
        ),
    ),
)
def cancel_booking(booking_id: int):
    values = read_body(REASON_FIELDS)
    user = api_user()
    service.cancel(db.session, user, booking_id, values.get("reason", ""))
    return booking_json(_visible(booking_id))


@api_v1.post("/bookings/<booking_id>/checkout")
@documented(
    operation_id="checkOutBooking",
    summary="Hand over a loan, or check in",
    description="For portable kit: the owning School's staff hand the loan over (from an hour before it starts), "
    "recording its condition in note. For bench kit that asks for it: the holder checks in (from 15 minutes "
    "before the start). Either way the booking becomes checked_out.",
    tag="Bookings",
    path_params={"booking_id": "The confirmed booking's id."},
    body=CHECKOUT_FIELDS,
    body_name="Checkout",
    response=ref("Booking"),
    errors=_ACTION_ERRORS,
    examples=(
        Example(
            "hand-over",
            "Carla hands the spectrometer to Priya",
            200,
            path={"booking_id": 3},
            body={"note": "Complete: case, charger and calibration tile."},
            response=ex.HANDED_OVER,
        ),
    ),
)
def checkout_booking(booking_id: int):
    values = read_body(CHECKOUT_FIELDS)
    user = api_user()
    now = utcnow()
    booking = _visible(booking_id)
    if booking.asset.portable:
        loans.hand_over(db.session, user, booking_id, values.get("note", ""), now)
    else:
        loans.check_in(db.session, user, booking_id, now)
    return booking_json(_visible(booking_id))


@api_v1.post("/bookings/<booking_id>/return")
@documented(
    operation_id="returnBooking",
    summary="Take a loan back",
    description="The owning School's staff record a loan's return and its condition; damaged=true flags the asset "
    "and tells its managers.",
    tag="Bookings",
    path_params={"booking_id": "The handed-over booking's id."},
    body=RETURN_FIELDS,
    body_name="Return",
    response=ref("Booking"),
    errors=_ACTION_ERRORS,
    examples=(
        Example(
            "return",
            "The thermal camera comes back",
            200,
            path={"booking_id": 4},
            body={"note": "Fine, lens cap missing.", "damaged": False},
            response=ex.LOAN_RETURNED,
        ),
    ),
)
def return_booking(booking_id: int):
    values = read_body(RETURN_FIELDS)
    user = api_user()
    _visible(booking_id)
    loans.return_loan(db.session, user, booking_id, values.get("note", ""), values["damaged"], utcnow())
    return booking_json(_visible(booking_id))
