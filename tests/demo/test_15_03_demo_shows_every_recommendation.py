"""Issue 15, point 3: the demo's capital plan makes every kind of recommendation, and each is right
for its asset.

The demo is seeded once (it takes a while) with a fixed clock; the plan and the year's report are
built by the services; then every recommendation, and every idle and saturated asset, is checked
against the asset's own rows (bookings, refused and rejected requests, inspections, purchase date)
by the rules as issue 15 states them, worked out here without the reports' code:

* capacity demand: requests refused because the time was booked ("overlap"), or waitlist places
  never served ("waitlisted"); a manager's rejection, training, notice, hours and sharing are not;
* saturated: utilisation of at least 80 %, or capacity demand of at least 8 hours from at least 2
  people; idle: under 10 % and not saturated;
* invest: saturated, and people of at least 2 Schools turned away for want of free time;
* share: idle, and people of other Schools turned away or the asset not open to other Schools;
* dispose: idle, on the register and in service all year, and no unmet demand at all;
* replace: its life ends within 12 months (or has ended) and utilisation of at least 50 %; or the
  latest inspection of a kind failed, or at least 2 failed in the year.

The demo is deterministic for a given clock (a fixed random seed, every time reckoned from ``now``),
so the counts of each kind are written here.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.models import User
from bookings.models import Booking, BookingStatus, UnmetDemand
from core.config import Config
from core.db import UTC
from core.timeutil import local_to_utc, to_local
from demo.seed import seed
from inventory.models import Asset, InspectionOutcome, InspectionSchedule, MaintenanceWindow
from planning.service import build_plan
from reports.figures import ReportSettings, utilisation_report

NOW = dt.datetime(2026, 12, 6, 10, 0, tzinfo=UTC)
TODAY = to_local(NOW).date()
YEAR_FROM, YEAR_TO = dt.date(2025, 12, 6), dt.date(2026, 12, 5)  # the evidence year: to yesterday

CAPACITY = {"overlap", "waitlisted"}
HELD = {BookingStatus.CONFIRMED, BookingStatus.CHECKED_OUT, BookingStatus.COMPLETED}
SATURATED_AT, IDLE_UNDER, WELL_USED = 0.80, 0.10, 0.50
MIN_CAPACITY_HOURS, MIN_CAPACITY_PEOPLE, INVEST_SCHOOLS = 8, 2, 2

#: What the plan recommends on the demo seeded at NOW, by kind.
EXPECTED_COUNTS = {"replace": 4, "invest": 3, "share": 2, "dispose": 4}
#: The demo's showcase (demo.world.SHOWCASE and its failing inspections), as the plan reads it.
EXPECTED = {
    "replace": {"CHEM-0003", "ENG-0017", "ENG-0028", "BIOS-0013"},
    "invest": {"MED-0004", "PSYC-0001", "PHYS-0001"},
    "share": {"PHYS-0019", "ENG-0018"},
    "dispose": {"ENG-0015", "PHYS-0018", "CHEM-0024", "ENG-0018"},
}
EXPECTED_SATURATED = {"MED-0004", "PSYC-0001", "CHEM-0007", "PHYS-0001"}


def test_the_demo_plan_makes_every_recommendation_each_right_for_its_asset(session: Session):
    seed(session, password="demo-password-1", now=NOW)
    finance = session.scalar(select(User).where(User.email.like("finance@%")))
    plan = build_plan(session, finance, school_id=None, category_id=None, years=1, config=Config(), now=NOW)
    assert (plan.evidence.period_from, plan.evidence.period_to) == (YEAR_FROM, YEAR_TO), "a whole year"
    report = utilisation_report(session, YEAR_FROM, YEAR_TO, None, ReportSettings(), now=NOW)
    facts = _facts(session)

    made: dict[str, set[str]] = defaultdict(set)
    for item in plan.recommendations:
        made[item.kind.value].add(item.asset.tag)
    problems: list[str] = []

    # Rules that hold whatever the saturation rule is.
    for tag in made["replace"]:
        if not facts[tag].replace:
            problems.append(f"Replace {tag}: neither well used at its end of life nor failing inspections")
    for tag in made["dispose"]:
        fact = facts[tag]
        if not (fact.utilisation < IDLE_UNDER and fact.unmet_rows == 0 and fact.registered_all_year):
            problems.append(f"Dispose {tag}: {fact.utilisation:.1%}, {fact.unmet_rows} unmet rows")
    for tag in made["share"]:
        fact = facts[tag]
        if not (fact.utilisation < IDLE_UNDER and (not fact.shareable or fact.asked_from_other_schools)):
            problems.append(f"Share {tag}: {fact.utilisation:.1%}, shareable {fact.shareable}")
    for kind in ("replace", "dispose", "share"):
        if made[kind] != EXPECTED[kind]:
            problems.append(f"{kind}: made for {sorted(made[kind])}, expected {sorted(EXPECTED[kind])}")
    overlaps_booked_time = [row for row in facts.values() for row in row.overlap_not_booked]
    if overlaps_booked_time:
        problems.append(f"refused for overlap when the time was free: {overlaps_booked_time}")
    tracked = [a for a in report.assets if a.tracks_actual_use and a.actual_seconds]
    if len(tracked) < 12:
        problems.append(f"only {len(tracked)} assets record check-in or hand-over with actual use")
    if not any(f.approved_loans for f in facts.values()):
        problems.append("no approved booking by another School's people")
    if not any(f.rejected_only for f in facts.values()):
        problems.append("no asset turned down only by a manager")

    # Rules that need the saturation and evidence rules of issue 15 (helper `sat`).
    for tag in made["invest"]:
        fact = facts[tag]
        if not (fact.saturated and len(fact.capacity_schools) >= INVEST_SCHOOLS):
            problems.append(f"[sat] Invest {tag}: {fact.utilisation:.1%}, from {fact.capacity_schools}")
    if made["invest"] != EXPECTED["invest"]:
        problems.append(f"[sat] invest: made for {sorted(made['invest'])}, not {sorted(EXPECTED['invest'])}")
    saturated = {a.tag for a in report.saturated}
    idle = {a.tag for a in report.idle}
    if saturated & idle:
        problems.append(f"[sat] both idle and saturated: {sorted(saturated & idle)}")
    if saturated != {tag for tag, fact in facts.items() if fact.saturated}:
        problems.append(f"[sat] saturated: the report says {sorted(saturated)}")
    if saturated != EXPECTED_SATURATED:
        problems.append(f"[sat] saturated: {sorted(saturated)}, expected {sorted(EXPECTED_SATURATED)}")
    rejected_saturated = sorted(
        tag for tag in saturated if facts[tag].rejected_only and facts[tag].utilisation < SATURATED_AT
    )
    if rejected_saturated:
        problems.append(f"[sat] saturated by a manager's rejections: {rejected_saturated}")
    counts = Counter(item.kind.value for item in plan.recommendations)
    if dict(counts) != EXPECTED_COUNTS:
        problems.append(f"[sat] counts {dict(counts)}, expected {EXPECTED_COUNTS}")

    assert [p for p in problems if not p.startswith("[sat]")] == []
    if _old_saturation_rule():
        pytest.xfail("needs issue 15 point 1's saturation rule: " + "; ".join(problems)[:500])
    assert problems == []


def _old_saturation_rule() -> bool:
    """Whether the reports still count a manager's rejection as demand turned away for want of
    time (before issue 15 point 1). Then only the checks marked [sat] can fail, and the test is
    an expected failure; once the rule is in place it holds the demo to every check."""
    from reports import aggregate

    return "rejected" in getattr(aggregate, "CAPACITY_REASONS", ())


class _Facts:
    """One asset's year, from its own rows."""

    def __init__(self, asset: Asset) -> None:
        self.asset = asset
        self.tag = asset.tag
        self.shareable = asset.shareable
        self.available = 0.0
        self.booked = 0.0
        self.unmet_rows = 0
        self.asked_from_other_schools = False
        self.capacity_hours = 0.0
        self.capacity_people: set[int | None] = set()
        self.capacity_schools: set[int | None] = set()
        self.rejected = 0
        self.other_unmet = 0
        self.approved_loans = 0
        self.overlap_not_booked: list[int] = []
        self.failed_latest = False
        self.failed_in_year = 0
        self.registered_all_year = to_local(asset.created_at).date() <= YEAR_FROM

    @property
    def utilisation(self) -> float:
        return self.booked / self.available if self.available else 0.0

    @property
    def saturated(self) -> bool:
        return self.utilisation >= SATURATED_AT or (
            self.capacity_hours >= MIN_CAPACITY_HOURS and len(self.capacity_people) >= MIN_CAPACITY_PEOPLE
        )

    @property
    def rejected_only(self) -> bool:
        return self.rejected > 0 and self.other_unmet == 0

    @property
    def end_of_life(self) -> dt.date | None:
        asset = self.asset
        if asset.purchase_date is None:
            return None
        life = asset.useful_life_years or asset.category.default_useful_life_years or 10
        try:
            return asset.purchase_date.replace(year=asset.purchase_date.year + life)
        except ValueError:
            return asset.purchase_date.replace(year=asset.purchase_date.year + life, day=28)

    @property
    def replace(self) -> bool:
        end = self.end_of_life
        horizon = TODAY.replace(year=TODAY.year + 1)
        near_end = end is not None and end <= horizon and self.utilisation >= WELL_USED
        return near_end or self.failed_latest or self.failed_in_year >= 2


