"""Utilisation figures for capital planning: what was available, what was booked and used.

``utilisation_report`` builds every figure of one report; ``report_to_json`` turns it into the
figures every renderer (page, CSV, XLSX, API, stored snapshot) reads, so they cannot disagree.

The rules, as the report page states them (``reports.render.definitions``):

* **Available hours**: the asset's weekly bookable hours in force on each local date of the
  period (``BookableHoursHistory`` keeps the hours each change replaced) on which it was in
  service (from its purchase date, or the date it was added when that is
  unknown, to the day before the date it was retired), less its maintenance windows. Hours are
  wall-clock hours, so 09:00-17:00 is 8 hours on either side of a clock change.
* **Booked hours**: confirmed, checked-out and completed bookings, each clipped to the period
  and to the in-service days, less any overlap with maintenance; per asset and month never more
  than the available hours. Pending, rejected, cancelled and no-show bookings do not count.
* **Utilisation** = booked / available; none where nothing was available. Rollups (School,
  category, all) sum the hours first and then divide: hour-weighted, never a mean of ratios.
* **Actual use**: from check-in (or the booked start, if checked in early) to the booked end,
  and for loans from hand-over to return (or now, while still out), clipped the same way.
* **No-show rate** = no-show bookings / bookings due (held bookings whose start has passed).
* **Late-cancellation rate** = bookings cancelled less than the notice before their start /
  bookings starting in the period that were held or cancelled.
* **Unmet demand**: hours of refused and rejected requests, of waitlist places never served and
  of requests not decided before their start, clipped to the period, by reason.
* **Saturated**: utilisation at or above a threshold, or demand turned away for want of free
  time (``CAPACITY_REASONS``: refused because the time was already booked, or waitlisted and
  never served) of at least a minimum of hours from at least a minimum of distinct people. A
  manager's rejection, maintenance, training, sharing, notice, length, quotas and requests not
  decided in time are unmet demand by reason but not capacity. **Idle**: utilisation under a
  threshold, and not saturated: no asset is both. Each idle or saturated asset says why in one
  line (``why_listed``).
* **Cost recovery** = booked hours x the asset's hourly rate, in whole pence.
* **Bookings outside the hours in force**: counted bookings not wholly inside the weekly hours
  in force on their days. Only a change of hours after a booking was made leaves one there, so
  only the bookings of assets whose hours changed are read (``reports.available.count_outside_hours``); they still
  count as booked, and are flagged.

Bookings are aggregated by SQL (``reports.aggregate``: GROUP BY asset, borrowing School, person
and month, with each booking clipped in SQL, read in batches); only the small tables (assets,
weekly hours, maintenance windows) and the rare bookings that overlap maintenance or were
cancelled within a few days of their start are read into Python, one row each. Available time,
and the bookings outside the hours in force, are ``reports.available``'s; the figures every
renderer reads are ``reports.figures_json.report_to_json``'s.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.models import User
from core.collector import collection_paused
from core.config import Config
from core.db import utcnow
from core.errors import InvalidInput, NotAllowed
from inventory.models import School
from reports.aggregate import (
    CAPACITY_REASONS,
    AssetPlan,
    Clipper,
    UnmetRow,
    count_bookings,
    count_unmet,
    read_bookings,
)
from reports.available import (
    assets_in_scope,
    count_available,
    count_outside_hours,
    hours_history,
    in_service_days,
    plan_assets,
)
from reports.periods import MAX_PERIOD_DAYS, Span, describe_period, month_spans, utc_bounds

UTC = dt.UTC

FIGURES_VERSION = 1

#: What the rule codes of refused and rejected requests mean, for people.
REASON_LABELS = {
    "overlap": "Already booked",
    "maintenance": "Maintenance",
    "outside_hours": "Outside bookable hours",
    "min_notice": "Too little notice",
    "in_past": "Start in the past",
    "max_length": "Longer than allowed",
    "training": "Training needed",
    "not_shared": "Not shared with other Schools",
    "inspection_overdue": "Inspection overdue",
    "asset_unavailable": "Out of service",
    "not_bookable": "Not bookable",
    "quota": "Over quota",
    "rejected": "Rejected by a manager",
    "waitlisted": "Waitlisted, never served",
    "not_decided": "Not decided in time",
}


def reason_label(code: str) -> str:
    return REASON_LABELS.get(code, code.replace("_", " ").capitalize())


# --- Settings ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportSettings:
    """The thresholds finance set (config: KITSHARE_IDLE_THRESHOLD, KITSHARE_SATURATED_THRESHOLD,
    KITSHARE_SATURATED_MIN_UNMET_HOURS, KITSHARE_SATURATED_MIN_PEOPLE, KITSHARE_LATE_CANCEL_HOURS)."""

    # The defaults are Config's (core/config.py), where each lives once.
    idle_threshold: float = Config.KITSHARE_IDLE_THRESHOLD  # utilisation under this (and not saturated): idle
    saturated_threshold: float = Config.KITSHARE_SATURATED_THRESHOLD  # at or above this: saturated
    # working hours (Monday to Friday) of notice a cancellation needs
    late_cancel_hours: int = Config.KITSHARE_LATE_CANCEL_HOURS
    # ... or at least this many hours turned away for want of free time, from at least this many people
    saturated_min_unmet_hours: float = Config.KITSHARE_SATURATED_MIN_UNMET_HOURS
    saturated_min_people: int = Config.KITSHARE_SATURATED_MIN_PEOPLE

    @classmethod
    def from_config(cls, config: Config) -> ReportSettings:
        return cls(
            idle_threshold=config.KITSHARE_IDLE_THRESHOLD,
            saturated_threshold=config.KITSHARE_SATURATED_THRESHOLD,
            saturated_min_unmet_hours=config.KITSHARE_SATURATED_MIN_UNMET_HOURS,
            saturated_min_people=config.KITSHARE_SATURATED_MIN_PEOPLE,
            late_cancel_hours=config.KITSHARE_LATE_CANCEL_HOURS,
        )


# --- Permissions ---------------------------------------------------------------------------------


def report_scope_for(actor: User, requested_school_ids: Iterable[int] | None) -> set[int] | None:
    """The Schools whose assets ``actor`` may see a report of: None means every School.

    Finance and administrators may see any School (all of them when none is asked for);
    managers only the Schools they manage (those, when none is asked for); nobody else any.
    """
    requested = set(requested_school_ids or ())
    if actor.is_admin or actor.is_finance:
        return requested or None
    managed = actor.managed_school_ids
    if not managed:
        raise NotAllowed("Utilisation reports are for finance staff, administrators and School managers.")
    if not requested:
        return managed
    if requested - managed:
        raise NotAllowed("You can see reports only for the Schools you manage.")
    return requested


# --- The figures ---------------------------------------------------------------------------------


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def pence_for(seconds: int, hourly_rate_pence: int) -> int:
    """Seconds of use at an hourly rate, in whole pence (half a penny rounds up)."""
    return int(
        (Decimal(seconds) * Decimal(hourly_rate_pence) / Decimal(3600)).to_integral_value(ROUND_HALF_UP)
    )


@dataclass(kw_only=True)
class Usage:
    """The figures an asset has, and a group of assets has as their sums. Durations in seconds."""

    available_seconds: int = 0
    booked_seconds: int = 0
    actual_seconds: int = 0
    actual_available_seconds: int = 0  # available time of the assets that record actual use
    bookings: int = 0
    users: int = 0  # distinct people: for a group, the union of its assets' users, never a sum
    due: int = 0
    no_shows: int = 0
    cancellation_base: int = 0
    late_cancellations: int = 0
    unmet_seconds: int = 0
    unmet_requests: int = 0
    cost_recovery_pence: int = 0
    outside_hours_bookings: int = 0  # counted bookings not wholly inside the hours in force then

    SUMMED = (
        "available_seconds",
        "booked_seconds",
        "actual_seconds",
        "actual_available_seconds",
        "bookings",
        "due",
        "no_shows",
        "cancellation_base",
        "late_cancellations",
        "unmet_seconds",
        "unmet_requests",
        "cost_recovery_pence",
        "outside_hours_bookings",
    )

    def add(self, other: Usage) -> None:
        mine, theirs = self.__dict__, other.__dict__  # (a roll-up adds 30,000 assets: no getattr)
        for name in self.SUMMED:
            mine[name] += theirs[name]

    @property
    def utilisation(self) -> float | None:
        return _ratio(self.booked_seconds, self.available_seconds)

    @property
    def actual_utilisation(self) -> float | None:
        return _ratio(self.actual_seconds, self.actual_available_seconds)

    @property
    def no_show_rate(self) -> float | None:
        return _ratio(self.no_shows, self.due)

    @property
    def late_cancellation_rate(self) -> float | None:
        return _ratio(self.late_cancellations, self.cancellation_base)


@dataclass(kw_only=True, slots=True)  # (120,000 of them in a yearly report of 10,000 assets)
class MonthUsage:
    span: Span
    available_seconds: int = 0
    booked_seconds: int = 0

    @property
    def utilisation(self) -> float | None:
        return _ratio(self.booked_seconds, self.available_seconds)


@dataclass(kw_only=True)
class AssetFigures(Usage):
    asset_id: int
    tag: str
    name: str
    school_id: int
    category_id: int | None
    category_name: str
    hourly_rate_pence: int
    in_service_from: dt.date
    in_service_to: dt.date | None  # the last day in service, for a retired asset
    service_days: int  # days of the period it was in service
    tracks_actual_use: bool  # needs check-in, is lent out, or has check-ins in the period
    by_borrower: dict[int | None, int] = field(default_factory=dict)  # borrowing School -> booked seconds
    unmet_by_reason: dict[str, int] = field(default_factory=dict)  # reason -> seconds
    unmet_requests_by_reason: dict[str, int] = field(default_factory=dict)  # reason -> requests
    capacity_unmet_seconds: int = 0  # unmet demand for want of free time (CAPACITY_REASONS)
    capacity_unmet_requests: int = 0
    capacity_by_reason: dict[str, int] = field(default_factory=dict)  # capacity reason -> seconds
    capacity_people: int = 0  # distinct people turned away for want of free time
    months: list[MonthUsage] = field(default_factory=list)
    idle: bool = False
    saturated: bool = False
    outside_hours: bool = False  # has bookings outside the hours in force on their days
    saturated_by_use: bool = False  # utilisation at or above the threshold
    saturated_by_demand: bool = False  # enough demand turned away for want of free time


@dataclass(kw_only=True)
class GroupFigures(Usage):
    key: int | None  # School or category id; None for "no category" or the whole report
    label: str
    code: str = ""
    assets: int = 0
    months: list[MonthUsage] = field(default_factory=list)
    # Unmet demand by reason, summed over the group's assets (a request refused for several
    # reasons counts under each, as in the report's own table).
    unmet_by_reason: dict[str, int] = field(default_factory=dict)  # reason -> seconds
    unmet_requests_by_reason: dict[str, int] = field(default_factory=dict)  # reason -> requests


@dataclass(frozen=True)
class ReasonFigures:
    reason: str
    requests: int
    seconds: int

    @property
    def label(self) -> str:
        return reason_label(self.reason)


@dataclass
class Report:
    period_from: dt.date
    period_to: dt.date
    school_ids: list[int] | None  # the scope: None for every School
    generated_at: dt.datetime
    settings: ReportSettings
    schools_by_id: dict[int, School]
    assets: list[AssetFigures]
    schools: list[GroupFigures]
    categories: list[GroupFigures]
    total: GroupFigures
    sharing: dict[tuple[int, int | None], int]  # (owner School, borrower School) -> booked seconds
    unmet_by_reason: list[ReasonFigures]

    @property
    def idle(self) -> list[AssetFigures]:
        return sorted((a for a in self.assets if a.idle), key=lambda a: (a.utilisation or 0, a.tag))

    @property
    def saturated(self) -> list[AssetFigures]:
        return sorted(
            (a for a in self.assets if a.saturated),
            key=lambda a: (-(a.utilisation or 0), -a.unmet_seconds, a.tag),
        )

    @property
    def title(self) -> str:
        return f"Utilisation, {describe_period(self.period_from, self.period_to)}"


# --- The report ----------------------------------------------------------------------------------


def validate_period(period_from: dt.date | None, period_to: dt.date | None) -> None:
    errors: dict[str, list[str]] = {}
    if period_from is None:
        errors["period_from"] = ["Enter the first day of the period, such as 2026-09-01."]
    if period_to is None:
        errors["period_to"] = ["Enter the last day of the period, such as 2026-09-30."]
    if period_from and period_to:
        if period_to < period_from:
            errors["period_to"] = ["The last day must be on or after the first day."]
        elif (period_to - period_from).days >= MAX_PERIOD_DAYS:
            errors["period_to"] = ["A report can cover at most ten years."]
    if errors:
        raise InvalidInput(field_errors=errors)


@collection_paused()  # (core.collector: a third of a yearly report's time at full size)
def utilisation_report(
    session: Session,
    period_from: dt.date,
    period_to: dt.date,
    school_ids: set[int] | None,
    settings: ReportSettings | None = None,
    now: dt.datetime | None = None,
    readers: int = 1,
) -> Report:
    """Every figure of the utilisation report for the bookable assets owned by ``school_ids``
    (None: every School) over the local dates ``period_from`` to ``period_to``, both included.

    Check who may see it with ``report_scope_for`` first. ``now`` ends loans still out and
    bookings not yet due; it defaults to the current time. ``readers`` > 1 reads the bookings on
    that many connections at once (``Clipper.start``): only for a caller whose session has
    written nothing, as a request that only reads (the page, its downloads, the API). Raises
    InvalidInput for a bad period or an unknown School. Reads only; never writes.
    """
    validate_period(period_from, period_to)
    settings = settings or ReportSettings()
    now = now or utcnow()
    schools_by_id = {school.id: school for school in session.scalars(select(School).order_by(School.code))}
    if school_ids is not None:
        unknown = set(school_ids) - schools_by_id.keys()
        if unknown:
            raise InvalidInput(field_errors={"school": ["There is no such School."]})
    period = utc_bounds(period_from, period_to)
    spans = month_spans(period_from, period_to)
    spans_utc = [utc_bounds(span.first_day, span.last_day) for span in spans]

    plans, not_in_service = plan_assets(session, school_ids, period_from, period_to)
    users_by_asset: dict[int, set[int]] = {}
    unmet_rows: list[UnmetRow] = []
    span_days = [(span.first_day, span.last_day) for span in spans]
    clipper = Clipper(
        session, plans, not_in_service, assets_in_scope(school_ids), spans_utc, period, span_days
    )
    # The bookings are read (on other connections, with readers > 1) while the available time
    # and the assets' figures are worked out here.
    with read_bookings(clipper, now, settings, readers if plans else 1) as reads:
        history = hours_history(session, school_ids)
        count_available(session, plans, school_ids, period_from, period_to, spans, spans_utc, history)
        figures = {asset_id: _new_asset_figures(plan, spans) for asset_id, plan in plans.items()}
        count_outside_hours(session, plans, history, figures, period)
        if plans:
            users_by_asset, unmet_rows = count_bookings(clipper, figures, reads.results())
            count_unmet(unmet_rows, figures)
    for asset in figures.values():
        asset.cost_recovery_pence = pence_for(asset.booked_seconds, asset.hourly_rate_pence)
        classify(asset, settings)

    assets = sorted(figures.values(), key=lambda a: (schools_by_id[a.school_id].code, a.tag))
    schools, categories, total = _roll_up(users_by_asset, assets, schools_by_id, spans)
    sharing: dict[tuple[int, int | None], int] = defaultdict(int)
    for asset in assets:
        for borrower, seconds in asset.by_borrower.items():
            sharing[(asset.school_id, borrower)] += seconds
    # A request refused for several reasons counts under each.
    reasons: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for _asset_id, _source, codes, requests, seconds, _requester in unmet_rows:
        for reason in codes:
            reasons[reason][0] += requests
            reasons[reason][1] += seconds
    unmet = sorted(
        (ReasonFigures(reason, requests, seconds) for reason, (requests, seconds) in reasons.items()),
        key=lambda r: (-r.seconds, r.reason),
    )
    return Report(
        period_from=period_from,
        period_to=period_to,
        school_ids=sorted(school_ids) if school_ids is not None else None,
        generated_at=now,
        settings=settings,
        schools_by_id=schools_by_id,
        assets=assets,
        schools=schools,
        categories=categories,
        total=total,
        sharing=dict(sharing),
        unmet_by_reason=unmet,
    )


def classify(asset: AssetFigures, settings: ReportSettings) -> None:
    """Saturated: utilisation at or above the saturated threshold, or demand turned away for want
    of free time (``CAPACITY_REASONS``) of at least ``saturated_min_unmet_hours`` from at least
    ``saturated_min_people`` distinct people. Idle: utilisation under the idle threshold and not
    saturated, so that no asset is both."""
    utilisation = asset.utilisation
    asset.saturated_by_use = utilisation is not None and utilisation >= settings.saturated_threshold
    asset.saturated_by_demand = (
        asset.capacity_unmet_seconds > 0
        and asset.capacity_unmet_seconds >= settings.saturated_min_unmet_hours * 3600
        and asset.capacity_people >= settings.saturated_min_people
    )
    asset.saturated = asset.saturated_by_use or asset.saturated_by_demand
    asset.idle = utilisation is not None and utilisation < settings.idle_threshold and not asset.saturated


#: How the why line names the capacity reasons.
_CAPACITY_WORDS = {"overlap": "already booked", "waitlisted": "waitlisted, never served"}


def _one_decimal_hours(seconds: int) -> str:
    return f"{seconds / 3600:,.1f} h"


def why_listed(asset: AssetFigures, settings: ReportSettings) -> str:
    """One line: why an asset is listed as idle or saturated, with the figures that made it so."""
    utilisation = asset.utilisation
    if asset.idle:
        return f"{percent(utilisation or 0.0)} booked (under {percent(settings.idle_threshold)})"
    reasons = []
    if asset.saturated_by_use:
        reasons.append(
            f"{percent(utilisation or 0.0)} booked (at or above {percent(settings.saturated_threshold)})"
        )
    if asset.saturated_by_demand:
        split = "; ".join(
            f"{_CAPACITY_WORDS.get(reason, reason_label(reason).lower())} {_one_decimal_hours(asset.capacity_by_reason[reason])}"
            for reason in CAPACITY_REASONS
            if asset.capacity_by_reason.get(reason)
        )
        people = f"{asset.capacity_people} {'person' if asset.capacity_people == 1 else 'people'}"
        reasons.append(
            f"{_one_decimal_hours(asset.capacity_unmet_seconds)} turned away for want of free time ({split}) from {people}"
        )
    return "; ".join(reasons)


def _new_asset_figures(plan: AssetPlan, spans: list[Span]) -> AssetFigures:
    asset = plan.asset
    first, last = in_service_days(asset)
    figures = AssetFigures(
        asset_id=asset.id,
        tag=asset.tag,
        name=asset.name,
        school_id=asset.school_id,
        category_id=asset.category_id,
        category_name=asset.category_name or "",
        hourly_rate_pence=asset.hourly_rate_pence or 0,
        in_service_from=first,
        in_service_to=last,
        service_days=(plan.last_day - plan.first_day).days + 1,
        tracks_actual_use=bool(asset.checkin_required or asset.portable),
        months=[
            MonthUsage(span=span, available_seconds=seconds)
            for span, seconds in zip(spans, plan.month_available)
        ],
    )
    figures.available_seconds = sum(plan.month_available)
    return figures


def _roll_up(
    users_by_asset: dict[int, set[int]],
    assets: list[AssetFigures],
    schools_by_id: dict[int, School],
    spans: list[Span],
) -> tuple[list[GroupFigures], list[GroupFigures], GroupFigures]:
    """Sum the assets' hours and counts by School, by category and overall; ratios come from the
    sums (hour-weighted). Distinct users are counted again by SQL for each group."""

    def group(key: int | None, label: str, code: str = "") -> GroupFigures:
        return GroupFigures(key=key, label=label, code=code, months=[MonthUsage(span=span) for span in spans])

    def include(target: GroupFigures, part: AssetFigures | GroupFigures) -> None:
        target.add(part)
        target.assets += part.assets if isinstance(part, GroupFigures) else 1
        for month, part_month in zip(target.months, part.months):
            month.available_seconds += part_month.available_seconds
            month.booked_seconds += part_month.booked_seconds
        for mine, theirs in (
            (target.unmet_by_reason, part.unmet_by_reason),
            (target.unmet_requests_by_reason, part.unmet_requests_by_reason),
        ):
            for reason, amount in theirs.items():
                mine[reason] = mine.get(reason, 0) + amount

    schools: dict[int, GroupFigures] = {}
    categories: dict[int | None, GroupFigures] = {}
    total = group(None, "All Schools in the report")
    for asset in assets:
        school = schools_by_id[asset.school_id]
        if asset.school_id not in schools:
            schools[asset.school_id] = group(school.id, school.name, school.code)
        if asset.category_id not in categories:
            categories[asset.category_id] = group(asset.category_id, asset.category_name or "No category")
        include(schools[asset.school_id], asset)
        include(categories[asset.category_id], asset)
    for school_figures in schools.values():  # every asset is in one School: the total is theirs
        include(total, school_figures)
    people: dict[int | None, set[int]] = defaultdict(set)
    by_school: dict[int, set[int]] = defaultdict(set)
    by_category: dict[int | None, set[int]] = defaultdict(set)
    for asset in assets:
        users = users_by_asset.get(asset.asset_id, set())
        by_school[asset.school_id] |= users
        by_category[asset.category_id] |= users
        people[None] |= users
    for key, group_figures in schools.items():
        group_figures.users = len(by_school[key])
    for key, group_figures in categories.items():
        group_figures.users = len(by_category[key])
    total.users = len(people[None])
    return (
        sorted(schools.values(), key=lambda g: g.code),
        sorted(categories.values(), key=lambda g: (g.key is None, g.label.lower())),
        total,
    )


def percent(ratio: float) -> str:
    return f"{ratio * 100:.1f}%"
