"""The shapes of the API's responses (OpenAPI 3.1 / JSON Schema 2020-12), in one place: every
component of the OpenAPI document (``SCHEMAS``).

Request bodies are described by the ``Param`` lists next to their endpoints; these are the
objects the API answers with, and the test suite checks every response against them
(schemathesis, and the replayed examples). Each resource's representation is written once, as an
``api.representation.Representation`` that both serialises and documents it; the figures of the
reports and the capital plan are ``api.figures_schemas``'s.
"""

from __future__ import annotations

from typing import Any

from api.figures_schemas import FIGURES_SCHEMAS
from api.params import TIME_PATTERN
from api.representation import (
    COUNT,
    FLAG,
    ID,
    INTERVAL,
    TEXT,
    Representation,
    documented_only,
    field,
    links,
    moment,
    moments,
    nested,
    nullable,
    obj,
    page,
    ref,
    utc_moment,
    value_of,
)
from bookings.models import BookingStatus
from inventory import catalogue
from inventory.models import AssetStatus

SCHOOL = Representation(
    "School",
    (field("id", ID), field("code", TEXT), field("name", TEXT)),
    "A School: it owns assets and has managers.",
)
CATEGORY = Representation(
    "Category", (field("id", ID), field("name", TEXT), field("description", TEXT)), "A kind of equipment."
)
LOCATION = Representation(
    "Location",
    (field("id", ID), field("site", TEXT), field("building", TEXT), field("room", TEXT)),
    "A room of the School that owns the asset.",
)
PERSON = Representation("Person", (field("id", ID), field("name", TEXT)), "A person, by name.")
CONTACT = Representation(
    "Contact",
    (field("id", ID), field("name", TEXT), field("email", TEXT)),
    "Who answers questions about an asset.",
)
WEEKLY_HOURS = Representation(
    "WeeklyHours",
    (
        field(
            "weekday",
            {"type": "integer", "minimum": 0, "maximum": 6, "description": "0 is Monday, 6 is Sunday."},
        ),
        field(
            "opens",
            {"type": "string", "pattern": TIME_PATTERN, "description": "Local time, HH:MM."},
            lambda hours, viewer: hours.opens.strftime("%H:%M"),
        ),
        field(
            "closes",
            {
                "type": "string",
                "pattern": TIME_PATTERN,
                "description": "Local time, HH:MM; 23:59 means open until midnight.",
            },
            lambda hours, viewer: hours.closes.strftime("%H:%M"),
        ),
    ),
    "One interval of an asset's bookable hours, in the university's local time.",
)


def _manages(asset: Any, viewer: Any) -> bool:
    return viewer.manages(asset.school_id)


