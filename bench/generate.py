"""A synthetic university for the benchmark, the same on PostgreSQL and SQLite for a given seed.

What it holds (``Size`` sets how much):

* Schools of uneven size, their rooms, equipment categories, people (technicians, two managers
  per School, finance, an administrator, and two ``bench.`` people per School who the benchmark
  signs in as), assets with bookable hours and booking rules, inspection schedules, training,
  quotas and maintenance windows: all made through the models, so the audit log sees them.
* Years of bookings, made by bulk insert (COPY on PostgreSQL, SQLAlchemy Core executemany on
  SQLite) with each booking's status history and some unmet demand. They follow the patterns a
  real register shows: office hours (and a few 24-hour instruments), popular kit booked most days
  and idle kit hardly ever, quiet Augusts and Christmases, loans across Schools that wait for
  approval (some rejected), cancellations (some late), no-shows, check-ins and hand-overs.
  Bookings of one asset never overlap one another, whatever their status: the generator lays
  each asset's days out in order, so PostgreSQL's exclusion constraint never has to refuse one.

Assets in the ``Lasers`` category carry every rule at once (training, an inspection that blocks
booking when overdue, a weekly quota, notice, a maximum length, a turnaround): the benchmark books
those, so that a booking it times passes through every check. The bench people hold training for
them and make no bookings in the history, so their quotas are untouched.

Every choice comes from ``random.Random`` seeded with ``SEED``; times are reckoned from ``now``
(three years up to a quarter ahead of it), so two runs on the same day build the same data.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import logging
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from accounts.models import User, school_managers
from accounts.service import hash_password
from bookings import day_totals
from bookings.models import (
    Booking,
    BookingStatus,
    BookingStatusChange,
    DemandSource,
    Quota,
    QuotaPeriod,
    UnmetDemand,
)
from core.db import UTC, atomic, refresh_planner_statistics
from core.timeutil import local_day_bounds, local_zone, to_local
from inventory.models import (
    Asset,
    AssetStatus,
    BookableHours,
    Category,
    InspectionKind,
    InspectionSchedule,
    Location,
    MaintenanceWindow,
    School,
    TrainingAuthorisation,
)

SEED = 20261201
#: Every generated person's password; the benchmark signs in with it.
PASSWORD = "kitshare benchmark password"
EMAIL_DOMAIN = "bench.example.ac.uk"
#: How far ahead of now the bookings reach (the rest of the years lie behind it).
FUTURE_DAYS = 91
#: The category whose assets carry every booking rule: the benchmark books these.
RULED_CATEGORY = "Lasers"
BENCH_PEOPLE_PER_SCHOOL = 2
#: A ruled asset's weekly quota per person, in minutes (own School, other Schools).
RULED_QUOTA_MINUTES = (60 * 60, 20 * 60)
CHUNK = 50_000


@dataclass(frozen=True)
class Size:
    name: str
    schools: int
    assets: int
    bookings: int
    people_per_school: int
    years: int = 3
    #: The bookings of the small twin database, for "the same at 1,000 existing bookings".
    small_bookings: int = 1_000


FULL = Size("full", schools=20, assets=10_000, bookings=1_000_000, people_per_school=100)
QUICK = Size("quick", schools=20, assets=2_000, bookings=50_000, people_per_school=40)
SMOKE = Size("smoke", schools=2, assets=20, bookings=500, people_per_school=5, small_bookings=50)


# --- The register ---------------------------------------------------------------------------------

SUBJECTS = (
    "Chemistry",
    "Physics",
    "Biosciences",
    "Engineering",
    "Medicine",
    "Earth Sciences",
    "Computer Science",
    "Psychology",
    "Geography",
    "Materials",
    "Pharmacy",
    "Dentistry",
    "Veterinary Science",
    "Mathematics",
    "Architecture",
    "Archaeology",
    "Sport Science",
    "Music",
    "Agriculture",
    "Ocean Sciences",
)
BUILDINGS = (
    "Dalton",
    "Maxwell",
    "Darwin",
    "Brunel",
    "Fleming",
    "Hodgkin",
    "Faraday",
    "Franklin",
    "Lovelace",
    "Turing",
)

#: (category, weight, the kinds of kit in it)
CATEGORIES = (
    ("Microscopes", 10, ("Confocal microscope", "Fluorescence microscope", "Stereo microscope", "SEM")),
    ("Centrifuges", 8, ("Benchtop centrifuge", "Ultracentrifuge", "Microcentrifuge")),
    ("3D printers", 6, ("FDM printer", "Resin printer", "Composite printer")),
    ("Oscilloscopes", 7, ("Digital oscilloscope", "Mixed-signal oscilloscope")),
    ("Signal analysers", 4, ("Spectrum analyser", "Arbitrary waveform generator", "Network analyser")),
    ("Cameras and imaging", 5, ("Thermal camera", "High-speed camera", "Gel imager")),
    ("PCR and qPCR", 6, ("Thermal cycler", "qPCR system", "Digital PCR system")),
    (
        "Spectrometers",
        6,
        ("UV-Vis spectrometer", "FTIR spectrometer", "Raman spectrometer", "NMR spectrometer"),
    ),
    ("Balances", 6, ("Analytical balance", "Micro balance")),
    ("Incubators and freezers", 6, ("CO2 incubator", "Shaking incubator", "Freeze dryer")),
    ("Chromatography", 5, ("HPLC", "GC-MS", "FPLC")),
    ("Eye tracking and EEG", 3, ("Eye tracker", "EEG system")),
    ("Workshop tools", 6, ("Lathe", "Milling machine", "Tensile tester")),
    ("Field equipment", 5, ("GNSS receiver", "Drone", "Water sampler", "Data logger")),
    ("Audio and video", 4, ("Field recorder", "Video camera kit", "Microphone set")),
    ("Computing", 4, ("GPU workstation", "Rendering workstation")),
    (RULED_CATEGORY, 5, ("Femtosecond laser", "Laser cutter", "Laser scanning system")),
)
MAKERS = (
    "Zeiss",
    "Leica",
    "Thermo Fisher",
    "Agilent",
    "Bruker",
    "Keysight",
    "Tektronix",
    "Olympus",
    "Nikon",
    "Eppendorf",
)

OFFICE = tuple((day, dt.time(9), dt.time(17)) for day in range(5))
EXTENDED = tuple((day, dt.time(8), dt.time(20)) for day in range(5))
ALWAYS = tuple((day, dt.time(0), dt.time(23, 59)) for day in range(7))  # 23:59: open until midnight
PART_WEEK = ((1, dt.time(10), dt.time(16)), (3, dt.time(10), dt.time(16)))
#: (weekly hours, share of assets)
HOURS_PATTERNS = ((OFFICE, 0.80), (EXTENDED, 0.12), (ALWAYS, 0.05), (PART_WEEK, 0.03))
#: Bookings of a 24-hour instrument still fall when people are about.
ALWAYS_DAY = (7 * 60, 22 * 60)


def _allocate(total: int, weights: list[float]) -> list[int]:
    """Split ``total`` by ``weights`` into whole numbers that add up to it (largest remainder)."""
    whole = sum(weights)
    exact = [total * w / whole for w in weights]
    counts = [int(x) for x in exact]
    order = sorted(range(len(weights)), key=lambda i: exact[i] - counts[i], reverse=True)
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts


def _pick(rng: random.Random, pairs: Iterable[tuple[Any, float]]) -> Any:
    values, weights = zip(*pairs)
    return rng.choices(values, weights=weights)[0]


def build_register(session: Session, size: Size, now: dt.datetime, seed: int = SEED) -> None:
    """Schools, rooms, categories, people, assets with their hours and rules, inspections,
    training, quotas and maintenance windows, through the models (committed in chunks)."""
    rng = random.Random(seed)
    today = to_local(now).date()
    first_day = today - dt.timedelta(days=size.years * 365 - FUTURE_DAYS)
    last_day = today + dt.timedelta(days=FUTURE_DAYS)
    password_hash = hash_password(PASSWORD)  # one hash for everyone: hashing 2,000 is not the point

    with atomic(session):
        schools = []
        for n in range(size.schools):
            subject = SUBJECTS[n % len(SUBJECTS)] + (
                f" {n // len(SUBJECTS) + 1}" if n >= len(SUBJECTS) else ""
            )
            schools.append(School(code=f"S{n + 1:02d}", name=f"School of {subject}"))
        session.add_all(schools)
        categories = {
            name: Category(name=name, description=f"{name} shared across the university.")
            for name, _, _ in CATEGORIES
        }
        session.add_all(categories.values())
        session.flush()
        rooms_per_school = max(2, size.assets // size.schools // 20)
        locations: dict[int, list[Location]] = {}
        for school in schools:
            locations[school.id] = [
                Location(
                    school=school, building=f"{rng.choice(BUILDINGS)} Building", room=f"{floor}.{room:02d}"
                )
                for floor, room in itertools.islice(
                    ((f, r) for f in range(4) for r in range(1, 60)), rooms_per_school
                )
            ]
            session.add_all(locations[school.id])
        people = []
        for school in schools:
            for n in range(size.people_per_school):
                people.append(
                    User(
                        email=f"p{n + 1}.{school.code.lower()}@{EMAIL_DOMAIN}",
                        name=f"Person {n + 1} of {school.code}",
                        password_hash=password_hash,
                        home_school=school,
                    )
                )
            for n in range(2):
                people.append(
                    User(
                        email=f"manager{n + 1}.{school.code.lower()}@{EMAIL_DOMAIN}",
                        name=f"Manager {n + 1} of {school.code}",
                        password_hash=password_hash,
                        home_school=school,
                        managed_schools=[school],
                    )
                )
            for n in range(BENCH_PEOPLE_PER_SCHOOL):
                people.append(
                    User(
                        email=f"bench.{school.code.lower()}.{n + 1}@{EMAIL_DOMAIN}",
                        name=f"Bench {n + 1} of {school.code}",
                        password_hash=password_hash,
                        home_school=school,
                    )
                )
        people.append(
            User(
                email=f"finance@{EMAIL_DOMAIN}",
                name="Finance Office",
                password_hash=password_hash,
                home_school=schools[0],
                is_finance=True,
            )
        )
        people.append(
            User(
                email=f"admin@{EMAIL_DOMAIN}",
                name="Administrator",
                password_hash=password_hash,
                home_school=schools[0],
                is_admin=True,
            )
        )
        session.add_all(people)

    school_weights = [rng.lognormvariate(0, 0.5) for _ in schools]
    per_school = _allocate(size.assets, school_weights)
    if min(per_school) == 0:
        per_school = _allocate(size.assets - len(schools), school_weights)
        per_school = [n + 1 for n in per_school]
    school_of_asset = [school for school, n in zip(schools, per_school) for _ in range(n)]
    kinds = [(name, weight, items) for name, weight, items in CATEGORIES]
    ruled: list[Asset] = []
    made = 0
    while made < size.assets:
        with atomic(session):
            batch = []
            for index in range(made, min(made + 1000, size.assets)):
                school = school_of_asset[index]
                name, _, items = _pick(rng, ((kind, kind[1]) for kind in kinds))
                is_ruled = name == RULED_CATEGORY
                hours = OFFICE if is_ruled else _pick(rng, HOURS_PATTERNS)
                purchased = today - dt.timedelta(days=rng.randint(30, 15 * 365))
                retired = not is_ruled and rng.random() < 0.01 and purchased < first_day
                asset = Asset(
                    school=school,
                    tag=f"{school.code}-{index + 1:05d}",
                    name=f"{rng.choice(items)} {index + 1}",
                    category=categories[name],
                    location=rng.choice(locations[school.id]),
                    manufacturer=rng.choice(MAKERS),
                    model=f"{rng.choice('ABCDEFGHKLMX')}{rng.randint(100, 9900)}",
                    serial_number=f"SN{rng.randint(10**7, 10**8 - 1)}",
                    description=f"{name} of the {school.name}.",
                    purchase_date=purchased,
                    purchase_cost_pence=rng.randint(50, 50_000) * 1000,
                    funding_source=rng.choice(
                        ("School capital", "EPSRC grant", "Wellcome Trust", "UKRI Core Equipment")
                    ),
                    hourly_rate_pence=0 if rng.random() < 0.3 else rng.randint(5, 120) * 100,
                    requires_approval=not is_ruled and rng.random() < 0.08,
                    shareable=is_ruled or rng.random() < 0.85,
                    training_required=is_ruled or rng.random() < 0.12,
                    min_notice_minutes=60 if is_ruled else rng.choice((0, 0, 0, 0, 60, 1440)),
                    max_booking_minutes=480 if is_ruled else rng.choice((None, None, None, 240, 480)),
                    turnaround_minutes=15 if is_ruled else rng.choice((0, 0, 0, 15, 30)),
                    block_when_inspection_overdue=is_ruled,
                    checkin_required=not is_ruled and rng.random() < 0.10,
                    portable=not is_ruled and rng.random() < 0.08,
                    no_show_release_minutes=None,
                )
                if retired:
                    asset.status = AssetStatus.RETIRED
                    asset.retired_at = asset.status_changed_at = local_day_bounds(
                        first_day + dt.timedelta(days=rng.randint(30, size.years * 300))
                    )[0]
                asset.bookable_hours = [BookableHours(weekday=d, opens=o, closes=c) for d, o, c in hours]
                batch.append(asset)
                if is_ruled:
                    ruled.append(asset)
            session.add_all(batch)
        made += len(batch)

    with atomic(session):
        for asset in ruled:
            session.add(
                InspectionSchedule(
                    asset_id=asset.id,
                    kind=InspectionKind.CALIBRATION,
                    interval_days=365,
                    last_done_on=today - dt.timedelta(days=100),
                    next_due_on=today + dt.timedelta(days=265),
                )
            )
        ruled_category = categories[RULED_CATEGORY]
        for person in people:
            if person.email.startswith("bench."):
                session.add(
                    TrainingAuthorisation(
                        user_id=person.id,
                        school_id=person.home_school_id,
                        category_id=ruled_category.id,
                        granted_on=today - dt.timedelta(days=200),
                    )
                )
        for school in schools:
            session.add(
                Quota(
                    school_id=school.id,
                    category_id=ruled_category.id,
                    period=QuotaPeriod.WEEK,
                    own_school_minutes=RULED_QUOTA_MINUTES[0],
                    other_school_minutes=RULED_QUOTA_MINUTES[1],
                )
            )

    # Maintenance: whole local days; a quarter of the assets have some in the three years.
    asset_ids = list(session.scalars(select(Asset.id).order_by(Asset.id)))
    span = (last_day - first_day).days
    with atomic(session):
        for asset_id in asset_ids:
            if rng.random() >= 0.25:
                continue
            for _ in range(rng.randint(1, 3)):
                day = first_day + dt.timedelta(days=rng.randrange(span))
                start, _ = local_day_bounds(day)
                _, end = local_day_bounds(day + dt.timedelta(days=rng.randint(0, 2)))
                session.add(
                    MaintenanceWindow(
                        asset_id=asset_id,
                        start_at=start,
                        end_at=end,
                        reason=rng.choice(
                            (
                                "Annual service",
                                "Calibration by the manufacturer",
                                "Repair",
                                "Software upgrade",
                            )
                        ),
                    )
                )


# --- The bookings ---------------------------------------------------------------------------------

DURATIONS = (30, 60, 60, 60, 90, 120, 120, 180, 240)  # minutes
PURPOSES = (
    "Imaging for the thesis",
    "Teaching practical",
    "Sample preparation",
    "Pilot measurements",
    "Calibration run",
    "Undergraduate project",
    "Grant-funded study",
    "Method development",
    "Collaboration with industry",
    "Repeat measurements",
    "Fieldwork",
    "Training session",
)
BOOKING_COLUMNS = (
    "id",
    "asset_id",
    "requester_id",
    "requester_school_id",
    "start_at",
    "end_at",
    "blocked_until",
    "purpose",
    "status",
    "decided_by_id",
    "decided_at",
    "decision_reason",
    "checked_in_at",
    "handed_over_at",
    "handed_over_by_id",
    "handover_condition",
    "returned_at",
    "returned_to_id",
    "return_condition",
    "returned_damaged",
    "created_at",
    "updated_at",
)
HISTORY_COLUMNS = ("booking_id", "from_status", "to_status", "by_id", "at", "reason")
UNMET_COLUMNS = (
    "asset_id",
    "requester_id",
    "requester_school_id",
    "start_at",
    "end_at",
    "minutes",
    "source",
    "reasons",
    "booking_id",
    "created_at",
)


@dataclass
class _Kit:
    """What the booking generator needs to know about one asset."""

    id: int
    school_id: int
    shareable: bool
    requires_approval: bool
    turnaround: int
    max_minutes: int | None
    checkin: bool
    portable: bool
    hours: dict[int, tuple[int, int]]  # weekday -> (opens, closes) in local minutes
    days: list[dt.date]  # in service, open, no maintenance, in the window


def _season(day: dt.date) -> float:
    if day.month == 8:
        return 0.45
    if (day.month == 12 and day.day >= 20) or (day.month == 1 and day.day <= 4):
        return 0.15
    if day.weekday() >= 5:
        return 0.5
    return 0.85 if day.weekday() in (0, 4) else 1.0


def _read_kit(conn: sa.Connection, first_day: dt.date, last_day: dt.date) -> list[_Kit]:
    hours: dict[int, dict[int, tuple[int, int]]] = {}
    for asset_id, weekday, opens, closes in conn.execute(
        select(BookableHours.asset_id, BookableHours.weekday, BookableHours.opens, BookableHours.closes)
    ):
        if asset_id not in hours:
            hours[asset_id] = {}
        close_minutes = 24 * 60 if closes >= dt.time(23, 59) else closes.hour * 60 + closes.minute
        hours[asset_id][weekday] = (opens.hour * 60 + opens.minute, close_minutes)
    closed: dict[int, set[dt.date]] = {}
    for asset_id, start, end in conn.execute(
        select(MaintenanceWindow.asset_id, MaintenanceWindow.start_at, MaintenanceWindow.end_at)
    ):
        day, last = to_local(start).date(), to_local(end - dt.timedelta(seconds=1)).date()
        while day <= last:
            closed.setdefault(asset_id, set()).add(day)
            day += dt.timedelta(days=1)
    kit = []
    rows = conn.execute(
        select(
            Asset.id,
            Asset.school_id,
            Asset.shareable,
            Asset.requires_approval,
            Asset.turnaround_minutes,
            Asset.max_booking_minutes,
            Asset.checkin_required,
            Asset.portable,
            Asset.purchase_date,
            Asset.retired_at,
        )
        .where(Asset.bookable.is_(True))
        .order_by(Asset.id)
    )
    all_days = [first_day + dt.timedelta(days=n) for n in range((last_day - first_day).days + 1)]
    for (
        asset_id,
        school_id,
        shareable,
        approval,
        turnaround,
        max_minutes,
        checkin,
        portable,
        purchased,
        retired_at,
    ) in rows:
        opening = hours.get(asset_id, {})
        start_day = max(first_day, purchased or first_day)
        end_day = (
            min(last_day, to_local(retired_at).date() - dt.timedelta(days=1)) if retired_at else last_day
        )
        shut = closed.get(asset_id, set())
        days = [d for d in all_days if start_day <= d <= end_day and d.weekday() in opening and d not in shut]
        kit.append(
            _Kit(
                asset_id,
                school_id,
                shareable,
                approval,
                turnaround,
                max_minutes,
                checkin,
                portable,
                opening,
                days,
            )
        )
    return kit


def _day_window(kit: _Kit, day: dt.date) -> tuple[int, int]:
    opens, closes = kit.hours[day.weekday()]
    if (opens, closes) == (0, 24 * 60):
        return ALWAYS_DAY
    return opens, closes


def _day_capacity(kit: _Kit, day: dt.date) -> int:
    opens, closes = _day_window(kit, day)
    return max(1, (closes - opens) // 80)


def _spread(rng: random.Random, n: int, weights: list[float], caps: list[int]) -> list[int]:
    """``n`` bookings over the days, by weight, no day over its cap."""
    counts = [0] * len(weights)
    remaining = n
    open_days = list(range(len(weights)))
    while remaining and open_days:
        cumulative = list(itertools.accumulate(weights[i] for i in open_days))
        picks = rng.choices(open_days, cum_weights=cumulative, k=remaining)
        remaining = 0
        for i in picks:
            if counts[i] < caps[i]:
                counts[i] += 1
            else:
                remaining += 1
        open_days = [i for i in open_days if counts[i] < caps[i]]
    return counts


def _per_asset(rng: random.Random, total: int, kit: list[_Kit]) -> list[int]:
    """How many bookings each asset gets: a few busy (booked once or twice most working days),
    some popular, many middling, a long idle tail (the busiest 5 % take about 45 % of all
    bookings); never more than three quarters of what its open days hold."""
    weights, caps = [], []
    for item in kit:
        r = rng.random()
        if r < 0.05:
            popularity = rng.lognormvariate(3.5, 0.5)  # busy
        elif r < 0.20:
            popularity = rng.lognormvariate(2.0, 0.5)  # popular
        elif r < 0.50:
            popularity = rng.lognormvariate(-1.5, 0.6)  # idle
        else:
            popularity = rng.lognormvariate(0.5, 0.6)
        weights.append(popularity * len(item.days))
        caps.append(int(0.75 * sum(_day_capacity(item, d) for d in item.days)))
    if sum(caps) < total:
        raise ValueError(f"{len(kit)} assets cannot hold {total:,} bookings; add assets or years.")
    share = [0.0] * len(kit)
    free = [i for i in range(len(kit)) if weights[i] > 0]
    remaining = float(total)
    while free:  # water-filling: cap the saturated, share what is left among the rest
        whole = sum(weights[i] for i in free)
        over = [i for i in free if remaining * weights[i] / whole >= caps[i]]
        if not over:
            for i in free:
                share[i] = remaining * weights[i] / whole
            break
        for i in over:
            share[i] = caps[i]
            remaining -= caps[i]
        free = [i for i in free if i not in set(over)]
    counts = [min(int(s), c) for s, c in zip(share, caps)]
    short = total - sum(counts)
    order = sorted(range(len(kit)), key=lambda i: share[i] - counts[i], reverse=True)
    i = 0
    while short > 0:
        index = order[i % len(order)]
        if counts[index] < caps[index]:
            counts[index] += 1
            short -= 1
        i += 1
    return counts


class _Clock:
    """Local minutes of a day to UTC, with the offset at noon (bookings never span a clock change:
    office hours, and 07:00 to 22:00 for 24-hour kit)."""

    def __init__(self) -> None:
        self.zone = local_zone()
        self.cache: dict[dt.date, dt.datetime] = {}

    def at(self, day: dt.date, minutes: int) -> dt.datetime:
        base = self.cache.get(day)
        if base is None:
            offset = self.zone.utcoffset(dt.datetime.combine(day, dt.time(12)))
            base = self.cache[day] = dt.datetime.combine(day, dt.time(0), tzinfo=UTC) - offset
        return base + dt.timedelta(minutes=minutes)


class _People:
    def __init__(self, conn: sa.Connection) -> None:
        self.by_school: dict[int, list[int]] = {}
        for user_id, school_id in conn.execute(
            select(User.id, User.home_school_id)
            .where(
                User.email.like(f"p%@{EMAIL_DOMAIN}"), User.is_admin.is_(False), User.is_finance.is_(False)
            )
            .order_by(User.id)
        ):
            self.by_school.setdefault(school_id, []).append(user_id)
        self.managers: dict[int, list[int]] = {}
        for user_id, school_id in conn.execute(
            select(school_managers.c.user_id, school_managers.c.school_id).order_by(school_managers.c.user_id)
        ):
            self.managers.setdefault(school_id, []).append(user_id)
        self.school_of = {u: s for s, users in self.by_school.items() for u in users}


S = BookingStatus


def _life(
    rng: random.Random,
    kit: _Kit,
    requester: int,
    requester_school_id: int,
    start: dt.datetime,
    end: dt.datetime,
    now: dt.datetime,
    managers: list[int],
) -> tuple[dict[str, Any], list[tuple[Any, ...]]]:
    """A booking's fields beyond its times, and its status history, as it would have lived."""
    lead = dt.timedelta(minutes=min(max(rng.expovariate(1 / (4 * 24 * 60)), 60), 90 * 24 * 60))
    created = min(start - lead, now - dt.timedelta(minutes=rng.randint(5, 20_000)))
    needs_approval = kit.requires_approval or requester_school_id != kit.school_id
    fields: dict[str, Any] = {
        "decided_by_id": None,
        "decided_at": None,
        "decision_reason": "",
        "checked_in_at": None,
        "handed_over_at": None,
        "handed_over_by_id": None,
        "handover_condition": "",
        "returned_at": None,
        "returned_to_id": None,
        "return_condition": "",
        "returned_damaged": False,
        "created_at": created,
    }
    status = S.PENDING if needs_approval else S.CONFIRMED
    history: list[tuple[Any, ...]] = [(None, status, requester, created, "")]
    at = created
    if needs_approval:
        manager = rng.choice(managers) if managers else None
        if start > now and rng.random() < 0.25:
            pass  # still waiting for a decision
        else:
            at = created + (min(start, now) - created) * rng.uniform(0.05, 0.5)
            decision = S.REJECTED if rng.random() < 0.07 else S.CONFIRMED
            reason = "Reserved for a course that week." if decision == S.REJECTED else ""
            history.append((status, decision, manager, at, reason))
            fields.update(decided_by_id=manager, decided_at=at, decision_reason=reason)
            status = decision
    if status == S.CONFIRMED:
        r = rng.random()
        if r < 0.09:
            if start > now:
                cancel_at = at + (now - at) * rng.random()
            elif rng.random() < 0.3:
                cancel_at = max(at, start - dt.timedelta(minutes=rng.randint(30, 24 * 60)))
            else:
                cancel_at = at + (max(start - dt.timedelta(days=1), at) - at) * rng.random()
            history.append(
                (
                    status,
                    S.CANCELLED,
                    requester,
                    cancel_at,
                    rng.choice(("Plans changed", "Samples not ready", "")),
                )
            )
            status = S.CANCELLED
        elif end <= now and r < 0.12:
            history.append((status, S.NO_SHOW, None, start + dt.timedelta(minutes=30), "Not checked in"))
            status = S.NO_SHOW
        elif start <= now:
            if kit.portable:
                manager = rng.choice(managers) if managers else None
                out = start + dt.timedelta(minutes=rng.randint(0, 15))
                fields.update(handed_over_at=out, handed_over_by_id=manager, handover_condition="Good")
                history.append((status, S.CHECKED_OUT, manager, out, ""))
                status = S.CHECKED_OUT
                if end <= now:
                    back = max(out, end - dt.timedelta(minutes=rng.randint(0, 20)))
                    damaged = rng.random() < 0.01
                    fields.update(
                        returned_at=back,
                        returned_to_id=manager,
                        return_condition="Scratched case" if damaged else "Good",
                        returned_damaged=damaged,
                    )
                    history.append((status, S.COMPLETED, manager, back, ""))
                    status = S.COMPLETED
            elif kit.checkin:
                checked_in = start + dt.timedelta(minutes=rng.randint(0, 10))
                fields["checked_in_at"] = checked_in
                history.append((status, S.CHECKED_OUT, requester, checked_in, ""))
                status = S.CHECKED_OUT
                if end <= now:
                    history.append((status, S.COMPLETED, None, end, ""))
                    status = S.COMPLETED
            elif end <= now:
                history.append((status, S.COMPLETED, None, end, ""))
                status = S.COMPLETED
    fields["status"] = status
    fields["updated_at"] = max(h[3] for h in history)
    return fields, history


