"""Rules of the register: Schools, locations, categories and assets.

The functions that add to the register are commands (``core/db.py``): each opens its own unit of
work, so callers call them bare. ``apply_asset_input`` and ``lock_asset`` are steps of a command,
not commands.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, fields
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload, object_session, selectinload

from accounts.models import Role, User, school_managers
from accounts.permissions import require_role, require_school_manager
from core.bounds import (
    DATE_OUT_OF_RANGE,
    MAX_MINUTES,
    MAX_PENCE,
    MINUTES_TOO_MANY,
    NUL_IN_TEXT,
    PENCE_TOO_MANY,
    date_in_range,
    has_nul,
)
from core.db import atomic, utcnow
from core.errors import InvalidInput, NotAllowed, NotFound, StaleVersion
from core.money import format_pounds
from core.timeutil import to_local
from inventory.models import (
    DEFAULT_WEEKLY_HOURS,
    WITHDRAWN_STATUSES,
    Asset,
    AssetStatus,
    AssetTechnician,
    BookableHours,
    BookableHoursHistory,
    Category,
    Location,
    School,
)


def list_schools(session: Session) -> list[School]:
    return list(session.scalars(select(School).order_by(School.name)))


@dataclass(frozen=True)
class SchoolSummary:
    """A School at a glance, for the Schools page."""

    school: School
    assets: int  # on its register, retired and disposed ones not counted
    managers: list[User]  # active, by name


def school_summaries(session: Session) -> list[SchoolSummary]:
    """Every School, by name, with how many assets it has and who manages it."""
    schools = list_schools(session)
    assets = dict(
        session.execute(
            select(Asset.school_id, func.count(Asset.id))
            .where(Asset.status.not_in(WITHDRAWN_STATUSES))
            .group_by(Asset.school_id)
        ).all()
    )
    managers: dict[int, list[User]] = {}
    for school_id, user in session.execute(
        select(school_managers.c.school_id, User)
        .join(User, User.id == school_managers.c.user_id)
        .where(User.active.is_(True))
        .order_by(User.name, User.id)
    ):
        managers.setdefault(school_id, []).append(user)
    return [
        SchoolSummary(school, assets.get(school.id, 0), managers.get(school.id, [])) for school in schools
    ]


def get_school(session: Session, school_id: int) -> School:
    school = session.scalar(
        select(School).options(selectinload(School.locations)).where(School.id == school_id)
    )
    if school is None:
        raise NotFound("There is no such School.")
    return school


def school_managers_of(session: Session, school_id: int) -> list[User]:
    """The active people who manage the School (admins are not included unless they manage it)."""
    return list(
        session.scalars(
            select(User)
            .join(school_managers, school_managers.c.user_id == User.id)
            .where(school_managers.c.school_id == school_id, User.active.is_(True))
            .order_by(User.id)
        )
    )


def asset_technicians(session: Session, asset: Asset) -> list[User]:
    """The active people who look after ``asset``: its contact first, then its further named
    technicians (``AssetTechnician``), each once. Training requests go to them."""
    people = [asset.contact] if asset.contact is not None else []
    people += session.scalars(
        select(User)
        .join(AssetTechnician, AssetTechnician.user_id == User.id)
        .where(AssetTechnician.asset_id == asset.id)
        .order_by(User.name, User.id)
    )
    found: dict[int, User] = {}
    for person in people:
        if person.active:
            found.setdefault(person.id, person)
    return list(found.values())


def create_school(session: Session, actor: User, code: str, name: str) -> School:
    """Admins add Schools. Codes and names are unique (the database guarantees it too).
    A command: its own unit of work (``core/db.py``)."""
    with atomic(session, actor):
        require_role(actor, Role.ADMIN)
        code, name = code.strip().upper(), name.strip()
        errors: dict[str, list[str]] = {}
        if not code or len(code) > 20 or not code.replace("-", "").isalnum():
            errors["code"] = ["Use 1 to 20 letters, digits or hyphens, such as CHEM."]
        elif session.scalar(select(School.id).where(func.upper(School.code) == code)):
            errors["code"] = [f"There is already a School with the code {code}."]
        if not name:
            errors["name"] = ["Enter the School's name."]
        elif session.scalar(select(School.id).where(func.lower(School.name) == name.lower())):
            errors["name"] = ["There is already a School with that name."]
        if errors:
            raise InvalidInput(field_errors=errors)
        school = School(code=code, name=name)
        session.add(school)
        session.flush()
        return school


def add_location(
    session: Session, actor: User, school: School, site: str, building: str, room: str
) -> Location:
    """A manager of the School (or an admin) adds a room where its equipment lives.
    A command: its own unit of work (``core/db.py``)."""
    with atomic(session, actor):
        require_school_manager(actor, school.id)
        site, building, room = site.strip() or "Main campus", building.strip(), room.strip()
        errors: dict[str, list[str]] = {}
        if not building:
            errors["building"] = ["Enter the building."]
        if not room:
            errors["room"] = ["Enter the room."]
        for name, text in (("site", site), ("building", building), ("room", room)):
            if has_nul(text):
                errors[name] = [NUL_IN_TEXT]
        if not errors and session.scalar(
            select(Location.id).where(
                Location.school_id == school.id,
                func.lower(Location.building) == building.lower(),
                func.lower(Location.room) == room.lower(),
            )
        ):
            errors["room"] = [f"{building}, {room} is already one of this School's locations."]
        if errors:
            raise InvalidInput(field_errors=errors)
        location = Location(school=school, site=site, building=building, room=room)
        session.add(location)
        session.flush()
        return location


# --- Assets -----------------------------------------------------------------------------------

TAG_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,49}$")
WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass
class AssetInput:
    """Everything a manager sets on an asset, other than its status. Forms and imports fill it."""

    tag: str
    name: str
    category_id: int | None = None
    location_id: int | None = None
    manufacturer: str = ""
    model: str = ""
    serial_number: str = ""
    description: str = ""
    purchase_date: dt.date | None = None
    purchase_cost_pence: int | None = None
    funding_source: str = ""
    contact_id: int | None = None
    hourly_rate_pence: int = 0
    bookable: bool = True
    shareable: bool = True
    requires_approval: bool = False
    training_required: bool = False
    block_when_inspection_overdue: bool = False
    min_notice_minutes: int = 0
    max_booking_minutes: int | None = None
    turnaround_minutes: int = 0
    # Loans and check-in (bookings/loans.py).
    portable: bool = False
    checkin_required: bool = False
    no_show_release_minutes: int | None = None
    # Capital planning (planning/lifecycle.py): overrides of the category's useful life and of
    # the purchase cost as the replacement estimate.
    useful_life_years: int | None = None
    replacement_cost_pence: int | None = None
    weekly_hours: list[tuple[int, dt.time, dt.time]] = field(
        default_factory=lambda: list(DEFAULT_WEEKLY_HOURS)
    )

    @classmethod
    def from_asset(cls, asset: Asset) -> AssetInput:
        values = {f.name: getattr(asset, f.name) for f in fields(cls) if f.name != "weekly_hours"}
        return cls(**values, weekly_hours=[(h.weekday, h.opens, h.closes) for h in asset.bookable_hours])


#: ``validate_asset_input`` looks up who holds the tag itself unless told.
_LOOK_UP: Any = object()


def validate_asset_input(
    session: Session,
    school: School,
    data: AssetInput,
    asset: Asset | None = None,
    *,
    tag_holder: Any = _LOOK_UP,
) -> dict[str, list[str]]:
    """Every problem with ``data`` for an asset of ``school``, by field name (empty when fine).

    ``tag_holder`` is the asset that already has ``data.tag`` (or None), for a caller that has
    looked it up already: the import checks 20,000 rows against one query, not one a row.
    """
    errors: dict[str, list[str]] = {}

    def problem(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    if not data.tag.strip():
        problem("tag", "Enter the asset tag.")
    elif not TAG_PATTERN.match(data.tag.strip()):
        problem(
            "tag",
            "Use up to 50 letters, digits, dots, hyphens, slashes or underscores, starting with a letter or digit.",
        )
    else:
        clash = (
            session.scalar(select(Asset).where(func.lower(Asset.tag) == data.tag.strip().lower()))
            if tag_holder is _LOOK_UP
            else tag_holder
        )
        if clash is not None and (asset is None or clash.id != asset.id):
            problem(
                "tag", f"The tag {data.tag.strip()} is already used by {clash.name} ({clash.school.code})."
            )
    if not data.name.strip():
        problem("name", "Enter the asset's name.")
    elif len(data.name.strip()) > 200:
        problem("name", "Use at most 200 characters.")
    if data.category_id is not None and session.get(Category, data.category_id) is None:
        problem("category_id", "Choose a category from the list.")
    if data.location_id is not None:
        location = session.get(Location, data.location_id)
        if location is None or location.school_id != school.id:
            problem("location_id", f"Choose one of {school.name}'s locations.")
    if data.contact_id is not None:
        contact = session.get(User, data.contact_id)
        if contact is None or not contact.active:
            problem("contact_id", "Choose an active person as the contact.")
    for name, limit in (
        ("manufacturer", 200),
        ("model", 200),
        ("serial_number", 200),
        ("funding_source", 200),
    ):
        if len(getattr(data, name) or "") > limit:
            problem(name, f"Use at most {limit} characters.")
    if data.purchase_cost_pence is not None and data.purchase_cost_pence < 0:
        problem("purchase_cost_pence", "A cost cannot be negative.")
    if data.useful_life_years is not None and not 1 <= data.useful_life_years <= 100:
        problem(
            "useful_life_years",
            "Enter a useful life of 1 to 100 years, or leave it empty for the category's.",
        )
    if data.replacement_cost_pence is not None and data.replacement_cost_pence < 0:
        problem("replacement_cost_pence", "A cost cannot be negative.")
    if data.hourly_rate_pence < 0:
        problem("hourly_rate_pence", "An hourly rate cannot be negative.")
    if data.min_notice_minutes < 0:
        problem("min_notice_minutes", "Minimum notice cannot be negative.")
    if data.turnaround_minutes < 0:
        problem("turnaround_minutes", "Turnaround cannot be negative.")
    if data.max_booking_minutes is not None and data.max_booking_minutes <= 0:
        problem(
            "max_booking_minutes", "The longest booking must be more than zero, or left empty for no limit."
        )
    if data.no_show_release_minutes is not None and data.no_show_release_minutes <= 0:
        problem(
            "no_show_release_minutes",
            "Release after at least one minute, or leave it empty never to release.",
        )
    # The columns' ranges: what a form, the API or an imported cell (1e300) sends beyond them is
    # refused here, before PostgreSQL refuses it at the flush or SQLite stores it and the booking
    # arithmetic on it fails later.
    for name in (
        "min_notice_minutes",
        "max_booking_minutes",
        "turnaround_minutes",
        "no_show_release_minutes",
    ):
        value = getattr(data, name)
        if value is not None and value > MAX_MINUTES:
            problem(name, MINUTES_TOO_MANY)
    for name in ("purchase_cost_pence", "hourly_rate_pence", "replacement_cost_pence"):
        value = getattr(data, name)
        if value is not None and value > MAX_PENCE:
            problem(name, PENCE_TOO_MANY)
    for name in ("tag", "name", "manufacturer", "model", "serial_number", "description", "funding_source"):
        if has_nul(getattr(data, name)):
            problem(name, NUL_IN_TEXT)
    if data.purchase_date is not None and not date_in_range(data.purchase_date):
        problem("purchase_date", DATE_OUT_OF_RANGE)
    if data.purchase_date is not None and data.purchase_date > dt.date.today() + dt.timedelta(days=366):
        problem("purchase_date", "The purchase date is more than a year in the future.")
    for message in weekly_hours_problems(data.weekly_hours):
        problem("weekly_hours", message)
    return errors


#: The most spans of bookable hours one weekday may have (the form shows them all, and one more).
MAX_SPANS_A_DAY = 12


def weekly_hours_problems(weekly_hours: list[tuple[int, dt.time, dt.time]]) -> list[str]:
    problems = []
    by_day: dict[int, list[tuple[dt.time, dt.time]]] = {}
    for weekday, opens, closes in weekly_hours:
        if not 0 <= weekday <= 6:
            problems.append(f"Weekday {weekday} is not Monday (0) to Sunday (6).")
            continue
        if opens >= closes:
            problems.append(f"On {WEEKDAY_NAMES[weekday]} the asset must open before it closes.")
        by_day.setdefault(weekday, []).append((opens, closes))
    for weekday, spans in by_day.items():
        if len(spans) > MAX_SPANS_A_DAY:
            problems.append(
                f"On {WEEKDAY_NAMES[weekday]} there are {len(spans)} spans of bookable hours: at most {MAX_SPANS_A_DAY}."
            )
        spans.sort()
        for (_, first_closes), (second_opens, _) in zip(spans, spans[1:]):
            if second_opens < first_closes:
                problems.append(f"On {WEEKDAY_NAMES[weekday]} the bookable hours overlap.")
    return problems


def format_weekly_hours(weekly_hours: list[tuple[int, dt.time, dt.time]]) -> str:
    """'Mon 09:00-17:00; Tue 09:00-17:00', the form exports and imports use."""
    return "; ".join(
        f"{WEEKDAY_NAMES[day]} {opens:%H:%M}-{closes:%H:%M}" for day, opens, closes in sorted(weekly_hours)
    )


def parse_weekly_hours(text: str) -> list[tuple[int, dt.time, dt.time]]:
    """Read 'Mon 09:00-17:00; Sat 10:00-14:00' (empty: never bookable). Raises ValueError."""
    hours = []
    for part in filter(None, (p.strip() for p in re.split(r"[;\n]", text or ""))):
        match = re.fullmatch(r"([A-Za-z]{3})[a-z]*\s+(\d{1,2}:\d{2})\s*[-–]\s*(\d{1,2}:\d{2})", part)
        if not match or match.group(1).title() not in WEEKDAY_NAMES:
            raise ValueError(f"'{part}' is not like 'Mon 09:00-17:00'.")
        day = WEEKDAY_NAMES.index(match.group(1).title())
        try:
            opens = dt.time.fromisoformat(match.group(2).zfill(5))
            closes = dt.time.fromisoformat(match.group(3).zfill(5))
        except ValueError:
            raise ValueError(f"'{part}' has a time that does not exist.") from None
        hours.append((day, opens, closes))
    return hours


def apply_asset_input(
    asset: Asset, data: AssetInput, actor: User | None = None, now: dt.datetime | None = None
) -> None:
    """Set ``data`` on ``asset``: the one place an asset's weekly hours are set (the form, the
    API and the import all come here), so every change of them is kept in the hours' history."""
    for f in fields(AssetInput):
        if f.name == "weekly_hours":
            continue
        value = getattr(data, f.name)
        if isinstance(value, str):
            value = value.strip()
        if getattr(asset, f.name) != value:
            setattr(asset, f.name, value)
    wanted = sorted(data.weekly_hours)
    current = sorted((h.weekday, h.opens, h.closes) for h in asset.bookable_hours)
    if current != wanted:
        session = object_session(asset)
        if session is not None and asset.id is not None:
            _keep_hours_in_force(session, asset, current, actor, now or utcnow())
        asset.bookable_hours.clear()
        if session is not None:
            session.flush()  # delete the old hours first: a kept opening time would clash otherwise
        asset.bookable_hours.extend(BookableHours(weekday=d, opens=o, closes=c) for d, o, c in wanted)


