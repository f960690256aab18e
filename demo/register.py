"""The demo's register: Schools, rooms, categories, people and assets, each looked up by its
natural key before it is made; the showcase's assets; ages, lives and costs for the capital plan.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
import secrets
from collections.abc import Sequence

from sqlalchemy import select

from accounts.models import User
from accounts.service import create_user, find_user_by_email
from core.timeutil import local_to_utc, to_local
from demo.bookings import SERVICE_VISIT_HOURS
from demo.inspections import INSPECTION_RECORDED_AT, PASS, draw_inspections, failed_record
from demo.world import (
    AGE_SHARE_OF_LIFE,
    APPROVAL_CHANCE,
    APPROVAL_FROM_POUNDS,
    BOOKABLE_SHARE,
    CATEGORIES,
    CHARGED_FROM_POUNDS,
    FAILED_LATEST,
    FAILED_TWICE,
    GRANT_FUNDED_FROM_POUNDS,
    HOURS_PROFILE_WEIGHTS,
    HOURS_PROFILES,
    KIT,
    LIFE_OVERRIDE_SHARE,
    LIFE_OVERRIDE_YEARS,
    LOAN_MAX_MINUTES,
    MAINTENANCE_COST_SHARE,
    MAX_COST_POUNDS,
    MAX_LENGTH_CHOICES,
    MAX_RATE_POUNDS,
    MIN_AGE_YEARS,
    MIN_COST_POUNDS,
    MIN_LIFE_YEARS,
    MIN_MAINTENANCE_COST_PENCE,
    MIN_RATE_POUNDS,
    NOTICE_CHOICES,
    OFFICE_OPENS,
    OUT_OF_USE_REASON,
    PEOPLE,
    PLANNING_SEED,
    POUNDS_PER_HOURLY_POUND,
    REPLACEMENT_QUOTE_FACTOR,
    REPLACEMENT_QUOTE_SHARE,
    SCHOOL_KIT,
    SCHOOLS,
    SHAREABLE_SHARE,
    SHOWCASE,
    SMALL_FUNDING,
    STATUS_CHANGED_DAYS_AGO,
    TRAINING_CHANCE,
    TRAINING_FROM_POUNDS,
    TURNAROUND_CHOICES,
    UNCHANGED_PASSWORD,
    UNUSUAL_STATUSES,
    USEFUL_LIVES,
    Kit,
    People,
    Run,
    SchoolSpec,
)
from inventory.models import (
    DEFAULT_WEEKLY_HOURS,
    Asset,
    AssetStatus,
    BookableHours,
    Category,
    Location,
    MaintenanceWindow,
    School,
)


def ensure_schools(run: Run) -> dict[str, School]:
    schools = {}
    for spec in SCHOOLS:
        school = run.session.scalar(select(School).where(School.code == spec.code))
        if school is None:
            school = School(code=spec.code, name=spec.name, created_at=run.launched_at)
            run.add(school)
        schools[spec.code] = school
    run.session.flush()
    return schools


def ensure_locations(run: Run, schools: dict[str, School]) -> dict[str, list[Location]]:
    locations: dict[str, list[Location]] = {}
    for spec in SCHOOLS:
        school = schools[spec.code]
        rooms = locations[spec.code] = []
        for building, room in spec.rooms:
            location = run.session.scalar(
                select(Location).where(
                    Location.school_id == school.id, Location.building == building, Location.room == room
                )
            )
            if location is None:
                location = Location(school=school, site=spec.site, building=building, room=room)
                run.add(location)
            rooms.append(location)
    return locations


def ensure_categories(run: Run) -> dict[str, Category]:
    categories = {}
    for name, description in CATEGORIES.items():
        category = run.session.scalar(select(Category).where(Category.name == name))
        if category is None:
            category = Category(
                name=name, description=description, default_useful_life_years=USEFUL_LIVES.get(name)
            )
            run.add(category)
        elif category.default_useful_life_years is None:  # seeded before capital planning
            category.default_useful_life_years = USEFUL_LIVES.get(name)
        categories[name] = category
    return categories


def ensure_people(
    run: Run, schools: dict[str, School], password: str | None
) -> tuple[People, list[tuple[str, str, str]]]:
    """Create the demo people who are missing. Returns them by School, and their sign-ins."""
    people = People(
        members={school.id: [] for school in schools.values()},
        managers={school.id: [] for school in schools.values()},
    )
    sign_ins = []
    for person in PEOPLE:
        user = find_user_by_email(run.session, person.email)
        shown_password = UNCHANGED_PASSWORD
        if user is None:
            shown_password = password or secrets.token_urlsafe(9)
            user = create_user(
                run.session,
                email=person.email,
                name=person.name,
                password=shown_password,
                home_school=schools[person.school] if person.school else None,
                roles=person.roles,
                managed_schools=[schools[code] for code in person.manages],
            )
            user.created_at = run.launched_at
            run.created += 1
        sign_ins.append((person.description, person.email, shown_password))
        people.named[person.email_name] = user
        if person.school:
            people.members[schools[person.school].id].append(user)
        for code in person.manages:
            people.managers[schools[code].id].append(user)
        if person.admin:
            people.admins.append(user)
    return people, sign_ins


def ensure_assets(
    run: Run,
    schools: dict[str, School],
    locations: dict[str, list[Location]],
    categories: dict[str, Category],
    people: People,
) -> tuple[list[tuple[Kit, Asset]], set[str]]:
    """The demo register as drawn, each asset with its make and model, and the tags of the assets
    this run added to the database.

    The register is always drawn in full, so the same random choices describe the same asset
    whichever of them already exist; an existing asset (looked up by tag) is left as it is.
    """
    today = to_local(run.now).date()
    serials: set[str] = set()
    drawn = []
    for spec in SCHOOLS:
        school = schools[spec.code]
        numbers = itertools.count(1)
        for model, units in SCHOOL_KIT[spec.code]:
            kit = KIT[model]
            for unit in range(1, units + 1):
                asset = _draw_asset(
                    run.rng,
                    kit,
                    school=school,
                    spec=spec,
                    category=categories[kit.category],
                    rooms=locations[spec.code],
                    contacts=people.contacts(school.id),
                    serials=serials,
                    today=today,
                )
                asset.tag = f"{spec.code}-{next(numbers):04d}"
                asset.name = f"{kit.manufacturer} {kit.model} {kit.kind}" + (f" #{unit}" if units > 1 else "")
                _draw_lifecycle(asset, kit, today)
                asset.created_at = asset.updated_at = asset.status_changed_at = run.launched_at
                drawn.append((kit, asset))
    assets = [asset for _, asset in drawn]
    _draw_unusual_statuses(run.rng, assets, run.now)
    draw_inspections(run.rng, drawn, people, today, run.launched_at)
    _set_showcase(drawn, people, today)

    tags = [asset.tag for asset in assets]
    existing = set(run.session.scalars(select(Asset.tag).where(Asset.tag.in_(tags))))
    for asset in assets:
        if asset.tag not in existing:
            run.add(asset)
    run.session.flush()
    return drawn, set(tags) - existing


def _draw_asset(
    rng: random.Random,
    kit: Kit,
    *,
    school: School,
    spec: SchoolSpec,
    category: Category,
    rooms: list[Location],
    contacts: list[User],
    serials: set[str],
    today: dt.date,
) -> Asset:
    """An asset of this make and model, with its price, funding, place, contact and booking rules."""
    cost_pounds = _clamp(round(kit.price * rng.uniform(0.85, 1.15), -1), MIN_COST_POUNDS, MAX_COST_POUNDS)
    requires_approval = kit.price >= APPROVAL_FROM_POUNDS or rng.random() < APPROVAL_CHANCE
    hours = rng.choices(HOURS_PROFILES, HOURS_PROFILE_WEIGHTS)[0]
    location = rng.choice(rooms)
    if kit.room is not None:
        location = next(room for room in rooms if room.room == kit.room)
    return Asset(
        school_id=school.id,
        category=category,
        location=location,
        contact=rng.choice(contacts),
        manufacturer=kit.manufacturer,
        model=kit.model,
        serial_number=_draw_serial(rng, kit, serials),
        description=kit.description,
        purchase_date=today - dt.timedelta(days=rng.randint(365, 12 * 365)),
        purchase_cost_pence=cost_pounds * 100,
        funding_source=rng.choice(spec.grants if kit.price >= GRANT_FUNDED_FROM_POUNDS else SMALL_FUNDING),
        hourly_rate_pence=_hourly_rate_pence(cost_pounds),
        bookable=rng.random() < BOOKABLE_SHARE,
        shareable=rng.random() < SHAREABLE_SHARE,
        requires_approval=requires_approval,
        training_required=(
            kit.needs_training or kit.price >= TRAINING_FROM_POUNDS or rng.random() < TRAINING_CHANCE
        ),
        min_notice_minutes=max(NOTICE_CHOICES) if requires_approval else rng.choice(NOTICE_CHOICES),
        max_booking_minutes=LOAN_MAX_MINUTES if kit.loanable else rng.choice(MAX_LENGTH_CHOICES),
        turnaround_minutes=rng.choice(TURNAROUND_CHOICES),
        bookable_hours=[BookableHours(weekday=d, opens=opens, closes=closes) for d, opens, closes in hours],
    )


def _set_showcase(register: list[tuple[Kit, Asset]], people: People, today: dt.date) -> None:
    """Give the showcase assets (SHOWCASE) the rules, life and inspections their year needs, and
    make lent-out kit portable (handed over and returned). No random draw: the rest of the demo
    is what it would be without them."""
    for kit, asset in register:
        asset.portable = kit.loanable
        showcase = SHOWCASE.get(asset.tag)
        if showcase is None:
            continue
        # Available (None: the default, not yet written) and bookable, as drawn.
        assert asset.status in (None, AssetStatus.AVAILABLE) and asset.bookable, asset.tag
        asset.shareable = showcase.shareable
        asset.requires_approval = False
        asset.checkin_required = showcase.checks_in
        if showcase.full_days:
            asset.bookable_hours = [
                BookableHours(weekday=weekday, opens=opens, closes=closes)
                for weekday, opens, closes in DEFAULT_WEEKLY_HOURS
            ]
            asset.turnaround_minutes = 0
            asset.max_booking_minutes = None
        if showcase.life_left_days is not None:
            life = asset.useful_life_years or USEFUL_LIVES[kit.category]
            end = today + dt.timedelta(days=showcase.life_left_days)
            asset.purchase_date = end.replace(year=end.year - life, day=min(end.day, 28))
    by_tag = {asset.tag: asset for _, asset in register}
    managers = people.managers

    tag, kind, days_ago, note = FAILED_LATEST
    crane = by_tag[tag]
    schedule = next(s for s in crane.inspections if s.kind == kind)
    failed_on = today - dt.timedelta(days=days_ago)
    schedule.records.insert(0, failed_record(crane, failed_on, note, managers))
    schedule.last_done_on = failed_on
    schedule.next_due_on = min(schedule.next_due_on, failed_on)  # a failure does not advance it
    crane.status = AssetStatus.OUT_OF_SERVICE
    crane.status_reason = OUT_OF_USE_REASON
    failed_at = local_to_utc(dt.datetime.combine(failed_on, INSPECTION_RECORDED_AT))
    crane.status_changed_at = crane.updated_at = failed_at

    tag, kind, days_ago, notes = FAILED_TWICE
    centrifuge = by_tag[tag]
    schedule = next(s for s in centrifuge.inspections if s.kind == kind)
    first_fail, second_fail, retest = (today - dt.timedelta(days=days) for days in days_ago)
    schedule.records = [
        failed_record(centrifuge, retest, notes[2], managers, PASS),
        failed_record(centrifuge, second_fail, notes[1], managers),
        failed_record(centrifuge, first_fail, notes[0], managers),
    ]
    schedule.last_done_on = retest
    schedule.next_due_on = retest + dt.timedelta(days=schedule.interval_days)


def _planning_rng(tag: str, topic: str) -> random.Random:
    """The random stream of one asset's capital-planning figures (a string seed is stable)."""
    return random.Random(f"{PLANNING_SEED}:{tag}:{topic}")