def generate_bookings(
    conn: sa.Connection, total: int, now: dt.datetime, years: int, seed: int = SEED, first_id: int = 1
) -> Iterable[tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]]:
    """Yield chunks of (booking rows, history rows, unmet-demand rows) for ``total`` bookings
    spread over the register's assets, in the column orders above."""
    rng = random.Random(seed * 7 + total)
    today = to_local(now).date()
    first_day = today - dt.timedelta(days=years * 365 - FUTURE_DAYS)
    last_day = today + dt.timedelta(days=FUTURE_DAYS)
    kit = _read_kit(conn, first_day, last_day)
    people = _People(conn)
    school_of = people.school_of
    counts = _per_asset(rng, total, kit)
    clock = _Clock()
    next_id = first_id
    bookings: list[tuple[Any, ...]] = []
    history: list[tuple[Any, ...]] = []
    unmet: list[tuple[Any, ...]] = []
    schools = sorted(people.by_school)
    for item, n in zip(kit, counts):
        if n == 0:
            continue
        own = people.by_school.get(item.school_id, [])
        regulars = rng.sample(own, min(len(own), rng.randint(3, 12)))
        visitors: list[int] = []
        if item.shareable and len(schools) > 1 and rng.random() < 0.6:
            for school in rng.sample(
                [s for s in schools if s != item.school_id], min(len(schools) - 1, rng.randint(1, 3))
            ):
                pool = people.by_school.get(school, [])
                visitors += rng.sample(pool, min(len(pool), rng.randint(1, 4)))
        cross_share = rng.uniform(0.03, 0.3) if visitors else 0.0
        popular = n > 2 * total / max(1, len(kit))
        managers = people.managers.get(item.school_id, [])
        per_day = _spread(
            rng, n, [_season(d) for d in item.days], [_day_capacity(item, d) for d in item.days]
        )
        for day, k in zip(item.days, per_day):
            if not k:
                continue
            opens, closes = _day_window(item, day)
            length = closes - opens
            longest = (length - k * item.turnaround) // k // 15 * 15
            if item.max_minutes:
                longest = min(longest, item.max_minutes)
            durations = [max(15, min(rng.choice(DURATIONS), longest)) for _ in range(k)]
            slack = (length - sum(durations) - k * item.turnaround) // 15
            offsets = sorted(rng.randint(0, slack) for _ in range(k))
            cursor = opens
            for duration, offset in zip(durations, offsets):
                begin = cursor + offset * 15
                start, end = clock.at(day, begin), clock.at(day, begin + duration)
                cursor += duration + item.turnaround
                requester = (
                    rng.choice(visitors) if visitors and rng.random() < cross_share else rng.choice(regulars)
                )
                fields, steps = _life(rng, item, requester, school_of[requester], start, end, now, managers)
                booking_id = next_id
                next_id += 1
                bookings.append(
                    (
                        booking_id,
                        item.id,
                        requester,
                        school_of[requester],
                        start,
                        end,
                        end + dt.timedelta(minutes=item.turnaround),
                        rng.choice(PURPOSES),
                        fields["status"].value,
                        fields["decided_by_id"],
                        fields["decided_at"],
                        fields["decision_reason"],
                        fields["checked_in_at"],
                        fields["handed_over_at"],
                        fields["handed_over_by_id"],
                        fields["handover_condition"],
                        fields["returned_at"],
                        fields["returned_to_id"],
                        fields["return_condition"],
                        fields["returned_damaged"],
                        fields["created_at"],
                        fields["updated_at"],
                    )
                )
                for from_status, to_status, by_id, at, reason in steps:
                    history.append(
                        (
                            booking_id,
                            from_status.value if from_status else None,
                            to_status.value,
                            by_id,
                            at,
                            reason,
                        )
                    )
                if fields["status"] == S.REJECTED:
                    unmet.append(
                        (
                            item.id,
                            requester,
                            school_of[requester],
                            start,
                            end,
                            duration,
                            DemandSource.REJECTED.value,
                            json.dumps(["rejected"]),
                            booking_id,
                            fields["decided_at"],
                        )
                    )
                elif popular and rng.random() < 0.03:  # someone else wanted the same time
                    other = rng.choice(regulars + visitors)
                    asked = min(start - dt.timedelta(hours=rng.randint(1, 72)), now)
                    want = start + dt.timedelta(minutes=15 * rng.randint(0, 2))
                    unmet.append(
                        (
                            item.id,
                            other,
                            school_of[other],
                            want,
                            want + dt.timedelta(minutes=duration),
                            duration,
                            DemandSource.REFUSED.value,
                            json.dumps(["overlap"]),
                            None,
                            asked,
                        )
                    )
        if len(bookings) >= CHUNK:
            yield bookings, history, unmet
            bookings, history, unmet = [], [], []
    if bookings or history or unmet:
        yield bookings, history, unmet


