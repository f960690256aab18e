"""The shapes of the API's responses (OpenAPI 3.1 / JSON Schema 2020-12), in one place.

Request bodies are described by the ``Param`` lists next to their endpoints; these are the
objects the API answers with, and the test suite checks every response against them
(schemathesis, and the replayed examples).

A resource's representation is written once, as a ``Representation``: each ``Field`` gives its
JSON Schema and how to read it from the object, so the same definition documents the field
(``json_schema``) and serialises it (``dump``), and a field added to one cannot be missing from
the other.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from flask import url_for

from api.params import MAX_INT, TIME_PATTERN, local_text, utc_text
from bookings.models import BookingStatus
from inventory import catalogue
from inventory.models import AssetStatus

REF = "#/components/schemas/"


def ref(name: str) -> dict[str, str]:
    return {"$ref": REF + name}


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in schema:
        return {"anyOf": [schema, {"type": "null"}]}
    return {**schema, "type": [schema["type"], "null"]}


def obj(
    properties: dict[str, Any], required: list[str] | None = None, description: str = ""
) -> dict[str, Any]:
    """An object whose listed properties are all present unless ``required`` says otherwise."""
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
    }
    if description:
        schema["description"] = description
    return schema


ID = {"type": "integer", "minimum": 1, "maximum": MAX_INT}
TEXT = {"type": "string"}
COUNT = {"type": "integer", "minimum": 0}
FLAG = {"type": "boolean"}
UTC_TIME = {"type": "string", "format": "date-time", "description": "UTC, with Z."}
LOCAL_TIME = {
    "type": "string",
    "format": "date-time",
    "description": "The same instant in the university's zone.",
}


def moment(name: str, what: str, is_nullable: bool = False) -> dict[str, Any]:
    """A time as two properties: ``name`` in UTC and ``name_local`` in the university's zone."""
    utc = {**UTC_TIME, "description": f"{what} (UTC)."}
    local = {**LOCAL_TIME, "description": f"{what}, in the university's local time."}
    if is_nullable:
        utc, local = nullable(utc), nullable(local)
    return {name: utc, f"{name}_local": local}


def page(item: str) -> dict[str, Any]:
    return obj(
        {
            "items": {"type": "array", "items": ref(item)},
            "total": {**COUNT, "description": "How many items match, over every page."},
            "page": {**ID, "description": "This page's number, from 1."},
            "per_page": {"type": "integer", "minimum": 1, "maximum": 200},
        },
        description=f"One page of {item} objects.",
    )


INTERVAL = obj(
    {**moment("start", "Start"), **moment("end", "End")}, description="A half-open interval [start, end)."
)


# --- Representations: one definition serialises and documents ---------------------------------

Reader = Callable[[Any, Any], Any]  # (the object, the token's user) -> the field's JSON value


@dataclass(frozen=True)
class Field:
    """One property of a representation: its schema, and how to read it from the object.
    ``read`` None: documented here but added by the endpoint that answers with it; ``shown``:
    present only when it says so (the field is then not required)."""

    name: str
    schema: Mapping[str, Any]
    read: Reader | None
    required: bool = True
    shown: Callable[[Any, Any], bool] | None = None


@dataclass(frozen=True)
class Representation:
    name: str  # its component name in the document
    fields: tuple[Field, ...]
    description: str = ""

    @property
    def json_schema(self) -> dict[str, Any]:
        return obj(
            {f.name: dict(f.schema) for f in self.fields},
            required=[f.name for f in self.fields if f.required],
            description=self.description,
        )

    def dump(self, item: Any, viewer: Any = None) -> dict[str, Any]:
        """``item`` as the API answers with it (``viewer``: the token's user, for fields that
        depend on who asks)."""
        return {
            f.name: f.read(item, viewer)
            for f in self.fields
            if f.read is not None and (f.shown is None or f.shown(item, viewer))
        }


def field(name: str, schema: Mapping[str, Any], read: Reader | None = None, **options: Any) -> Field:
    """A property read from the attribute of the same name unless ``read`` says otherwise."""
    if read is None:
        getter = attrgetter(name)

        def read(item: Any, viewer: Any) -> Any:
            return getter(item)

    return Field(name, schema, read, **options)


