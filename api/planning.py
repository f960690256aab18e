"""The capital plan in the JSON API: the replacement forecast and the recommendations.

The plan is the capital-planning page's: ``planning.service.build_plan`` builds it for what the
caller may see (finance staff and administrators every School, managers the Schools they manage,
anyone else 403), with the same filters and the same definitions (``planning.render``); the
evidence lines beside each recommendation are the page's (``planning.recommendations``). Nothing
is decided or counted here. Money is integer pence; hours are rounded to 2 places.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from api import api_v1
from api import examples as ex
from api.auth import api_user
from api.params import Param, read_query, times
from api.representation import ref
from api.schemas import SCHOOL
from api.spec import Example, documented
from core.config import current_settings
from core.db import db
from planning import render, service
from planning.evidence import AssetEvidence
from planning.forecast import Group, YearForecast
from planning.models import PlanningDecision
from planning.recommendations import ORDER, RecommendationItem, evidence_lines

FILTERS = (
    Param(
        "school",
        "integer",
        "Only this School's assets (its id). Default: every School for finance staff and administrators, the "
        "Schools they manage for managers.",
        minimum=1,
        example=1,
    ),
    Param("category", "integer", "Only this category's assets (its id). Default: every category.", minimum=1),
    Param(
        "years",
        "integer",
        f"How many financial years the forecast shows: this one and the ones after it, 1 to {service.MAX_YEARS}.",
        minimum=1,
        maximum=service.MAX_YEARS,
        default=service.MAX_YEARS,
    ),
)
_WHO = (
    " For finance staff and administrators (any School) and School managers (the Schools they manage); "
    "others get 403."
)


def _plan(args: dict[str, Any]) -> service.Plan:
    return service.build_plan(
        db.session,
        api_user(),
        school_id=args.get("school"),
        category_id=args.get("category"),
        years=args["years"],
        config=current_settings(),
    )


def _hours(seconds: int) -> float:
    return round(seconds / 3600, 2)


def _date(day: dt.date | None) -> str | None:
    return day.isoformat() if day is not None else None


def _common(plan: service.Plan, title: str) -> dict[str, Any]:
    schools = plan.evidence.schools_by_id
    scope = sorted(plan.school_ids, key=lambda s: schools[s].code) if plan.school_ids is not None else None
    return {
        "title": title,
        "scope": {
            "school_ids": scope,
            "schools": [SCHOOL.dump(schools[s]) for s in scope] if scope is not None else None,
            "category": {"id": plan.category.id, "name": plan.category.name} if plan.category else None,
            "label": plan.scope_label,
        },
        "today": plan.today.isoformat(),
        "evidence_period": {
            "from": plan.evidence.period_from.isoformat(),
            "to": plan.evidence.period_to.isoformat(),
        },
        "book_values_on": plan.evidence.valued_on.isoformat(),
        "years": plan.years,
        "definitions": [{"term": term, "meaning": meaning} for term, meaning in render.definitions(plan)],
    }


def _group_json(group: Group) -> dict[str, Any]:
    return {
        "school_code": group.school_code,
        "category": group.category,
        "assets": len(group.assets),
        "asset_ids": [item.asset.id for item in group.assets],
        "replacement_pence": group.replacement_pence,
        "unknown_cost": group.unknown_cost,
        "available_hours": _hours(group.available_seconds),
        "booked_hours": _hours(group.booked_seconds),
        "utilisation": group.utilisation,
        "unmet_hours": _hours(group.unmet_seconds),
        "cost_recovery_pence": group.cost_recovery_pence,
    }


def _year_json(year: YearForecast) -> dict[str, Any]:
    return {
        "key": year.key,
        "label": year.label,
        "from": _date(year.year.first_day if year.year else None),
        "to": _date(year.year.last_day if year.year else None),
        "total": _group_json(year.total),
        "groups": [_group_json(group) for group in year.groups],
    }


def _asset_ref(item: AssetEvidence, plan: service.Plan) -> dict[str, Any]:
    asset = item.asset
    return {
        "id": asset.id,
        "tag": asset.tag,
        "name": asset.name,
        "school": SCHOOL.dump(plan.evidence.schools_by_id[asset.school_id]),
        "category": {"id": asset.category.id, "name": asset.category.name} if asset.category else None,
    }


def _asset_json(item: AssetEvidence, plan: service.Plan, replaced_in: dict[int, str]) -> dict[str, Any]:
    life, figures = item.lifecycle, item.figures
    if life.end_year is None:
        forecast_year = "undated"
    else:
        forecast_year = replaced_in.get(item.asset.id, "later")
    return {
        **_asset_ref(item, plan),
        "purchase_date": _date(life.purchase_date),
        "purchase_cost_pence": life.cost_pence,
        "useful_life_years": life.life.years,
        "useful_life_from": life.life.source,
        "annual_depreciation_pence": life.annual_depreciation_pence,
        "end_of_life": _date(life.end_of_life),
        "end_of_life_year": life.end_year.label if life.end_year else None,
        "forecast_year": forecast_year,
        "book_value_pence": life.book_value_pence,
        "replacement_year": life.replacement_year.label if life.replacement_year else None,
        "replacement_estimate_pence": life.replacement_estimate_pence,
        "utilisation": figures.utilisation if figures else None,
        "unmet_hours": _hours(figures.unmet_seconds) if figures else None,
        "cost_recovery_pence": figures.cost_recovery_pence if figures else None,
        "maintenance_year_pence": item.maintenance_year_pence,
    }


@api_v1.get("/planning/forecast")
@documented(
    operation_id="getPlanningForecast",
    summary="Replacement forecast",
    description="The capital plan's replacement forecast (the capital-planning page's): the assets whose life "
    "ends in each financial year, from this one on, and the backlog already past its end of life, grouped by "
    "School and category with their replacement estimates in each year's prices (integer pence) and their use "
    "over the evidence year; and every asset's life, book value and replacement estimate. `forecast_year` on an "
    "asset is the key of the year it is in, `later` past the last year shown, or `undated` with no purchase date."
    + _WHO,
    tag="Planning",
    query=FILTERS,
    response=ref("PlanningForecast"),
    errors=(403, 422),
    examples=(
        Example(
            "microscopy",
            "CHEM's microscopes over the next five financial years",
            200,
            query={"school": 1, "category": 1},
            response=ex.planning_forecast(),
        ),
        Example(
            "other-school",
            "A manager asks for a School they do not manage",
            403,
            query={"school": 2},
            response=ex.problem(
                "forbidden",
                "Not allowed",
                403,
                "You can see capital planning only for the Schools you manage.",
                "/api/v1/planning/forecast",
            ),
        ),
    ),
)
def forecast():
    plan = _plan(read_query(FILTERS))
    replaced_in = {item.asset.id: year.key for year in plan.forecast.years for item in year.total.assets}
    overall = Group("All Schools", "All categories")
    for item in plan.forecast.assets:
        overall.add(item)
    return {
        **_common(plan, "Capital plan: replacement forecast"),
        "financial_years": [_year_json(year) for year in plan.forecast.years],
        "total": _group_json(overall),
        "assets": [_asset_json(item, plan, replaced_in) for item in plan.evidence.assets],
    }


def _decision_json(decision: PlanningDecision) -> dict[str, Any]:
    person = decision.decided_by
    return {
        "outcome": decision.outcome.value,
        "label": service.OUTCOME_LABELS[decision.outcome],
        "note": decision.note,
        "decided_by": {"id": person.id, "name": person.name} if person else None,
        **times(decided_at=decision.decided_at),
    }


def _recommendation_json(item: RecommendationItem, plan: service.Plan) -> dict[str, Any]:
    life, figures = item.evidence.lifecycle, item.evidence.figures
    return {
        "kind": item.kind.value,
        "label": item.label,
        "asset": _asset_ref(item.evidence, plan),
        "reasons": list(item.reasons),
        "evidence": [
            {"term": term, "text": text}
            for term, text in evidence_lines(item.evidence, plan.evidence.schools_by_id, plan.today)
        ],
        "figures": {
            "utilisation": figures.utilisation if figures else None,
            "available_hours": _hours(figures.available_seconds) if figures else None,
            "booked_hours": _hours(figures.booked_seconds) if figures else None,
            "booked_by_others_hours": _hours(item.evidence.booked_by_others_seconds) if figures else None,
            "unmet_hours": _hours(figures.unmet_seconds) if figures else None,
            "cost_recovery_pence": figures.cost_recovery_pence if figures else None,
            "book_value_pence": life.book_value_pence,
            "replacement_estimate_pence": life.replacement_estimate_pence,
            "maintenance_year_pence": item.evidence.maintenance_year_pence,
        },
        "decision": _decision_json(item.current) if item.current else None,
        "decisions": [_decision_json(decision) for decision in item.decisions],
    }


@api_v1.get("/planning/recommendations")
@documented(
    operation_id="getPlanningRecommendations",
    summary="Capital-planning recommendations",
    description="What the evidence of the last year recommends for each asset (the capital-planning page's): "
    "replace, invest (a second unit or a shared facility), share, or dispose or redeploy, each with the asset, "
    "the reasons the rule holds, the evidence lines shown beside it on the page, its figures (money in integer "
    "pence) and the decisions recorded against it (the latest first; `decision` is the current one, null when "
    "none is recorded). The definitions say what each kind means." + _WHO,
    tag="Planning",
    query=FILTERS,
    response=ref("PlanningRecommendations"),
    errors=(403, 422),
    examples=(
        Example(
            "chem",
            "What the evidence recommends for CHEM's assets",
            200,
            query={"school": 1},
            response=ex.planning_recommendations(),
        ),
        Example(
            "unknown-category",
            "A category that does not exist",
            422,
            query={"category": 999},
            response=ex.problem(
                "invalid-input",
                "Invalid input",
                422,
                "category: Choose a category from the list.",
                "/api/v1/planning/recommendations",
                errors={"category": ["Choose a category from the list."]},
            ),
        ),
    ),
)
def recommendations():
    plan = _plan(read_query(FILTERS))
    counts = {kind.value: 0 for kind in ORDER}
    for item in plan.recommendations:
        counts[item.kind.value] += 1
    return {
        **_common(plan, "Capital plan: recommendations"),
        "counts": counts,
        "recommendations": [_recommendation_json(item, plan) for item in plan.recommendations],
    }
