"""The figures every renderer reads: ``report_to_json`` turns a ``Report`` into plain data (hours,
percentages, money, the months, the idle and saturated lists with why each is there), which the
page, the CSV and XLSX downloads, the API, the stored snapshots and the scheduled e-mails all read,
so that they cannot disagree.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from core.collector import collection_paused
from inventory.models import School
from reports.figures import (
    FIGURES_VERSION,
    AssetFigures,
    GroupFigures,
    MonthUsage,
    Report,
    Usage,
    reason_label,
    why_listed,
)
from reports.periods import Span

# --- The figures every renderer reads ------------------------------------------------------------


def _hours(seconds: int) -> float:
    return round(seconds / 3600, 2)


def _usage_json(usage: Usage) -> dict[str, Any]:
    return {
        "available_hours": _hours(usage.available_seconds),
        "booked_hours": _hours(usage.booked_seconds),
        "utilisation": usage.utilisation,
        "actual_hours": _hours(usage.actual_seconds),
        "actual_available_hours": _hours(usage.actual_available_seconds),
        "actual_utilisation": usage.actual_utilisation,
        "bookings": usage.bookings,
        "users": usage.users,
        "bookings_due": usage.due,
        "no_shows": usage.no_shows,
        "no_show_rate": usage.no_show_rate,
        "cancellation_base": usage.cancellation_base,
        "late_cancellations": usage.late_cancellations,
        "late_cancellation_rate": usage.late_cancellation_rate,
        "unmet_hours": _hours(usage.unmet_seconds),
        "unmet_requests": usage.unmet_requests,
        "cost_recovery_pence": usage.cost_recovery_pence,
        "outside_hours_bookings": usage.outside_hours_bookings,
    }


def _reasons_json(figures: AssetFigures | GroupFigures) -> list[dict[str, Any]]:
    """Unmet demand by reason: requests and hours, the most hours first."""
    return [
        {
            "reason": reason,
            "label": reason_label(reason),
            "requests": figures.unmet_requests_by_reason.get(reason, 0),
            "hours": _hours(seconds),
        }
        for reason, seconds in sorted(figures.unmet_by_reason.items(), key=lambda item: (-item[1], item[0]))
    ]


def _months_json(
    months: list[MonthUsage],
    names: dict[int, dict[str, str]] | None = None,
    hours: dict[int, float] | None = None,
) -> list[dict[str, Any]]:
    """``names``: each span's ``_span_json`` by ``id`` (a report's months share their spans);
    ``hours``: seconds already worked out as hours (a report has few distinct values)."""
    # (Run for every asset's every month: _hours and utilisation are inline.)
    hours_of = hours if hours is not None else {}
    result = []
    for m in months:
        span = names.get(id(m.span)) if names is not None else None
        if span is None:
            span = _span_json(m.span)
        available, booked = m.available_seconds, m.booked_seconds
        available_hours = hours_of.get(available)
        if available_hours is None:
            available_hours = hours_of[available] = round(available / 3600, 2)
        booked_hours = hours_of.get(booked)
        if booked_hours is None:
            booked_hours = hours_of[booked] = round(booked / 3600, 2)
        # (A copy of the span's names with three keys more: dict() copies a dict fastest.)
        result.append(
            dict(
                span,
                available_hours=available_hours,
                booked_hours=booked_hours,
                utilisation=booked / available if available else None,
            )
        )
    return result


@functools.lru_cache(maxsize=256)
def _span_json(span: Span) -> dict[str, str]:
    """A month's names and dates (the same for every asset of a report: worked out once)."""
    return {
        "month": span.key,
        "label": span.label,
        "from": span.first_day.isoformat(),
        "to": span.last_day.isoformat(),
    }


def _school_ref(schools_by_id: dict[int, School], school_id: int | None) -> dict[str, Any]:
    school = schools_by_id.get(school_id) if school_id is not None else None
    if school is None:
        return {"id": None, "code": "", "name": "No School"}
    return {"id": school.id, "code": school.code, "name": school.name}


def _totals_json(report: Report, names: dict[int, dict[str, str]] | None = None) -> dict[str, Any]:
    return {
        "assets": report.total.assets,
        **_usage_json(report.total),
        "months": _months_json(report.total.months, names),
        "unmet_by_reason": _reasons_json(report.total),
    }


def headline_json(report: Report) -> dict[str, Any]:
    """What the headline figures of another report compare with (``reports.summary``): the period,
    the totals as ``report_to_json`` has them, and whether each asset records use (the coverage of
    actual utilisation). For the period before the one on the page, without the JSON of its
    10,000 assets."""
    return {
        "period": {"from": report.period_from.isoformat(), "to": report.period_to.isoformat()},
        "totals": _totals_json(report),
        "assets": [{"tracks_actual_use": asset.tracks_actual_use} for asset in report.assets],
    }


