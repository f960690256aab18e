"""The evidence capital planning reads for each asset over the last year.

Utilisation, unmet demand, sharing and cost recovery come from the utilisation report
(``reports.figures.utilisation_report``, whose rules the reports page states); this module adds
only what the report does not give per asset, each with one aggregate query:

* unmet demand by the requester's School (the report has it by reason only), all of it and
  that turned away for want of free time (``reports.aggregate.is_capacity_demand``: refused only
  because the time was already booked, or waitlisted and never served), and the requests behind
  each reason, counted and not counted as capacity demand, so each recommendation can list them;
* failed inspections (the inspection records);
* maintenance and inspection costs (the cost recorded on maintenance windows and inspections).

The evidence period is the year to yesterday: from today's date a year ago to yesterday, both
included (29 February a year ago is 28 February); or, when Kitshare's records began later (the
day its first asset was added), from that day, so that the months before Kitshare was used do
not count as months nobody used the kit.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import String, and_, case, cast, func, literal, select
from sqlalchemy.orm import Session, joinedload

from bookings.models import UnmetDemand
from core.db import UTCDateTime, hours_between, utcnow
from core.timeutil import to_local
from inventory.models import (
    WITHDRAWN_STATUSES,
    Asset,
    InspectionKind,
    InspectionOutcome,
    InspectionRecord,
    InspectionSchedule,
    MaintenanceWindow,
    School,
)
from planning.lifecycle import Lifecycle, PlanningSettings, add_years, lifecycle
from reports.aggregate import CAPACITY_REASONS, is_capacity_demand
from reports.figures import AssetFigures, ReportSettings, utilisation_report
from reports.periods import utc_bounds
from reports.sql import greatest, least


def evidence_period(today: dt.date, records_from: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The year to yesterday (18 March 2025 to 17 March 2026 when today is 18 March 2026), or
    from the day Kitshare's records began if that is later."""
    last = today - dt.timedelta(days=1)
    first = add_years(today, -1)
    if records_from is not None and records_from > first:
        first = min(records_from, last)
    return first, last


def records_began(session: Session) -> dt.date | None:
    """The local date Kitshare's records began: the day its first asset was added."""
    first = session.scalar(select(func.min(Asset.created_at)))
    return to_local(first).date() if first is not None else None


@dataclass(frozen=True)
class FailedInspection:
    kind: InspectionKind
    done_on: dt.date
    latest: bool  # the latest inspection of its kind: not yet passed since

    @property
    def described(self) -> str:
        return f"{self.kind.label} failed on {self.done_on:%d %b %Y}" + (
            " (not passed since)" if self.latest else ""
        )


@dataclass
class Refusals:
    """Unmet demand of one kind on one asset: how many requests, how long (clipped to the
    evidence year), and the seconds by the requester's School."""

    reasons: tuple[str, ...]  # the reason codes (one, but for a request refused for several)
    requests: int = 0
    seconds: int = 0
    by_school: dict[int | None, int] = field(default_factory=dict)

    def add(self, school_id: int | None, requests: int, seconds: int) -> None:
        self.requests += requests
        self.seconds += seconds
        self.by_school[school_id] = self.by_school.get(school_id, 0) + seconds


@dataclass
class AssetEvidence:
    """One asset (not retired) with its life in money and its year of use."""

    asset: Asset
    lifecycle: Lifecycle
    figures: AssetFigures | None  # None: not bookable in Kitshare, or not in service in the year
    unmet_by_school: dict[int | None, int] = field(default_factory=dict)  # requester's School -> seconds
    # ... of requests turned away for want of free time (reports.figures.CAPACITY_REASONS)
    capacity_unmet_by_school: dict[int | None, int] = field(default_factory=dict)
    # The requests behind them, by reason: those counted as capacity demand (CAPACITY_REASONS
    # order), and the others (a manager's rejection, training, notice, not decided in time...)
    capacity_refusals: list[Refusals] = field(default_factory=list)
    other_refusals: list[Refusals] = field(default_factory=list)
    failures: list[FailedInspection] = field(default_factory=list)  # in the year, or still the latest
    maintenance_year_pence: int = 0  # maintenance and inspection costs in the evidence year
    maintenance_total_pence: int = 0  # ... since it was bought

    @property
    def utilisation(self) -> float | None:
        return self.figures.utilisation if self.figures else None

    @property
    def unmet_seconds(self) -> int:
        return self.figures.unmet_seconds if self.figures else 0

    @property
    def booked_by_others_seconds(self) -> int:
        if self.figures is None:
            return 0
        return sum(s for school, s in self.figures.by_borrower.items() if school != self.asset.school_id)

    def unmet_from_others_seconds(self) -> int:
        return sum(
            s
            for school, s in self.unmet_by_school.items()
            if school is not None and school != self.asset.school_id
        )