def _keep_hours_in_force(
    session: Session,
    asset: Asset,
    replaced: list[tuple[int, dt.time, dt.time]],
    actor: User | None,
    now: dt.datetime,
) -> None:
    """Before an asset's weekly hours change, keep the ones they replace, with the local date the
    change takes effect (the day it is made: reports use the new hours from that day on).

    A second change the same day adds nothing: the row already holds the hours in force before
    that day, and the day is the new hours' first. (Nor does a change dated before the last one
    kept, which only a caller passing an earlier ``now`` could make: history is not rewritten.)"""
    takes_effect = to_local(now).date()
    last = session.scalar(
        select(func.max(BookableHoursHistory.in_force_until)).where(BookableHoursHistory.asset_id == asset.id)
    )
    if last is not None and last >= takes_effect:
        return
    session.add(
        BookableHoursHistory(
            asset_id=asset.id,
            in_force_until=takes_effect,
            hours=BookableHoursHistory.encode(replaced),
            changed_by_id=actor.id if actor is not None else None,
            created_at=now,
        )
    )


def create_asset(session: Session, actor: User, school: School, data: AssetInput) -> Asset:
    """A manager of the School (or an admin) adds an asset to its register.
    A command: its own unit of work (``core/db.py``)."""
    with atomic(session, actor):
        require_school_manager(actor, school.id)
        errors = validate_asset_input(session, school, data)
        if errors:
            raise InvalidInput(field_errors=errors)
        asset = Asset(school=school, status=AssetStatus.AVAILABLE, status_changed_at=utcnow())
        apply_asset_input(asset, data)
        session.add(asset)
        session.flush()
        return asset