def value_of(name: str) -> Reader:
    """An enum attribute's value."""
    getter = attrgetter(name)
    return lambda item, viewer: getter(item).value


def documented_only(name: str, schema: Mapping[str, Any], **options: Any) -> Field:
    return Field(name, schema, None, **options)


def moments(name: str, what: str, is_nullable: bool = False, attribute: str = "") -> tuple[Field, Field]:
    """A time as two fields, ``name`` in UTC and ``name_local`` in the university's zone (the
    schema of ``moment``), read from ``attribute`` (default: ``name``)."""
    utc_schema, local_schema = moment(name, what, is_nullable).values()
    getter = attrgetter(attribute or name)
    return (
        Field(name, utc_schema, lambda item, viewer: utc_text(getter(item))),
        Field(f"{name}_local", local_schema, lambda item, viewer: local_text(getter(item))),
    )


def utc_moment(name: str) -> Field:
    """A time given in UTC only (created_at, updated_at)."""
    getter = attrgetter(name)
    return Field(name, UTC_TIME, lambda item, viewer: utc_text(getter(item)))


def nested(name: str, representation: Representation, is_nullable: bool = False, **options: Any) -> Field:
    """Another representation inside this one, by reference."""
    getter = attrgetter(name)
    schema = ref(representation.name)

    def read(item: Any, viewer: Any) -> Any:
        value = getter(item)
        return None if value is None else representation.dump(value, viewer)

    return Field(name, nullable(schema) if is_nullable else schema, read, **options)


def links(**endpoints: tuple[str, str]) -> Field:
    """The ``links`` object: name -> (endpoint, its id argument), each url_for the object's id."""
    return Field(
        "links",
        obj({name: TEXT for name in endpoints}),
        lambda item, viewer: {
            name: url_for(endpoint, **{argument: item.id}) for name, (endpoint, argument) in endpoints.items()
        },
    )


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


# --- Reports (the figures of reports.figures_json.report_to_json) ---------------------------------

HOURS = {"type": "number", "minimum": 0}
RATIO = {
    "type": ["number", "null"],
    "minimum": 0,
    "description": "0.25 is 25%; null where nothing was available.",
}
REPORT_SCHOOL = obj(
    {"id": nullable(ID), "code": TEXT, "name": TEXT},
    description="A School; id null for people with no home School.",
)
USAGE = obj(
    {
        "available_hours": HOURS,
        "booked_hours": HOURS,
        "utilisation": RATIO,
        "actual_hours": HOURS,
        "actual_available_hours": HOURS,
        "actual_utilisation": RATIO,
        "bookings": COUNT,
        "users": COUNT,
        "bookings_due": COUNT,
        "no_shows": COUNT,
        "no_show_rate": RATIO,
        "cancellation_base": COUNT,
        "late_cancellations": COUNT,
        "late_cancellation_rate": RATIO,
        "unmet_hours": HOURS,
        "unmet_requests": COUNT,
        "cost_recovery_pence": COUNT,
        "outside_hours_bookings": COUNT,
    },
    description="The figures every row has; see definitions in the report for what each means.",
)
MONTH = obj(
    {
        "month": {"type": "string", "description": "YYYY-MM."},
        "label": TEXT,
        "from": {"type": "string", "format": "date"},
        "to": {"type": "string", "format": "date"},
        "available_hours": HOURS,
        "booked_hours": HOURS,
        "utilisation": RATIO,
    }
)
UNMET_BY_REASON = {
    "type": "array",
    "items": ref("UnmetReason"),
    "description": "Unmet demand by reason, the most hours first; a request refused for several reasons counts "
    "under each, so these may add up to more than unmet_hours.",
}
PERIOD_AND_SCOPE = {
    "title": TEXT,
    "period": obj({"from": {"type": "string", "format": "date"}, "to": {"type": "string", "format": "date"}}),
    "scope": obj(
        {
            "school_ids": nullable({"type": "array", "items": ID}),
            "label": TEXT,
            "schools": nullable({"type": "array", "items": ref("School")}),
        },
        description="The Schools whose assets the report covers; null ids: every School.",
    ),
    **moment("generated_at", "When the figures were made"),
    "definitions": {
        "type": "array",
        "items": obj({"term": TEXT, "meaning": TEXT}),
        "description": "What each figure means: the report page's definitions.",
    },
}