@dataclass
class Evidence:
    today: dt.date
    period_from: dt.date
    period_to: dt.date
    valued_on: dt.date
    schools_by_id: dict[int, School]
    assets: list[AssetEvidence]

    @property
    def full_year(self) -> bool:
        """A whole year of records: Kitshare has been in use for at least a year."""
        return self.period_from == add_years(self.today, -1)


def _at(value: dt.datetime, dialect: str) -> Any:
    bound = literal(value, UTCDateTime())
    # PostgreSQL needs the type of a parameter used in a SELECT list.
    return cast(bound, UTCDateTime()) if dialect == "postgresql" else bound


def gather_evidence(
    session: Session,
    school_ids: set[int] | None,
    category_id: int | None,
    settings: PlanningSettings,
    report_settings: ReportSettings,
    today: dt.date,
    valued_on: dt.date | None = None,
    now: dt.datetime | None = None,
) -> Evidence:
    """The evidence for every asset in service (not retired) of ``school_ids`` (None: all), of
    one category (None: all). Reads only."""
    period_from, period_to = evidence_period(today, records_began(session))
    valued_on = valued_on or today
    query = (
        select(Asset)
        .options(joinedload(Asset.category), joinedload(Asset.school))
        .where(Asset.status.not_in(WITHDRAWN_STATUSES))
        .order_by(Asset.tag)
    )
    if school_ids is not None:
        query = query.where(Asset.school_id.in_(school_ids))
    if category_id is not None:
        query = query.where(Asset.category_id == category_id)
    assets = list(session.scalars(query))
    report = utilisation_report(
        session, period_from, period_to, school_ids, report_settings, now=now or utcnow()
    )
    figures = {f.asset_id: f for f in report.assets}
    evidence = {
        asset.id: AssetEvidence(asset, lifecycle(asset, settings, today, valued_on), figures.get(asset.id))
        for asset in assets
    }
    if evidence:
        ids = list(evidence)
        _unmet_by_school(session, ids, utc_bounds(period_from, period_to), evidence)
        _failures(session, ids, period_from, period_to, evidence)
        _maintenance_costs(session, ids, period_from, period_to, evidence)
    return Evidence(
        today=today,
        period_from=period_from,
        period_to=period_to,
        valued_on=valued_on,
        schools_by_id=report.schools_by_id,
        assets=sorted(
            evidence.values(), key=lambda e: (report.schools_by_id[e.asset.school_id].code, e.asset.tag)
        ),
    )


def _unmet_by_school(
    session: Session,
    asset_ids: list[int],
    period: tuple[dt.datetime, dt.datetime],
    evidence: dict[int, AssetEvidence],
) -> None:
    """Hours of unmet demand by the requester's School, clipped to the period as the report
    clips them (so they add up to the report's unmet demand); of those turned away for want of
    free time; and the requests behind each reason, counted as capacity demand or not."""
    p0, p1 = period
    dialect = session.get_bind().dialect.name
    low = greatest(UnmetDemand.start_at, _at(p0, dialect))
    high = least(UnmetDemand.end_at, _at(p1, dialect))
    reasons_text = cast(UnmetDemand.reasons, String)
    capacity: dict[int, dict[tuple[str, ...], Refusals]] = defaultdict(dict)
    others: dict[int, dict[tuple[str, ...], Refusals]] = defaultdict(dict)
    for asset_id, school_id, reasons, source, requests, hours in session.execute(
        select(
            UnmetDemand.asset_id,
            UnmetDemand.requester_school_id,
            reasons_text,
            UnmetDemand.source,
            func.count(),
            func.sum(hours_between(low, high)),
        )
        .where(UnmetDemand.asset_id.in_(asset_ids), UnmetDemand.start_at < p1, UnmetDemand.end_at > p0)
        .group_by(UnmetDemand.asset_id, UnmetDemand.requester_school_id, reasons_text, UnmetDemand.source)
    ):
        seconds = int(round((hours or 0.0) * 3600))
        if not seconds:
            continue
        codes = tuple(json.loads(reasons) if reasons else []) or (str(source),)
        item = evidence[asset_id]
        item.unmet_by_school[school_id] = item.unmet_by_school.get(school_id, 0) + seconds
        if is_capacity_demand(codes):
            item.capacity_unmet_by_school[school_id] = (
                item.capacity_unmet_by_school.get(school_id, 0) + seconds
            )
            kind = (next(r for r in CAPACITY_REASONS if r in codes),)
            capacity[asset_id].setdefault(kind, Refusals(kind)).add(school_id, int(requests), seconds)
        else:
            others[asset_id].setdefault(codes, Refusals(codes)).add(school_id, int(requests), seconds)
    for asset_id, kinds in capacity.items():
        evidence[asset_id].capacity_refusals = [kinds[(r,)] for r in CAPACITY_REASONS if (r,) in kinds]
    for asset_id, kinds in others.items():
        evidence[asset_id].other_refusals = sorted(kinds.values(), key=lambda r: (-r.seconds, r.reasons))