ASSET = Representation(
    "Asset",
    (
        field("id", ID),
        field("tag", TEXT),
        field("name", TEXT),
        nested("school", SCHOOL),
        nested("category", CATEGORY, is_nullable=True),
        nested("location", LOCATION, is_nullable=True),
        field("manufacturer", TEXT),
        field("model", TEXT),
        field("serial_number", TEXT),
        field("description", TEXT),
        field("status", {"type": "string", "enum": [s.value for s in AssetStatus]}, value_of("status")),
        field("status_reason", TEXT),
        nested("contact", CONTACT, is_nullable=True),
        field("hourly_rate_pence", {**COUNT, "description": "Charge per hour in pence (0: no charge)."}),
        field("bookable", FLAG),
        field("shareable", {**FLAG, "description": "Other Schools' people may book it."}),
        field("requires_approval", FLAG),
        field("training_required", FLAG),
        field("block_when_inspection_overdue", FLAG),
        field("min_notice_minutes", COUNT),
        field("max_booking_minutes", nullable({"type": "integer", "minimum": 1})),
        field("turnaround_minutes", COUNT),
        field("portable", {**FLAG, "description": "Lent out: handed over and returned."}),
        field("checkin_required", FLAG),
        field("no_show_release_minutes", nullable({"type": "integer", "minimum": 1})),
        field(
            "weekly_hours",
            {"type": "array", "items": ref("WeeklyHours")},
            lambda asset, viewer: [
                WEEKLY_HOURS.dump(h, viewer)
                for h in sorted(asset.bookable_hours, key=lambda h: (h.weekday, h.opens))
            ],
        ),
        field(
            "needs_approval",
            {**FLAG, "description": "Would a booking by the token's user wait for a manager's approval?"},
            lambda asset, viewer: catalogue.needs_approval(viewer, asset),
        ),
        field(
            "managed", {**FLAG, "description": "Does the token's user manage this asset's School?"}, _manages
        ),
        field(
            "purchase_date",
            {**nullable({"type": "string", "format": "date"}), "description": "Managers only."},
            lambda asset, viewer: asset.purchase_date.isoformat() if asset.purchase_date else None,
            required=False,
            shown=_manages,
        ),
        field(
            "purchase_cost_pence",
            {**nullable({"type": "integer", "minimum": 0}), "description": "Managers only."},
            required=False,
            shown=_manages,
        ),
        field("funding_source", {**TEXT, "description": "Managers only."}, required=False, shown=_manages),
        utc_moment("created_at"),
        utc_moment("updated_at"),
        links(
            self=("api_v1.get_asset", "asset_id"),
            availability=("api_v1.asset_availability", "asset_id"),
            page=("inventory.asset", "asset_id"),
        ),
        documented_only(
            "bookings_affected",
            {
                **ref("BookingsAffected"),
                "description": "Only in the answer to a change (updateAsset): what it did to the asset's bookings.",
            },
            required=False,
        ),
    ),
    "An asset on the register, with the rules for booking it. The purchase fields are given only to "
    "managers of its School.",
)
BOOKING_ASSET = Representation(
    "BookingAsset", (field("id", ID), field("tag", TEXT), field("name", TEXT), nested("school", SCHOOL))
)
BOOKING = Representation(
    "Booking",
    (
        field("id", ID),
        nested("asset", BOOKING_ASSET),
        nested("requester", PERSON),
        nested("requester_school", SCHOOL, is_nullable=True),
        *moments("start", "Start", attribute="start_at"),
        *moments("end", "End", attribute="end_at"),
        *moments("blocked_until", "End of the turnaround after it"),
        field("purpose", TEXT),
        field("status", {"type": "string", "enum": [s.value for s in BookingStatus]}, value_of("status")),
        field("series_id", nullable(ID)),
        nested("decided_by", PERSON, is_nullable=True),
        *moments("decided_at", "When a manager approved or rejected it", is_nullable=True),
        field("decision_reason", TEXT),
        *moments("checked_in_at", "When its holder checked in", is_nullable=True),
        *moments("handed_over_at", "When a loan was handed over", is_nullable=True),
        *moments("returned_at", "When a loan came back", is_nullable=True),
        field("returned_damaged", FLAG),
        utc_moment("created_at"),
        links(self=("api_v1.get_booking", "booking_id"), page=("bookings.detail", "booking_id")),
    ),
    "A booking of an asset over [start, end). Statuses: pending (waiting for a manager), confirmed, "
    "checked_out (a loan handed over or a bench booking checked in), completed, rejected, cancelled, "
    "no_show, lapsed (a request nobody decided before its start).",
)
BOOKING_SERIES = Representation(
    "BookingSeries",
    (
        field(
            "series",
            obj({"id": ID, "description": TEXT}),
            lambda bookings, viewer: {
                "id": bookings[0].series.id,
                "description": bookings[0].series.description,
            },
        ),
        field(
            "bookings",
            {"type": "array", "items": ref("Booking")},
            lambda bookings, viewer: [BOOKING.dump(b, viewer) for b in bookings],
        ),
    ),
    "The bookings a recurring request made, all with the same status.",
)