SCHEMAS.update(
    {
        "ReportSchool": REPORT_SCHOOL,
        "UnmetReason": obj(
            {
                "reason": {**TEXT, "description": "A stable code: overlap, rejected, training, ..."},
                "label": TEXT,
                "requests": COUNT,
                "hours": HOURS,
            },
            description="Refused and rejected requests for one reason: how many, and their hours in the period.",
        ),
        "Usage": USAGE,
        "MonthUsage": MONTH,
        "AssetUtilisation": {
            "allOf": [
                ref("Usage"),
                obj(
                    {
                        "id": ID,
                        "tag": TEXT,
                        "name": TEXT,
                        "school_id": ID,
                        "school_code": TEXT,
                        "category_id": nullable(ID),
                        "category": TEXT,
                        "hourly_rate_pence": COUNT,
                        "in_service_from": {"type": "string", "format": "date"},
                        "in_service_to": nullable({"type": "string", "format": "date"}),
                        "service_days": COUNT,
                        "tracks_actual_use": FLAG,
                        "idle": FLAG,
                        "saturated": FLAG,
                        "outside_hours": {
                            **FLAG,
                            "description": "It has bookings outside the bookable hours in force on their days.",
                        },
                        "by_borrower": {
                            "type": "array",
                            "items": {"allOf": [ref("ReportSchool"), obj({"hours": HOURS})]},
                        },
                        "unmet_by_reason": UNMET_BY_REASON,
                        "months": {"type": "array", "items": ref("MonthUsage")},
                    }
                ),
            ],
            "description": "One asset's figures (group_by=asset).",
        },
        "SchoolUtilisation": {
            "allOf": [
                ref("Usage"),
                obj(
                    {
                        "id": ID,
                        "code": TEXT,
                        "name": TEXT,
                        "assets": COUNT,
                        "months": {"type": "array", "items": ref("MonthUsage")},
                        "unmet_by_reason": UNMET_BY_REASON,
                    }
                ),
            ],
            "description": "One School's figures, summed over its assets (group_by=school).",
        },
        "CategoryUtilisation": {
            "allOf": [
                ref("Usage"),
                obj({"id": nullable(ID), "name": TEXT, "assets": COUNT, "unmet_by_reason": UNMET_BY_REASON}),
            ],
            "description": "One category's figures (group_by=category); id null for assets with no category.",
        },
        "UtilisationReport": obj(
            {
                **PERIOD_AND_SCOPE,
                "settings": obj(
                    {
                        "idle_threshold": {"type": "number"},
                        "saturated_threshold": {"type": "number"},
                        "late_cancel_hours": COUNT,
                        "saturated_min_unmet_hours": {"type": "number"},
                        "saturated_min_people": COUNT,
                    }
                ),
                "group_by": {"type": "string", "enum": ["asset", "school", "category"]},
                "totals": {
                    "allOf": [
                        ref("Usage"),
                        obj(
                            {
                                "assets": COUNT,
                                "months": {"type": "array", "items": ref("MonthUsage")},
                                "unmet_by_reason": UNMET_BY_REASON,
                            }
                        ),
                    ]
                },
                "rows": {
                    "type": "array",
                    "items": {
                        "anyOf": [
                            ref("AssetUtilisation"),
                            ref("SchoolUtilisation"),
                            ref("CategoryUtilisation"),
                        ]
                    },
                    "description": "One row per asset, School or category, as group_by asks.",
                },
            },
            description="Utilisation of the assets in scope over a period of local dates, both included.",
        ),
        "SharingReport": obj(
            {
                **PERIOD_AND_SCOPE,
                "owners": {"type": "array", "items": ref("ReportSchool")},
                "borrowers": {"type": "array", "items": ref("ReportSchool")},
                "cells": {
                    "type": "array",
                    "items": obj({"owner_id": ID, "borrower_id": nullable(ID), "hours": HOURS}),
                    "description": "Booked hours of the owner's assets by people of the borrower School.",
                },
                "owner_totals": {
                    "type": "array",
                    "items": obj(
                        {
                            "owner_id": ID,
                            "hours": {
                                **HOURS,
                                "description": "The row total: every booked hour of its assets.",
                            },
                            "lent_to_others_hours": {
                                **HOURS,
                                "description": "Booked by people not of the owning School (other Schools, or none).",
                            },
                            "share_lent_to_others": {
                                **RATIO,
                                "description": "lent_to_others_hours / hours (0.6 is 60%); null when it booked none.",
                            },
                        }
                    ),
                    "description": "One per owner, in the order of owners: the matrix's row totals.",
                },
                "borrower_totals": {
                    "type": "array",
                    "items": obj({"borrower_id": nullable(ID), "hours": HOURS}),
                    "description": "One per borrower, in the order of borrowers: the matrix's column totals.",
                },
                "total_hours": {**HOURS, "description": "The grand total: every booked hour in the matrix."},
            },
            description="The sharing matrix: booked hours of each owning School's assets by borrowing School.",
        ),
    }
)