#: What people call each of an asset's settings, for "what changed" messages.
FIELD_LABELS = {
    "tag": "Asset tag",
    "name": "Name",
    "category_id": "Category",
    "location_id": "Location",
    "manufacturer": "Manufacturer",
    "model": "Model",
    "serial_number": "Serial number",
    "description": "Description",
    "purchase_date": "Purchase date",
    "purchase_cost_pence": "Purchase cost",
    "funding_source": "Funding source",
    "contact_id": "Contact person",
    "hourly_rate_pence": "Hourly rate",
    "bookable": "Bookable",
    "shareable": "Shareable with other Schools",
    "requires_approval": "Needs approval",
    "training_required": "Training required",
    "block_when_inspection_overdue": "Refused while an inspection is overdue",
    "min_notice_minutes": "Minimum notice (minutes)",
    "max_booking_minutes": "Longest booking (minutes)",
    "turnaround_minutes": "Turnaround (minutes)",
    "portable": "Portable",
    "checkin_required": "Check-in",
    "no_show_release_minutes": "Release no-shows after (minutes)",
    "useful_life_years": "Useful life (years)",
    "replacement_cost_pence": "Replacement cost",
    "weekly_hours": "Bookable hours",
}


def lock_asset(session: Session, asset: Asset) -> None:
    """Serialise the writes to one asset: take its row lock (PostgreSQL; on SQLite the unit of
    work holds the database's write lock already) and read it again, weekly hours included, so
    a change is made to what is current and two changes cannot interleave. Call it inside
    ``atomic``, before reading what the change depends on."""
    session.execute(select(Asset.id).where(Asset.id == asset.id).with_for_update())
    session.refresh(asset)  # after the lock: what the last change committed
    session.expire(asset, ["bookable_hours"])


