"""Find an expert in the JSON API: ``GET /api/v1/people``, the same search as the page.

``people.service.find_experts`` decides who matches and what of each person the caller may see;
a part of a profile the caller may not see is null here, as it is absent from the page.
(By the design card this would be ``people/api.py``; it lives here with the API's resources.)
"""

from __future__ import annotations

from typing import Any

from api import api_v1
from api.auth import api_user
from api.params import PAGING, Param, page_of, read_query
from api.representation import ID, TEXT, nullable, obj, page, ref
from api.schemas import SCHEMAS
from api.spec import Example, documented
from core.db import db
from people import service

QUERY = (
    Param(
        "q",
        "string",
        "Words that must all appear in the person's name, role title, specialisms or the "
        "equipment they look after (what the caller may see of them).",
        example="confocal",
    ),
    Param(
        "technique",
        "string",
        "A specialism or technique the person lists (case does not matter).",
        example="confocal microscopy",
    ),
    Param("asset", "integer", "Only people who look after this asset (its id).", minimum=1, example=1),
    Param(
        "category", "integer", "Only people who look after equipment of this category (its id).", minimum=1
    ),
    Param("school", "integer", "Only people of this School (its id).", minimum=1),
)

_HIDDEN = " Null when the person shows it only to their own School and the caller is not of it."
SCHEMAS.update(
    {
        "Expert": obj(
            {
                "id": ID,
                "name": TEXT,
                "school": nullable(ref("School")),
                "role_title": {**nullable(TEXT), "description": "Their role title (may be empty)." + _HIDDEN},
                "specialisms": {
                    "type": ["array", "null"],
                    "items": TEXT,
                    "description": "Specialisms and techniques." + _HIDDEN,
                },
                "registrations": {
                    "type": ["array", "null"],
                    "items": obj({"title": TEXT, "registered_on": {"type": "string", "format": "date"}}),
                    "description": "Professional registrations (RSciTech, RSci, CSci, RegTech, ...)."
                    + _HIDDEN,
                },
                "assets": {
                    "type": ["array", "null"],
                    "items": obj({"id": ID, "tag": TEXT, "name": TEXT, "school_id": ID}),
                    "description": "The equipment they look after (as its contact or a named technician)."
                    + _HIDDEN,
                },
            },
            description="A person as the caller may see them.",
        ),
        "ExpertPage": page("Expert"),
    }
)


def expert_json(view: service.PersonView) -> dict[str, Any]:
    school = view.school
    return {
        "id": view.user.id,
        "name": view.user.name,
        "school": {"id": school.id, "code": school.code, "name": school.name} if school else None,
        "role_title": view.role_title,
        "specialisms": view.specialisms,
        "registrations": (
            [
                {"title": r.title.value, "registered_on": r.registered_on.isoformat()}
                for r in view.registrations
            ]
            if view.registrations is not None
            else None
        ),
        "assets": (
            [{"id": a.id, "tag": a.tag, "name": a.name, "school_id": a.school_id} for a in view.assets]
            if view.assets is not None
            else None
        ),
    }


@api_v1.get("/people")
@documented(
    operation_id="findExperts",
    summary="Find an expert",
    description="Technicians who answer the search, by name: people with a profile or equipment to look after. "
    "All the given parameters must hold. A part of a profile the person shows only to their own School is "
    "neither searched nor returned for callers of other Schools (it is null).",
    tag="People",
    query=QUERY + PAGING,
    response=ref("ExpertPage"),
    errors=(422,),
    examples=(
        Example(
            "by_asset",
            "Who looks after the confocal microscope",
            200,
            query={"asset": 1},
            response={
                "items": [
                    {
                        "id": 1,
                        "name": "Carla Chem-Manager",
                        "school": {"id": 1, "code": "CHEM", "name": "School of Chemistry"},
                        "role_title": "",
                        "specialisms": [],
                        "registrations": [],
                        "assets": [
                            {"id": 1, "tag": "CHEM-0001", "name": "Confocal microscope", "school_id": 1}
                        ],
                    }
                ],
                "total": 1,
                "page": 1,
                "per_page": 20,
            },
        ),
    ),
)
def find_experts():
    args = read_query(QUERY + PAGING)
    query = service.ExpertQuery(
        q=(args.get("q") or "").strip(),
        technique=(args.get("technique") or "").strip(),
        asset_id=args.get("asset"),
        category_id=args.get("category"),
        school_id=args.get("school"),
    )
    people = service.find_experts(db.session, api_user(), query)
    start = (args["page"] - 1) * args["per_page"]
    items = [expert_json(view) for view in people[start : start + args["per_page"]]]
    return page_of(items, len(people), args["page"], args["per_page"])