# --- Capital planning (api/planning.py: the plan of planning.service.build_plan) ---------------

PENCE = {"type": "integer", "minimum": 0, "description": "Integer pence."}
DATE = {"type": "string", "format": "date"}
PLANNING_COMMON = {
    "title": TEXT,
    "scope": obj(
        {
            "school_ids": nullable({"type": "array", "items": ID}),
            "schools": nullable({"type": "array", "items": ref("School")}),
            "category": nullable(obj({"id": ID, "name": TEXT})),
            "label": TEXT,
        },
        description="The Schools (null: every School) and category (null: every category) the plan covers.",
    ),
    "today": {**DATE, "description": "The local date the plan is worked out on."},
    "evidence_period": obj(
        {"from": DATE, "to": DATE},
        description="The year to yesterday (or since Kitshare's records began): the use the plan reads.",
    ),
    "book_values_on": DATE,
    "years": {
        "type": "integer",
        "minimum": 1,
        "maximum": 5,
        "description": "Financial years in the forecast.",
    },
    "definitions": {
        "type": "array",
        "items": obj({"term": TEXT, "meaning": TEXT}),
        "description": "What each figure and recommendation means: the capital-planning page's definitions.",
    },
}
PLANNING_ASSET = {
    "id": ID,
    "tag": TEXT,
    "name": TEXT,
    "school": ref("School"),
    "category": nullable(obj({"id": ID, "name": TEXT})),
}