@collection_paused()  # (core.collector: 120,000 month figures at full size)
def report_to_json(report: Report) -> dict[str, Any]:
    """The report's figures as plain JSON data: what the page, the CSV, the XLSX, the API and
    a stored snapshot all show. Hours are rounded to 2 places; ratios (0.25 = 25 %) are exact
    and null where the denominator is 0; money is integer pence."""
    schools_by_id = report.schools_by_id
    owners = sorted({owner for owner, _ in report.sharing}, key=lambda s: schools_by_id[s].code)
    borrowers = sorted(
        {borrower for _, borrower in report.sharing},
        key=lambda s: (s is None, schools_by_id[s].code if s is not None else ""),
    )
    names = {id(month.span): _span_json(month.span) for month in report.total.months}
    hours: dict[int, float] = {}
    # Each School's reference and code read once as plain data (not from the ORM's objects
    # again for each of 10,000 assets and their borrowers).
    refs = {school_id: _school_ref(schools_by_id, school_id) for school_id in [*schools_by_id, None]}
    codes = {school_id: ref["code"] for school_id, ref in refs.items()}
    assets = []
    for asset in report.assets:
        assets.append(
            {
                "id": asset.asset_id,
                "tag": asset.tag,
                "name": asset.name,
                "school_id": asset.school_id,
                "school_code": codes[asset.school_id],
                "category_id": asset.category_id,
                "category": asset.category_name,
                "hourly_rate_pence": asset.hourly_rate_pence,
                "in_service_from": asset.in_service_from.isoformat(),
                "in_service_to": asset.in_service_to.isoformat() if asset.in_service_to else None,
                "service_days": asset.service_days,
                "tracks_actual_use": asset.tracks_actual_use,
                **_usage_json(asset),
                "idle": asset.idle,
                "saturated": asset.saturated,
                "outside_hours": asset.outside_hours,
                "by_borrower": [
                    {**(refs.get(borrower) or _school_ref(schools_by_id, borrower)), "hours": _hours(seconds)}
                    for borrower, seconds in sorted(
                        asset.by_borrower.items(), key=lambda item: (item[0] is None, codes.get(item[0], ""))
                    )
                ],
                "unmet_by_reason": _reasons_json(asset),
                "months": _months_json(asset.months, names, hours),
            }
        )

    settings = report.settings

    def flagged(asset: AssetFigures, flag: str) -> dict[str, Any]:
        return {
            "why": why_listed(asset, settings),
            "id": asset.asset_id,
            "tag": asset.tag,
            "name": asset.name,
            "school_code": codes[asset.school_id],
            "utilisation": asset.utilisation,
            "booked_hours": _hours(asset.booked_seconds),
            "available_hours": _hours(asset.available_seconds),
            "unmet_hours": _hours(asset.unmet_seconds),
            "capacity_unmet_hours": _hours(asset.capacity_unmet_seconds),
            "capacity_unmet_people": asset.capacity_people,
        }

    scope = [schools_by_id[s] for s in report.school_ids] if report.school_ids is not None else None
    return {
        "version": FIGURES_VERSION,
        "title": report.title,
        "period": {"from": report.period_from.isoformat(), "to": report.period_to.isoformat()},
        "scope": {
            "school_ids": report.school_ids,
            "label": ", ".join(s.code for s in scope) if scope is not None else "All Schools",
            "schools": [{"id": s.id, "code": s.code, "name": s.name} for s in scope]
            if scope is not None
            else None,
        },
        "generated_at": report.generated_at.astimezone(dt.UTC).isoformat(),
        "settings": {
            "idle_threshold": report.settings.idle_threshold,
            "saturated_threshold": report.settings.saturated_threshold,
            "saturated_min_unmet_hours": report.settings.saturated_min_unmet_hours,
            "saturated_min_people": report.settings.saturated_min_people,
            "late_cancel_hours": report.settings.late_cancel_hours,
        },
        "totals": _totals_json(report, names),
        "schools": [
            {
                "id": g.key,
                "code": g.code,
                "name": g.label,
                "assets": g.assets,
                **_usage_json(g),
                "months": _months_json(g.months, names),
                "unmet_by_reason": _reasons_json(g),
            }
            for g in report.schools
        ],
        "categories": [
            {
                "id": g.key,
                "name": g.label,
                "assets": g.assets,
                **_usage_json(g),
                "unmet_by_reason": _reasons_json(g),
            }
            for g in report.categories
        ],
        "assets": assets,
        "sharing": {
            "owners": [_school_ref(schools_by_id, s) for s in owners],
            "borrowers": [_school_ref(schools_by_id, s) for s in borrowers],
            "cells": [
                {"owner_id": owner, "borrower_id": borrower, "hours": _hours(seconds)}
                for (owner, borrower), seconds in sorted(
                    report.sharing.items(),
                    key=lambda item: (
                        schools_by_id[item[0][0]].code,
                        item[0][1] is None,
                        _school_ref(schools_by_id, item[0][1])["code"],
                    ),
                )
            ],
        },
        "unmet_demand": [
            {"reason": r.reason, "label": r.label, "requests": r.requests, "hours": _hours(r.seconds)}
            for r in report.unmet_by_reason
        ],
        "idle": [flagged(a, "idle") for a in report.idle],
        "saturated": [flagged(a, "saturated") for a in report.saturated],
    }