def _draw_lifecycle(asset: Asset, kit: Kit, today: dt.date) -> None:
    """An age spread over its useful life (so the forecast has assets reaching the end of their
    life in every coming year, and a small backlog past it); for some assets a useful life of
    their own and a recent quote for a replacement."""
    rng = _planning_rng(asset.tag, "lifecycle")
    life = USEFUL_LIVES[kit.category]
    if rng.random() < LIFE_OVERRIDE_SHARE:
        life = max(life + rng.choice(LIFE_OVERRIDE_YEARS), MIN_LIFE_YEARS)
        asset.useful_life_years = life
    age_years = rng.uniform(max(MIN_AGE_YEARS, life * AGE_SHARE_OF_LIFE[0]), life * AGE_SHARE_OF_LIFE[1])
    asset.purchase_date = today - dt.timedelta(days=round(age_years * 365.25))
    if rng.random() < REPLACEMENT_QUOTE_SHARE:
        quote_pounds = round(asset.purchase_cost_pence / 100 * rng.uniform(*REPLACEMENT_QUOTE_FACTOR), -1)
        asset.replacement_cost_pence = int(quote_pounds) * 100


def draw_maintenance_costs(asset: Asset, windows: Sequence[MaintenanceWindow], now: dt.datetime) -> None:
    """What finished service visits and repairs cost; work still under way has no bill yet."""
    rng = _planning_rng(asset.tag, "maintenance")
    for window in windows:
        if window.end_at <= now:
            share = rng.uniform(*MAINTENANCE_COST_SHARE)
            pounds = round((asset.purchase_cost_pence or 0) / 100 * share, -1)
            window.cost_pence = max(int(pounds) * 100, MIN_MAINTENANCE_COST_PENCE)


