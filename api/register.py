"""The register's reference lists in the JSON API: the Schools and the equipment categories.

Thin, like the pages: read the request, call ``inventory.service``, answer with JSON.
"""

from __future__ import annotations

from typing import Any

from api import api_v1
from api import examples as ex
from api.params import PAGING, page_of, read_query
from api.representation import ref
from api.schemas import CATEGORY, SCHOOL
from api.spec import Example, documenting
from core.db import db
from inventory import service


def _slice(items: list[Any], page: int, per_page: int) -> list[Any]:
    return items[(page - 1) * per_page : page * per_page]


# Every School or category, a page at a time.
register_listing = documenting(tag="Register", query=PAGING)


@api_v1.get("/schools")
@register_listing(
    operation_id="listSchools",
    summary="List the Schools",
    description="Every School, by name.",
    response=ref("SchoolPage"),
    examples=(
        Example(
            "all",
            "Every School",
            200,
            response={"items": [ex.CHEM, ex.PHYS], "total": 2, "page": 1, "per_page": 20},
        ),
    ),
)
def list_schools():
    args = read_query(PAGING)
    schools = service.list_schools(db.session)
    items = [SCHOOL.dump(s) for s in _slice(schools, args["page"], args["per_page"])]
    return page_of(items, len(schools), args["page"], args["per_page"])


@api_v1.get("/categories")
@register_listing(
    operation_id="listCategories",
    summary="List the categories",
    description="Every equipment category, by name.",
    response=ref("CategoryPage"),
    examples=(
        Example(
            "all",
            "Every category",
            200,
            response={"items": [ex.MICROSCOPY, ex.SPECTROSCOPY], "total": 2, "page": 1, "per_page": 20},
        ),
    ),
)
def list_categories():
    args = read_query(PAGING)
    categories = service.list_categories(db.session)
    items = [CATEGORY.dump(c) for c in _slice(categories, args["page"], args["per_page"])]
    return page_of(items, len(categories), args["page"], args["per_page"])