# --- Writing --------------------------------------------------------------------------------------


def _copy(raw: Any, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    with raw.cursor() as cursor:
        with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


_ENUMS: dict[str, Callable[[Any], Any]] = {
    "status": lambda v: BookingStatus(v),
    "from_status": lambda v: BookingStatus(v) if v is not None else None,
    "to_status": lambda v: BookingStatus(v),
    "source": lambda v: DemandSource(v),
    "reasons": json.loads,
}


def _core_insert(
    conn: sa.Connection, table: sa.Table, columns: tuple[str, ...], rows: list[tuple[Any, ...]]
) -> None:
    converters = [(_ENUMS.get(name)) for name in columns]
    records = [
        {
            name: (convert(value) if convert else value)
            for name, convert, value in zip(columns, converters, row)
        }
        for row in rows
    ]
    if records:
        conn.execute(insert(table), records)


def add_bookings(
    engine: sa.Engine,
    total: int,
    now: dt.datetime,
    years: int,
    seed: int = SEED,
    progress: Callable[[str], None] | None = None,
) -> dict[str, int]:
    """Bulk-insert ``total`` generated bookings with their history and unmet demand, in one
    transaction. Returns how many rows went into each table."""
    written = {"bookings": 0, "booking_status_changes": 0, "unmet_demand": 0}
    postgres = engine.dialect.name == "postgresql"
    with engine.begin() as conn:
        first_id = (conn.scalar(select(sa.func.max(Booking.id))) or 0) + 1
        for bookings, history, unmet in generate_bookings(conn, total, now, years, seed, first_id):
            if postgres:
                raw = conn.connection.driver_connection
                _copy(raw, "bookings", BOOKING_COLUMNS, bookings)
                _copy(raw, "booking_status_changes", HISTORY_COLUMNS, history)
                _copy(raw, "unmet_demand", UNMET_COLUMNS, unmet)
            else:
                _core_insert(conn, Booking.__table__, BOOKING_COLUMNS, bookings)
                _core_insert(conn, BookingStatusChange.__table__, HISTORY_COLUMNS, history)
                _core_insert(conn, UnmetDemand.__table__, UNMET_COLUMNS, unmet)
            written["bookings"] += len(bookings)
            written["booking_status_changes"] += len(history)
            written["unmet_demand"] += len(unmet)
            if progress:
                progress(f"{written['bookings']:,} bookings")
        if postgres:
            conn.exec_driver_sql(
                "SELECT setval(pg_get_serial_sequence('bookings', 'id'), (SELECT max(id) FROM bookings))"
            )
    return written


OVERLAPS_SQL = """
SELECT count(*) FROM (
    SELECT start_at, lag(blocked_until) OVER (PARTITION BY asset_id ORDER BY start_at, id) AS previous_until
    FROM bookings WHERE status IN ('confirmed', 'checked_out')
) AS ordered WHERE previous_until > start_at
"""


def overlapping_active_bookings(conn: sa.Connection) -> int:
    """Active bookings of one asset that overlap (with turnaround): 0 if the data is sound. An
    overlap anywhere makes some pair of neighbours in start order overlap, so neighbours suffice."""
    return int(conn.exec_driver_sql(OVERLAPS_SQL).scalar() or 0)


def populate(
    engine: sa.Engine, size: Size, now: dt.datetime, seed: int = SEED, bookings: int | None = None
) -> dict[str, int]:
    """The register and ``bookings`` (default: the size's) bookings, in a migrated database."""
    with Session(engine, expire_on_commit=False) as session:
        build_register(session, size, now, seed)
    return add_bookings(engine, size.bookings if bookings is None else bookings, now, size.years, seed)


# --- Whole databases ------------------------------------------------------------------------------


def bench_settings(url: str, **overrides: Any) -> dict[str, Any]:
    """The application settings the benchmark runs with: the test suite's (CSRF off, cheap
    password hashing), no API rate limit, against ``url``."""
    settings: dict[str, Any] = {
        "KITSHARE_ENV": "testing",
        "DATABASE_URL": url,
        "SECRET_KEY": "kitshare-benchmark-" + "x" * 32,
        "PASSWORD_HASH_TIME_COST": 1,
        "PASSWORD_HASH_MEMORY_KIB": 1024,
        "MAIL_OUTBOX_DIR": "",
        "WTF_CSRF_ENABLED": False,
        "KITSHARE_API_RATE_LIMIT": "",
        "KITSHARE_LOG_FORMAT": "text",
    }
    settings.update(overrides)
    return settings


def _reset_postgres(url: str) -> None:
    """An empty public schema in the database, created if missing. (The schema is dropped rather
    than the database: DROP DATABASE waits for a checkpoint, which takes minutes on a busy disk.)"""
    target = sa.make_url(url)
    admin = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.scalar(
            sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": target.database}
        ):
            conn.exec_driver_sql(f'CREATE DATABASE "{target.database}"')
    admin.dispose()
    engine = sa.create_engine(target, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()


def _sqlite_path(url: str) -> Path:
    return Path(sa.make_url(url).database or "")


def _remove_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(str(path) + suffix).unlink(missing_ok=True)


def build_database(
    url: str,
    size: Size,
    bookings: int,
    now: dt.datetime,
    seed: int = SEED,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Build one benchmark database from nothing: the schema by the Alembic migrations, the
    register through the models, then ``bookings`` bookings by bulk insert. Returns the row
    counts and how long each step took."""
    from flask_migrate import upgrade

    from core.config import normalise_database_url
    from core.db import db
    from web.app import create_app

    url = normalise_database_url(url)
    postgres = url.startswith("postgresql")
    started = time.perf_counter()
    if postgres:
        _reset_postgres(url)
    else:
        path = _sqlite_path(url)
        path.parent.mkdir(parents=True, exist_ok=True)
        _remove_sqlite(path)
    app = create_app(bench_settings(url))
    with app.app_context():
        logging.disable(logging.INFO)  # Alembic announces every migration; the table is what matters
        try:
            upgrade()
        finally:
            logging.disable(logging.NOTSET)
        engine = db.engine
        with Session(engine, expire_on_commit=False) as session:
            build_register(session, size, now, seed)
        db.session.remove()
        engine.dispose()
    register_s = time.perf_counter() - started

    started = time.perf_counter()
    engine = sa.create_engine(url)
    counts = add_bookings(engine, bookings, now, size.years, seed)
    bookings_s = time.perf_counter() - started
    started = time.perf_counter()
    if postgres:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")  # what autovacuum would have done by now
    else:
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        refresh_planner_statistics(engine)  # what the scheduler's nightly job would have done
    with engine.connect() as conn:
        overlaps = overlapping_active_bookings(conn)
        # The day totals the triggers kept through the bulk insert, against a recount.
        totals_wrong = day_totals.mismatches(conn)
    engine.dispose()
    finish_s = time.perf_counter() - started
    if overlaps:
        raise RuntimeError(f"the generator made {overlaps} overlapping active bookings in {url}")
    if totals_wrong:
        raise RuntimeError(f"{totals_wrong} rows of the day totals differ from a recount in {url}")
    log(
        f"  {Path(sa.make_url(url).database or '').name}: {size.schools} Schools, {size.assets:,} assets ({register_s:.0f} s); "
        f"{counts['bookings']:,} bookings, {counts['booking_status_changes']:,} status changes, "
        f"{counts['unmet_demand']:,} unmet demand ({bookings_s:.0f} s); vacuum/checkpoint, overlap and day totals checks ({finish_s:.0f} s)"
    )
    return {
        "counts": counts,
        "register_s": round(register_s, 1),
        "bookings_s": round(bookings_s, 1),
        "finish_s": round(finish_s, 1),
    }