SCHEMAS.update(
    {
        "PlanningAsset": obj(PLANNING_ASSET, description="An asset, by name, with its School and category."),
        "ForecastGroup": obj(
            {
                "school_code": TEXT,
                "category": TEXT,
                "assets": COUNT,
                "asset_ids": {"type": "array", "items": ID},
                "replacement_pence": {
                    **PENCE,
                    "description": "The sum of their replacement estimates (integer pence).",
                },
                "unknown_cost": {
                    **COUNT,
                    "description": "Assets with no purchase or replacement cost: not in the sum.",
                },
                "available_hours": HOURS,
                "booked_hours": HOURS,
                "utilisation": RATIO,
                "unmet_hours": HOURS,
                "cost_recovery_pence": PENCE,
            },
            description="Sums over the assets of a School and category in a year (or of a whole year).",
        ),
        "ForecastYear": obj(
            {
                "key": {**TEXT, "description": "backlog, or the calendar year the financial year starts in."},
                "label": TEXT,
                "from": nullable(DATE),
                "to": nullable(DATE),
                "total": ref("ForecastGroup"),
                "groups": {"type": "array", "items": ref("ForecastGroup")},
            },
            description="The assets whose life ends in a financial year (the backlog: before this one), by School and "
            "category, with the year's total.",
        ),
        "ForecastAsset": obj(
            {
                **PLANNING_ASSET,
                "purchase_date": nullable(DATE),
                "purchase_cost_pence": nullable(PENCE),
                "useful_life_years": {"type": "integer", "minimum": 1},
                "useful_life_from": {"type": "string", "enum": ["asset", "category", "default"]},
                "annual_depreciation_pence": nullable(PENCE),
                "end_of_life": nullable(DATE),
                "end_of_life_year": nullable(TEXT),
                "forecast_year": {
                    **TEXT,
                    "description": "The key of the forecast year it is in; later, or undated (no purchase date).",
                },
                "book_value_pence": nullable(PENCE),
                "replacement_year": nullable(TEXT),
                "replacement_estimate_pence": nullable(PENCE),
                "utilisation": RATIO,
                "unmet_hours": nullable(HOURS),
                "cost_recovery_pence": nullable(PENCE),
                "maintenance_year_pence": PENCE,
            },
            description="An asset in service: its life, value and replacement estimate, and its use over the evidence "
            "year (null figures: not booked through Kitshare in the year).",
        ),
        "PlanningForecast": obj(
            {
                **PLANNING_COMMON,
                "financial_years": {"type": "array", "items": ref("ForecastYear")},
                "total": ref("ForecastGroup"),
                "assets": {"type": "array", "items": ref("ForecastAsset")},
            },
            description="The replacement forecast: the backlog, then each financial year; the total over them; and "
            "every asset in service in scope.",
        ),
        "PlanningDecision": obj(
            {
                "outcome": {"type": "string", "enum": ["accepted", "deferred", "declined"]},
                "label": TEXT,
                "note": TEXT,
                "decided_by": nullable(ref("Person")),
                **moment("decided_at", "When it was decided"),
            },
            description="A decision recorded against a recommendation.",
        ),
        "Recommendation": obj(
            {
                "kind": {"type": "string", "enum": ["replace", "invest", "share", "dispose"]},
                "label": TEXT,
                "asset": ref("PlanningAsset"),
                "reasons": {
                    "type": "array",
                    "items": TEXT,
                    "description": "Why the rule holds, with the figures that made it.",
                },
                "evidence": {
                    "type": "array",
                    "items": obj({"term": TEXT, "text": TEXT}),
                    "description": "The evidence lines shown beside it on the page, the same for every kind.",
                },
                "figures": obj(
                    {
                        "utilisation": RATIO,
                        "available_hours": nullable(HOURS),
                        "booked_hours": nullable(HOURS),
                        "booked_by_others_hours": nullable(HOURS),
                        "unmet_hours": nullable(HOURS),
                        "cost_recovery_pence": nullable(PENCE),
                        "book_value_pence": nullable(PENCE),
                        "replacement_estimate_pence": nullable(PENCE),
                        "maintenance_year_pence": PENCE,
                    },
                    description="Its figures over the evidence year (null: not booked through Kitshare) and its "
                    "value, in integer pence.",
                ),
                "decision": {
                    **nullable(ref("PlanningDecision")),
                    "description": "The current decision, if any.",
                },
                "decisions": {
                    "type": "array",
                    "items": ref("PlanningDecision"),
                    "description": "Newest first.",
                },
            },
            description="One recommendation for one asset.",
        ),
        "PlanningRecommendations": obj(
            {
                **PLANNING_COMMON,
                "counts": obj(
                    {"replace": COUNT, "invest": COUNT, "share": COUNT, "dispose": COUNT},
                    description="How many recommendations of each kind.",
                ),
                "recommendations": {"type": "array", "items": ref("Recommendation")},
            },
            description="Every recommendation the rules make for the assets in scope: replace first, then invest, "
            "share, dispose or redeploy.",
        ),
    }
)


def object_schema(params: Any, description: str = "") -> dict[str, Any]:
    """A request body's schema from its ``Param`` list."""
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {p.name: {**p.schema(), "description": p.description} for p in params},
    }
    required = [p.name for p in params if p.required]
    if required:
        schema["required"] = required
    if description:
        schema["description"] = description
    return schema
