"""A demo university for Kitshare: six Schools, their people, their kit and a year of bookings.

``seed()`` fills a database so that every page and report has something to show:

* six Schools with their rooms, seventeen equipment categories and 157 assets with real
  manufacturers and models, spread over the Schools by discipline;
* people of every role, created through ``accounts.service.create_user``, whose demo passwords
  are returned once for the CLI to print;
* for every bookable asset, bookings from a year (and a fortnight) ago to six weeks ahead in
  office hours, with the status history a real booking would have had (lent-out kit handed over
  and returned, bench kit that asks for it checked in: the reports' actual use); some by other
  Schools' people, approved; a few weekly series (teaching laboratories); and a few maintenance
  windows that no booking overlaps;
* the upkeep a register has: recurring inspections (calibration, PAT, LOLER, fume cupboards,
  services) with their history, a handful overdue or due soon, some of them blocking bookings;
  training authorisations for kit that needs training (everyone who booked such kit holds one),
  with some expired and a couple revoked;
* unmet demand: every rejected booking, and requests the rules refused for notice, training or
  hours, mostly of the busiest kit (none of which says the kit is short of time);
* a showcase (``SHOWCASE``) of kit whose year gives the capital plan each of its recommendations,
  true to the asset: kit booked almost every open hour whose people, of one School or of several,
  were turned away because the time was booked (saturated; invest); kit booked half the time that
  people of three Schools were turned away from (saturated by demand; invest); well-used kit at the
  end of its life and kit failing its inspections (replace); kit idle all year that nobody asked
  for (dispose), and idle kit not open to other Schools (share). Every other asset is ordinary:
  neither idle nor saturated.
* for capital planning: each category's useful life; assets aged across their lives (a few
  past the end), some with a useful life of their own or a recent quote for a replacement; and
  what past service visits cost. These come from random streams of their own (one per asset),
  so they change none of the other choices.

Every choice comes from one ``random.Random`` with a fixed seed, and every time is reckoned from
``now``, so two databases seeded with the same ``now`` hold the same data (passwords excepted).
Running it again adds nothing: Schools, categories, rooms, people and assets are looked up by
their natural keys before being created, and an asset's inspections, bookings, series, training,
unmet demand and maintenance windows are made only in the run that creates the asset. It all
happens in one transaction.

The data itself (Schools and rooms, categories and their useful lives, the equipment catalogue and
what each School owns, people, and the texts bookings and inspections are written with) is in
``demo/data/*.json``; the package's modules hold the rules that draw on it, a topic each:
``world`` (what the university is: its Schools, catalogue, showcase, people and rules),
``register`` (Schools, rooms, people and assets made), ``bookings``, ``series``, ``inspections``,
``training``, ``refusals`` (unmet demand) and ``profiles``; this one runs them in order.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accounts.models import User
from bookings.models import Booking, BookingStatus, UnmetDemand
from bookings.service import change_status
from core.db import atomic, utcnow
from core.timeutil import local_to_utc, to_local
from demo.bookings import add_bookings, draw_bookings, draw_maintenance, each_day, new_booking
from demo.profiles import seed_profiles
from demo.refusals import draw_refusals, rejection
from demo.register import (
    draw_maintenance_costs,
    ensure_assets,
    ensure_categories,
    ensure_locations,
    ensure_people,
    ensure_schools,
)
from demo.series import draw_series
from demo.training import draw_category_training, draw_trained_people, draw_training, needs_training
from demo.world import COMPLETED_REASON, PURPOSES, RANDOM_SEED, SHOWCASE, UNCHANGED_PASSWORD, Kit, People, Run
from inventory.models import (
    DEFAULT_WEEKLY_HOURS,
    Asset,
    BookableHours,
    BookableHoursHistory,
    Category,
    InspectionSchedule,
    Location,
    MaintenanceWindow,
    School,
    TrainingAuthorisation,
)

# --- The result -----------------------------------------------------------------------------------


COUNTS_PER_LINE = 4


@dataclass
class SeedResult:
    created: bool  # False when the demo data was already there
    sign_ins: list[tuple[str, str, str]]  # (role description, email, password or "(unchanged)")
    counts: dict[str, int]  # rows of the main tables in the database after seeding, by what they hold

    def summary(self) -> str:
        """Counts, then a table of the demo sign-ins: meant to be printed once."""
        counts = [f"{name.capitalize()}: {count}" for name, count in self.counts.items()]
        lines = [
            "Demo data created." if self.created else "The demo data was already there: nothing was added.",
            *("  ".join(counts[i : i + COUNTS_PER_LINE]) for i in range(0, len(counts), COUNTS_PER_LINE)),
            "",
            "Demo sign-ins"
            + (
                " (the database keeps only password hashes: note these now):"
                if self._shows_passwords
                else ":"
            ),
        ]
        header = ("Role", "Email", "Password")
        widths = [max(len(row[i]) for row in (header, *self.sign_ins)) for i in range(3)]
        for row in (header, *self.sign_ins):
            cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
            lines.append(("  " + "  ".join(cells)).rstrip())
        return "\n".join(lines)

    @property
    def _shows_passwords(self) -> bool:
        return any(password != UNCHANGED_PASSWORD for _, _, password in self.sign_ins)


def seed(session: Session, password: str | None = None, now: dt.datetime | None = None) -> SeedResult:
    """Fill the database with the demo university, in one transaction; see the module docstring."""
    run = Run(session, random.Random(RANDOM_SEED), now or utcnow())
    with atomic(session):
        schools = ensure_schools(run)
        locations = ensure_locations(run, schools)
        categories = ensure_categories(run)
        people, sign_ins = ensure_people(run, schools, password)
        register, new_tags = ensure_assets(run, schools, locations, categories, people)
        _ensure_activity(run, register, new_tags, people)
        _ensure_hours_changed_at_term_start(run, schools, categories, people)
        run.created += seed_profiles(session, run.now.date())
        counts = _counts(session)
    return SeedResult(created=run.created > 0, sign_ins=sign_ins, counts=counts)


def _ensure_activity(run: Run, register: list[tuple[Kit, Asset]], new_tags: set[str], people: People) -> None:
    """Maintenance windows, bookings, weekly series, training and unmet demand for the assets this
    run added. (An asset and its activity are created in one transaction, so an asset that already
    existed has had its share.) Every asset's activity is drawn, so that none depends on which
    others already existed."""
    if not new_tags:
        return
    windows_of: dict[str, list[MaintenanceWindow]] = {}
    bookings_of: dict[str, list[Booking]] = {}
    trained_of: dict[str, list[User]] = {}  # who may book the kit that needs training
    category_grants = draw_category_training(run.rng, register, people, run.launched_at)
    for kit, asset in register:
        if needs_training(asset):
            trained_of[asset.tag] = draw_trained_people(run.rng, asset, people, category_grants)
            if asset.tag in SHOWCASE:  # those turned away for want of time were trained to use it
                named = [people.named[name] for name in SHOWCASE[asset.tag].turned_away]
                trained_of[asset.tag] = list(dict.fromkeys(trained_of[asset.tag] + named))
        windows_of[asset.tag] = draw_maintenance(run.rng, asset, people, run.now)
        draw_maintenance_costs(asset, windows_of[asset.tag], run.now)
        trained = trained_of.get(asset.tag)
        bookings_of[asset.tag] = draw_bookings(
            run.rng, asset, windows_of[asset.tag], PURPOSES[kit.category], people, trained, run.now
        )
    weekly = draw_series(run.rng, register, bookings_of, windows_of, trained_of, people, run.now)
    for asset, series in weekly:
        bookings_of[asset.tag] += series.bookings
    grants = draw_training(run.rng, register, trained_of, bookings_of, category_grants, people, run.now)
    refusals = draw_refusals(run.rng, register, bookings_of, windows_of, grants, people, run.now)

    new_assets = [asset for _, asset in register if asset.tag in new_tags]
    for asset in new_assets:
        for window in windows_of[asset.tag]:
            run.add(window)
    # A series first, so its bookings (inserted in bulk, past the unit of work) can name it.
    for asset, series in weekly:
        if asset.tag in new_tags:
            sessions, series.bookings = series.bookings, []
            run.add(series)
            run.session.flush()
            for booking in sessions:
                booking.series_id = series.id
    add_bookings(run, [booking for asset in new_assets for booking in bookings_of[asset.tag]])
    # A category's authorisations belong to no one asset: they are looked up by person and scope.
    scopes = select(
        TrainingAuthorisation.user_id, TrainingAuthorisation.school_id, TrainingAuthorisation.category_id
    )
    held = {tuple(row) for row in run.session.execute(scopes)}
    for asset, grant in grants:
        if asset is not None and asset.tag in new_tags:
            run.add(grant)
        elif asset is None and (grant.user_id, grant.school_id, grant.category_id) not in held:
            run.add(grant)
    for asset in new_assets:
        for booking in bookings_of[asset.tag]:
            if booking.status == BookingStatus.REJECTED:
                run.add(rejection(asset, booking))
    for asset, refusal in refusals:
        if asset.tag in new_tags:
            run.add(refusal)


def _counts(session: Session) -> dict[str, int]:
    session.flush()
    return {
        name: session.scalar(select(func.count()).select_from(model)) or 0
        for name, model in (
            ("schools", School),
            ("users", User),
            ("assets", Asset),
            ("bookings", Booking),
            ("inspection schedules", InspectionSchedule),
            ("training authorisations", TrainingAuthorisation),
            ("unmet requests", UnmetDemand),
        )
    }


# --- Hours that changed (issue 15 point 7) --------------------------------------------------------

#: The demo's one asset whose bookable hours changed: 08:00-20:00 last term, 09:00-17:00 since.
HOURS_CHANGED_TAG = "ENG-L001"
#: The days a term starts (month, day); the change took effect on the last one at least 28 days ago.
TERM_STARTS = ((1, 5), (4, 20), (9, 1))
LAST_TERM_EVENING_WEEKS = 6  # weeks of evening bookings before the change


def _term_start(today: dt.date) -> dt.date:
    """The first day of the current term: the latest term start at least 28 days before today."""
    latest = today - dt.timedelta(days=28)
    return max(
        dt.date(year, month, day)
        for year in (latest.year - 1, latest.year)
        for month, day in TERM_STARTS
        if dt.date(year, month, day) <= latest
    )


def _ensure_hours_changed_at_term_start(
    run: Run, schools: dict[str, School], categories: dict[str, Category], people: People
) -> None:
    """A centre lathe open 08:00-20:00 on weekdays until this term began and 09:00-17:00 since,
    the change kept in its hours' history; booked on Monday to Thursday mornings, and on Tuesday
    and Thursday evenings last term (17:00-19:30, outside today's hours). The report of a week of
    last term shows its 60 hours then, not 40. Self-contained: no draw from ``run.rng``, so the
    rest of the demo stays the same."""
    if run.session.scalar(select(Asset.id).where(Asset.tag == HOURS_CHANGED_TAG)) is not None:
        return
    school = schools["ENG"]
    today = to_local(run.now).date()
    changed_on = _term_start(today)
    manager = people.managers[school.id][0]
    members = people.members[school.id]
    workshop = run.session.scalar(
        select(Location).where(Location.school_id == school.id, Location.room == "G.05 Mechanical workshop")
    )
    asset = Asset(
        school_id=school.id,
        tag=HOURS_CHANGED_TAG,
        name="Colchester Student 1800 centre lathe",
        category=categories["Workshop tools"],
        location=workshop,
        contact=manager,
        manufacturer="Colchester",
        model="Student 1800",
        serial_number="CS1800-20417",
        description="Gap-bed centre lathe, 1 m between centres. Evening sessions ended when the technician's "
        "hours changed at the start of this term.",
        purchase_date=today - dt.timedelta(days=8 * 365),
        purchase_cost_pence=1_850_000,
        funding_source="UKRI Core Equipment 2022",
        hourly_rate_pence=1500,
        bookable=True,
        shareable=False,
        created_at=run.launched_at,
        updated_at=run.launched_at,
        status_changed_at=run.launched_at,
        bookable_hours=[BookableHours(weekday=d, opens=o, closes=c) for d, o, c in DEFAULT_WEEKLY_HOURS],
    )
    run.add(asset)
    run.session.flush()
    made_on = local_to_utc(dt.datetime.combine(changed_on, dt.time(8)))
    run.add(
        BookableHoursHistory(
            asset_id=asset.id,
            in_force_until=changed_on,
            changed_by_id=manager.id,
            created_at=made_on,
            hours=BookableHoursHistory.encode([(day, dt.time(8), dt.time(20)) for day in range(5)]),
        )
    )
    first_evening = max(
        changed_on - dt.timedelta(weeks=LAST_TERM_EVENING_WEEKS), to_local(run.launched_at).date()
    )
    slots = [
        (day, dt.time(17), dt.time(19, 30))
        for day in each_day(first_evening, changed_on - dt.timedelta(days=1))
        if day.weekday() in (1, 3)
    ] + [
        # Mornings all the year the demo covers: well used, neither idle nor saturated.
        (day, dt.time(10), dt.time(13))
        for day in each_day(to_local(run.launched_at).date(), today - dt.timedelta(days=1))
        if day.weekday() < 4
    ]
    # One evening session booked before the change for the first Tuesday of term, and kept: the
    # report flags it as outside the hours in force on its day.
    kept_on = changed_on + dt.timedelta(days=(1 - changed_on.weekday()) % 7)
    slots.append((kept_on, dt.time(17), dt.time(19, 30)))
    bookings = []
    for number, (day, opens, closes) in enumerate(slots):
        start_at = local_to_utc(dt.datetime.combine(day, opens))
        end_at = local_to_utc(dt.datetime.combine(day, closes))
        requester = members[number % len(members)]
        made_at = (
            start_at - dt.timedelta(days=7)
            if day != kept_on or opens != dt.time(17)
            else made_on - dt.timedelta(days=1)
        )
        booking = new_booking(
            asset,
            requester,
            (start_at, end_at),
            "Turning parts for a test rig",
            BookingStatus.CONFIRMED,
            made_at,
        )
        change_status(booking, BookingStatus.COMPLETED, None, COMPLETED_REASON, at=end_at)
        booking.updated_at = end_at
        bookings.append(booking)
    add_bookings(run, bookings)