def check_version(asset: Asset, expected_version: int | None, changes: list[str] | None = None) -> None:
    """Refuse (StaleVersion) an edit made against a version of ``asset`` that is not current."""
    if expected_version is not None and expected_version != asset.version:
        raise StaleVersion(
            f"{asset.name} was changed by someone else after you read it (you had version {expected_version}; "
            f"it is now version {asset.version}). Nothing was changed: read it again and repeat your change.",
            asset.version,
            changes,
        )


def _shown(name: str, value: Any) -> str:

    if name == "weekly_hours":
        return format_weekly_hours(value) or "never"
    if value is None or value == "":
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if name.endswith("_pence"):
        return format_pounds(value)
    return str(value)


def describe_changes(before: AssetInput, after: AssetInput) -> list[str]:
    """What differs between two versions of an asset's settings, for people: "Hourly rate:
    £12.00 → £15.00"."""
    changes = []
    for f in fields(AssetInput):
        old, new = getattr(before, f.name), getattr(after, f.name)
        if f.name == "weekly_hours":
            old, new = sorted(old), sorted(new)
        if old != new:
            changes.append(
                f"{FIELD_LABELS.get(f.name, f.name)}: {_shown(f.name, old)} → {_shown(f.name, new)}"
            )
    return changes


def get_asset(session: Session, asset_id: int, *, details: bool = True) -> Asset:
    """The asset with its weekly hours; ``details`` (its School, category, location and contact)
    for the pages that show them, not for a booking check or a calendar that shows only its name."""
    if details:
        asset = session.scalar(
            select(Asset)
            .options(
                joinedload(Asset.school),
                joinedload(Asset.category),
                joinedload(Asset.location),
                joinedload(Asset.contact),
                selectinload(Asset.bookable_hours),
            )
            .where(Asset.id == asset_id)
        )
    else:  # one statement
        asset = session.get(Asset, asset_id, options=[joinedload(Asset.bookable_hours)])
    if asset is None:
        raise NotFound("There is no such asset.")
    return asset


def list_categories(session: Session) -> list[Category]:
    return list(session.scalars(select(Category).order_by(Category.name)))


def create_category(session: Session, actor: User, name: str, description: str = "") -> Category:
    """Managers and admins add categories; names are unique whatever their case.
    A command: its own unit of work (``core/db.py``)."""
    with atomic(session, actor):
        if not (actor.is_admin or actor.managed_schools):
            raise NotAllowed("Only managers and admins can add categories.")
        name = name.strip()
        if not name or len(name) > 100:
            raise InvalidInput(field_errors={"name": ["Enter a category name of at most 100 characters."]})
        if session.scalar(select(Category.id).where(func.lower(Category.name) == name.lower())):
            raise InvalidInput(field_errors={"name": [f"There is already a category called {name}."]})
        category = Category(name=name, description=description.strip())
        session.add(category)
        session.flush()
        return category
