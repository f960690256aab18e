"""Utilisation and sharing figures in the JSON API.

The figures are the report page's: ``reports.figures.utilisation_report`` builds them and
``report_to_json`` shapes them, with the same definitions (``reports.render.definitions``);
``report_scope_for`` decides whose assets the caller may see. Nothing is counted here.
(By the design card this would be ``reports/api.py``; it lives here until that package takes it.)
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from api import api_v1
from api import examples as ex
from api.auth import api_user
from api.params import Param, read_query, times
from api.representation import ref
from api.spec import Example, documented
from core.collector import collection_paused
from core.config import current_settings
from core.db import db
from reports.figures import Report, ReportSettings, report_scope_for, utilisation_report
from reports.figures_json import report_to_json
from reports.periods import describe_period
from reports.render import definitions
from reports.sharing import sharing_totals

PERIOD = (
    Param("from", "date", "The first local date of the period.", required=True, example="2030-01-01"),
    Param(
        "to",
        "date",
        "The last local date of the period (included; at most about ten years on).",
        required=True,
        example="2030-01-31",
    ),
    Param(
        "school",
        "ids",
        "Only these Schools' assets (repeat it for several). Default: every School for finance staff and "
        "administrators, the Schools they manage for managers.",
    ),
)
GROUPING = (
    Param(
        "group_by",
        "enum",
        "One row per asset, School or category.",
        choices=("asset", "school", "category"),
        default="school",
    ),
)
_ROWS = {"asset": "assets", "school": "schools", "category": "categories"}
_WHO = (
    " For finance staff and administrators (any School) and School managers (the Schools they manage); "
    "others get 403."
)


def _report(args: dict[str, Any]) -> Report:
    user = api_user()
    scope = report_scope_for(user, args.get("school") or None)
    settings = current_settings()
    return utilisation_report(
        db.session,
        args["from"],
        args["to"],
        scope,
        ReportSettings.from_config(settings),
        readers=settings.report_readers,
    )


def _figures(args: dict[str, Any]) -> dict[str, Any]:
    return report_to_json(_report(args))


def _hours(seconds: int) -> float:
    return round(seconds / 3600, 2)


def _sharing_totals_json(report: Report, figures: dict[str, Any]) -> dict[str, Any]:
    """The matrix's row, column and grand totals and each owner's share lent to other Schools
    (``reports.sharing``), in the order of the matrix's owners and borrowers."""
    totals = sharing_totals(report)
    return {
        "owner_totals": [
            {
                "owner_id": owner["id"],
                "hours": _hours(totals.owners[owner["id"]].booked_seconds),
                "lent_to_others_hours": _hours(totals.owners[owner["id"]].lent_seconds),
                "share_lent_to_others": totals.owners[owner["id"]].share_lent,
            }
            for owner in figures["sharing"]["owners"]
        ],
        "borrower_totals": [
            {"borrower_id": borrower["id"], "hours": _hours(totals.borrowers[borrower["id"]])}
            for borrower in figures["sharing"]["borrowers"]
        ],
        "total_hours": _hours(totals.total_seconds),
    }


def _common(figures: dict[str, Any], generated_at: Any) -> dict[str, Any]:
    return {
        "title": figures["title"],
        "period": figures["period"],
        "scope": figures["scope"],
        **times(generated_at=generated_at),
        "definitions": [{"term": term, "meaning": meaning} for term, meaning in definitions(figures)],
    }


def _generated_at(figures: dict[str, Any]) -> dt.datetime:
    return dt.datetime.fromisoformat(figures["generated_at"])


@api_v1.get("/reports/utilisation")
@documented(
    operation_id="getUtilisationReport",
    summary="Utilisation figures",
    description="Available, booked and actually used hours, utilisation, no-shows, late cancellations, unmet demand "
    "(with its requests and hours by reason, on every row and the totals) and cost recovery over a period, by "
    "asset, School or category, with the totals and the definitions of every figure (the report page's)."
    + _WHO,
    tag="Reports",
    query=PERIOD + GROUPING,
    response=ref("UtilisationReport"),
    errors=(403, 422),
    examples=(
        Example(
            "january",
            "CHEM's figures for January 2030, by School",
            200,
            query={"from": "2030-01-01", "to": "2030-01-31", "group_by": "school"},
            response=ex.utilisation_report(),
        ),
        Example(
            "backwards",
            "A period that ends before it starts",
            422,
            query={"from": "2030-01-31", "to": "2030-01-01"},
            response=ex.problem(
                "invalid-input",
                "Invalid input",
                422,
                "period_to: The last day must be on or after the first day.",
                "/api/v1/reports/utilisation",
                errors={"period_to": ["The last day must be on or after the first day."]},
            ),
        ),
    ),
)
@collection_paused()  # (core.collector: a report builds millions of objects)
def utilisation():
    args = read_query(PERIOD + GROUPING)
    figures = _figures(args)
    return {
        **_common(figures, _generated_at(figures)),
        "settings": figures["settings"],
        "group_by": args["group_by"],
        "totals": figures["totals"],
        "rows": figures[_ROWS[args["group_by"]]],
    }


@api_v1.get("/reports/sharing")
@documented(
    operation_id="getSharingReport",
    summary="Sharing between Schools",
    description="Booked hours of each owning School's assets by the School of the person who booked, over a "
    "period (the report page's sharing matrix), with its row totals (per owning School), column totals (per "
    "borrowing School), grand total, and each owning School's share lent to others: hours booked by people not "
    "of the School / its booked hours." + _WHO,
    tag="Reports",
    query=PERIOD,
    response=ref("SharingReport"),
    errors=(403, 422),
    examples=(
        Example(
            "january",
            "Who booked CHEM's assets in January 2030",
            200,
            query={"from": "2030-01-01", "to": "2030-01-31"},
            response=ex.sharing_report(),
        ),
    ),
)
@collection_paused()  # (core.collector: a report builds millions of objects)
def sharing():
    args = read_query(PERIOD)
    report = _report(args)
    figures = report_to_json(report)
    title = "Sharing between Schools, " + describe_period(args["from"], args["to"])
    return {
        **_common(figures, _generated_at(figures)),
        "title": title,
        **figures["sharing"],
        **_sharing_totals_json(report, figures),
    }
