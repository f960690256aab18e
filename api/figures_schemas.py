"""The shapes of the figures the API answers with: the utilisation report
(``reports.figures_json.report_to_json``), its sharing matrix, and the capital plan
(``planning.service.build_plan``). They are documents built by the reports and planning
services, not representations of one object, so they are plain JSON Schema; ``api.schemas``
adds them to every other component (``FIGURES_SCHEMAS``).
"""

from __future__ import annotations

from typing import Any

from api.representation import COUNT, FLAG, ID, TEXT, moment, nullable, obj, ref

FIGURES_SCHEMAS: dict[str, dict[str, Any]] = {}


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

FIGURES_SCHEMAS.update(
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

FIGURES_SCHEMAS.update(
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