def _facts(session: Session) -> dict[str, _Facts]:
    """Every bookable asset in service all year or part of it, with its year from its own rows:
    available hours (its weekly hours on each day, less maintenance), booked hours (held bookings,
    clipped to the year), unmet demand by kind, and failed inspections."""
    p0 = local_to_utc(dt.datetime.combine(YEAR_FROM, dt.time()))
    p1 = local_to_utc(dt.datetime.combine(YEAR_TO + dt.timedelta(days=1), dt.time()))
    assets = session.scalars(select(Asset).where(Asset.bookable.is_(True), Asset.retired_at.is_(None))).all()
    facts = {asset.tag: _Facts(asset) for asset in assets}
    by_id = {asset.id: facts[asset.tag] for asset in assets}
    windows = defaultdict(list)
    for window in session.scalars(select(MaintenanceWindow)):
        windows[window.asset_id].append((window.start_at, window.end_at))

    for asset in assets:
        fact = by_id[asset.id]
        day = YEAR_FROM
        while day <= YEAR_TO:
            for hours in asset.bookable_hours:
                if hours.weekday == day.weekday():
                    start = local_to_utc(dt.datetime.combine(day, hours.opens))
                    end = local_to_utc(dt.datetime.combine(day, hours.closes))
                    lost = sum(_overlap(start, end, *window) for window in windows[asset.id])
                    fact.available += (end - start).total_seconds() / 3600 - lost
            day += dt.timedelta(days=1)

    bookings = session.scalars(select(Booking).where(Booking.start_at < p1, Booking.end_at > p0)).all()
    for booking in bookings:
        fact = by_id.get(booking.asset_id)
        if fact is None or booking.status not in HELD:
            continue
        fact.booked += _overlap(booking.start_at, booking.end_at, p0, p1)
        if booking.requester_school_id != fact.asset.school_id and booking.decided_by_id is not None:
            fact.approved_loans += 1

    held_by_asset = defaultdict(list)
    for booking in session.scalars(select(Booking)):
        if booking.status in HELD | {BookingStatus.NO_SHOW}:
            held_by_asset[booking.asset_id].append(booking)
    for row in session.scalars(select(UnmetDemand).where(UnmetDemand.start_at < p1, UnmetDemand.end_at > p0)):
        fact = by_id.get(row.asset_id)
        if fact is None:
            continue
        fact.unmet_rows += 1
        if row.requester_school_id != fact.asset.school_id:
            fact.asked_from_other_schools = True
        if set(row.reasons) == {"rejected"}:
            fact.rejected += 1
        else:
            fact.other_unmet += 1
        if set(row.reasons) & CAPACITY:
            fact.capacity_hours += _overlap(row.start_at, row.end_at, p0, p1)
            fact.capacity_people.add(row.requester_id)
            fact.capacity_schools.add(row.requester_school_id)
        if "overlap" in row.reasons and not any(
            b.requester_id != row.requester_id and b.start_at < row.end_at and row.start_at < b.blocked_until
            for b in held_by_asset[row.asset_id]
        ):
            fact.overlap_not_booked.append(row.id)

    for schedule in session.scalars(select(InspectionSchedule)):
        fact = by_id.get(schedule.asset_id)
        if fact is None or not schedule.records:
            continue
        latest = max(schedule.records, key=lambda r: (r.done_on, r.id))
        fact.failed_latest |= latest.outcome == InspectionOutcome.FAIL
        fact.failed_in_year += sum(
            record.outcome == InspectionOutcome.FAIL and YEAR_FROM <= record.done_on <= YEAR_TO
            for record in schedule.records
        )
    return facts


def _overlap(start: dt.datetime, end: dt.datetime, low: dt.datetime, high: dt.datetime) -> float:
    """Hours of [start, end) inside [low, high)."""
    return max((min(end, high) - max(start, low)).total_seconds(), 0.0) / 3600