SCHEMAS: dict[str, dict[str, Any]] = {
    "School": SCHOOL.json_schema,
    "Category": CATEGORY.json_schema,
    "Location": LOCATION.json_schema,
    "Person": PERSON.json_schema,
    "Contact": CONTACT.json_schema,
    "WeeklyHours": WEEKLY_HOURS.json_schema,
    "Asset": ASSET.json_schema,
    "Interval": INTERVAL,
    "Busy": obj(
        {
            **moment("start", "Start"),
            **moment("end", "End of the booking's turnaround"),
            "booking_id": ID,
            "holder": {
                **nullable(TEXT),
                "description": "Who holds it: only for your own bookings, or for managers.",
            },
        },
        description="Time an active booking holds the asset, its turnaround included.",
    ),
    "Availability": obj(
        {
            "asset_id": ID,
            **moment("from", "Start of the window"),
            **moment("to", "End of the window"),
            "bookable": {
                **FLAG,
                "description": "False when the asset is not available or not bookable: no free time.",
            },
            "busy": {"type": "array", "items": ref("Busy")},
            "maintenance": {"type": "array", "items": ref("Interval")},
            "free": {
                "type": "array",
                "items": ref("Interval"),
                "description": "Times within bookable hours, from the later of `from` and now plus the asset's "
                "minimum notice, clear of bookings (with turnaround) and maintenance: a booking that starts and "
                "ends inside one of them meets the time rules.",
            },
        },
        description="An asset's busy, maintenance and free time in a window.",
    ),
    "BookingAsset": BOOKING_ASSET.json_schema,
    "Booking": BOOKING.json_schema,
    "BookingSeries": BOOKING_SERIES.json_schema,
    "Recurrence": obj(
        {
            "frequency": {"type": "string", "enum": ["daily", "weekly"]},
            "count": {
                "type": "integer",
                "minimum": 1,
                "maximum": 100,
                "description": "How many times (or until).",
            },
            "until": {"type": "string", "format": "date", "description": "Last local date (or count)."},
        },
        required=["frequency"],
        description="Repeat at the same local wall-clock time each day or week, `count` times or `until` a date. "
        "Every occurrence is checked; if one breaks a rule, none is booked.",
    ),
    "BookingsAffected": obj(
        {
            "cancelled": {"type": "array", "items": ID, "description": "Confirmed bookings cancelled."},
            "rejected": {
                "type": "array",
                "items": ID,
                "description": "Pending requests rejected (retiring).",
            },
            "kept": {"type": "array", "items": ID, "description": "Bookings kept; their holders were told."},
        },
        description="The bookings a change to an asset ended or kept, by id. Every holder is notified.",
    ),
    "SchoolPage": page("School"),
    "CategoryPage": page("Category"),
    "AssetPage": page("Asset"),
    "BookingPage": page("Booking"),
    # --- Problems (RFC 9457) ---
    "Problem": obj(
        {
            "type": {
                **TEXT,
                "description": "A URI reference naming the problem type; it resolves to its description.",
            },
            "title": {**TEXT, "description": "The problem type, for people."},
            "status": {"type": "integer", "minimum": 400, "maximum": 599},
            "detail": {**TEXT, "description": "What went wrong this time, for people."},
            "instance": {**TEXT, "description": "The path of the request."},
        },
        required=["type", "title", "status", "detail"],
        description="application/problem+json (RFC 9457).",
    ),
    "InvalidProblem": {
        "allOf": [
            ref("Problem"),
            obj(
                {
                    "errors": {
                        "type": "object",
                        "additionalProperties": {"type": "array", "items": TEXT},
                        "description": "Messages by parameter or field name.",
                    }
                },
                required=["errors"],
            ),
        ],
        "description": "A malformed request (400) or input that breaks a rule (422).",
    },
    "Violation": obj(
        {
            "code": {
                **TEXT,
                "description": "Stable: asset_unavailable, not_bookable, inspection_overdue, not_shared, training, "
                "ends_before_start, in_past, min_notice, max_length, outside_hours, overlap, maintenance, "
                "nonexistent_time.",
            },
            "message": TEXT,
        },
        description="One rule a booking breaks.",
    ),
    "Conflict": obj(
        {
            "kind": {"type": "string", "enum": ["booking", "maintenance"]},
            **moment("start", "Start"),
            **moment("end", "End (a booking's turnaround included)"),
            "booking_id": nullable(ID),
            "holder": nullable(TEXT),
        },
        description="A booking or maintenance window in the way.",
    ),
    "BookingProblem": {
        "allOf": [
            ref("Problem"),
            obj(
                {
                    "violations": {"type": "array", "items": ref("Violation")},
                    "conflicts": {"type": "array", "items": ref("Conflict")},
                    "suggestions": {
                        "type": "array",
                        "items": ref("Interval"),
                        "description": "The next free times of the same length.",
                    },
                }
            ),
        ],
        "description": "A booking refused: 409 when only other bookings are in the way, 422 when a rule is broken.",
    },
    "Occurrence": obj(
        {
            **moment("start", "Start"),
            **moment("end", "End"),
            "violations": {"type": "array", "items": ref("Violation")},
            "conflicts": {"type": "array", "items": ref("Conflict")},
        },
        description="One occurrence of a recurring request; no violations means it could be booked.",
    ),
    "SeriesProblem": {
        "allOf": [
            ref("Problem"),
            obj({"occurrences": {"type": "array", "items": ref("Occurrence")}}),
        ],
        "description": "A recurring booking refused: nothing was booked.",
    },
}

SCHEMAS.update(FIGURES_SCHEMAS)