def _clamp(value: float, low: int, high: int) -> int:
    return int(min(max(value, low), high))


def _hourly_rate_pence(cost_pounds: int) -> int:
    if cost_pounds < CHARGED_FROM_POUNDS:
        return 0
    return _clamp(round(cost_pounds / POUNDS_PER_HOURLY_POUND), MIN_RATE_POUNDS, MAX_RATE_POUNDS) * 100


def _draw_serial(rng: random.Random, kit: Kit, taken: set[str]) -> str:
    """A serial number no other demo asset has: the maker's initials and seven digits."""
    initials = "".join(word[0] for word in kit.manufacturer.split() if word[0].isalpha()).upper()
    while (serial := f"{initials}{rng.randrange(1_000_000, 10_000_000)}") in taken:
        pass
    taken.add(serial)
    return serial


def _draw_unusual_statuses(rng: random.Random, assets: list[Asset], now: dt.datetime) -> None:
    """Retire a few assets and take a few more out for maintenance or repair, a few days ago.

    Kit under maintenance went out when its maintenance window opened, at the start of a
    working day; kit out of service broke during one, and its bookings stop the day before.
    """
    today = to_local(now).date()
    chosen = iter(rng.sample(assets, sum(count for _, count, _ in UNUSUAL_STATUSES)))
    for status, count, reasons in UNUSUAL_STATUSES:
        for asset in (next(chosen) for _ in range(count)):
            asset.status = status
            asset.status_reason = rng.choice(reasons)
            day = today - dt.timedelta(days=rng.randint(*STATUS_CHANGED_DAYS_AGO[status]))
            if status == AssetStatus.MAINTENANCE:
                changed_at = local_to_utc(dt.datetime.combine(day, SERVICE_VISIT_HOURS[0]))
            else:
                changed_at = local_to_utc(dt.datetime.combine(day, OFFICE_OPENS)) + dt.timedelta(
                    minutes=rng.randrange(0, 8 * 60, 5)
                )
            asset.status_changed_at = asset.updated_at = changed_at
            if status == AssetStatus.RETIRED:
                asset.bookable = False
                asset.retired_at = changed_at
