"""The demo university's world: its Schools, rooms and categories, the equipment catalogue, the
capital-planning showcase, the rules its assets are given, its people, and the calendar its
bookings are drawn over; and the state one seeding carries (``Run``, ``People``).
"""

from __future__ import annotations

import datetime as dt
import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from accounts.models import Role, User
from bookings.models import ACTIVE_STATUSES, BookingStatus
from inventory.models import DEFAULT_WEEKLY_HOURS, AssetStatus, InspectionKind

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
TEXTS = _data("texts.json")

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

# --- When bookings are drawn ------------------------------------------------------------------------

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

PURPOSES = TEXTS["purposes"]
REJECTION_REASONS = TEXTS["rejection_reasons"]
CANCELLATION_REASONS = TEXTS["cancellation_reasons"]
NO_SHOW_REASON = "Nobody arrived; the slot was released after 30 minutes."
HANDOVER_CONDITIONS = TEXTS["handover_conditions"]
RETURN_CONDITIONS = TEXTS["return_conditions"]
COMPLETED_REASON = "Booking time ended."


# --- One seeding's state ----------------------------------------------------------------------------


@dataclass
class Run:
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
class People:
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
