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
``demo/data/*.json``; this module holds the rules that draw on it.
"""

from __future__ import annotations

import calendar
import datetime as dt
import itertools
import json
import random
import secrets
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session

from accounts.models import Role, User
from accounts.service import create_user, find_user_by_email
from bookings.models import (
    ACTIVE_STATUSES,
    Booking,
    BookingSeries,
    BookingStatus,
    BookingStatusChange,
    DemandSource,
    UnmetDemand,
)
from bookings.rules import within_bookable_hours
from bookings.service import change_status
from core.db import atomic, utcnow
from core.timeutil import local_to_utc, to_local
from inventory.models import (
    DEFAULT_WEEKLY_HOURS,
    Asset,
    AssetStatus,
    BookableHours,
    BookableHoursHistory,
    Category,
    InspectionKind,
    InspectionOutcome,
    InspectionRecord,
    InspectionSchedule,
    Location,
    MaintenanceWindow,
    School,
    TrainingAuthorisation,
)

RANDOM_SEED = 20261201
EMAIL_DOMAIN = "kitshare.example.ac.uk"
UNCHANGED_PASSWORD = "(unchanged)"

#: The demo's data (Schools, the equipment catalogue, people, texts) lives in JSON files beside
#: this module; the code below says how it is drawn on. Lists are read as tuples, as the seed uses them.
DATA_FOLDER = Path(__file__).parent / "data"


def _tuples(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_tuples(item) for item in value)
    if isinstance(value, dict):
        return {key: _tuples(item) for key, item in value.items()}
    return value


def _data(name: str) -> Any:
    return _tuples(json.loads((DATA_FOLDER / name).read_text(encoding="utf-8")))


_SCHOOL_DATA = _data("schools.json")
_CATEGORY_DATA = _data("categories.json")
_CATALOGUE_DATA = _data("catalogue.json")
_TEXTS = _data("texts.json")

# --- Schools, rooms and categories --------------------------------------------------------------


@dataclass(frozen=True)
class SchoolSpec:
    code: str
    name: str
    site: str
    rooms: tuple[tuple[str, str], ...]  # (building, room)
    grants: tuple[str, ...]  # what paid for its bigger kit


SCHOOLS = tuple(SchoolSpec(**school) for school in _SCHOOL_DATA["schools"])

#: Where cheaper kit's money comes from.
SMALL_FUNDING = _SCHOOL_DATA["small_funding"]

CATEGORIES = {name: category["description"] for name, category in _CATEGORY_DATA.items()}

# --- The equipment catalogue --------------------------------------------------------------------


@dataclass(frozen=True)
class Kit:
    """A make and model of equipment, as a School might own one or several of them."""

    category: str
    manufacturer: str
    model: str
    kind: str  # what it is, for the asset's name: "confocal microscope"
    price: int  # typical purchase price, pounds
    description: str
    loanable: bool = False  # carried away, so it may be booked for up to two days
    needs_training: bool = False  # an induction first, whatever it cost
    room: str | None = None  # fixed in this room (by its name), rather than in any of the School's


CATALOGUE = tuple(Kit(**kit) for kit in _CATALOGUE_DATA["kit"])
KIT = {kit.model: kit for kit in CATALOGUE}

#: What each School owns: (model, how many), in the order the tags are numbered.
SCHOOL_KIT: dict[str, tuple[tuple[str, int], ...]] = _CATALOGUE_DATA["school_kit"]

# --- Capital planning -----------------------------------------------------------------------------

#: How many years equipment of each category is expected to last (planning/lifecycle.py).
USEFUL_LIVES = {name: category["useful_life_years"] for name, category in _CATEGORY_DATA.items()}
#: Capital planning draws from random streams of its own, one per asset, so that adding it
#: changed none of the other choices (the same bookings, training and inspections as before).
PLANNING_SEED = f"{RANDOM_SEED}:planning"
#: An asset's age, as a share of its useful life (a few past the end: the backlog), and at least
#: this many years (kit bought within the last two years is rarely on a capital plan).
AGE_SHARE_OF_LIFE = (0.3, 1.15)
MIN_AGE_YEARS = 2
LIFE_OVERRIDE_SHARE = 0.1  # of assets: a life of their own, shorter or longer than the category's
LIFE_OVERRIDE_YEARS = (-3, -2, 2, 3)
MIN_LIFE_YEARS = 3
REPLACEMENT_QUOTE_SHARE = 0.35  # of assets: a recent quote for a replacement, in today's prices
REPLACEMENT_QUOTE_FACTOR = (1.05, 1.45)  # times the purchase price
#: A past service visit or repair cost this share of the purchase price (at least £80).
MAINTENANCE_COST_SHARE = (0.004, 0.03)
MIN_MAINTENANCE_COST_PENCE = 8_000


@dataclass(frozen=True)
class Showcase:
    """An asset whose year gives the capital plan (planning/recommendations.py) something true to
    say about it: its rules and its bookings are set so that its year is what the plan reads.

    Every other asset is ordinary: used on 30-80% of weekdays, neither idle nor saturated, and
    refused only for rules that say nothing about capacity (notice, training, hours) or rejected
    by a manager. Only here is anyone turned away because the time was already booked.
    """

    plan: str  # what the plan makes of it, for readers of this table
    use: float  # chance that it is in use on a weekday
    full_days: bool = False  # booked from opening to closing on the days it is used
    borrowed: bool = True  # booked by other Schools' people too (when shared)
    shareable: bool = True
    turned_away: tuple[str, ...] = ()  # people refused because the time was booked (e-mail names)
    asked_from_outside: tuple[str, ...] = ()  # people of other Schools refused: not shared
    life_left_days: int | None = None  # its life ends this many days from today (negative: ended)
    checks_in: bool = False  # bench kit its holders check in to


SHOWCASE = {
    # Booked almost every open hour, and people of several Schools turned away: a second unit.
    "MED-0004": Showcase(
        "Invest",
        use=1.0,
        full_days=True,
        checks_in=True,
        life_left_days=2000,
        turned_away=("samuel.osei", "chloe.dubois", "kwame.mensah", "rahul.desai"),
    ),
    "PSYC-0001": Showcase(
        "Invest",
        use=1.0,
        full_days=True,
        checks_in=True,
        life_left_days=1500,
        turned_away=("isla.robertson", "zainab.hussain", "grace.adeyemi"),
    ),
    # Booked almost every open hour, wanted more only by its own School: saturated, no invest.
    "CHEM-0007": Showcase(
        "Saturated",
        use=1.0,
        full_days=True,
        checks_in=True,
        life_left_days=2500,
        turned_away=("priya.natarajan", "tom.whitfield"),
    ),
    # Booked about half the time, but people of three Schools were turned away: saturated by demand.
    "PHYS-0001": Showcase(
        "Invest",
        use=0.6,
        full_days=True,
        checks_in=True,
        life_left_days=1800,
        turned_away=("sophie.lambert", "yuki.tanaka", "meilin.chen", "aisha.bello"),
    ),
    # Well used at the end of its life (ended eight months ago; ends in five months): replace.
    "CHEM-0003": Showcase("Replace", use=0.75, full_days=True, checks_in=True, life_left_days=-240),
    "ENG-0017": Showcase("Replace", use=0.75, full_days=True, checks_in=True, life_left_days=150),
    # Idle all year and nobody asked for it: dispose of it or redeploy it.
    "ENG-0015": Showcase("Dispose", use=0.03, borrowed=False),
    "PHYS-0018": Showcase("Dispose", use=0.03, borrowed=False),
    "CHEM-0024": Showcase("Dispose", use=0.03, borrowed=False),
    # Idle, not open to other Schools, whose people asked for it: share it.
    "PHYS-0019": Showcase(
        "Share", use=0.03, shareable=False, asked_from_outside=("owen.hughes", "marek.kowalski")
    ),
    # Idle, not open to other Schools, nobody asked: share it, or dispose of it.
    "ENG-0018": Showcase("Share or dispose", use=0.03, shareable=False),
}
SHOWCASE_BOOKING_MINUTES = (120, 180, 240)  # on the days booked from opening to closing
TURNED_AWAY_EACH = 2  # requests refused for each person turned away
#: Replace: failing inspections. (tag, kind, days ago it failed, note). The crane's latest
#: thorough examination failed (out of use since); the ultracentrifuge failed two services in
#: the year, each repaired, and passed its re-test.
FAILED_LATEST = (
    "ENG-0028",
    InspectionKind.LOLER,
    9,
    "Hoist brake slipping under the test load; taken out of use until repaired and re-examined.",
)
FAILED_TWICE = (
    "BIOS-0013",
    InspectionKind.SERVICE,
    (200, 34, 20),
    (
        "Drive fault found during the service; parts fitted.",
        "Rotor imbalance fault found during the service; drive replaced.",
        "Re-test after the repair: performance verified.",
    ),
)
OUT_OF_USE_REASON = "Failed its LOLER thorough examination (hoist brake slipping): out of use until repaired."

# --- Asset rules ----------------------------------------------------------------------------------

MIN_COST_POUNDS, MAX_COST_POUNDS = 800, 450_000
GRANT_FUNDED_FROM_POUNDS = 20_000  # kit this dear was bought on a grant
CHARGED_FROM_POUNDS = 5_000  # cheaper kit is free to use
MIN_RATE_POUNDS, MAX_RATE_POUNDS = 5, 120
POUNDS_PER_HOURLY_POUND = 3_500  # hourly rate: about 1/3500 of the purchase price
APPROVAL_FROM_POUNDS = 50_000  # dearer kit needs a manager's approval...
APPROVAL_CHANCE = 0.1  # ...and so does some cheaper kit
TRAINING_FROM_POUNDS = 40_000  # likewise for training
TRAINING_CHANCE = 0.08
BOOKABLE_SHARE, SHAREABLE_SHARE = 0.95, 0.75
NOTICE_CHOICES = (0, 0, 60, 1440)  # minutes; kit needing approval always asks for a day
LOAN_MAX_MINUTES = 2_880
MAX_LENGTH_CHOICES = (None, None, 240, 480)  # minutes, for kit that stays in its room
TURNAROUND_CHOICES = (0, 0, 15, 30, 60)

EXTENDED_WEEKLY_HOURS = [(day, dt.time(8), dt.time(20)) for day in range(5)]
ALL_WEEK_HOURS = [(day, dt.time(8), dt.time(20)) for day in range(7)]
#: Opening hours kit may have, and how often it has each.
HOURS_PROFILES = (DEFAULT_WEEKLY_HOURS, EXTENDED_WEEKLY_HOURS, ALL_WEEK_HOURS)
HOURS_PROFILE_WEIGHTS = (70, 22, 8)

#: How many assets are in each unusual state, with the reasons they might give.
UNUSUAL_STATUSES: tuple[tuple[AssetStatus, int, tuple[str, ...]], ...] = (
    (
        AssetStatus.RETIRED,
        3,
        (
            "Replaced by a newer model; awaiting disposal through the university's WEEE contractor.",
            "Beyond economic repair; kept for spare parts.",
            "Obsolete: the control PC can no longer be updated.",
        ),
    ),
    (
        AssetStatus.MAINTENANCE,
        4,
        (
            "Annual service by the manufacturer's engineer.",
            "Recalibration after moving rooms.",
            "Awaiting a replacement lamp; fitted on delivery.",
            "Firmware and software upgrade in progress.",
        ),
    ),
    (
        AssetStatus.OUT_OF_SERVICE,
        3,
        (
            "Power supply failed; a repair has been quoted and is awaiting a purchase order.",
            "Rotor imbalance fault; do not use until the engineer has inspected it.",
            "Vacuum pump fault. The supplier has been called.",
        ),
    ),
)

#: How many days before today each unusual status began (from, to).
STATUS_CHANGED_DAYS_AGO = {
    AssetStatus.RETIRED: (2, 14),
    AssetStatus.MAINTENANCE: (1, 6),
    AssetStatus.OUT_OF_SERVICE: (2, 21),
}

# --- People ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    email_name: str  # before the @
    name: str
    school: str | None = None  # home School code
    manages: tuple[str, ...] = ()
    finance: bool = False
    admin: bool = False

    @property
    def email(self) -> str:
        return f"{self.email_name}@{EMAIL_DOMAIN}"

    @property
    def roles(self) -> list[Role]:
        roles = [Role.TECHNICIAN]
        if self.manages:
            roles.append(Role.MANAGER)
        if self.finance:
            roles.append(Role.FINANCE)
        if self.admin:
            roles.append(Role.ADMIN)
        return roles

    @property
    def description(self) -> str:
        if self.admin:
            return "Administrator"
        if self.finance:
            return "Finance"
        if self.manages:
            return f"Manager of {' and '.join(self.manages)}"
        return f"Technician, {self.school}"


PEOPLE = tuple(Person(**person) for person in _data("people.json"))

# --- Bookings -------------------------------------------------------------------------------------

PAST_DAYS, FUTURE_DAYS = 380, 45  # a year of history (and a fortnight): the capital plan's evidence
LIVE_BEFORE_FIRST_BOOKING_DAYS = 30  # Schools, people and assets were registered this long before
OFFICE_OPENS, OFFICE_CLOSES = dt.time(9), dt.time(17)
OFFICE_WEEK_HOURS = 40
BOOKING_MINUTES = range(60, 6 * 60 + 1, 30)
START_DELAYS_MINUTES = (0, 0, 30, 60, 90)  # from when the asset is free to when the next booking starts
MAX_BOOKINGS_PER_DAY = 3
#: Chance per weekday that an asset is in use: from idle kit to kit booked almost every day.
#: Ordinary kit is neither idle nor saturated (idle and saturated kit is the SHOWCASE's).
DAILY_USE_CHANCES = (0.35, 0.45, 0.55, 0.65, 0.8)
CROSS_SCHOOL_SHARE = 0.25
STILL_PENDING_SHARE = 0.5  # of future bookings awaiting approval
REJECTED_SHARE = 0.05  # of bookings needing approval
CANCELLED_SHARE = 0.06
NO_SHOW_SHARE = 0.04  # of past bookings
NO_SHOW_AFTER = dt.timedelta(minutes=30)
MAX_LEAD_DAYS = 28  # how long before its start a booking was made
ASKED_BEFORE_IT_CLOSED = dt.timedelta(hours=1)  # the latest a booking was asked for before its asset closed
#: Bookings a new request must not clash with (pending ones too: a manager would not approve a clash).
LIVE_STATUSES = (BookingStatus.PENDING, *ACTIVE_STATUSES)
#: Bookings that held the asset for their time (a no-show held it until it was released).
HELD_STATUSES = (*ACTIVE_STATUSES, BookingStatus.COMPLETED, BookingStatus.NO_SHOW)

PURPOSES = _TEXTS["purposes"]
REJECTION_REASONS = _TEXTS["rejection_reasons"]
CANCELLATION_REASONS = _TEXTS["cancellation_reasons"]
NO_SHOW_REASON = "Nobody arrived; the slot was released after 30 minutes."
HANDOVER_CONDITIONS = _TEXTS["handover_conditions"]
RETURN_CONDITIONS = _TEXTS["return_conditions"]
COMPLETED_REASON = "Booking time ended."

# --- Maintenance windows --------------------------------------------------------------------------

SERVICE_VISIT_CHANCE = 0.1  # of available assets
SERVICE_VISIT_DAYS = range(5, 101)  # how far before or after today
SERVICE_VISIT_HOURS = (dt.time(8), dt.time(18))
SERVICE_REASONS = _TEXTS["service_reasons"]

# --- Weekly series --------------------------------------------------------------------------------

#: Kit a teaching laboratory books for the same two hours every week, and what for.
SERIES_KIT = _TEXTS["series_kit"]
SERIES_COUNT = 4
SERIES_WEEKS = 6
SERIES_LENGTH = dt.timedelta(hours=2)
SERIES_STARTS = (dt.time(9), dt.time(10), dt.time(11), dt.time(13), dt.time(14), dt.time(15))
SERIES_MADE_DAYS_AGO = (1, 10)

# --- Inspections ----------------------------------------------------------------------------------

CALIBRATION, PAT_TEST, LOLER = InspectionKind.CALIBRATION, InspectionKind.PAT_TEST, InspectionKind.LOLER
FUME_CUPBOARD, SERVICE = InspectionKind.FUME_CUPBOARD, InspectionKind.SERVICE
PASS, ADVISORY, FAIL = InspectionOutcome.PASS, InspectionOutcome.ADVISORY, InspectionOutcome.FAIL

#: What each category is inspected for: (kind, intervals in days to choose from, chance an asset has it).
INSPECTIONS: dict[str, tuple[tuple[InspectionKind, tuple[int, ...], float], ...]] = {
    "Microscopes": ((SERVICE, (365,), 0.5), (PAT_TEST, (730,), 0.15)),
    "Centrifuges": ((SERVICE, (365,), 0.8),),
    "3D printers": ((PAT_TEST, (365, 730), 0.4),),
    "Oscilloscopes": ((CALIBRATION, (365,), 0.5), (PAT_TEST, (730,), 0.2)),
    "Signal generators and analysers": ((CALIBRATION, (365,), 0.5),),
    "Cameras and imaging": ((PAT_TEST, (730,), 0.3),),
    "PCR and qPCR": ((SERVICE, (365,), 0.5),),
    "Laser cutters": ((FUME_CUPBOARD, (365,), 0.9), (PAT_TEST, (365,), 0.5)),  # their fume extraction
    "Spectrometers": ((CALIBRATION, (365,), 0.6),),
    "Balances": ((CALIBRATION, (365,), 0.95),),
    "Freezers and incubators": ((SERVICE, (365,), 0.3), (PAT_TEST, (730,), 0.2)),
    "Chromatography": ((SERVICE, (365,), 0.5),),
    "Eye tracking and EEG": ((PAT_TEST, (365,), 0.4),),
    "Workshop tools": ((PAT_TEST, (365, 730), 0.5),),
    "Lifting equipment": ((LOLER, (180,), 1.0), (PAT_TEST, (365,), 1.0)),
    "Sequencers": ((SERVICE, (365,), 0.5),),
    "Plate readers and cytometers": ((SERVICE, (365,), 0.5),),
}
#: Makes and models inspected otherwise than their category.
MODEL_INSPECTIONS: dict[str, tuple[tuple[InspectionKind, tuple[int, ...], float], ...]] = {
    "Selekt": ((SERVICE, (365,), 0.5), (FUME_CUPBOARD, (365,), 1.0)),  # it runs in a fume cupboard
}
#: Kinds whose lapse may make a manager refuse bookings, and the share of such kit where it does.
BLOCKING_KINDS = (CALIBRATION, LOLER, FUME_CUPBOARD)
BLOCKING_SHARE = 1 / 3
OVERDUE_COUNT, DUE_SOON_COUNT = 5, 10
OVERDUE_DAYS, DUE_SOON_DAYS = (1, 40), (0, 14)  # due that many days before today; from today
LATER_FROM_DAYS = 15  # every other schedule is due at least this far ahead
RECORDS_PER_SCHEDULE = (1, 1, 2, 2, 3)  # inspections on record, the latest one included
FAILED_COUNT = 2  # schedules whose latest pass is the re-test after a failed inspection
RETEST_AFTER_DAYS = (5, 21)
ADVISORY_SHARE = 0.15
INSPECTION_RECORDED_AT = dt.time(16)  # local time an inspection is recorded, on the day it was done
TECHNICIAN = "a technician of the School"  # stands for one of them in INSPECTORS
IN_HOUSE = "In-house"
#: Who inspects each kind; "{manufacturer}" is the asset's maker.
INSPECTORS = {
    CALIBRATION: ("Trescal UK", "Eurofins", "{manufacturer} service engineer", TECHNICIAN),
    PAT_TEST: ("Socotec UK", IN_HOUSE, TECHNICIAN),
    LOLER: ("Socotec UK", "Allianz Engineering Inspection"),
    FUME_CUPBOARD: ("Socotec UK", "Eurofins"),
    SERVICE: ("{manufacturer} service engineer", "{manufacturer} service engineer", IN_HOUSE),
}
CONTRACTOR_COST_PENCE = (8_500, 60_000)  # a contractor's visit, £85 to £600, in steps of £5
INSPECTION_NOTES = {
    InspectionKind(kind): {InspectionOutcome(outcome): notes for outcome, notes in by_outcome.items()}
    for kind, by_outcome in _TEXTS["inspection_notes"].items()
}
#: (the failed inspection's note, the passing re-test's note), for each kind.
FAILED_NOTES = {InspectionKind(kind): notes for kind, notes in _TEXTS["failed_notes"].items()}

# --- Training -------------------------------------------------------------------------------------

TRAINED_MEMBERS_SHARE = (0.3, 0.6)  # of the owning School's people
TRAINED_OUTSIDERS = (1, 2)  # people of other Schools trained on a shared asset
TRAINED_BEFORE_FIRST_BOOKING_DAYS = (3, 60)
TRAINED_LONG_AGO_DAYS = (30, 700)  # for people who have not booked it, or trained for a category
TWO_YEARS = dt.timedelta(days=730)
EXPIRING_SHARE = 0.35  # of authorisations, which last two years
CATEGORY_GRANTS = 5  # (School, category) pairs whose people are trained for the whole category
CATEGORY_TRAINED_PEOPLE = (1, 2)  # for each pair
EXPIRED_COUNT = 5
EXPIRED_DAYS_AGO = (3, 120)
REVOKED_DAYS_AGO = (3, 60)
TRAINING_NOTES = _TEXTS["training_notes"]
CATEGORY_TRAINING_NOTE = "Trained for every instrument of the School in the category {category}."
REVOKE_REASONS = _TEXTS["revoke_reasons"]  # one authorisation revoked for each

# --- Unmet demand ---------------------------------------------------------------------------------

REFUSED_COUNT = 60
BUSIEST_ASSETS = 8
BUSIEST_SHARE = 0.8  # of refused requests, aimed at the busiest kit
#: Why requests were refused, as often as each happens (rule codes of bookings.rules). None of
#: these is for want of free time: only the SHOWCASE's kit turns people away for that.
REFUSAL_REASONS = ("min_notice", "training", "outside_hours")
TURNED_AWAY_MINUTES = 120  # the shortest request refused for want of free time
OUTSIDE_HOURS_STARTS = (dt.time(18), dt.time(19), dt.time(20))  # no demo kit is open after 20:00
REFUSAL_TRIES = 50  # assets tried for each reason, before giving that refusal up
MIN_NOTICE_REFUSABLE_MINUTES = 30  # a shorter notice is rarely what refuses a request
OFFSETS_FROM_BOOKING_MINUTES = (-60, -30, 0, 30, 60)  # a clashing request's start, from the booking's


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


# --- Seeding --------------------------------------------------------------------------------------


@dataclass
class _Run:
    """One seeding: where it writes, its random choices, its moment, and how many rows it added."""

    session: Session
    rng: random.Random
    now: dt.datetime
    created: int = 0

    def add(self, row: object) -> None:
        self.session.add(row)
        self.created += 1

    @property
    def launched_at(self) -> dt.datetime:
        """When the demo university started using Kitshare: shortly before its first bookings."""
        return self.now - dt.timedelta(days=PAST_DAYS + LIVE_BEFORE_FIRST_BOOKING_DAYS)


@dataclass
class _People:
    """The demo people of each School, by School id."""

    members: dict[int, list[User]] = field(default_factory=dict)  # home School: who books its kit
    managers: dict[int, list[User]] = field(default_factory=dict)  # who manages it
    admins: list[User] = field(default_factory=list)
    named: dict[str, User] = field(default_factory=dict)  # by e-mail name (before the @)

    def decider(self, school_id: int, drawn: User, requester: User) -> User:
        """Who decided a request: the manager drawn, unless that is the requester (nobody decides
        their own request), then the School's next manager, or else an admin. Chosen without a
        random draw, so the rest of the demo stays the same."""
        if drawn.id != requester.id:
            return drawn
        others = [user for user in self.managers[school_id] if user.id != requester.id]
        return (others or [user for user in self.admins if user.id != requester.id])[0]

    def contacts(self, school_id: int) -> list[User]:
        return list(dict.fromkeys(self.managers[school_id] + self.members[school_id]))

    def outsiders(self, school_id: int) -> list[User]:
        return [user for other, users in self.members.items() if other != school_id for user in users]


def seed(session: Session, password: str | None = None, now: dt.datetime | None = None) -> SeedResult:
    """Fill the database with the demo university, in one transaction; see the module docstring."""
    run = _Run(session, random.Random(RANDOM_SEED), now or utcnow())
    with atomic(session):
        schools = _ensure_schools(run)
        locations = _ensure_locations(run, schools)
        categories = _ensure_categories(run)
        people, sign_ins = _ensure_people(run, schools, password)
        register, new_tags = _ensure_assets(run, schools, locations, categories, people)
        _ensure_activity(run, register, new_tags, people)
        _ensure_hours_changed_at_term_start(run, schools, categories, people)
        from demo.profiles import seed_profiles  # issue 18: profiles on top of the demo's people and kit

        run.created += seed_profiles(session, run.now.date())
        counts = _counts(session)
    return SeedResult(created=run.created > 0, sign_ins=sign_ins, counts=counts)


def _ensure_schools(run: _Run) -> dict[str, School]:
    schools = {}
    for spec in SCHOOLS:
        school = run.session.scalar(select(School).where(School.code == spec.code))
        if school is None:
            school = School(code=spec.code, name=spec.name, created_at=run.launched_at)
            run.add(school)
        schools[spec.code] = school
    run.session.flush()
    return schools


def _ensure_locations(run: _Run, schools: dict[str, School]) -> dict[str, list[Location]]:
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


def _ensure_categories(run: _Run) -> dict[str, Category]:
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


def _ensure_people(
    run: _Run, schools: dict[str, School], password: str | None
) -> tuple[_People, list[tuple[str, str, str]]]:
    """Create the demo people who are missing. Returns them by School, and their sign-ins."""
    people = _People(
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


def _ensure_assets(
    run: _Run,
    schools: dict[str, School],
    locations: dict[str, list[Location]],
    categories: dict[str, Category],
    people: _People,
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
    _draw_inspections(run.rng, drawn, people, today, run.launched_at)
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


def _set_showcase(register: list[tuple[Kit, Asset]], people: _People, today: dt.date) -> None:
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
    schedule.records.insert(0, _failed_record(crane, failed_on, note, managers))
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
        _failed_record(centrifuge, retest, notes[2], managers, PASS),
        _failed_record(centrifuge, second_fail, notes[1], managers),
        _failed_record(centrifuge, first_fail, notes[0], managers),
    ]
    schedule.last_done_on = retest
    schedule.next_due_on = retest + dt.timedelta(days=schedule.interval_days)


def _failed_record(
    asset: Asset,
    done_on: dt.date,
    note: str,
    managers: dict[int, list[User]],
    outcome: InspectionOutcome = FAIL,
) -> InspectionRecord:
    """An inspection of a showcase asset: by an examiner (LOLER) or the maker's engineer."""
    engineer = f"{asset.manufacturer} service engineer"
    examiner = INSPECTORS[LOLER][0] if asset.tag == FAILED_LATEST[0] else engineer
    return InspectionRecord(
        done_on=done_on,
        performed_by=examiner,
        outcome=outcome,
        note=note,
        cost_pence=CONTRACTOR_COST_PENCE[1] if outcome == FAIL else CONTRACTOR_COST_PENCE[0],
        recorded_by_id=managers[asset.school_id][0].id,
        created_at=local_to_utc(dt.datetime.combine(done_on, INSPECTION_RECORDED_AT)),
    )


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


def _draw_maintenance_costs(asset: Asset, windows: Sequence[MaintenanceWindow], now: dt.datetime) -> None:
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


def _draw_inspections(
    rng: random.Random,
    register: list[tuple[Kit, Asset]],
    people: _People,
    today: dt.date,
    launched_at: dt.datetime,
) -> None:
    """Recurring inspections of the kit as its category needs them, each with its history.

    The schedules hang on their asset (``asset.inspections``), so they are inserted with it and
    never added to an asset that already existed. A few are overdue and about twice as many are
    due within two weeks (one of the overdue ones on kit that refuses bookings meanwhile); every
    other one is due later. The managers of about a third of the kit with a calibration, LOLER or
    fume-cupboard examination have chosen to refuse bookings while one is overdue. Retired kit
    needs no inspections.
    """
    schedules: list[InspectionSchedule] = []
    for kit, asset in register:
        if asset.status == AssetStatus.RETIRED:
            continue
        kinds = [
            (kind, rng.choice(intervals))
            for kind, intervals, chance in MODEL_INSPECTIONS.get(kit.model, INSPECTIONS[kit.category])
            if rng.random() < chance
        ]
        asset.inspections = [
            InspectionSchedule(kind=kind, interval_days=interval, created_at=launched_at)
            for kind, interval in kinds
        ]
        asset.block_when_inspection_overdue = (
            any(kind in BLOCKING_KINDS for kind, _ in kinds) and rng.random() < BLOCKING_SHARE
        )
        schedules += asset.inspections

    # Overdue and due soon: only schedules whose last inspection was within about a year.
    yearly = [schedule for schedule in schedules if schedule.interval_days <= 365]
    blocking = [schedule for schedule in yearly if schedule.asset.block_when_inspection_overdue]
    overdue = rng.sample(blocking, 1) if blocking else []
    overdue += rng.sample([s for s in yearly if s not in overdue], OVERDUE_COUNT - len(overdue))
    due_soon = rng.sample([s for s in yearly if s not in overdue], DUE_SOON_COUNT)
    for schedule in schedules:
        interval = dt.timedelta(days=schedule.interval_days)
        if schedule in overdue:
            schedule.next_due_on = today - dt.timedelta(days=rng.randint(*OVERDUE_DAYS))
        elif schedule in due_soon:
            schedule.next_due_on = today + dt.timedelta(days=rng.randint(*DUE_SOON_DAYS))
        else:
            days_since = rng.randint(1, min(365, schedule.interval_days - LATER_FROM_DAYS))
            schedule.next_due_on = today - dt.timedelta(days=days_since) + interval
        schedule.last_done_on = schedule.next_due_on - interval

    failed = rng.sample(schedules, FAILED_COUNT)
    for schedule in schedules:
        schedule.records = _draw_inspection_records(rng, schedule, schedule in failed, people, launched_at)


def _draw_inspection_records(
    rng: random.Random, schedule: InspectionSchedule, failed: bool, people: _People, launched_at: dt.datetime
) -> list[InspectionRecord]:
    """One to three inspections about an interval apart, the latest on ``last_done_on`` and passed
    (with advisories, sometimes), so that the schedule's dates are what recording them would have
    made them. A schedule that ``failed`` had a failed inspection a few weeks before its latest one:
    the pass is the re-test after the repair. Inspections before the demo went live were entered
    on that day, as history."""
    asset = schedule.asset
    interval = schedule.interval_days
    done: list[tuple[dt.date, InspectionOutcome, str]] = []
    day = schedule.last_done_on
    for _ in range(rng.choice(RECORDS_PER_SCHEDULE)):
        outcome = ADVISORY if rng.random() < ADVISORY_SHARE else PASS
        done.append((day, outcome, rng.choice(INSPECTION_NOTES[schedule.kind][outcome])))
        day -= dt.timedelta(days=interval + rng.randint(-10, 10))
    if failed:  # the latest inspection is the re-test after a failed one
        failed_note, retest_note = FAILED_NOTES[schedule.kind]
        failed_on = schedule.last_done_on - dt.timedelta(days=rng.randint(*RETEST_AFTER_DAYS))
        done = [(schedule.last_done_on, PASS, retest_note), (failed_on, FAIL, failed_note), *done[1:]]
        done = done[: max(RECORDS_PER_SCHEDULE)]

    records = []
    for done_on, outcome, note in done:
        inspector = rng.choice(INSPECTORS[schedule.kind])
        contractor = inspector not in (IN_HOUSE, TECHNICIAN)
        if inspector == TECHNICIAN:
            inspector = rng.choice(people.members[asset.school_id]).name
        cost_pence = (
            rng.randrange(CONTRACTOR_COST_PENCE[0], CONTRACTOR_COST_PENCE[1] + 1, 500) if contractor else None
        )
        recorded_at = local_to_utc(dt.datetime.combine(done_on, INSPECTION_RECORDED_AT))
        records.append(
            InspectionRecord(
                done_on=done_on,
                performed_by=inspector.format(manufacturer=asset.manufacturer),
                outcome=outcome,
                note=note,
                cost_pence=cost_pence,
                recorded_by_id=rng.choice(people.managers[asset.school_id]).id,
                created_at=max(recorded_at, launched_at),
            )
        )
    return records


def _ensure_activity(
    run: _Run, register: list[tuple[Kit, Asset]], new_tags: set[str], people: _People
) -> None:
    """Maintenance windows, bookings, weekly series, training and unmet demand for the assets this
    run added. (An asset and its activity are created in one transaction, so an asset that already
    existed has had its share.) Every asset's activity is drawn, so that none depends on which
    others already existed."""
    if not new_tags:
        return
    windows_of: dict[str, list[MaintenanceWindow]] = {}
    bookings_of: dict[str, list[Booking]] = {}
    trained_of: dict[str, list[User]] = {}  # who may book the kit that needs training
    category_grants = _draw_category_training(run.rng, register, people, run.launched_at)
    for kit, asset in register:
        if _needs_training(asset):
            trained_of[asset.tag] = _draw_trained_people(run.rng, asset, people, category_grants)
            if asset.tag in SHOWCASE:  # those turned away for want of time were trained to use it
                named = [people.named[name] for name in SHOWCASE[asset.tag].turned_away]
                trained_of[asset.tag] = list(dict.fromkeys(trained_of[asset.tag] + named))
        windows_of[asset.tag] = _draw_maintenance(run.rng, asset, people, run.now)
        _draw_maintenance_costs(asset, windows_of[asset.tag], run.now)
        trained = trained_of.get(asset.tag)
        bookings_of[asset.tag] = _draw_bookings(
            run.rng, asset, windows_of[asset.tag], PURPOSES[kit.category], people, trained, run.now
        )
    weekly = _draw_series(run.rng, register, bookings_of, windows_of, trained_of, people, run.now)
    for asset, series in weekly:
        bookings_of[asset.tag] += series.bookings
    grants = _draw_training(run.rng, register, trained_of, bookings_of, category_grants, people, run.now)
    refusals = _draw_refusals(run.rng, register, bookings_of, windows_of, grants, people, run.now)

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
    _add_bookings(run, [booking for asset in new_assets for booking in bookings_of[asset.tag]])
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
                run.add(_rejection(asset, booking))
    for asset, refusal in refusals:
        if asset.tag in new_tags:
            run.add(refusal)


def _add_bookings(run: _Run, bookings: list[Booking]) -> None:
    """Insert the bookings, then their history, each with one bulk INSERT.

    The history is imported, not lived: written past the booking commands, it tells nobody (only
    the commands call ``bookings.notices``), which would otherwise e-mail the demo people about
    months of bookings, and written past the unit of work, it does not wake the audit log,
    which would date a year of made-up bookings today. (Inserting them one object at a time
    was also most of the seed's time.) Each booking is given the id the database chose.
    """
    if not bookings:
        return
    columns = [attr.columns[0] for attr in sa_inspect(Booking).column_attrs if attr.key != "id"]
    rows = []
    for booking in bookings:
        row = {}
        for column in columns:
            value = getattr(booking, column.key)
            if value is None and column.default is not None and column.default.is_scalar:
                value = column.default.arg
            row[column.key] = value
        rows.append(row)
    # Numbered here (RETURNING the ids in order makes SQLite insert them one at a time).
    first_id = (run.session.scalar(select(func.max(Booking.id))) or 0) + 1
    steps = []
    for booking_id, (booking, row) in enumerate(zip(bookings, rows, strict=True), start=first_id):
        booking.id = row["id"] = booking_id
        steps.append((booking_id, booking.history))
    connection = run.session.connection()  # Core: the ORM's bulk path costs more than the INSERT
    connection.execute(insert(Booking.__table__), rows)
    if run.session.get_bind().dialect.name == "postgresql":  # the sequence goes on after them
        run.session.execute(
            text("SELECT setval(pg_get_serial_sequence('bookings', 'id'), (SELECT max(id) FROM bookings))")
        )
    run.created += len(bookings)
    rows = [
        {
            "booking_id": booking_id,
            "from_status": step.from_status,
            "to_status": step.to_status,
            "by_id": step.by.id if step.by is not None else None,
            "at": step.at,
            "reason": step.reason,
        }
        for booking_id, history in steps
        for step in history
    ]
    if rows:
        connection.execute(insert(BookingStatusChange.__table__), rows)
        run.created += len(rows)


def _draw_maintenance(
    rng: random.Random, asset: Asset, people: _People, now: dt.datetime
) -> list[MaintenanceWindow]:
    """A window around today for kit under maintenance; a past or future service visit for some
    available kit."""
    today = to_local(now).date()
    opens, closes = SERVICE_VISIT_HOURS
    if asset.status == AssetStatus.MAINTENANCE:
        first = to_local(asset.status_changed_at).date()
        last = today + dt.timedelta(days=rng.randint(7, 20))
        reason = asset.status_reason
    elif asset.status == AssetStatus.AVAILABLE and rng.random() < SERVICE_VISIT_CHANCE:
        first = today + dt.timedelta(days=rng.choice(SERVICE_VISIT_DAYS) * rng.choice((-1, 1)))
        last = first + dt.timedelta(days=rng.randint(0, 1))
        reason = rng.choice(SERVICE_REASONS)
    else:
        return []
    start_at = local_to_utc(dt.datetime.combine(first, opens))
    return [
        MaintenanceWindow(
            asset_id=asset.id,
            start_at=start_at,
            end_at=local_to_utc(dt.datetime.combine(last, closes)),
            reason=reason,
            created_by_id=rng.choice(people.managers[asset.school_id]).id,
            created_at=min(start_at - dt.timedelta(days=14), now),
        )
    ]


def _draw_bookings(
    rng: random.Random,
    asset: Asset,
    windows: Sequence[MaintenanceWindow],
    purposes: Sequence[str],
    people: _People,
    trained: Sequence[User] | None,
    now: dt.datetime,
) -> list[Booking]:
    """The asset's bookings, by the people trained on it if it needs training (``trained``)."""
    if not asset.bookable or asset.status == AssetStatus.RETIRED:
        return []
    today = to_local(now).date()
    first = today - dt.timedelta(days=PAST_DAYS)
    last = today + dt.timedelta(days=FUTURE_DAYS)
    if asset.status == AssetStatus.OUT_OF_SERVICE:  # it broke a few days ago
        last = to_local(asset.status_changed_at).date() - dt.timedelta(days=1)
    showcase = SHOWCASE.get(asset.tag)
    slots = (
        _draw_full_days(rng, asset, windows, first, last, showcase.use)
        if showcase is not None and showcase.full_days
        else _draw_slots(rng, asset, windows, first, last, showcase.use if showcase else None)
    )
    return [_draw_booking(rng, asset, slot, purposes, people, trained, now) for slot in slots]


def _draw_slots(
    rng: random.Random,
    asset: Asset,
    windows: Sequence[MaintenanceWindow],
    first: dt.date,
    last: dt.date,
    use_chance: float | None = None,
) -> Iterator[tuple[dt.datetime, dt.datetime]]:
    """Booked (start, end) times in UTC, on weekdays in office hours, from ``first`` to ``last``,
    on a share of days drawn from DAILY_USE_CHANCES (or ``use_chance``).

    Each booking starts once the one before it and its turnaround are over, so that no two
    overlap on [start, end + turnaround); none touches a maintenance window.
    """
    drawn_chance = rng.choice(DAILY_USE_CHANCES)
    if use_chance is None:  # kit open longer than office hours is booked on more of its weekdays
        open_hours = sum(_hours_between(hours.opens, hours.closes) for hours in asset.bookable_hours)
        use_chance = min(1.0, drawn_chance * max(1.0, open_hours / OFFICE_WEEK_HOURS))
    turnaround = dt.timedelta(minutes=asset.turnaround_minutes)
    longest = min(BOOKING_MINUTES[-1], asset.max_booking_minutes or BOOKING_MINUTES[-1])
    lengths = [minutes for minutes in BOOKING_MINUTES if minutes <= longest]
    for day in _days(first, last):
        if day.weekday() >= calendar.SATURDAY or rng.random() >= use_chance:
            continue
        free_from = dt.datetime.combine(day, OFFICE_OPENS)
        closes = dt.datetime.combine(day, OFFICE_CLOSES)
        for _ in range(rng.randint(1, MAX_BOOKINGS_PER_DAY)):
            start = free_from + dt.timedelta(minutes=rng.choice(START_DELAYS_MINUTES))
            end = start + dt.timedelta(minutes=rng.choice(lengths))
            if end > closes:
                break
            free_from = _next_half_hour(end + turnaround)
            start_at, end_at = local_to_utc(start), local_to_utc(end)
            if not any(_overlaps(window, start_at, end_at + turnaround) for window in windows):
                yield start_at, end_at


def _hours_between(opens: dt.time, closes: dt.time) -> float:
    length = dt.datetime.combine(dt.date.min, closes) - dt.datetime.combine(dt.date.min, opens)
    return length.total_seconds() / 3600


def _draw_full_days(
    rng: random.Random,
    asset: Asset,
    windows: Sequence[MaintenanceWindow],
    first: dt.date,
    last: dt.date,
    use_chance: float,
) -> Iterator[tuple[dt.datetime, dt.datetime]]:
    """Booked (start, end) times in UTC of kit in demand: on ``use_chance`` of its open weekdays,
    back to back from opening to closing (its hours are office hours, with no turnaround)."""
    for day in _days(first, last):
        if day.weekday() >= calendar.SATURDAY or rng.random() >= use_chance:
            continue
        start = dt.datetime.combine(day, OFFICE_OPENS)
        closes = dt.datetime.combine(day, OFFICE_CLOSES)
        while start < closes:
            end = min(start + dt.timedelta(minutes=rng.choice(SHOWCASE_BOOKING_MINUTES)), closes)
            start_at, end_at = local_to_utc(start), local_to_utc(end)
            if not any(_overlaps(window, start_at, end_at) for window in windows):
                yield start_at, end_at
            start = end


def _overlaps(window: MaintenanceWindow, start_at: dt.datetime, end_at: dt.datetime) -> bool:
    return window.start_at < end_at and start_at < window.end_at


def _days(first: dt.date, last: dt.date) -> Iterator[dt.date]:
    for offset in range((last - first).days + 1):
        yield first + dt.timedelta(days=offset)


def _next_half_hour(moment: dt.datetime) -> dt.datetime:
    past = dt.timedelta(minutes=moment.minute % 30, seconds=moment.second, microseconds=moment.microsecond)
    return moment if not past else moment - past + dt.timedelta(minutes=30)


def _draw_booking(
    rng: random.Random,
    asset: Asset,
    slot: tuple[dt.datetime, dt.datetime],
    purposes: Sequence[str],
    people: _People,
    trained: Sequence[User] | None,
    now: dt.datetime,
) -> Booking:
    """A booking of the slot by someone, with the life it has had up to ``now``."""
    start_at, end_at = slot
    requester = _draw_requester(rng, asset, people, trained)
    manager = rng.choice(people.managers[asset.school_id])
    made_at = min(
        start_at - dt.timedelta(days=rng.randint(1, MAX_LEAD_DAYS), minutes=rng.randrange(0, 600, 5)),
        now - dt.timedelta(minutes=rng.randrange(30, 3 * 24 * 60, 5)),
        _bookable_until(asset, now) - ASKED_BEFORE_IT_CLOSED,
    )
    needs_approval = asset.requires_approval or requester.home_school_id != asset.school_id
    first_status = BookingStatus.PENDING if needs_approval else BookingStatus.CONFIRMED
    booking = _new_booking(asset, requester, slot, rng.choice(purposes), first_status, made_at)
    if needs_approval:
        _decide(rng, booking, people.decider(asset.school_id, manager, requester), now)
    if booking.status == BookingStatus.CONFIRMED:
        _play_out(rng, asset, booking, requester, manager, now)
    booking.updated_at = booking.history[-1].at
    return booking


def _new_booking(
    asset: Asset,
    requester: User,
    slot: tuple[dt.datetime, dt.datetime],
    purpose: str,
    status: BookingStatus,
    made_at: dt.datetime,
) -> Booking:
    """A booking of the slot as it was asked for at ``made_at``, pending or confirmed at once."""
    start_at, end_at = slot
    return Booking(
        asset_id=asset.id,
        requester_id=requester.id,
        requester_school_id=requester.home_school_id,
        start_at=start_at,
        end_at=end_at,
        blocked_until=end_at + dt.timedelta(minutes=asset.turnaround_minutes),
        purpose=purpose,
        status=status,
        created_at=made_at,
        updated_at=made_at,
        # Rows that name the same columns can be inserted in one batch: name them all, always.
        decided_by_id=None,
        decided_at=None,
        decision_reason="",
        series_id=None,
        history=[
            BookingStatusChange(from_status=None, to_status=status, by=requester, at=made_at, reason="")
        ],
    )


def _bookable_until(asset: Asset, now: dt.datetime) -> dt.datetime:
    """Until when the rules let people ask for the asset: until its status changed, if it is not
    available; until its inspection became overdue, if that refuses bookings; else until now."""
    until = now
    if asset.status != AssetStatus.AVAILABLE:
        until = min(until, asset.status_changed_at)
    if asset.block_when_inspection_overdue:
        overdue_from = [schedule.next_due_on + dt.timedelta(days=1) for schedule in asset.inspections]
        until = min(until, *(local_to_utc(dt.datetime.combine(day, dt.time())) for day in overdue_from))
    return until


def _draw_requester(
    rng: random.Random, asset: Asset, people: _People, trained: Sequence[User] | None
) -> User:
    """Anyone of the School or, for shared kit, now and then someone of another; only the people
    trained on it (``trained``), for kit that needs training."""
    members, outsiders = people.members[asset.school_id], people.outsiders(asset.school_id)
    if trained is not None:
        members = [user for user in trained if user.home_school_id == asset.school_id]
        outsiders = [user for user in trained if user.home_school_id != asset.school_id]
    showcase = SHOWCASE.get(asset.tag)
    borrowed = showcase.borrowed if showcase is not None else True
    if asset.shareable and outsiders and rng.random() < CROSS_SCHOOL_SHARE and borrowed:
        return rng.choice(outsiders)
    return rng.choice(members)


def _decide(rng: random.Random, booking: Booking, manager: User, now: dt.datetime) -> None:
    """A manager approves or rejects a pending booking, unless it is still in the future and waiting."""
    if booking.start_at > now and rng.random() < STILL_PENDING_SHARE:
        return
    decided_at = _between(rng, booking.created_at, min(booking.start_at, now))
    booking.decided_by_id, booking.decided_at = manager.id, decided_at
    if rng.random() < REJECTED_SHARE:
        booking.decision_reason = rng.choice(REJECTION_REASONS)
        change_status(booking, BookingStatus.REJECTED, manager, booking.decision_reason, at=decided_at)
    else:
        change_status(booking, BookingStatus.CONFIRMED, manager, at=decided_at)


def _play_out(
    rng: random.Random, asset: Asset, booking: Booking, requester: User, manager: User, now: dt.datetime
) -> None:
    """What became of a confirmed booking by ``now``: cancelled, missed, completed, under way or
    still ahead. Lent-out kit was handed over and returned, and bench kit that asks for it was
    checked in (the reports' actual use)."""
    confirmed_at = booking.history[-1].at
    outcome = rng.random()
    if outcome < CANCELLED_SHARE:
        reason = rng.choice(CANCELLATION_REASONS)
        at = _between(rng, confirmed_at, min(booking.start_at, now))
        change_status(booking, BookingStatus.CANCELLED, requester, reason, at=at)
    elif booking.start_at <= now and outcome < CANCELLED_SHARE + NO_SHOW_SHARE:
        if booking.end_at <= now:
            missed_at = booking.start_at + NO_SHOW_AFTER
            change_status(booking, BookingStatus.NO_SHOW, manager, NO_SHOW_REASON, at=missed_at)
    elif booking.start_at <= now and (asset.portable or asset.checkin_required):
        _take_custody(rng, asset, booking, requester, manager, now)
    elif booking.end_at <= now:
        change_status(booking, BookingStatus.COMPLETED, None, COMPLETED_REASON, at=booking.end_at)


def _take_custody(
    rng: random.Random, asset: Asset, booking: Booking, requester: User, manager: User, now: dt.datetime
) -> None:
    """A booking that has started, of kit lent out (handed over a little before its start and
    returned a little before its end) or checked in at the bench (a few minutes either side of
    its start): checked out, and completed if its time is over."""
    if asset.portable:
        handed_at = min(booking.start_at - dt.timedelta(minutes=rng.randrange(0, 45, 5)), now)
        booking.handed_over_at, booking.handed_over_by_id = handed_at, manager.id
        booking.handover_condition = rng.choice(HANDOVER_CONDITIONS)
        change_status(booking, BookingStatus.CHECKED_OUT, manager, "Handed over.", at=handed_at)
        returned_at = booking.end_at - dt.timedelta(minutes=rng.randrange(0, 35, 5))
        if returned_at <= now:
            booking.returned_at, booking.returned_to_id = returned_at, manager.id
            booking.return_condition = rng.choice(RETURN_CONDITIONS)
            change_status(booking, BookingStatus.COMPLETED, manager, "Returned.", at=returned_at)
        return
    checked_in_at = min(booking.start_at + dt.timedelta(minutes=rng.randrange(-10, 25, 5)), now)
    booking.checked_in_at = checked_in_at
    change_status(booking, BookingStatus.CHECKED_OUT, requester, "Checked in.", at=checked_in_at)
    if booking.end_at <= now:
        change_status(booking, BookingStatus.COMPLETED, None, COMPLETED_REASON, at=booking.end_at)


def _between(rng: random.Random, earliest: dt.datetime, latest: dt.datetime) -> dt.datetime:
    """A moment somewhere between two others, a whole number of minutes after the first."""
    minutes = (latest - earliest).total_seconds() / 60
    return earliest + dt.timedelta(minutes=round(minutes * rng.uniform(0.1, 0.9)))


def _is_free(
    asset: Asset,
    slot: tuple[dt.datetime, dt.datetime],
    bookings: Sequence[Booking],
    windows: Sequence[MaintenanceWindow],
) -> bool:
    """Whether the slot is open and clear, with its turnaround, of the asset's other live bookings
    (pending ones too: a manager would not approve a clash) and of its maintenance windows."""
    return within_bookable_hours(asset, *slot) and _is_clear(asset, slot, bookings, windows)


def _is_clear(
    asset: Asset,
    slot: tuple[dt.datetime, dt.datetime],
    bookings: Sequence[Booking],
    windows: Sequence[MaintenanceWindow],
) -> bool:
    start_at, end_at = slot
    blocked_until = end_at + dt.timedelta(minutes=asset.turnaround_minutes)
    return not any(
        booking.status in LIVE_STATUSES
        and booking.start_at < blocked_until
        and start_at < booking.blocked_until
        for booking in bookings
    ) and not any(_overlaps(window, start_at, blocked_until) for window in windows)


def _draw_series(
    rng: random.Random,
    register: list[tuple[Kit, Asset]],
    bookings_of: dict[str, list[Booking]],
    windows_of: dict[str, list[MaintenanceWindow]],
    trained_of: dict[str, list[User]],
    people: _People,
    now: dt.datetime,
) -> list[tuple[Asset, BookingSeries]]:
    """Teaching laboratories' weekly practicals on teaching kit, one per School: the same two hours
    every week for six weeks from the coming week, booked in one go a few days ago by one of the
    School's own people (so confirmed at once). A practical takes a weekday and time at which all
    six sessions are within the asset's hours and clear of its bookings and maintenance."""
    today = to_local(now).date()
    candidates = [
        (kit, asset)
        for kit, asset in register
        if kit.model in SERIES_KIT
        and asset.bookable
        and not asset.requires_approval
        and _bookable_until(asset, now) == now
    ]
    rng.shuffle(candidates)
    made: list[tuple[Asset, BookingSeries]] = []
    schools: set[int] = set()
    for kit, asset in candidates:
        if len(made) == SERIES_COUNT:
            break
        if asset.school_id in schools:
            continue
        times = [(weekday, time) for weekday in range(calendar.SATURDAY) for time in SERIES_STARTS]
        rng.shuffle(times)
        for weekday, time in times:
            first_day = today + dt.timedelta(days=(weekday - today.weekday() - 1) % 7 + 1)
            days = [first_day + dt.timedelta(weeks=week) for week in range(SERIES_WEEKS)]
            starts = [dt.datetime.combine(day, time) for day in days]
            slots = [(local_to_utc(start), local_to_utc(start + SERIES_LENGTH)) for start in starts]
            if all(_is_free(asset, slot, bookings_of[asset.tag], windows_of[asset.tag]) for slot in slots):
                break
        else:
            continue
        trained = trained_of.get(asset.tag, people.members[asset.school_id])
        requester = rng.choice([user for user in trained if user.home_school_id == asset.school_id])
        ago = dt.timedelta(days=rng.randint(*SERIES_MADE_DAYS_AGO), minutes=rng.randrange(0, 600, 5))
        made_at = now - ago
        series = BookingSeries(
            requester_id=requester.id,
            asset_id=asset.id,
            description=f"Weekly, {SERIES_WEEKS} times",
            created_at=made_at,
            bookings=[
                _new_booking(asset, requester, slot, SERIES_KIT[kit.model], BookingStatus.CONFIRMED, made_at)
                for slot in slots
            ],
        )
        made.append((asset, series))
        schools.add(asset.school_id)
    return made


def _draw_category_training(
    rng: random.Random, register: list[tuple[Kit, Asset]], people: _People, launched_at: dt.datetime
) -> list[TrainingAuthorisation]:
    """A few (School, category) pairs of kit that needs training, whose people (one or two each)
    were trained for every such instrument of the School long before the demo went live."""
    launched_on = to_local(launched_at).date()
    scopes = sorted(
        {
            (asset.school_id, asset.category.id): asset.category.name
            for _, asset in register
            if _needs_training(asset)
        }.items()
    )
    grants = []
    for (school_id, category_id), category in rng.sample(scopes, min(CATEGORY_GRANTS, len(scopes))):
        for user in rng.sample(people.members[school_id], rng.randint(*CATEGORY_TRAINED_PEOPLE)):
            grants.append(
                TrainingAuthorisation(
                    user_id=user.id,
                    school_id=school_id,
                    asset_id=None,
                    category_id=category_id,
                    granted_on=launched_on - dt.timedelta(days=rng.randint(*TRAINED_LONG_AGO_DAYS)),
                    expires_on=None,
                    granted_by_id=rng.choice(people.managers[school_id]).id,
                    note=CATEGORY_TRAINING_NOTE.format(category=category),
                )
            )
    return grants


def _needs_training(asset: Asset) -> bool:
    return asset.training_required and asset.status != AssetStatus.RETIRED


def _draw_trained_people(
    rng: random.Random, asset: Asset, people: _People, category_grants: Sequence[TrainingAuthorisation]
) -> list[User]:
    """The people trained on an asset that needs training, the only ones who book it: 30-60% of
    the owning School's people and, for shared kit, a person or two from other Schools; and those
    trained for its whole category in the School."""
    members = people.members[asset.school_id]
    trained = rng.sample(members, max(1, round(len(members) * rng.uniform(*TRAINED_MEMBERS_SHARE))))
    if asset.shareable:
        trained += rng.sample(people.outsiders(asset.school_id), rng.randint(*TRAINED_OUTSIDERS))
    by_category = {
        grant.user_id
        for grant in category_grants
        if (grant.school_id, grant.category_id) == (asset.school_id, asset.category.id)
    }
    trained += [user for user in members if user.id in by_category]
    return list(dict.fromkeys(trained))


@dataclass(frozen=True)
class _Use:
    """Someone's use of an asset that needs training: their first request, and the last day they
    have it booked."""

    first_asked_on: dt.date
    last_booked_on: dt.date


def _draw_training(
    rng: random.Random,
    register: list[tuple[Kit, Asset]],
    trained_of: dict[str, list[User]],
    bookings_of: dict[str, list[Booking]],
    category_grants: Sequence[TrainingAuthorisation],
    people: _People,
    now: dt.datetime,
) -> list[tuple[Asset | None, TrainingAuthorisation]]:
    """Every training authorisation, with its asset (None for a category's), granted by a manager
    of the asset's School: the category ones, then one for each person trained on an asset who is
    not trained for its whole category.

    Whoever asked to book such an asset was trained before their first request and is still
    authorised on the last day they have it booked, as the booking rules require. Of the people
    trained who never booked it, a few authorisations have expired and a couple were revoked.
    """
    today = to_local(now).date()
    grants: list[tuple[Asset | None, TrainingAuthorisation]] = [(None, grant) for grant in category_grants]
    never_booked: list[tuple[Asset, TrainingAuthorisation]] = []
    for _, asset in register:
        if not _needs_training(asset):
            continue
        uses: dict[int, _Use] = {}
        for booking in sorted(bookings_of[asset.tag], key=lambda booking: booking.created_at):
            use = uses.get(booking.requester_id)
            asked_on, booked_on = to_local(booking.created_at).date(), to_local(booking.start_at).date()
            uses[booking.requester_id] = _Use(
                use.first_asked_on if use else asked_on,
                max(use.last_booked_on, booked_on) if use else booked_on,
            )
        for user in trained_of[asset.tag]:
            if any(_covers(grant, None, asset, user, today) for grant in category_grants):
                continue
            use = uses.get(user.id)
            if use is not None:
                granted_on = use.first_asked_on - dt.timedelta(
                    days=rng.randint(*TRAINED_BEFORE_FIRST_BOOKING_DAYS)
                )
                expires_on = granted_on + TWO_YEARS if rng.random() < EXPIRING_SHARE else None
                if expires_on is not None and expires_on < use.last_booked_on:
                    expires_on = None
            else:
                granted_on = today - dt.timedelta(days=rng.randint(*TRAINED_LONG_AGO_DAYS))
                expires_on = granted_on + TWO_YEARS if rng.random() < EXPIRING_SHARE else None
            grant = TrainingAuthorisation(
                user_id=user.id,
                school_id=asset.school_id,
                asset_id=asset.id,
                category_id=None,
                granted_on=granted_on,
                expires_on=expires_on,
                granted_by_id=rng.choice(people.managers[asset.school_id]).id,
                note=rng.choice(TRAINING_NOTES),
                # Rows that name the same columns can be inserted in one batch: name them all, always.
                revoked_at=None,
                revoked_by_id=None,
                revoke_reason="",
            )
            grants.append((asset, grant))
            if use is None:
                never_booked.append((asset, grant))

    lapsed = rng.sample(never_booked, min(EXPIRED_COUNT + len(REVOKE_REASONS), len(never_booked)))
    expired, revoked = lapsed[:EXPIRED_COUNT], lapsed[EXPIRED_COUNT:]
    for _, grant in expired:
        grant.expires_on = today - dt.timedelta(days=rng.randint(*EXPIRED_DAYS_AGO))
        grant.granted_on = grant.expires_on - TWO_YEARS
    for (asset, grant), reason in zip(revoked, REVOKE_REASONS[: len(revoked)], strict=True):
        revoked_at = now - dt.timedelta(days=rng.randint(*REVOKED_DAYS_AGO), minutes=rng.randrange(0, 600, 5))
        grant.granted_on = min(
            grant.granted_on, to_local(revoked_at).date() - dt.timedelta(days=TRAINED_LONG_AGO_DAYS[0])
        )
        grant.expires_on = None
        grant.revoked_at = revoked_at
        grant.revoked_by_id = rng.choice(people.managers[asset.school_id]).id
        grant.revoke_reason = reason
    return grants


def _covers(
    grant: TrainingAuthorisation, scope: Asset | None, asset: Asset, user: User, day: dt.date
) -> bool:
    """Whether ``grant`` (for the asset ``scope``, or its category when None) lets ``user`` use
    ``asset`` on ``day``."""
    if grant.user_id != user.id or grant.granted_on > day:
        return False
    if grant.revoked_at is not None and to_local(grant.revoked_at).date() <= day:
        return False
    if grant.expires_on is not None and grant.expires_on < day:
        return False
    if scope is not None:
        return scope is asset
    return grant.category_id == asset.category.id and grant.school_id == asset.school_id


def _is_trained(
    grants: Sequence[tuple[Asset | None, TrainingAuthorisation]], asset: Asset, user: User, day: dt.date
) -> bool:
    return not asset.training_required or any(
        _covers(grant, scope, asset, user, day) for scope, grant in grants
    )


def _draw_refusals(
    rng: random.Random,
    register: list[tuple[Kit, Asset]],
    bookings_of: dict[str, list[Booking]],
    windows_of: dict[str, list[MaintenanceWindow]],
    grants: Sequence[tuple[Asset | None, TrainingAuthorisation]],
    people: _People,
    now: dt.datetime,
) -> list[tuple[Asset, UnmetDemand]]:
    """Requests the booking rules refused over the past year: of ordinary kit, mostly the busiest,
    for too little notice, missing training or outside its hours (none of which says the kit is
    short of time); of the SHOWCASE's kit, for the time being booked already (its people turned
    away) or for not being open to other Schools. Each breaks exactly the rule it is recorded for."""
    since = now - dt.timedelta(days=PAST_DAYS)
    used_hours = {
        asset.tag: sum(
            booking.hours
            for booking in bookings_of[asset.tag]
            if booking.status in HELD_STATUSES and since <= booking.start_at < now
        )
        for _, asset in register
    }
    used = sorted(
        (asset for _, asset in register if used_hours[asset.tag] and asset.tag not in SHOWCASE),
        key=lambda a: -used_hours[a.tag],
    )
    busiest, others = used[:BUSIEST_ASSETS], used[BUSIEST_ASSETS:]
    refusals = []
    for _ in range(REFUSED_COUNT):
        reason = rng.choice(REFUSAL_REASONS)
        for _ in range(REFUSAL_TRIES):  # not every asset can be refused for every reason at any time
            if rng.random() < BUSIEST_SHARE:
                asset = rng.choices(busiest, weights=[used_hours[asset.tag] for asset in busiest])[0]
            else:
                asset = rng.choice(others)
            request = _draw_refusal(
                rng, asset, reason, bookings_of[asset.tag], windows_of[asset.tag], grants, people, now
            )
            if request is not None:
                refusals.append((asset, _refusal(asset, reason, *request)))
                break
    for _, asset in register:
        showcase = SHOWCASE.get(asset.tag)
        if showcase is None:
            continue
        for reason, names in (("overlap", showcase.turned_away), ("not_shared", showcase.asked_from_outside)):
            for name in names:
                for _ in range(TURNED_AWAY_EACH):
                    for _ in range(REFUSAL_TRIES):
                        request = _draw_refusal(
                            rng,
                            asset,
                            reason,
                            bookings_of[asset.tag],
                            windows_of[asset.tag],
                            grants,
                            people,
                            now,
                            askers=[people.named[name]],
                            shortest=TURNED_AWAY_MINUTES,
                        )
                        if request is not None:
                            refusals.append((asset, _refusal(asset, reason, *request)))
                            break
    return refusals


def _rejection(asset: Asset, booking: Booking) -> UnmetDemand:
    """A rejected booking as the bookings service records it: when the manager decided."""
    return UnmetDemand(
        asset_id=asset.id,
        requester_id=booking.requester_id,
        requester_school_id=booking.requester_school_id,
        start_at=booking.start_at,
        end_at=booking.end_at,
        minutes=_whole_minutes(booking.start_at, booking.end_at),
        source=DemandSource.REJECTED,
        reasons=["rejected"],
        booking_id=booking.id,
        created_at=booking.decided_at,
    )


def _refusal(
    asset: Asset, reason: str, requester: User, slot: tuple[dt.datetime, dt.datetime], asked_at: dt.datetime
) -> UnmetDemand:
    start_at, end_at = slot
    return UnmetDemand(
        asset_id=asset.id,
        requester_id=requester.id,
        requester_school_id=requester.home_school_id,
        start_at=start_at,
        end_at=end_at,
        minutes=_whole_minutes(start_at, end_at),
        source=DemandSource.REFUSED,
        reasons=[reason],
        booking_id=None,
        created_at=asked_at,
    )


def _whole_minutes(start_at: dt.datetime, end_at: dt.datetime) -> int:
    return int((end_at - start_at).total_seconds() // 60)


def _draw_refusal(
    rng: random.Random,
    asset: Asset,
    reason: str,
    bookings: Sequence[Booking],
    windows: Sequence[MaintenanceWindow],
    grants: Sequence[tuple[Asset | None, TrainingAuthorisation]],
    people: _People,
    now: dt.datetime,
    askers: Sequence[User] | None = None,
    shortest: int = BOOKING_MINUTES[0],
) -> tuple[User, tuple[dt.datetime, dt.datetime], dt.datetime] | None:
    """A request for ``asset`` that the booking rules refused for ``reason`` and no other rule: who
    asked (one of ``askers``, by default anyone who may book it), for which slot, and when. None
    when the draw cannot have been refused so."""
    longest = min(BOOKING_MINUTES[-1], asset.max_booking_minutes or BOOKING_MINUTES[-1])
    lengths = [minutes for minutes in BOOKING_MINUTES if shortest <= minutes <= longest]
    length = dt.timedelta(minutes=rng.choice(lengths))
    notice = dt.timedelta(minutes=asset.min_notice_minutes)
    ahead = dt.timedelta(days=rng.randint(1, MAX_LEAD_DAYS), minutes=rng.randrange(0, 600, 5))
    day = to_local(now).date() - dt.timedelta(days=rng.randint(1, PAST_DAYS))
    not_asked_by = None
    if reason == "overlap":  # someone else had it then
        held = [booking for booking in bookings if booking.status in HELD_STATUSES and booking.start_at < now]
        if not held:
            return None
        taken = rng.choice(held)
        start_at = taken.start_at + dt.timedelta(minutes=rng.choice(OFFSETS_FROM_BOOKING_MINUTES))
        slot = (start_at, start_at + length)
        confirmed_at = next(step.at for step in taken.history if step.to_status == BookingStatus.CONFIRMED)
        if not (slot[0] < taken.blocked_until and taken.start_at < slot[1]):
            return None  # it would not have clashed
        if not within_bookable_hours(asset, *slot) or not _is_clear(asset, slot, [], windows):
            return None
        if start_at - notice <= confirmed_at:
            return None
        asked_at = _between(rng, confirmed_at, start_at - notice)
        not_asked_by = taken.requester_id
    elif reason == "outside_hours":  # in the evening, when the room is locked
        times = list(OUTSIDE_HOURS_STARTS)
        rng.shuffle(times)
        starts = [local_to_utc(dt.datetime.combine(day, time)) for time in times]
        slots = [(start, start + length) for start in starts]
        closed = [slot for slot in slots if not within_bookable_hours(asset, *slot)]
        if not closed or not _is_clear(asset, closed[0], bookings, windows):
            return None
        slot = closed[0]
        asked_at = slot[0] - notice - ahead
    else:  # a free slot in office hours, asked for too late, or by someone untrained
        start_at = local_to_utc(dt.datetime.combine(day, OFFICE_OPENS))
        start_at += dt.timedelta(minutes=rng.choice(START_DELAYS_MINUTES))
        slot = (start_at, start_at + length)
        if not _is_free(asset, slot, bookings, windows):
            return None
        if reason == "min_notice":
            if asset.min_notice_minutes < MIN_NOTICE_REFUSABLE_MINUTES:
                return None
            asked_at = start_at - dt.timedelta(minutes=rng.randint(5, asset.min_notice_minutes - 5))
        elif reason == "not_shared":
            if asset.shareable:
                return None
            asked_at = start_at - notice - ahead
        elif asset.training_required:
            asked_at = start_at - notice - ahead
        else:
            return None
    if asked_at >= _bookable_until(asset, now):
        return None  # it would have been refused as unavailable, or for an overdue inspection, too
    asked_on = to_local(asked_at).date()
    if askers is None:
        outsiders = people.outsiders(asset.school_id) if asset.shareable else []
        askers = people.members[asset.school_id] + outsiders
    askers = [
        user
        for user in askers
        if user.id != not_asked_by and _is_trained(grants, asset, user, asked_on) == (reason != "training")
    ]
    if not askers:
        return None
    return rng.choice(askers), slot, asked_at


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
    run: _Run, schools: dict[str, School], categories: dict[str, Category], people: _People
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
        for day in _days(first_evening, changed_on - dt.timedelta(days=1))
        if day.weekday() in (1, 3)
    ] + [
        # Mornings all the year the demo covers: well used, neither idle nor saturated.
        (day, dt.time(10), dt.time(13))
        for day in _days(to_local(run.launched_at).date(), today - dt.timedelta(days=1))
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
        booking = _new_booking(
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
    _add_bookings(run, bookings)
