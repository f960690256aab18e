"""The example data the OpenAPI document's worked examples use.

A small university, as the reference page tells it (times in winter, when the university's
local time is UTC; "now" is Friday 28 December 2029, 12:00):

- Schools: 1 CHEM (School of Chemistry), 2 PHYS (School of Physics).
- Categories: 1 Microscopy, 2 Spectroscopy.
- People: 1 Carla Chem-Manager, manager of CHEM (the examples use her token);
  2 Priya Physicist of PHYS; 3 Pavel Phys-Manager, manager of PHYS.
- Assets: 1 CHEM-0001 Confocal microscope (30 minutes' turnaround, contact Carla);
  2 PHYS-0001 X-ray diffractometer (PHYS); 3 CHEM-0002 Portable spectrometer (lent out);
  4 CHEM-0003 Thermal camera (lent out). All bookable Monday to Friday, 09:00-17:00.
- Bookings: 1 Priya's pending request for the microscope, Mon 7 Jan 2030 10:00-12:00;
  2 Carla's confirmed booking of the microscope, Tue 8 Jan 10:00-11:00;
  3 Priya's confirmed loan of the spectrometer, today 13:00-17:00 (ready to hand over);
  4 Priya's loan of the thermal camera, handed over yesterday, due back Thu 3 Jan 2030 17:00.

The test suite builds exactly this (``tests/api/world.py``) and replays every example on it.
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

from planning import render as planning_render
from planning.lifecycle import PlanningSettings, financial_year
from reports import render as reports_render
from reports.figures import ReportSettings

NOW = "2029-12-28T12:00:00Z"
CHEM = {"id": 1, "code": "CHEM", "name": "School of Chemistry"}
PHYS = {"id": 2, "code": "PHYS", "name": "School of Physics"}
MICROSCOPY = {"id": 1, "name": "Microscopy", "description": "Light and electron microscopes."}
SPECTROSCOPY = {"id": 2, "name": "Spectroscopy", "description": ""}
MICROSCOPY_REF = {"id": 1, "name": "Microscopy"}
CARLA = {"id": 1, "name": "Carla Chem-Manager"}
PRIYA = {"id": 2, "name": "Priya Physicist"}
WEEKDAYS_9_TO_5 = [{"weekday": day, "opens": "09:00", "closes": "17:00"} for day in range(5)]


def at(text: str) -> dict[str, str]:
    """'2030-01-07T10:00' -> the UTC and local forms (equal in winter)."""
    return {"utc": text + ":00Z", "local": text + ":00+00:00"}


def moment(name: str, text: str | None) -> dict[str, Any]:
    if text is None:
        return {name: None, f"{name}_local": None}
    value = at(text)
    return {name: value["utc"], f"{name}_local": value["local"]}


MICROSCOPE: dict[str, Any] = {
    "id": 1,
    "tag": "CHEM-0001",
    "name": "Confocal microscope",
    "school": CHEM,
    "category": MICROSCOPY,
    "location": {"id": 1, "site": "Main campus", "building": "Joseph Black Building", "room": "B4.12"},
    "manufacturer": "Zeiss",
    "model": "LSM 900",
    "serial_number": "LSM-2291",
    "description": "Inverted confocal with four lasers.",
    "status": "available",
    "status_reason": "",
    "contact": {"id": 1, "name": "Carla Chem-Manager", "email": "carla@example.ac.uk"},
    "hourly_rate_pence": 2500,
    "bookable": True,
    "shareable": True,
    "requires_approval": False,
    "training_required": False,
    "block_when_inspection_overdue": False,
    "min_notice_minutes": 0,
    "max_booking_minutes": None,
    "turnaround_minutes": 30,
    "portable": False,
    "checkin_required": False,
    "no_show_release_minutes": None,
    "weekly_hours": WEEKDAYS_9_TO_5,
    "needs_approval": False,
    "managed": True,
    "purchase_date": "2024-03-01",
    "purchase_cost_pence": 45000000,
    "funding_source": "EPSRC capital award",
    "created_at": "2029-12-01T09:00:00Z",
    "updated_at": "2029-12-01T09:00:00Z",
    "links": {
        "self": "/api/v1/assets/1",
        "availability": "/api/v1/assets/1/availability",
        "page": "/assets/1",
    },
}

NEW_ASSET_BODY = {
    "school_id": 1,
    "tag": "CHEM-0100",
    "name": "Benchtop centrifuge",
    "category_id": None,
    "location_id": 1,
    "manufacturer": "Eppendorf",
    "model": "5810 R",
    "turnaround_minutes": 15,
    "weekly_hours": WEEKDAYS_9_TO_5,
}

NEW_ASSET = {
    **MICROSCOPE,
    "id": 5,
    "tag": "CHEM-0100",
    "name": "Benchtop centrifuge",
    "category": None,
    "manufacturer": "Eppendorf",
    "model": "5810 R",
    "serial_number": "",
    "description": "",
    "contact": None,
    "hourly_rate_pence": 0,
    "turnaround_minutes": 15,
    "purchase_date": None,
    "purchase_cost_pence": None,
    "funding_source": "",
    "created_at": NOW,
    "updated_at": NOW,
    "links": {
        "self": "/api/v1/assets/5",
        "availability": "/api/v1/assets/5/availability",
        "page": "/assets/5",
    },
}

MICROSCOPE_IN_MAINTENANCE = {
    **MICROSCOPE,
    "status": "maintenance",
    "status_reason": "Laser realignment by the manufacturer.",
    "updated_at": NOW,
}

MICROSCOPE_RETIRED = {
    **MICROSCOPE,
    "status": "retired",
    "status_reason": "Replaced by the new confocal microscope.",
    "updated_at": NOW,
}


def booking(
    booking_id: int,
    asset: dict[str, Any],
    requester: dict[str, Any],
    school: dict[str, Any],
    start: str,
    end: str,
    blocked_until: str,
    status: str,
    purpose: str,
    **extra: Any,
) -> dict[str, Any]:
    result = {
        "id": booking_id,
        "asset": {"id": asset["id"], "tag": asset["tag"], "name": asset["name"], "school": asset["school"]},
        "requester": requester,
        "requester_school": school,
        **moment("start", start),
        **moment("end", end),
        **moment("blocked_until", blocked_until),
        "purpose": purpose,
        "status": status,
        "series_id": None,
        "decided_by": None,
        **moment("decided_at", None),
        "decision_reason": "",
        **moment("checked_in_at", None),
        **moment("handed_over_at", None),
        **moment("returned_at", None),
        "returned_damaged": False,
        "created_at": "2029-12-20T09:00:00Z",
        "links": {"self": f"/api/v1/bookings/{booking_id}", "page": f"/bookings/{booking_id}"},
    }
    result.update(extra)
    return result


SPECTROMETER = {"id": 3, "tag": "CHEM-0002", "name": "Portable spectrometer", "school": CHEM}
CAMERA = {"id": 4, "tag": "CHEM-0003", "name": "Thermal camera", "school": CHEM}

PENDING_REQUEST = booking(
    1,
    MICROSCOPE,
    PRIYA,
    PHYS,
    "2030-01-07T10:00",
    "2030-01-07T12:00",
    "2030-01-07T12:30",
    "pending",
    "Imaging cell cultures",
)
APPROVED_REQUEST = {
    **PENDING_REQUEST,
    "status": "confirmed",
    "decided_by": CARLA,
    **moment("decided_at", "2029-12-28T12:00"),
}
REJECTED_REQUEST = {
    **PENDING_REQUEST,
    "status": "rejected",
    "decided_by": CARLA,
    **moment("decided_at", "2029-12-28T12:00"),
    "decision_reason": "The microscope is reserved for a course that week.",
}
CALIBRATION = booking(
    2,
    MICROSCOPE,
    CARLA,
    CHEM,
    "2030-01-08T10:00",
    "2030-01-08T11:00",
    "2030-01-08T11:30",
    "confirmed",
    "Calibration run",
)
CANCELLED_CALIBRATION = {**CALIBRATION, "status": "cancelled"}
LOAN_TO_HAND_OVER = booking(
    3,
    SPECTROMETER,
    PRIYA,
    PHYS,
    "2029-12-28T13:00",
    "2029-12-28T17:00",
    "2029-12-28T17:00",
    "confirmed",
    "Field measurements",
)
HANDED_OVER = {**LOAN_TO_HAND_OVER, "status": "checked_out", **moment("handed_over_at", "2029-12-28T12:00")}
LOAN_OUT = booking(
    4,
    CAMERA,
    PRIYA,
    PHYS,
    "2029-12-27T09:00",
    "2030-01-03T17:00",
    "2030-01-03T17:00",
    "checked_out",
    "Building survey",
    **moment("handed_over_at", "2029-12-27T09:00"),
)
LOAN_RETURNED = {**LOAN_OUT, "status": "completed", **moment("returned_at", "2029-12-28T12:00")}
NEW_BOOKING = booking(
    5,
    MICROSCOPE,
    CARLA,
    CHEM,
    "2030-01-09T10:00",
    "2030-01-09T12:00",
    "2030-01-09T12:30",
    "confirmed",
    "Imaging for the spring practical",
    created_at=NOW,
)


def interval(start: str, end: str) -> dict[str, str]:
    return {**moment("start", start), **moment("end", end)}


def problem(slug: str, title: str, status: int, detail: str, instance: str, **members: Any) -> dict[str, Any]:
    return {
        "type": f"/api/v1/problems/{slug}",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
        **members,
    }


BOOKING_CONFLICT = problem(
    "booking-conflict",
    "The time is taken",
    409,
    "It overlaps another booking (with 30 minutes turnaround).",
    "/api/v1/bookings",
    violations=[{"code": "overlap", "message": "It overlaps another booking (with 30 minutes turnaround)."}],
    conflicts=[
        {
            "kind": "booking",
            **moment("start", "2030-01-08T10:00"),
            **moment("end", "2030-01-08T11:30"),
            "booking_id": 2,
            "holder": "Carla Chem-Manager",
        }
    ],
    suggestions=[
        interval("2030-01-08T11:30", "2030-01-08T12:30"),
        interval("2030-01-08T13:00", "2030-01-08T14:00"),
        interval("2030-01-08T14:30", "2030-01-08T15:30"),
    ],
)

BOOKING_REFUSED = problem(
    "booking-refused",
    "The booking breaks a rule",
    422,
    "The booking falls outside Confocal microscope's bookable hours.",
    "/api/v1/bookings",
    violations=[
        {
            "code": "outside_hours",
            "message": "The booking falls outside Confocal microscope's bookable hours.",
        }
    ],
    conflicts=[],
    suggestions=[
        interval("2030-01-14T09:00", "2030-01-14T11:00"),
        interval("2030-01-14T11:30", "2030-01-14T13:30"),
        interval("2030-01-14T14:00", "2030-01-14T16:00"),
    ],
)

AVAILABILITY = {
    "asset_id": 1,
    **moment("from", "2030-01-08T00:00"),
    **moment("to", "2030-01-09T00:00"),
    "bookable": True,
    "busy": [
        {
            **moment("start", "2030-01-08T10:00"),
            **moment("end", "2030-01-08T11:30"),
            "booking_id": 2,
            "holder": "Carla Chem-Manager",
        }
    ],
    "maintenance": [],
    "free": [
        interval("2030-01-08T09:00", "2030-01-08T09:30"),
        interval("2030-01-08T11:30", "2030-01-08T17:00"),
    ],
}


# --- Reports (January 2030, as Carla, who manages CHEM: the report covers CHEM's assets) --------


def _definitions() -> list[dict[str, str]]:
    settings = ReportSettings()
    figures = {
        "settings": {
            "idle_threshold": settings.idle_threshold,
            "saturated_threshold": settings.saturated_threshold,
            "late_cancel_hours": settings.late_cancel_hours,
            "saturated_min_unmet_hours": settings.saturated_min_unmet_hours,
            "saturated_min_people": settings.saturated_min_people,
        }
    }
    return [{"term": term, "meaning": meaning} for term, meaning in reports_render.definitions(figures)]


JANUARY_CHEM_USAGE = {
    "available_hours": 552.0,
    "booked_hours": 66.0,
    "utilisation": 0.11956521739130435,
    "actual_hours": 0.0,
    "actual_available_hours": 368.0,
    "actual_utilisation": 0.0,
    "bookings": 2,
    "users": 2,
    "bookings_due": 0,
    "no_shows": 0,
    "no_show_rate": None,
    "cancellation_base": 1,
    "late_cancellations": 0,
    "late_cancellation_rate": 0.0,
    "unmet_hours": 0.0,
    "unmet_requests": 0,
    "cost_recovery_pence": 2500,
    "outside_hours_bookings": 0,
}
JANUARY = [
    {
        "month": "2030-01",
        "label": "Jan 2030",
        "from": "2030-01-01",
        "to": "2030-01-31",
        "available_hours": 552.0,
        "booked_hours": 66.0,
        "utilisation": 0.11956521739130435,
    }
]
REPORT_SCOPE = {"school_ids": [1], "label": "CHEM", "schools": [CHEM]}


def utilisation_report() -> dict[str, Any]:
    return {
        "title": "Utilisation, 1–31 Jan 2030",
        "period": {"from": "2030-01-01", "to": "2030-01-31"},
        "scope": REPORT_SCOPE,
        **moment("generated_at", "2029-12-28T12:00"),
        "definitions": _definitions(),
        "settings": {
            "idle_threshold": 0.1,
            "saturated_threshold": 0.8,
            "late_cancel_hours": 24,
            "saturated_min_unmet_hours": 8.0,
            "saturated_min_people": 2,
        },
        "group_by": "school",
        "totals": {"assets": 3, **JANUARY_CHEM_USAGE, "months": JANUARY, "unmet_by_reason": []},
        "rows": [
            {
                "id": 1,
                "code": "CHEM",
                "name": "School of Chemistry",
                "assets": 3,
                **JANUARY_CHEM_USAGE,
                "months": JANUARY,
                "unmet_by_reason": [],
            }
        ],
    }


def sharing_report() -> dict[str, Any]:
    return {
        "title": "Sharing between Schools, 1–31 Jan 2030",
        "period": {"from": "2030-01-01", "to": "2030-01-31"},
        "scope": REPORT_SCOPE,
        **moment("generated_at", "2029-12-28T12:00"),
        "definitions": _definitions(),
        "owners": [CHEM],
        "borrowers": [CHEM, PHYS],
        "cells": [
            {"owner_id": 1, "borrower_id": 1, "hours": 1.0},
            {"owner_id": 1, "borrower_id": 2, "hours": 65.0},
        ],
        # CHEM's 66 booked hours: 1 by its own people, 65 by PHYS's (lent: 65 / 66).
        "owner_totals": [
            {"owner_id": 1, "hours": 66.0, "lent_to_others_hours": 65.0, "share_lent_to_others": 65 / 66}
        ],
        "borrower_totals": [{"borrower_id": 1, "hours": 1.0}, {"borrower_id": 2, "hours": 65.0}],
        "total_hours": 66.0,
    }


# --- Capital planning ---------------------------------------------------------------------------
# Kitshare's records begin on 1 December 2029 (the microscope was added then), so the evidence
# year is 1-27 December 2029; the other assets were added today, after it. Only the microscope has
# a purchase date (1 March 2024, £450,000): with the default life of 10 years it ends on 1 March
# 2034, in the financial year 2033/34 (August to July), the fifth shown.


def _planning_definitions() -> list[dict[str, str]]:
    settings = PlanningSettings()
    plan = SimpleNamespace(
        settings=settings,
        report_settings=ReportSettings(),
        forecast=SimpleNamespace(financial_years=[SimpleNamespace(year=financial_year(settings, 2029))]),
        evidence=SimpleNamespace(period_from=dt.date(2029, 12, 1), period_to=dt.date(2029, 12, 27)),
    )
    return [{"term": term, "meaning": meaning} for term, meaning in planning_render.definitions(plan)]  # type: ignore[arg-type]


def _planning_common(title: str, category: dict[str, Any] | None, label: str) -> dict[str, Any]:
    return {
        "title": title,
        "scope": {"school_ids": [1], "schools": [CHEM], "category": category, "label": label},
        "today": "2029-12-28",
        "evidence_period": {"from": "2029-12-01", "to": "2029-12-27"},
        "book_values_on": "2029-12-28",
        "years": 5,
        "definitions": _planning_definitions(),
    }


def _forecast_group(school_code: str, category: str, asset_ids: list[int], **figures: Any) -> dict[str, Any]:
    return {
        "school_code": school_code,
        "category": category,
        "assets": len(asset_ids),
        "asset_ids": asset_ids,
        "replacement_pence": 0,
        "unknown_cost": 0,
        "available_hours": 0.0,
        "booked_hours": 0.0,
        "utilisation": None,
        "unmet_hours": 0.0,
        "cost_recovery_pence": 0,
        **figures,
    }


#: The microscope's figures over the evidence year: 19 weekdays of 8 hours, none booked.
MICROSCOPE_YEAR = {
    "replacement_pence": 60476237,  # £450,000 raised by 3% for each of 10 financial years, 2023/24 to 2033/34
    "available_hours": 152.0,
    "utilisation": 0.0,
}


def _forecast_year(
    key: str, label: str, first: str | None, last: str | None, groups: list[dict[str, Any]]
) -> dict[str, Any]:
    asset_ids = [i for group in groups for i in group["asset_ids"]]
    figures = MICROSCOPE_YEAR if asset_ids else {}
    return {
        "key": key,
        "label": label,
        "from": first,
        "to": last,
        "total": _forecast_group("All Schools", "All categories", asset_ids, **figures),
        "groups": groups,
    }


def planning_forecast() -> dict[str, Any]:
    return {
        **_planning_common("Capital plan: replacement forecast", MICROSCOPY_REF, "CHEM; Microscopy"),
        "financial_years": [
            _forecast_year("backlog", "Past end of life (before 2029/30)", None, None, []),
            *(
                _forecast_year(
                    str(year), f"{year}/{(year + 1) % 100:02d}", f"{year}-08-01", f"{year + 1}-07-31", []
                )
                for year in range(2029, 2033)
            ),
            _forecast_year(
                "2033",
                "2033/34",
                "2033-08-01",
                "2034-07-31",
                [_forecast_group("CHEM", "Microscopy", [1], **MICROSCOPE_YEAR)],
            ),
        ],
        "total": _forecast_group("All Schools", "All categories", [1], **MICROSCOPE_YEAR),
        "assets": [
            {
                "id": 1,
                "tag": "CHEM-0001",
                "name": "Confocal microscope",
                "school": CHEM,
                "category": MICROSCOPY_REF,
                "purchase_date": "2024-03-01",
                "purchase_cost_pence": 45000000,
                "useful_life_years": 10,
                "useful_life_from": "default",
                "annual_depreciation_pence": 4500000,
                "end_of_life": "2034-03-01",
                "end_of_life_year": "2033/34",
                "forecast_year": "2033",
                # £450,000 x (1 - 2128 days since purchase / 3652 days of life)
                "book_value_pence": 18778751,
                "replacement_year": "2033/34",
                "replacement_estimate_pence": 60476237,
                "utilisation": 0.0,
                "unmet_hours": 0.0,
                "cost_recovery_pence": 0,
                "maintenance_year_pence": 0,
            }
        ],
    }


def planning_recommendations() -> dict[str, Any]:
    # No asset has a year of evidence yet, nor is failing inspections or near its end of life.
    return {
        **_planning_common("Capital plan: recommendations", None, "CHEM"),
        "counts": {"replace": 0, "invest": 0, "share": 0, "dispose": 0},
        "recommendations": [],
    }
