"""Bookings in the JSON API: listing and reading them, booking, and a booking's life (approve,
reject, cancel, hand over or check in, return). An asset's availability is in ``api.availability``.

Thin, like the pages: every rule is in ``bookings.rules``, ``bookings.service``,
``bookings.listing`` and ``bookings.loans``; a refusal becomes a problem document in ``api.problems``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import url_for

from api import api_v1
from api import examples as ex
from api.auth import api_user
from api.params import PAGING, Param, page_of, read_body, read_query
from api.representation import ref
from api.schemas import BOOKING, BOOKING_SERIES
from api.spec import Example, documenting
from bookings import listing, loans, service
from bookings.listing import BookingFilters
from bookings.models import Booking, BookingStatus
from core.db import db, utcnow

booking_operation = documenting(tag="Bookings")


def _visible(booking_id: int) -> Booking:
    return service.get_booking(db.session, api_user(), booking_id)


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


@api_v1.get("/bookings")
@booking_operation(
    operation_id="listBookings",
    summary="List bookings",
    description="The token's user's bookings by default; managers ask for scope=managed to see their Schools' "
    "bookings, filtered by School and status. Earliest first.",
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
    filters = BookingFilters(
        scope=args["scope"],
        school_id=args.get("school"),
        asset_id=args.get("asset"),
        status=BookingStatus(args["status"]) if "status" in args else None,
        ends_after=args.get("from"),
        starts_before=args.get("to"),
    )
    result = listing.list_bookings(db.session, api_user(), filters, args["page"], args["per_page"])
    return page_of([BOOKING.dump(b) for b in result.items], result.total, result.page, result.per_page)


@api_v1.get("/bookings/<booking_id>")
@booking_operation(
    operation_id="getBooking",
    summary="Read a booking",
    description="A booking of the token's user, or of an asset of a School they manage. Others' bookings are not found.",
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
    return BOOKING.dump(_visible(booking_id))


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
@booking_operation(
    operation_id="createBooking",
    summary="Book an asset",
    description="Confirmed at once for an asset of the requester's own School that needs no approval; otherwise "
    "pending until a manager of the owning School decides. Every rule is checked: a refusal lists each rule "
    "broken (violations), what is in the way (conflicts) and free times to try (suggestions); 409 when only "
    "other bookings are in the way, 422 when a rule is broken. With recurrence, the answer is the series.",
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
        bookings = service.request_series(*args, recurrence)
        first = bookings[0]
        body = BOOKING_SERIES.dump(bookings)
    else:
        first = service.request_booking(*args)
        body = BOOKING.dump(first)  # the requester's own: no need to read it back
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


def booking_action(example: Example, **fields: Any) -> Callable[[Any], Any]:
    """The documentation of a step in a booking's life: it answers with the booking as it now
    is, and is refused with 403 (not yours to take) or 422 (a rule); one worked example."""
    return booking_operation(
        **{"response": ref("Booking"), "errors": (403, 422), "examples": (example,), **fields}
    )


def on_booking(booking_id: int, name: str, summary: str, body: Any, response: Any) -> Example:
    """A worked example of a step taken on an example booking, answered with 200."""
    return Example(name, summary, 200, path={"booking_id": booking_id}, body=body, response=response)


@api_v1.post("/bookings/<booking_id>/approve")
@booking_action(
    operation_id="approveBooking",
    summary="Approve a request",
    description="A manager of the owning School (or an admin) confirms a pending request after every rule is "
    "checked again (except the notice). Overlapping pending requests may be rejected in the same step. Nobody "
    "decides their own request: the requester's token gets 403.",
    path_params={"booking_id": "The pending booking's id."},
    body=APPROVE_FIELDS,
    body_name="Approval",
    errors=(403, 409, 422),
    error_schemas={
        409: ref("BookingProblem"),
        422: {"anyOf": [ref("BookingProblem"), ref("InvalidProblem")]},
    },
    example=on_booking(1, "approve", "Carla approves Priya's request", {}, ex.APPROVED_REQUEST),
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
    return BOOKING.dump(_visible(booking_id))


@api_v1.post("/bookings/<booking_id>/reject")
@booking_action(
    operation_id="rejectBooking",
    summary="Reject a request",
    description="A manager of the owning School (or an admin) turns a pending request down, with a reason the "
    "requester sees. Nobody decides their own request: the requester's token gets 403.",
    path_params={"booking_id": "The pending booking's id."},
    body=REASON_FIELDS,
    body_name="Rejection",
    example=on_booking(
        1,
        "reject",
        "Carla turns Priya's request down",
        {"reason": "The microscope is reserved for a course that week."},
        ex.REJECTED_REQUEST,
    ),
)
def reject_booking(booking_id: int):
    values = read_body(REASON_FIELDS)
    user = api_user()
    _visible(booking_id)
    service.reject(db.session, user, booking_id, values.get("reason", ""))
    return BOOKING.dump(_visible(booking_id))


@api_v1.post("/bookings/<booking_id>/cancel")
@booking_action(
    operation_id="cancelBooking",
    summary="Cancel a booking",
    description="The requester cancels their pending or confirmed booking before it ends; a manager of the "
    "owning School can cancel anyone's, with a reason.",
    path_params={"booking_id": "The booking's id."},
    body=REASON_FIELDS,
    body_name="Cancellation",
    example=on_booking(2, "cancel", "Carla cancels her calibration run", {}, ex.CANCELLED_CALIBRATION),
)
def cancel_booking(booking_id: int):
    values = read_body(REASON_FIELDS)
    user = api_user()
    service.cancel(db.session, user, booking_id, values.get("reason", ""))
    return BOOKING.dump(_visible(booking_id))


@api_v1.post("/bookings/<booking_id>/checkout")
@booking_action(
    operation_id="checkOutBooking",
    summary="Hand over a loan, or check in",
    description="For portable kit: the owning School's staff hand the loan over (from an hour before it starts), "
    "recording its condition in note. For bench kit that asks for it: the holder checks in (from 15 minutes "
    "before the start). Either way the booking becomes checked_out.",
    path_params={"booking_id": "The confirmed booking's id."},
    body=CHECKOUT_FIELDS,
    body_name="Checkout",
    example=on_booking(
        3,
        "hand-over",
        "Carla hands the spectrometer to Priya",
        {"note": "Complete: case, charger and calibration tile."},
        ex.HANDED_OVER,
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
    return BOOKING.dump(_visible(booking_id))


@api_v1.post("/bookings/<booking_id>/return")
@booking_action(
    operation_id="returnBooking",
    summary="Take a loan back",
    description="The owning School's staff record a loan's return and its condition; damaged=true flags the asset "
    "and tells its managers.",
    path_params={"booking_id": "The handed-over booking's id."},
    body=RETURN_FIELDS,
    body_name="Return",
    example=on_booking(
        4,
        "return",
        "The thermal camera comes back",
        {"note": "Fine, lens cap missing.", "damaged": False},
        ex.LOAN_RETURNED,
    ),
)
def return_booking(booking_id: int):
    values = read_body(RETURN_FIELDS)
    user = api_user()
    _visible(booking_id)
    loans.return_loan(db.session, user, booking_id, values.get("note", ""), values["damaged"], utcnow())
    return BOOKING.dump(_visible(booking_id))