def _failures(
    session: Session,
    asset_ids: list[int],
    period_from: dt.date,
    period_to: dt.date,
    evidence: dict[int, AssetEvidence],
) -> None:
    """Failed inspections in the year, and any failure that is still its schedule's latest."""
    latest: dict[int, tuple[dt.date, int]] = {}
    rows = list(
        session.execute(
            select(
                InspectionRecord.id,
                InspectionRecord.schedule_id,
                InspectionRecord.done_on,
                InspectionRecord.outcome,
                InspectionSchedule.asset_id,
                InspectionSchedule.kind,
            )
            .join(InspectionSchedule, InspectionSchedule.id == InspectionRecord.schedule_id)
            .where(InspectionSchedule.asset_id.in_(asset_ids))
        )
    )
    for record_id, schedule_id, done_on, _outcome, _asset, _kind in rows:
        if schedule_id not in latest or (done_on, record_id) > latest[schedule_id]:
            latest[schedule_id] = (done_on, record_id)
    for record_id, schedule_id, done_on, outcome, asset_id, kind in sorted(rows, key=lambda r: (r[2], r[0])):
        if outcome != InspectionOutcome.FAIL:
            continue
        is_latest = latest[schedule_id] == (done_on, record_id)
        if is_latest or period_from <= done_on <= period_to:
            evidence[asset_id].failures.append(FailedInspection(InspectionKind(kind), done_on, is_latest))


def _maintenance_costs(
    session: Session,
    asset_ids: list[int],
    period_from: dt.date,
    period_to: dt.date,
    evidence: dict[int, AssetEvidence],
) -> None:
    """Costs recorded on maintenance windows (by the day they started) and inspections."""
    p0, p1 = utc_bounds(period_from, period_to)
    in_year = case(
        (
            and_(MaintenanceWindow.start_at >= p0, MaintenanceWindow.start_at < p1),
            MaintenanceWindow.cost_pence,
        ),
        else_=0,
    )
    totals: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for asset_id, total, year in session.execute(
        select(MaintenanceWindow.asset_id, func.sum(MaintenanceWindow.cost_pence), func.sum(in_year))
        .where(MaintenanceWindow.asset_id.in_(asset_ids), MaintenanceWindow.cost_pence.is_not(None))
        .group_by(MaintenanceWindow.asset_id)
    ):
        totals[asset_id][0] += int(total or 0)
        totals[asset_id][1] += int(year or 0)
    inspected_in_year = case(
        (InspectionRecord.done_on.between(period_from, period_to), InspectionRecord.cost_pence), else_=0
    )
    for asset_id, total, year in session.execute(
        select(
            InspectionSchedule.asset_id, func.sum(InspectionRecord.cost_pence), func.sum(inspected_in_year)
        )
        .join(InspectionSchedule, InspectionSchedule.id == InspectionRecord.schedule_id)
        .where(InspectionSchedule.asset_id.in_(asset_ids), InspectionRecord.cost_pence.is_not(None))
        .group_by(InspectionSchedule.asset_id)
    ):
        totals[asset_id][0] += int(total or 0)
        totals[asset_id][1] += int(year or 0)
    for asset_id, (total, year) in totals.items():
        evidence[asset_id].maintenance_total_pence = total
        evidence[asset_id].maintenance_year_pence = year
