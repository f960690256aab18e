"""The register in the JSON API: Schools, categories, and assets (search, read, add, change).

Thin, like the pages: read the request, call ``inventory.service`` / ``inventory.catalogue``,
answer with JSON. The services check who may do what; their errors become problems in
``api.problems``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from flask import request, url_for

from accounts.permissions import require_school_manager
from api import api_v1
from api import examples as ex
from api.auth import api_user
from api.params import PAGING, Param, page_of, read_body, read_query
from api.problems import etag
from api.representation import ref
from api.schemas import ASSET
from api.spec import Example, documenting
from bookings import asset_changes
from bookings.disruption import KEEP, Decisions, Settlement
from core.bounds import MAX_MINUTES, MAX_PENCE
from core.db import atomic, db
from core.errors import InvalidInput
from inventory import catalogue, service
from inventory.models import AssetStatus, School

# --- Assets -----------------------------------------------------------------------------------

ASSET_FILTERS = (
    Param(
        "q",
        "string",
        "Words that must all appear in the name, tag, manufacturer, model or description.",
        example="microscope",
    ),
    Param("school", "integer", "Only this School's assets (its id).", minimum=1),
    Param("category", "integer", "Only this category (its id).", minimum=1),
    Param("location", "integer", "Only this location (its id).", minimum=1),
    Param("status", "enum", "Only assets in this status.", choices=tuple(s.value for s in AssetStatus)),
    Param(
        "shareable",
        "boolean",
        "true: only assets the token's user may book (shared, or their own School's, and needing no training they lack).",
    ),
    Param("free_from", "datetime", "With free_to: only assets available and free over the whole period."),
    Param("free_to", "datetime", "With free_from: the end of the period."),
    Param("sort", "enum", "Sort order.", choices=tuple(catalogue.SORTS), default="name"),
    Param(
        "include_unbookable",
        "boolean",
        "true: the whole register, retired and unbookable assets too (default: what can be booked).",
        default=False,
    ),
)

asset_operation = documenting(tag="Assets")


@api_v1.get("/assets")
@asset_operation(
    operation_id="listAssets",
    summary="Search the register",
    description="Assets matching every filter given, across all Schools, as in the catalogue. Retired and "
    "unbookable assets are left out unless include_unbookable=true.",
    query=ASSET_FILTERS + PAGING,
    response=ref("AssetPage"),
    errors=(422,),
    examples=(
        Example(
            "search",
            "Search for microscopes",
            200,
            query={"q": "microscope"},
            response={"items": [ex.MICROSCOPE], "total": 1, "page": 1, "per_page": 20},
        ),
        Example(
            "too-many",
            "Ask for more than 200 a page",
            400,
            query={"per_page": 500},
            response=ex.problem(
                "malformed-request",
                "Malformed request",
                400,
                "The request is malformed; see errors for each parameter.",
                "/api/v1/assets",
                errors={"per_page": ["Give a whole number from 1 to 200."]},
            ),
        ),
    ),
)
def list_assets():
    args = read_query(ASSET_FILTERS + PAGING)
    # The catalogue reads the same filters from a query string, with its rules (a free period
    # needs both ends, in order); what it would drop with a message is refused here instead.
    filters, problems = catalogue.parse_filters(
        {name: _filter_text(args[name]) for name in FILTER_NAMES if name in args}
        | {"per_page": str(args["per_page"]), "page": str(args["page"])},
        include_unbookable=args["include_unbookable"],
    )
    if problems:
        raise InvalidInput(" ".join(problems), field_errors={"free_from": problems})
    user = api_user()
    result = catalogue.search(db.session, user, filters)
    return page_of([ASSET.dump(a, user) for a in result.items], result.total, result.page, result.per_page)


FILTER_NAMES = ("q", "school", "category", "location", "status", "shareable", "free_from", "free_to", "sort")


def _filter_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else ""
    if isinstance(value, dt.datetime):
        return value.isoformat()  # aware UTC: the catalogue keeps it as it is
    return str(value)


@api_v1.get("/assets/<asset_id>")
@asset_operation(
    operation_id="getAsset",
    summary="Read an asset",
    description="One asset with its booking rules and bookable hours. The ETag header is its version: send it "
    "back as If-Match with a change, so that the change is refused if somebody changed the asset in between.",
    path_params={"asset_id": "The asset's id."},
    response=ref("Asset"),
    response_headers={"ETag": "The asset's version, for If-Match."},
    examples=(
        Example(
            "microscope",
            "The confocal microscope, as a manager of CHEM sees it",
            200,
            path={"asset_id": 1},
            response=ex.MICROSCOPE,
        ),
        Example(
            "unknown",
            "An asset that does not exist",
            404,
            path={"asset_id": 999},
            response=ex.problem(
                "not-found", "Not found", 404, "There is no such asset.", "/api/v1/assets/999"
            ),
        ),
    ),
)
def get_asset(asset_id: int):
    asset = service.get_asset(db.session, asset_id)
    return ASSET.dump(asset, api_user()), 200, {"ETag": etag(asset.version)}


IF_MATCH = Param(
    "If-Match",
    "string",
    "The ETag of the asset as you read it (GET sends it). If the asset has changed since, the answer is "
    "412 and nothing is changed, so your change cannot undo one you have not seen. Without it the change "
    "is made to the asset as it is now.",
)


def if_match_version(current: int) -> int | None:
    """The version an If-Match header asks for: None without one (or with ``*``); ``current`` if
    any tag it lists is the current version (RFC 9110: any may match); else one it lists, or -1
    for tags that can be no version."""
    value = request.headers.get("If-Match", "").strip()
    if not value or value == "*":
        return None
    tags = [tag.strip().removeprefix("W/").strip('"') for tag in value.split(",")]
    versions = [int(tag) for tag in tags if tag.isascii() and tag.isdigit() and len(tag) < 10]
    return current if current in versions else (versions[0] if versions else -1)


ASSET_FIELDS = (
    Param(
        "tag",
        "string",
        "The asset tag, unique: letters, digits, dots, hyphens, slashes, underscores (up to 50).",
    ),
    Param("name", "string", "Its name (up to 200 characters)."),
    Param("category_id", "integer", "A category's id.", nullable=True, minimum=1),
    Param("location_id", "integer", "One of the School's locations.", nullable=True, minimum=1),
    Param("manufacturer", "string", "Up to 200 characters."),
    Param("model", "string", "Up to 200 characters."),
    Param("serial_number", "string", "Up to 200 characters."),
    Param("description", "string", "What it is and does."),
    Param("purchase_date", "date", "When it was bought.", nullable=True),
    Param(
        "purchase_cost_pence",
        "integer",
        "What it cost, in pence; not negative.",
        nullable=True,
        maximum=MAX_PENCE,
    ),
    Param("funding_source", "string", "Who paid for it (up to 200 characters)."),
    Param(
        "contact_id", "integer", "An active person who answers questions about it.", nullable=True, minimum=1
    ),
    Param("hourly_rate_pence", "integer", "Charge per hour in pence; not negative.", maximum=MAX_PENCE),
    Param("bookable", "boolean", "Can it be booked in Kitshare at all?"),
    Param("shareable", "boolean", "May other Schools' people book it?"),
    Param("requires_approval", "boolean", "Do all bookings wait for a manager's approval?"),
    Param("training_required", "boolean", "Only people with a current training authorisation may book it."),
    Param("block_when_inspection_overdue", "boolean", "Refuse bookings while an inspection is overdue."),
    Param(
        "min_notice_minutes", "integer", "How far ahead it must be booked; not negative.", maximum=MAX_MINUTES
    ),
    Param(
        "max_booking_minutes",
        "integer",
        "The longest booking (more than 0), or null for no limit.",
        nullable=True,
        maximum=MAX_MINUTES,
    ),
    Param(
        "turnaround_minutes",
        "integer",
        "Time it stays blocked after each booking; not negative.",
        maximum=MAX_MINUTES,
    ),
    Param("portable", "boolean", "Lent out: its staff hand it over and take it back."),
    Param("checkin_required", "boolean", "Bench kit whose holder checks in at the start."),
    Param(
        "no_show_release_minutes",
        "integer",
        "Release a booking not checked in this many minutes after its start, or null: never.",
        nullable=True,
        minimum=1,  # the service does not check it yet; the database refuses 0 and less
        maximum=MAX_MINUTES,
    ),
    Param(
        "weekly_hours",
        "weekly_hours",
        "Its bookable hours in local time (default Monday to Friday, 09:00-17:00; an empty list: never).",
    ),
)
_CREATE_FIELDS = (
    Param("school_id", "integer", "The School that owns it (you must manage it).", required=True, minimum=1),
) + tuple(dataclasses.replace(p, required=p.name in ("tag", "name")) for p in ASSET_FIELDS)
_PATCH_FIELDS = ASSET_FIELDS + (
    Param("status", "enum", "Put it in or out of service.", choices=tuple(s.value for s in AssetStatus)),
    Param(
        "status_reason",
        "string",
        "Why: required for any status but available. It is also the reason "
        "given to the people whose bookings the change cancels or rejects.",
    ),
    Param(
        "affected_bookings",
        "enum",
        "What to do with confirmed bookings still to come that the change leaves in the way: status "
        "maintenance or out_of_service (all of them), or narrower weekly_hours (those that no longer fit). "
        "keep (the default): they stay confirmed and each holder is told of the change; cancel: they are "
        "cancelled with status_reason (or a note of the new hours) as the reason, and each holder is told. "
        "Retiring ignores it: it always cancels every confirmed booking still to come and rejects every "
        "pending request, with status_reason as the reason.",
        choices=("keep", "cancel"),
        default="keep",
    ),
)


def _asset_input(values: dict[str, Any], base: service.AssetInput | None = None) -> service.AssetInput:
    given = {f.name: values[f.name] for f in dataclasses.fields(service.AssetInput) if f.name in values}
    if base is None:
        return service.AssetInput(**given)
    return dataclasses.replace(base, **given)


@api_v1.post("/assets")
@asset_operation(
    operation_id="createAsset",
    summary="Add an asset",
    description="A manager of the School adds an asset to its register (admins: any School). It starts available.",
    body=_CREATE_FIELDS,
    body_name="AssetCreate",
    status=201,
    response=ref("Asset"),
    response_description="The asset was added.",
    response_headers={"Location": "The new asset's address."},
    errors=(403, 422),
    examples=(
        Example("centrifuge", "Add a centrifuge to CHEM", 201, body=ex.NEW_ASSET_BODY, response=ex.NEW_ASSET),
        Example(
            "tag-taken",
            "A tag another asset has",
            422,
            body={"school_id": 1, "tag": "CHEM-0001", "name": "Second microscope"},
            response=ex.problem(
                "invalid-input",
                "Invalid input",
                422,
                "tag: The tag CHEM-0001 is already used by Confocal microscope (CHEM).",
                "/api/v1/assets",
                errors={"tag": ["The tag CHEM-0001 is already used by Confocal microscope (CHEM)."]},
            ),
        ),
        Example(
            "other-school",
            "An asset for a School you do not manage",
            403,
            body={"school_id": 2, "tag": "PHYS-0100", "name": "Oscilloscope"},
            response=ex.problem(
                "forbidden",
                "Not allowed",
                403,
                "Only a manager of the School that owns this can do that.",
                "/api/v1/assets",
            ),
        ),
    ),
)
def create_asset():
    values = read_body(_CREATE_FIELDS)
    user = api_user()
    school = db.session.get(School, values["school_id"])
    if school is None:
        require_school_manager(user, None)  # only admins learn that the School does not exist
        raise InvalidInput(field_errors={"school_id": ["There is no such School."]})
    asset = service.create_asset(db.session, user, school, _asset_input(values))
    asset = service.get_asset(db.session, asset.id)
    return ASSET.dump(asset, user), 201, {"Location": url_for("api_v1.get_asset", asset_id=asset.id)}


@api_v1.patch("/assets/<asset_id>")
@asset_operation(
    operation_id="updateAsset",
    summary="Change an asset",
    description="A manager of the asset's School changes the fields given (the others stay as they are), and "
    "may put it in or out of service with status and status_reason. In the same transaction, bookings the "
    "change leaves behind are settled: status retired or disposed cancels every confirmed booking still to come and "
    "rejects every pending request, with status_reason as the reason; maintenance, out_of_service or narrower "
    "weekly_hours keep (default) or cancel the confirmed bookings in the way, as affected_bookings says. "
    "Every holder is told. The answer's bookings_affected lists the ids cancelled, rejected and kept.",
    path_params={"asset_id": "The asset's id."},
    body=_PATCH_FIELDS,
    body_name="AssetPatch",
    headers=(IF_MATCH,),
    response=ref("Asset"),
    response_headers={"ETag": "The asset's version after the change."},
    errors=(403, 412, 422),
    examples=(
        Example(
            "maintenance",
            "Take the microscope out for maintenance",
            200,
            path={"asset_id": 1},
            body={"status": "maintenance", "status_reason": "Laser realignment by the manufacturer."},
            response={
                **ex.MICROSCOPE_IN_MAINTENANCE,
                "bookings_affected": {
                    "cancelled": [],
                    "rejected": [],
                    "kept": [2, 1],
                },  # a booking, a request
            },
        ),
        Example(
            "retire",
            "Retire the microscope: its bookings to come are cancelled, its requests rejected",
            200,
            path={"asset_id": 1},
            body={"status": "retired", "status_reason": "Replaced by the new confocal microscope."},
            response={
                **ex.MICROSCOPE_RETIRED,
                "bookings_affected": {"cancelled": [2], "rejected": [1], "kept": []},
            },
        ),
        Example(
            "no-reason",
            "Retire it without saying why",
            422,
            path={"asset_id": 1},
            body={"status": "retired"},
            response=ex.problem(
                "invalid-input",
                "Invalid input",
                422,
                "status_reason: Say why the asset is retired.",
                "/api/v1/assets/1",
                errors={"status_reason": ["Say why the asset is retired."]},
            ),
        ),
    ),
)
def update_asset(asset_id: int):
    values = read_body(_PATCH_FIELDS)
    user = api_user()
    decisions = Decisions(default=values.get("affected_bookings", KEEP))
    settled = Settlement()
    # One unit: an edit and a status change in one request succeed or fail together (core/db.py).
    with atomic(db.session, user):
        asset = service.get_asset(db.session, asset_id)
        require_school_manager(user, asset.school_id)
        service.lock_asset(db.session, asset)  # the status change below then sees the same asset
        service.check_version(asset, if_match_version(asset.version))
        if any(f.name in values for f in dataclasses.fields(service.AssetInput)):
            settled = asset_changes.update_asset(
                db.session, user, asset, _asset_input(values, service.AssetInput.from_asset(asset)), decisions
            )
        if "status" in values or "status_reason" in values:
            status = AssetStatus(values.get("status", asset.status.value))
            try:
                settled = settled.then(
                    asset_changes.change_asset_status(
                        db.session, user, asset, status, values.get("status_reason", ""), decisions
                    )
                )
            except InvalidInput as error:  # the service names the page's field; this is status_reason
                raise InvalidInput(
                    error.message, {"status_reason": error.field_errors.get("reason", [])}
                ) from None
    asset = service.get_asset(db.session, asset_id)
    return (
        ASSET.dump(asset, user) | {"bookings_affected": settled.as_json()},
        200,
        {"ETag": etag(asset.version)},
    )
